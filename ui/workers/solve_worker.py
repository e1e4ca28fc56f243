"""Solving off the GUI thread: a ``SolveWorker`` moved to a ``QThread``; only signals cross.

``solver.solve`` reports each improving solution through ``on_progress``; the
worker turns that into the ``progress`` signal (queued to the GUI thread).
Cancel sets a ``threading.Event`` that the solver watches; it then returns the
best timetable found within a second (status ``cancelled``).
"""

from __future__ import annotations

import gc
import importlib
import logging
import sys
import threading
import time
from contextlib import contextmanager

from PySide6.QtCore import QObject, QThread, Signal, Slot

import solver
from scheduler.model import Scenario
from solver.result import SolveParams
from ui.outcome import SolveOutcome, review

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Import the solver (and OR-Tools) now, on the GUI thread at start-up.

    A first import inside the worker holds the GIL for a few hundred
    milliseconds (extension modules loading), which would freeze the window
    at the start of the first solve.
    """
    importlib.import_module("solver.model")


@contextmanager
def gui_friendly_gil():
    """Keep the GUI thread's waits for the GIL short while the worker builds and solves the model.

    * No automatic full (generation 2) garbage collections: building the model
      makes a few hundred thousand Python objects, and each full collection
      scans them all holding the GIL (200-300 ms of frozen window). Young
      generations are still collected.
    * A short switch interval: every event the GUI thread handles for a Python
      widget needs the GIL; with the default 5 ms interval a repaint could wait
      5 ms per widget. The worker only yields more often while the GUI asks.
    """
    thresholds = gc.get_threshold()
    interval = sys.getswitchinterval()
    gc.set_threshold(thresholds[0], thresholds[1], 1_000_000)
    sys.setswitchinterval(0.0005)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*thresholds)


class SolveWorker(QObject):
    progress = Signal(object)  # solver.Progress
    finished = Signal(object)  # SolveOutcome
    failed = Signal(str)

    def __init__(self, scenario: Scenario, params: SolveParams):
        super().__init__()
        self.scenario = scenario
        self.params = params
        self.cancel_event = threading.Event()

    @Slot()
    def run(self) -> None:
        started = time.monotonic()
        log.info("solve started: %d patients, %d staff, time limit %.0f s",
                 len(self.scenario.patients), len(self.scenario.staff), self.params.time_limit)
        try:
            self._solve_and_emit(started)
        finally:
            # End this thread's event loop as soon as run() returns, so wait() never hangs.
            QThread.currentThread().quit()

    def _solve_and_emit(self, started: float) -> None:
        try:
            with gui_friendly_gil():
                result = solver.solve(self.scenario, self.params, on_progress=self.progress.emit, cancel=self.cancel_event)
            outcome = review(self.scenario, result)
        except Exception as exc:  # the solver never raises by contract; anything else is a bug to show
            log.exception("solve failed")
            self.failed.emit(f"{type(exc).__name__}: {exc}")
            return
        log.info("solve finished in %.1f s: %s", time.monotonic() - started, result.headline())
        self.finished.emit(outcome)

    def cancel(self) -> None:
        """Thread-safe: called from the GUI thread while ``run`` blocks the worker thread."""
        self.cancel_event.set()


class SolveRunner(QObject):
    """Owns one worker thread at a time; the window talks to this."""

    started = Signal()
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: SolveWorker | None = None

    @property
    def worker(self) -> SolveWorker | None:
        return self._worker

    def is_running(self) -> bool:
        return self._thread is not None

    def start(self, scenario: Scenario, params: SolveParams) -> bool:
        if self._thread is not None:
            return False
        thread = QThread()
        thread.setObjectName("solve")
        worker = SolveWorker(scenario, params)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self.progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self._thread, self._worker = thread, worker
        thread.start()
        self.started.emit()
        return True

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def wait(self, ms: int | None = None) -> bool:
        """Block until the thread ends (for closing the window); ``ms`` bounds the wait."""
        thread = self._thread
        if thread is None:
            return True
        return thread.wait() if ms is None else thread.wait(ms)

    def _finish(self) -> None:
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        if thread is not None:
            thread.quit()
            thread.wait()
        if worker is not None:
            worker.deleteLater()
        if thread is not None:
            thread.deleteLater()

    def _on_finished(self, outcome: SolveOutcome) -> None:
        self._finish()
        self.finished.emit(outcome)

    def _on_failed(self, message: str) -> None:
        self._finish()
        self.failed.emit(message)

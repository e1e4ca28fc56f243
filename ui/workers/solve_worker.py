"""Solving off the GUI thread: a ``SolveWorker`` moved to a ``QThread``; only signals cross.

``solver.solve`` reports each improving solution through ``on_progress``; the
worker turns that into the ``progress`` signal (queued to the GUI thread).
Cancel sets a ``threading.Event`` that the solver watches; it then returns the
best timetable found within a second (status ``cancelled``).
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time
from contextlib import contextmanager

from PySide6.QtCore import QObject, QThread, Signal, Slot

import solver
from scheduler.model import Program, Scenario
from solver.result import SolveParams
from ui.outcome import SolveOutcome, review

log = logging.getLogger(__name__)


_warm = threading.Event()


def warm_up() -> None:
    """Solve an empty clinic once, on the GUI thread, soon after start-up.

    The first solve imports OR-Tools; inside the worker that import holds the
    GIL for a few hundred milliseconds and would freeze the window at the
    start of the first real solve. Afterwards this costs nothing.
    """
    if not _warm.is_set():
        solver.solve(Scenario(Program(name="warm-up")), SolveParams(time_limit=1.0, workers=1))
        _warm.set()


def is_warm() -> bool:
    return _warm.is_set()


_gil_lock = threading.Lock()
_gil_users = 0
_gil_saved: tuple = ()


@contextmanager
def gui_friendly_gil():
    """Keep the GUI thread's waits for the GIL short while a model is built and solved.

    * No automatic full (generation 2) garbage collections: building the model
      makes a few hundred thousand Python objects, and each full collection
      scans them all holding the GIL (200-300 ms of frozen window). Young
      generations are still collected.
    * A short switch interval: every event the GUI thread handles for a Python
      widget needs the GIL; with the default 5 ms interval a repaint could wait
      5 ms per widget. The worker only yields more often while the GUI asks.

    Process-wide settings, so reference-counted: a new solve may start while the
    previous worker still waits for the solver's helper threads.
    """
    global _gil_users, _gil_saved
    with _gil_lock:
        if _gil_users == 0:
            _gil_saved = (gc.get_threshold(), sys.getswitchinterval())
            threshold = _gil_saved[0]
            gc.set_threshold(threshold[0], threshold[1], 1_000_000)
            sys.setswitchinterval(0.0005)
        _gil_users += 1
    try:
        yield
    finally:
        with _gil_lock:
            _gil_users -= 1
            if _gil_users == 0:
                gc.set_threshold(*_gil_saved[0])
                sys.setswitchinterval(_gil_saved[1])


def lower_this_thread_priority(nice: int = 4) -> None:
    """Run the solver (and the CP-SAT threads it starts, which inherit this) a little below
    the GUI thread, so a busy machine still gives the window its time slices. Linux only:
    elsewhere the nice value is per process."""
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        except OSError:
            pass


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
        lower_this_thread_priority()
        started = time.monotonic()
        log.info("solve started: %d patients, %d staff, time limit %.0f s",
                 len(self.scenario.patients), len(self.scenario.staff), self.params.time_limit)
        before = set(threading.enumerate())
        try:
            with gui_friendly_gil():
                self._solve_and_emit(started)
                self._outlive_solver_threads(before)
        finally:
            # End this thread's event loop as soon as run() returns, so wait() never hangs.
            QThread.currentThread().quit()

    def _solve_and_emit(self, started: float) -> None:
        try:
            result = solver.solve(self.scenario, self.params, on_progress=self.progress.emit, cancel=self.cancel_event)
            outcome = review(self.scenario, result)
        except Exception as exc:  # the solver never raises by contract; anything else is a bug to show
            log.exception("solve failed")
            self.failed.emit(f"{type(exc).__name__}: {exc}")
            return
        log.info("solve finished in %.1f s: %s", time.monotonic() - started, result.headline())
        self.finished.emit(outcome)

    def _outlive_solver_threads(self, before: set) -> None:
        """After a cancel the solver answers at once, but a helper thread of its own may still
        finish an uninterruptible step (building the model). The answer is already out; this
        only keeps the GIL settings in force until that helper is done."""
        deadline = time.monotonic() + self.params.time_limit + 30
        for thread in set(threading.enumerate()) - before:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))

    def cancel(self) -> None:
        """Thread-safe: called from the GUI thread while ``run`` blocks the worker thread."""
        self.cancel_event.set()


class SolveRunner(QObject):
    """Starts one solve at a time; the window talks to this, never to a thread."""

    started = Signal()
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: SolveWorker | None = None
        # Threads whose answer is in but which still wait for the solver's helpers.
        self._lingering: dict[QThread, SolveWorker] = {}

    @property
    def worker(self) -> SolveWorker | None:
        return self._worker

    def is_running(self) -> bool:
        return self._thread is not None

    def start(self, scenario: Scenario, params: SolveParams) -> bool:
        if self._thread is not None:
            return False
        thread = QThread()
        thread.setObjectName("solve-worker")
        worker = SolveWorker(scenario, params)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self.progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        thread.finished.connect(lambda: self._reap(thread))
        self._thread, self._worker = thread, worker
        # Everything alive now (the window, the clinic, the imported libraries) leaves the
        # collector's view until the solve ends: a full collection that starts while the
        # worker builds the model then scans only the new objects, not the whole heap.
        gc.freeze()
        thread.start()
        self.started.emit()
        return True

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def wait(self, ms: int | None = None) -> bool:
        """Block until every worker thread has ended (closing the window, tests); ``ms`` bounds each wait."""
        threads = ([self._thread] if self._thread is not None else []) + list(self._lingering)
        return all(t.wait() if ms is None else t.wait(ms) for t in threads)

    def _release(self) -> None:
        if self._thread is not None:
            self._lingering[self._thread] = self._worker
        self._thread = self._worker = None

    def _reap(self, thread: QThread) -> None:
        worker = self._lingering.pop(thread, None)
        if thread is self._thread:  # ended without an answer (should not happen)
            worker, self._thread, self._worker = self._worker, None, None
        if worker is not None:
            worker.deleteLater()
        thread.deleteLater()
        if self._thread is None and not self._lingering:
            gc.unfreeze()  # back to normal between solves (a later collection may free them)

    def _on_finished(self, outcome: SolveOutcome) -> None:
        self._release()
        self.finished.emit(outcome)

    def _on_failed(self, message: str) -> None:
        self._release()
        self.failed.emit(message)

"""Shared pieces for the GUI tests (imported by tests/test_ui_*.py; pytest-qt, offscreen).

Tests drive the real window and the real scheduler/solver/store; only the
settings file and the clinic database are redirected into ``tmp_path``.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QTimer

import resources
from scheduler.io.reader import read_scenario
from PySide6.QtWidgets import QApplication

from ui.icons import stylesheet
from ui.main_window import MainWindow
from ui.workers.solve_worker import is_warm

SOLVE_LIMIT = 8  # seconds: long enough for the demo's first timetables, short enough for CI
# The solve tests run on the tiny clinic (tests/data/tiny), which the optimiser solves in
# seconds; the demo clinic is opened by the window tests, and IOP_UI_TEST_CLINIC can point
# the solve tests at it (or any scenario folder): today the optimiser needs best-effort mode
# to give the demo a timetable within a test's time limit (docs/benchmarks.md).
CLINIC = Path(os.environ.get("IOP_UI_TEST_CLINIC") or Path(__file__).resolve().parent / "data" / "tiny")


def demo_scenario():
    return read_scenario(resources.demo_path()).scenario


def make_window(qtbot, tmp_path: Path, *, demo: bool = True) -> MainWindow:
    QApplication.instance().setStyleSheet(stylesheet())  # the app's real look (and its cost)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings)
    qtbot.addWidget(window)
    assert window.open_clinic(f"sqlite:///{tmp_path / 'clinic.db'}", demo_if_empty=demo)
    window.resize(1280, 800)
    window.show()
    qtbot.waitUntil(is_warm, timeout=30_000)  # the start-up warm-up (imports OR-Tools) is done
    return window


@pytest.fixture
def solve_window(qtbot, tmp_path):
    """The window on the clinic the solve tests use (the demo unless IOP_UI_TEST_CLINIC says otherwise)."""
    w = make_window(qtbot, tmp_path)
    if CLINIC != Path(resources.demo_path()):
        assert w.import_scenario(CLINIC)
    yield w
    finish_solving(w)


@pytest.fixture
def window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    yield w
    finish_solving(w)


def finish_solving(window: MainWindow) -> None:
    """Cancel a running solve and wait for every solver thread, including one still ending
    after a cancel, so that no test's solver competes with the next test's window."""
    if window.runner.is_running():
        window.runner.cancel()
    window.runner.wait()


def solve_and_wait(qtbot, window: MainWindow, time_limit: float = SOLVE_LIMIT):
    """Press Solve and wait for the outcome (what the window shows afterwards)."""
    with qtbot.waitSignal(window.runner.finished, timeout=int((time_limit + 60) * 1000)) as blocker:
        assert window.solve(time_limit)
    return blocker.args[0]


def reopened(qtbot, window: MainWindow, settings: Path) -> MainWindow:
    """The window's clinic file opened again in a new window (``settings`` its settings file), the first
    one closed: what a coordinator sees after restarting the app."""
    url = window.document.url
    window.close()
    again = MainWindow(QSettings(str(settings), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert again.open_clinic(url)
    again.show()
    return again


def broken_demo_folder(tmp_path: Path, bad_availability: str = "Mon-Fri 9am-1pm") -> tuple[Path, str]:
    """A copy of the demo clinic whose second staff member has an unreadable availability."""
    folder = tmp_path / "broken"
    shutil.copytree(resources.demo_path(), folder)
    staff_csv = folder / "staff.csv"
    lines = staff_csv.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    assert header[4] == "availability"
    fields = lines[2].split(",")
    staff_id = fields[0]
    # Rebuild the row with a quoted, broken availability in column 5.
    head, rest = lines[2].split(",", 3)[:3], lines[2].split(",", 3)[3]
    skills, _, tail = rest.partition(",")
    if tail.startswith('"'):
        tail = tail[tail.index('"', 1) + 1 :]
    else:
        tail = tail[tail.index(",") :]
    lines[2] = ",".join(head + [skills, f'"{bad_availability}"']) + tail
    staff_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder, staff_id


class EventLoopMonitor:
    """A 10 ms QTimer; records the longest gap between ticks (how long the GUI thread was busy)."""

    def __init__(self, interval_ms: int = 10):
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.ticks: list[float] = []

    def _tick(self) -> None:
        self.ticks.append(time.monotonic())

    def start(self) -> None:
        self.ticks = [time.monotonic()]
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def max_gap(self, until: float | None = None) -> float:
        return self.worst(until)[0]

    def worst(self, until: float | None = None) -> tuple[float, float]:
        """(longest gap, when it began in seconds after start)."""
        ticks = [t for t in self.ticks if until is None or t <= until]
        return max(((b - a, a - ticks[0]) for a, b in zip(ticks, ticks[1:])), default=(0.0, 0.0))

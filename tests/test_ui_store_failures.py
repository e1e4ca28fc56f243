"""The desktop app when the clinic file cannot take a write (pytest-qt, offscreen).

A coordinator's edit, a finished solve or Save on a clinic file that is busy (another program
holds its write lock) must change nothing silently: the window says why, and the window, the
undo stack and the file keep agreeing. Two copies of the app never hold one clinic file (each
write replaces the whole clinic, so they would overwrite each other's changes). Real store,
real SQLite lock: a second connection holds the write lock, as another program would.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from scheduler.store import Store
from ui.main_window import MainWindow
from ui.models.entities import PATIENTS
from ui_helpers import finish_solving, make_window, solve_and_wait, solve_window  # noqa: F401 - fixture


def _db(tmp_path):
    return tmp_path / "clinic.db"


def _impatient(window) -> None:
    """The window's store on the same file, waiting 0.3 s (not 10) for a busy file."""
    window.document.store.close()
    window.document.store = Store.open(window.document.url, busy_timeout=0.3)


@contextmanager
def _held(tmp_path):
    """Another program holding the clinic file's write lock."""
    other = sqlite3.connect(str(_db(tmp_path)), timeout=0.1, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def _warnings(window) -> list[QMessageBox]:
    return [d for d in window.dialogs if isinstance(d, QMessageBox)]


def _rename(window, pid: str, name: str) -> bool:
    model = window.entity_models["patients"]
    column = [c.field for c in PATIENTS.columns].index("name")
    return model.setData(model.index(model.row_of(pid), column), name)


def test_an_edit_the_clinic_file_cannot_take_changes_nothing_and_says_why(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    _impatient(w)
    before = w.document.scenario
    pid = before.patients[0].id
    undo = w.undo_stack.count()
    with _held(tmp_path):
        _rename(w, pid, "Changed While Busy")
    assert w.document.scenario == before  # the window keeps the data as it was
    assert w.undo_stack.count() == undo  # and no undo entry for an edit that did not happen
    model = w.entity_models["patients"]
    column = [c.field for c in PATIENTS.columns].index("name")
    assert model.index(model.row_of(pid), column).data() == before.patients[0].name
    boxes = _warnings(w)
    assert boxes and boxes[-1].windowTitle() == "The change was not saved"
    assert "busy" in boxes[-1].text() and "The change was not made" in boxes[-1].text()
    with Store.open(w.document.url) as store:
        assert store.load_scenario() == before  # the file agrees
    # Once the file is free again, the same edit goes through and is undoable.
    _rename(w, pid, "Changed Later")
    assert w.document.scenario.patients[0].name == "Changed Later"
    assert w.undo_stack.count() == undo + 1
    w.undo_stack.undo()
    assert w.document.scenario == before


def test_save_on_a_busy_clinic_file_says_so(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    _impatient(w)
    with _held(tmp_path):
        assert not w.save()
    boxes = _warnings(w)
    assert boxes and boxes[-1].windowTitle() == "The clinic was not saved" and "Save As" in boxes[-1].text()
    assert w.save()


def test_a_solve_whose_timetable_cannot_be_saved_still_ends_and_shows_it(qtbot, solve_window, tmp_path):
    w = solve_window
    _impatient(w)
    with _held(tmp_path):
        outcome = solve_and_wait(qtbot, w)
    assert outcome.timetable is not None
    # The window is out of "Solving…": Solve again possible, Cancel off, the timetable shown unsaved.
    assert w.actions.solve.isEnabled() and not w.actions.cancel.isEnabled()
    assert w.document.outcome is not None and w.document.outcome.timetable == outcome.timetable
    assert not w.document.outcome.name
    assert w.timetable_view.grid is not None
    titles = [b.windowTitle() for b in _warnings(w)]
    assert "The timetable was not saved" in titles
    paths = w.export_timetable(tmp_path / "out")  # and it can still be exported
    assert paths


def test_a_second_copy_of_the_app_does_not_open_a_clinic_file_in_use(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    url = w.document.url
    second = MainWindow(QSettings(str(tmp_path / "second.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert not second.open_clinic(url)
    boxes = _warnings(second)
    assert boxes and "open in another copy of IOP Scheduler" in boxes[-1].text()
    assert second.document.store is None
    # The first copy goes on working, and after it closes the file opens in the second.
    assert _rename(w, w.document.scenario.patients[0].id, "Still Mine")
    finish_solving(w)
    w.close()
    assert second.open_clinic(url)
    assert second.document.scenario.patients[0].name == "Still Mine"
    second.close()


def test_reopening_the_same_clinic_file_in_one_window_keeps_working(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    url = w.document.url
    assert w.open_clinic(url)  # the window's own lock: no "in another copy"
    assert not _warnings(w)
    other = tmp_path / "other.db"
    assert w.open_clinic(str(other))
    assert w.open_clinic(url)  # the first file's lock was let go and taken again


def test_importing_over_a_clinic_asks_first_and_says_what_it_replaces(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    s = w.document.scenario
    question = w.import_question(tmp_path / "tiny.xlsx")
    assert f"replaces the clinic open now ({len(s.patients)} patients, {len(s.staff)} staff" in question
    assert "Undo" in question and "Save As" in question
    (tmp_path / "empty").mkdir()
    empty = make_window(qtbot, tmp_path / "empty", demo=False)
    assert empty.import_question(tmp_path / "tiny.xlsx") == ""  # nothing to lose: no question

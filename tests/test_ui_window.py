"""The real main window on a temporary clinic file: start-up, menus, import errors, undo/redo, settings."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QKeySequence

from scheduler.store import Store
from ui.document import to_url
from ui.main_window import MainWindow
from ui.models.entities import PATIENTS, STAFF
from ui.views.dialogs import ProblemsDialog
from ui_helpers import broken_demo_folder, demo_scenario, make_window, window  # noqa: F401 - fixture


def col(spec, field):
    return next(i for i, c in enumerate(spec.columns) if c.field == field)


def test_an_empty_clinic_file_opens_on_the_demo_clinic(window):
    demo = demo_scenario()
    assert window.document.scenario == demo
    assert window.entity_models["patients"].rowCount() == len(demo.patients)
    assert demo.program.name in window.windowTitle()
    assert window.document.timetable is None
    assert window.result_panel.headline.text() == "No timetable yet"
    # The demo was saved into the clinic file.
    with Store.open(window.document.url) as store:
        assert store.load_scenario() == demo


def test_menus_and_shortcuts(window):
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&Edit", "&Solve", "&Help"]
    a = window.actions
    assert a.new.shortcut() == QKeySequence("Ctrl+N")
    assert a.open.shortcut() == QKeySequence("Ctrl+O")
    assert a.save.shortcut() == QKeySequence("Ctrl+S")
    assert a.undo.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    assert [s.toString() for s in a.redo.shortcuts()] == ["Ctrl+Y", "Ctrl+Shift+Z"]
    assert a.solve.shortcut() == QKeySequence("F5")
    assert a.cancel.shortcut() == QKeySequence("Esc")
    assert not a.cancel.isEnabled()
    file_menu = window.menuBar().actions()[0].menu()
    texts = [x.text() for x in file_menu.actions()]
    assert "&Import scenario" in texts and "&Export timetable…" in texts and "&Recent files" in texts


def test_a_bad_import_shows_every_error_and_changes_nothing(window, tmp_path):
    folder, staff_id = broken_demo_folder(tmp_path)
    before = window.document.scenario
    assert window.import_scenario(folder) is False
    dialog = window.dialogs[-1]
    assert isinstance(dialog, ProblemsDialog) and dialog.isVisible()
    rows = dialog.rows()
    assert ("staff.csv", "3", "availability", "Mon-Fri 9am-1pm") in [r[:4] for r in rows]
    assert any("DAYS HH:MM-HH:MM" in r[4] for r in rows)
    assert "Nothing was changed" in dialog.intro.text()
    assert "Import failed" in window.statusBar().currentMessage()
    assert window.document.scenario is before
    assert window.undo_stack.count() == 0
    with Store.open(window.document.url) as store:
        assert store.load_scenario() == before


def test_a_good_import_is_undoable(window, tmp_path):
    from scheduler.io.writer import write_scenario

    before = window.document.scenario
    smaller = before.__class__(program=before.program, activities=before.activities, staff=before.staff,
                               rooms=before.rooms, patients=before.patients[:10])
    write_scenario(smaller, tmp_path / "small")
    assert window.import_scenario(tmp_path / "small")
    assert len(window.document.scenario.patients) == 10
    assert window.entity_models["patients"].rowCount() == 10
    window.undo_stack.undo()
    assert window.document.scenario == before
    assert window.entity_models["patients"].rowCount() == len(before.patients)


def test_an_edit_is_undone_and_redone_and_saved(window):
    model = window.entity_models["patients"]
    column = col(PATIENTS, "availability")
    original = window.document.scenario
    index = model.index(2, column)
    assert model.setData(index, "Mon-Wed 09:00-13:00")
    edited = window.document.scenario
    assert edited.patients[2].availability.windows[0].end == 13 * 60
    assert window.undo_stack.count() == 1
    assert window.actions.undo.isEnabled()
    assert "availability" in window.undo_stack.undoText()

    window.actions.undo.trigger()
    assert window.document.scenario == original
    assert index.data() == model.spec.columns[column].fmt(original.patients[2].availability)
    with Store.open(window.document.url) as store:
        assert store.load_scenario() == original

    window.actions.redo.trigger()
    assert window.document.scenario == edited
    assert index.data() == "Mon-Wed 09:00-13:00"
    with Store.open(window.document.url) as store:
        assert store.load_scenario() == edited


def test_a_refused_edit_tells_the_coordinator_why(window):
    model = window.entity_models["staff"]
    editor = window.editors["staff"]
    window.tabs.setCurrentWidget(editor)
    before = window.document.scenario
    assert not model.setData(model.index(0, col(STAFF, "availability")), "Someday 09:00-12:00")
    assert "is not a day" in window.statusBar().currentMessage()
    assert "is not a day" in editor.hint.text()
    assert window.document.scenario is before and window.undo_stack.count() == 0


def test_add_and_remove_rows_through_the_editor(window):
    editor = window.editors["rooms"]
    n = editor.model.rowCount()
    new_id = editor.add_row()
    assert editor.model.rowCount() == n + 1
    assert window.document.scenario.room_by_id[new_id].name == "New room"
    editor.view.selectRow(editor.proxy.mapFromSource(editor.model.index(n, 0)).row())
    editor.remove_selected()
    assert editor.model.rowCount() == n
    assert window.undo_stack.count() == 2
    assert editor.hint.text() == f"Removed room {new_id}" == window.statusBar().currentMessage()
    window.undo_stack.undo()
    assert new_id in window.document.scenario.room_by_id


def test_recent_files_and_window_state_are_remembered(qtbot, tmp_path):
    first = make_window(qtbot, tmp_path)
    url = first.document.url
    first.resize(1100, 700)
    first.close()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    assert settings.value("geometry") is not None and settings.value("windowState") is not None
    second = MainWindow(settings)
    qtbot.addWidget(second)
    assert second.recent_files()[0] == url
    assert second.height() == 700  # (the offscreen screen is narrow: Qt clamps the restored width to it)
    second.fill_recent_menu()
    assert [a.text() for a in second.actions.recent.actions()] == ["clinic.db"]


def test_new_and_save_as(window, tmp_path):
    scenario = window.document.scenario
    assert not window.save_as(tmp_path / "clinic.db")  # the open file itself
    assert window.save_as(tmp_path / "copy.db")
    assert window.document.url == to_url(tmp_path / "copy.db")
    assert window.document.scenario == scenario
    assert window.new_clinic(tmp_path / "empty.db")
    assert window.document.scenario.patients == ()
    assert window.entity_models["patients"].rowCount() == 0


def test_dialogs_do_not_block_and_go_away_when_closed(window):
    window.show_about()
    window.show_formats()
    about, formats = window.dialogs[-2:]
    assert about.isVisible() and formats.isVisible() and not about.isModal()
    about.accept()
    assert window.dialogs == [formats]
    formats.reject()
    assert window.dialogs == []
    assert window.ask_export() is None  # no timetable yet: nothing to export
    assert "solve first" in window.statusBar().currentMessage()


def test_after_a_solve_without_a_timetable_the_grid_says_where_to_look(qtbot, window, tmp_path):
    from solver.result import SolveResult, SolveStatus
    from ui.outcome import SolveOutcome

    view = window.timetable_view
    assert view.grid.empty_text == view.NO_TIMETABLE_YET or window.document.timetable is not None
    result = SolveResult(SolveStatus.INFEASIBLE, None, seconds=2.0, message="No timetable holds every patient.")
    window.document.set_outcome(SolveOutcome(result, window.document.scenario))
    assert view.grid.empty_text == view.NONE_FOUND and "Result tab" in view.grid.empty_text
    window.tabs.setCurrentWidget(view)
    window.grab().save(str(tmp_path / "no_timetable.png"))
    window.document.set_outcome(None)
    assert view.grid.empty_text == view.NO_TIMETABLE_YET


def test_removing_the_only_prescriber_says_what_the_clinic_can_no_longer_do(window):
    editor = window.editors["staff"]
    model = editor.model
    prescriber = next(m for m in window.document.scenario.staff if "prescriber" in m.skills)
    assert sum("prescriber" in m.skills for m in window.document.scenario.staff) == 1
    editor.view.selectRow(editor.proxy.mapFromSource(model.index(model.row_of(prescriber.id), 0)).row())
    editor.remove_selected()
    assert prescriber.id not in window.document.scenario.staff_by_id
    text = editor.hint.text()
    assert text.startswith(f"Removed staff member {prescriber.id}. Note:") and "prescriber" in text
    assert editor.hint.property("tone") == "warn" and window.statusBar().currentMessage() == text

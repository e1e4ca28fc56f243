"""Moving a session by hand, from the real window: the dialog's live check, the grid, the pins, undo,
the banner, the next solve, and the clinic file."""

from __future__ import annotations

import json
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter

from scheduler.model import Timetable
from scheduler.validate import validate
from solver.result import SolveStatus
from ui.models.pins import pinned_keys, session_key
from ui.views.move_dialog import MoveSessionDialog
from ui_helpers import reopened, solve_and_wait, solve_window  # noqa: F401 - fixture

SOLVE = 5  # seconds: the tiny clinic's first timetable


def keys(timetable: Timetable) -> set:
    return {session_key(s) for s in timetable.sessions}


def open_dialog(qtbot, w, session) -> MoveSessionDialog:
    """Select ``session`` in the grid and press F2, as a coordinator would."""
    view = w.timetable_view
    w.tabs.setCurrentWidget(view)
    view.select_session(session)
    view.grid.setFocus()
    qtbot.keyClick(view.grid, Qt.Key.Key_F2)
    dialogs = [d for d in w.dialogs if isinstance(d, MoveSessionDialog)]
    assert len(dialogs) == 1 and dialogs[0].isVisible()
    return dialogs[0]


def find_move(dialog: MoveSessionDialog, *, keeps_rules: bool) -> bool:
    """Choose, in the dialog's own combos, a new day and time (else a new room) whose check keeps every
    hard rule (or breaks one); False when there is none. The search asks the dialog's preview, the fields
    are set once: every void call into PySide6 6.12 on Python 3.11 drops a reference to None, and a
    search through the combos (hundreds of updates) used them all up ("deallocating None")."""
    s, preview = dialog.preview.session, dialog.preview
    days = [dialog.day.itemData(i) for i in range(dialog.day.count())]
    starts = [dialog.start.itemData(i) for i in range(dialog.start.count())]
    rooms = [dialog.room.itemData(i) for i in range(dialog.room.count())]
    tries = [(d, t, s.room_id) for d in days for t in starts if (d, t) != (s.day, s.start)]
    tries += [(s.day, s.start, r) for r in rooms if r != s.room_id]
    for day, start, room in tries:
        new = replace(s, day=day, start=start, end=start + s.minutes, room_id=room)
        if (not preview.check(new).broken) == keeps_rules:
            dialog.set_fields(day=day, start=start, room=room)
            assert dialog.last_check == preview.check(new)
            return True
    return False


def solved(qtbot, w):
    outcome = solve_and_wait(qtbot, w, SOLVE)
    assert outcome.timetable is not None and outcome.violations == (), outcome.result.headline()
    return w.document.outcome  # as shown: numbered, and named as the clinic file saved it


def valid_move(qtbot, w, outcome):
    """Move the first session that has a move keeping every hard rule; (old, new) sessions."""
    for session in outcome.timetable.sessions:
        dialog = open_dialog(qtbot, w, session)
        if find_move(dialog, keeps_rules=True):
            assert dialog.verdict.text() == "✓ This move keeps every hard rule."
            assert dialog.apply_button.text() == "Move session" and dialog.apply_button.isEnabled()
            new = dialog.session()
            dialog.apply_button.click()
            return session, new
        dialog.reject()
        qtbot.waitUntil(lambda: not w.dialogs)
    raise AssertionError("no session of the timetable can be moved without breaking a rule")


def test_a_move_changes_the_grid_and_the_pins_as_one_undo_step(qtbot, solve_window):
    w = solve_window
    outcome = solved(qtbot, w)
    before_keys = keys(outcome.timetable)
    old, new = valid_move(qtbot, w, outcome)

    # The grid shows the moved session (selected, pinned) and not the old one.
    view = w.timetable_view
    shown = {session_key(s) for _r, s in view.grid.session_rects()}
    assert session_key(new) in shown and session_key(old) not in shown
    assert keys(w.document.timetable) == before_keys - {session_key(old)} | {session_key(new)}
    assert pinned_keys(w.document.scenario) == {session_key(new)}
    assert view.panel.session is not None and session_key(view.panel.session) == session_key(new)
    assert view.panel.pin_state.text().startswith("yes")
    # The details stay as tall as the panel's width needs when the coordinator widens it (they kept the
    # narrow panel's height: a band of empty lines between the form and the roster).
    details = view.panel.details
    splitter = view.findChild(QSplitter)
    grid_width, panel_width = splitter.sizes()
    splitter.setSizes([grid_width - 250, panel_width + 250])
    qtbot.waitUntil(lambda: details.width() > panel_width)
    qtbot.waitUntil(lambda: details.minimumHeight() == details.layout().heightForWidth(details.width()))
    assert "1 pinned" in view.summary.text()
    # Honest status: edited by hand, the objective recounted, no bound or gap.
    edited = w.document.outcome
    assert edited.hand is not None and edited.hand.moves == 1 and edited.violations == ()
    assert edited.result.bound is None and edited.result.gap is None
    panel = w.result_panel
    assert panel.headline.text() == "Edited by hand"
    assert panel.metric_labels["Gap"].text() == "edited by hand" and panel.metric_labels["Bound"].text() == "—"
    assert panel.metric_labels["Objective"].text() == f"{edited.result.objective:.2f}"
    assert view.warning.isHidden()
    assert w.undo_stack.undoText().startswith(("Move ", "Change "))
    saved = [t.name for t in w.document.store.list_timetables()]
    assert saved[0] == edited.name == f"{outcome.name} (edited)" and outcome.name in saved

    w.undo_stack.undo()  # one step: the timetable and the pins together
    assert keys(w.document.timetable) == before_keys
    assert pinned_keys(w.document.scenario) == frozenset()
    assert w.document.outcome.hand is None and panel.headline.text() != "Edited by hand"
    assert session_key(old) in {session_key(s) for _r, s in view.grid.session_rects()}
    assert [t.name for t in w.document.store.list_timetables()] == [outcome.name]  # the edited copy is gone
    w.undo_stack.redo()
    assert keys(w.document.timetable) == keys(edited.timetable)
    assert pinned_keys(w.document.scenario) == {session_key(new)}


def test_moving_a_pinned_session_moves_its_pin_and_keeps_its_id(qtbot, solve_window):
    w = solve_window
    outcome = solved(qtbot, w)
    first = outcome.timetable.sessions[0]
    w.set_pinned([first], True)
    pin_id = w.document.scenario.previous.sessions[0].session_id
    old, new = valid_move(qtbot, w, w.document.outcome)
    pins = w.document.scenario.previous.sessions
    if session_key(old) == session_key(first):
        assert [session_key(s) for s in pins] == [session_key(new)] and pins[0].session_id == pin_id
    else:  # the first session had no move keeping the rules: its pin stays beside the new one
        assert {session_key(s) for s in pins} == {session_key(first), session_key(new)}
    assert all(s.pinned for s in pins) and len({s.session_id for s in pins}) == len(pins)


def test_a_move_that_breaks_a_rule_says_so_in_the_dialog_and_the_banner(qtbot, solve_window, tmp_path):
    w = solve_window
    outcome = solved(qtbot, w)
    group = next(s for s in outcome.timetable.sessions if len(s.patient_ids) > 1)
    other = next(s for s in outcome.timetable.sessions
                 if s.day != group.day and set(s.patient_ids) & set(group.patient_ids))
    dialog = open_dialog(qtbot, w, group)
    assert not dialog.apply_button.isEnabled()  # nothing changed yet
    dialog.set_fields(day=other.day, start=other.start)  # the patients' other session, same time
    check = dialog.last_check
    assert check is not None and any(v.rule == "H4" for v in check.broken)
    assert dialog.verdict.text().startswith(f"This move breaks {len(check.broken)} hard rule(s): double-booking")
    assert dialog.verdict.property("tone") == "bad"
    lines = [dialog.problems.item(i).text() for i in range(dialog.problems.count())]
    assert "at once" in lines[0] and lines[0].endswith("(H4)")  # who clashes first, in the validator's words
    assert dialog.objective.text().startswith("Soft goals (lower is better): objective ")
    assert dialog.apply_button.text() == "Move anyway" and dialog.apply_button.isEnabled()
    dialog.grab().save(str(tmp_path / "move_dialog.png"))
    dialog.apply_button.click()  # the coordinator insists

    edited = w.document.outcome
    n = len(edited.violations)
    assert n >= len(check.broken) > 0 and edited.hand is not None
    view = w.timetable_view
    assert not view.warning.isHidden() and f"breaks {n} hard rule(s)" in view.warning.text()
    assert view.warning.property("tone") == "bad"
    assert w.result_panel.headline.text() == f"Breaks {n} hard rule(s): do not use"
    assert w.result_panel.violations.count() == n
    w.export_timetable(tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "invalid" and len(summary["violations"]) == n
    assert summary["edited_by_hand"]["moves"] == 1 and summary["bound"] is None and summary["gap"] is None
    # The saved timetables' list says so too (it said "feasible").
    saved = {info.name: info.status for info in w.document.store.list_timetables()}
    assert saved[edited.name] == "invalid"


def test_the_next_solve_keeps_the_moved_session(qtbot, solve_window):
    w = solve_window
    outcome = solved(qtbot, w)
    _old, new = valid_move(qtbot, w, outcome)
    again = solve_and_wait(qtbot, w, 15)
    assert again.timetable is not None, again.result.headline()
    assert again.result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE, SolveStatus.CANCELLED, SolveStatus.UNKNOWN)
    assert session_key(new) in keys(again.timetable)
    assert validate(w.document.scenario, again.timetable) == []  # H9: the pin kept exactly
    assert w.document.outcome.hand is None and w.result_panel.headline.text() != "Edited by hand"


def test_the_moved_timetable_is_saved_and_reopens(qtbot, solve_window, tmp_path):
    w = solve_window
    outcome = solved(qtbot, w)
    _old, new = valid_move(qtbot, w, outcome)
    edited = w.document.outcome
    w2 = reopened(qtbot, w, tmp_path / "settings2.ini")
    again = w2.document.outcome
    assert again.name == edited.name and again.hand is not None and again.hand.moves == 1
    assert keys(again.timetable) == keys(edited.timetable) and again.violations == ()
    assert session_key(new) in pinned_keys(w2.document.scenario)
    assert w2.result_panel.headline.text() == "Edited by hand"
    assert w2.result_panel.metric_labels["Gap"].text() == "edited by hand"
    assert again.hand.solved == edited.hand.solved and edited.hand.solved


def test_the_move_dialog_offers_the_activitys_rooms_staff_and_times(qtbot, solve_window):
    w = solve_window
    outcome = solved(qtbot, w)
    scenario = w.document.scenario
    group = next(s for s in outcome.timetable.sessions if len(s.patient_ids) > 1)
    activity = scenario.activity_by_id[group.activity_id]
    dialog = open_dialog(qtbot, w, group)
    rooms = [dialog.room.itemData(i) for i in range(dialog.room.count())]
    assert rooms and all(scenario.room_by_id[r].kind == activity.room_kind for r in rooms)
    staff = [dialog.staff[0].itemData(i) for i in range(dialog.staff[0].count())]
    assert len(dialog.staff) == activity.staff_count
    assert staff and all(activity.skill in scenario.staff_by_id[i].skills for i in staff)
    p = scenario.program
    starts = [dialog.start.itemData(i) for i in range(dialog.start.count())]
    assert starts[0] == p.open and starts[-1] + activity.duration_min <= p.close
    assert all((t - p.open) % p.slot_minutes == 0 for t in starts)
    assert [dialog.day.itemData(i) for i in range(dialog.day.count())] == list(p.week_days)
    assert dialog.session() == dialog.preview.moved(group) or session_key(dialog.session()) == session_key(group)
    dialog.reject()
    assert w.document.outcome is outcome or keys(w.document.timetable) == keys(outcome.timetable)
    assert w.undo_stack.count() == 1  # the import only: a cancelled dialog changes nothing

"""Table models on their own: counts, cell text, edits that build new scenarios, refusals with reasons."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import pytest
from PySide6.QtCore import Qt

from scheduler.io.reader import read_scenario
from scheduler.io.writer import write_scenario
from scheduler.model import Mode, Session, Timetable
from scheduler.timegrid import parse_availability
from scheduler.validate import patient_compliance
from ui.models.edits import EditKind
from ui.models.entities import (
    ACTIVITIES, PATIENTS, ROOMS, STAFF, ActivitiesTableModel, PatientsTableModel, RoomsTableModel, StaffTableModel,
)
from ui.models.filters import FilterKind, filter_sessions, subjects, tracks
from ui.models.pins import pin_edit, pinned_keys, session_key
from ui.models.program_model import ProgramTableModel
from ui.models.result_models import ComplianceTableModel, TermsTableModel
from ui.views.timetable_grid import place
from ui_helpers import demo_scenario

DISPLAY, EDIT, TIP = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole, Qt.ItemDataRole.ToolTipRole


def col(spec, field: str) -> int:
    return next(i for i, c in enumerate(spec.columns) if c.field == field)


@pytest.fixture
def scenario():
    return demo_scenario()


def test_counts_and_cells_follow_the_scenario(qtbot, scenario):
    for factory, items in ((PatientsTableModel, scenario.patients), (StaffTableModel, scenario.staff),
                           (RoomsTableModel, scenario.rooms), (ActivitiesTableModel, scenario.activities)):
        model = factory(scenario)
        assert model.rowCount() == len(items)
        assert model.columnCount() == len(model.spec.columns)
        assert model.index(0, 0).data(DISPLAY) == items[0].id
    staff = StaffTableModel(scenario)
    first = scenario.staff[0]
    cell = staff.index(0, col(STAFF, "availability"))
    assert parse_availability(cell.data(DISPLAY)) == first.availability
    assert staff.headerData(col(STAFF, "availability"), Qt.Orientation.Horizontal) == "Availability"


def test_a_bad_availability_is_refused_with_the_reason_and_the_cell_unchanged(qtbot, scenario):
    model = StaffTableModel(scenario)
    column = col(STAFF, "availability")
    index = model.index(1, column)
    before_text = index.data(DISPLAY)
    with qtbot.waitSignal(model.editRefused, check_params_cb=lambda r, c, reason: (r, c) == (1, column)) as blocker:
        assert model.setData(index, "Mon-Fri 9am-1pm", EDIT) is False
    reason = blocker.args[2]
    assert "not an availability entry" in reason and "DAYS HH:MM-HH:MM" in reason
    assert model.last_error == reason
    assert index.data(DISPLAY) == before_text  # unchanged
    assert index.data(TIP) == reason  # shown at the cell
    assert model.scenario is scenario  # no new scenario was made
    # A good value afterwards clears the reason and replaces the staff member (frozen: a new object).
    assert model.setData(index, "Mon-Thu 09:00-13:00", EDIT)
    edited = model.scenario.staff[1]
    assert edited is not scenario.staff[1] and edited.id == scenario.staff[1].id
    assert edited.availability == parse_availability("Mon-Thu 09:00-13:00")
    assert index.data(TIP) != reason
    with pytest.raises(FrozenInstanceError):
        edited.name = "x"  # type: ignore[misc]


def test_edits_are_described_for_the_undo_stack(qtbot, scenario):
    model = PatientsTableModel(scenario)
    edits = []
    model.apply_edit = edits.append
    assert model.setData(model.index(0, col(PATIENTS, "requirements")), "PROC=3; CBT=2-3; IND=1", EDIT)
    (edit,) = edits
    assert edit.kind == EditKind.CELL and edit.before is scenario
    assert edit.after.patients[0].requirement("CBT").max_count == 3
    assert edit.after.patients[1:] == scenario.patients[1:]
    assert "requirements" in edit.text and scenario.patients[0].id in edit.text
    assert model.scenario is scenario  # the model waits for the stack to apply it


@pytest.mark.parametrize(
    ("field", "text", "words"),
    [
        ("requirements", "PROC=3, CBT=2", "is not a requirement"),
        ("requirements", "NOPE=1", "unknown activity NOPE"),
        ("primary_therapist", "T99", "no staff member has the id T99"),
        ("min_days", "x", "not a whole number"),
        ("max_days", "1", "exceeds the maximum"),
        ("cohort", "senior", "is not a patient cohort"),
        ("preferred_days", "Funday", "is not a day"),
    ],
)
def test_patient_edits_are_checked(qtbot, scenario, field, text, words):
    model = PatientsTableModel(scenario)
    assert not model.setData(model.index(0, col(PATIENTS, field)), text, EDIT)
    assert words in model.last_error
    assert model.scenario is scenario


def test_ids_stay_unique_and_references_intact(qtbot, scenario):
    staff = StaffTableModel(scenario)
    therapist = scenario.patients[0].primary_therapist
    row = staff.row_of(therapist)
    assert not staff.setData(staff.index(row, 0), scenario.staff[(row + 1) % len(scenario.staff)].id, EDIT)
    assert "already used" in staff.last_error
    assert not staff.setData(staff.index(row, 0), "T77", EDIT)
    assert "primary therapist" in staff.last_error
    reason = staff.remove_rows([row])
    assert reason and "primary therapist" in reason
    assert staff.rowCount() == len(scenario.staff)


def test_add_and_remove_rows(qtbot, scenario):
    model = ActivitiesTableModel(scenario)
    new_id = model.add_item()
    assert model.rowCount() == len(scenario.activities) + 1
    assert model.item(model.rowCount() - 1).id == new_id
    assert not model.setData(model.index(model.rowCount() - 1, col(ACTIVITIES, "duration_min")), "50", EDIT)
    assert "multiple of 15" in model.last_error
    assert model.remove_rows([model.rowCount() - 1]) is None
    assert [a.id for a in model.scenario.activities] == [a.id for a in scenario.activities]
    rooms = RoomsTableModel(scenario)
    assert rooms.remove_rows([0]) is None
    assert rooms.rowCount() == len(scenario.rooms) - 1


def test_program_settings(qtbot, scenario):
    model = ProgramTableModel(scenario)
    row = model.row_of("open")
    assert model.index(row, model.VALUE).data(DISPLAY) == "08:00"
    assert not model.setData(model.index(row, model.VALUE), "25:00", EDIT)
    assert "not a time" in model.last_error
    assert not model.setData(model.index(row, model.VALUE), "21:30", EDIT)
    assert "close after it opens" in model.last_error
    assert model.setData(model.index(model.row_of("weight_spread"), model.VALUE), "2.5", EDIT)
    assert model.scenario.program.weights.spread == 2.5
    assert model.scenario.program.open == scenario.program.open


def test_filters_and_tracks(scenario):
    a, b = scenario.patients[0], scenario.patients[1]
    t = Timetable((
        Session(0, 540, 600, "PROC", (scenario.staff[0].id,), scenario.rooms[0].id, (a.id, b.id)),
        Session(1, 540, 600, "IND", (scenario.staff[1].id,), None, (b.id,)),
    ))
    assert filter_sessions(scenario, t, FilterKind.ALL, None) == t.sessions
    assert len(filter_sessions(scenario, t, FilterKind.PATIENT, b.id)) == 2
    assert len(filter_sessions(scenario, t, FilterKind.STAFF, scenario.staff[1].id)) == 1
    assert len(filter_sessions(scenario, t, FilterKind.ROOM, scenario.rooms[0].id)) == 1
    keys = [k for k, _ in subjects(scenario, FilterKind.TRACK)]
    assert "adult" in keys and any(k.startswith("adult:") for k in keys)
    adult = next(tr for tr in tracks(scenario) if tr.key == "adult")
    assert adult.patient_ids == {p.id for p in scenario.patients if p.cohort.value == "adult"}
    # Every pin at a glance: the pinned sessions alone (none before a pin).
    assert filter_sessions(scenario.with_previous(None), t, FilterKind.PINNED, None) == ()
    pinned = pin_edit(scenario.with_previous(None), t, [t.sessions[1]], True).after
    assert filter_sessions(pinned, t, FilterKind.PINNED, None) == (t.sessions[1],)
    assert subjects(pinned, FilterKind.PINNED) == []


def test_pins_are_kept_as_pinned_sessions_of_the_previous_timetable(scenario):
    t = Timetable((Session(0, 540, 600, "PROC", ("T01",), "G1", ("P001",), session_id="S001"),
                   Session(1, 540, 600, "IND", ("T02",), None, ("P002",), session_id="S002")))
    edit = pin_edit(scenario.with_previous(None), t, [t.sessions[0]], True)
    assert edit.kind == EditKind.PIN
    # Only the pinned session: the rest of the shown week does not become "last week".
    assert edit.after.previous.sessions == (replace(t.sessions[0], pinned=True),)
    assert len(pinned_keys(edit.after)) == 1
    unpinned = pin_edit(edit.after, t, [t.sessions[0]], False)
    assert pinned_keys(unpinned.after) == frozenset() and unpinned.after.previous is None
    # Nothing is left naming the room, so it can be renamed again (it could not, once pinned, until session 18).
    from ui.models.references import rename_refusal
    assert rename_refusal(edit.after, "rooms", "G1") is not None and rename_refusal(unpinned.after, "rooms", "G1") is None


def test_pinning_keeps_last_weeks_timetable_for_stability(scenario):
    """An imported last week stays what S3 is measured against; a pin adds beside it (its id kept unique)."""
    last_week = Timetable((Session(2, 600, 660, "PROC", ("T01",), "G1", ("P001",), session_id="S001"),))
    base = scenario.with_previous(last_week)
    now = Timetable((Session(0, 540, 600, "PROC", ("T01",), "G1", ("P001",), session_id="S001"),
                     Session(1, 540, 600, "IND", ("T02",), None, ("P002",), session_id="S002")))
    pinned = pin_edit(base, now, [now.sessions[0]], True).after
    assert pinned.previous.sessions[0] == last_week.sessions[0]
    added = pinned.previous.sessions[1:]
    assert len(added) == 1 and added[0].pinned and session_key(added[0]) == session_key(now.sessions[0])
    assert added[0].session_id not in {"S001", ""}  # last week's S001 is another session
    back = pin_edit(pinned, now, [now.sessions[0]], False).after
    assert back.previous == last_week


def test_a_move_replaces_the_session_and_its_pin_and_keeps_last_week(scenario):
    """The moved session is pinned in place of the old one (and of its pin, whose id it keeps); last week's
    sessions and other pins stay; the shown timetable has the moved session where the old one was."""
    from ui.models.moves import move_edit
    last_week = Timetable((Session(2, 600, 660, "PROC", ("T01",), "G1", ("P001",), session_id="S001"),))
    now = Timetable((Session(0, 540, 600, "PROC", ("T01",), "G1", ("P001",), session_id="S001"),
                     Session(1, 540, 600, "IND", ("T02",), None, ("P002",), session_id="S002")))
    pinned = pin_edit(scenario.with_previous(last_week), now, [now.sessions[1]], True).after
    pin_id = pinned.previous.sessions[1].session_id
    old = now.sessions[1]
    new = replace(old, day=3, start=600, end=660)
    edit, shown = move_edit(pinned, now, old, new)
    assert edit.kind == EditKind.MOVE and edit.before is pinned and edit.text == "Move IND from Tue 09:00 to Thu 10:00"
    assert edit.after.previous.sessions[0] == last_week.sessions[0]
    assert [session_key(s) for s in edit.after.previous.pinned] == [session_key(new)]
    assert edit.after.previous.pinned[0].session_id == pin_id
    assert shown.sessions[0] == now.sessions[0] and session_key(shown.sessions[1]) == session_key(new)
    # An unpinned session keeps its own id unless last week holds it (S001 is last week's).
    edit, _ = move_edit(scenario.with_previous(last_week), now, now.sessions[0], replace(now.sessions[0], room_id="G2"))
    assert edit.text == "Change room of PROC on Mon 09:00"
    assert edit.after.previous.pinned[0].session_id not in {"S001", ""}


def test_result_models(qtbot, scenario):
    from solver.result import Term

    terms = TermsTableModel()
    terms.set_terms([Term("S1", "preferences", 3, 2), Term("S5", "efficiency", 1, 12)])
    assert terms.rowCount() == 3
    assert terms.index(2, 3).data(DISPLAY) == "18"
    # An empty timetable leaves everyone out of range: those cells are highlighted.
    rows = patient_compliance(scenario, Timetable())
    model = ComplianceTableModel()
    model.set_compliance(rows, {p.id: p.name for p in scenario.patients}, scenario.program.days)
    assert model.rowCount() == len(scenario.patients)
    assert model.headerData(model.WEEK, Qt.Orientation.Horizontal) == "Week h"
    assert model.out_of_range(0, model.DAYS) and model.out_of_range(0, model.WEEK)
    assert model.index(0, model.DAYS).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert model.index(0, model.STATUS).data(DISPLAY).endswith("problems")


def test_concurrent_sessions_get_lanes():
    s = [Session(0, 540, 600, "A"), Session(0, 570, 630, "B"), Session(0, 600, 660, "C"), Session(0, 700, 760, "D")]
    placed = {p.session.activity_id: p for p in place(s)}
    assert placed["A"].lanes == placed["B"].lanes == placed["C"].lanes == 2
    assert placed["A"].lane != placed["B"].lane and placed["C"].lane == placed["A"].lane
    assert placed["D"].lanes == 1


# --- values the importer refuses are refused at the cell too (no store error, no undo entry) ----------


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "1e300", "1000001"])
def test_a_weight_the_importer_refuses_is_refused_with_no_edit(qtbot, scenario, text):
    model = ProgramTableModel(scenario)
    edits = []
    model.apply_edit = edits.append
    index = model.index(model.row_of("weight_preferences"), model.VALUE)
    before = index.data(DISPLAY)
    with qtbot.waitSignal(model.editRefused):
        assert model.setData(index, text, EDIT) is False
    assert model.last_error.startswith("Weight: preferences:") and f"'{text}'" in model.last_error
    assert edits == [] and model.scenario is scenario
    assert index.data(DISPLAY) == before and index.data(TIP) == model.last_error
    assert model.setData(index, "1000000", EDIT)  # the importer's limit itself is fine
    assert edits[0].after.program.weights.of("preferences") == 1_000_000


@pytest.mark.parametrize("text", ["nan", "inf", "1e308", "169"])
@pytest.mark.parametrize("table, field", [
    ("patients", "min_hours"), ("patients", "max_hours"), ("patients", "min_week_hours"),
    ("patients", "max_week_hours"), ("staff", "max_hours_day"), ("staff", "max_hours_week"),
])
def test_hours_must_be_finite_and_within_the_importers_limit(qtbot, scenario, table, field, text):
    """Patients' and staff's hours cells: nan, inf and 1e308 were accepted (nan saved as empty, a solve
    then failed with a Python error); over 168 h is refused as the importer refuses it."""
    model_class, columns = (PatientsTableModel, PATIENTS) if table == "patients" else (StaffTableModel, STAFF)
    model = model_class(scenario)
    edits = []
    model.apply_edit = edits.append
    assert not model.setData(model.index(0, col(columns, field)), text, EDIT)
    assert f"'{text}'" in model.last_error
    assert edits == [] and model.scenario is scenario


@pytest.mark.parametrize("key", ["min_hours", "max_hours", "min_week_hours", "max_week_hours"])
def test_program_hours_must_be_finite(qtbot, scenario, key):
    model = ProgramTableModel(scenario)
    edits = []
    model.apply_edit = edits.append
    for text in ("nan", "inf", "1e308"):
        assert not model.setData(model.index(model.row_of(key), model.VALUE), text, EDIT)
        assert f"'{text}'" in model.last_error
    assert edits == []


def test_a_week_start_off_the_programs_first_day_is_refused_with_the_importers_message(qtbot, scenario):
    from datetime import date, timedelta

    model = ProgramTableModel(scenario)
    edits = []
    model.apply_edit = edits.append
    program = scenario.program
    assert program.days[0] == 0  # the demo runs Mon-...
    tuesday = date(2026, 12, 1)
    assert not model.setData(model.index(model.row_of("week_start"), model.VALUE), tuesday.isoformat(), EDIT)
    assert model.last_error.startswith("Week start: 2026-12-01 is a Tuesday, but the program's week starts on Monday")
    assert "e.g. 2026-11-30" in model.last_error
    assert edits == [] and model.scenario is scenario
    monday = tuesday + timedelta(days=6)
    assert model.setData(model.index(model.row_of("week_start"), model.VALUE), monday.isoformat(), EDIT)
    assert edits[0].after.program.week_start == monday


def test_patient_days_must_fit_the_programs_week(qtbot, scenario):
    model = PatientsTableModel(scenario)
    edits = []
    model.apply_edit = edits.append
    n = len(scenario.program.days)
    assert not model.setData(model.index(0, col(PATIENTS, "max_days")), str(n + 1), EDIT)
    assert f"runs only {n} days a week" in model.last_error
    closed = next(d for d in range(7) if d not in scenario.program.days)
    from scheduler.model import DAY_NAMES

    assert not model.setData(model.index(0, col(PATIENTS, "preferred_days")), DAY_NAMES[closed], EDIT)
    assert f"does not run on {DAY_NAMES[closed]}" in model.last_error
    assert edits == [] and model.scenario is scenario


# --- the app never holds what its own importer refuses: new rows and required cells ----------------------

EMPTY = "the cell is empty; a value is required"  # the importer's words for an empty required cell


def test_a_new_activity_has_a_skill_and_its_scenario_reads_back(qtbot, scenario, tmp_path):
    """Add activity made A13 "New group" with skill '': accepted by the app, but the exported
    activities.csv was refused on import ("column 'skill', value '': the cell is empty")."""
    model = ActivitiesTableModel(scenario)
    new_id = model.add_item()
    added = model.item(model.rowCount() - 1)
    assert added.id == new_id and added.mode == Mode.GROUP
    assert added.skill.strip()
    # A group skill staff hold, so the new group can be led as it stands.
    assert added.skill in {a.skill for a in scenario.activities if a.mode == Mode.GROUP}
    assert any(added.skill in member.skills for member in scenario.staff)
    assert model.index(model.rowCount() - 1, col(ACTIVITIES, "skill")).data(DISPLAY) == added.skill
    write_scenario(model.scenario, tmp_path / "export")
    read = read_scenario(tmp_path / "export").scenario  # raises ScenarioError on any refusal
    assert read.activity_by_id[new_id] == added


def test_a_row_added_to_every_table_reads_back(qtbot, scenario, tmp_path):
    """The defaults of each kind of new row are values the importer accepts."""
    current = scenario
    added = {}
    for factory in (PatientsTableModel, StaffTableModel, RoomsTableModel, ActivitiesTableModel):
        model = factory(current)
        added[model.spec.attr] = model.add_item()
        current = model.scenario
    write_scenario(current, tmp_path / "export")
    read = read_scenario(tmp_path / "export").scenario
    for attr, new_id in added.items():
        assert [e for e in getattr(read, attr) if e.id == new_id] == [e for e in getattr(current, attr) if e.id == new_id]


def test_a_new_activity_lasts_a_whole_number_of_slots(qtbot, scenario):
    """With 45-minute slots an hour is off the grid (the importer refuses 60); the new group takes 90."""
    from dataclasses import replace

    program = scenario.program
    close = program.open + 45 * ((program.close - program.open) // 45)
    model = ActivitiesTableModel(replace(scenario, program=replace(program, slot_minutes=45, close=close)))
    model.add_item()
    added = model.item(model.rowCount() - 1)
    assert added.duration_min == 90
    assert ACTIVITIES.check(model.scenario, added) is None


@pytest.mark.parametrize("text", ["", "   "])
def test_clearing_an_activitys_skill_is_refused_with_the_importers_words(qtbot, scenario, text):
    model = ActivitiesTableModel(scenario)
    edits = []
    model.apply_edit = edits.append
    index = model.index(0, col(ACTIVITIES, "skill"))
    before = index.data(DISPLAY)
    assert before
    with qtbot.waitSignal(model.editRefused, check_params_cb=lambda r, c, reason: (r, c) == (0, index.column())):
        assert model.setData(index, text, EDIT) is False
    assert model.last_error == f"Skill: {EMPTY}"
    assert edits == [] and model.scenario is scenario  # nothing changed, nothing for the undo stack
    assert index.data(DISPLAY) == before and index.data(TIP) == model.last_error
    assert model.setData(index, " cbt ", EDIT)  # a real skill is still taken, stripped
    assert edits[0].after.activities[0].skill == "cbt"


@pytest.mark.parametrize(("factory", "spec", "field", "words"), [
    (ActivitiesTableModel, ACTIVITIES, "mode", EMPTY),
    (ActivitiesTableModel, ACTIVITIES, "duration_min", EMPTY),
    (ActivitiesTableModel, ACTIVITIES, "max_size", EMPTY),
    (RoomsTableModel, ROOMS, "kind", EMPTY),
    (RoomsTableModel, ROOMS, "capacity", EMPTY),
    (ActivitiesTableModel, ACTIVITIES, "id", "the id is empty; every row needs one"),
    (RoomsTableModel, ROOMS, "id", "the id is empty; every row needs one"),
    (StaffTableModel, STAFF, "id", "the id is empty; every row needs one"),
    (PatientsTableModel, PATIENTS, "id", "the id is empty; every row needs one"),
])
def test_every_required_cell_refuses_empty_in_the_importers_words(qtbot, scenario, factory, spec, field, words):
    model = factory(scenario)
    edits = []
    model.apply_edit = edits.append
    column = col(spec, field)
    assert not model.setData(model.index(0, column), "", EDIT)
    assert model.last_error == f"{spec.columns[column].header}: {words}"
    assert edits == [] and model.scenario is scenario


@pytest.mark.parametrize(("factory", "spec", "row_id", "field", "text", "words"), [
    # A room is of kind group or office ("none" is for activities needing no room).
    (RoomsTableModel, ROOMS, None, "kind", "none", "'none' is not a room kind; expected group or office"),
    # A patient is adult or adolescent ("any" is for activities open to both).
    (PatientsTableModel, PATIENTS, None, "cohort", "any", "'any' is not a patient cohort; expected adult or adolescent"),
    (ActivitiesTableModel, ACTIVITIES, "PROC", "with_primary", "yes",
     "a group activity cannot be delivered by each patient's primary therapist"),
    (ActivitiesTableModel, ACTIVITIES, "IND", "mode", "group",
     "a group activity cannot be delivered by each patient's primary therapist"),
])
def test_values_the_importer_refuses_are_refused_at_the_cell(qtbot, scenario, factory, spec, row_id, field, text, words):
    model = factory(scenario)
    edits = []
    model.apply_edit = edits.append
    row = 0 if row_id is None else model.row_of(row_id)
    assert not model.setData(model.index(row, col(spec, field)), text, EDIT)
    assert model.last_error.endswith(words)
    assert edits == [] and model.scenario is scenario


@pytest.mark.parametrize("factory, spec, row_id, column, text, words", [
    # An adult required to attend the adolescent group: the importer refuses the requirement.
    (PatientsTableModel, PATIENTS, None, "requirements", "PROC=3; ADOL=1", "may not attend ADOL"),
    # No primary therapist for a patient who needs individual therapy with them.
    (PatientsTableModel, PATIENTS, None, "primary_therapist", "", "delivered by the primary therapist, but none is named"),
    # Process groups for adolescents only, while adults need them.
    (ActivitiesTableModel, ACTIVITIES, "PROC", "cohort", "adolescent", "may not attend PROC"),
])
def test_an_edit_that_leaves_data_the_import_refuses_is_refused_in_its_words(scenario, tmp_path, factory, spec, row_id,
                                                                               column, text, words):
    """Cross-file rules (requirements against the catalogue, the primary therapist): the app accepted
    these edits until session 18, and its own export was then refused on import."""
    model = factory(scenario)
    if row_id is None:  # an adult patient who needs individual therapy with their primary therapist
        row_id = next(p.id for p in scenario.patients
                      if p.cohort.value == "adult" and p.requirement("IND") is not None and p.primary_therapist)
    assert not model.edit_cell(model.row_of(row_id), col(spec, column), text)
    assert model.scenario is scenario and words in model.last_error
    write_scenario(model.scenario, tmp_path / "export")
    assert read_scenario(tmp_path / "export").scenario == scenario  # what the app holds still reads back

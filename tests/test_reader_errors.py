"""Bad input: every problem is an InputError naming file, row, column and value, all reported at once."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path
from typing import Callable

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.io import InputError, ScenarioError, read_scenario, read_timetable, write_scenario_xlsx

try:  # tests/ as a package or as a plain folder on sys.path
    from tests.outside_cases import write_rp_nobody_leads
except ImportError:
    from outside_cases import write_rp_nobody_leads

TINY = Path(__file__).parent / "data" / "tiny"
PREVIOUS_HEADER = ["session_id", "day", "date", "start", "end", "activity_id", "activity_name",
                   "staff_ids", "room_id", "patient_ids", "pinned"]
GOOD_PREVIOUS = ["S001", "Mon", "2026-11-23", "09:00", "10:00", "PROC", "", "T1", "G1", "P01;P02;P04", "no"]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A writable copy of the tiny scenario."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    for path in folder.iterdir():
        path.chmod(0o644)
    return folder


# --------------------------------------------------------------------------- mutations


def _load(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _save(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def cell(file: str, row: int, column: str, value: str) -> Callable[[Path], None]:
    """Set one cell; ``row`` is the spreadsheet row (header = 1)."""
    def apply(folder: Path) -> None:
        rows = _load(folder / file)
        rows[row - 1][rows[0].index(column)] = value
        _save(folder / file, rows)
    return apply


def cells(*changes: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        for change in changes:
            change(folder)
    return apply


def setting(key: str, value: str) -> Callable[[Path], None]:
    """Set (or append) one program.csv key."""
    def apply(folder: Path) -> None:
        rows = _load(folder / "program.csv")
        for r in rows:
            if r[0] == key:
                r[1] = value
                break
        else:
            rows.append([key, value])
        _save(folder / "program.csv", rows)
    return apply


def append_row(file: str, values: list[str]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        _save(folder / file, _load(folder / file) + [values])
    return apply


def drop_column(file: str, column: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        rows = _load(folder / file)
        i = rows[0].index(column)
        _save(folder / file, [r[:i] + r[i + 1:] for r in rows])
    return apply


def rename_column(file: str, column: str, new: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        rows = _load(folder / file)
        rows[0][rows[0].index(column)] = new
        _save(folder / file, rows)
    return apply


def delete(file: str) -> Callable[[Path], None]:
    return lambda folder: (folder / file).unlink()


def raw_bytes(file: str, transform: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / file
        path.write_bytes(transform(path.read_bytes()))
    return apply


def previous(**changes: str) -> Callable[[Path], None]:
    """A previous_sessions.csv with one session, some fields changed."""
    row = dict(zip(PREVIOUS_HEADER, GOOD_PREVIOUS)) | changes
    return lambda folder: _save(folder / "previous_sessions.csv", [PREVIOUS_HEADER, [row[c] for c in PREVIOUS_HEADER]])


# --------------------------------------------------------------------------- the cases

# (case id, mutation, expected (file, row, column, value), words the message must contain)
CASES = [
    # times, days, dates, availability
    ("time-out-of-day", cell("patients.csv", 7, "availability", "Mon 25:00-26:00"),
     ("patients.csv", 7, "availability", "Mon 25:00-26:00"), "'25:00' is not a time of day"),
    ("availability-syntax", cell("staff.csv", 2, "availability", "Mon-Fri 9-17"),
     ("staff.csv", 2, "availability", "Mon-Fri 9-17"), "DAYS HH:MM-HH:MM"),
    ("availability-before-open", cell("patients.csv", 2, "availability", "Mon-Fri 07:00-13:00"),
     ("patients.csv", 2, "availability", "Mon-Fri 07:00-13:00"), "Mon-Fri 08:00-20:00"),
    ("availability-after-close", cell("staff.csv", 4, "availability", "Mon 18:00-21:00"),
     ("staff.csv", 4, "availability", "Mon 18:00-21:00"), "outside the program's hours"),
    ("family-availability-backwards", cell("patients.csv", 4, "family_availability", "Thu 19:00-17:00"),
     ("patients.csv", 4, "family_availability", "Thu 19:00-17:00"), "ends before it starts"),
    ("availability-only-closed-days", cell("patients.csv", 5, "availability", "Sat 09:00-13:00"),
     ("patients.csv", 5, "availability", "Sat 09:00-13:00"), "does not run"),
    ("preferred-days", cell("patients.csv", 2, "preferred_days", "Someday"),
     ("patients.csv", 2, "preferred_days", "Someday"), "is not a day"),
    ("program-days", setting("days", "Mon-Funday"), ("program.csv", 4, "value", "Mon-Funday"), "is not a day"),
    ("week-start-date", setting("week_start", "30/11/2026"), ("program.csv", 3, "value", "30/11/2026"), "YYYY-MM-DD"),
    ("week-start-not-first-day", setting("week_start", "2026-12-02"), ("program.csv", 3, "value", "2026-12-02"),
     "2026-12-02 is a Wednesday, but the program's week starts on Monday (days Mon-Fri)"),
    ("open-not-a-time", setting("open", "8am"), ("program.csv", 5, "value", "8am"), "HH:MM"),
    ("close-before-open", setting("close", "07:00"), ("program.csv", 6, "value", "07:00"), "not after it opens"),
    # program numbers and choices
    ("slot-does-not-divide", setting("slot_minutes", "25"), ("program.csv", 7, "value", "25"), "does not divide"),
    ("slot-not-a-number", setting("slot_minutes", "quarter"), ("program.csv", 7, "value", "quarter"), "not a number"),
    ("gap-negative", setting("max_gap_minutes", "-5"), ("program.csv", 8, "value", "-5"), "negative"),
    ("program-min-days-over-max", setting("min_days", "6"), ("program.csv", 10, "value", "5"), "more than max_days"),
    ("program-max-days-over-week", setting("max_days", "6"), ("program.csv", 10, "value", "6"), "only 5 days"),
    ("program-hours-min-over-max", setting("max_hours", "2.5"), ("program.csv", 12, "value", "2.5"), "min_hours 3"),
    ("hours-basis", setting("hours_basis", "wall"), ("program.csv", 13, "value", "wall"), "contact or span"),
    ("week-hours-min-over-max", setting("max_week_hours", "8"), ("program.csv", 13, "value", "8"), "min_week_hours 9"),
    ("weight-negative", setting("weight_balance", "-1"), ("program.csv", 13, "value", "-1"), "negative"),
    ("weight-not-a-number", setting("weight_spread", "lots"), ("program.csv", 13, "value", "lots"), "not a number"),
    ("program-key-twice", append_row("program.csv", ["open", "09:00"]), ("program.csv", 13, "key", "open"), "twice"),
    # activities
    ("mode", cell("activities.csv", 2, "mode", "grp"), ("activities.csv", 2, "mode", "grp"), "group, individual or family"),
    ("duration-off-grid", cell("activities.csv", 3, "duration_min", "50"),
     ("activities.csv", 3, "duration_min", "50"), "multiple of slot_minutes (15)"),
    ("duration-negative", cell("activities.csv", 3, "duration_min", "-60"), ("activities.csv", 3, "duration_min", "-60"), "1 or more"),
    ("duration-empty", cell("activities.csv", 6, "duration_min", ""), ("activities.csv", 6, "duration_min", ""), "required"),
    ("size-min-over-max", cell("activities.csv", 2, "min_size", "11"), ("activities.csv", 2, "max_size", "10"), "min_size 11"),
    ("size-not-a-number", cell("activities.csv", 4, "max_size", "twelve"),
     ("activities.csv", 4, "max_size", "twelve"), "not a number"),
    ("group-without-max-size", cell("activities.csv", 2, "max_size", ""), ("activities.csv", 2, "max_size", ""), "needs max_size"),
    ("individual-max-size", cell("activities.csv", 5, "max_size", "2"), ("activities.csv", 5, "max_size", "2"), "exactly 1 patient"),
    ("family-min-size", cell("activities.csv", 7, "min_size", "3"), ("activities.csv", 7, "min_size", "3"), "exactly 1 patient"),
    ("with-primary-on-group", cell("activities.csv", 2, "with_primary", "yes"),
     ("activities.csv", 2, "with_primary", "yes"), "group activity"),
    ("with-primary-not-boolean", cell("activities.csv", 5, "with_primary", "maybe"),
     ("activities.csv", 5, "with_primary", "maybe"), "yes or no"),
    ("in-block-not-boolean", cell("activities.csv", 7, "in_block", "sometimes"),
     ("activities.csv", 7, "in_block", "sometimes"), "yes or no"),
    ("room-kind", cell("activities.csv", 4, "room_kind", "hall"), ("activities.csv", 4, "room_kind", "hall"), "group, office or none"),
    ("activity-cohort", cell("activities.csv", 2, "cohort", "elderly"), ("activities.csv", 2, "cohort", "elderly"), "adult, adolescent or any"),
    ("staff-count-zero", cell("activities.csv", 3, "staff_count", "0"), ("activities.csv", 3, "staff_count", "0"), "1 or more"),
    # A skill spelt like one staff hold but for its case is a misspelling: still an error. A skill no one
    # holds at all, too few holders, no room of the kind or none big enough, a primary therapist without
    # the skill are facts about this week's clinic: warnings, and the solve's business (see
    # test_undeliverable_activity_is_a_warning_not_bad_input below).
    ("skill-case", cell("activities.csv", 3, "skill", "CBT"), ("activities.csv", 3, "skill", "CBT"), "case-sensitive"),
    ("activity-id-twice", cell("activities.csv", 3, "id", "PROC"), ("activities.csv", 3, "id", "PROC"), "already used on row 2"),
    ("activity-id-with-separator", cell("activities.csv", 4, "id", "PS;YED"), ("activities.csv", 4, "id", "PS;YED"), "must not contain"),
    ("activity-id-with-tab", cell("activities.csv", 4, "id", "PS\tYED"),
     ("activities.csv", 4, "id", "PS\\x09YED"), "invisible control character (\\x09)"),
    # staff and rooms
    ("staff-hours-negative", cell("staff.csv", 3, "max_hours_week", "-1"), ("staff.csv", 3, "max_hours_week", "-1"), "negative"),
    ("staff-hours-not-a-number", cell("staff.csv", 2, "max_hours_day", "eight"),
     ("staff.csv", 2, "max_hours_day", "eight"), "not a number"),
    ("staff-id-empty", cell("staff.csv", 4, "id", ""), ("staff.csv", 4, "id", ""), "id is empty"),
    ("staff-id-with-delete", cell("staff.csv", 4, "id", "D\x7fR"), ("staff.csv", 4, "id", "D\\x7fR"), "(\\x7f)"),
    ("room-id-with-escape", cell("rooms.csv", 2, "id", "G\x1b1"), ("rooms.csv", 2, "id", "G\\x1b1"), "(\\x1b)"),
    ("room-capacity", cell("rooms.csv", 2, "capacity", "ten"), ("rooms.csv", 2, "capacity", "ten"),
     "not a number; expected a whole number, e.g. 3"),  # it suggested "3 or 3.5", and 3.5 is refused too
    ("room-capacity-fraction", cell("rooms.csv", 2, "capacity", "10.5"), ("rooms.csv", 2, "capacity", "10.5"), "whole number"),
    ("room-capacity-thousands", cell("rooms.csv", 2, "capacity", "1,200"), ("rooms.csv", 2, "capacity", "1,200"), "ambiguous"),
    ("room-kind-none", cell("rooms.csv", 3, "kind", "none"), ("rooms.csv", 3, "kind", "none"), "group or office"),
    ("room-id-twice", cell("rooms.csv", 5, "id", "O1"), ("rooms.csv", 5, "id", "O1"), "already used on row 3"),
    # patients
    ("patient-id-empty", cell("patients.csv", 4, "id", ""), ("patients.csv", 4, "id", ""), "id is empty"),
    # F14: a NUL inside an id was accepted and written into every export, where 'grep P01' missed it
    ("patient-id-with-nul", cell("patients.csv", 2, "id", "P0\x001"), ("patients.csv", 2, "id", "P0\\x001"),
     "the id holds an invisible control character (\\x00); retype it"),
    ("patient-cohort-any", cell("patients.csv", 3, "cohort", "any"), ("patients.csv", 3, "cohort", "any"), "adult or adolescent"),
    ("unknown-primary", cell("patients.csv", 2, "primary_therapist", "T9"),
     ("patients.csv", 2, "primary_therapist", "T9"), "no staff member has id 'T9'"),
    ("primary-missing", cell("patients.csv", 2, "primary_therapist", ""),
     ("patients.csv", 2, "primary_therapist", ""), "none is named"),
    ("requirement-unknown-activity", cell("patients.csv", 3, "requirements", "PROC=3; YOGA=1"),
     ("patients.csv", 3, "requirements", "PROC=3; YOGA=1"), "'YOGA' is not an activity"),
    ("requirement-range-backwards", cell("patients.csv", 4, "requirements", "PROC=3; CBT=3-2"),
     ("patients.csv", 4, "requirements", "PROC=3; CBT=3-2"), "minimum 3 is more than the maximum 2"),
    ("requirement-twice", cell("patients.csv", 5, "requirements", "PROC=3; CBT=2; PROC=1"),
     ("patients.csv", 5, "requirements", "PROC=3; CBT=2; PROC=1"), "named twice"),
    ("requirement-commas", cell("patients.csv", 6, "requirements", "PROC=3, CBT=3"),
     ("patients.csv", 6, "requirements", "PROC=3, CBT=3"), "separate requirements with ';'"),
    ("requirement-count", cell("patients.csv", 7, "requirements", "PROC=three"),
     ("patients.csv", 7, "requirements", "PROC=three"), "ACTIVITY=MIN-MAX"),
    ("requirement-not-eligible", cell("patients.csv", 2, "cohort", "adolescent"),
     ("patients.csv", 2, "requirements", "PROC=3; CBT=3; IND=1; MED=1"), "for adult patients"),
    ("patient-min-days-over-max", cell("patients.csv", 2, "min_days", "4"), ("patients.csv", 2, "max_days", "3"), "min_days 4"),
    ("patient-max-days-over-week", cell("patients.csv", 7, "max_days", "6"), ("patients.csv", 7, "max_days", "6"), "only 5 days"),
    ("patient-min-over-default-max", cells(cell("patients.csv", 3, "min_days", "6"), cell("patients.csv", 3, "max_days", "")),
     ("patients.csv", 3, "min_days", "6"), "the program's default"),
    ("patient-hours-not-a-number", cell("patients.csv", 3, "min_hours", "three"),
     ("patients.csv", 3, "min_hours", "three"), "not a number"),
    ("patient-hours-negative", cell("patients.csv", 6, "min_hours", "-1"),
     ("patients.csv", 6, "min_hours", "-1"), "negative"),
    ("patient-days-fraction", cell("patients.csv", 6, "min_days", "2.5"), ("patients.csv", 6, "min_days", "2.5"), "whole number"),
    # file-level problems
    ("missing-column", drop_column("staff.csv", "skills"), ("staff.csv", None, "skills", None), "required column is missing"),
    ("missing-file", delete("rooms.csv"), ("rooms.csv", None, None, None), "missing"),
    ("duplicate-header", rename_column("patients.csv", "status", "name"), ("patients.csv", 1, "name", "name"), "appears twice"),
    ("not-utf8", raw_bytes("staff.csv", lambda b: b.replace(b"Ben Okafor", "Zoë Okafor".encode("cp1252"))),
     ("staff.csv", 3, None, None), "not UTF-8"),
    ("ragged-row", raw_bytes("patients.csv", lambda b: b.replace(b"continuing\nP03", b"continuing,extra\nP03")),
     ("patients.csv", 3, None, None), "double quotes"),
    ("empty-file", raw_bytes("activities.csv", lambda b: b""), ("activities.csv", None, None, None), "empty"),
    ("short-row", raw_bytes("staff.csv", lambda b: b.replace(b"family,Mon-Fri 08:30-17:00; Thu 17:00-19:00,8,36",
                                                              b"family")),
     ("staff.csv", 3, "availability", None), "this row has 4 cells but the header has 7"),
    # previous_sessions.csv
    ("previous-unknown-activity", previous(activity_id="YOGA"),
     ("previous_sessions.csv", 2, "activity_id", "YOGA"), "no activity has id 'YOGA'"),
    ("previous-unknown-staff", previous(staff_ids="T1;T7"), ("previous_sessions.csv", 2, "staff_ids", "T1;T7"), "'T7'"),
    ("previous-unknown-room", previous(room_id="G9"), ("previous_sessions.csv", 2, "room_id", "G9"), "no room has id 'G9'"),
    ("previous-pinned-unknown-patient", previous(patient_ids="P01;P99", pinned="yes"),
     ("previous_sessions.csv", 2, "patient_ids", "P01;P99"), "P99"),
    ("previous-bad-start", previous(start="9am"), ("previous_sessions.csv", 2, "start", "9am"), "HH:MM"),
    ("previous-ends-first", previous(end="08:00"), ("previous_sessions.csv", 2, "end", "08:00"), "not after it starts"),
    ("previous-bad-day", previous(day="Mon-Fri"), ("previous_sessions.csv", 2, "day", "Mon-Fri"), "is not a day"),
    ("previous-date-mismatch", previous(date="2026-11-24"), ("previous_sessions.csv", 2, "date", "2026-11-24"), "is a Tue"),
    ("previous-pinned-value", previous(pinned="perhaps"), ("previous_sessions.csv", 2, "pinned", "perhaps"), "yes or no"),
]


def _read_errors(folder: Path) -> list[InputError]:
    with pytest.raises(ScenarioError) as caught:
        read_scenario(folder)
    assert caught.type is ScenarioError
    return caught.value.errors


def _where(error: InputError) -> tuple:
    return (error.file, error.row, error.column, error.value)


def _assert_named(error: InputError, expected: tuple) -> None:
    """str(error) mentions the file, row, column and value it carries."""
    file, row, column, value = expected
    text = str(error)
    assert file in text
    if row is not None:
        assert f"row {row}" in text
    if column is not None:
        assert f"column '{column}'" in text
    if value is not None:
        assert f"value '{value}'" in text


def test_there_are_many_distinct_cases():
    assert len({c[0] for c in CASES}) == len(CASES) >= 30


@pytest.mark.parametrize(("mutation", "expected", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_reported_exactly(tiny, mutation, expected, words):
    mutation(tiny)
    errors = _read_errors(tiny)
    matches = [e for e in errors if _where(e) == expected]
    assert matches, f"expected {expected}; got:\n" + "\n".join(str(e) for e in errors)
    assert any(words in e.message for e in matches), [e.message for e in matches]
    _assert_named(matches[0], expected)


def test_the_documented_example_message(tiny):
    cell("patients.csv", 7, "availability", "Mon 25:00-26:00")(tiny)
    assert [str(e) for e in _read_errors(tiny)] == [
        "patients.csv, row 7, column 'availability', value 'Mon 25:00-26:00': "
        "'25:00' is not a time of day; expected 00:00 to 24:00"
    ]


def test_every_error_in_every_file_is_reported_at_once(tiny):
    cell("patients.csv", 7, "availability", "Mon 25:00-26:00")(tiny)
    cell("patients.csv", 3, "requirements", "PROC=3; YOGA=1")(tiny)
    cell("activities.csv", 2, "mode", "grp")(tiny)
    cell("rooms.csv", 2, "capacity", "ten")(tiny)
    setting("week_start", "soon")(tiny)
    drop_column("staff.csv", "skills")(tiny)
    errors = _read_errors(tiny)
    found = {_where(e) for e in errors}
    assert {
        ("patients.csv", 7, "availability", "Mon 25:00-26:00"),
        ("patients.csv", 3, "requirements", "PROC=3; YOGA=1"),
        ("activities.csv", 2, "mode", "grp"),
        ("rooms.csv", 2, "capacity", "ten"),
        ("program.csv", 3, "value", "soon"),
        ("staff.csv", None, "skills", None),
    } <= found
    text = str(ScenarioError(errors))
    assert all(str(e) in text for e in errors)


def test_workbook_errors_name_the_workbook_and_sheet(tiny, tmp_path):
    cell("patients.csv", 4, "preferred_days", "Someday")(tiny)
    book = tmp_path / "clinic.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as writer:
        for name in ("program", "activities", "staff", "rooms", "patients"):
            frame = pd.read_csv(tiny / f"{name}.csv", dtype=str, keep_default_na=False)
            frame.to_excel(writer, sheet_name=name, index=False)
    errors = _read_errors(book)
    assert [_where(e) for e in errors] == [("clinic.xlsx [patients]", 4, "preferred_days", "Someday")]
    assert str(errors[0]).startswith("clinic.xlsx [patients], row 4,")


def test_workbook_missing_sheet(tiny, tmp_path):
    book = tmp_path / "clinic.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as writer:
        for name in ("program", "activities", "staff", "rooms"):
            pd.read_csv(tiny / f"{name}.csv", dtype=str, keep_default_na=False).to_excel(writer, sheet_name=name, index=False)
    assert [_where(e) for e in _read_errors(book)] == [("clinic.xlsx [patients]", None, None, None)]


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 not really a zip", b"\x00\xff" * 50])
def test_garbage_workbook_is_an_input_error(tmp_path, content):
    book = tmp_path / "clinic.xlsx"
    book.write_bytes(content)
    errors = _read_errors(book)
    assert [(e.file, e.row) for e in errors] == [("clinic.xlsx", None)]


def test_missing_folder_is_an_input_error(tmp_path):
    assert [e.file for e in _read_errors(tmp_path / "nowhere")] == ["nowhere"]


@pytest.mark.parametrize("junk", ['"', '""",,,\n"', "\x00\x01\x02", "a;b;c\n;;;\n" * 3, "\n\n\n", "id\n" + "x" * 5000])
def test_arbitrary_junk_never_escapes_as_another_exception(tiny, junk):
    for name in ("patients.csv", "program.csv"):
        (tiny / name).write_text(junk)
    errors = _read_errors(tiny)
    assert errors and all(isinstance(e, InputError) for e in errors)
    assert any(e.file == "program.csv" for e in errors)


def test_read_timetable_reports_every_bad_row(tmp_path):
    path = tmp_path / "sessions.csv"
    path.write_text(
        "day,start,end,activity_id,staff_ids,room_id,patient_ids\n"
        "Mon,09:00,10:00,PROC,T1,G1,P01\n"
        "Someday,09:00,10:00,PROC,T1,G1,P01\n"
        "Tue,09:00,25:00,PROC,T1,G1,P01\n"
    )
    with pytest.raises(ScenarioError) as caught:
        read_timetable(path, label="last week")
    assert [_where(e) for e in caught.value.errors] == [
        ("last week", 3, "day", "Someday"),
        ("last week", 4, "end", "25:00"),
    ]


def test_read_timetable_missing_columns(tmp_path):
    path = tmp_path / "sessions.csv"
    path.write_text("day,start,end\nMon,09:00,10:00\n")
    with pytest.raises(ScenarioError) as caught:
        read_timetable(path)
    assert {e.column for e in caught.value.errors} == {"activity_id", "staff_ids", "room_id", "patient_ids"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    file=st.sampled_from(["program.csv", "activities.csv", "staff.csv", "rooms.csv", "patients.csv"]),
    row=st.integers(min_value=1, max_value=5),
    column=st.integers(min_value=0, max_value=6),
    text=st.text(max_size=20),
)
def test_any_cell_text_reads_or_fails_cleanly(tiny, file, row, column, text):
    """Whatever a cell holds, reading either succeeds or raises ScenarioError: nothing else."""
    path = tiny / file
    original = path.read_bytes()
    rows = _load(path)
    rows[min(row, len(rows) - 1)][min(column, len(rows[0]) - 1)] = text
    _save(path, rows)
    try:
        read_scenario(tiny)
    except ScenarioError as exc:
        assert exc.errors and all(isinstance(e, InputError) for e in exc.errors)
    finally:
        path.write_bytes(original)


def test_an_unreadable_file_does_not_cascade(tiny):
    """Without activities.csv, requirements and previous sessions naming activities are not flagged."""
    delete("activities.csv")(tiny)
    previous()(tiny)
    assert [_where(e) for e in _read_errors(tiny)] == [("activities.csv", None, None, None)]


def test_a_bad_row_does_not_cascade(tiny):
    """A room with an unreadable capacity is not also reported as 'no room is big enough'."""
    cell("rooms.csv", 2, "capacity", "ten")(tiny)
    cell("staff.csv", 4, "id", "")(tiny)
    assert [_where(e) for e in _read_errors(tiny)] == [
        ("staff.csv", 4, "id", ""),
        ("rooms.csv", 2, "capacity", "ten"),
    ]


# --------------------------------------------------------------------------- outside audit (session 14)


def _workbook_with(tmp_path: Path, sheet: str, row: int, column: str, value: str, data_type: str = "e") -> Path:
    """The tiny scenario as a workbook, one cell set to ``value`` of openpyxl type ``data_type``."""
    book = write_scenario_xlsx(read_scenario(TINY).scenario, tmp_path / "clinic.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    if column not in header:
        header.append(column)
        ws.cell(row=1, column=len(header), value=column)
    target = ws.cell(row=row, column=header.index(column) + 1)
    target.value = value
    target.data_type = data_type
    wb.save(book)
    return book


SPREADSHEET_ERRORS = ["#DIV/0!", "#N/A", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#GETTING_DATA"]
SPREADSHEET_ERROR_CELLS = [("patients", 3, "requirements", code) for code in SPREADSHEET_ERRORS] + [
    ("patients", 4, "availability", "#N/A"),  # F5: read as empty, i.e. "whenever the program is open"
    ("rooms", 2, "capacity", "#REF!"),  # F6: reported as "the cell is empty"
    ("staff", 4, "id", "#VALUE!"),
    ("program", 3, "value", "#NAME?"),
]


@pytest.mark.parametrize(("sheet", "row", "column", "code"), SPREADSHEET_ERROR_CELLS)
def test_finding_spreadsheet_error_value_in_a_workbook_is_an_error(tmp_path, sheet, row, column, code):
    """F4-F6: a cell holding #DIV/0!, #N/A, ... (a formula's cached result) is refused, naming it; nothing else.

    pandas reads such a cell as empty: F4 lost a patient's requirements that way, F5 widened an
    availability to "any time", F6 reported a capacity as "the cell is empty".
    """
    errors = _read_errors(_workbook_with(tmp_path, sheet, row, column, code))
    assert [_where(e) for e in errors] == [(f"clinic.xlsx [{sheet}]", row, column, code)]
    assert f"holds the spreadsheet error {code}" in errors[0].message
    _assert_named(errors[0], _where(errors[0]))


def test_spreadsheet_error_in_an_ignored_column_is_ignored(tmp_path):
    result = read_scenario(_workbook_with(tmp_path, "staff", 3, "notes", "#N/A"))
    assert [(w.file, w.column) for w in result.warnings] == [("clinic.xlsx [staff]", "notes")]


def test_spreadsheet_error_in_a_header_cell_is_an_error(tmp_path):
    errors = _read_errors(_workbook_with(tmp_path, "rooms", 1, "capacity", "#REF!"))
    assert ("clinic.xlsx [rooms]", 1, None, "#REF!") in [_where(e) for e in errors]
    assert ("clinic.xlsx [rooms]", None, "capacity", None) in [_where(e) for e in errors]


def test_spreadsheet_error_in_a_timetable_workbook_is_an_error(tmp_path):
    path = tmp_path / "week.xlsx"
    pd.DataFrame([["Fri", "09:00", "10:00", "CBT", "T1", "G1", "P01;P02"]],
                 columns=["day", "start", "end", "activity_id", "staff_ids", "room_id", "patient_ids"]
                 ).to_excel(path, sheet_name="sessions", index=False)
    wb = openpyxl.load_workbook(path)
    wb["sessions"]["G2"] = "#N/A"
    wb.save(path)
    with pytest.raises(ScenarioError) as caught:
        read_timetable(path)
    assert [_where(e) for e in caught.value.errors] == [("week.xlsx [sessions]", 2, "patient_ids", "#N/A")]


def _zip_of_text(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "not a workbook")


@pytest.mark.parametrize(("make", "words"), [
    (lambda path: path.write_text("id,name\nP01,A.B.\n"), "is not an Excel workbook (.xlsx)"),
    (lambda path: path.write_bytes(path.read_bytes()[:4000]), "is not an Excel workbook (.xlsx)"),
    (lambda path: path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
     "Excel 97-2003 workbook (.xls)"),
    (_zip_of_text, "not a readable Excel workbook (.xlsx)"),
], ids=["csv-renamed", "cut-short", "xls-renamed", "other-zip"])
def test_finding_a_file_that_is_no_workbook_is_called_so(tmp_path, make, words):
    """F13: a file named .xlsx that is none is said to be none, in plain words (no pandas 'specify an engine')."""
    book = write_scenario_xlsx(read_scenario(TINY).scenario, tmp_path / "clinic.xlsx")
    make(book)
    errors = _read_errors(book)
    assert [(e.file, e.row, e.column) for e in errors] == [("clinic.xlsx", None, None)]
    assert words in errors[0].message
    assert "engine" not in errors[0].message and "BadZipFile" not in errors[0].message


def test_finding_short_row_is_an_error_and_its_missing_cells_are_not_reported_again(tiny):
    """F7: a CSV row with fewer cells than the header was read as if its last cells were empty.

    staff T2 written with 4 of 7 cells became available at all hours with no caps. Which cell was
    left out cannot be known, so the row is refused, once: its missing required cells are not
    also reported as empty.
    """
    raw_bytes("rooms.csv", lambda b: b.replace(b"G1,Group Room Oak,group,12,", b"G1,Group Room Oak,group"))(tiny)
    errors = _read_errors(tiny)
    assert [_where(e) for e in errors] == [("rooms.csv", 2, "capacity", None)]
    assert "this row has 3 cells but the header has 5, so capacity, availability have no cell" in errors[0].message


def test_blank_lines_and_rows_of_empty_cells_are_still_skipped(tiny):
    """A blank line, a line of spaces and a row of separators only are no short rows."""
    path = tiny / "staff.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:2] + ["", "   ", ",,", ",,,,,,"] + lines[2:]) + "\n")
    assert read_scenario(tiny).scenario == read_scenario(TINY).scenario


def test_finding_two_files_whose_names_differ_only_in_case_are_an_error(tiny):
    """F8: with patients.csv and PATIENTS.csv, one was read silently (4 of 6 patients vanished)."""
    (tiny / "PATIENTS.csv").write_bytes((tiny / "patients.csv").read_bytes())
    if len(list(tiny.iterdir())) == 5:
        pytest.skip("this file system does not tell file names apart by case")
    lines = (tiny / "patients.csv").read_text().splitlines()
    (tiny / "patients.csv").write_text("\n".join(lines[:3]) + "\n")
    errors = _read_errors(tiny)
    assert [_where(e) for e in errors] == [("patients.csv", None, None, None)]
    assert "'PATIENTS.csv' and 'patients.csv'" in errors[0].message


@pytest.mark.parametrize("name", ["patients.csv", "previous_sessions.csv"])
def test_finding_a_folder_named_like_a_file_is_called_a_folder(tiny, name):
    """F13: a folder named patients.csv was reported as a missing file (and previous_sessions.csv ignored)."""
    if (tiny / name).exists():
        (tiny / name).unlink()
    (tiny / name).mkdir()
    errors = _read_errors(tiny)
    assert [_where(e) for e in errors] == [(name, None, None, None)]
    assert f"'{name}' in folder 'tiny' is a folder, not a file" in errors[0].message


@pytest.mark.parametrize(("days", "week_start", "first"), [
    ("Mon-Fri", "2026-11-29", "Monday"),  # a Sunday (a US week) would date Mon-Fri from it
    ("Tue-Sat", "2026-11-30", "Tuesday"),
    ("Mon-Thu,Sun", "2026-11-30", "Sunday"),  # the week runs Sun-Thu
])
def test_finding_week_start_on_another_weekday_than_the_first_day_is_an_error(tiny, days, week_start, first):
    """F9: week_start 2026-12-02 (a Wednesday) with days Mon-Fri dated the exports Wed-Fri, then Mon-Tue 12-07/08."""
    setting("days", days)(tiny)
    setting("week_start", week_start)(tiny)
    errors = _read_errors(tiny)
    assert [_where(e) for e in errors] == [("program.csv", 3, "value", week_start)]
    assert f"the program's week starts on {first}" in errors[0].message


@pytest.mark.parametrize(("days", "week_start"), [
    ("Mon-Fri", "2026-11-30"), ("Tue-Sat", "2026-12-01"), ("Mon-Thu,Sun", "2026-11-29"), ("Mon-Sun", "2026-12-02"),
])
def test_week_start_on_the_first_day_is_read(tiny, days, week_start):
    setting("days", days)(tiny)
    setting("week_start", week_start)(tiny)
    program = read_scenario(tiny).scenario.program
    assert program.week_start.isoformat() == week_start
    assert sorted(program.date_of(d) for d in program.days)[0].isoformat() == week_start


# --------------------------------------------------------------------------- outside check (outside17)

# An activity that this week's staff and rooms cannot deliver is a fact about the clinic, not bad input:
# the scenario reads, with a warning on the cell, and the solve reports it (rule H5/H7; a strict solve
# answers "no timetable" with the reason, best effort waitlists the patients who need it). These used to
# be errors, and `solve --best-effort` exited 1 on a clinic where one patient needed a group whose skill
# no staff member held.
UNDELIVERABLE = [
    ("skill-nobody-holds", cell("activities.csv", 3, "skill", "art"), ("activities.csv", 3, "skill", "art"),
     "no staff member holds skill 'art', but P01, P02, P03, P04, P05 and 1 more need CBT"),
    ("too-few-staff-with-skill", cell("activities.csv", 3, "staff_count", "2"),
     ("activities.csv", 3, "staff_count", "2"), "only 1 (T1) hold it"),
    ("no-room-of-kind", cells(*(cell("rooms.csv", r, "kind", "group") for r in (3, 4, 5))),
     ("activities.csv", 5, "room_kind", "office"), "no room is of kind 'office'"),
    ("group-bigger-than-rooms", cells(cell("activities.csv", 2, "min_size", "13"), cell("activities.csv", 2, "max_size", "14")),
     ("activities.csv", 2, "min_size", "13"), "seats only 12"),
    ("primary-lacks-skill", cell("patients.csv", 4, "primary_therapist", "DR"),
     ("patients.csv", 4, "primary_therapist", "DR"), "DR does not hold skill 'therapy' needed for IND"),
]


@pytest.mark.parametrize(("mutation", "expected", "words"), [c[1:] for c in UNDELIVERABLE],
                         ids=[c[0] for c in UNDELIVERABLE])
def test_undeliverable_activity_is_a_warning_not_bad_input(tiny, mutation, expected, words):
    mutation(tiny)
    result = read_scenario(tiny)  # no ScenarioError
    matches = [w for w in result.warnings if _where(w) == expected]
    assert matches, [str(w) for w in result.warnings]
    assert any(words in w.message for w in matches), [w.message for w in matches]
    assert "no timetable can give it to" in matches[0].message
    _assert_named(matches[0], expected)


def test_a_group_no_one_can_lead_needed_by_one_patient_reads_with_a_warning(tmp_path):
    """The outside check's clinic: RP's skill 'sud' is held by no one, and only P02 needs RP."""
    folder = write_rp_nobody_leads(tmp_path / "rp")
    result = read_scenario(folder)
    assert [(_where(w), w.message) for w in result.warnings] == [(
        ("activities.csv", 8, "skill", "sud"),
        "no staff member holds skill 'sud', but P02 needs RP: no timetable can give it to them (solve reports no "
        "timetable with the reason; best effort waitlists them)",
    )]
    assert "RP" in result.scenario.activity_by_id


def test_references_to_what_does_not_exist_stay_input_errors(tiny):
    """What stays bad input beside the warnings above: a requirement naming no activity, a primary therapist
    who is not on the staff list (or none named for a with-primary activity), a skill misspelt in case."""
    cell("patients.csv", 3, "requirements", "PROC=3; YOGA=1")(tiny)
    cell("patients.csv", 5, "primary_therapist", "T9")(tiny)
    cell("patients.csv", 6, "primary_therapist", "")(tiny)
    cell("activities.csv", 3, "skill", "CBT")(tiny)
    assert {_where(e) for e in _read_errors(tiny)} == {
        ("patients.csv", 3, "requirements", "PROC=3; YOGA=1"),
        ("patients.csv", 5, "primary_therapist", "T9"),
        ("patients.csv", 6, "primary_therapist", ""),
        ("activities.csv", 3, "skill", "CBT"),
    }

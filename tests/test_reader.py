"""Reading scenarios: the tiny example, its variants (xlsx, European CSV), defaults, warnings, round trips."""

from __future__ import annotations

import csv
import datetime
import shutil
from dataclasses import replace
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from scheduler.io import ScenarioError, read_scenario, read_timetable, write_scenario, write_scenario_xlsx
from scheduler.model import (
    Availability,
    Cohort,
    HoursBasis,
    Mode,
    Requirement,
    RoomKind,
    Session,
    Timetable,
    Weights,
    Window,
)

TINY = Path(__file__).parent / "data" / "tiny"
FILES = ("program", "activities", "staff", "rooms", "patients")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A writable copy of the tiny scenario."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    for path in folder.iterdir():
        path.chmod(0o644)
    return folder


@pytest.fixture(scope="module")
def scenario():
    return read_scenario(TINY).scenario


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


# --------------------------------------------------------------------------- the tiny example


def test_tiny_counts(scenario):
    assert [a.id for a in scenario.activities] == ["PROC", "CBT", "PSYED", "IND", "MED", "FAM"]
    assert [s.id for s in scenario.staff] == ["T1", "T2", "DR"]
    assert [r.id for r in scenario.rooms] == ["G1", "O1", "O2", "O3"]
    assert [p.id for p in scenario.patients] == ["P01", "P02", "P03", "P04", "P05", "P06"]
    assert scenario.previous is None


def test_tiny_has_no_warnings():
    assert read_scenario(TINY).warnings == ()


def test_tiny_program(scenario):
    p = scenario.program
    assert p.name == "Tiny Morning IOP"
    assert p.week_start == datetime.date(2026, 11, 30)
    assert p.days == (0, 1, 2, 3, 4)
    assert (p.open, p.close, p.slot_minutes, p.max_gap_minutes) == (8 * 60, 20 * 60, 15, 15)
    assert (p.min_days, p.max_days, p.min_hours, p.max_hours) == (3, 5, 3.0, 5.0)
    # keys the file leaves out take the model's defaults
    assert (p.min_week_hours, p.max_week_hours, p.hours_basis) == (9.0, 19.0, HoursBasis.CONTACT)
    assert p.weights == Weights()


def test_tiny_patient_p03(scenario):
    p03 = scenario.patient_by_id["P03"]
    assert p03.name == "C.L."
    assert p03.cohort is Cohort.ADULT
    assert p03.requirements == (
        Requirement("PROC", 3, 3),
        Requirement("CBT", 2, 3),
        Requirement("IND", 1, 1),
        Requirement("MED", 1, 1),
        Requirement("FAM", 1, 1),
    )
    assert p03.family_availability == Availability((Window(3, 17 * 60, 19 * 60),))
    assert p03.availability.windows == tuple(Window(d, 9 * 60, 13 * 60) for d in range(5))
    assert p03.preferred_days == (1, 3)
    assert p03.primary_therapist == "T2"
    assert p03.status == "new"
    assert (p03.min_days, p03.max_days, p03.min_hours, p03.max_hours) == (3, 4, 3.0, 4.0)
    assert p03.min_week_hours is None and p03.max_week_hours is None


def test_tiny_activities_staff_rooms(scenario):
    fam = scenario.activity_by_id["FAM"]
    assert (fam.mode, fam.with_primary, fam.in_block, fam.room_kind) == (Mode.FAMILY, True, False, RoomKind.OFFICE)
    proc = scenario.activity_by_id["PROC"]
    assert (proc.min_size, proc.max_size, proc.cohort, proc.tag, proc.staff_count) == (3, 10, Cohort.ADULT, None, 1)
    t1 = scenario.staff_by_id["T1"]
    assert t1.skills == frozenset({"process", "cbt", "therapy", "family"})
    # Tue 08:30-17:00 and Tue 17:00-19:00 touch, so they merge into one window
    assert t1.availability.on_day(1) == (Window(1, 8 * 60 + 30, 19 * 60),)
    assert (t1.max_hours_day, t1.max_hours_week) == (8.0, 36.0)
    assert scenario.staff_by_id["DR"].availability.on_day(1) == ()
    assert scenario.room_by_id["G1"].capacity == 12
    assert scenario.room_by_id["O3"].availability.unrestricted
    assert scenario.patient_by_id["P02"].tags == frozenset({"SUD"})


# --------------------------------------------------------------------------- other spellings of the same scenario


def test_xlsx_written_by_us_reads_equal(scenario, tmp_path):
    book = write_scenario_xlsx(scenario, tmp_path / "clinic.xlsx")
    assert read_scenario(book).scenario == scenario


def test_xlsx_built_with_pandas_reads_equal(scenario, tmp_path):
    book = tmp_path / "clinic.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as writer:
        for name in FILES:
            frame = pd.read_csv(TINY / f"{name}.csv", dtype=str, keep_default_na=False)
            frame.to_excel(writer, sheet_name=f"{name}.csv", index=False)
    result = read_scenario(book)
    assert result.scenario == scenario
    assert result.warnings == ()


def test_xlsx_typed_cells_read_like_text(scenario, tmp_path):
    """Excel turns 08:00 into a time, 2026-11-30 into a date and 3 into a number: all accepted."""
    book = write_scenario_xlsx(scenario, tmp_path / "clinic.xlsx")
    wb = openpyxl.load_workbook(book)
    sheet = wb["program"]
    for row in sheet.iter_rows(min_row=2):
        key, cell = row[0].value, row[1]
        if key in ("open", "close"):
            hh, mm = map(int, cell.value.split(":"))
            cell.value = datetime.time(hh, mm)
        elif key == "week_start":
            cell.value = datetime.datetime(2026, 11, 30)
        elif key == "slot_minutes":
            cell.value = 15.0
    wb.save(book)
    assert read_scenario(book).scenario == scenario


def test_european_csv_variant_reads_equal(scenario, tiny):
    """Semicolons, a byte-order mark, CRLF, padded and upper-case headers, blank lines."""
    for name in FILES:
        path = tiny / f"{name}.csv"
        rows = _rows(path)
        rows[0] = [f"  {h.upper()} " for h in rows[0]]
        rows = [rows[0], [""] * len(rows[0])] + [[f" {c} " for c in r] for r in rows[1:]]
        with path.open("w", newline="", encoding="utf-8-sig") as fh:
            csv.writer(fh, delimiter=";", lineterminator="\r\n").writerows(rows)
        fh_bytes = path.read_bytes()
        assert fh_bytes.startswith(b"\xef\xbb\xbf") and b"\r\n" in fh_bytes
    result = read_scenario(tiny)
    assert result.scenario == scenario
    assert result.warnings == ()


def test_excel_sep_line_is_honoured(scenario, tiny):
    path = tiny / "rooms.csv"
    rows = _rows(path)
    path.write_text("sep=|\n" + "".join("|".join(r) + "\n" for r in rows))
    assert read_scenario(tiny).scenario == scenario


def test_blank_lines_do_not_shift_row_numbers(tiny):
    path = tiny / "patients.csv"
    lines = path.read_text().splitlines()
    lines.insert(1, "")
    lines[3] = lines[3].replace("PROC=3; CBT=3; IND=1; MED=1", "PROC=x")  # P02, now on row 4
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ScenarioError) as caught:
        read_scenario(tiny)
    assert [(e.file, e.row, e.column) for e in caught.value.errors] == [("patients.csv", 4, "requirements")]


def test_decimal_comma_and_case_insensitive_values(tiny):
    rows = _rows(tiny / "patients.csv")
    rows[1][6] = "3,5"  # P01 min_hours
    rows[1][2] = "Adult"
    _write_rows(tiny / "patients.csv", rows)
    p01 = read_scenario(tiny).scenario.patient_by_id["P01"]
    assert p01.min_hours == 3.5
    assert p01.cohort is Cohort.ADULT


def test_days_separated_by_spaces_are_all_read(tiny):
    """"Mon Wed 09:00-12:00" and "Mon Wed Fri" name every day (they were read as Monday alone)."""
    rows = _rows(tiny / "patients.csv")
    rows[1][8] = "Mon Wed 09:00-12:00; Fri 10:00-13:00"  # P01 availability
    rows[1][12] = "Mon Wed Fri"  # P01 preferred_days
    _write_rows(tiny / "patients.csv", rows)
    p01 = read_scenario(tiny).scenario.patient_by_id["P01"]
    assert [(w.day, w.start, w.end) for w in p01.availability.windows] == [(0, 540, 720), (2, 540, 720), (4, 600, 780)]
    assert p01.preferred_days == (0, 2, 4)


def _program_days(tiny: Path, days: str, week_start: str) -> None:
    rows = [r for r in _rows(tiny / "program.csv") if r[0] not in ("days", "week_start")]
    _write_rows(tiny / "program.csv", rows + [["days", days], ["week_start", week_start]])


def test_a_week_from_sunday_may_be_written_sun_thu(tiny):
    """A range from the weekend runs on into the week; the week's order starts on week_start's weekday."""
    _program_days(tiny, "Sun-Thu", "2026-11-29")
    rows = _rows(tiny / "patients.csv")
    rows[1][8] = "Sun-Tue 09:00-12:00"  # P01 availability
    _write_rows(tiny / "patients.csv", rows)
    sc = read_scenario(tiny).scenario
    assert sc.program.days == (0, 1, 2, 3, 6)
    assert sc.program.week_days == (6, 0, 1, 2, 3)
    assert {w.day for w in sc.patient_by_id["P01"].availability.windows} == {6, 0, 1}


def test_a_weekday_range_written_backwards_is_still_an_error(tiny):
    _program_days(tiny, "Wed-Mon", "2026-12-02")
    with pytest.raises(ScenarioError) as err:
        read_scenario(tiny)
    text = str(err.value)
    assert "program.csv" in text and "Wed-Mon" in text and "backwards" in text


def test_a_day_with_trailing_characters_is_an_error_naming_it(tiny):
    rows = _rows(tiny / "patients.csv")
    rows[1][12] = "Mon Wed Fri2"
    _write_rows(tiny / "patients.csv", rows)
    with pytest.raises(ScenarioError) as err:
        read_scenario(tiny)
    text = str(err.value)
    assert "patients.csv" in text and "preferred_days" in text and "Fri2" in text


# --------------------------------------------------------------------------- defaults and warnings


def test_optional_columns_take_defaults(tiny):
    rows = _rows(tiny / "activities.csv")
    keep = ["id", "mode", "duration_min", "skill", "max_size"]
    idx = [rows[0].index(c) for c in keep]
    _write_rows(tiny / "activities.csv", [[r[i] for i in idx] for r in rows])
    result = read_scenario(tiny)
    proc = result.scenario.activity_by_id["PROC"]
    assert (proc.name, proc.min_size, proc.staff_count, proc.room_kind, proc.cohort) == ("", 1, 1, RoomKind.GROUP, Cohort.ANY)
    assert (proc.tag, proc.with_primary, proc.in_block) == (None, False, True)
    assert result.scenario.activity_by_id["IND"].room_kind is RoomKind.OFFICE


def test_empty_program_file_takes_every_default(tiny):
    (tiny / "program.csv").write_text("key,value\n")
    program = read_scenario(tiny).scenario.program
    assert (program.open, program.close, program.days, program.week_start) == (480, 1260, (0, 1, 2, 3, 4), None)


def test_unknown_column_is_a_warning(tiny, scenario):
    rows = _rows(tiny / "staff.csv")
    _write_rows(tiny / "staff.csv", [r + [v] for r, v in zip(rows, ["colour", "red", "blue", "green"])])
    result = read_scenario(tiny)
    assert result.scenario == scenario
    assert [(w.file, w.row, w.column) for w in result.warnings] == [("staff.csv", 1, "colour")]
    assert "unknown column" in str(result.warnings[0])


def test_unknown_program_key_is_a_warning(tiny):
    with (tiny / "program.csv").open("a") as fh:
        fh.write("colour,teal\n")
    result = read_scenario(tiny)
    assert [(w.file, w.row, w.column, w.value) for w in result.warnings] == [("program.csv", 13, "key", "colour")]


def test_window_on_a_closed_day_is_a_warning_and_ignored(tiny):
    rows = _rows(tiny / "staff.csv")
    rows[3][4] = "Mon,Wed,Fri 12:00-13:00; Sat 09:00-12:00"
    _write_rows(tiny / "staff.csv", rows)
    result = read_scenario(tiny)
    assert result.scenario.staff_by_id["DR"].availability.on_day(5) == ()
    assert [(w.file, w.row, w.column) for w in result.warnings] == [("staff.csv", 4, "availability")]
    assert "Sat" in result.warnings[0].message


def test_preferred_day_on_a_closed_day_is_a_warning(tiny):
    rows = _rows(tiny / "patients.csv")
    rows[1][12] = "Mon,Sat"
    _write_rows(tiny / "patients.csv", rows)
    result = read_scenario(tiny)
    assert result.scenario.patient_by_id["P01"].preferred_days == (0,)
    assert [(w.row, w.column) for w in result.warnings] == [(2, "preferred_days")]


def test_activity_nobody_needs_or_can_deliver_is_a_warning(tiny):
    """A catalogue may list groups not staffed this week; only a needed one is an error."""
    rows = _rows(tiny / "activities.csv")
    rows[3][rows[0].index("skill")] = "art"  # PSYED: no patient requires it
    _write_rows(tiny / "activities.csv", rows)
    result = read_scenario(tiny)
    assert result.scenario.activity_by_id["PSYED"].skill == "art"
    assert [(w.file, w.row, w.column, w.value) for w in result.warnings] == [("activities.csv", 4, "skill", "art")]
    assert "PSYED cannot be scheduled" in result.warnings[0].message


# --------------------------------------------------------------------------- previous sessions


PREVIOUS_HEADER = "session_id,day,date,start,end,activity_id,activity_name,staff_ids,room_id,patient_ids,pinned\n"


def test_previous_sessions_are_read(tiny):
    (tiny / "previous_sessions.csv").write_text(
        PREVIOUS_HEADER
        + "S001,Mon,2026-11-23,09:00,10:00,PROC,Process group,T1,G1,P01;P02;P04,no\n"
        + "S002,Thu,,17:00,18:00,FAM,,T2,O1,P03,yes\n"
    )
    previous = read_scenario(tiny).scenario.previous
    assert previous == Timetable((
        Session(0, 540, 600, "PROC", ("T1",), "G1", ("P01", "P02", "P04"), False, "S001"),
        Session(3, 1020, 1080, "FAM", ("T2",), "O1", ("P03",), True, "S002"),
    ))


def test_previous_unpinned_unknown_patient_is_dropped_with_a_warning(tiny):
    (tiny / "previous_sessions.csv").write_text(PREVIOUS_HEADER + "S001,Mon,,09:00,10:00,PROC,,T1,G1,P01;P77,no\n")
    result = read_scenario(tiny)
    assert result.scenario.previous.sessions[0].patient_ids == ("P01",)
    assert [(w.file, w.row, w.column, w.value) for w in result.warnings] == [
        ("previous_sessions.csv", 2, "patient_ids", "P01;P77")
    ]


def test_read_timetable_alone_needs_only_the_required_columns(tmp_path):
    path = tmp_path / "sessions.csv"
    path.write_text("day,start,end,activity_id,staff_ids,room_id,patient_ids\nWed,13:00,13:15,MED,DR,,P05\n")
    assert read_timetable(path) == Timetable((Session(2, 780, 795, "MED", ("DR",), None, ("P05",)),))


def test_read_timetable_from_a_workbook(tmp_path):
    path = tmp_path / "week.xlsx"
    pd.DataFrame([["Fri", "09:00", "10:00", "CBT", "T1", "G1", "P01;P02", "yes"]],
                 columns=["day", "start", "end", "activity_id", "staff_ids", "room_id", "patient_ids", "pinned"]
                 ).to_excel(path, sheet_name="sessions", index=False)
    assert read_timetable(path) == Timetable((Session(4, 540, 600, "CBT", ("T1",), "G1", ("P01", "P02"), True),))


# --------------------------------------------------------------------------- round trips


@pytest.fixture
def rich(scenario):
    """The tiny scenario with every optional field exercised, and a previous week."""
    program = replace(scenario.program, week_start=None, hours_basis=HoursBasis.SPAN, min_week_hours=6.5,
                      weights=Weights(preferences=2.5, continuity=0, stability=1.25))
    patients = list(scenario.patients)
    patients[0] = replace(patients[0], tags=frozenset({"SUD", "TRAUMA"}), min_week_hours=7.5, max_week_hours=12,
                          requirements=(Requirement("PROC", 2, 3), Requirement("CBT", 0, 1)))
    activities = list(scenario.activities)
    activities[0] = replace(activities[0], staff_count=2)
    activities[2] = replace(activities[2], tag="SUD", in_block=False)
    staff = list(scenario.staff)
    staff[2] = replace(staff[2], max_hours_day=None, max_hours_week=2.75)
    previous = Timetable((
        Session(0, 540, 600, "PROC", ("T1",), "G1", ("P01", "P02", "P04"), False, "S001"),
        Session(3, 1020, 1080, "FAM", ("T2",), "O1", ("P03",), True, ""),
    ))
    return replace(scenario, program=program, patients=tuple(patients), activities=tuple(activities),
                   staff=tuple(staff), previous=previous)


def test_round_trip_csv(scenario, rich, tmp_path):
    for original in (scenario, rich):
        folder = tmp_path / f"csv{id(original)}"
        write_scenario(original, folder)
        assert read_scenario(folder).scenario == original


def test_round_trip_xlsx(scenario, rich, tmp_path):
    for original in (scenario, rich):
        book = write_scenario_xlsx(original, tmp_path / f"clinic{id(original)}.xlsx")
        assert read_scenario(book).scenario == original


def test_round_trip_csv_then_xlsx_then_csv(rich, tmp_path):
    write_scenario(rich, tmp_path / "a")
    write_scenario_xlsx(read_scenario(tmp_path / "a").scenario, tmp_path / "b.xlsx")
    write_scenario(read_scenario(tmp_path / "b.xlsx").scenario, tmp_path / "c")
    for name in FILES + ("previous_sessions",):
        assert (tmp_path / "a" / f"{name}.csv").read_bytes() == (tmp_path / "c" / f"{name}.csv").read_bytes()

"""Timetable exports: files, exact columns, read-back, de-identification, permissions, atomic writes."""

from __future__ import annotations

import csv
import datetime
import errno
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from scheduler.io import read_scenario, read_timetable, write_scenario, write_timetable
from scheduler.io.writer import atomic_write, write_outcome
from scheduler.model import Mode, Session, Timetable

TINY = Path(__file__).parent / "data" / "tiny"
POSIX = os.name == "posix"

SESSIONS_HEADER = [
    "session_id", "day", "date", "start", "end", "activity_id", "activity_name",
    "staff_ids", "room_id", "patient_ids", "pinned",
]
HEADERS = {
    "sessions.csv": SESSIONS_HEADER,
    "patient_schedule.csv": ["patient_id", "patient_name", "session_id", "day", "date", "start", "end",
                             "activity_id", "activity_name", "staff_ids", "staff_names", "room_id"],
    "staff_schedule.csv": ["staff_id", "staff_name", "session_id", "day", "date", "start", "end",
                           "activity_id", "activity_name", "room_id", "patient_count", "patient_ids"],
    "room_schedule.csv": ["room_id", "room_name", "session_id", "day", "date", "start", "end",
                          "activity_id", "activity_name", "staff_ids", "patient_count"],
}
NAMES = {"P01": "Alice Martin", "P02": "Bruno Keller", "P03": "Chloe Lambert",
         "P04": "Dmitri Novak", "P05": "Elena Ortiz", "P06": "Farid Rahimi"}


@pytest.fixture(scope="module")
def scenario():
    """The tiny scenario with full patient names (so a leaked name is easy to spot)."""
    tiny = read_scenario(TINY).scenario
    return replace(tiny, patients=tuple(replace(p, name=NAMES[p.id]) for p in tiny.patients))


@pytest.fixture(scope="module")
def timetable():
    """A hand-made timetable, deliberately not in time order."""
    return Timetable((
        Session(3, 17 * 60, 18 * 60, "FAM", ("T2",), "O1", ("P03",), pinned=True),
        Session(0, 9 * 60, 10 * 60, "PROC", ("T1",), "G1", ("P01", "P02", "P04")),
        Session(0, 10 * 60, 11 * 60, "IND", ("T1",), "O1", ("P01",)),
        Session(0, 12 * 60, 12 * 60 + 15, "MED", ("DR",), "O3", ("P02",)),
        Session(1, 9 * 60, 10 * 60, "CBT", ("T1",), None, ("P05", "P06", "P03")),
    ))


@dataclass
class Left:
    patient_id: str
    reason: str


def _table(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _by_column(path: Path) -> list[dict[str, str]]:
    rows = _table(path)
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def _strip_ids(timetable: Timetable) -> list[Session]:
    return sorted(replace(s, session_id="") for s in timetable.sessions)


# --------------------------------------------------------------------------- files and columns


def test_writes_every_file(tmp_path, scenario, timetable):
    paths = write_timetable(tmp_path / "out", scenario, timetable, {"status": "optimal"}, waitlist=[("P06", "no room")])
    names = [p.name for p in paths]
    assert names == ["sessions.csv", "patient_schedule.csv", "staff_schedule.csv", "room_schedule.csv",
                     "summary.json", "waitlist.csv"]
    assert all(p.is_file() and p.parent == tmp_path / "out" for p in paths)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(names)  # no temp files left


def test_columns_are_exactly_the_spec(tmp_path, scenario, timetable):
    write_timetable(tmp_path, scenario, timetable, waitlist=[])
    for name, header in HEADERS.items():
        assert _table(tmp_path / name)[0] == header, name
    assert _table(tmp_path / "waitlist.csv") == [["patient_id", "reason"]]


def test_files_are_plain_utf8_with_unix_line_endings(tmp_path, scenario, timetable):
    for path in write_timetable(tmp_path, scenario, timetable):
        data = path.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        assert b"\r" not in data
        data.decode("utf-8")


def test_sessions_csv_values(tmp_path, scenario, timetable):
    write_timetable(tmp_path, scenario, timetable)
    rows = _by_column(tmp_path / "sessions.csv")
    assert [r["session_id"] for r in rows] == ["S001", "S002", "S003", "S004", "S005"]
    assert [(r["day"], r["start"], r["activity_id"]) for r in rows] == [
        ("Mon", "09:00", "PROC"), ("Mon", "10:00", "IND"), ("Mon", "12:00", "MED"), ("Tue", "09:00", "CBT"),
        ("Thu", "17:00", "FAM"),
    ]
    assert rows[0] == {
        "session_id": "S001", "day": "Mon", "date": "2026-11-30", "start": "09:00", "end": "10:00",
        "activity_id": "PROC", "activity_name": "Process group", "staff_ids": "T1", "room_id": "G1",
        "patient_ids": "P01;P02;P04", "pinned": "no",
    }
    assert (rows[2]["end"], rows[3]["room_id"], rows[3]["date"]) == ("12:15", "", "2026-12-01")
    assert (rows[4]["pinned"], rows[4]["date"]) == ("yes", "2026-12-03")


def test_dates_are_empty_without_week_start(tmp_path, scenario, timetable):
    undated = replace(scenario, program=replace(scenario.program, week_start=None))
    write_timetable(tmp_path, undated, timetable)
    for name in HEADERS:
        assert {r["date"] for r in _by_column(tmp_path / name)} == {""}


def test_a_week_from_sunday_lists_and_numbers_sunday_first(tmp_path, scenario, timetable):
    """The week's order is week_start's (found by an outside check: Sunday's sessions came after Thursday's)."""
    program = replace(scenario.program, week_start=datetime.date(2026, 11, 29), days=(6, 0, 1, 2, 3))
    sunday = Session(6, 9 * 60, 10 * 60, "PROC", ("T1",), "G1", ("P03", "P05", "P06"))
    write_timetable(tmp_path, replace(scenario, program=program), Timetable(timetable.sessions + (sunday,)))
    rows = _by_column(tmp_path / "sessions.csv")
    assert [(r["session_id"], r["day"], r["date"]) for r in rows[:2]] == [
        ("S001", "Sun", "2026-11-29"), ("S002", "Mon", "2026-11-30")]
    schedule = _by_column(tmp_path / "patient_schedule.csv")
    assert [r["day"] for r in schedule if r["patient_id"] == "P03"] == ["Sun", "Tue", "Thu"]


def test_sessions_csv_reads_back_equal(tmp_path, scenario, timetable):
    write_timetable(tmp_path, scenario, timetable)
    back = read_timetable(tmp_path / "sessions.csv", scenario)
    assert _strip_ids(back) == _strip_ids(timetable)
    assert back == timetable.numbered()


def test_person_and_room_schedules(tmp_path, scenario, timetable):
    write_timetable(tmp_path, scenario, timetable)
    patients = _by_column(tmp_path / "patient_schedule.csv")
    assert len(patients) == sum(len(s.patient_ids) for s in timetable.sessions)
    p01 = [r for r in patients if r["patient_id"] == "P01"]
    assert [(r["activity_id"], r["staff_names"], r["patient_name"]) for r in p01] == [
        ("PROC", "Ana Brooks", "Alice Martin"), ("IND", "Ana Brooks", "Alice Martin"),
    ]
    assert [r["patient_id"] for r in patients] == sorted(r["patient_id"] for r in patients)
    staff = _by_column(tmp_path / "staff_schedule.csv")
    assert [(r["staff_id"], r["activity_id"], r["patient_count"]) for r in staff] == [
        ("T1", "PROC", "3"), ("T1", "IND", "1"), ("T1", "CBT", "3"), ("T2", "FAM", "1"), ("DR", "MED", "1"),
    ]
    assert staff[0]["staff_name"] == "Ana Brooks" and staff[0]["patient_ids"] == "P01;P02;P04"
    rooms = _by_column(tmp_path / "room_schedule.csv")
    assert [(r["room_id"], r["activity_id"], r["patient_count"]) for r in rooms] == [
        ("G1", "PROC", "3"), ("O1", "IND", "1"), ("O1", "FAM", "1"), ("O3", "MED", "1"),
    ]
    assert rooms[0]["room_name"] == "Group Room Oak"


# --------------------------------------------------------------------------- summary and waitlist


def test_summary_is_written_as_given(tmp_path, scenario, timetable):
    summary = {"status": "optimal", "objective": 12.5, "bound": 12.5, "gap": 0.0, "seconds": 1.25,
               "terms": [{"name": "preferences", "weight": 3.0, "value": 2}]}
    write_timetable(tmp_path, scenario, timetable, summary)
    text = (tmp_path / "summary.json").read_text()
    assert json.loads(text) == summary
    assert "\n  " in text  # pretty-printed


def test_summary_is_strict_json(tmp_path, scenario, timetable):
    """Enums, dates and sets are spelled out; NaN and infinity (not JSON) become null."""
    summary = {"status": "feasible", "gap": float("nan"), "bound": float("-inf"), "mode": Mode.GROUP,
               "week": datetime.date(2026, 11, 30), "ids": {"P02", "P01"}, "terms": [{"value": float("inf")}]}
    write_timetable(tmp_path, scenario, timetable, summary)
    assert json.loads((tmp_path / "summary.json").read_text()) == {
        "status": "feasible", "gap": None, "bound": None, "mode": "group", "week": "2026-11-30",
        "ids": ["P01", "P02"], "terms": [{"value": None}],
    }


def test_minimal_summary_when_none_given(tmp_path, scenario, timetable):
    write_timetable(tmp_path, scenario, timetable)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "unknown"
    assert {"objective", "bound", "gap", "seconds", "terms"} <= summary.keys()


def test_waitlist_from_objects_or_pairs(tmp_path, scenario, timetable):
    write_timetable(tmp_path, scenario, timetable, waitlist=[Left("P04", "no MED slot"), ("P06", "max days")])
    assert _table(tmp_path / "waitlist.csv") == [["patient_id", "reason"], ["P04", "no MED slot"], ["P06", "max days"]]


def test_no_waitlist_file_unless_asked(tmp_path, scenario, timetable):
    write_timetable(tmp_path, scenario, timetable)
    assert not (tmp_path / "waitlist.csv").exists()


# --------------------------------------------------------------------------- de-identification


def _write_with_names_everywhere(folder: Path, scenario, timetable, deidentify: bool) -> list[Path]:
    summary = {"status": "infeasible", "explanations": [f"{NAMES['P03']} needs FAM on Thu", "Ana Brooks is busy"],
               NAMES["P05"]: {"note": f"ask {NAMES['P05']}"}}
    waitlist = [("P06", f"{NAMES['P06']} cannot attend 3 days")]
    return write_timetable(folder, scenario, timetable, summary, deidentify=deidentify, waitlist=waitlist)


def test_deidentified_export_contains_no_patient_name(tmp_path, scenario, timetable):
    paths = _write_with_names_everywhere(tmp_path, scenario, timetable, deidentify=True)
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for name in NAMES.values():
            assert name not in text, f"{name} leaked into {path.name}"
    rows = _by_column(tmp_path / "patient_schedule.csv")
    assert all(r["patient_name"] == r["patient_id"] for r in rows)
    assert "P03 needs FAM on Thu" in (tmp_path / "summary.json").read_text()
    assert "Ana Brooks" in (tmp_path / "staff_schedule.csv").read_text()  # staff are not patients


def test_identified_export_does_name_patients(tmp_path, scenario, timetable):
    """The control for the test above: the names really are there without de-identification."""
    paths = _write_with_names_everywhere(tmp_path, scenario, timetable, deidentify=False)
    text = "".join(p.read_text(encoding="utf-8") for p in paths)
    assert all(name in text for name in NAMES.values())


def test_deidentified_scenario_has_ids_for_names_and_reads_back(tmp_path, scenario, timetable):
    """Each patient's name becomes the id (a one-letter name too, which the scrubber skips), last
    week's sessions included; read back, it differs from the scenario in the names alone."""
    short = replace(scenario, patients=(replace(scenario.patients[0], name="Q"), *scenario.patients[1:]))
    paths = write_scenario(short.with_previous(timetable), tmp_path, deidentify=True)
    assert "previous_sessions.csv" in [p.name for p in paths]
    text = "".join(p.read_text(encoding="utf-8") for p in paths)
    assert [name for name in NAMES.values() if name in text] == []
    assert [r["name"] for r in _by_column(tmp_path / "patients.csv")] == [p.id for p in scenario.patients]
    expected = replace(scenario, patients=tuple(replace(p, name=p.id) for p in scenario.patients))
    assert read_scenario(tmp_path).scenario == expected.with_previous(timetable)


# --------------------------------------------------------------------------- safety of the files


@pytest.mark.skipif(not POSIX, reason="POSIX permissions")
def test_files_are_private(tmp_path, scenario, timetable):
    old = tmp_path / "sessions.csv"
    old.write_text("old\n")
    old.chmod(0o644)
    paths = write_timetable(tmp_path, scenario, timetable, waitlist=[])
    paths += write_scenario(scenario, tmp_path / "scenario")
    for path in paths:
        assert path.stat().st_mode & 0o777 == 0o600, path.name


def test_atomic_write_replaces_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "x.csv"
    atomic_write(target, b"one\n")
    atomic_write(target, b"two\n")
    assert target.read_bytes() == b"two\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "x.csv"
    atomic_write(target, b"old\n")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        atomic_write(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


# --------------------------------------------------------------------------- a set of files, all or nothing


class _FullDisk:
    """A file object that takes half the bytes, then fails as a full disk does."""

    def __init__(self, fh):
        self._fh = fh

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()

    def write(self, data):
        self._fh.write(data[: len(data) // 2])
        self._fh.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def flush(self):
        self._fh.flush()

    def fileno(self):
        return self._fh.fileno()


def _disk_full_at(monkeypatch, n: int) -> list[str]:
    """From now on the ``n``-th file opened for writing runs out of space; the names opened so far."""
    real = os.fdopen
    opened: list[str] = []

    def fdopen(fd, *args, **kwargs):
        fh = real(fd, *args, **kwargs)
        opened.append(os.path.basename(fh.name) if isinstance(fh.name, str) else str(fh.name))
        return _FullDisk(fh) if len(opened) == n else fh

    monkeypatch.setattr(os, "fdopen", fdopen)
    return opened


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _earlier_week(timetable: Timetable) -> Timetable:
    return Timetable(timetable.sessions[:2])


WRITES = {
    "timetable": (6, lambda folder, scenario, timetable: write_timetable(
        folder, scenario, timetable, {"status": "optimal"}, waitlist=[("P06", "max days")])),
    "outcome": (1, lambda folder, scenario, timetable: write_outcome(folder, scenario, {"status": "infeasible"})),
    "scenario": (6, lambda folder, scenario, timetable: write_scenario(scenario.with_previous(timetable), folder)),
}


@pytest.mark.parametrize("write, n", [(w, n) for w, (files, _) in WRITES.items() for n in range(1, files + 1)])
def test_a_write_failing_part_way_leaves_every_earlier_file_as_it_was(tmp_path, monkeypatch, scenario, timetable,
                                                                       write, n):
    # Fixed finding F2 (session 14): each file was atomic but the set was not; with the disk full at
    # the third file, sessions.csv was the new week's beside the old week's schedules and summary.
    folder = tmp_path / "out"
    earlier = _earlier_week(timetable)
    write_timetable(folder, scenario, earlier, {"status": "feasible"}, waitlist=[("P04", "no MED slot")])
    write_scenario(replace(scenario, program=replace(scenario.program, name="Last week")).with_previous(earlier), folder)
    before = _snapshot(folder)
    opened = _disk_full_at(monkeypatch, n)
    with pytest.raises(OSError) as raised:
        WRITES[write][1](folder, scenario, timetable)
    assert raised.value.errno == errno.ENOSPC
    assert len(opened) == n  # the n-th file failed, and no file was opened after it
    monkeypatch.undo()
    assert _snapshot(folder) == before  # byte for byte, and no temporary file left


def test_a_failed_write_removes_the_folders_it_made(tmp_path, monkeypatch, scenario, timetable):
    _disk_full_at(monkeypatch, 3)
    with pytest.raises(OSError):
        write_timetable(tmp_path / "new" / "week", scenario, timetable)
    assert list(tmp_path.iterdir()) == []


def test_writing_into_a_file_raises_and_leaves_it(tmp_path, scenario, timetable):
    target = tmp_path / "notes.txt"
    target.write_text("mine\n")
    with pytest.raises(NotADirectoryError) as raised:
        write_timetable(target, scenario, timetable)
    assert raised.value.filename == str(target)
    assert target.read_text() == "mine\n"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_folder_named_like_an_export_is_found_before_anything_is_replaced(tmp_path, scenario, timetable):
    write_timetable(tmp_path, scenario, _earlier_week(timetable))
    (tmp_path / "summary.json").unlink()
    (tmp_path / "summary.json").mkdir()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    with pytest.raises(IsADirectoryError):
        write_timetable(tmp_path, scenario, timetable)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_an_earlier_waitlist_is_removed_with_a_new_timetable(tmp_path, scenario, timetable):
    write_timetable(tmp_path, scenario, timetable, waitlist=[("P06", "max days")])
    write_timetable(tmp_path, scenario, timetable)
    assert not (tmp_path / "waitlist.csv").exists()


def test_an_earlier_previous_timetable_is_removed_with_a_new_scenario(tmp_path, scenario, timetable):
    write_scenario(scenario.with_previous(timetable), tmp_path)
    assert (tmp_path / "previous_sessions.csv").is_file()
    write_scenario(scenario, tmp_path)
    assert not (tmp_path / "previous_sessions.csv").exists()
    assert read_scenario(tmp_path).scenario.previous is None


def test_scrubbed_text_says_the_id_once(scenario):
    """"Alice Martin (P01) needs ..." de-identified reads "P01 needs ..." (it read "P01 (P01) needs ...")."""
    from scheduler.io.writer import scrub_names

    assert scrub_names(["Alice Martin (P01) needs CBT", "Alice Martin and Bruno Keller (P02)", "Alice Martin (T1)"],
                       scenario) == ["P01 needs CBT", "P01 and P02", "P01 (T1)"]

"""Write timetables (sessions, per-person schedules, summary, waitlist) and scenarios, either
of them de-identified on request (patient ids in place of patient names).

Every file is plain UTF-8 (no byte-order mark), comma-separated with a header row and
``\\n`` line endings, written atomically (temporary file in the same folder, flushed,
fsynced, then renamed over the target) and readable by its owner only (0o600 on POSIX),
because the files carry patient data. A set of files (a timetable's exports, a scenario) is
written all or nothing: every temporary file first, the renames only once all are on disk
(``write_files``), so a full disk never leaves one new file beside another's old one. The
formats are described in docs/formats.md.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import errno
import io
import json
import math
import os
import re
import tempfile
from datetime import date
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd

from scheduler import timegrid
from scheduler.model import DAY_NAMES, SOFT_GOAL_NAMES, Program, Scenario, Session, Timetable

SESSION_COLUMNS = (
    "session_id", "day", "date", "start", "end", "activity_id", "activity_name",
    "staff_ids", "room_id", "patient_ids", "pinned",
)
PATIENT_SCHEDULE_COLUMNS = (
    "patient_id", "patient_name", "session_id", "day", "date", "start", "end",
    "activity_id", "activity_name", "staff_ids", "staff_names", "room_id",
)
STAFF_SCHEDULE_COLUMNS = (
    "staff_id", "staff_name", "session_id", "day", "date", "start", "end",
    "activity_id", "activity_name", "room_id", "patient_count", "patient_ids",
)
ROOM_SCHEDULE_COLUMNS = (
    "room_id", "room_name", "session_id", "day", "date", "start", "end",
    "activity_id", "activity_name", "staff_ids", "patient_count",
)
WAITLIST_COLUMNS = ("patient_id", "reason")

SCENARIO_COLUMNS: dict[str, tuple[str, ...]] = {
    "program": ("key", "value"),
    "activities": (
        "id", "name", "mode", "duration_min", "min_size", "max_size", "skill", "staff_count",
        "room_kind", "cohort", "tag", "with_primary", "in_block",
    ),
    "staff": ("id", "name", "role", "skills", "availability", "max_hours_day", "max_hours_week"),
    "rooms": ("id", "name", "kind", "capacity", "availability"),
    "patients": (
        "id", "name", "cohort", "tags", "min_days", "max_days", "min_hours", "max_hours",
        "min_week_hours", "max_week_hours", "availability", "family_availability",
        "primary_therapist", "requirements", "preferred_days", "status",
    ),
    "previous_sessions": SESSION_COLUMNS,
}
# Columns written as numbers (not text) in a workbook, so Excel does not flag them.
_NUMERIC_COLUMNS = frozenset({
    "duration_min", "min_size", "max_size", "staff_count", "capacity", "max_hours_day", "max_hours_week",
    "min_days", "max_days", "min_hours", "max_hours", "min_week_hours", "max_week_hours",
})
_NUMBER_TEXT = re.compile(r"^-?\d+(\.\d+)?$")

Rows = list[Sequence[str]]


# --------------------------------------------------------------------------- files


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable (POSIX only; best effort)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_temp(target: Path, data: bytes) -> Path:
    """``data`` in a new temp file beside ``target``: written, flushed, fsynced, mode 0o600.

    The temp file is removed again if any of that fails.
    """
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if os.name == "posix":
            os.chmod(tmp, 0o600)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def write_files(folder: str | Path, files: dict[str, bytes], *, stale: Iterable[str] = ()) -> list[Path]:
    """Write a set of files into ``folder``, all or nothing; their paths, in the order given.

    Every file is written to a temp file in the folder first (fsynced); only when all of them are
    on disk are they renamed over their targets and the ``stale`` names (files an earlier export
    left that would contradict this one) deleted. If anything fails before that (disk full, a
    file-size limit, no permission, a target that is a folder), every temp file is removed, a
    folder this call created is removed again, and the files already in the folder are left
    exactly as they were. Renames and deletions within one folder need no space; only a crash
    (or a failure) during those few steps can leave a mix.
    """
    folder = Path(folder)
    created = [f for f in (folder, *folder.parents) if not f.exists()]  # deepest first, to undo
    nearest = next((f for f in (folder, *folder.parents) if f.exists()), None)
    if nearest is not None and not nearest.is_dir():  # the folder, or one it would be made in
        raise NotADirectoryError(errno.ENOTDIR, "it is a file, not a folder", str(nearest))
    targets = [folder / name for name in files]
    removals = [folder / name for name in stale if name not in files]
    temps: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path in (*targets, *removals):
            if path.is_dir():  # os.replace and unlink would fail half-way through the renames
                raise IsADirectoryError(errno.EISDIR, "a folder has the name of an export file", str(path))
        for path, data in zip(targets, files.values()):
            temps.append(_write_temp(path, data))
        for path in removals:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        for tmp, path in zip(list(temps), targets):
            os.replace(tmp, path)
            temps.remove(tmp)
    except BaseException:
        for tmp in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()
        for made in created:
            with contextlib.suppress(OSError):
                made.rmdir()  # only if still empty
        raise
    _fsync_folder(folder)
    return targets


def atomic_write(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a flushed, fsynced temp file renamed over it; mode 0o600."""
    path = Path(path)
    return write_files(path.parent, {path.name: data})[0]


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A header row and rows as UTF-8 CSV, comma-separated, ``\\n`` line endings, no BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


# --------------------------------------------------------------------------- values


def number_text(value: float | int | None) -> str:
    """3 -> '3', 3.0 -> '3', 3.5 -> '3.5', 1e-05 -> '0.00001', None -> ''.

    Never in exponent notation, which the reader (and a coordinator) does not take; the digits are
    those of ``repr``, so the value reads back exactly.
    """
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    return format(Decimal(repr(float(value))), "f")


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def joined(items: Iterable[str]) -> str:
    """Ids or skills as one ``;``-separated cell."""
    return ";".join(items)


def date_text(program: Program, day: int) -> str:
    """``YYYY-MM-DD`` of the weekday, or empty without week_start."""
    when = program.date_of(day)
    return when.isoformat() if when else ""


def _when(program: Program, s: Session) -> list[str]:
    """day, date, start, end of a session."""
    return [DAY_NAMES[s.day], date_text(program, s.day), timegrid.format_time(s.start), timegrid.format_time(s.end)]


def _activity_name(scenario: Scenario, activity_id: str) -> str:
    activity = scenario.activity_by_id.get(activity_id)
    return (activity.name or activity.id) if activity else ""


def session_row(scenario: Scenario, s: Session) -> list[str]:
    """One sessions.csv row, in SESSION_COLUMNS order."""
    return [
        s.session_id, *_when(scenario.program, s), s.activity_id, _activity_name(scenario, s.activity_id),
        joined(s.staff_ids), s.room_id or "", joined(s.patient_ids), yes_no(s.pinned),
    ]


# --------------------------------------------------------------------------- timetable exports


def _ordered_ids(known: Iterable[str], used: Iterable[str]) -> list[str]:
    """Scenario order first, then ids only the timetable names (sorted)."""
    known = list(known)
    extra = sorted(set(used) - set(known))
    return known + extra


def _patient_name(scenario: Scenario, patient_id: str, deidentify: bool) -> str:
    """The patient's name, or just the id in a de-identified export."""
    if deidentify:
        return patient_id
    patient = scenario.patient_by_id.get(patient_id)
    return patient.name if patient else ""


def _staff_names(scenario: Scenario, staff_ids: Iterable[str]) -> str:
    return joined(scenario.staff_by_id[i].name if i in scenario.staff_by_id else "" for i in staff_ids)


def _patient_rows(scenario: Scenario, sessions: tuple[Session, ...], deidentify: bool) -> Rows:
    """patient_schedule.csv: one row per patient per session, by patient then time."""
    ids = _ordered_ids((p.id for p in scenario.patients), (p for s in sessions for p in s.patient_ids))
    return [
        [pid, _patient_name(scenario, pid, deidentify), s.session_id, *_when(scenario.program, s), s.activity_id,
         _activity_name(scenario, s.activity_id), joined(s.staff_ids), _staff_names(scenario, s.staff_ids),
         s.room_id or ""]
        for pid in ids
        for s in sessions
        if pid in s.patient_ids
    ]


def _staff_rows(scenario: Scenario, sessions: tuple[Session, ...]) -> Rows:
    """staff_schedule.csv: one row per staff member per session, by staff then time."""
    ids = _ordered_ids((m.id for m in scenario.staff), (i for s in sessions for i in s.staff_ids))
    names = {m.id: m.name for m in scenario.staff}
    return [
        [sid, names.get(sid, ""), s.session_id, *_when(scenario.program, s), s.activity_id,
         _activity_name(scenario, s.activity_id), s.room_id or "", str(len(s.patient_ids)), joined(s.patient_ids)]
        for sid in ids
        for s in sessions
        if sid in s.staff_ids
    ]


def _room_rows(scenario: Scenario, sessions: tuple[Session, ...]) -> Rows:
    """room_schedule.csv: one row per room per session, by room then time."""
    ids = _ordered_ids((r.id for r in scenario.rooms), (s.room_id for s in sessions if s.room_id))
    names = {r.id: r.name for r in scenario.rooms}
    return [
        [rid, names.get(rid, ""), s.session_id, *_when(scenario.program, s), s.activity_id,
         _activity_name(scenario, s.activity_id), joined(s.staff_ids), str(len(s.patient_ids))]
        for rid in ids
        for s in sessions
        if s.room_id == rid
    ]


def _waitlist_rows(waitlist: Iterable[Any]) -> Rows:
    """(patient_id, reason) from objects with those attributes, or from pairs."""
    rows = []
    for entry in waitlist:
        if hasattr(entry, "patient_id"):
            rows.append([str(entry.patient_id), str(getattr(entry, "reason", ""))])
        else:
            patient_id, reason = entry
            rows.append([str(patient_id), str(reason)])
    return rows


# --------------------------------------------------------------------------- summary and de-identification


def minimal_summary() -> dict[str, Any]:
    """The summary written when none is given: every SPEC key, status unknown."""
    return {"status": "unknown", "objective": None, "bound": None, "gap": None, "seconds": None,
            "terms": [{"name": name, "weight": None, "value": None} for name in SOFT_GOAL_NAMES]}


def _json_default(value: Any) -> Any:
    """JSON for enums, dates, sets, paths and dataclasses found in a summary."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def _name_pattern(scenario: Scenario) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """A regex matching any patient name (as a whole word), and name -> id."""
    by_name = {p.name: p.id for p in scenario.patients if len(p.name.strip()) >= 2}
    if not by_name:
        return None, {}
    alternatives = "|".join(re.escape(n) for n in sorted(by_name, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?P<name>{alternatives})(?!\w)(?P<paren> \((?P<id>[^()]*)\))?"), by_name


def scrub_names(value: Any, scenario: Scenario) -> Any:
    """Replace every patient name inside strings (nested dicts/lists too) by the patient id; "Name (P04)"
    becomes "P04" (until session 17 "P04 (P04)")."""
    pattern, by_name = _name_pattern(scenario)
    if pattern is None:
        return value

    def swap(m: re.Match) -> str:
        pid = by_name[m.group("name")]
        return pid if m.group("id") == pid else pid + (m.group("paren") or "")

    return _scrub(value, lambda text: pattern.sub(swap, text))


def _finite(value: Any) -> Any:
    """NaN and infinities (not valid JSON) become null, at any depth."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _scrub(value: Any, fix) -> Any:
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, dict):
        return {_scrub(k, fix): _scrub(v, fix) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v, fix) for v in value]
    return value


def _summary_bytes(summary: dict[str, Any] | None, scenario: Scenario, deidentify: bool) -> bytes:
    """summary.json, pretty-printed; names scrubbed when de-identifying."""
    data = minimal_summary() if summary is None else summary
    data = _finite(json.loads(json.dumps(data, default=_json_default)))
    if deidentify:
        data = scrub_names(data, scenario)
    return (json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- public: timetable


def write_timetable(
    out_dir: str | Path,
    scenario: Scenario,
    timetable: Timetable,
    summary: dict[str, Any] | None = None,
    *,
    deidentify: bool = False,
    waitlist: Iterable[Any] | None = None,
) -> list[Path]:
    """Write sessions.csv, the patient/staff/room schedules, summary.json (and waitlist.csv), all or
    nothing (``write_files``). Without a waitlist, an earlier solve's waitlist.csv is removed, so
    that it is not taken for this timetable's."""
    sessions = timetable.numbered(scenario.program.first_day).sessions
    files = {
        "sessions.csv": csv_bytes(SESSION_COLUMNS, (session_row(scenario, s) for s in sessions)),
        "patient_schedule.csv": csv_bytes(PATIENT_SCHEDULE_COLUMNS, _patient_rows(scenario, sessions, deidentify)),
        "staff_schedule.csv": csv_bytes(STAFF_SCHEDULE_COLUMNS, _staff_rows(scenario, sessions)),
        "room_schedule.csv": csv_bytes(ROOM_SCHEDULE_COLUMNS, _room_rows(scenario, sessions)),
        "summary.json": _summary_bytes(summary, scenario, deidentify),
    }
    if waitlist is not None:
        rows = _waitlist_rows(waitlist)
        if deidentify:
            rows = scrub_names(rows, scenario)
        files["waitlist.csv"] = csv_bytes(WAITLIST_COLUMNS, rows)
    return write_files(out_dir, files, stale=("waitlist.csv",))


TIMETABLE_FILES = ("sessions.csv", "patient_schedule.csv", "staff_schedule.csv", "room_schedule.csv", "waitlist.csv")


def write_outcome(out_dir: str | Path, scenario: Scenario, summary: dict[str, Any], *,
                  deidentify: bool = False) -> list[Path]:
    """summary.json alone, for a solve that found no timetable (SPEC: the result always states its
    status, bound and terms). The timetable files an earlier solve wrote into the folder are
    removed, so that none is taken for this one's; if summary.json cannot be written, they stay."""
    return write_files(out_dir, {"summary.json": _summary_bytes(summary, scenario, deidentify)},
                       stale=TIMETABLE_FILES)


# --------------------------------------------------------------------------- public: scenario


def _program_rows(p: Program) -> Rows:
    """program.csv as key,value rows, every setting spelled out."""
    rows = [
        ("name", p.name),
        ("week_start", p.week_start.isoformat() if p.week_start else ""),
        ("days", timegrid.format_days(p.days)),
        ("open", timegrid.format_time(p.open)),
        ("close", timegrid.format_time(p.close)),
        ("slot_minutes", str(p.slot_minutes)),
        ("max_gap_minutes", str(p.max_gap_minutes)),
        ("min_days", str(p.min_days)),
        ("max_days", str(p.max_days)),
        ("min_hours", number_text(p.min_hours)),
        ("max_hours", number_text(p.max_hours)),
        ("hours_basis", p.hours_basis.value),
        ("min_week_hours", number_text(p.min_week_hours)),
        ("max_week_hours", number_text(p.max_week_hours)),
    ]
    rows += [(f"weight_{name}", number_text(p.weights.of(name))) for name in SOFT_GOAL_NAMES]
    return [list(r) for r in rows]


def _activity_rows(scenario: Scenario) -> Rows:
    return [
        [a.id, a.name, a.mode.value, str(a.duration_min), str(a.min_size), str(a.max_size), a.skill,
         str(a.staff_count), a.room_kind.value, a.cohort.value, a.tag or "", yes_no(a.with_primary), yes_no(a.in_block)]
        for a in scenario.activities
    ]


def _staff_member_rows(scenario: Scenario) -> Rows:
    return [
        [m.id, m.name, m.role, joined(sorted(m.skills)), timegrid.format_availability(m.availability),
         number_text(m.max_hours_day), number_text(m.max_hours_week)]
        for m in scenario.staff
    ]


def _room_table_rows(scenario: Scenario) -> Rows:
    return [
        [r.id, r.name, r.kind.value, str(r.capacity), timegrid.format_availability(r.availability)]
        for r in scenario.rooms
    ]


def requirements_text(requirements) -> str:
    """Requirements -> ``PROC=3; CBT=2-3``."""
    def count(r) -> str:
        return str(r.min_count) if r.min_count == r.max_count else f"{r.min_count}-{r.max_count}"

    return "; ".join(f"{r.activity_id}={count(r)}" for r in requirements)


def _patient_table_rows(scenario: Scenario) -> Rows:
    return [
        [p.id, p.name, p.cohort.value, joined(sorted(p.tags)), number_text(p.min_days), number_text(p.max_days),
         number_text(p.min_hours), number_text(p.max_hours), number_text(p.min_week_hours),
         number_text(p.max_week_hours), timegrid.format_availability(p.availability),
         timegrid.format_availability(p.family_availability), p.primary_therapist or "",
         requirements_text(p.requirements), timegrid.format_days(p.preferred_days), p.status]
        for p in scenario.patients
    ]


def scenario_tables(scenario: Scenario) -> dict[str, Rows]:
    """Each scenario file's rows (no header), in file order; previous_sessions only when set."""
    tables = {
        "program": _program_rows(scenario.program),
        "activities": _activity_rows(scenario),
        "staff": _staff_member_rows(scenario),
        "rooms": _room_table_rows(scenario),
        "patients": _patient_table_rows(scenario),
    }
    if scenario.previous is not None:
        tables["previous_sessions"] = [session_row(scenario, s) for s in scenario.previous.sessions]
    return tables


def deidentified_scenario(scenario: Scenario) -> Scenario:
    """The scenario without patient names: each patient's name is the id (as ``patient_name`` in a
    de-identified patient_schedule.csv), and a patient name written in free text (the program's,
    an activity's or a room's name, a staff role, a patient's status) is replaced by the id, as in
    a de-identified summary.json. Ids, codes (skills, tags), numbers, days and times stay, so the
    scenario solves as before; staff names stay, as in every export."""
    def scrub(text: str) -> str:
        return scrub_names(text, scenario)

    return dataclasses.replace(
        scenario,
        program=dataclasses.replace(scenario.program, name=scrub(scenario.program.name)),
        activities=tuple(dataclasses.replace(a, name=scrub(a.name)) for a in scenario.activities),
        staff=tuple(dataclasses.replace(m, role=scrub(m.role)) for m in scenario.staff),
        rooms=tuple(dataclasses.replace(r, name=scrub(r.name)) for r in scenario.rooms),
        patients=tuple(dataclasses.replace(p, name=p.id, status=scrub(p.status)) for p in scenario.patients),
    )


def write_scenario(scenario: Scenario, out_dir: str | Path, *, deidentify: bool = False) -> list[Path]:
    """Write the scenario as a folder of CSV files that read_scenario reads back equal (or equal to
    ``deidentified_scenario(scenario)``), all or nothing (``write_files``). Without a previous
    timetable, an earlier export's previous_sessions.csv is removed: it would be read back as this
    scenario's."""
    if deidentify:
        scenario = deidentified_scenario(scenario)
    files = {f"{name}.csv": csv_bytes(SCENARIO_COLUMNS[name], rows) for name, rows in scenario_tables(scenario).items()}
    return write_files(out_dir, files, stale=("previous_sessions.csv",))


def _excel_cell(column: str, text: str) -> str | int | float:
    """Numbers in numeric columns become Excel numbers; everything else stays text."""
    if column in _NUMERIC_COLUMNS and _NUMBER_TEXT.match(text):
        return int(text) if "." not in text else float(text)
    return text


def _frame(name: str, rows: Rows) -> pd.DataFrame:
    columns = SCENARIO_COLUMNS[name]
    data = [[_excel_cell(c, v) for c, v in zip(columns, row)] for row in rows]
    return pd.DataFrame(data, columns=list(columns), dtype=object)


def write_scenario_xlsx(scenario: Scenario, path: str | Path, *, deidentify: bool = False) -> Path:
    """Write the scenario as one workbook, one sheet per file (sheet names without .csv);
    ``deidentify`` as in write_scenario."""
    if deidentify:
        scenario = deidentified_scenario(scenario)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as book:
        for name, rows in scenario_tables(scenario).items():
            _frame(name, rows).to_excel(book, sheet_name=name, index=False)
    return atomic_write(Path(path), buffer.getvalue())

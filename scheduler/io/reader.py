"""Read a scenario (a folder of CSV files or one .xlsx workbook) into a validated Scenario.

Every cell is read as text through pandas (``tables.py``) and parsed here with the parsers of
``values.py``, so that each problem can name its file, spreadsheet row, column and value. Reading
is all-or-nothing: every problem in every file is collected and raised as one ``ScenarioError``;
nothing else is ever raised for bad input. The file formats are described in docs/formats.md.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Callable

from scheduler import timegrid
from scheduler.io.errors import InputError
from scheduler.io.tables import (
    Issues,
    Row,
    T,
    Table,
    _checked,
    _csv_table,
    _guarded,
    _scenario_tables,
    _sheet_key,
    _table_from_grid,
    _table_from_sheet,
    _workbook_sheets,
)
from scheduler.io.values import (
    MAX_MINUTES,
    MAX_WEIGHT,
    _compact,
    _days_message,
    _hours_text,
    _weekday,
    parse_bool,
    parse_choice,
    parse_clock,
    parse_count,
    parse_date,
    parse_day_name,
    parse_items,
    parse_number,
    parse_requirements,
)
from scheduler.model import (
    DAY_NAMES,
    SOFT_GOAL_NAMES,
    Activity,
    Availability,
    Cohort,
    HoursBasis,
    Mode,
    Patient,
    Program,
    Room,
    RoomKind,
    Scenario,
    Session,
    Staff,
    Timetable,
    Weights,
    Window,
)

log = logging.getLogger(__name__)

PROGRAM_KEYS: tuple[str, ...] = (
    "name", "week_start", "days", "open", "close", "slot_minutes", "max_gap_minutes", "min_days", "max_days",
    "min_hours", "max_hours", "hours_basis", "min_week_hours", "max_week_hours",
) + tuple(f"weight_{name}" for name in SOFT_GOAL_NAMES)

_ID_FORBIDDEN = (";", ",", "=")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # NUL, tab, escape, DEL, ...: invisible, or break a line


EMPTY_CELL = "the cell is empty; a value is required"
EMPTY_ID = "the id is empty; every row needs one"
GROUP_WITH_PRIMARY = "a group activity cannot be delivered by each patient's primary therapist"
ROOM_KINDS = (RoomKind.GROUP, RoomKind.OFFICE)  # a room is never of kind none (that is an activity needing no room)
PATIENT_COHORTS = (Cohort.ADULT, Cohort.ADOLESCENT)


def required_text(text: str, empty: str = EMPTY_CELL) -> str:
    """A required cell's text, stripped; ``ValueError(empty)`` when nothing is left, as the importer refuses it."""
    text = text.strip()
    if not text:
        raise ValueError(empty)
    return text


def parse_room_kind(text: str) -> RoomKind:
    """A rooms.csv kind: group or office."""
    return parse_choice(text, RoomKind, "a room kind", ROOM_KINDS)


def parse_patient_cohort(text: str) -> Cohort:
    """A patients.csv cohort: adult or adolescent."""
    return parse_choice(text, Cohort, "a patient cohort", PATIENT_COHORTS)


def with_primary_refusal(mode: Mode | None, with_primary: bool) -> str | None:
    """Why an activity of this mode cannot be delivered by each patient's primary therapist, or None."""
    return GROUP_WITH_PRIMARY if with_primary and mode is Mode.GROUP else None


def _escaped(text: str) -> str:
    r"""The text with each control character written as ``\xNN``, so that a message shows it."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@dataclass(frozen=True)
class ReadResult:
    """A scenario that read without errors, and the warnings met on the way."""

    scenario: Scenario
    warnings: tuple[InputError, ...] = ()


# --------------------------------------------------------------------------- cells


class Cells:
    """The cells of one row, parsed on demand; each problem is recorded, never raised.

    A cell already reported as unreadable (``Row.unreadable``) is not parsed: it takes the default
    without a second error, and the row counts as failed.
    """

    def __init__(self, table: Table, row: Row, issues: Issues) -> None:
        self.table, self.row, self.issues = table, row, issues
        self.failed = bool(row.errors or row.missing)

    def raw(self, column: str) -> str:
        return self.row.cells.get(column, "")

    def unreadable(self, column: str) -> bool:
        return self.row.unreadable(column)

    def blank(self, column: str) -> bool:
        """The cell is empty (not merely unreadable)."""
        return not self.raw(column) and not self.unreadable(column)

    def error(self, column: str, message: str, value: str | None = None) -> None:
        self.failed = True
        shown = self.raw(column) if value is None else value
        self.issues.error(self.table.label, self.row.number, column, shown, message)

    def warn(self, column: str, message: str) -> None:
        self.issues.warn(self.table.label, self.row.number, column, self.raw(column), message)

    def get(self, column: str, parse: Callable[[str], T], default: T) -> T:
        """Parse the cell, or the default when empty or unreadable (the latter is an error)."""
        text = self.raw(column)
        if not text or self.unreadable(column):
            return default
        try:
            return parse(text)
        except (ValueError, OverflowError) as exc:
            self.error(column, str(exc))
            return default

    def required(self, column: str, parse: Callable[[str], T], default: T) -> T:
        """Like ``get``, but an empty cell is an error."""
        if self.blank(column):
            self.error(column, EMPTY_CELL)
            return default
        return self.get(column, parse, default)

    def text(self, column: str) -> str:
        return "" if self.unreadable(column) else self.raw(column)

    def optional_text(self, column: str) -> str | None:
        return self.text(column) or None

    def count(self, column: str, default: T, minimum: int = 0) -> int | T:
        return self.get(column, lambda t: parse_count(t, minimum), default)

    def hours(self, column: str, default: T) -> float | T:
        return self.get(column, parse_number, default)

    def boolean(self, column: str, default: bool) -> bool:
        return self.get(column, parse_bool, default)

    def choice(self, column: str, enum: type[StrEnum], noun: str, default: T, allowed=None):
        return self.get(column, lambda t: parse_choice(t, enum, noun, allowed), default)

    def identifier(self, column: str, seen: dict[str, int]) -> str | None:
        """A non-empty id, unique in its file, free of list separators and control characters."""
        if self.unreadable(column):
            return None
        value = self.raw(column)
        if not value:
            self.error(column, EMPTY_ID)
            return None
        if _CONTROL.search(value):
            shown = ", ".join(sorted({_escaped(ch) for ch in _CONTROL.findall(value)}))
            self.error(column, f"the id holds an invisible control character ({shown}); retype it", _escaped(value))
            return None
        if any(ch in value for ch in _ID_FORBIDDEN):
            self.error(column, "an id must not contain ';', ',' or '='")
            return None
        if value in seen:
            self.error(column, f"duplicate id; '{value}' is already used on row {seen[value]}")
            return None
        seen[value] = self.row.number
        return value


def _rows(table: Table, issues: Issues):
    """Each data row of a table with its cell reader."""
    for row in table.rows:
        yield Cells(table, row, issues)


# --------------------------------------------------------------------------- program


@dataclass
class _ProgramRead:
    """The program plus whether its calendar is trustworthy enough to check other files against."""

    program: Program = field(default_factory=Program)
    ok: bool = False


def _program_entries(table: Table, issues: Issues) -> dict[str, Cells]:
    """``key -> value cell``; empty, duplicate and unknown keys are reported here."""
    entries: dict[str, Cells] = {}
    for cells in _rows(table, issues):
        key = cells.raw("key").lower()
        if cells.unreadable("key"):
            continue
        if not key:
            cells.error("key", "the key is empty; expected e.g. open or slot_minutes")
        elif key in entries:
            cells.error("key", f"'{key}' is given twice (first on row {entries[key].row.number}); keep one")
        elif key not in PROGRAM_KEYS:
            cells.warn("key", "unknown program setting; it is ignored")
        else:
            entries[key] = cells
    return entries


class _Settings:
    """Typed access to program.csv values by key, with the model's defaults."""

    def __init__(self, entries: dict[str, Cells]) -> None:
        self.entries = entries

    def get(self, key: str, parse: Callable[[str], T], default: T) -> T:
        cells = self.entries.get(key)
        return default if cells is None else cells.get("value", parse, default)

    def error(self, key: str, message: str) -> None:
        self.entries[key].error("value", message)

    def has(self, key: str) -> bool:
        return key in self.entries and bool(self.entries[key].raw("value"))

    @property
    def failed(self) -> bool:
        return any(cells.failed for cells in self.entries.values())


def _program_from(s: _Settings) -> Program:
    """Program fields from settings; empty or missing keys take the model's defaults."""
    d = Program()
    weight, minutes = partial(parse_number, maximum=MAX_WEIGHT), partial(parse_count, maximum=MAX_MINUTES)
    weights = {n: s.get(f"weight_{n}", weight, d.weights.of(n)) for n in SOFT_GOAL_NAMES}
    return Program(
        name=s.get("name", str, d.name),
        week_start=s.get("week_start", parse_date, d.week_start),
        days=s.get("days", timegrid.parse_days, d.days),
        open=s.get("open", parse_clock, d.open),
        close=s.get("close", parse_clock, d.close),
        slot_minutes=s.get("slot_minutes", lambda t: parse_count(t, 1, MAX_MINUTES), d.slot_minutes),
        max_gap_minutes=s.get("max_gap_minutes", minutes, d.max_gap_minutes),
        min_days=s.get("min_days", parse_count, d.min_days),
        max_days=s.get("max_days", parse_count, d.max_days),
        min_hours=s.get("min_hours", parse_number, d.min_hours),
        max_hours=s.get("max_hours", parse_number, d.max_hours),
        hours_basis=s.get("hours_basis", lambda t: parse_choice(t, HoursBasis, "an hours basis"), d.hours_basis),
        min_week_hours=s.get("min_week_hours", parse_number, d.min_week_hours),
        max_week_hours=s.get("max_week_hours", parse_number, d.max_week_hours),
        weights=Weights(**weights),
    )


def _report_on(s: _Settings, low_key: str, high_key: str) -> str:
    """The key to blame for a min > max clash: the one the coordinator wrote (max first)."""
    return high_key if s.has(high_key) or not s.has(low_key) else low_key


def _blame(s: _Settings, *keys: str) -> str | None:
    """The first of ``keys`` the coordinator actually wrote."""
    return next((key for key in keys if s.has(key)), None)


def _check_hours(p: Program, s: _Settings) -> None:
    """The program closes after it opens, and the slot divides the opening hours."""
    hours = f"{timegrid.format_time(p.open)}-{timegrid.format_time(p.close)}"
    if p.close <= p.open:
        key = _blame(s, "close", "open")
        if key:
            opens, closes = timegrid.format_time(p.open), timegrid.format_time(p.close)
            s.error(key, f"the program closes at {closes}, not after it opens at {opens}")
    elif (p.close - p.open) % p.slot_minutes:
        key = _blame(s, "slot_minutes", "close", "open")
        if key:
            minutes = p.close - p.open
            s.error(key, f"slot_minutes {p.slot_minutes} does not divide the opening hours {hours} ({minutes} minutes)")


def _first_day(days: tuple[int, ...]) -> int | None:
    """The weekday the program's week starts on; None when it runs every day (any day may start it).

    It is the start of the run of open days that holds the earliest weekday: Mon-Fri starts on
    Monday, Mon-Thu,Sun (a Sun-Thu week) on Sunday.
    """
    if len(days) == 7:
        return None
    first = days[0]
    while (first - 1) % 7 in days:
        first = (first - 1) % 7
    return first


def _check_week_start(p: Program, s: _Settings) -> None:
    """week_start is the date of the program's first day, so it falls on that weekday.

    Another weekday would date the week from it: a Wednesday with days Mon-Fri dates Wed-Fri and
    then the next Monday and Tuesday (date_of), which no coordinator means.
    """
    first = _first_day(p.days) if p.week_start is not None and p.days else None
    if first is None or p.week_start.weekday() == first:
        return
    ahead = (first - p.week_start.weekday()) % 7
    nearest = p.week_start + timedelta(days=ahead if ahead <= 3 else ahead - 7)
    s.error("week_start", (
        f"{p.week_start.isoformat()} is a {_weekday(p.week_start.weekday())}, but the program's week starts on "
        f"{_weekday(first)} (days {timegrid.format_days(p.days)}); week_start is the date of that first day, "
        f"e.g. {nearest.isoformat()}"
    ))


def _check_program(p: Program, s: _Settings) -> None:
    """Calendar and limit consistency of program.csv."""
    _check_hours(p, s)
    _check_week_start(p, s)
    for low, high in (("min_days", "max_days"), ("min_hours", "max_hours"), ("min_week_hours", "max_week_hours")):
        lo, hi = getattr(p, low), getattr(p, high)
        if lo > hi and (s.has(low) or s.has(high)):
            s.error(_report_on(s, low, high), f"{low} {_compact(lo)} is more than {high} {_compact(hi)}")
    if p.max_days > len(p.days) and s.has("max_days"):
        s.error("max_days", _days_message(p))


def _read_program(table: Table | None, issues: Issues) -> _ProgramRead:
    """program.csv -> Program; ``ok`` is False when any setting was unreadable."""
    if table is None:
        return _ProgramRead()
    settings = _Settings(_program_entries(table, issues))
    program = _program_from(settings)
    if not settings.failed:
        _check_program(program, settings)
    return _ProgramRead(program, not settings.failed)


# --------------------------------------------------------------------------- availability


def _fit_availability(cells: Cells, column: str, availability: Availability, ctx: _ProgramRead) -> Availability:
    """Drop windows on closed days (warning); windows outside opening hours are errors."""
    if availability.unrestricted or not ctx.ok:
        return availability
    program = ctx.program
    closed = sorted({w.day for w in availability.windows if w.day not in program.days})
    kept = tuple(w for w in availability.windows if w.day in program.days)
    if closed:
        days = ", ".join(DAY_NAMES[d] for d in closed)
        runs = timegrid.format_days(program.days)
        if not kept:
            cells.error(column, f"names only {days}, when the program does not run (it runs {runs})")
            return availability
        cells.warn(column, f"the program does not run on {days} (it runs {runs}); those hours are ignored")
    for w in kept:
        if w.start < program.open or w.end > program.close:
            cells.error(column, f"{_window_text(w)} lies outside the program's hours {_hours_text(program)}")
            break
    return Availability(kept)


def _window_text(w: Window) -> str:
    return f"{DAY_NAMES[w.day]} {timegrid.format_time(w.start)}-{timegrid.format_time(w.end)}"


def _availability(cells: Cells, column: str, ctx: _ProgramRead) -> Availability:
    """An availability cell parsed and fitted to the program's calendar."""
    availability = cells.get(column, timegrid.parse_availability, Availability())
    return _fit_availability(cells, column, availability, ctx)


def _preferred_days(cells: Cells, ctx: _ProgramRead) -> tuple[int, ...]:
    """Preferred days; days the program does not run are dropped with a warning."""
    days = cells.get("preferred_days", timegrid.parse_days, ())
    if not ctx.ok or all(d in ctx.program.days for d in days):
        return days
    closed = ", ".join(DAY_NAMES[d] for d in days if d not in ctx.program.days)
    cells.warn("preferred_days", f"the program does not run on {closed}; ignored")
    return tuple(d for d in days if d in ctx.program.days)


# --------------------------------------------------------------------------- entities


def _activity_sizes(cells: Cells, mode: Mode | None) -> tuple[int, int]:
    """min_size/max_size: a group needs max_size; individual and family sessions seat exactly 1."""
    if mode in (Mode.INDIVIDUAL, Mode.FAMILY):
        for column in ("min_size", "max_size"):
            if cells.count(column, 1, minimum=1) != 1:
                cells.error(column, f"{mode.value} sessions have exactly 1 patient; use 1 or leave it empty")
        return 1, 1
    low = cells.count("min_size", 1, minimum=1)
    if cells.blank("max_size"):
        if mode is Mode.GROUP:
            cells.error("max_size", "a group activity needs max_size, the most patients in one session")
        return low, max(low, 1)
    high = cells.count("max_size", low, minimum=1)
    if low > high:
        cells.error("max_size", f"max_size {high} is less than min_size {low}")
    return low, high


def _activity_duration(cells: Cells, ctx: _ProgramRead) -> int:
    """A positive number of minutes on the program's slot grid."""
    minutes = cells.required("duration_min", lambda t: parse_count(t, 1, MAX_MINUTES), 0)
    slot = ctx.program.slot_minutes
    if minutes and ctx.ok and minutes % slot:
        cells.error("duration_min", f"{minutes} minutes is not a multiple of slot_minutes ({slot})")
    return minutes


def _activity(cells: Cells, seen: dict[str, int], ctx: _ProgramRead) -> Activity:
    """One activities.csv row."""
    activity_id = cells.identifier("id", seen)
    mode = cells.required("mode", lambda t: parse_choice(t, Mode, "a mode"), None)
    duration = _activity_duration(cells, ctx)
    low, high = _activity_sizes(cells, mode)
    default_kind = RoomKind.GROUP if mode is Mode.GROUP else RoomKind.OFFICE
    with_primary = cells.boolean("with_primary", False)
    refusal = with_primary_refusal(mode, with_primary)
    if refusal:
        cells.error("with_primary", refusal)
    activity = Activity(
        id=activity_id or "",
        name=cells.text("name"),
        mode=mode or Mode.GROUP,
        duration_min=duration,
        min_size=low,
        max_size=high,
        skill=cells.required("skill", str, ""),
        staff_count=cells.count("staff_count", 1, minimum=1),
        room_kind=cells.choice("room_kind", RoomKind, "a room kind", default_kind),
        cohort=cells.choice("cohort", Cohort, "a cohort", Cohort.ANY),
        tag=cells.optional_text("tag"),
        with_primary=with_primary,
        in_block=cells.boolean("in_block", True),
    )
    return activity


def _staff(cells: Cells, seen: dict[str, int], ctx: _ProgramRead) -> Staff:
    """One staff.csv row."""
    staff_id = cells.identifier("id", seen)
    member = Staff(
        id=staff_id or "",
        name=cells.text("name"),
        role=cells.text("role"),
        skills=frozenset(parse_items(cells.raw("skills"))),
        availability=_availability(cells, "availability", ctx),
        max_hours_day=cells.hours("max_hours_day", None),
        max_hours_week=cells.hours("max_hours_week", None),
    )
    return member


def _room(cells: Cells, seen: dict[str, int], ctx: _ProgramRead) -> Room:
    """One rooms.csv row."""
    room_id = cells.identifier("id", seen)
    room = Room(
        id=room_id or "",
        name=cells.text("name"),
        kind=cells.required("kind", parse_room_kind, RoomKind.OFFICE),
        capacity=cells.required("capacity", lambda t: parse_count(t, 1), 1),
        availability=_availability(cells, "availability", ctx),
    )
    return room


_LIMIT_PAIRS = (("min_days", "max_days"), ("min_hours", "max_hours"), ("min_week_hours", "max_week_hours"))


def _patient_limits(cells: Cells) -> dict[str, int | float | None]:
    """The six optional limits as written (None when empty)."""
    limits: dict[str, int | float | None] = {}
    for low, high in _LIMIT_PAIRS:
        parse = cells.count if low == "min_days" else cells.hours
        limits[low], limits[high] = parse(low, None), parse(high, None)
    return limits


def _check_patient_limits(cells: Cells, patient: Patient, ctx: _ProgramRead) -> None:
    """Each limit pair, program defaults filled in, has min <= max; max_days fits the week."""
    effective = patient.limits(ctx.program)
    for low, high in _LIMIT_PAIRS:
        lo, hi = getattr(effective, low), getattr(effective, high)
        if lo <= hi or (getattr(patient, low) is None and getattr(patient, high) is None):
            continue
        if getattr(patient, high) is not None:
            suffix = "" if getattr(patient, low) is not None else " (the program's default)"
            cells.error(high, f"{high} {_compact(hi)} is less than {low} {_compact(lo)}{suffix}")
        else:
            cells.error(low, f"{low} {_compact(lo)} is more than {high} {_compact(hi)} (the program's default)")
    if ctx.ok and patient.max_days is not None and patient.max_days > len(ctx.program.days):
        cells.error("max_days", _days_message(ctx.program))


def _patient(cells: Cells, seen: dict[str, int], ctx: _ProgramRead) -> Patient:
    """One patients.csv row."""
    patient_id = cells.identifier("id", seen)
    patient = Patient(
        id=patient_id or "",
        name=cells.text("name"),
        cohort=cells.get("cohort", parse_patient_cohort, Cohort.ADULT),
        tags=frozenset(parse_items(cells.raw("tags"))),
        **_patient_limits(cells),
        availability=_availability(cells, "availability", ctx),
        family_availability=_availability(cells, "family_availability", ctx),
        primary_therapist=cells.optional_text("primary_therapist"),
        requirements=cells.get("requirements", parse_requirements, ()),
        preferred_days=_preferred_days(cells, ctx),
        status=cells.text("status"),
    )
    _check_patient_limits(cells, patient, ctx)
    return patient


Parsed = list[tuple[T, Cells]]


def _entities(table: Table | None, issues: Issues, build, ctx: _ProgramRead) -> Parsed | None:
    """Build one entity per row (a row with errors still yields one); None when the table is unusable."""
    if table is None:
        return None
    seen: dict[str, int] = {}
    return [(build(cells, seen, ctx), cells) for cells in _rows(table, issues)]


# --------------------------------------------------------------------------- references


@dataclass(frozen=True)
class _Catalogue:
    """What was read, and which rows already had errors (their values may be stand-in defaults)."""

    parsed: dict[str, Parsed | None]
    failed: frozenset[int]

    @classmethod
    def of(cls, parsed: dict[str, Parsed | None]) -> _Catalogue:
        failed = frozenset(id(e) for rows in parsed.values() for e, c in rows or () if c.failed)
        return cls(parsed, failed)

    def ok(self, entity: object) -> bool:
        return id(entity) not in self.failed

    def table(self, name: str) -> Parsed | None:
        return self.parsed.get(name)

    def clean(self, name: str) -> bool:
        """The table was read and none of its rows had errors."""
        rows = self.table(name)
        return rows is not None and all(self.ok(e) for e, _ in rows)


def _required_by(patients: Parsed | None) -> dict[str, list[str]]:
    """Activity id -> ids of patients who need at least one session of it."""
    needs: dict[str, list[str]] = {}
    for patient, _ in patients or ():
        for req in patient.requirements:
            if req.min_count > 0:
                needs.setdefault(req.activity_id, []).append(patient.id)
    return needs


def _undeliverable(cells: Cells, column: str, activity: Activity, problem: str, needs: dict[str, list[str]]) -> None:
    """A warning: the activity cannot be delivered with this week's staff and rooms.

    That is a fact about the clinic, not malformed input: the files mean what they say. When patients
    need the activity, the solve reports it (a strict solve: no timetable, with the pre-solve finding
    naming the activity, the skill or room and the patients, rule H5; best effort: those patients on the
    waitlist with that reason); when none needs it, the activity is simply never scheduled. The first
    case used to be an error, so ``solve --best-effort`` stopped as "bad input" (exit 1) instead of
    scheduling everyone else (an outside check, outside17: one patient needed a relapse-prevention group
    whose skill no staff member held).
    """
    patients = needs.get(activity.id)
    if patients:
        shown = ", ".join(patients[:5]) + (f" and {len(patients) - 5} more" if len(patients) > 5 else "")
        verb = "needs" if len(patients) == 1 else "need"
        cells.warn(column, (f"{problem}, but {shown} {verb} {activity.id}: no timetable can give it to them "
                            "(solve reports no timetable with the reason; best effort waitlists them)"))
    else:
        cells.warn(column, f"{problem}; {activity.id} cannot be scheduled (no patient needs it)")


def _check_activity_staff(activities: Parsed, staff: list[Staff], cat: _Catalogue) -> None:
    """Enough staff hold each activity's skill to run it."""
    needs = _required_by(cat.table("patients"))
    for activity, cells in activities:
        if not activity.skill or not cat.ok(activity):
            continue
        holders = [s.id for s in staff if activity.skill in s.skills]
        if not holders:
            near = sorted({k for s in staff for k in s.skills if k.lower() == activity.skill.lower()})
            hint = f" (staff hold '{near[0]}'; skills are case-sensitive)" if near else ""
            if near and needs.get(activity.id):
                # A skill staff do hold, misspelt in case, for an activity patients need: an error, as a
                # dangling reference is, rather than a week in which no one can deliver the activity.
                cells.error("skill", f"no staff member holds skill '{activity.skill}'{hint}")
                continue
            _undeliverable(cells, "skill", activity, f"no staff member holds skill '{activity.skill}'{hint}", needs)
        elif len(holders) < activity.staff_count:
            problem = (f"{activity.staff_count} staff with skill '{activity.skill}' are needed per session "
                       f"but only {len(holders)} ({', '.join(holders)}) hold it")
            _undeliverable(cells, "staff_count", activity, problem, needs)


def _check_activity_rooms(activities: Parsed, rooms: list[Room], cat: _Catalogue) -> None:
    """Each activity needing a room has a room of its kind that seats a minimal session."""
    needs = _required_by(cat.table("patients"))
    for activity, cells in activities:
        if activity.room_kind is RoomKind.NONE or not cat.ok(activity):
            continue
        fitting = [r.capacity for r in rooms if r.kind is activity.room_kind]
        if not fitting:
            _undeliverable(cells, "room_kind", activity, f"no room is of kind '{activity.room_kind.value}'", needs)
        elif activity.min_size > max(fitting):
            problem = f"the largest {activity.room_kind.value} room seats only {max(fitting)}"
            _undeliverable(cells, "min_size", activity, problem, needs)


def _eligible(patient: Patient, activity: Activity) -> bool:
    cohort_ok = activity.cohort is Cohort.ANY or activity.cohort == patient.cohort
    return cohort_ok and (activity.tag is None or activity.tag in patient.tags)


def _ineligible_reason(patient: Patient, activity: Activity) -> str:
    if activity.cohort is not Cohort.ANY and activity.cohort != patient.cohort:
        return f"it is for {activity.cohort.value} patients and {patient.id} is {patient.cohort.value}"
    return f"it is only for patients tagged '{activity.tag}'"


def _check_requirements(cells: Cells, patient: Patient, activities: dict[str, Activity], cat: _Catalogue) -> None:
    """Requirements name known activities the patient may attend."""
    for req in patient.requirements:
        activity = activities.get(req.activity_id)
        if activity is None:
            cells.error("requirements", f"'{req.activity_id}' is not an activity in the catalogue")
        elif req.max_count > 0 and cat.ok(activity) and cat.ok(patient) and not _eligible(patient, activity):
            reason = _ineligible_reason(patient, activity)
            cells.error("requirements", f"{patient.id} may not attend {activity.id}: {reason}")


def _with_primary_needed(patient: Patient, activities: dict[str, Activity]) -> list[Activity]:
    """Required activities the patient's primary therapist must deliver."""
    return [
        activities[r.activity_id]
        for r in patient.requirements
        if r.max_count > 0 and r.activity_id in activities and activities[r.activity_id].with_primary
    ]


def _check_primary(cells: Cells, patient: Patient, activities: dict[str, Activity], cat: _Catalogue) -> None:
    """The primary therapist exists, and can deliver every with-primary activity required."""
    needed = _with_primary_needed(patient, activities)
    therapist = patient.primary_therapist
    if cells.unreadable("primary_therapist"):
        return
    if therapist is None:
        if needed:
            cells.error("primary_therapist", f"{needed[0].id} is delivered by the primary therapist, but none is named")
        return
    staff = {s.id: s for s, _ in cat.table("staff") or ()}
    if cat.table("staff") is None:
        return
    if therapist not in staff:
        cells.error("primary_therapist", f"no staff member has id '{therapist}'")
        return
    for activity in needed:
        if cat.ok(activity) and cat.ok(staff[therapist]) and activity.skill not in staff[therapist].skills:
            # A fact about the staff, like a skill no one holds (``_undeliverable``): a warning, and the
            # solve reports it (rule H7: no timetable; best effort: the patient waitlisted with the reason).
            required = any(r.activity_id == activity.id and r.min_count > 0 for r in patient.requirements)
            outcome = (f"no timetable can give it to {patient.id} (solve reports no timetable with the reason; "
                       "best effort waitlists them)" if required else f"{patient.id} gets none")
            message = (f"{therapist} does not hold skill '{activity.skill}' needed for {activity.id}, which only "
                       f"the primary therapist may deliver: {outcome}")
            cells.warn("primary_therapist", message)


def _check_references(parsed: dict[str, Parsed | None]) -> None:
    """Cross-file checks; rows and tables that already had errors are not cascaded into more."""
    cat = _Catalogue.of(parsed)
    activities, patients = cat.table("activities"), cat.table("patients")
    if activities is not None and cat.clean("staff"):
        _check_activity_staff(activities, [s for s, _ in cat.table("staff")], cat)
    if activities is not None and cat.clean("rooms"):
        _check_activity_rooms(activities, [r for r, _ in cat.table("rooms")], cat)
    if patients is None or activities is None:
        return
    by_id = {a.id: a for a, _ in activities}
    for patient, cells in patients:
        _check_requirements(cells, patient, by_id, cat)
        _check_primary(cells, patient, by_id, cat)


# --------------------------------------------------------------------------- timetables


@dataclass(frozen=True)
class _Known:
    """The ids a timetable may name; None where the file could not be read (nothing is checked)."""

    activities: frozenset[str] | None
    staff: frozenset[str] | None
    rooms: frozenset[str] | None
    patients: frozenset[str] | None

    @classmethod
    def of(cls, scenario: Scenario) -> _Known:
        return cls(*(frozenset(e.id for e in group) for group in _groups(scenario)))

    @classmethod
    def of_parsed(cls, parsed: dict[str, Parsed | None]) -> _Known:
        names = ("activities", "staff", "rooms", "patients")
        return cls(*(None if parsed[n] is None else frozenset(e.id for e, _ in parsed[n]) for n in names))


def _groups(scenario: Scenario) -> tuple[tuple, ...]:
    return scenario.activities, scenario.staff, scenario.rooms, scenario.patients


def _session_times(cells: Cells) -> tuple[int, int]:
    """Start and end; the end must come after the start."""
    start = cells.required("start", parse_clock, None)
    end = cells.required("end", parse_clock, None)
    if start is None or end is None:
        return 0, 0
    if end <= start:
        starts, ends = timegrid.format_time(start), timegrid.format_time(end)
        cells.error("end", f"the session ends at {ends}, not after it starts at {starts}")
    return start, end


def _check_date(cells: Cells, day: int | None) -> None:
    """When given, the date falls on the row's day."""
    when = cells.get("date", parse_date, None)
    if when is not None and day is not None and when.weekday() != day:
        weekday = DAY_NAMES[when.weekday()]
        cells.error("date", f"{when.isoformat()} is a {weekday}, but the day column says {DAY_NAMES[day]}")


def _session(cells: Cells, seen: dict[str, int]) -> Session | None:
    """One sessions.csv row, or None when it has errors."""
    session_id = cells.text("session_id")
    if session_id and session_id in seen:
        cells.error("session_id", f"duplicate session id; already used on row {seen[session_id]}")
    seen.setdefault(session_id, cells.row.number)
    day = cells.required("day", parse_day_name, None)
    start, end = _session_times(cells)
    _check_date(cells, day)
    session = Session(
        day=day or 0, start=start, end=end,
        activity_id=cells.required("activity_id", str, ""),
        staff_ids=parse_items(cells.raw("staff_ids")),
        room_id=cells.optional_text("room_id"),
        patient_ids=parse_items(cells.raw("patient_ids")),
        pinned=cells.boolean("pinned", False),
        session_id=session_id,
    )
    return None if cells.failed else session


def _unknown(ids: tuple[str, ...], known: frozenset[str] | None) -> list[str]:
    return [] if known is None else [i for i in ids if i not in known]


def _known_patients(cells: Cells, session: Session, known: _Known) -> Session:
    """Unknown patients: an error on a pinned session, dropped with a warning otherwise."""
    missing = _unknown(session.patient_ids, known.patients)
    if not missing:
        return session
    listed = ", ".join(missing)
    if session.pinned:
        cells.error("patient_ids", f"pinned session names unknown patient(s) {listed}")
        return session
    cells.warn("patient_ids", f"unknown patient(s) {listed} (discharged?) left out of this past session")
    kept = tuple(p for p in session.patient_ids if p not in missing)
    return replace(session, patient_ids=kept)


def _check_session_refs(cells: Cells, session: Session, known: _Known) -> Session:
    """The activity, staff and room exist; unknown patients are handled by ``_known_patients``."""
    if _unknown((session.activity_id,), known.activities):
        cells.error("activity_id", f"no activity has id '{session.activity_id}'")
    missing_staff = _unknown(session.staff_ids, known.staff)
    if missing_staff:
        cells.error("staff_ids", f"no staff member has id {', '.join(repr(s) for s in missing_staff)}")
    if session.room_id is not None and _unknown((session.room_id,), known.rooms):
        cells.error("room_id", f"no room has id '{session.room_id}'")
    return _known_patients(cells, session, known)


def _timetable_from(table: Table, issues: Issues, known: _Known | None) -> Timetable:
    """Every row of a sessions table, in file order."""
    seen: dict[str, int] = {}
    sessions = []
    for cells in _rows(table, issues):
        session = _session(cells, seen)
        if session is not None and known is not None:
            session = _check_session_refs(cells, session, known)
        if session is not None:
            sessions.append(session)
    return Timetable(tuple(sessions))


def _single_table(path: Path, label: str, issues: Issues) -> Table | None:
    """A sessions table from a CSV file or from a workbook's sessions (else first) sheet."""
    if not path.is_file():
        issues.error(label, None, None, None, "no such file")
        return None
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return _checked(_csv_table(path, label, issues), "sessions", issues)
    sheets = _workbook_sheets(path, issues)
    if not sheets:
        if sheets is not None:
            issues.error(label, None, None, None, "the workbook has no sheets")
        return None
    names = {_sheet_key(n): n for n in sheets}
    sheet = names.get("sessions", names.get("previous_sessions", next(iter(sheets))))
    return _checked(_table_from_sheet(sheets[sheet], f"{label} [{sheet}]", issues), "sessions", issues)


# --------------------------------------------------------------------------- public API


def _read_tables(tables: dict[str, Table | None], issues: Issues) -> Scenario:
    """Parse every table and check the references between them."""
    program_table = tables.get("program")
    program_label = program_table.label if program_table else "program.csv"
    ctx = _guarded(issues, program_label, _ProgramRead(), _read_program, program_table, issues)
    builders = {"activities": _activity, "staff": _staff, "rooms": _room, "patients": _patient}
    parsed: dict[str, Parsed | None] = {}
    for name, build in builders.items():
        table = tables.get(name)
        label = table.label if table else f"{name}.csv"
        parsed[name] = _guarded(issues, label, None, _entities, table, issues, build, ctx)
    _guarded(issues, "scenario", None, _check_references, parsed)
    scenario = Scenario(ctx.program, *(tuple(e for e, _ in parsed[n] or ()) for n in builders))
    previous = tables.get("previous_sessions")
    if previous is not None:
        known = _Known.of_parsed(parsed)
        timetable = _guarded(issues, previous.label, None, _timetable_from, previous, issues, known)
        scenario = scenario.with_previous(timetable)
    return scenario


def read_scenario(path: str | Path) -> ReadResult:
    """Read a scenario folder or workbook; raise ScenarioError listing every problem."""
    path = Path(path)
    issues = Issues()
    tables = _guarded(issues, path.name, {}, _scenario_tables, path, issues)
    scenario = _guarded(issues, path.name, None, _read_tables, tables, issues)
    issues.raise_if_any()
    return ReadResult(scenario, tuple(issues.warnings))


def read_timetable(path: str | Path, scenario: Scenario | None = None, *, label: str | None = None) -> Timetable:
    """Read a sessions.csv-format file; with a scenario, check every id it names."""
    path = Path(path)
    label = label or path.name
    issues = Issues()
    table = _guarded(issues, label, None, _single_table, path, label, issues)
    known = _Known.of(scenario) if scenario is not None else None
    timetable = Timetable()
    if table is not None:
        timetable = _guarded(issues, label, Timetable(), _timetable_from, table, issues, known)
    issues.raise_if_any()
    for warning in issues.warnings:
        log.warning("%s", warning)
    return timetable


# --------------------------------------------------------------------------- one edited value (the app's tables)
# The app refuses an edit the importer would refuse, in the same words: each check below is the
# reader's own, asked about one program or patient through a stand-in for the cells it reads.


class _Collected:
    """Stands in for the reader's settings/cells: every value counts as written; problems are kept."""

    def __init__(self, values: dict[str, object] | None = None) -> None:
        self.values = values or {}
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def has(self, key: str) -> bool:
        return True

    def get(self, key: str, parse, default):
        return self.values.get(key, default)

    def error(self, key: str, message: str, value: str | None = None) -> None:
        self.errors.append(message)

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(message)


def program_refusal(program: Program) -> str | None:
    """Why the importer would refuse these program settings (week start on the first day, ...), or None."""
    collected = _Collected()
    _check_program(program, collected)
    return collected.errors[0] if collected.errors else None


def import_problems(scenario: Scenario, *, warnings: bool = False) -> list[InputError]:
    """The errors (with ``warnings``: the warnings) ``read_scenario`` would report for this scenario
    written as files (``write_scenario``), found in memory (nothing is written: it is health
    information): the app holds no data its own import would refuse. 3 ms for the 35-patient demo."""
    from scheduler.io.writer import SCENARIO_COLUMNS, scenario_tables  # the writer never imports the reader

    issues = Issues()
    tables: dict[str, Table | None] = {}
    for name, rows in scenario_tables(scenario).items():
        grid = [list(SCENARIO_COLUMNS[name])] + [[str(cell) for cell in row] for row in rows]
        label = f"{name}.csv"
        tables[name] = _checked(_table_from_grid(grid, label, issues), name, issues)
    _guarded(issues, "scenario", None, _read_tables, tables, issues)
    return list(issues.warnings if warnings else issues.errors)


def import_warning(before: Scenario, after: Scenario) -> str | None:
    """The first warning the import would give for ``after`` and not for ``before`` (e.g. a patient needs
    an activity no one left holds the skill for), or None."""
    known = {str(e) for e in import_problems(before, warnings=True)}
    return next((e.message for e in import_problems(after, warnings=True) if str(e) not in known), None)


_LAST_CHECKED: list = [None, ()]  # the scenario import_refusal last checked (immutable) and its errors


def _problems_of(scenario: Scenario) -> list[InputError]:
    """``import_problems(scenario)``, reusing the last result: an accepted edit's scenario is the next
    edit's starting one, so each edit reads back one scenario, not two."""
    if _LAST_CHECKED[0] is not scenario:
        _LAST_CHECKED[:] = [scenario, import_problems(scenario)]
    return list(_LAST_CHECKED[1])


def import_refusal(before: Scenario, after: Scenario) -> str | None:
    """Why an edit from ``before`` to ``after`` would leave data the import refuses (the first problem
    ``after`` has that ``before`` has not: an adult patient required to attend an adolescent group, a
    with-primary session and no primary therapist, ...), or None."""
    known = {str(e) for e in _problems_of(before)}
    new = [e for e in _problems_of(after) if str(e) not in known]
    if not new:
        return None
    more = f" (and {len(new) - 1} more problem(s) the import would report)" if len(new) > 1 else ""
    return new[0].message + more


def patient_refusal(program: Program, patient: Patient) -> str | None:
    """Why the importer would refuse or drop part of this patient (max days, preferred days), or None."""
    ctx = _ProgramRead(program=program, ok=True)
    collected = _Collected({"preferred_days": patient.preferred_days})
    _check_patient_limits(collected, patient, ctx)
    _preferred_days(collected, ctx)
    problems = collected.errors + [w.removesuffix("; ignored") for w in collected.warnings]
    return problems[0] if problems else None

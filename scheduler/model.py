"""The IOP domain: immutable, validated data that crosses every boundary.

Times are minutes since midnight; days are indices 0 (Mon) .. 6 (Sun). Hours
(limits and caps) are kept as the coordinator wrote them, in hours. Nothing
here knows about CP-SAT, SQL, pandas or Qt, and nothing here checks rules:
the rules live in ``scheduler.validate`` (and, independently, in ``solver``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import cached_property

DAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Mode(StrEnum):
    GROUP = "group"
    INDIVIDUAL = "individual"
    FAMILY = "family"


class RoomKind(StrEnum):
    GROUP = "group"
    OFFICE = "office"
    NONE = "none"


class Cohort(StrEnum):
    ADULT = "adult"
    ADOLESCENT = "adolescent"
    ANY = "any"


class HoursBasis(StrEnum):
    CONTACT = "contact"
    SPAN = "span"


# Soft goals in SPEC order: (code, name). The name is the key in program.csv
# (``weight_<name>``), in summary.json and in every SolveResult.
SOFT_GOALS: tuple[tuple[str, str], ...] = (
    ("S1", "preferences"),
    ("S2", "continuity"),
    ("S3", "stability"),
    ("S4", "balance"),
    ("S5", "efficiency"),
    ("S6", "spread"),
)
SOFT_GOAL_NAMES: tuple[str, ...] = tuple(name for _, name in SOFT_GOALS)


@dataclass(frozen=True, order=True)
class Window:
    """One open interval [start, end) on one day, in minutes since midnight."""

    day: int
    start: int
    end: int

    @property
    def minutes(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Availability:
    """A set of windows, sorted and merged. No windows means "whenever the program is open"."""

    windows: tuple[Window, ...] = ()

    @property
    def unrestricted(self) -> bool:
        return not self.windows

    def on_day(self, day: int) -> tuple[Window, ...]:
        return tuple(w for w in self.windows if w.day == day)


@dataclass(frozen=True)
class Weights:
    """Weight of each soft goal (SPEC section 5); defaults documented in docs/rules.md."""

    preferences: float = 3.0
    continuity: float = 2.0
    stability: float = 1.0
    balance: float = 1.0
    efficiency: float = 1.0
    spread: float = 1.0

    def of(self, name: str) -> float:
        return float(getattr(self, name))

    def as_dict(self) -> dict[str, float]:
        return {name: self.of(name) for name in SOFT_GOAL_NAMES}


@dataclass(frozen=True)
class Program:
    name: str = ""
    week_start: date | None = None
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    open: int = 8 * 60
    close: int = 21 * 60
    slot_minutes: int = 15
    max_gap_minutes: int = 15
    min_days: int = 3
    max_days: int = 5
    min_hours: float = 3.0
    max_hours: float = 5.0
    hours_basis: HoursBasis = HoursBasis.CONTACT
    min_week_hours: float = 9.0
    max_week_hours: float = 19.0
    weights: Weights = field(default_factory=Weights)

    @property
    def slots_per_day(self) -> int:
        return (self.close - self.open) // self.slot_minutes

    @property
    def first_day(self) -> int:
        """The week's first weekday index: week_start's weekday (Monday without one)."""
        return self.week_start.weekday() if self.week_start is not None else 0

    @property
    def week_days(self) -> tuple[int, ...]:
        """The program's days in the week's order (Sunday first in a week from Sunday)."""
        return tuple(sorted(self.days, key=lambda d: (d - self.first_day) % 7))

    def next_day(self, day: int) -> int | None:
        """The calendar day after ``day`` in this week, whose first day is week_start's weekday (Monday
        without one); None for the week's last day. S6 counts a patient's attended days whose next day
        is attended too: in a week from Sunday, Sun-Mon are consecutive; in a week from Monday, Sun is last."""
        return None if (day - self.first_day) % 7 == 6 else (day + 1) % 7

    def date_of(self, day: int) -> date | None:
        """Calendar date of a weekday index, counted from week_start's own weekday."""
        if self.week_start is None:
            return None
        offset = (day - self.week_start.weekday()) % 7
        return self.week_start + timedelta(days=offset)


# S2 (continuity) counts the facilitators of a patient's group sessions of activities with this skill
# (docs/rules.md). The validator spells it out on its own (scheduler/validate.py shares no rule code).
PROCESS_SKILL = "process"


@dataclass(frozen=True)
class Activity:
    id: str
    name: str
    mode: Mode
    duration_min: int
    min_size: int = 1
    max_size: int = 1
    skill: str = ""
    staff_count: int = 1
    room_kind: RoomKind = RoomKind.OFFICE
    cohort: Cohort = Cohort.ANY
    tag: str | None = None
    with_primary: bool = False
    in_block: bool = True

    @property
    def is_group(self) -> bool:
        return self.mode == Mode.GROUP

    @property
    def label(self) -> str:
        """The name for messages: the id when the name is empty (as exports show it)."""
        return self.name or self.id


@dataclass(frozen=True)
class Staff:
    id: str
    name: str = ""
    role: str = ""
    skills: frozenset[str] = frozenset()
    availability: Availability = field(default_factory=Availability)
    max_hours_day: float | None = None
    max_hours_week: float | None = None


@dataclass(frozen=True)
class Room:
    id: str
    name: str = ""
    kind: RoomKind = RoomKind.OFFICE
    capacity: int = 1
    availability: Availability = field(default_factory=Availability)


@dataclass(frozen=True)
class Requirement:
    """A weekly count of one activity for one patient: exact (min == max) or a range."""

    activity_id: str
    min_count: int
    max_count: int


@dataclass(frozen=True)
class Limits:
    """A patient's attendance limits with the program's defaults filled in."""

    min_days: int
    max_days: int
    min_hours: float
    max_hours: float
    min_week_hours: float
    max_week_hours: float


@dataclass(frozen=True)
class Patient:
    id: str
    name: str = ""
    cohort: Cohort = Cohort.ADULT
    tags: frozenset[str] = frozenset()
    min_days: int | None = None
    max_days: int | None = None
    min_hours: float | None = None
    max_hours: float | None = None
    min_week_hours: float | None = None
    max_week_hours: float | None = None
    availability: Availability = field(default_factory=Availability)
    family_availability: Availability = field(default_factory=Availability)
    primary_therapist: str | None = None
    requirements: tuple[Requirement, ...] = ()
    preferred_days: tuple[int, ...] = ()
    status: str = ""

    def limits(self, program: Program) -> Limits:
        def pick(own, default):
            return default if own is None else own

        return Limits(
            min_days=pick(self.min_days, program.min_days),
            max_days=pick(self.max_days, program.max_days),
            min_hours=pick(self.min_hours, program.min_hours),
            max_hours=pick(self.max_hours, program.max_hours),
            min_week_hours=pick(self.min_week_hours, program.min_week_hours),
            max_week_hours=pick(self.max_week_hours, program.max_week_hours),
        )

    def requirement(self, activity_id: str) -> Requirement | None:
        for req in self.requirements:
            if req.activity_id == activity_id:
                return req
        return None

    @property
    def initials(self) -> str:
        parts = [p for p in self.name.replace(".", " ").split() if p]
        return ".".join(p[0].upper() for p in parts) + "." if parts else self.id


@dataclass(frozen=True, order=True)
class Session:
    """One delivered session: an activity at a time, with its staff, room and patients."""

    day: int
    start: int
    end: int
    activity_id: str
    staff_ids: tuple[str, ...] = ()
    room_id: str | None = None
    patient_ids: tuple[str, ...] = ()
    pinned: bool = False
    session_id: str = ""

    @property
    def minutes(self) -> int:
        return self.end - self.start

    def key(self) -> tuple:
        """What a pinned session keeps exactly (H9): day, times, activity, staff, room and patients,
        each id once and sorted; not the session id or the pin flag."""
        return (self.day, self.start, self.end, self.activity_id, tuple(sorted(set(self.staff_ids))),
                self.room_id or "", tuple(sorted(set(self.patient_ids))))

    def overlaps(self, other: Session) -> bool:
        return self.day == other.day and self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Timetable:
    sessions: tuple[Session, ...] = ()

    def numbered(self, first_day: int = 0) -> Timetable:
        """Sorted by day (in the week's order: ``first_day`` is its first weekday, ``Program.first_day``)
        and time, every session with its own id: a pinned session keeps last week's id (the first of
        any it shares); the others are numbered S001, S002, ... in that order, skipping the ids pinned
        sessions hold. (Until session 14 an id was kept wherever present, so a timetable merged from
        renumbered parts, or holding a pinned S020, could list S001 twice; until session 17 a week
        from Sunday numbered its Sunday sessions after Saturday's.)"""
        ordered = sorted(self.sessions, key=lambda s: ((s.day - first_day) % 7, s.start, s.activity_id, s.staff_ids,
                                                       s.room_id or ""))
        width = max(3, len(str(len(ordered))))
        kept: set[str] = set()
        for s in ordered:
            if s.pinned and s.session_id:
                kept.add(s.session_id)
        out, n, held = [], 0, set()
        for s in ordered:
            if s.pinned and s.session_id and s.session_id not in held:
                held.add(s.session_id)
                out.append(s)
                continue
            n += 1
            while f"S{n:0{width}d}" in kept:
                n += 1
            out.append(replace(s, session_id=f"S{n:0{width}d}"))
        return Timetable(tuple(out))

    def of_patient(self, patient_id: str) -> tuple[Session, ...]:
        return tuple(s for s in self.sessions if patient_id in s.patient_ids)

    def of_staff(self, staff_id: str) -> tuple[Session, ...]:
        return tuple(s for s in self.sessions if staff_id in s.staff_ids)

    def of_room(self, room_id: str) -> tuple[Session, ...]:
        return tuple(s for s in self.sessions if s.room_id == room_id)

    @property
    def pinned(self) -> tuple[Session, ...]:
        return tuple(s for s in self.sessions if s.pinned)


@dataclass(frozen=True)
class Scenario:
    program: Program
    activities: tuple[Activity, ...] = ()
    staff: tuple[Staff, ...] = ()
    rooms: tuple[Room, ...] = ()
    patients: tuple[Patient, ...] = ()
    previous: Timetable | None = None

    @cached_property
    def activity_by_id(self) -> dict[str, Activity]:
        return {a.id: a for a in self.activities}

    @cached_property
    def staff_by_id(self) -> dict[str, Staff]:
        return {s.id: s for s in self.staff}

    @cached_property
    def room_by_id(self) -> dict[str, Room]:
        return {r.id: r for r in self.rooms}

    @cached_property
    def patient_by_id(self) -> dict[str, Patient]:
        return {p.id: p for p in self.patients}

    def with_previous(self, previous: Timetable | None) -> Scenario:
        return replace(self, previous=previous)


def scenario_without(scenario: Scenario, patient_ids) -> Scenario:
    """The scenario without these patients, and without last week's sessions that name them (a
    best-effort timetable answers this scenario: its waitlisted patients, and the pinned sessions
    that go with them, are not held to the rules)."""
    drop = set(patient_ids)
    if not drop:
        return scenario
    previous = scenario.previous
    if previous is not None:
        previous = Timetable(tuple(s for s in previous.sessions if not drop.intersection(s.patient_ids)))
    return replace(
        scenario,
        patients=tuple(p for p in scenario.patients if p.id not in drop),
        previous=previous,
    )

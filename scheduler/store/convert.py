"""Domain dataclasses <-> rows: availability as text, sets sorted and ';'-joined, enums as their values."""

from __future__ import annotations

import math

from scheduler.model import (
    DAY_NAMES,
    SOFT_GOAL_NAMES,
    Activity,
    Cohort,
    HoursBasis,
    Mode,
    Patient,
    Program,
    Requirement,
    Room,
    RoomKind,
    Session,
    Staff,
    Weights,
)
from scheduler.store.rows import (
    ActivityRow,
    PatientRow,
    ProgramRow,
    RequirementRow,
    RoomRow,
    SessionRow,
    StaffRow,
)
from scheduler.timegrid import format_availability, parse_availability, parse_day


def join_set(items: frozenset[str]) -> str:
    return join_list(tuple(sorted(items)))


def join_list(items: tuple[str, ...]) -> str:
    """Ids -> ``"a;b"``; an id holding ``;`` could not be read back, so it is refused."""
    for item in items:
        if ";" in item or not item:
            raise ValueError(f"{item!r} cannot be stored in a ';'-separated list")
    return ";".join(items)


def split(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split(";") if part)


def day_name(day: int) -> str:
    if not 0 <= day < len(DAY_NAMES):
        raise ValueError(f"day {day} is not a weekday index (0 = Mon .. 6 = Sun)")
    return DAY_NAMES[day]


def days_text(days: tuple[int, ...]) -> str:
    """Day indices -> ``"Mon,Wed"``, keeping the given order (ranges are not folded)."""
    return ",".join(day_name(d) for d in days)


def days_of(text: str) -> tuple[int, ...]:
    return tuple(parse_day(part) for part in text.split(",") if part)


def finite_or_none(value: object) -> float | None:
    """A number for a Float column; NaN and non-numbers become NULL (SQLite stores NaN as NULL anyway)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return None if math.isnan(value) else float(value)


def program_row(p: Program, previous_id: int | None) -> ProgramRow:
    weights = {f"weight_{name}": p.weights.of(name) for name in SOFT_GOAL_NAMES}
    return ProgramRow(
        id=1,
        name=p.name,
        week_start=p.week_start,
        days=days_text(p.days),
        open_min=p.open,
        close_min=p.close,
        slot_minutes=p.slot_minutes,
        max_gap_minutes=p.max_gap_minutes,
        min_days=p.min_days,
        max_days=p.max_days,
        min_hours=p.min_hours,
        max_hours=p.max_hours,
        hours_basis=p.hours_basis.value,
        min_week_hours=p.min_week_hours,
        max_week_hours=p.max_week_hours,
        previous_id=previous_id,
        **weights,
    )


def program_of(r: ProgramRow) -> Program:
    weights = Weights(**{name: getattr(r, f"weight_{name}") for name in SOFT_GOAL_NAMES})
    return Program(
        name=r.name,
        week_start=r.week_start,
        days=days_of(r.days),
        open=r.open_min,
        close=r.close_min,
        slot_minutes=r.slot_minutes,
        max_gap_minutes=r.max_gap_minutes,
        min_days=r.min_days,
        max_days=r.max_days,
        min_hours=r.min_hours,
        max_hours=r.max_hours,
        hours_basis=HoursBasis(r.hours_basis),
        min_week_hours=r.min_week_hours,
        max_week_hours=r.max_week_hours,
        weights=weights,
    )


def activity_row(a: Activity, position: int) -> ActivityRow:
    return ActivityRow(
        id=a.id,
        position=position,
        name=a.name,
        mode=a.mode.value,
        duration_min=a.duration_min,
        min_size=a.min_size,
        max_size=a.max_size,
        skill=a.skill,
        staff_count=a.staff_count,
        room_kind=a.room_kind.value,
        cohort=a.cohort.value,
        tag=a.tag,
        with_primary=a.with_primary,
        in_block=a.in_block,
    )


def activity_of(r: ActivityRow) -> Activity:
    return Activity(
        id=r.id,
        name=r.name,
        mode=Mode(r.mode),
        duration_min=r.duration_min,
        min_size=r.min_size,
        max_size=r.max_size,
        skill=r.skill,
        staff_count=r.staff_count,
        room_kind=RoomKind(r.room_kind),
        cohort=Cohort(r.cohort),
        tag=r.tag,
        with_primary=r.with_primary,
        in_block=r.in_block,
    )


def staff_row(s: Staff, position: int) -> StaffRow:
    return StaffRow(
        id=s.id,
        position=position,
        name=s.name,
        role=s.role,
        skills=join_set(s.skills),
        availability=format_availability(s.availability),
        max_hours_day=s.max_hours_day,
        max_hours_week=s.max_hours_week,
    )


def staff_of(r: StaffRow) -> Staff:
    return Staff(
        id=r.id,
        name=r.name,
        role=r.role,
        skills=frozenset(split(r.skills)),
        availability=parse_availability(r.availability),
        max_hours_day=r.max_hours_day,
        max_hours_week=r.max_hours_week,
    )


def room_row(r: Room, position: int) -> RoomRow:
    return RoomRow(
        id=r.id,
        position=position,
        name=r.name,
        kind=r.kind.value,
        capacity=r.capacity,
        availability=format_availability(r.availability),
    )


def room_of(r: RoomRow) -> Room:
    availability = parse_availability(r.availability)
    return Room(id=r.id, name=r.name, kind=RoomKind(r.kind), capacity=r.capacity, availability=availability)


def patient_row(p: Patient, position: int) -> PatientRow:
    return PatientRow(
        id=p.id,
        position=position,
        name=p.name,
        cohort=p.cohort.value,
        tags=join_set(p.tags),
        min_days=p.min_days,
        max_days=p.max_days,
        min_hours=p.min_hours,
        max_hours=p.max_hours,
        min_week_hours=p.min_week_hours,
        max_week_hours=p.max_week_hours,
        availability=format_availability(p.availability),
        family_availability=format_availability(p.family_availability),
        primary_therapist=p.primary_therapist,
        preferred_days=days_text(p.preferred_days),
        status=p.status,
    )


def requirement_rows(p: Patient) -> list[RequirementRow]:
    return [
        RequirementRow(
            patient_id=p.id, activity_id=q.activity_id, position=n, min_count=q.min_count, max_count=q.max_count
        )
        for n, q in enumerate(p.requirements)
    ]


def patient_of(r: PatientRow, requirements: list[RequirementRow]) -> Patient:
    return Patient(
        id=r.id,
        name=r.name,
        cohort=Cohort(r.cohort),
        tags=frozenset(split(r.tags)),
        min_days=r.min_days,
        max_days=r.max_days,
        min_hours=r.min_hours,
        max_hours=r.max_hours,
        min_week_hours=r.min_week_hours,
        max_week_hours=r.max_week_hours,
        availability=parse_availability(r.availability),
        family_availability=parse_availability(r.family_availability),
        primary_therapist=r.primary_therapist,
        requirements=tuple(Requirement(q.activity_id, q.min_count, q.max_count) for q in requirements),
        preferred_days=days_of(r.preferred_days),
        status=r.status,
    )


def session_row(s: Session, timetable_id: int, position: int) -> SessionRow:
    return SessionRow(
        timetable_id=timetable_id,
        position=position,
        session_id=s.session_id,
        day=day_name(s.day),
        start_min=s.start,
        end_min=s.end,
        activity_id=s.activity_id,
        staff_ids=join_list(s.staff_ids),
        room_id=s.room_id,
        patient_ids=join_list(s.patient_ids),
        pinned=s.pinned,
    )


def session_of(r: SessionRow) -> Session:
    return Session(
        day=parse_day(r.day),
        start=r.start_min,
        end=r.end_min,
        activity_id=r.activity_id,
        staff_ids=split(r.staff_ids),
        room_id=r.room_id,
        patient_ids=split(r.patient_ids),
        pinned=r.pinned,
        session_id=r.session_id,
    )

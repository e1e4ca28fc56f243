"""Micro scenarios for the solver tests: built in code, small enough that CP-SAT proves optimality in seconds.

Every micro clinic is one to three days with narrow opening hours (typically 09:00-12:00),
two to five patients, one to three staff and one or two rooms. Patient limits default to
"anything from one 1-hour block a week" so that each scenario states only the limits it
is about. Availability strings are narrow on purpose: the model grows with the number of
possible start times.

Conventions:

- ``program()`` : Mon only, 09:00-12:00, 15-min slots, max gap 0 (sessions back to back),
  contact hours, default weights (preferences 3, continuity 2, stability 1, balance 1,
  efficiency 1, spread 1).
- ``patient()`` : adult, 1 day, 1-3 h a day, 1-19 h a week; available ``Mon 09:00-12:00``.
- ``staff()`` / ``room()`` / ``group()`` / ``individual()`` : compact constructors.
- ``micro()`` : assemble a Scenario.
- ``solve_micro()`` : solve with a short time limit and two workers, fixed seed.
- ``sess()`` : a Session from text, as in tests/validate_fixtures.py.
"""

from __future__ import annotations

from dataclasses import replace

from scheduler.model import (
    Activity,
    Cohort,
    HoursBasis,
    Mode,
    Patient,
    Program,
    Requirement,
    Room,
    RoomKind,
    Scenario,
    Session,
    Staff,
    Timetable,
    Weights,
)
from scheduler.timegrid import parse_availability, parse_days, parse_time

MICRO_TIME_LIMIT = 10.0


def program(days: str = "Mon", open_: str = "09:00", close: str = "12:00", *, weights: Weights | None = None,
            **changes) -> Program:
    base = Program(
        name="Micro IOP",
        days=parse_days(days),
        open=parse_time(open_),
        close=parse_time(close),
        slot_minutes=15,
        max_gap_minutes=0,
        min_days=1,
        max_days=1,
        min_hours=1,
        max_hours=3,
        hours_basis=HoursBasis.CONTACT,
        min_week_hours=1,
        max_week_hours=19,
        weights=weights or Weights(),
    )
    return replace(base, **changes)


def reqs(text: str) -> tuple[Requirement, ...]:
    """``"PROC=1; IND=0-1"`` -> requirements."""
    out = []
    for part in text.split(";"):
        if not part.strip():
            continue
        activity_id, _, count = part.strip().partition("=")
        low, _, high = count.partition("-")
        out.append(Requirement(activity_id.strip(), int(low), int(high or low)))
    return tuple(out)


def group(aid: str, duration: int = 60, *, min_size: int = 1, max_size: int = 8, skill: str = "process",
          cohort: Cohort = Cohort.ANY, staff_count: int = 1, room_kind: RoomKind = RoomKind.GROUP,
          tag: str | None = None, name: str | None = None) -> Activity:
    return Activity(aid, name or f"{aid} group", Mode.GROUP, duration, min_size=min_size, max_size=max_size,
                    skill=skill, staff_count=staff_count, room_kind=room_kind, cohort=cohort, tag=tag)


def individual(aid: str = "IND", duration: int = 60, *, skill: str = "therapy", with_primary: bool = True,
               room_kind: RoomKind = RoomKind.OFFICE, name: str | None = None) -> Activity:
    return Activity(aid, name or "Individual therapy", Mode.INDIVIDUAL, duration, skill=skill,
                    with_primary=with_primary, room_kind=room_kind)


def family(aid: str = "FAM", duration: int = 60, *, skill: str = "therapy", room_kind: RoomKind = RoomKind.OFFICE) -> Activity:
    return Activity(aid, "Family therapy", Mode.FAMILY, duration, skill=skill, with_primary=True,
                    room_kind=room_kind, in_block=False)


def staff(sid: str, skills: str = "process", availability: str = "", *, name: str | None = None,
          max_hours_day: float | None = None, max_hours_week: float | None = None) -> Staff:
    return Staff(sid, name or f"Staff {sid}", "LCSW", frozenset(skills.split()), parse_availability(availability),
                 max_hours_day=max_hours_day, max_hours_week=max_hours_week)


def room(rid: str, kind: RoomKind = RoomKind.GROUP, capacity: int = 8, availability: str = "") -> Room:
    return Room(rid, f"Room {rid}", kind, capacity, parse_availability(availability))


def patient(pid: str, requirements: str, availability: str = "Mon 09:00-12:00", *, name: str | None = None,
            cohort: Cohort = Cohort.ADULT, tags: str = "", primary: str | None = None,
            preferred: str = "", family_availability: str = "", status: str = "continuing", **limits) -> Patient:
    return Patient(
        pid,
        name or f"Pat {pid}",
        cohort,
        frozenset(tags.split()),
        availability=parse_availability(availability),
        family_availability=parse_availability(family_availability),
        primary_therapist=primary,
        requirements=reqs(requirements),
        preferred_days=parse_days(preferred) if preferred else (),
        status=status,
        **limits,
    )


def micro(patients, activities, staff_members, rooms, prog: Program | None = None,
          previous: Timetable | None = None) -> Scenario:
    return Scenario(
        program=prog or program(),
        activities=tuple(activities),
        staff=tuple(staff_members),
        rooms=tuple(rooms),
        patients=tuple(patients),
        previous=previous,
    )


def sess(day: str, start: str, end: str, activity: str, staff_ids: str, room_id: str | None, patients: str,
         pinned: bool = False) -> Session:
    """``sess("Mon", "09:00", "10:00", "PROC", "S1", "R1", "P1 P2")``: ids separated by spaces."""
    return Session(
        day=parse_days(day)[0],
        start=parse_time(start),
        end=parse_time(end),
        activity_id=activity,
        staff_ids=tuple(staff_ids.split()),
        room_id=room_id,
        patient_ids=tuple(patients.split()),
        pinned=pinned,
    )


def solve_micro(scenario: Scenario, time_limit: float = MICRO_TIME_LIMIT, **params):
    from solver import SolveParams, solve

    return solve(scenario, SolveParams(time_limit=time_limit, workers=2, seed=0, **params))


def key(s: Session) -> tuple:
    """A session without its id or pin flag, ids sorted: for comparing timetables."""
    return (s.day, s.start, s.end, s.activity_id, tuple(sorted(s.staff_ids)), s.room_id or "",
            tuple(sorted(s.patient_ids)))


def describe(timetable: Timetable | None) -> str:
    """A readable dump of a timetable for assertion messages."""
    if timetable is None:
        return "<no timetable>"
    from scheduler.model import DAY_NAMES
    from scheduler.timegrid import format_time

    lines = []
    for s in sorted(timetable.sessions):
        lines.append(
            f"{DAY_NAMES[s.day]} {format_time(s.start)}-{format_time(s.end)} {s.activity_id} "
            f"[{' '.join(s.staff_ids)}] {s.room_id or '-'} {' '.join(s.patient_ids)}{' pin' if s.pinned else ''}"
        )
    return "\n".join(lines)

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


# ---------------------------------------------------------------- named micro clinics with hand-computed optima
#
# Each returns (scenario, expected objective, expected term values). The derivation is
# in the docstring; tests/test_solver.py checks the solver reaches exactly that optimum.


def preferences_choose_days() -> tuple[Scenario, float, dict[str, float]]:
    """Mon-Wed, one PROC hour a day (09:00-10:00), one facilitator, one room.

    P1 and P2 each need PROC=2 on exactly 2 days. P1 prefers Mon,Wed; P2 prefers Mon,Tue.
    Cost = 3 x (days off preference) + (group sessions = days used by anyone) + (adjacent day pairs).

        P1 {Mon,Wed} P2 {Mon,Tue}: pref 0, sessions Mon,Tue,Wed = 3, spread 0+1 = 1  -> 4  (optimum)
        P1 {Mon,Wed} P2 {Mon,Wed}: pref 3 (P2 Wed), sessions 2, spread 0          -> 5
        P1 {Mon,Tue} P2 {Mon,Tue}: pref 3 (P1 Tue), sessions 2, spread 2          -> 7
        any other choice puts someone off preference twice or adds spread          -> >= 6
    """
    scn = micro(
        [patient("P1", "PROC=2", "Mon-Wed 09:00-10:00", preferred="Mon,Wed", min_days=2, max_days=2),
         patient("P2", "PROC=2", "Mon-Wed 09:00-10:00", preferred="Mon,Tue", min_days=2, max_days=2)],
        [group("PROC")], [staff("S1")], [room("R1")], program("Mon-Wed"),
    )
    return scn, 4.0, {"efficiency": 3, "spread": 1}


def small_groups_run_twice() -> tuple[Scenario, float, dict[str, float]]:
    """Mon 09:00-12:00, three patients each need PROC=1, max_size 2: two sessions are unavoidable.

    ceil(3 / 2) = 2 group sessions (S5 = 2); nothing else costs: no preferences, no
    therapists (no primary), one day. Optimum 2.
    """
    scn = micro([patient(f"P{i}", "PROC=1") for i in (1, 2, 3)],
                [group("PROC", max_size=2)], [staff("S1")], [room("R1")])
    return scn, 2.0, {"efficiency": 2}


def balance_two_therapists() -> tuple[Scenario, float, dict[str, float]]:
    """Mon 09:00-11:00, weight_balance 2. P1 (primary T1) and P2 (primary T2) each need PROC=1 and IND=1, 2 h a day.

    T1 and T2 both lead PROC and do therapy; one group room, two offices.
        one shared PROC (S5 1): its leader has 2 h, the other 1 h -> balance 1 -> 1 + 2 x 1 = 3
        two PROC sessions, one per therapist (P1 PROC 09 with T1 while P2 has IND with T2,
        then swap): both therapists 2 h, balance 0 -> 2 + 0 = 2  (optimum)
    """
    scn = micro(
        [patient("P1", "PROC=1; IND=1", "Mon 09:00-11:00", primary="T1", min_hours=2),
         patient("P2", "PROC=1; IND=1", "Mon 09:00-11:00", primary="T2", min_hours=2)],
        [group("PROC"), individual()],
        [staff("T1", "process therapy"), staff("T2", "process therapy")],
        [room("G"), room("O1", RoomKind.OFFICE, 1), room("O2", RoomKind.OFFICE, 1)],
        program(close="11:00", weights=Weights(balance=2)),
    )
    return scn, 2.0, {"efficiency": 2, "balance": 0}


def fractional_balance() -> tuple[Scenario, float, dict[str, float]]:
    """Mon 09:00-11:00, weight_balance 1.5. P1 (primary T1) needs IND (60) and BRIEF (30); P2 (primary T2) needs IND.

    Both are with_primary, so T1 works 90 min and T2 60 min whatever the times:
    balance (90 - 60) / 60 = 0.5 h, no groups -> objective 1.5 x 0.5 = 0.75.
    """
    scn = micro(
        [patient("P1", "IND=1; BRIEF=1", "Mon 09:00-11:00", primary="T1"),
         patient("P2", "IND=1", "Mon 09:00-11:00", primary="T2")],
        [individual(), individual("BRIEF", 30, name="Brief check-in")],
        [staff("T1", "therapy"), staff("T2", "therapy")],
        [room("O1", RoomKind.OFFICE, 1), room("O2", RoomKind.OFFICE, 1)],
        program(close="11:00", weights=Weights(balance=1.5)),
    )
    return scn, 0.75, {"balance": 0.5}


def continuity_vs_preferences() -> tuple[Scenario, float, dict[str, float]]:
    """Mon-Wed 09:00-10:00. P1 needs PROC=2 on exactly 2 days, prefers Mon,Wed. S1 leads PROC on Mon only, S2 Tue-Wed.

        Mon+Wed: facilitators S1,S2 -> continuity 1 (x2), pref 0, spread 0, 2 sessions -> 4 (optimum)
        Tue+Wed: S2,S2 -> continuity 0, pref 1 (x3), spread 1, 2 sessions            -> 6
        Mon+Tue: continuity 1 (x2), pref 1 (x3), spread 1, 2 sessions                 -> 8
    """
    scn = micro(
        [patient("P1", "PROC=2", "Mon-Wed 09:00-10:00", preferred="Mon,Wed", min_days=2, max_days=2)],
        [group("PROC")],
        [staff("S1", "process", "Mon 09:00-12:00"), staff("S2", "process", "Tue-Wed 09:00-12:00")],
        [room("R1")], program("Mon-Wed"),
    )
    return scn, 4.0, {"continuity": 1, "efficiency": 2}


OPTIMUM_CASES = {
    "preferences choose days": preferences_choose_days,
    "small groups run twice": small_groups_run_twice,
    "balance between two therapists": balance_two_therapists,
    "fractional balance": fractional_balance,
    "continuity against preferences": continuity_vs_preferences,
}


def pinned_and_previous(p2_status: str = "new") -> Scenario:
    """Mon 09:00-12:00, gap 0. P1 (continuing) and P2 need PROC=1 and CBT=1, exactly 2 h.

    Last week: PROC pinned at the odd time 10:15-11:15 (S1, R1, P1+P2), and an unpinned
    CBT at 09:00-10:00. With no gap allowed and closing at 12:00, the CBT must sit at
    09:15-10:15 next to the pinned PROC, so last week's 09:00 CBT cannot be repeated:
    S3 counts it once per non-new patient in it.
        P2 new:        S5 2 + S3 1 = 3
        P2 continuing: S5 2 + S3 2 = 4
    """
    previous = Timetable((
        sess("Mon", "10:15", "11:15", "PROC", "S1", "R1", "P1 P2", pinned=True),
        sess("Mon", "09:00", "10:00", "CBT", "S1", "R1", "P1 P2"),
    ))
    return micro(
        [patient("P1", "PROC=1; CBT=1", min_hours=2, max_hours=2, status="continuing"),
         patient("P2", "PROC=1; CBT=1", min_hours=2, max_hours=2, status=p2_status)],
        [group("PROC"), group("CBT", skill="cbt")],
        [staff("S1", "process cbt")], [room("R1")], previous=previous,
    )


def oversubscribed_therapist() -> Scenario:
    """Mon 09:00-11:00: three patients each need IND=1 with their primary T1, who works only those 2 h.

    At most two of the three fit; best effort waitlists one, strict mode is infeasible.
    """
    return micro(
        [patient(f"P{i}", "IND=1", "Mon 09:00-11:00", primary="T1", name=f"Pat Number{i}") for i in (1, 2, 3)],
        [individual()], [staff("T1", "therapy", "Mon 09:00-11:00", name="Dana Reyes")],
        [room("O1", RoomKind.OFFICE, 1)], program(close="11:00"),
    )


def oversubscribed_group() -> Scenario:
    """Mon 09:00-11:00: three patients available only 09:00-10:00 each need PROC=1; max_size 2, one facilitator.

    Only one PROC can run in that hour, so one patient is left out. The pre-solve
    arithmetic does not see this (it is a packing problem); the search proves it.
    """
    return micro(
        [patient(f"P{i}", "PROC=1", "Mon 09:00-10:00", name=f"Pat Number{i}") for i in (1, 2, 3)],
        [group("PROC", max_size=2)], [staff("S1")], [room("R1")], program(close="11:00"),
    )


def cli_clinic() -> Scenario:
    """A named two-day micro clinic for the CLI tests (week_start set, so exports carry dates).

    Mon-Tue 09:00-12:00. Three adults (names are full names, to test de-identification):
    P1 and P2 (primary T1) need PROC=1 and IND=1 (2 h); P3 (primary T2) needs PROC=1 and
    IND=1 and is available Tue only. P1 is available 09:00-11:00 only (a session moved
    to 11:00 breaks H3 for P1 without leaving opening hours).
    """
    from datetime import date

    return micro(
        [patient("P1", "PROC=1; IND=1", "Mon-Tue 09:00-11:00", name="Annabel Quartermaine", primary="T1",
                 min_hours=2, max_hours=2),
         patient("P2", "PROC=1; IND=1", "Mon-Tue 09:00-12:00", name="Cornelius Zabriskie", primary="T1",
                 min_hours=2, max_hours=2, preferred="Mon"),
         patient("P3", "PROC=1; IND=1", "Tue 09:00-12:00", name="Evangeline Fairweather", primary="T2",
                 min_hours=2, max_hours=2, status="new")],
        [group("PROC", name="Process group"), individual()],
        [staff("T1", "process therapy", name="Dana Reyes"), staff("T2", "process therapy", name="Ivan Park")],
        [room("G1"), room("O1", RoomKind.OFFICE, 1), room("O2", RoomKind.OFFICE, 1)],
        program("Mon-Tue", week_start=date(2026, 11, 30)),
    )

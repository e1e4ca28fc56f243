"""Small infeasible scenarios that only the solver-based explanation can catch.

Every scenario here passes the pre-solve checks (``solver.explain_checks.precheck``
returns ``[]``): each check looks at one person, one skill or one room kind at a time,
and each of these conflicts needs two or more of them together. The CP-SAT route of
``solver.explain.explain`` must find and name them.

All cases share a tiny clinic ("Lakeside IOP (solver corpus)"): Mon-Wed 09:00-13:00,
a patient's day may be as short as 1 h, four staff, one group room, two offices. They
stay small (2-5 patients) so CP-SAT proves infeasibility in well under a second.

``CORPUS[name]()`` returns ``(scenario, expected_rule, expected_subjects)`` like
``tests/infeasible_corpus.py``: ``expected_rule`` is the rule of one per-rule finding
that ``explain`` must report (``None``: no particular one), and ``expected_subjects``
are ids every minimal explanation must name. ``RELAXED[name]()`` is the same scenario
with one fact about one of those subjects relaxed (a longer shift, a higher cap, one
more day); it has a timetable, which re-verifies that the named conflict was the real one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from scheduler.model import (
    Activity,
    Cohort,
    Mode,
    Patient,
    Program,
    Requirement,
    Room,
    RoomKind,
    Scenario,
    Staff,
)
from scheduler.timegrid import parse_availability, parse_time

Case = tuple[Scenario, str | None, tuple[str, ...]]

PROGRAM = Program(
    name="Lakeside IOP (solver corpus)",
    days=(0, 1, 2),
    open=parse_time("09:00"),
    close=parse_time("13:00"),
    max_gap_minutes=60,
    min_days=1,
    max_days=3,
    min_hours=1,
    max_hours=4,
    min_week_hours=1,
    max_week_hours=12,
)

ACTIVITIES = (
    Activity("PROC", "Process Group", Mode.GROUP, 60, 2, 8, "process", room_kind=RoomKind.GROUP, cohort=Cohort.ADULT),
    Activity("CBT", "CBT Skills", Mode.GROUP, 60, 2, 8, "cbt", room_kind=RoomKind.GROUP, cohort=Cohort.ADULT),
    Activity("RP", "Relapse Prevention", Mode.GROUP, 60, 3, 8, "sud", room_kind=RoomKind.GROUP,
             cohort=Cohort.ADULT, tag="SUD"),
    Activity("IND", "Individual Therapy", Mode.INDIVIDUAL, 60, skill="therapy", room_kind=RoomKind.OFFICE,
             with_primary=True),
    Activity("MED", "Medication Management", Mode.INDIVIDUAL, 30, skill="prescriber", room_kind=RoomKind.OFFICE),
)

WEEK = "Mon-Wed 09:00-13:00"

STAFF = (
    Staff("T1", "Sam Ortiz", "LCSW", frozenset({"process", "cbt", "sud", "therapy"}), parse_availability(WEEK), 4, 12),
    Staff("T2", "Priya Nair", "LMFT", frozenset({"cbt", "therapy"}), parse_availability(WEEK), 4, 12),
    Staff("T3", "Jordan Blake", "LPC", frozenset({"therapy"}), parse_availability(WEEK), 4, 12),
    Staff("DR", "Dr Carla Reyes", "Psychiatrist", frozenset({"prescriber"}), parse_availability(WEEK), 4, 12),
)

ROOMS = (
    Room("G1", "Group Room", RoomKind.GROUP, 10),
    Room("O1", "Office 1", RoomKind.OFFICE, 2),
    Room("O2", "Office 2", RoomKind.OFFICE, 2),
)


def _reqs(text: str) -> tuple[Requirement, ...]:
    out = []
    for part in text.split(";"):
        aid, _, count = part.strip().partition("=")
        lo, _, hi = count.partition("-")
        out.append(Requirement(aid.strip(), int(lo), int(hi or lo)))
    return tuple(out)


def _patient(pid, name, reqs, primary="T1", *, availability=WEEK, tags="", **kw) -> Patient:
    return Patient(
        id=pid,
        name=name,
        cohort=Cohort.ADULT,
        tags=frozenset(t for t in tags.split(";") if t),
        availability=parse_availability(availability),
        primary_therapist=primary,
        requirements=_reqs(reqs),
        status="continuing",
        **kw,
    )


def _clinic(*patients: Patient, staff: dict[str, dict] | None = None) -> Scenario:
    """The shared clinic with these patients; ``staff`` patches staff members by id."""
    patches = staff or {}
    members = tuple(replace(s, **patches[s.id]) if s.id in patches else s for s in STAFF)
    return Scenario(PROGRAM, ACTIVITIES, members, ROOMS, patients)


# --------------------------------------------------------------------------- cases


def _shared_therapist(priya: str) -> Scenario:
    return _clinic(
        _patient("P1", "Ann Lee", "PROC=1; IND=1", "T2", availability="Mon 09:00-13:00"),
        _patient("P2", "Ben Cruz", "PROC=1; IND=1", "T2", availability="Mon 09:00-13:00"),
        staff={"T2": {"availability": parse_availability(priya)}},
    )


def shared_therapist_single_hour() -> Case:
    # Ann Lee and Ben Cruz come on Mondays only; their primary therapist Priya Nair is in on
    # Monday only 10:00-11:00 (she has Tue and Wed mornings too). Each needs a 60-min individual
    # session with her, and they meet her only in that same single hour. Each patient alone
    # meets her once (enough), and her 9 h in the week cover 2 h, so no pre-check fires.
    return _shared_therapist("Mon 10:00-11:00; Tue,Wed 09:00-13:00"), "H4", ("P1", "P2", "T2", "IND")


def _prescriber_case(reyes: str) -> Scenario:
    return _clinic(
        _patient("P1", "Cara Diaz", "IND=1; MED=1", "T1", availability="Mon 09:00-13:00"),
        _patient("P2", "Dev Patel", "IND=1; MED=1", "T2", availability="Mon 09:00-13:00"),
        _patient("P3", "Eli Brooks", "IND=1; MED=1", "T3", availability="Mon 09:00-13:00"),
        staff={"DR": {"availability": parse_availability(reyes)}},
    )


def prescriber_hours_on_other_days() -> Case:
    # Dr Reyes works 9 h this week, but on Monday, the only day Cara Diaz, Dev Patel and Eli
    # Brooks attend, only 09:00-10:00: two 30-min medication checks fit, three are due.
    return _prescriber_case("Mon 09:00-10:00; Tue,Wed 09:00-13:00"), "H4", ("DR", "MED")


def _group_days(eli: str) -> Scenario:
    return _clinic(
        _patient("P1", "Ann Lee", "RP=1", availability="Mon 09:00-13:00", tags="SUD"),
        _patient("P2", "Ben Cruz", "RP=1", availability="Mon 09:00-13:00", tags="SUD"),
        _patient("P3", "Cara Diaz", "RP=1", availability="Tue 09:00-13:00", tags="SUD"),
        _patient("P4", "Dev Patel", "RP=1", availability="Tue 09:00-13:00", tags="SUD"),
        _patient("P5", "Eli Brooks", eli, availability="Mon-Tue 09:00-13:00", tags="SUD"),
    )


def group_split_across_days() -> Case:
    # Relapse Prevention needs 3 patients. Ann Lee and Ben Cruz come Mondays, Cara Diaz and Dev
    # Patel Tuesdays; only Eli Brooks comes both days, so either day has 3 eligible patients
    # (each patient alone sees enough), but Eli attends the group once, and the other day's
    # group is left with 2.
    return _group_days("RP=1"), "H5", ("RP", "P5")


def _room_case(rooms: tuple[Room, ...]) -> Scenario:
    # Each pair shares exactly one free hour (Mon 09:00-10:00); each patient's other window is
    # on a day their partner is not free.
    s = _clinic(
        _patient("P1", "Ann Lee", "PROC=1", availability="Mon 09:00-10:00; Tue 12:00-13:00"),
        _patient("P2", "Ben Cruz", "PROC=1", availability="Mon 09:00-10:00; Wed 12:00-13:00"),
        _patient("P3", "Cara Diaz", "CBT=1", availability="Mon 09:00-10:00; Tue 11:00-12:00"),
        _patient("P4", "Dev Patel", "CBT=1", availability="Mon 09:00-10:00; Wed 11:00-12:00"),
    )
    return replace(s, rooms=rooms)


def one_room_two_groups() -> Case:
    # Ann Lee and Ben Cruz (Process Group) and Cara Diaz and Dev Patel (CBT Skills) can meet
    # as a group only on Monday 09:00-10:00; both groups need the one group room then.
    # The room is open 12 h for 2 h of groups, and Sam Ortiz and Priya Nair can lead both.
    return _room_case(ROOMS), "H4", ("G1",)


def _one_day(max_days: int) -> Scenario:
    return _clinic(
        _patient("P1", "Fay Gold", "PROC=1; IND=1; MED=1", "T2", availability="Mon-Tue 09:00-13:00", max_days=max_days),
        _patient("P2", "Gus Hart", "PROC=1", availability="Tue 09:00-13:00"),
        staff={
            "T1": {"availability": parse_availability("Tue 09:00-13:00")},
            "DR": {"availability": parse_availability("Mon 09:00-13:00")},
        },
    )


def one_day_but_group_and_meds_apart() -> Case:
    # Fay Gold can take one day a week off work (max_days 1). Her Process Group can only run on
    # Tuesday (Sam Ortiz, the only facilitator, works Tuesdays); her medication check only on
    # Monday (Dr Reyes's clinic). Each fits on its own; not both on one day.
    return _one_day(1), "H1", ("P1", "PROC", "MED")


def _daily_cap(cap: float) -> Scenario:
    return _clinic(
        _patient("P1", "Hana Ito", "IND=1", "T3", availability="Wed 09:00-13:00"),
        _patient("P2", "Ivan Rossi", "IND=1", "T3", availability="Wed 09:00-13:00"),
        _patient("P3", "Jin Park", "IND=1", "T3", availability="Wed 09:00-13:00"),
        staff={"T3": {"max_hours_day": cap}},
    )


def therapist_daily_cap() -> Case:
    # Jordan Blake may work at most 2 h a day (6 h over the week, enough for 3 h of sessions),
    # but his three patients all come on Wednesday only and each needs a 60-min individual session.
    return _daily_cap(2), "H8", ("T3", "IND")


CORPUS: dict[str, Callable[[], Case]] = {
    f.__name__: f
    for f in (
        shared_therapist_single_hour,
        prescriber_hours_on_other_days,
        group_split_across_days,
        one_room_two_groups,
        one_day_but_group_and_meds_apart,
        therapist_daily_cap,
    )
}

# One fact about one named subject relaxed: each of these has a timetable.
RELAXED: dict[str, Callable[[], Scenario]] = {
    # Priya Nair stays an hour longer on Monday.
    "shared_therapist_single_hour": lambda: _shared_therapist("Mon 10:00-12:00; Tue,Wed 09:00-13:00"),
    # Dr Reyes stays an hour longer on Monday.
    "prescriber_hours_on_other_days": lambda: _prescriber_case("Mon 09:00-11:00; Tue,Wed 09:00-13:00"),
    # Eli Brooks may attend the group twice.
    "group_split_across_days": lambda: _group_days("RP=1-2"),
    # A second group room.
    "one_room_two_groups": lambda: _room_case(ROOMS + (Room("G2", "Small Group Room", RoomKind.GROUP, 6),)),
    # Fay Gold may come two days.
    "one_day_but_group_and_meds_apart": lambda: _one_day(2),
    # Jordan Blake may work 3 h a day.
    "therapist_daily_cap": lambda: _daily_cap(3),
}

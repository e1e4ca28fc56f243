"""A small clinic and a hand-checked valid timetable, plus helpers to bend them one rule at a time.

Program Mon-Fri 08:00-20:00, 15-min slots, max gap 15 min, 3-5 days, 3-5 h a day
(contact), 9-19 h a week. Four patients, three staff, three rooms.

The valid week (staff in brackets, R3 is the only office, MED is telehealth):

    Mon  09-10 PROC  [S1]    R1  P1 P2 P4        Tue  09-10 PROC [S1]   R1  P1 P2 P4
         10-11 CBT   [S1 S2] R2  P1 P2 P4 pin         10-11 CBT  [S1 S2] R2 P1 P2 P4
         11-12 SUD   [S1]    R2  P1                   11-12 SUD  [S1]   R2  P1
         11-12 WELL  [S2]    R1  P2 P4                11-12 PSYED [S2]  R1  P2 P4
         12:00-12:15 MED [S3] -  P1
         14-16 TEEN  [S2]    R2  P3 pin
         16-17 PSYED [S2]    R2  P3
    Wed  09-10 PSYED [S2]    R2  P1              Thu  08-09 IND  [S1]   R3  P4
         10-11 SUD   [S1]    R2  P1                   09-10 PSYED [S2]  R2  P2 P4
         11-12 IND   [S1]    R3  P1                   10-11 WELL [S2]   R2  P2 P4
         14-16 TEEN  [S2]    R2  P3                   11-12 IND  [S2]   R3  P2
         16-17 PSYED [S2]    R2  P3                   17-18 FAM  [S2]   R3  P2 (family only 17-19)
    Fri  14-16 TEEN  [S2]    R2  P3
         16-17 IND   [S2]    R3  P3

Hours: P1 Mon 3.25 / Tue 3 / Wed 3 = 9.25 h; P2 3+3+3 + FAM 1 = 10 h; P3 3+3+3 = 9 h;
P4 3+3+3 = 9 h. Staff: S1 9 h (no caps); S2 Mon 5 h (cap 5), week 18 h (cap 18); S3 0.25 h.
"""

from __future__ import annotations

from dataclasses import replace

from scheduler.model import (
    DAY_NAMES,
    Activity,
    Cohort,
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
)
from scheduler.timegrid import parse_availability, parse_days, parse_time


def program(**changes) -> Program:
    base = Program(
        name="Test IOP",
        days=(0, 1, 2, 3, 4),
        open=8 * 60,
        close=20 * 60,
        slot_minutes=15,
        max_gap_minutes=15,
    )
    return replace(base, **changes)


ACTIVITIES = (
    Activity("PROC", "Process group", Mode.GROUP, 60, min_size=2, max_size=3, skill="process",
             room_kind=RoomKind.GROUP, cohort=Cohort.ADULT),
    Activity("CBT", "CBT skills", Mode.GROUP, 60, min_size=2, max_size=8, skill="cbt", staff_count=2,
             room_kind=RoomKind.GROUP),
    Activity("PSYED", "Psychoeducation", Mode.GROUP, 60, min_size=1, max_size=8, skill="psyed",
             room_kind=RoomKind.GROUP),
    Activity("WELL", "Wellness", Mode.GROUP, 60, min_size=1, max_size=8, skill="psyed",
             room_kind=RoomKind.GROUP, cohort=Cohort.ADULT),
    Activity("SUD", "Relapse prevention", Mode.GROUP, 60, min_size=1, max_size=8, skill="sud",
             room_kind=RoomKind.GROUP, cohort=Cohort.ADULT, tag="SUD"),
    Activity("TEEN", "Teen DBT skills", Mode.GROUP, 120, min_size=1, max_size=6, skill="dbt",
             room_kind=RoomKind.GROUP, cohort=Cohort.ADOLESCENT),
    Activity("IND", "Individual therapy", Mode.INDIVIDUAL, 60, skill="therapy", with_primary=True),
    Activity("MED", "Medication check", Mode.INDIVIDUAL, 15, skill="prescriber", room_kind=RoomKind.NONE),
    Activity("FAM", "Family therapy", Mode.FAMILY, 60, skill="therapy", with_primary=True, in_block=False),
)

STAFF = (
    Staff("S1", "Dana Reyes", "LCSW", frozenset({"process", "cbt", "therapy", "sud", "psyed"}),
          parse_availability("Mon-Fri 08:00-18:00"), max_hours_day=None, max_hours_week=None),
    Staff("S2", "Ivan Park", "LPC", frozenset({"process", "cbt", "therapy", "dbt", "psyed"}),
          parse_availability(""), max_hours_day=5, max_hours_week=18),
    Staff("S3", "Rosa Mora", "Psychiatrist", frozenset({"prescriber"}),
          parse_availability("Mon,Wed 09:00-13:00"), max_hours_day=4, max_hours_week=None),
)

ROOMS = (
    Room("R1", "Group room A", RoomKind.GROUP, 3),
    Room("R2", "Group room B", RoomKind.GROUP, 8),
    Room("R3", "Office 1", RoomKind.OFFICE, 1, parse_availability("Mon-Fri 08:00-18:00")),
)


def _reqs(text: str) -> tuple[Requirement, ...]:
    out = []
    for part in text.split(";"):
        activity_id, _, count = part.strip().partition("=")
        low, _, high = count.partition("-")
        out.append(Requirement(activity_id, int(low), int(high or low)))
    return tuple(out)


PATIENTS = (
    Patient("P1", "Ann Bell", Cohort.ADULT, frozenset({"SUD"}), primary_therapist="S1",
            requirements=_reqs("PROC=2; CBT=2-3; IND=1; MED=1"), preferred_days=(0, 1, 2), status="continuing"),
    Patient("P2", "Carl Diaz", Cohort.ADULT, primary_therapist="S2",
            availability=parse_availability("Mon-Fri 08:00-14:00"),
            family_availability=parse_availability("Mon-Fri 17:00-19:00"),
            requirements=_reqs("PROC=2; CBT=2; IND=1; FAM=1"), preferred_days=(0, 2, 4), status="new"),
    Patient("P3", "Eve Fox", Cohort.ADOLESCENT, min_week_hours=6, primary_therapist="S2",
            availability=parse_availability("Mon-Fri 13:00-20:00"),
            requirements=_reqs("TEEN=3; IND=1"), status="continuing"),
    Patient("P4", "Gus Hale", Cohort.ADULT, primary_therapist="S1",
            requirements=_reqs("PROC=2; CBT=2; IND=1"), status="continuing"),
)


def sess(day: str, start: str, end: str, activity: str, staff: str, room: str | None, patients: str,
         pinned: bool = False) -> Session:
    """``sess("Mon", "09:00", "10:00", "PROC", "S1", "R1", "P1 P2")``: ids separated by spaces."""
    return Session(
        day=parse_days(day)[0],
        start=parse_time(start),
        end=parse_time(end),
        activity_id=activity,
        staff_ids=tuple(staff.split()),
        room_id=room,
        patient_ids=tuple(patients.split()),
        pinned=pinned,
    )


WEEK = (
    sess("Mon", "09:00", "10:00", "PROC", "S1", "R1", "P1 P2 P4"),
    sess("Mon", "10:00", "11:00", "CBT", "S1 S2", "R2", "P1 P2 P4"),
    sess("Mon", "11:00", "12:00", "SUD", "S1", "R2", "P1"),
    sess("Mon", "11:00", "12:00", "WELL", "S2", "R1", "P2 P4"),
    sess("Mon", "12:00", "12:15", "MED", "S3", None, "P1"),
    sess("Mon", "14:00", "16:00", "TEEN", "S2", "R2", "P3"),
    sess("Mon", "16:00", "17:00", "PSYED", "S2", "R2", "P3"),
    sess("Tue", "09:00", "10:00", "PROC", "S1", "R1", "P1 P2 P4"),
    sess("Tue", "10:00", "11:00", "CBT", "S1 S2", "R2", "P1 P2 P4"),
    sess("Tue", "11:00", "12:00", "SUD", "S1", "R2", "P1"),
    sess("Tue", "11:00", "12:00", "PSYED", "S2", "R1", "P2 P4"),
    sess("Wed", "09:00", "10:00", "PSYED", "S2", "R2", "P1"),
    sess("Wed", "10:00", "11:00", "SUD", "S1", "R2", "P1"),
    sess("Wed", "11:00", "12:00", "IND", "S1", "R3", "P1"),
    sess("Wed", "14:00", "16:00", "TEEN", "S2", "R2", "P3"),
    sess("Wed", "16:00", "17:00", "PSYED", "S2", "R2", "P3"),
    sess("Thu", "08:00", "09:00", "IND", "S1", "R3", "P4"),
    sess("Thu", "09:00", "10:00", "PSYED", "S2", "R2", "P2 P4"),
    sess("Thu", "10:00", "11:00", "WELL", "S2", "R2", "P2 P4"),
    sess("Thu", "11:00", "12:00", "IND", "S2", "R3", "P2"),
    sess("Thu", "17:00", "18:00", "FAM", "S2", "R3", "P2"),
    sess("Fri", "14:00", "16:00", "TEEN", "S2", "R2", "P3"),
    sess("Fri", "16:00", "17:00", "IND", "S2", "R3", "P3"),
)

# Last week: two pinned sessions (kept in WEEK, the CBT with its ids in another order)
# and unpinned ones feeding S3.
PREVIOUS = (
    sess("Mon", "14:00", "16:00", "TEEN", "S2", "R2", "P3", pinned=True),
    sess("Mon", "10:00", "11:00", "CBT", "S2 S1", "R2", "P4 P2 P1", pinned=True),
    sess("Mon", "09:00", "10:00", "PROC", "S1", "R1", "P1 P2 P4"),  # kept: 0
    sess("Mon", "11:00", "12:00", "IND", "S1", "R3", "P1"),  # P1's IND moved to Wed: 1
    sess("Tue", "14:00", "16:00", "TEEN", "S2", "R2", "P3"),  # P3 has no Tue TEEN: 1
    sess("Wed", "09:00", "10:00", "PSYED", "S2", "R2", "P1 P3"),  # P1 kept: 0, P3 not: 1
    sess("Fri", "09:00", "10:00", "IND", "S2", "R3", "P2"),  # P2 is new: 0
    sess("Fri", "10:00", "11:00", "IND", "S1", "R3", "P7"),  # P7 is not a patient now: 0
)
PREVIOUS_CHANGED = 3


def scenario(previous: bool = True) -> Scenario:
    return Scenario(
        program=program(),
        activities=ACTIVITIES,
        staff=STAFF,
        rooms=ROOMS,
        patients=PATIENTS,
        previous=Timetable(PREVIOUS) if previous else None,
    )


def timetable() -> Timetable:
    return Timetable(WEEK)


# ---------------------------------------------------------------- bending helpers


def _find(tt: Timetable, day: str, start: str, activity: str) -> Session:
    d, t = parse_days(day)[0], parse_time(start)
    found = [s for s in tt.sessions if (s.day, s.start, s.activity_id) == (d, t, activity)]
    assert len(found) == 1, f"no single {activity} on {day} at {start}"
    return found[0]


def edit(tt: Timetable, day: str, start: str, activity: str, /, **changes) -> Timetable:
    """Change one session, found by day, start and activity. Days and times may be given as text;
    ``staff`` and ``patients`` as space-separated ids; ``room`` as an id or None."""
    old = _find(tt, day, start, activity)
    fields: dict = {}
    for key, value in changes.items():
        if key == "day":
            fields["day"] = parse_days(value)[0]
        elif key in ("start", "end"):
            fields[key] = parse_time(value)
        elif key == "staff":
            fields["staff_ids"] = tuple(value.split())
        elif key == "patients":
            fields["patient_ids"] = tuple(value.split())
        elif key == "room":
            fields["room_id"] = value
        elif key == "activity":
            fields["activity_id"] = value
        else:
            fields[key] = value
    new = replace(old, **fields)
    return Timetable(tuple(new if s is old else s for s in tt.sessions))


def add(tt: Timetable, *sessions: Session) -> Timetable:
    return Timetable(tt.sessions + sessions)


def drop(tt: Timetable, day: str, start: str, activity: str) -> Timetable:
    old = _find(tt, day, start, activity)
    return Timetable(tuple(s for s in tt.sessions if s is not old))


def _replace_in(items: tuple, item_id: str, changes: dict) -> tuple:
    assert any(x.id == item_id for x in items), item_id
    return tuple(replace(x, **changes) if x.id == item_id else x for x in items)


def with_patient(scn: Scenario, patient_id: str, **changes) -> Scenario:
    return replace(scn, patients=_replace_in(scn.patients, patient_id, changes))


def with_staff(scn: Scenario, staff_id: str, **changes) -> Scenario:
    return replace(scn, staff=_replace_in(scn.staff, staff_id, changes))


def with_room(scn: Scenario, room_id: str, **changes) -> Scenario:
    return replace(scn, rooms=_replace_in(scn.rooms, room_id, changes))


def with_activity(scn: Scenario, activity_id: str, **changes) -> Scenario:
    return replace(scn, activities=_replace_in(scn.activities, activity_id, changes))


def with_program(scn: Scenario, **changes) -> Scenario:
    return replace(scn, program=replace(scn.program, **changes))


def requirement(scn: Scenario, patient_id: str, activity_id: str, low: int, high: int) -> Scenario:
    """The scenario with one requirement of one patient set to ``low-high``."""
    patient = scn.patient_by_id[patient_id]
    reqs = tuple(
        Requirement(activity_id, low, high) if r.activity_id == activity_id else r for r in patient.requirements
    )
    return with_patient(scn, patient_id, requirements=reqs)


def day_index(name: str) -> int:
    return DAY_NAMES.index(name)

"""A corpus of small infeasible scenarios, each one change away from a feasible base.

``base()`` is a small, roomy adult IOP (8 patients, 3 therapists, a psychiatrist, one
group room, two offices; Mon-Fri 08:00-20:00). ``base_witness()`` is a timetable for
it, worked out by hand, that keeps every hard rule: it proves the base is feasible
(``tests/test_explain_checks.py`` checks it with ``scheduler.validate``).

``CORPUS[name]()`` returns ``(scenario, expected_rule, expected_subjects)``: the
pre-solve checks (``solver.explain_checks.precheck``) must report a finding with that
rule whose subjects include those ids. Each variant is infeasible by construction
(the comment says why), so the CP-SAT solver must also say ``infeasible`` on it.

The base timetable, for reference (A = P1-P4 on Mon/Wed/Fri mornings, B = P5-P8 on
Tue/Thu mornings and Wed afternoon):

    Mon  A: PROC 09:00 (T1), CBT 10:30 (T2), PSYED 11:30 (T3)
    Tue  B: PROC 09:00 (T1), CBT 10:30 (T2), PSYED 11:30 (T3)
    Wed  A: PROC 09:00, CBT 10:30, PSYED 11:30 (P3, P4); B: PROC 13:30, CBT 15:00, PSYED 16:00
    Thu  B: PROC 09:00 (T1), PSYED 10:30 (T3)
    Fri  A: PROC 09:00 (T1), RP 10:30 (T1; P1-P3), PSYED 11:30 (T3)
    plus individual, medication, evaluation and family sessions next to each block.
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
    Session,
    Staff,
    Timetable,
)
from scheduler.timegrid import parse_availability, parse_time

Case = tuple[Scenario, str, tuple[str, ...]]


def _reqs(text: str) -> tuple[Requirement, ...]:
    out = []
    for part in text.split(";"):
        aid, _, count = part.strip().partition("=")
        lo, _, hi = count.partition("-")
        out.append(Requirement(aid.strip(), int(lo), int(hi or lo)))
    return tuple(out)


def _patient(pid, name, reqs, primary, *, tags="", availability="", family="", status="continuing", **kw):
    return Patient(
        id=pid,
        name=name,
        cohort=Cohort.ADULT,
        tags=frozenset(t for t in tags.split(";") if t),
        availability=parse_availability(availability),
        family_availability=parse_availability(family),
        primary_therapist=primary,
        requirements=_reqs(reqs),
        status=status,
        **kw,
    )


ACTIVITIES = (
    Activity("PROC", "Process Group", Mode.GROUP, 90, 2, 8, "process", room_kind=RoomKind.GROUP, cohort=Cohort.ADULT),
    Activity("CBT", "CBT Skills", Mode.GROUP, 60, 2, 8, "cbt", room_kind=RoomKind.GROUP, cohort=Cohort.ADULT),
    Activity("PSYED", "Psychoeducation", Mode.GROUP, 60, 2, 10, "process", room_kind=RoomKind.GROUP,
             cohort=Cohort.ADULT),
    Activity("RP", "Relapse Prevention", Mode.GROUP, 60, 3, 8, "cbt", room_kind=RoomKind.GROUP,
             cohort=Cohort.ADULT, tag="SUD"),
    Activity("IND", "Individual Therapy", Mode.INDIVIDUAL, 60, skill="therapy", room_kind=RoomKind.OFFICE,
             with_primary=True),
    Activity("MED", "Medication Management", Mode.INDIVIDUAL, 30, skill="prescriber", room_kind=RoomKind.OFFICE),
    Activity("EVAL", "Psychiatric Evaluation", Mode.INDIVIDUAL, 60, skill="prescriber", room_kind=RoomKind.OFFICE),
    Activity("FAM", "Family Therapy", Mode.FAMILY, 60, skill="therapy", room_kind=RoomKind.OFFICE,
             with_primary=True, in_block=False),
)

STAFF = (
    Staff("T1", "Sam Ortiz", "LCSW", frozenset({"process", "cbt", "therapy"}),
          parse_availability("Mon-Fri 08:00-19:00"), 8, 32),
    Staff("T2", "Priya Nair", "LMFT", frozenset({"cbt", "therapy"}),
          parse_availability("Mon-Fri 09:00-19:00"), 8, 32),
    Staff("T3", "Jordan Blake", "LPC", frozenset({"process", "cbt", "therapy"}),
          parse_availability("Mon-Fri 08:00-17:00"), 8, 32),
    Staff("DR", "Dr Carla Reyes", "Psychiatrist", frozenset({"prescriber"}),
          parse_availability("Mon-Thu 08:00-17:00"), 8, 24),
)

ROOMS = (
    Room("G1", "Group Room", RoomKind.GROUP, 12),
    Room("O1", "Office 1", RoomKind.OFFICE, 3),
    Room("O2", "Office 2", RoomKind.OFFICE, 3),
)

PATIENTS = (
    _patient("P1", "Ann Lee", "PROC=3; CBT=2; IND=1; MED=1; EVAL=1; RP=1", "T1", tags="SUD", status="new"),
    _patient("P2", "Ben Cruz", "PROC=3; CBT=2; IND=1; MED=1; RP=1; FAM=1", "T1", tags="SUD",
             family="Tue,Thu 17:00-19:00"),
    _patient("P3", "Cara Diaz", "PROC=3; CBT=2; IND=1; MED=1; RP=1", "T1", tags="SUD;TRAUMA"),
    _patient("P4", "Dev Patel", "PROC=3; CBT=2; IND=1; MED=1", "T2", availability="Mon-Fri 09:00-14:00"),
    _patient("P5", "Eli Brooks", "PROC=3; CBT=2; IND=1; MED=1; FAM=1", "T2", family="Mon-Fri 16:00-19:00"),
    _patient("P6", "Fay Gold", "PROC=3; CBT=2; IND=1; MED=1; EVAL=1", "T2", status="new"),
    _patient("P7", "Gus Hart", "PROC=2-3; CBT=2; IND=1; MED=1", "T3"),
    _patient("P8", "Hana Ito", "PROC=3; CBT=1-2; IND=1; MED=1", "T3", availability="Tue-Thu 08:00-17:00"),
)

PROGRAM = Program(name="Riverside IOP (test base)", open=8 * 60, close=20 * 60)


def base() -> Scenario:
    """The feasible base scenario (see ``base_witness``)."""
    return Scenario(PROGRAM, ACTIVITIES, STAFF, ROOMS, PATIENTS)


def _s(day, start, activity, staff, room, patients, *, pinned=False, sid=""):
    a = {x.id: x for x in ACTIVITIES}[activity]
    t = parse_time(start)
    return Session(day, t, t + a.duration_min, activity, tuple(staff.split()), room,
                   tuple(patients.split()), pinned, sid)


MON, TUE, WED, THU, FRI = range(5)
A, B = "P1 P2 P3 P4", "P5 P6 P7 P8"


def base_witness() -> Timetable:
    """A timetable for ``base()`` that keeps every hard rule, worked out by hand."""
    return Timetable((
        # Stream A, Mon/Wed/Fri mornings.
        _s(MON, "09:00", "PROC", "T1", "G1", A),
        _s(MON, "10:30", "CBT", "T2", "G1", A),
        _s(MON, "11:30", "PSYED", "T3", "G1", A),
        _s(MON, "08:00", "EVAL", "DR", "O2", "P1"),
        _s(MON, "08:00", "IND", "T1", "O1", "P2"),
        _s(MON, "12:30", "MED", "DR", "O2", "P4"),
        _s(WED, "09:00", "PROC", "T1", "G1", A),
        _s(WED, "10:30", "CBT", "T2", "G1", A),
        _s(WED, "11:30", "PSYED", "T3", "G1", "P3 P4"),
        _s(WED, "08:30", "MED", "DR", "O2", "P3"),
        _s(WED, "11:30", "IND", "T1", "O1", "P1"),
        _s(WED, "11:30", "MED", "DR", "O2", "P2"),
        _s(WED, "12:30", "MED", "DR", "O2", "P1"),
        _s(FRI, "09:00", "PROC", "T1", "G1", A),
        _s(FRI, "10:30", "RP", "T1", "G1", "P1 P2 P3"),
        _s(FRI, "10:30", "IND", "T2", "O1", "P4"),
        _s(FRI, "11:30", "PSYED", "T3", "G1", A),
        _s(FRI, "12:30", "IND", "T1", "O1", "P3"),
        _s(TUE, "17:00", "FAM", "T1", "O1", "P2"),
        # Stream B, Tue/Thu mornings and Wed afternoon.
        _s(TUE, "09:00", "PROC", "T1", "G1", B),
        _s(TUE, "10:30", "CBT", "T2", "G1", B),
        _s(TUE, "11:30", "PSYED", "T3", "G1", B),
        _s(TUE, "08:00", "IND", "T3", "O1", "P7"),
        _s(TUE, "08:30", "MED", "DR", "O2", "P6"),
        _s(TUE, "12:30", "IND", "T2", "O1", "P5"),
        _s(TUE, "12:30", "EVAL", "DR", "O2", "P6"),
        _s(WED, "13:30", "PROC", "T1", "G1", B),
        _s(WED, "15:00", "CBT", "T2", "G1", B),
        _s(WED, "16:00", "PSYED", "T3", "G1", B),
        _s(WED, "13:00", "MED", "DR", "O2", "P8"),
        _s(THU, "09:00", "PROC", "T1", "G1", B),
        _s(THU, "10:30", "PSYED", "T3", "G1", B),
        _s(THU, "08:00", "IND", "T3", "O1", "P8"),
        _s(THU, "08:30", "MED", "DR", "O2", "P7"),
        _s(THU, "11:30", "IND", "T2", "O1", "P6"),
        _s(THU, "11:30", "MED", "DR", "O2", "P5"),
        _s(MON, "17:00", "FAM", "T2", "O1", "P5"),
    )).numbered()


# --------------------------------------------------------------------------- variants


def _with(s: Scenario, **kw) -> Scenario:
    return replace(s, **kw)


def _patch_patient(s: Scenario, pid: str, **kw) -> Scenario:
    return _with(s, patients=tuple(replace(p, **kw) if p.id == pid else p for p in s.patients))


def _patch_staff(s: Scenario, sid: str, **kw) -> Scenario:
    return _with(s, staff=tuple(replace(x, **kw) if x.id == sid else x for x in s.staff))


def _patch_room(s: Scenario, rid: str, **kw) -> Scenario:
    return _with(s, rooms=tuple(replace(r, **kw) if r.id == rid else r for r in s.rooms))


def _patch_activity(s: Scenario, aid: str, **kw) -> Scenario:
    return _with(s, activities=tuple(replace(a, **kw) if a.id == aid else a for a in s.activities))


def _pins(s: Scenario, *sessions: Session) -> Scenario:
    return s.with_previous(Timetable(tuple(sessions)))


def prescriber_clinic_cancelled() -> Case:
    # Dr Reyes works only Wed 09:00-12:00 (3 h); 8 MED x 30 + 2 EVAL x 60 = 6 h.
    s = _patch_staff(base(), "DR", availability=parse_availability("Wed 09:00-12:00"))
    return s, "H8", ("DR", "MED", "EVAL")


def patient_available_two_days() -> Case:
    # Hana Ito can come only Tue and Thu, but must attend at least 3 days.
    s = _patch_patient(base(), "P8", availability=parse_availability("Tue,Thu 08:00-17:00"))
    return s, "H1", ("P8",)


def short_availability() -> Case:
    # Dev Patel is free 2 h a day; an attended day needs at least 3 h.
    s = _patch_patient(base(), "P4", availability=parse_availability("Mon-Fri 09:00-11:00"))
    return s, "H2", ("P4",)


def no_skill() -> Case:
    # DBT Skills needs skill 'dbt', which no staff member holds; Eli Brooks and Fay Gold must attend.
    dbt = Activity("DBT", "DBT Skills", Mode.GROUP, 60, 2, 8, "dbt", room_kind=RoomKind.GROUP, cohort=Cohort.ADULT)
    s = _with(base(), activities=base().activities + (dbt,))
    for pid in ("P5", "P6"):
        p = s.patient_by_id[pid]
        s = _patch_patient(s, pid, requirements=p.requirements + (Requirement("DBT", 1, 1),))
    return s, "H5", ("DBT",)


def primary_never_meets() -> Case:
    # Priya Nair moves to afternoons (14:00-19:00); her patient Dev Patel can come only 09:00-14:00.
    s = _patch_staff(base(), "T2", availability=parse_availability("Mon-Fri 14:00-19:00"))
    return s, "H3", ("P4", "T2", "IND")


def too_few_for_group() -> Case:
    # Relapse Prevention now needs 4 patients, but only 3 patients carry the SUD tag.
    s = _patch_activity(base(), "RP", min_size=4)
    return s, "H5", ("RP",)


def no_group_room() -> Case:
    # The group room is gone: every group needs one.
    s = _with(base(), rooms=tuple(r for r in base().rooms if r.id != "G1"))
    return s, "H5", ("PROC", "CBT", "RP")


def family_window_misses_therapist() -> Case:
    # Ben Cruz's family can come only 19:00-20:00; his primary therapist Sam Ortiz leaves at 19:00.
    s = _patch_patient(base(), "P2", family_availability=parse_availability("Tue,Thu 19:00-20:00"))
    return s, "H3", ("P2", "T1", "FAM")


def family_in_the_day_far_from_it() -> Case:
    # Family therapy is now part of the program day (in_block), but Ben Cruz comes only in the
    # morning and his family only 17:00-19:00: the session can never sit next to his day.
    s = _patch_activity(base(), "FAM", in_block=True)
    s = _patch_patient(s, "P2", availability=parse_availability("Mon-Fri 08:00-13:00"))
    return s, "H2", ("P2", "FAM")


def pin_outside_availability() -> Case:
    # Last week's pinned individual session for Dev Patel is at 15:00, but he can come only until 14:00.
    s = _pins(base(), _s(MON, "15:00", "IND", "T2", "O1", "P4", pinned=True, sid="S001"))
    return s, "H9", ("P4", "IND")


def pins_overlap() -> Case:
    # Two pinned sessions put Sam Ortiz in two rooms on Tue at 12:30.
    s = _pins(base(),
              _s(TUE, "12:30", "IND", "T1", "O1", "P1", pinned=True, sid="S001"),
              _s(TUE, "13:00", "IND", "T1", "O2", "P2", pinned=True, sid="S002"))
    return s, "H9", ("T1",)


def pin_lacks_skill() -> Case:
    # A pinned CBT group led by the psychiatrist, who lacks skill 'cbt'.
    s = _pins(base(), _s(TUE, "09:00", "CBT", "DR", "G1", B, pinned=True, sid="S007"))
    return s, "H9", ("DR", "CBT")


def group_required_daily_too_often() -> Case:
    # Cara Diaz must attend the process group 6 times, but there are 5 days and one group a day.
    s = _patch_patient(base(), "P3", requirements=_reqs("PROC=6; CBT=2; IND=1; MED=1; RP=1"))
    return s, "H6", ("P3", "PROC")


def week_hours_too_high() -> Case:
    # Hana Ito comes Tue-Thu only: 3 days x 5 h = 15 h, but her weekly minimum is set to 16 h.
    s = _patch_patient(base(), "P8", min_week_hours=16)
    return s, "H2", ("P8",)


def room_capacity_zero() -> Case:
    # The group room was entered with capacity 0.
    s = _patch_room(base(), "G1", capacity=0)
    return s, "H5", ("G1", "PROC")


def ineligible_requirement() -> Case:
    # Dev Patel is required to attend Relapse Prevention, which is for SUD patients only.
    s = _patch_patient(base(), "P4", requirements=_reqs("PROC=3; CBT=2; IND=1; MED=1; RP=1"))
    return s, "H5", ("P4", "RP")


def therapist_overbooked() -> Case:
    # Jordan Blake is capped at 1.5 h this week, but alone delivers the individual therapy of his
    # patients Gus Hart and Hana Ito (2 h).
    s = _patch_staff(base(), "T3", max_hours_week=1.5)
    return s, "H8", ("T3", "P7", "P8")


def primary_lacks_skill() -> Case:
    # Gus Hart's primary therapist is now the psychiatrist, who does not do therapy.
    s = _patch_patient(base(), "P7", primary_therapist="DR")
    return s, "H7", ("P7", "DR", "IND")


def required_sessions_above_week_max() -> Case:
    # Ann Lee's required sessions add up to 10 h, but her weekly maximum is 9.5 h.
    s = _patch_patient(base(), "P1", max_week_hours=9.5)
    return s, "H2", ("P1",)


def inblock_requirements_exceed_days() -> Case:
    # Ann Lee may come 3 days of at most 3 h (9 h), but her required in-block sessions need 10 h.
    s = _patch_patient(base(), "P1", max_days=3, max_hours=3)
    return s, "H2", ("P1",)


def offices_closed_most_of_week() -> Case:
    # Both offices open only Mon 09:00-13:00 (8 h); the individual and family sessions need 16 h.
    s = base()
    for rid in ("O1", "O2"):
        s = _patch_room(s, rid, availability=parse_availability("Mon 09:00-13:00"))
    return s, "H4", ("O1", "O2", "IND", "MED")


def group_room_closed_most_of_week() -> Case:
    # The group room opens only Mon 09:00-12:00 (3 h); the required groups need at least 7.5 h.
    s = _patch_room(base(), "G1", availability=parse_availability("Mon 09:00-12:00"))
    return s, "H4", ("G1", "PROC", "CBT")


def no_prescriber_for_new_patient() -> Case:
    # The only psychiatrist is removed; medication checks and evaluations need a prescriber.
    s = _with(base(), staff=tuple(x for x in base().staff if x.id != "DR"))
    return s, "H5", ("MED", "EVAL")


def unknown_activity_in_requirements() -> Case:
    # Gus Hart's requirements name 'DBT', which is not in the catalogue.
    s = _patch_patient(base(), "P7", requirements=_reqs("PROC=2-3; CBT=2; IND=1; MED=1; DBT=1"))
    return s, "H0", ("P7", "DBT")


CORPUS: dict[str, Callable[[], Case]] = {
    f.__name__: f
    for f in (
        prescriber_clinic_cancelled,
        patient_available_two_days,
        short_availability,
        no_skill,
        primary_never_meets,
        too_few_for_group,
        no_group_room,
        family_window_misses_therapist,
        family_in_the_day_far_from_it,
        pin_outside_availability,
        pins_overlap,
        pin_lacks_skill,
        group_required_daily_too_often,
        week_hours_too_high,
        room_capacity_zero,
        ineligible_requirement,
        therapist_overbooked,
        primary_lacks_skill,
        required_sessions_above_week_max,
        inblock_requirements_exceed_days,
        offices_closed_most_of_week,
        group_room_closed_most_of_week,
        no_prescriber_for_new_patient,
        unknown_activity_in_requirements,
    )
}

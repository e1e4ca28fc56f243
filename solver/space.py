"""The search space in integers: which session could happen where, with whom.

Everything here is plain Python over the domain model; the CP-SAT builder turns
these candidate lists into variables. Times are slot indices (0 = opening time)
on day indices; a candidate start ``t`` of an activity lasting ``L`` slots
occupies slots ``t .. t+L-1``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from scheduler.model import Activity, Cohort, Mode, Patient, RoomKind, Scenario, Session
from scheduler.timegrid import open_slots

COHORTS = (Cohort.ADULT, Cohort.ADOLESCENT)


@dataclass(frozen=True, order=True)
class GroupKey:
    """A possible start of a group activity for one cohort: (activity, cohort, day, slot).

    ``copy`` numbers parallel single sessions where they are modelled one by one (process
    groups, whose facilitator continuity needs to know who leads whom); elsewhere copy 0
    stands for all parallel sessions at that start.
    """

    activity: str
    cohort: str
    day: int
    start: int
    copy: int = 0


@dataclass(frozen=True, order=True)
class SoloKey:
    """A possible start of an individual or family activity: (activity, day, slot)."""

    activity: str
    day: int
    start: int


@dataclass(frozen=True)
class OpenSession:
    """A session kept as it is; ``taken`` seats belong to patients outside the scenario, of ``cohort``."""

    session: Session
    taken: int
    cohort: str | None
    # Staff who may lead it instead of ``session.staff_ids`` (the model then chooses as many
    # as it has); empty: its staff stay.
    leads: tuple[str, ...] = ()


@dataclass
class Space:
    """Candidate sessions and who could take part in each."""

    scenario: Scenario
    length: dict[str, int] = field(default_factory=dict)
    group_keys: list[GroupKey] = field(default_factory=list)
    group_patients: dict[GroupKey, list[str]] = field(default_factory=dict)
    group_staff: dict[GroupKey, list[str]] = field(default_factory=dict)
    group_rooms: dict[GroupKey, list[str]] = field(default_factory=dict)
    solo_starts: dict[tuple[str, str], list[tuple[int, int]]] = field(default_factory=dict)
    solo_staff: dict[SoloKey, list[str]] = field(default_factory=dict)
    solo_rooms: dict[SoloKey, list[str]] = field(default_factory=dict)
    pins: list[Session] = field(default_factory=list)
    pin_problems: list[str] = field(default_factory=list)
    # Sessions kept as they are (staff, room, time) that the scenario's patients may join
    # (group ones), each with the number of seats already taken by patients outside the
    # scenario: used by the neighbourhood fit (solver/fit.py), empty otherwise.
    open_sessions: list[OpenSession] = field(default_factory=list)
    # Primary therapists of patients outside the scenario (the neighbourhood models of
    # solver/fit.py): S4 counts their load too, fixed by the open sessions.
    outside_therapists: frozenset[str] = frozenset()

    @property
    def program(self):
        return self.scenario.program

    @property
    def slots(self) -> int:
        return self.program.slots_per_day


def eligible(patient: Patient, activity: Activity) -> bool:
    """Cohort and tag admit the patient."""
    if activity.cohort != Cohort.ANY and activity.cohort != patient.cohort:
        return False
    return activity.tag is None or activity.tag in patient.tags


def day_patterns(possible, min_days: int, max_days: int, pinned) -> list[frozenset[int]]:
    """Sets of attended days a patient could keep: ``min_days``-``max_days`` of the ``possible``
    days (those with a possible in-block session), holding every ``pinned`` day."""
    found = []
    for k in range(max(0, min_days), min(max_days, len(possible)) + 1):
        for combo in itertools.combinations(sorted(possible), k):
            if set(pinned) <= set(combo):
                found.append(frozenset(combo))
    return found


def pattern_counts(pattern, preferred_days, program) -> tuple[int, int]:
    """What a day pattern costs in the soft goals: (days outside ``preferred_days``, S1; 0
    when the patient states none) and (days whose next day in the week is attended too, S6)."""
    outside = sum(1 for d in pattern if d not in preferred_days) if preferred_days else 0
    return outside, sum(1 for d in pattern if program.next_day(d) in pattern)


def seats_in(activity: Activity, room) -> int:
    """Patients one session of a group activity can seat in this room (None: a session without a room)."""
    return min(activity.max_size, room.capacity) if room is not None else activity.max_size


def allowed_max(patient: Patient, activity: Activity) -> int:
    """Most sessions of ``activity`` the patient may get this week (0 = never)."""
    req = patient.requirement(activity.id)
    if req is not None:
        return req.max_count if eligible(patient, activity) else 0
    if activity.mode == Mode.GROUP and eligible(patient, activity):
        return 7
    return 0


_STARTS: dict[tuple[frozenset[int], int], frozenset[int]] = {}


def _starts(slots: frozenset[int], length: int) -> frozenset[int]:
    """Start slots of a run of ``length`` slots lying wholly inside ``slots`` (memoised)."""
    key = (slots, length)
    found = _STARTS.get(key)
    if found is None:
        found = frozenset(t for t in slots if all(s in slots for s in range(t + 1, t + length)))
        if len(_STARTS) > 100_000:
            _STARTS.clear()
        _STARTS[key] = found
    return found


def _fits(slots: frozenset[int], start: int, length: int) -> bool:
    return start in _starts(slots, length)


def build_space(scenario: Scenario) -> Space:
    """Enumerate every candidate session the rules allow before search."""
    sp = Space(scenario)
    prog = scenario.program
    for a in scenario.activities:
        sp.length[a.id] = max(1, -(-a.duration_min // prog.slot_minutes))
    days = prog.days
    pat_slots = {(p.id, d): open_slots(p.availability, prog, d) for p in scenario.patients for d in days}
    fam_slots = {(p.id, d): open_slots(p.family_availability, prog, d) for p in scenario.patients for d in days}
    staff_slots = {(s.id, d): open_slots(s.availability, prog, d) for s in scenario.staff for d in days}
    room_slots = {(r.id, d): open_slots(r.availability, prog, d) for r in scenario.rooms for d in days}

    for a in scenario.activities:
        length = sp.length[a.id]
        qualified = [s for s in scenario.staff if a.skill in s.skills]
        rooms = [r for r in scenario.rooms if r.kind == a.room_kind and r.capacity >= max(1, a.min_size if a.is_group else 1)]
        if a.is_group:
            _group_candidates(sp, a, length, qualified, rooms, pat_slots, staff_slots, room_slots)
        else:
            _solo_candidates(sp, a, length, qualified, rooms, pat_slots, fam_slots, staff_slots, room_slots)
    if scenario.previous is not None:
        from solver.pins import pin_problems

        sp.pins = [s for s in scenario.previous.sessions if s.pinned]
        sp.pin_problems = pin_problems(scenario)
    return sp


def starts_in_use(scenario: Scenario, timetable) -> set[tuple[str, str, int, int]]:
    """(cohort, group activity, day, start slot) of every group session ``timetable`` runs."""
    prog = scenario.program
    used: set[tuple[str, str, int, int]] = set()
    for s in timetable.sessions:
        activity = scenario.activity_by_id.get(s.activity_id)
        if activity is None or not activity.is_group or not s.patient_ids:
            continue
        patient = scenario.patient_by_id.get(s.patient_ids[0])
        if patient is not None and (s.start - prog.open) % prog.slot_minutes == 0:
            used.add((patient.cohort.value, s.activity_id, s.day, (s.start - prog.open) // prog.slot_minutes))
    return used


def keep_starts(space: Space, used: set[tuple[str, str, int, int]]) -> Space:
    """The space with group candidates only at the ``used`` (cohort, activity, day, start) (in place)."""
    space.group_keys = [k for k in space.group_keys if (k.cohort, k.activity, k.day, k.start) in used]
    return space


def _group_candidates(sp, a, length, qualified, rooms, pat_slots, staff_slots, room_slots) -> None:
    """Group starts with enough eligible patients, qualified staff and a room free."""
    scenario = sp.scenario
    for cohort in COHORTS:
        if a.cohort != Cohort.ANY and a.cohort != cohort:
            continue
        members = [p for p in scenario.patients if p.cohort == cohort and allowed_max(p, a) > 0]
        if len(members) < max(1, a.min_size):
            continue
        for d in sp.program.days:
            member_starts = [(p.id, _starts(pat_slots[p.id, d], length)) for p in members]
            for t in range(0, sp.slots - length + 1):
                pats = [pid for pid, ok in member_starts if t in ok]
                if len(pats) < max(1, a.min_size):
                    continue
                staff = [s.id for s in qualified if _fits(staff_slots[s.id, d], t, length)]
                if len(staff) < a.staff_count:
                    continue
                if a.room_kind != RoomKind.NONE:
                    free = [r.id for r in rooms if _fits(room_slots[r.id, d], t, length)]
                    if not free:
                        continue
                else:
                    free = []
                key = GroupKey(a.id, cohort.value, d, t)
                sp.group_keys.append(key)
                sp.group_patients[key] = pats
                sp.group_staff[key] = staff
                sp.group_rooms[key] = free


def _solo_candidates(sp, a, length, qualified, rooms, pat_slots, fam_slots, staff_slots, room_slots) -> None:
    """Individual and family starts inside the patient's (or family's) time, with staff and an office free."""
    scenario = sp.scenario
    window = fam_slots if a.mode == Mode.FAMILY else pat_slots
    for p in scenario.patients:
        if allowed_max(p, a) <= 0:
            continue
        primary = p.primary_therapist if a.with_primary else None
        starts = []
        for d in sp.program.days:
            for t in range(0, sp.slots - length + 1):
                if not _fits(window[p.id, d], t, length):
                    continue
                if primary is not None:
                    if primary not in sp.scenario.staff_by_id or not _fits(staff_slots[primary, d], t, length):
                        continue
                    if a.skill and a.skill not in scenario.staff_by_id[primary].skills:
                        continue
                key = SoloKey(a.id, d, t)
                if key not in sp.solo_staff:
                    sp.solo_staff[key] = [s.id for s in qualified if _fits(staff_slots[s.id, d], t, length)]
                    sp.solo_rooms[key] = [r.id for r in rooms if _fits(room_slots[r.id, d], t, length)]
                others_needed = a.staff_count - (1 if primary else 0)
                others = [s for s in sp.solo_staff[key] if s != primary]
                if len(others) < others_needed:
                    continue
                if a.room_kind != RoomKind.NONE and not sp.solo_rooms[key]:
                    continue
                starts.append((d, t))
        sp.solo_starts[p.id, a.id] = starts

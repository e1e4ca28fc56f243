"""Last week's timetable as this week's starting point, for every patient it still serves.

A coordinator re-solving a week that changed little (a new patient, a discharge, a therapist's
day off) expects last week's timetable back wherever it still keeps the rules: it is what the
patients know (S3 stability), and it is a complete week whenever nothing changed. The greedy
template (solver/greedy.py) starts from an empty week and may leave patients out that last week
placed (40 patients with six pinned sessions: the template left out nine, last week's timetable
kept every rule).

``from_previous`` keeps last week's sessions for the patients still in the scenario, then takes
out, round by round, every patient a broken rule names (from every unpinned session; a group
left too small names its other patients in the next round; a pinned session goes with all its
patients, as in the template) until ``scheduler.validate`` passes for the rest. The patients taken out, and the new ones, are left for the neighbourhood fit, as
the template's left-out patients are.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from scheduler.model import Scenario, Timetable
from scheduler.validate import validate
from solver.greedy import GreedyResult, scenario_without

log = logging.getLogger("solver.previous")

NEW = "was not in last week's timetable, and could not be fitted into it"
CHANGED = "last week's sessions no longer keep the rules for them, and they could not be fitted in again"
MAX_ROUNDS = 30


def from_previous(scenario: Scenario) -> GreedyResult | None:
    """Last week's timetable without the patients it no longer serves (left out, with a reason), or None."""
    previous = scenario.previous
    if previous is None or not any(not s.pinned for s in previous.sessions):
        return None
    patients = scenario.patient_by_id
    sessions = []
    for s in previous.sessions:
        if s.activity_id not in scenario.activity_by_id:
            continue
        if not s.pinned:
            s = replace(s, patient_ids=tuple(pid for pid in s.patient_ids if pid in patients))
        if s.patient_ids:
            sessions.append(s)
    seen = {pid for s in sessions for pid in s.patient_ids}
    left = {p.id: NEW for p in scenario.patients if p.id not in seen}
    kept = valid_part(scenario, sessions, left, CHANGED)
    if kept is not None:
        log.info("last week's timetable keeps the rules for %d of %d patients", len(patients) - len(kept.unplaced),
                 len(patients))
    return kept


def valid_part(scenario: Scenario, sessions, left: dict[str, str], reason: str) -> GreedyResult | None:
    """``sessions`` without the patients in ``left`` (id -> reason) and, round by round, every patient a
    broken rule names (with ``reason``), until ``scheduler.validate`` passes for the rest; None when a
    broken rule names nobody who could be taken out, or after ``MAX_ROUNDS``."""
    patients = scenario.patient_by_id
    left = dict(left)
    for _ in range(MAX_ROUNDS):
        # A pinned session stays as it is or goes with all its patients (as in the template).
        while more := {pid for s in sessions if s.pinned and left.keys() & set(s.patient_ids)
                       for pid in s.patient_ids if pid in patients} - left.keys():
            left.update(dict.fromkeys(more, reason))
        timetable = Timetable(tuple(
            kept for s in sessions
            if (kept := replace(s, patient_ids=tuple(p for p in s.patient_ids if p not in left))).patient_ids
            and (not s.pinned or kept.patient_ids == s.patient_ids)))
        violations = validate(scenario_without(scenario, left), timetable)
        if not violations:
            return GreedyResult(timetable.numbered(scenario.program.first_day), tuple(sorted(left.items())))
        named = {pid for v in violations for pid in v.who if pid in patients and pid not in left}
        if not named:
            # Only staff or rooms are named (a weekly cap, availability, a double booking): the patients
            # of their sessions at that time.
            for v in violations:
                for s in timetable.sessions:
                    if s.day == v.day and s.start == v.start and set(v.who) & {*s.staff_ids, s.room_id}:
                        named.update(pid for pid in s.patient_ids if pid in patients and pid not in left)
        if not named:
            return None
        left.update(dict.fromkeys(named, reason))
    return None

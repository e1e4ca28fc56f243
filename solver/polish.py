"""Facilitator polish: who leads each group and who sits in which of two parallel groups.

Given any timetable, a small CP-SAT model re-chooses the staff of every unpinned group
session among the staff who hold the skill, are available then and are free of the
sessions that stay as they are (individual, family and pinned sessions), within their
daily and weekly caps, and lets patients swap between parallel unpinned sessions of the
same activity, day, start and cohort (sizes kept within min_size and the smaller of
max_size and the room's seats), to minimise continuity (S2: a patient's process groups led
by more than one facilitator) and balance (S4: the spread of the therapists' hours). No
patient's times, activities or days change, so S1, S3, S5 and S6 stay as they were, and so
do the hard rules about patients' days, hours, counts and eligibility; the staff and size
rules (H3, H4, H5, H8) are constraints of the polish. The template fills groups first-fit and hands the same
patient's process groups to whoever is free; this typically removes most of S2.

A result is used only when it scores better by ``scheduler.validate.soft_terms``.

The same model also *clears the way* for the neighbourhood fit (solver/fit.py): with "each
of a waiting patient's sessions with their therapist has a time at which the therapist is
free" as the first thing to maximise, and "the therapist leads a group inside that patient's
hours" as the next to minimise, it frees the therapists whom left-out patients need.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, replace

from ortools.sat.python import cp_model

from scheduler.model import PROCESS_SKILL, Mode, Scenario, Timetable
from scheduler.timegrid import covers, open_windows
from scheduler.validate import objective as scored
from scheduler.validate import therapist_ids
from scheduler.validate import validate

from solver.builder import MINUTES_PER_HOUR, WEIGHT_SCALE
from solver.repair import AnyOf, solve_cancellable
from solver.space import seats_in

log = logging.getLogger("solver.polish")



def polish_staff(scenario: Scenario, timetable: Timetable, seconds: float, cancel: threading.Event | None = None) -> Timetable:
    """The timetable with better facilitators (and seats) for its group sessions, or the same timetable.

    Two rounds: facilitators only (a small model that large clinics solve fast), then
    facilitators and seats together from there."""
    deadline = time.monotonic() + seconds
    first = _polish(scenario, timetable, 0.4 * seconds, cancel, swaps=False)
    left = deadline - time.monotonic()
    if left < 0.2 or (cancel is not None and cancel.is_set()):
        return first
    return _polish(scenario, first, left, cancel, swaps=True)


def clear_the_way(scenario: Scenario, timetable: Timetable, waiting, seconds: float,
                  cancel: threading.Event | None = None) -> Timetable:
    """Hand group sessions away from the primary therapists of patients still waiting.

    A waiting patient's individual and family sessions need their own therapist inside
    their (or their family's) hours; a template often has that therapist leading groups
    there. The facilitator model above, with first "a time for each such session where
    the therapist is free" to maximise and then "leading a group inside those hours" to
    minimise, frees them where another qualified facilitator can lead. Patients' times
    are untouched; the result is used only when it frees some of those times or hours and
    passes ``scheduler.validate`` (continuity and balance may get worse: placing a patient
    comes first).
    """
    needs = [n for p in waiting for n in therapist_needs(scenario, p)]
    if not needs:
        return timetable

    avoid = _avoided(needs)

    def standing(t: Timetable) -> tuple[int, int]:
        acts = scenario.activity_by_id
        inside = sum(1 for s in t.sessions if not s.pinned and s.activity_id in acts and acts[s.activity_id].is_group
                     for sid in s.staff_ids if inside_any(avoid.get(sid, ()), s))
        return _needs_met(scenario, needs, t), -inside

    before = standing(timetable)
    if before == (len(needs), 0):
        return timetable
    solved = _solve(scenario, timetable, seconds, cancel, False, needs, "clearing the way")
    if solved is None:
        return timetable
    cleared, _code, _wall = solved
    after = standing(cleared)
    log.info("clearing the way: sessions with their therapist that have a free time %d -> %d of %d; "
             "therapists' groups inside those hours %d -> %d", before[0], after[0], len(needs), -before[1], -after[1])
    if after > before and validate(scenario, cleared) == []:
        return cleared
    return timetable


@dataclass(frozen=True)
class _Need:
    """A waiting patient's session with their primary therapist: its length and the hours it may take."""

    therapist: str
    minutes: int
    windows: tuple[tuple[int, int, int], ...]  # (day, start, end)

    def times(self, prog) -> list[tuple[int, int, int]]:
        """(day, start, end) of every start on the program's grid inside the windows."""
        out = []
        for d, b, e in self.windows:
            t = prog.open + -(-(b - prog.open) // prog.slot_minutes) * prog.slot_minutes
            while t + self.minutes <= e:
                out.append((d, t, t + self.minutes))
                t += prog.slot_minutes
        return out


def therapist_needs(scenario: Scenario, p) -> list[_Need]:
    """The patient's required sessions with their primary therapist, each with the hours it may take.

    Those hours are the patient's (the family's, for a family session) inside the therapist's
    own: a family evening on a day the therapist leaves at 16:30 is no time for them (120
    patients, seed 1: the clearing counted Monday evening as free, never freed Wednesday's,
    and the patient stayed out).
    """
    prog = scenario.program
    therapist = scenario.staff_by_id.get(p.primary_therapist or "")
    if therapist is None:
        return []
    needs = []
    for req in p.requirements:
        a = scenario.activity_by_id.get(req.activity_id)
        if a is None or not a.with_primary or req.min_count <= 0:
            continue
        hours = p.family_availability if a.mode == Mode.FAMILY else p.availability
        windows = tuple((d, b, e) for d in prog.days
                        for w in open_windows(hours, prog, d) for t in open_windows(therapist.availability, prog, d)
                        for b, e in [(max(w.start, t.start), min(w.end, t.end))] if b < e)
        needs.append(_Need(therapist.id, a.duration_min, windows))
    return needs


def _avoided(needs: list[_Need]) -> dict[str, list[tuple[int, int, int]]]:
    avoid: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for n in needs:
        avoid[n.therapist].extend(n.windows)
    return avoid


def _needs_met(scenario: Scenario, needs: list[_Need], timetable: Timetable) -> int:
    """How many of the needs have a time at which their therapist has no session and room under their caps (H8)."""
    return len(needs) - len(unmet_needs(scenario, needs, timetable))


def unmet_needs(scenario: Scenario, needs: list[_Need], timetable: Timetable) -> list[_Need]:
    """The needs without a time at which their therapist has no session and room under their caps (H8)."""
    busy: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    for s in timetable.sessions:
        for sid in s.staff_ids:
            busy[sid, s.day].append((s.start, s.end))
    week = {sid: sum(e - b for (who, _d), spans in busy.items() if who == sid for b, e in spans)
            for sid in {n.therapist for n in needs}}

    def fits(n: _Need, day: int, start: int, end: int) -> bool:
        spans = busy[n.therapist, day]
        if any(taken_from < end and start < taken_to for taken_from, taken_to in spans):
            return False
        st = scenario.staff_by_id[n.therapist]
        if st.max_hours_day is not None and sum(e - b for b, e in spans) + n.minutes > round(st.max_hours_day * 60):
            return False
        return st.max_hours_week is None or week[n.therapist] + n.minutes <= round(st.max_hours_week * 60)

    return [n for n in needs if not any(fits(n, day, start, end) for day, start, end in n.times(scenario.program))]


def inside_any(windows, session) -> bool:
    return any(d == session.day and b < session.end and session.start < e for d, b, e in windows)


def _polish(scenario: Scenario, timetable: Timetable, seconds: float, cancel, swaps: bool) -> Timetable:
    solved = _solve(scenario, timetable, seconds, cancel, swaps, None, "facilitator polish")
    if solved is None:
        return timetable
    better, code, wall = solved
    before, after = scored(scenario, timetable), scored(scenario, better)
    log.info("facilitator polish: objective %.2f -> %.2f (%s, %.2fs)", before, after, code, wall)
    return better if after < before - 1e-9 else timetable


def _solve(scenario: Scenario, timetable: Timetable, seconds: float, cancel, swaps: bool, needs, what: str):
    """Build and solve the facilitator model: (timetable with its choices, status name, seconds) or None."""
    try:
        built = _build(scenario, timetable, swaps, needs)
    except Exception:  # an improvement only; never let it stop a solve
        log.exception("%s could not be built", what)
        return None
    if built is None:
        return None
    model, choice, seat, movable = built
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    solver.parameters.num_workers = 2
    stall = _Stall(STALL_SECONDS)
    code = solve_cancellable(solver, model, AnyOf(cancel, stall), stall)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        log.info("%s: %s", what, solver.status_name(code))
        return None
    sessions = list(timetable.sessions)
    for i in movable:
        staff = tuple(st for st, lit in choice[i].items() if solver.value(lit))
        patients = tuple(pid for pid, sits in seat[i].items() if isinstance(sits, int) or solver.value(sits))
        sessions[i] = replace(sessions[i], staff_ids=staff, patient_ids=patients)
    return Timetable(tuple(sessions)), solver.status_name(code), solver.wall_time


STALL_SECONDS = 1.5  # measured (120 patients, a fitted template, 18 s given): 1 s 631 in 7.1 s, 2 s 633 in 6.9 s, 3 s 637 in 9.6 s, none 633 in 18 s; 300 patients use the 18 s in every case


class _Stall(cp_model.CpSolverSolutionCallback):
    """Event-like: set once the search has a solution and has found no better one for ``seconds``.

    The polish model is never proven optimal at 120 patients and up, so it used all the time it
    was given."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds
        self.last: float | None = None

    def on_solution_callback(self) -> None:
        self.last = time.monotonic()

    def is_set(self) -> bool:
        return self.last is not None and time.monotonic() - self.last > self.seconds


def can_lead(st, activity, session, busy, prog) -> bool:
    """``st`` holds the activity's skill, is available for the whole session and has none of its
    ``busy`` times ((staff id, day) -> [(start, end)]) then."""
    return (activity.skill in st.skills and covers(st.availability, prog, session.day, session.start, session.end)
            and not any(b < session.end and session.start < e for b, e in busy.get((st.id, session.day), ())))


def _build(scenario: Scenario, timetable: Timetable, swaps: bool, needs=None):
    prog = scenario.program
    acts = scenario.activity_by_id
    sessions = timetable.sessions
    movable = [i for i, s in enumerate(sessions)
               if not s.pinned and s.activity_id in acts and acts[s.activity_id].is_group]
    if not movable:
        return None
    moving = set(movable)
    fixed = [s for i, s in enumerate(sessions) if i not in moving]
    busy: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    fixed_day: dict[tuple[str, int], int] = defaultdict(int)
    fixed_week: dict[str, int] = defaultdict(int)
    for s in fixed:
        for sid in s.staff_ids:
            busy[sid, s.day].append((s.start, s.end))
            fixed_day[sid, s.day] += s.minutes
            fixed_week[sid] += s.minutes

    m = cp_model.CpModel()
    choice: dict[int, dict[str, cp_model.IntVar]] = {}
    for i in movable:
        s = sessions[i]
        a = acts[s.activity_id]
        options = {}
        for st in scenario.staff:
            if can_lead(st, a, s, busy, prog):
                lit = m.new_bool_var(f"leads[{i},{st.id}]")
                m.add_hint(lit, st.id in s.staff_ids)  # today's facilitators: a solution from the start
                options[st.id] = lit
        if len(options) < a.staff_count:
            return None
        m.add(sum(options.values()) == a.staff_count)
        choice[i] = options

    # Patients may swap between parallel sessions of one activity at one start for one cohort:
    # the same time, activity and eligibility, so only the sizes need watching (H5).
    rooms = scenario.room_by_id
    cohort_of = {p.id: p.cohort for p in scenario.patients}
    classes: dict[tuple, list[int]] = defaultdict(list)
    for i in movable:
        s = sessions[i]
        cohorts = {cohort_of.get(pid) for pid in s.patient_ids}
        if len(cohorts) == 1 and None not in cohorts:
            classes[s.activity_id, s.day, s.start, s.end, next(iter(cohorts))].append(i)
    seat: dict[int, dict[str, object]] = {i: {pid: 1 for pid in sessions[i].patient_ids} for i in movable}
    for members in classes.values():
        if len(members) < 2 or not swaps:
            continue
        a = acts[sessions[members[0]].activity_id]
        patients = [pid for i in members for pid in sessions[i].patient_ids]
        for i in members:
            seat[i] = {}
            for pid in patients:
                lit = m.new_bool_var(f"seat[{i},{pid}]")
                m.add_hint(lit, pid in sessions[i].patient_ids)
                seat[i][pid] = lit
        for pid in patients:
            m.add_exactly_one(seat[i][pid] for i in members)
        for i in members:
            most = seats_in(a, rooms.get(sessions[i].room_id or ""))
            size = sum(seat[i].values())
            m.add(size >= a.min_size)
            m.add(size <= most)

    # H4: a facilitator leads one session at a time (cliques at each session's start).
    by_staff_day: dict[tuple[str, int], list[int]] = defaultdict(list)
    for i in movable:
        for sid in choice[i]:
            by_staff_day[sid, sessions[i].day].append(i)
    for (sid, _d), items in by_staff_day.items():
        for i in items:
            t = sessions[i].start
            clique = [choice[j][sid] for j in items if sessions[j].start <= t < sessions[j].end]
            if len(clique) > 1:
                m.add_at_most_one(clique)

    # H8: daily and weekly caps.
    day_load: dict[tuple[str, int], object] = {}
    week_load: dict[str, object] = {}
    for st in scenario.staff:
        week = []
        for d in prog.days:
            uses = [choice[i][st.id] * sessions[i].minutes for i in by_staff_day.get((st.id, d), ())]
            week.extend(uses)
            day_load[st.id, d] = sum(uses) + fixed_day[st.id, d]
            if st.max_hours_day is not None and uses:
                m.add(day_load[st.id, d] <= round(st.max_hours_day * 60))
        week_load[st.id] = sum(week) + fixed_week[st.id]
        if st.max_hours_week is not None and week:
            m.add(week_load[st.id] <= round(st.max_hours_week * 60))

    # S2: per patient and process activity, facilitators beyond the session's staff_count.
    leads: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for s in fixed:
        a = acts.get(s.activity_id)
        if a is not None and a.is_group and a.skill == PROCESS_SKILL:
            for pid in s.patient_ids:
                for sid in s.staff_ids:
                    leads[pid, a.id][sid].append(1)
    for i in movable:
        s = sessions[i]
        a = acts[s.activity_id]
        if a.skill != PROCESS_SKILL:
            continue
        for pid, sits in seat[i].items():
            for sid, lit in choice[i].items():
                leads[pid, a.id][sid].append(lit if isinstance(sits, int) else (lit, sits))
    continuity = []
    for (pid, aid), staff in leads.items():
        if len(staff) <= acts[aid].staff_count:
            continue
        flags = []
        for sid, uses in staff.items():
            if any(isinstance(u, int) for u in uses):
                flags.append(1)
                continue
            flag = m.new_bool_var(f"led[{pid},{aid},{sid}]")
            for use in uses:
                if isinstance(use, tuple):  # leads that session and the patient sits in it
                    m.add_bool_or([flag, use[0].Not(), use[1].Not()])
                else:
                    m.add_implication(use, flag)
            flags.append(flag)
        extra = m.new_int_var(0, len(flags), f"extra[{pid},{aid}]")
        m.add(extra >= sum(flags) - acts[aid].staff_count)
        continuity.append(extra)

    # S4: (max - min) minutes over the primary therapists.
    therapists = therapist_ids(scenario)
    balance = 0
    if len(therapists) >= 2:
        cap = 7 * 24 * 60
        hi, lo = m.new_int_var(0, cap, "hi"), m.new_int_var(0, cap, "lo")
        for sid in therapists:
            load = fixed_week[sid] + sum(choice[i][sid] * sessions[i].minutes
                                         for d in prog.days for i in by_staff_day.get((sid, d), ()))
            m.add(hi >= load)
            m.add(lo <= load)
        balance = hi - lo
    w = prog.weights
    w2 = round(w.of("continuity") * WEIGHT_SCALE)
    w4 = round(w.of("balance") * WEIGHT_SCALE)
    soft = w2 * MINUTES_PER_HOUR * sum(continuity) + w4 * balance
    if needs:
        # Leading a group inside a waiting patient's hours outweighs every soft goal here, and a
        # free time for each of their sessions with the therapist outweighs that.
        avoid = _avoided(needs)
        inside = [lit for i in movable for sid, lit in choice[i].items() if inside_any(avoid.get(sid, ()), sessions[i])]
        ceiling = w2 * MINUTES_PER_HOUR * sum(len(f) for f in leads.values()) + w4 * 7 * 24 * 60
        unmet = []
        for n in needs:
            free = []
            st = scenario.staff_by_id[n.therapist]
            for day, start, end in n.times(prog):
                if any(taken_from < end and start < taken_to for taken_from, taken_to in busy.get((n.therapist, day), ())):
                    continue  # an individual, family or pinned session of theirs is there
                holders = [choice[i][n.therapist] for i in by_staff_day.get((n.therapist, day), ())
                           if sessions[i].start < end and start < sessions[i].end]
                caps = [(day_load[n.therapist, day], st.max_hours_day), (week_load[n.therapist], st.max_hours_week)]
                caps = [(load, round(hours * 60) - n.minutes) for load, hours in caps if hours is not None]
                if not holders and not caps:
                    free = [1]
                    break
                lit = m.new_bool_var("")
                for held in holders:
                    m.add_implication(lit, held.Not())
                for load, most in caps:  # the session itself must fit under the therapist's caps (H8)
                    m.add(load <= most).only_enforce_if(lit)
                free.append(lit)
            met = m.new_bool_var("")
            m.add(met <= sum(free))
            unmet.append(met.Not())
        top = (ceiling + 1) * (len(inside) + 1)
        m.minimize(top * sum(unmet) + (ceiling + 1) * sum(inside) + soft)
    else:
        m.minimize(soft)
    return m, choice, seat, movable

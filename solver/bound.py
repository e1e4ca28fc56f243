"""A day-level relaxation of the week that proves a lower bound of the soft goals.

The time-indexed model (solver/builder.py) is exact but large, and its LP bound is weak
on the terms that depend on *which days* a patient comes (S1 preferences, S6 spread)
and on *how many groups* run (S5 efficiency). This module drops the clock: per patient
and day it keeps only whether the patient attends, which group activities they sit in
(at most one of each a day, H6) and how many individual sessions they get, with every
counting rule that still applies at that level:

* H1 days per week; H2 contact minutes per attended day (at most the day's maximum on
  the span basis) and minutes per week; H3/H5 eligibility through the search space
  (a patient can only sit in a group on a day some start admits them);
* H6 weekly counts; a group activity at most once a day and only on an attended day;
* groups per (activity, cohort, day): each unpinned session seats between ``min_size``
  and the smaller of ``max_size`` and the largest room of its kind;
* H9 pinned sessions fixed (their patients attend those days; the sessions count in S5).

Every timetable that keeps the hard rules maps onto a solution of this relaxation with
the same S1, S5 and S6 and with S2, S3, S4 >= 0, so CP-SAT's proven bound of the
relaxation (not necessarily its optimum) is a lower bound of the weighted objective of
every complete timetable. Weights are rounded *down* to 0.01, so the bound stays valid.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import defaultdict

from ortools.sat.python import cp_model

from scheduler.model import HoursBasis, RoomKind, Scenario
from solver.space import Space, allowed_max

from solver.builder import WEIGHT_SCALE
from solver.repair import solve_cancellable

log = logging.getLogger("solver.bound")



def relaxation_bound(space: Space, seconds: float, workers: int = 1, cancel: threading.Event | None = None) -> float | None:
    """A proven lower bound of ``Σ weight·value`` over complete timetables, or None if none was proven."""
    try:
        built = _Relaxation(space.scenario, space).build()
    except Exception:  # an aid to the gap only; never let it stop a solve
        log.exception("relaxation could not be built")
        return None
    if built is None:
        return None
    model, scale = built
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    solver.parameters.num_workers = max(1, workers)
    code = solve_cancellable(solver, model, cancel)
    if code == cp_model.OPTIMAL:
        value = solver.objective_value
    elif code in (cp_model.FEASIBLE, cp_model.UNKNOWN) and math.isfinite(solver.best_objective_bound):
        value = solver.best_objective_bound  # proven even when no relaxed week was found yet
    else:
        # Infeasible would mean no timetable exists; the full model and the explanations say
        # that with reasons, so here it only means "no bound".
        log.info("relaxation: %s", solver.status_name(code))
        return None
    bound = max(0.0, math.ceil(value - 1e-9) / scale)
    log.info("relaxation bound %.2f (%s, %.2fs)", bound, solver.status_name(code), solver.wall_time)
    return bound


class _Relaxation:
    def __init__(self, scenario: Scenario, space: Space):
        self.sc = scenario
        self.space = space
        self.prog = scenario.program
        self.m = cp_model.CpModel()

    def build(self) -> tuple[cp_model.CpModel, int] | None:
        sc, prog, m = self.sc, self.prog, self.m
        days = tuple(prog.days)
        acts = sc.activity_by_id
        minutes = {a.id: self.space.length[a.id] * prog.slot_minutes for a in sc.activities}

        group_days: dict[tuple[str, str], set[int]] = defaultdict(set)  # (patient, activity) -> days
        for key, patients in self.space.group_patients.items():
            for pid in patients:
                group_days[pid, key.activity].add(key.day)
        solo_days: dict[tuple[str, str], set[int]] = defaultdict(set)
        for (pid, aid), starts in self.space.solo_starts.items():
            solo_days[pid, aid] = {d for d, _t in starts}

        # Pinned sessions: fixed attendance (per patient, activity, day) and fixed groups.
        pinned_count: dict[str, dict[tuple[str, int], int]] = defaultdict(lambda: defaultdict(int))
        pinned_seats: dict[tuple[str, str, int], int] = defaultdict(int)  # (activity, cohort, day)
        pinned_groups = 0
        for s in self.space.pins:
            a = acts.get(s.activity_id)
            if a is None:
                return None
            if a.is_group:
                pinned_groups += 1
            for pid in s.patient_ids:
                p = sc.patient_by_id.get(pid)
                if p is None:
                    return None
                pinned_count[pid][a.id, s.day] += 1
                if a.is_group:
                    pinned_seats[a.id, p.cohort.value, s.day] += 1

        cap: dict[str, int] = {}
        for a in sc.activities:
            if not a.is_group:
                continue
            size = a.max_size
            if a.room_kind != RoomKind.NONE:
                seats = [r.capacity for r in sc.rooms if r.kind == a.room_kind]
                size = min(size, max(seats, default=0))
            cap[a.id] = max(0, size)

        span_basis = prog.hours_basis == HoursBasis.SPAN
        seats_by_group: dict[tuple[str, str, int], list] = defaultdict(list)
        spread_terms, pref_terms = [], []
        for p in sc.patients:
            lim = p.limits(prog)
            y = {d: m.new_bool_var(f"y[{p.id},{d}]") for d in days}
            day_minutes: dict[int, list] = defaultdict(list)
            week_minutes = []
            for a in sc.activities:
                most = allowed_max(p, a)
                fixed_days = {d: n for (aid, d), n in pinned_count.get(p.id, {}).items() if aid == a.id}
                if most <= 0 and not fixed_days:
                    continue
                req = p.requirement(a.id)
                lo = req.min_count if req is not None else 0
                per_day = []
                for d in days:
                    pinned = fixed_days.get(d, 0)
                    if a.is_group:
                        possible = d in group_days.get((p.id, a.id), ()) or pinned
                        if not possible:
                            continue
                        v = m.new_bool_var(f"x[{p.id},{a.id},{d}]")
                        if pinned:
                            m.add(v == 1)
                        seats_by_group[a.id, p.cohort.value, d].append(v)
                        if a.in_block:
                            m.add(v <= y[d])
                    else:
                        extra = most if d in solo_days.get((p.id, a.id), ()) else 0
                        if not extra and not pinned:
                            continue
                        v = m.new_int_var(pinned, pinned + extra, f"z[{p.id},{a.id},{d}]")
                        if a.in_block:
                            m.add(v <= (pinned + extra) * y[d])
                    per_day.append(v)
                    if a.in_block:
                        day_minutes[d].append(minutes[a.id] * v)
                    week_minutes.append(minutes[a.id] * v)
                total = sum(per_day)
                m.add(total >= lo)
                if req is not None:
                    m.add(total <= max(req.max_count, sum(fixed_days.values())))
            for d in days:
                contact = sum(day_minutes.get(d, []))
                if not day_minutes.get(d):
                    m.add(y[d] == 0)
                    continue
                m.add(contact <= round(lim.max_hours * 60) * y[d])
                if not span_basis:
                    m.add(contact >= round(lim.min_hours * 60) * y[d])
                else:
                    m.add(contact >= y[d])  # an attended day has at least one session
            attended = sum(y.values())
            m.add(attended >= lim.min_days)
            m.add(attended <= lim.max_days)
            m.add(sum(week_minutes) >= round(lim.min_week_hours * 60))
            m.add(sum(week_minutes) <= round(lim.max_week_hours * 60))
            if p.preferred_days:
                pref_terms.extend(y[d] for d in days if d not in p.preferred_days)
            for d in days:
                if d + 1 in y:
                    q = m.new_bool_var(f"adjacent[{p.id},{d}]")
                    m.add(q >= y[d] + y[d + 1] - 1)
                    spread_terms.append(q)

        group_terms = []
        weekly: dict[tuple[str, str], list] = defaultdict(list)
        for (aid, cohort, d), seats in seats_by_group.items():
            a = acts[aid]
            unpinned = sum(seats) - pinned_seats.get((aid, cohort, d), 0)
            if cap[aid] <= 0:
                m.add(unpinned <= 0)
                continue
            g = m.new_int_var(0, len(seats), f"groups[{aid},{cohort},{d}]")
            m.add(unpinned <= cap[aid] * g)
            m.add(unpinned >= max(1, a.min_size) * g)
            if not pinned_seats.get((aid, cohort, d)):
                for v in seats:  # someone sits in it: it runs (the strong, disaggregated link)
                    m.add(v <= g)
            group_terms.append(g)
            weekly[aid, cohort].append(g)
        for (aid, cohort), gs in weekly.items():
            # Every patient of the cohort is in; their required sessions need this many groups.
            need = sum(p.requirement(aid).min_count for p in sc.patients
                       if p.cohort.value == cohort and p.requirement(aid) is not None and allowed_max(p, acts[aid]) > 0)
            need -= sum(n for (a2, c2, _d), n in pinned_seats.items() if a2 == aid and c2 == cohort)
            if need > 0 and cap[aid] > 0:
                m.add(sum(gs) >= -(-need // cap[aid]))

        w = prog.weights
        coef = {name: math.floor(w.of(name) * WEIGHT_SCALE + 1e-9) for name in ("preferences", "efficiency", "spread")}
        m.minimize(
            coef["preferences"] * sum(pref_terms)
            + coef["efficiency"] * (sum(group_terms) + pinned_groups)
            + coef["spread"] * sum(spread_terms)
        )
        return m, WEIGHT_SCALE


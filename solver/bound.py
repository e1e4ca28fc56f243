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
* groups per (activity, cohort, day, component): each unpinned session seats between
  ``min_size`` and the smaller of ``max_size`` and the largest room of its kind, and only
  patients who share an admissible start can share a group (a morning and an evening
  track never do), with a weekly ⌈seats needed / capacity⌉ cut per component;
* each patient's attended days as one of their day patterns (days limits, days with a
  possible session, pinned days), priced with S1 and S6: the LP then sees every
  patient's best S1 + S6 instead of a fractional mix of days;
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
from scheduler.timegrid import open_slots
from scheduler.validate import therapist_ids
from solver.space import Space, allowed_max, day_patterns, pattern_counts

from solver.builder import MINUTES_PER_HOUR, WEIGHT_SCALE
from solver.repair import solve_cancellable

log = logging.getLogger("solver.bound")



def relaxation_bound(space: Space, seconds: float, workers: int = 1, cancel: threading.Event | None = None,
                     staff: bool = False) -> float | None:
    """A proven lower bound of ``Σ weight·value`` over complete timetables, or None if none was proven.

    With ``staff`` the relaxation also hands each day's sessions to the staff who may lead them,
    within their hours and caps, and prices S4 (balance) on their weeks: tighter where staff
    time is short (a 6-patient example: 20 -> 21), but larger and slower to prove (40
    patients: proven 102 in 0.8 s without; not proven in 30 s with, the same 102)."""
    try:
        built = _Relaxation(space.scenario, space, staff=staff).build()
    except Exception:  # an aid to the gap only; never let it stop a solve
        log.exception("relaxation could not be built")
        return None
    if built is None:
        return None
    model, scale = built
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    solver.parameters.num_workers = max(1, workers)
    # The full LP relaxation at every node: measured on one worker, 15 s, generated clinics
    # (bound, default level -> level 2): 20 patients 35 -> 47 (optimal in 0.2 s), 40 patients
    # 88 -> 102 (optimal in 0.8 s); 30 s: 120 patients 296 -> 312 (optimal in 12.5 s), 300
    # patients 711 -> 743.
    solver.parameters.linearization_level = 2
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
    def __init__(self, scenario: Scenario, space: Space, staff: bool = False):
        self.sc = scenario
        self.space = space
        self.with_staff = staff
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
        day_part, week_part = _start_components(self.space)
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
        w = prog.weights
        coef = {name: math.floor(w.of(name) * WEIGHT_SCALE + 1e-9) for name in ("preferences", "efficiency", "spread")}
        pinned_days: dict[str, set[int]] = defaultdict(set)
        for pid, counts in pinned_count.items():
            for (aid, d) in counts:
                if acts[aid].in_block:
                    pinned_days[pid].add(d)
        day_terms = []
        solo_vars: list = []  # (patient, activity, day, sessions, of which pinned)
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
                        part = day_part.get((a.id, p.cohort.value, d, p.id), p.id)
                        seats_by_group[a.id, p.cohort.value, d, part].append(v)
                        if a.in_block:
                            m.add(v <= y[d])
                    else:
                        extra = most if d in solo_days.get((p.id, a.id), ()) else 0
                        if not extra and not pinned:
                            continue
                        v = m.new_int_var(pinned, pinned + extra, f"z[{p.id},{a.id},{d}]")
                        solo_vars.append((p, a, d, v, pinned))
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
            # The week's attended days as one of the patient's possible day patterns: the
            # LP then sees each patient's best S1 + S6 exactly (pre-computed patterns).
            lam = {}
            for pattern in day_patterns([d for d in days if day_minutes.get(d)], lim.min_days, lim.max_days,
                                        pinned_days[p.id]):
                outside, adjacent = pattern_counts(pattern, p.preferred_days, prog)
                cost = coef["preferences"] * outside + coef["spread"] * adjacent
                lam[pattern] = m.new_bool_var(f"pattern[{p.id},{''.join(map(str, pattern))}]")
                if cost:
                    day_terms.append(cost * lam[pattern])
            if not lam:
                return None  # no day pattern fits: no complete timetable (the model explains it)
            m.add_exactly_one(lam.values())
            for d in days:
                m.add(y[d] == sum(v for pattern, v in lam.items() if d in pattern))

        # A group has one start, so its patients all admit that start: groups never mix
        # patients of different components (patients linked by a shared admissible start).
        # Pinned seats are counted per (activity, cohort, day), so days with pins keep one
        # component.
        for (aid, cohort, d, part) in list(seats_by_group):
            if pinned_seats.get((aid, cohort, d)) and part is not None:
                seats_by_group[aid, cohort, d, None].extend(seats_by_group.pop((aid, cohort, d, part)))
        group_terms = []
        group_vars: list = []  # (activity, cohort, day, unpinned groups, their most)
        weekly: dict[tuple[str, str, object], list] = defaultdict(list)
        for (aid, cohort, d, part), seats in seats_by_group.items():
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
            group_vars.append((aid, cohort, d, g, len(seats)))
            # Day components refine week components (a start shared on a day is shared in
            # the week); a day with pins counts towards every week component of its triple.
            if part is None:
                weekly[aid, cohort, None].append(g)
            else:
                weekly[aid, cohort, week_part[aid, cohort, part]].append(g)
        has_pins = {(a2, c2) for (a2, c2, _d) in pinned_seats}
        # Every patient of a component is in; their required sessions need this many seats.
        needs: dict[tuple[str, str, object], int] = defaultdict(int)
        for p in sc.patients:
            for a in sc.activities:
                req = p.requirement(a.id)
                wpart = week_part.get((a.id, p.cohort.value, p.id)) if a.is_group and req is not None else None
                if wpart is not None and allowed_max(p, a) > 0:
                    needs[a.id, p.cohort.value, wpart] += req.min_count
        for (aid, cohort, wpart), gs in weekly.items():
            if wpart is None or cap[aid] <= 0:
                continue
            need = needs.get((aid, cohort, wpart), 0)
            if (aid, cohort) in has_pins:
                need -= sum(n for (a2, c2, _d), n in pinned_seats.items() if a2 == aid and c2 == cohort)
                gs = gs + weekly.get((aid, cohort, None), [])
            if need > 0:
                m.add(sum(gs) >= -(-need // cap[aid]))

        objective = sum(day_terms) + coef["efficiency"] * (sum(group_terms) + pinned_groups)
        if not self.with_staff:
            m.minimize(objective)
            return m, WEIGHT_SCALE
        balance = self._staff(group_vars, solo_vars)
        # S4 is in minutes (its weight per hour): the other terms are scaled by 60 to match.
        w4 = math.floor(w.of("balance") * WEIGHT_SCALE + 1e-9)
        m.minimize(MINUTES_PER_HOUR * objective + (w4 * balance if w4 else 0))
        return m, WEIGHT_SCALE * MINUTES_PER_HOUR

    def _staff(self, group_vars, solo_vars):
        """Who takes how many of each day's sessions, within their hours and the rooms'; returns S4 in minutes.

        Per (group activity, cohort, day), counts of the unpinned groups each member of staff
        who could lead one that day leads (``staff_count`` per group, at most one each per
        group); a session with the primary therapist loads that therapist; the other staff a
        solo session needs come from those qualified that day. A member of staff's day holds
        at most their open slots (H3, H4) and their daily cap, their week their weekly cap (H8;
        caps on the sessions' own minutes, as the validator counts them). A day's sessions of a
        room kind hold at most the open slots of the rooms of that kind (H4, H7). Every timetable maps
        onto such counts, so the bound stays valid. S4 (0 with fewer than two therapists) is
        the spread of the therapists' weekly minutes, pinned sessions included.
        """
        sc, sp, prog, m = self.sc, self.space, self.prog, self.m
        acts = sc.activity_by_id
        group_staff: dict[tuple[str, str, int], set[str]] = defaultdict(set)
        for key, staff in sp.group_staff.items():
            group_staff[key.activity, key.cohort, key.day].update(staff)
        solo_staff: dict[tuple[str, int], set[str]] = defaultdict(set)
        for key, staff in sp.solo_staff.items():
            solo_staff[key.activity, key.day].update(staff)
        slots: dict[tuple[str, int], list] = defaultdict(list)  # (staff, day) -> slots held
        minutes: dict[tuple[str, int], list] = defaultdict(list)  # (staff, day) -> minutes held
        for s in sp.pins:
            for sid in s.staff_ids:
                st = sc.staff_by_id.get(sid)
                if st is None:
                    continue
                minutes[sid, s.day].append(s.minutes)
                slots[sid, s.day].append(_touched(st.availability, prog, s))

        def take(sid: str, d: int, a, count) -> None:
            minutes[sid, d].append(a.duration_min * count)
            slots[sid, d].append(sp.length[a.id] * count)

        for aid, cohort, d, g, most in group_vars:
            a = acts[aid]
            if a.staff_count <= 0:
                continue
            staff = sorted(group_staff.get((aid, cohort, d), ()))
            counts = [m.new_int_var(0, most, f"leads[{sid},{aid},{cohort},{d}]") for sid in staff]
            m.add(sum(counts) == a.staff_count * g)
            for sid, c in zip(staff, counts):
                m.add(c <= g)
                take(sid, d, a, c)
        pooled: dict[tuple[str, int], list] = defaultdict(list)
        for p, a, d, v, pinned in solo_vars:
            others = a.staff_count
            if a.with_primary and p.primary_therapist in sc.staff_by_id:
                take(p.primary_therapist, d, a, v - pinned)
                others -= 1
            if others > 0:
                pooled[a.id, d].append(others * (v - pinned))
        for (aid, d), needs in pooled.items():
            a = acts[aid]
            staff = sorted(solo_staff.get((aid, d), ()))
            most = a.staff_count * 7 * len(sc.patients)
            counts = [m.new_int_var(0, most, f"takes[{sid},{aid},{d}]") for sid in staff]
            m.add(sum(counts) == sum(needs))
            for sid, c in zip(staff, counts):
                take(sid, d, a, c)
        # Rooms: a day's sessions of a room kind hold at most the open slots of its rooms.
        room_slots: dict[tuple[object, int], list] = defaultdict(list)  # (kind, day) -> slots held
        for aid, _cohort, d, g, _most in group_vars:
            room_slots[acts[aid].room_kind, d].append(sp.length[aid] * g)
        for _p, a, d, v, pinned in solo_vars:
            room_slots[a.room_kind, d].append(sp.length[a.id] * (v - pinned))
        for s in sp.pins:
            r = sc.room_by_id.get(s.room_id or "")
            if r is not None:
                room_slots[r.kind, s.day].append(_touched(r.availability, prog, s))
        for (kind, d), held in room_slots.items():
            if kind != RoomKind.NONE:
                m.add(sum(held) <= sum(len(open_slots(r.availability, prog, d)) for r in sc.rooms if r.kind == kind))
        week: dict[str, list] = defaultdict(list)
        for st in sc.staff:
            for d in prog.days:
                held = minutes.get((st.id, d), [])
                if held:
                    m.add(sum(slots[st.id, d]) <= len(open_slots(st.availability, prog, d)))
                    if st.max_hours_day is not None:
                        m.add(sum(held) <= math.floor(st.max_hours_day * 60 + 1e-9))
                week[st.id].extend(held)
            if st.max_hours_week is not None and week[st.id]:
                m.add(sum(week[st.id]) <= math.floor(st.max_hours_week * 60 + 1e-9))
        therapists = therapist_ids(sc)
        if len(therapists) < 2:
            return 0
        horizon = 24 * 60 * len(prog.days)
        hi, lo = m.new_int_var(0, horizon, "hi"), m.new_int_var(0, horizon, "lo")
        for sid in therapists:
            total = sum(week[sid])
            m.add(hi >= total)
            m.add(lo <= total)
        return hi - lo



def _touched(availability, prog, session) -> int:
    """Open slots (of this availability) a session touches: no other session of its staff member or room can use them."""
    return sum(1 for t in open_slots(availability, prog, session.day)
               if prog.open + t * prog.slot_minutes < session.end and session.start < prog.open + (t + 1) * prog.slot_minutes)


def _start_components(space: Space) -> tuple[dict, dict]:
    """Patients linked by a shared admissible start of a group activity.

    Returns ``day_part[(activity, cohort, day, patient)] -> representative`` (links on that
    day) and ``week_part[(activity, cohort, patient_or_day_representative)] -> representative``
    (links on any day; every day representative maps to its week representative).
    """
    days = _UnionFind()
    for key, patients in space.group_patients.items():
        nodes = [("d", key.activity, key.cohort, key.day, pid) for pid in patients]
        for node in nodes:
            days.union(nodes[0], node)
    day_part = {(aid, cohort, day, pid): days.find(node) for node in list(days.parent)
                for _tag, aid, cohort, day, pid in [node]}
    weeks = _UnionFind()  # a patient's day components join across days
    for (aid, cohort, _day, pid), rep in day_part.items():
        weeks.union(("p", aid, cohort, pid), ("r", rep))
    week_part = {}
    for (aid, cohort, _day, pid), rep in day_part.items():
        week_part[aid, cohort, pid] = week_part[aid, cohort, rep] = weeks.find(("p", aid, cohort, pid))
    return day_part, week_part


class _UnionFind:
    def __init__(self):
        self.parent: dict = {}

    def find(self, x):
        root = x
        while self.parent.setdefault(root, root) != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, x, y) -> None:
        rx, ry = self.find(x), self.find(y)
        if rx != ry:
            self.parent[ry] = rx

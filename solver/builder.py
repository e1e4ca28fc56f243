"""The CP-SAT model of an IOP week: variables, then the hard rules in a fixed order, then the objective.

Formulation (docs/solver.md has the reasoning):
- time-indexed: a session of activity ``a`` may start at slot ``t`` of day ``d``;
- group sessions are aggregated per (activity, cohort, day, start): ``g`` counts the
  sessions run there, patient/staff/room booleans say who is in one of them; rooms and
  staff are distinct booleans, so any count between ``g*min_size`` and the rooms' seats
  splits into ``g`` valid sessions afterwards (``solver.extract``);
- individual and family sessions are per patient; their staff (other than the primary
  therapist) and offices are pooled per (activity, day, start), then handed out;
- every patient/staff/room slot is an at-most-one; the daily block uses exact
  "started"/"finished" booleans per slot, which give the span and forbid long gaps;
- pinned sessions are constants in every sum.
Every variable has a readable name, and every hard-rule family can be guarded by an
enforcement literal (``explain=True``) so an infeasibility core names people and rules.
"""

from __future__ import annotations


from collections import defaultdict
from dataclasses import dataclass, field, replace

from ortools.sat.python import cp_model

from scheduler.model import PROCESS_SKILL, RoomKind, Scenario
from scheduler.timegrid import covers
from solver.space import GroupKey, SoloKey, Space, allowed_max, day_patterns, eligible, pattern_counts

# Integer objective = OBJECTIVE_SCALE * sum(weight * value); weights are used to 0.01.
WEIGHT_SCALE = 100
MINUTES_PER_HOUR = 60
OBJECTIVE_SCALE = WEIGHT_SCALE * MINUTES_PER_HOUR
# Parallel sessions of one process group at one start, modelled one by one (a safety cap).
MAX_PROCESS_COPIES = 64


@dataclass
class Occupancy:
    """Per (owner, day, slot): the literals that occupy it, plus a constant from pins."""

    vars: dict[tuple[str, int, int], list] = field(default_factory=lambda: defaultdict(list))
    fixed: dict[tuple[str, int, int], int] = field(default_factory=lambda: defaultdict(int))

    def add(self, owner: str, day: int, start: int, length: int, lit) -> None:
        for s in range(start, start + length):
            self.vars[owner, day, s].append(lit)

    def pin(self, owner: str, day: int, start: int, length: int) -> None:
        for s in range(start, start + length):
            self.fixed[owner, day, s] += 1

    def keys(self):
        return set(self.vars) | set(self.fixed)


def model_size(space: Space) -> int:
    """A quick estimate of the model's size (patient and facilitator literals), before building it."""
    total = sum(len(starts) for starts in space.solo_starts.values())
    for key in space.group_keys:
        a = space.scenario.activity_by_id[key.activity]
        patients, staff = len(space.group_patients[key]), len(space.group_staff[key])
        if a.skill == PROCESS_SKILL:
            copies = min(MAX_PROCESS_COPIES, max(1, staff), -(-patients // max(1, a.max_size)) + 1)
            total += patients * copies * (1 + staff)
        else:
            total += patients
    return total


# Rules of one patient's week (subjects start with the patient): in best effort they bind a patient of
# a pinned session only while that patient is in (IopModel.guard).
_PATIENT_RULES = frozenset({"H1", "H2", "H2w", "H6"})


class IopModel:
    """Builds the CP-SAT model for one scenario; ``build()`` composes it in a fixed order."""

    def __init__(self, space: Space, *, best_effort: bool = False, explain: bool = False, day_patterns: bool = True):
        self.space = space
        self.sc: Scenario = space.scenario
        self.prog = self.sc.program
        self.m = cp_model.CpModel()
        self.best_effort = best_effort
        self.explain = explain
        self.day_patterns = day_patterns and not explain
        self.guards: dict[str, cp_model.IntVar] = {}
        self.guard_text: dict[str, tuple[str, tuple[str, ...]]] = {}
        # decision variables
        self.g: dict[GroupKey, cp_model.IntVar] = {}
        self.g_max: dict[GroupKey, int] = {}
        self.copied: set[GroupKey] = set()
        self.xg: dict[tuple[str, GroupKey], cp_model.IntVar] = {}
        self.sg: dict[tuple[str, GroupKey], cp_model.IntVar] = {}
        self.rg: dict[tuple[str, GroupKey], cp_model.IntVar] = {}
        self.xs: dict[tuple[str, SoloKey], cp_model.IntVar] = {}
        self.ss: dict[tuple[str, SoloKey], cp_model.IntVar] = {}
        self.rs: dict[tuple[str, SoloKey], cp_model.IntVar] = {}
        self.y: dict[tuple[str, int], cp_model.IntVar] = {}
        self.inc: dict[str, object] = {}
        self.patterns: dict[str, dict[frozenset[int], object]] = {}
        self.joins: dict[int, dict[str, cp_model.IntVar]] = {}  # open session -> patient -> joins it
        self.leads: dict[int, dict[str, cp_model.IntVar]] = {}  # open session -> staff -> leads it
        # indexes
        self.patient_vars: dict[str, list[tuple[object, str, int, int, int]]] = defaultdict(list)
        self.staff_minutes: dict[str, list[tuple[object, int]]] = defaultdict(list)
        self.patient_occ = Occupancy()
        self.inblock_occ = Occupancy()
        self.staff_occ = Occupancy()
        self.room_occ = Occupancy()
        self.pin_minutes: dict[str, int] = defaultdict(int)
        self.pin_day_minutes: dict[tuple[str, int], int] = defaultdict(int)
        self.pin_day_sessions: dict[tuple[str, int], int] = defaultdict(int)
        self.pin_counts: dict[tuple[str, str], int] = defaultdict(int)
        self.pin_day_counts: dict[tuple[str, str, int], int] = defaultdict(int)
        self.pin_staff_minutes: dict[str, int] = defaultdict(int)
        self.pin_staff_day: dict[tuple[str, int], int] = defaultdict(int)
        self.pinned_groups = 0
        self.pinned_leads: set[tuple[str, str, str]] = set()
        self.terms: dict[str, object] = {}
        self.inclusion_weight = 0
        self.pinned_patients: set[str] = set()  # best effort: patients of pinned sessions
        self.term_scale: dict[str, int] = {}

    # ------------------------------------------------------------------ helpers
    def length(self, activity_id: str) -> int:
        return self.space.length[activity_id]

    def minutes(self, activity_id: str) -> int:
        return self.length(activity_id) * self.prog.slot_minutes

    def guard(self, rule: str, subjects: tuple[str, ...], text: str) -> list:
        """Enforcement literals for one rule family of one subject: when explaining, the rule's own;
        in best effort, a patient rule of a patient of a pinned session holds only if they are in (left
        out, they keep their pinned days and the pins alone need not make a whole program day)."""
        lits = []
        if self.best_effort and rule in _PATIENT_RULES and subjects[0] in self.pinned_patients:
            lits.append(self.inc[subjects[0]])
        if not self.explain:
            return lits
        name = f"{rule}[{','.join(subjects)}]"
        lit = self.guards.get(name)
        if lit is None:
            lit = self.m.new_bool_var(name)
            self.guards[name] = lit
            self.guard_text[name] = (text, subjects)
        return [*lits, lit]

    def add(self, constraint, guard: list) -> None:
        """Add a bounded linear expression (or a Python bool) under an optional guard."""
        if isinstance(constraint, bool):
            if constraint:
                return
            ct = self.m.add_bool_or([])
        else:
            ct = self.m.add(constraint)
        if guard:
            ct.only_enforce_if(guard)

    # ------------------------------------------------------------------ build
    def build(self) -> IopModel:
        """Variables, hard rules H1-H9 in order, then the objective S1-S6."""
        self.add_patient_inclusion()
        self.add_group_variables()
        self.add_solo_variables()
        self.add_pins()
        self.add_open_sessions()
        self.add_day_variables()
        self.rule_h1_days()
        self.rule_h2_day_hours()
        self.rule_h2_block_gaps()
        self.rule_h2_week_hours()
        self.rule_h4_patient_overlap()
        self.rule_h4_staff_overlap()
        self.rule_h4_room_overlap()
        self.rule_h5_group_sessions()
        self.rule_h5_solo_sessions()
        self.rule_h6_requirements()
        self.rule_h8_staff_caps()
        self.rule_h9_pins()
        self.objective()
        return self

    # ------------------------------------------------------------------ variables
    def add_patient_inclusion(self) -> None:
        """Best-effort mode: one literal per patient says whether the patient is scheduled."""
        for p in self.sc.patients:
            self.inc[p.id] = self.m.new_bool_var(f"include[{p.id}]") if self.best_effort else 1
        if not self.best_effort:
            return
        # A pinned session is kept whole or not at all (H9): its patients are in together or out
        # together, and the output drops it with them (solver/extract.py). Such a patient's pinned
        # days are attended whatever happens, so their in-block sessions are tied to inclusion
        # directly: until session 15 a left-out patient could keep sessions on a pinned day, and a
        # best-effort solve returned `invalid` (the final check found the waitlisted patient in them).
        for s in self.space.pins:
            lits = [self.inc[pid] for pid in s.patient_ids if pid in self.inc]
            self.pinned_patients.update(pid for pid in s.patient_ids if pid in self.inc)
            for a, b in zip(lits, lits[1:]):
                self.m.add(a == b)

    def _link_inclusion(self, patient_id: str, lit, in_block: bool = False) -> None:
        """A left-out patient takes no session (in-block ones through their attended days, or
        directly for a patient of a pinned session)."""
        if self.best_effort and (not in_block or patient_id in self.pinned_patients):
            self.m.add_implication(lit, self.inc[patient_id])

    def add_group_variables(self) -> None:
        """g[a,c,d,t] sessions run; x/s/r: patient, staff, room booleans at that start."""
        sp = self.space
        for base in sp.group_keys:
            a = self.sc.activity_by_id[base.activity]
            rooms = sp.group_rooms[base]
            most = len(sp.group_staff[base]) // max(1, a.staff_count)
            most = min(most, len(sp.group_patients[base]) // max(1, a.min_size))
            if a.room_kind != RoomKind.NONE:
                most = min(most, len(rooms))
            if most <= 0:
                continue
            if a.skill == PROCESS_SKILL:
                self.copied.add(base)
                needed = -(-len(sp.group_patients[base]) // max(1, a.max_size)) + 1
                copies = [replace(base, copy=k) for k in range(min(most, needed, MAX_PROCESS_COPIES))]
                for key in copies:
                    self._group_key(key, a, 1)
                for first, second in zip(copies, copies[1:]):
                    self.m.add(self.g[first] >= self.g[second])
            else:
                self._group_key(base, a, most)

    def _group_key(self, key: GroupKey, a, most: int) -> None:
        sp = self.space
        base = replace(key, copy=0)
        length = self.length(a.id)
        tag = f"{a.id},{key.cohort},{self.day_name(key.day)},{key.start}" + (f"#{key.copy}" if key.copy else "")
        self.g[key] = self.m.new_int_var(0, most, f"g[{tag}]")
        self.g_max[key] = most
        for pid in sp.group_patients[base]:
            lit = self.m.new_bool_var(f"x[{pid},{tag}]")
            self.xg[pid, key] = lit
            self._link_inclusion(pid, lit, a.in_block)
            self._patient_use(pid, a, key.day, key.start, lit)
        for sid in sp.group_staff[base]:
            lit = self.m.new_bool_var(f"s[{sid},{tag}]")
            self.sg[sid, key] = lit
            self.staff_occ.add(sid, key.day, key.start, length, lit)
            self.staff_minutes[sid].append((lit, self.minutes(a.id), key.day))
        for rid in sp.group_rooms[base]:
            lit = self.m.new_bool_var(f"r[{rid},{tag}]")
            self.rg[rid, key] = lit
            self.room_occ.add(rid, key.day, key.start, length, lit)

    def add_solo_variables(self) -> None:
        """Individual and family sessions per patient; pooled helper staff and offices per start."""
        sp = self.space
        pooled: set[SoloKey] = set()
        for (pid, aid), starts in sp.solo_starts.items():
            a = self.sc.activity_by_id[aid]
            patient = self.sc.patient_by_id[pid]
            length = self.length(aid)
            for d, t in starts:
                key = SoloKey(aid, d, t)
                lit = self.m.new_bool_var(f"x[{pid},{aid},{d},{t}]")
                self.xs[pid, key] = lit
                self._link_inclusion(pid, lit, a.in_block)
                self._patient_use(pid, a, d, t, lit)
                if a.with_primary:
                    primary = patient.primary_therapist
                    self.staff_occ.add(primary, d, t, length, lit)
                    self.staff_minutes[primary].append((lit, self.minutes(aid), d))
                pooled.add(key)
        for key in sorted(pooled):
            a = self.sc.activity_by_id[key.activity]
            length = self.length(a.id)
            tag = f"{a.id},{key.day},{key.start}"
            helpers = a.staff_count - (1 if a.with_primary else 0)
            if helpers > 0:
                for sid in sp.solo_staff[key]:
                    lit = self.m.new_bool_var(f"s[{sid},{tag}]")
                    self.ss[sid, key] = lit
                    self.staff_occ.add(sid, key.day, key.start, length, lit)
                    self.staff_minutes[sid].append((lit, self.minutes(a.id), key.day))
            if a.room_kind != RoomKind.NONE:
                for rid in sp.solo_rooms[key]:
                    lit = self.m.new_bool_var(f"r[{rid},{tag}]")
                    self.rs[rid, key] = lit
                    self.room_occ.add(rid, key.day, key.start, length, lit)

    def _patient_use(self, pid: str, activity, day: int, start: int, lit) -> None:
        length = self.length(activity.id)
        self.patient_vars[pid].append((lit, activity.id, day, start, length))
        self.patient_occ.add(pid, day, start, length, lit)
        if activity.in_block:
            self.inblock_occ.add(pid, day, start, length, lit)

    def add_open_sessions(self) -> None:
        """Sessions kept as they are: their staff and room are taken; patients may join a group one."""
        prog = self.prog
        for index, open_session in enumerate(self.space.open_sessions):
            s, taken = open_session.session, open_session.taken
            a = self.sc.activity_by_id.get(s.activity_id)
            if a is None:
                continue
            t = (s.start - prog.open) // prog.slot_minutes
            length = self.length(a.id)
            if open_session.leads:
                leads = {}
                for sid in open_session.leads:
                    lit = self.m.new_bool_var(f"lead[{sid},{index}]")
                    leads[sid] = lit
                    self.staff_occ.add(sid, s.day, t, length, lit)
                    self.staff_minutes[sid].append((lit, s.minutes, s.day))
                self.leads[index] = leads
                self.add(sum(leads.values()) == len(s.staff_ids), [])
            for sid in () if open_session.leads else s.staff_ids:
                self.staff_occ.pin(sid, s.day, t, length)
                self.pin_staff_minutes[sid] += s.minutes
                self.pin_staff_day[sid, s.day] += s.minutes
            if s.room_id:
                self.room_occ.pin(s.room_id, s.day, t, length)
            if not a.is_group or s.pinned:
                continue
            seats = a.max_size
            room = self.sc.room_by_id.get(s.room_id or "")
            if room is not None:
                seats = min(seats, room.capacity)
            joins = {}
            for p in self.sc.patients:
                if open_session.cohort is not None and p.cohort.value != open_session.cohort:
                    continue  # never adults and adolescents together
                if not eligible(p, a) or allowed_max(p, a) <= 0 or not covers(p.availability, prog, s.day, s.start, s.end):
                    continue
                lit = self.m.new_bool_var(f"join[{p.id},{index}]")
                joins[p.id] = lit
                self._link_inclusion(p.id, lit, a.in_block)
                self._patient_use(p.id, a, s.day, t, lit)
            self.joins[index] = joins
            self.add(sum(joins.values()) + taken <= seats, [])
            self.add(sum(joins.values()) + taken >= a.min_size, [])

    def add_pins(self) -> None:
        """Pinned sessions become constants in every sum they touch."""
        prog = self.prog
        for s in self.space.pins:
            a = self.sc.activity_by_id.get(s.activity_id)
            if a is None:
                continue
            t = (s.start - prog.open) // prog.slot_minutes
            length = self.length(a.id)
            minutes = s.end - s.start
            for pid in s.patient_ids:
                self.patient_occ.pin(pid, s.day, t, length)
                if a.in_block:
                    self.inblock_occ.pin(pid, s.day, t, length)
                    self.pin_day_minutes[pid, s.day] += minutes
                    self.pin_day_sessions[pid, s.day] += 1
                self.pin_minutes[pid] += minutes
                self.pin_counts[pid, a.id] += 1
                self.pin_day_counts[pid, a.id, s.day] += 1
                if a.is_group and a.skill == PROCESS_SKILL:
                    for sid in s.staff_ids:
                        self.pinned_leads.add((pid, a.id, sid))
            for sid in s.staff_ids:
                self.staff_occ.pin(sid, s.day, t, length)
                self.pin_staff_minutes[sid] += minutes
                self.pin_staff_day[sid, s.day] += minutes
            if s.room_id:
                self.room_occ.pin(s.room_id, s.day, t, length)
            if a.is_group:
                self.pinned_groups += 1

    def add_day_variables(self) -> None:
        """y[p,d]: the patient attends day d (has an in-block session there)."""
        by_day: dict[tuple[str, int], list] = defaultdict(list)
        for pid, uses in self.patient_vars.items():
            for lit, aid, d, _t, _len in uses:
                if self.sc.activity_by_id[aid].in_block:
                    by_day[pid, d].append(lit)
        for p in self.sc.patients:
            for d in self.prog.days:
                lits = by_day.get((p.id, d), [])
                pinned = self.pin_day_minutes.get((p.id, d), 0) > 0
                y = self.m.new_bool_var(f"attends[{p.id},{self.day_name(d)}]")
                self.y[p.id, d] = y
                if pinned:
                    self.m.add(y == 1)
                    continue
                if not lits:
                    self.m.add(y == 0)
                    continue
                # x -> y follows from H2's "contact <= max_hours * y"; only y -> some x is needed here.
                self.m.add_bool_or(lits).only_enforce_if(y)
                if self.best_effort:
                    self.m.add_implication(y, self.inc[p.id])

    @staticmethod
    def day_name(d: int) -> str:
        from scheduler.model import DAY_NAMES

        return DAY_NAMES[d]

    # ------------------------------------------------------------------ hard rules
    def rule_h1_days(self) -> None:
        """H1: attended days within [min_days, max_days]."""
        for p in self.sc.patients:
            lim = p.limits(self.prog)
            days = sum(self.y[p.id, d] for d in self.prog.days)
            guard = self.guard("H1", (p.id,), "attendance days")
            self.add(days <= lim.max_days, guard)
            self.add(days >= lim.min_days * self.inc[p.id], guard)

    def _day_contact(self, pid: str, d: int):
        a_by = self.sc.activity_by_id
        return sum(
            lit * self.minutes(aid)
            for lit, aid, day, _t, _l in self.patient_vars[pid]
            if day == d and a_by[aid].in_block
        ) + self.pin_day_minutes.get((pid, d), 0)

    def rule_h2_day_hours(self) -> None:
        """H2: on an attended day, contact (or span) hours within [min_hours, max_hours]."""
        span_basis = self.prog.hours_basis == "span"
        for p in self.sc.patients:
            lim = p.limits(self.prog)
            guard = self.guard("H2", (p.id,), "daily program hours")
            lo, hi = round(lim.min_hours * 60), round(lim.max_hours * 60)
            for d in self.prog.days:
                y = self.y[p.id, d]
                contact = self._day_contact(p.id, d)
                if span_basis:
                    self.add(contact <= hi * y, guard)
                    continue
                self.add(contact <= hi * y, guard)
                self.add(contact >= lo * y, guard)

    def rule_h2_block_gaps(self) -> None:
        """H2: exact started/finished booleans per slot; no idle run longer than max_gap inside a day."""
        gap = self.prog.max_gap_minutes // self.prog.slot_minutes
        size = self.prog.slot_minutes
        span_basis = self.prog.hours_basis == "span"
        occ = self.inblock_occ
        by_pd: dict[tuple[str, int], list[int]] = defaultdict(list)
        for owner, d, s in occ.keys():
            by_pd[owner, d].append(s)
        for p in self.sc.patients:
            lim = p.limits(self.prog)
            guard = self.guard("H2", (p.id,), "daily program hours")
            for d in self.prog.days:
                slots = by_pd.get((p.id, d))
                if not slots:
                    continue
                lo_s, hi_s = min(slots), max(slots) + 1
                o = {s: sum(occ.vars.get((p.id, d, s), [])) + occ.fixed.get((p.id, d, s), 0) for s in range(lo_s, hi_s)}
                started, finished = {}, {}
                prev = 0
                for s in range(lo_s, hi_s):
                    b = self.m.new_bool_var(f"started[{p.id},{self.day_name(d)},{s}]")
                    self.m.add(b >= o[s])
                    if not isinstance(prev, int):
                        self.m.add(b >= prev)
                    self.m.add(b <= prev + o[s])
                    started[s] = b
                    prev = b
                nxt = 1
                for s in range(hi_s - 1, lo_s - 1, -1):
                    e = self.m.new_bool_var(f"finished[{p.id},{self.day_name(d)},{s}]")
                    self.m.add(e + o[s] <= 1)
                    if not isinstance(nxt, int):
                        self.m.add(e <= nxt)
                    self.m.add(e >= nxt - o[s])
                    finished[s] = e
                    nxt = e
                finished[hi_s] = 1
                for s in range(lo_s + 1, hi_s - gap - 1 + 1):
                    window = [o[w] for w in range(s, s + gap + 1) if w < hi_s]
                    if len(window) < gap + 1:
                        continue
                    after = finished.get(s + gap + 1, 1)
                    self.add(sum(window) >= started[s - 1] - after, guard)
                # Redundant: the span is the contact time plus at most one short gap between sessions.
                y = self.y[p.id, d]
                # On a day without in-block sessions every slot reads "finished", not started:
                # the (1 - y) term brings that day's span back to 0.
                span_slots = sum(started[s] - finished[s] for s in range(lo_s, hi_s)) + (hi_s - lo_s) * (1 - y)
                contact_slots = sum(o.values())
                sessions = sum(self._day_sessions(p.id, d)) + self.pin_day_sessions.get((p.id, d), 0)
                self.add(span_slots <= contact_slots + gap * (sessions - y), guard)
                if span_basis:
                    span = span_slots * size
                    self.add(span >= round(lim.min_hours * 60) * y, guard)
                    self.add(span <= round(lim.max_hours * 60) * y, guard)

    def _day_sessions(self, pid: str, d: int) -> list:
        a_by = self.sc.activity_by_id
        return [lit for lit, aid, day, _t, _l in self.patient_vars[pid] if day == d and a_by[aid].in_block]

    def rule_h2_week_hours(self) -> None:
        """H2: the week's minutes of all the patient's sessions within [min_week, max_week]."""
        for p in self.sc.patients:
            lim = p.limits(self.prog)
            guard = self.guard("H2w", (p.id,), "weekly program hours")
            total = sum(lit * self.minutes(aid) for lit, aid, *_ in self.patient_vars[p.id]) + self.pin_minutes.get(p.id, 0)
            self.add(total <= round(lim.max_week_hours * 60), guard)
            self.add(total >= round(lim.min_week_hours * 60) * self.inc[p.id], guard)

    def _at_most_one(self, occ: Occupancy, rule: str, text: str) -> None:
        for owner, d, s in sorted(occ.keys()):
            lits = occ.vars.get((owner, d, s), [])
            fixed = occ.fixed.get((owner, d, s), 0)
            guard = self.guard(rule, (owner,), text)
            if fixed:
                self.add(sum(lits) <= 1 - fixed if lits else fixed <= 1, guard)
            elif len(lits) > 1:
                if guard:
                    self.add(sum(lits) <= 1, guard)
                else:
                    self.m.add_at_most_one(lits)

    def rule_h4_patient_overlap(self) -> None:
        """H4: a patient is in one session at a time (family sessions included)."""
        self._at_most_one(self.patient_occ, "H4p", "one place at a time")

    def rule_h4_staff_overlap(self) -> None:
        """H4: a staff member is in one session at a time."""
        self._at_most_one(self.staff_occ, "H4s", "one session at a time")

    def rule_h4_room_overlap(self) -> None:
        """H4: a room holds one session at a time."""
        self._at_most_one(self.room_occ, "H4r", "one session at a time")

    def rule_h5_group_sessions(self) -> None:
        """H5: each group start has staff_count staff and one room per session, and fits its sizes and seats."""
        for key, g in self.g.items():
            a = self.sc.activity_by_id[key.activity]
            guard = self.guard("H5", (a.id,), "group size, staff and room")
            base = replace(key, copy=0)
            pats = [self.xg[pid, key] for pid in self.space.group_patients[base]]
            staff = [self.sg[sid, key] for sid in self.space.group_staff[base]]
            for x in pats:  # disaggregated link: a much tighter LP than the sum alone
                self.m.add(x <= g)
            self.m.add(sum(staff) == a.staff_count * g)
            n = sum(pats)
            self.add(n <= a.max_size * g, guard)
            self.add(n >= a.min_size * g, guard)
            if a.room_kind != RoomKind.NONE:
                rooms = self.space.group_rooms[base]
                lits = [self.rg[rid, key] for rid in rooms]
                self.m.add(sum(lits) == g)
                seats = sum(min(self.sc.room_by_id[rid].capacity, a.max_size) * self.rg[rid, key] for rid in rooms)
                self.add(n <= seats, guard)

    def rule_h5_solo_sessions(self) -> None:
        """H5: each individual/family start gets its helper staff and one office per patient."""
        by_key: dict[SoloKey, list] = defaultdict(list)
        for (pid, key), lit in self.xs.items():
            by_key[key].append(lit)
        for key, lits in by_key.items():
            a = self.sc.activity_by_id[key.activity]
            helpers = a.staff_count - (1 if a.with_primary else 0)
            if helpers > 0:
                staff = [self.ss[sid, key] for sid in self.space.solo_staff[key] if (sid, key) in self.ss]
                self.m.add(sum(staff) == helpers * sum(lits))
            if a.room_kind != RoomKind.NONE:
                rooms = [self.rs[rid, key] for rid in self.space.solo_rooms[key]]
                self.m.add(sum(rooms) == sum(lits))

    def rule_h6_requirements(self) -> None:
        """H6: weekly counts within the requirement; one session of a group activity a day."""
        counts: dict[tuple[str, str], list] = defaultdict(list)
        daily: dict[tuple[str, str, int], list] = defaultdict(list)
        for pid, uses in self.patient_vars.items():
            for lit, aid, d, _t, _l in uses:
                counts[pid, aid].append(lit)
                if self.sc.activity_by_id[aid].is_group:
                    daily[pid, aid, d].append(lit)
        for p in self.sc.patients:
            for req in p.requirements:
                a = self.sc.activity_by_id.get(req.activity_id)
                if a is None:
                    continue
                guard = self.guard("H6", (p.id, a.id), "weekly sessions required")
                total = sum(counts.get((p.id, a.id), [])) + self.pin_counts.get((p.id, a.id), 0)
                self.add(total <= req.max_count, guard)
                self.add(total >= req.min_count * self.inc[p.id], guard)
        for (pid, aid, d), lits in daily.items():
            fixed = self.pin_day_counts.get((pid, aid, d), 0)
            if fixed:
                self.add(sum(lits) <= 1 - fixed, [])
            elif self.sc.activity_by_id[aid].in_block and (pid, d) in self.y:
                # At most one a day, and only on an attended day: the LP then counts the days a
                # patient needs (PROC=5 means five days), which the spread and preference terms see.
                self.m.add(sum(lits) <= self.y[pid, d])
            elif len(lits) > 1:
                self.m.add_at_most_one(lits)

    def rule_h8_staff_caps(self) -> None:
        """H8: staff minutes per day and per week within their caps."""
        for st in self.sc.staff:
            uses = self.staff_minutes.get(st.id, [])
            guard = self.guard("H8", (st.id,), "working-hour caps")
            if st.max_hours_week is not None:
                total = sum(lit * mins for lit, mins, _d in uses) + self.pin_staff_minutes.get(st.id, 0)
                self.add(total <= round(st.max_hours_week * 60), guard)
            if st.max_hours_day is not None:
                for d in self.prog.days:
                    day_uses = [lit * mins for lit, mins, dd in uses if dd == d]
                    fixed = self.pin_staff_day.get((st.id, d), 0)
                    if day_uses or fixed:
                        self.add(sum(day_uses) + fixed <= round(st.max_hours_day * 60), guard)

    def rule_h9_pins(self) -> None:
        """H9: a pinned session that breaks a rule on its own makes the week infeasible."""
        for problem in self.space.pin_problems:
            guard = self.guard("H9", ("pins",), problem)
            self.add(False, guard)

    # ------------------------------------------------------------------ objective
    def add_day_patterns(self) -> None:
        """Each patient's attended days as one of their possible day patterns.

        ``pattern[p, P]`` says patient p attends exactly the days P; the days limits (H1) and
        the days on which some in-block session is possible leave few patterns (at most 2^7).
        The preference and spread terms are linear in these literals, so the LP sees each
        patient's best S1 + S6 exactly instead of a fractional mix of days. Not used when
        explaining (there every rule must stay behind its guard), nor in the neighbourhood
        fit's small models, whose search for a first placement they slow (measured: a
        12-patient round placed 6 of 8 with them, 8 of 8 without, twice each).
        """
        if not self.day_patterns:
            return
        days = tuple(self.prog.days)
        for p in self.sc.patients:
            lim = p.limits(self.prog)
            ys = {d: self.y[p.id, d] for d in days}
            fixed_on = {d for d, v in ys.items() if self.pin_day_minutes.get((p.id, d), 0) > 0}
            possible = [d for d in days if d in fixed_on or any(
                True for lit, aid, day, _t, _l in self.patient_vars.get(p.id, ())
                if day == d and self.sc.activity_by_id[aid].in_block)]
            lits = {pattern: self.m.new_bool_var(f"pattern[{p.id},{''.join(map(str, sorted(pattern)))}]")
                    for pattern in day_patterns(possible, lim.min_days, lim.max_days, fixed_on)}
            if self.best_effort and not fixed_on and frozenset() in lits:
                # An empty week is one of their own weeks (min_days 0): in or left out, no day is attended
                # then (until session 18 it meant "left out", so a patient whose only week is empty,
                # max_days 0, made every strict solve infeasible).
                self.m.add_implication(self.inc[p.id].Not(), lits[frozenset()])
            elif self.best_effort and not fixed_on:
                lits[frozenset()] = self.m.new_bool_var(f"pattern[{p.id},none]")
                self.m.add(lits[frozenset()] == 1 - self.inc[p.id])
            elif self.best_effort and p.id in self.pinned_patients:
                # Left out, a patient of a pinned session keeps only the pinned days.
                pinned_only = frozenset(fixed_on)
                if pinned_only not in lits:
                    lits[pinned_only] = self.m.new_bool_var(f"pattern[{p.id},pinned]")
                    self.m.add_implication(lits[pinned_only], self.inc[p.id].Not())
                self.m.add_implication(self.inc[p.id].Not(), lits[pinned_only])
            if not lits:
                continue  # H1 already makes this patient infeasible (or excluded)
            self.m.add_exactly_one(lits.values())
            for d in days:
                self.m.add(ys[d] == sum(v for pat, v in lits.items() if d in pat))
            self.patterns[p.id] = lits

    def objective(self) -> None:
        """S1-S6 as labelled integer terms; minimise the weighted sum (scaled by OBJECTIVE_SCALE)."""
        self.add_day_patterns()
        self.terms["preferences"] = self.term_preferences()
        self.terms["continuity"] = self.term_continuity()
        self.terms["stability"] = self.term_stability()
        self.terms["balance"] = self.term_balance()
        self.terms["efficiency"] = self.term_efficiency()
        self.terms["spread"] = self.term_spread()
        weights = self.prog.weights
        total = 0
        for name, expr in self.terms.items():
            coef = round(weights.of(name) * WEIGHT_SCALE)
            per_unit = 1 if name == "balance" else MINUTES_PER_HOUR
            self.term_scale[name] = per_unit
            total += coef * per_unit * expr
        self.m.minimize(total)
        if self.best_effort:
            # Scheduling one more patient outweighs every soft goal together (lexicographic).
            self.inclusion_weight = self._objective_ceiling() + 1
            self.m.minimize(total + self.inclusion_weight * sum(1 - self.inc[p.id] for p in self.sc.patients))

    def _objective_ceiling(self) -> int:
        """Largest value the current objective can take over the variables' domains."""
        proto = self.m.proto
        obj = proto.objective
        total = 0
        for index, coef in zip(obj.vars, obj.coeffs):
            ref = index if index >= 0 else -index - 1
            dom = list(proto.variables[ref].domain)  # (the proto container ignores negative indices)
            total += abs(coef) * max(abs(dom[0]), abs(dom[-1]))
        return int(total + abs(obj.offset))

    def term_preferences(self):
        """S1: attended days outside a patient's preferred days."""
        total = 0
        for p in self.sc.patients:
            if not p.preferred_days:
                continue
            if p.id in self.patterns:
                total += sum(pattern_counts(pat, p.preferred_days, self.prog)[0] * v for pat, v in self.patterns[p.id].items())
            else:
                total += sum(self.y[p.id, d] for d in self.prog.days if d not in p.preferred_days)
        return total

    def term_continuity(self):
        """S2: per patient and process group, facilitators beyond the session's staff_count."""
        total = 0
        by_pa: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for (pid, key), x in self.xg.items():
            a = self.sc.activity_by_id[key.activity]
            if a.skill != PROCESS_SKILL:
                continue
            for sid in self.space.group_staff[replace(key, copy=0)]:
                by_pa[pid, a.id][sid].append((x, self.sg[sid, key]))
        for pid, aid, sid in self.pinned_leads:
            by_pa[pid, aid].setdefault(sid, [])
        # A patient joining an open session (solver/fit.py) is led by its fixed staff.
        for index, joins in self.joins.items():
            session = self.space.open_sessions[index].session
            if self.sc.activity_by_id[session.activity_id].skill != PROCESS_SKILL:
                continue
            for pid, x in joins.items():
                for sid in session.staff_ids:
                    by_pa[pid, session.activity_id][sid].append((x, None))
        for (pid, aid), staff in by_pa.items():
            a = self.sc.activity_by_id[aid]
            leads = []
            for sid, pairs in staff.items():
                lead = self.m.new_bool_var(f"leads[{sid},{pid},{aid}]")
                if (pid, aid, sid) in self.pinned_leads:
                    self.m.add(lead == 1)
                for x, s in pairs:
                    self.m.add_bool_or([lead, x.Not()] if s is None else [lead, x.Not(), s.Not()])
                leads.append(lead)
            if len(leads) <= a.staff_count:
                continue
            extra = self.m.new_int_var(0, len(leads), f"extra_facilitators[{pid},{aid}]")
            self.m.add(extra >= sum(leads) - a.staff_count)
            total += extra
        return total

    def term_stability(self):
        """S3: a continuing patient's unpinned sessions of last week not repeated (same activity, day, start)."""
        prev = self.sc.previous
        if prev is None:
            return 0
        total = 0
        by_group: dict[tuple[str, str, int, int], list] = defaultdict(list)
        for (pid, key), x in self.xg.items():
            by_group[pid, key.activity, key.day, key.start].append(x)
        for (pid, key), x in self.xs.items():
            by_group[pid, key.activity, key.day, key.start].append(x)
        for index, joins in self.joins.items():
            session = self.space.open_sessions[index].session
            t = (session.start - self.prog.open) // self.prog.slot_minutes
            for pid, x in joins.items():
                by_group[pid, session.activity_id, session.day, t].append(x)
        for s in prev.sessions:
            if s.pinned:
                continue
            t = (s.start - self.prog.open) // self.prog.slot_minutes
            for pid in s.patient_ids:
                p = self.sc.patient_by_id.get(pid)
                if p is None or p.status.strip().lower() == "new":
                    continue
                total += 1 - sum(by_group.get((pid, s.activity_id, s.day, t), []))
        return total

    def term_balance(self):
        """S4: spread (max - min, in minutes) of scheduled time over primary therapists."""
        named = {p.primary_therapist for p in self.sc.patients} | self.space.outside_therapists
        therapists = sorted(sid for sid in named if sid in self.sc.staff_by_id)
        if len(therapists) < 2:
            return 0
        cap = 7 * 24 * 60
        hi = self.m.new_int_var(0, cap, "therapist_minutes_max")
        lo = self.m.new_int_var(0, cap, "therapist_minutes_min")
        for sid in therapists:
            load = sum(lit * mins for lit, mins, _d in self.staff_minutes.get(sid, [])) + self.pin_staff_minutes.get(sid, 0)
            self.m.add(hi >= load)
            self.m.add(lo <= load)
        return hi - lo

    def term_efficiency(self):
        """S5: group sessions run."""
        return sum(self.g.values()) + self.pinned_groups

    def term_spread(self):
        """S6: pairs of consecutive program days both attended, per patient."""
        total = 0
        days = self.prog.days
        pairs = [(d, self.prog.next_day(d)) for d in days if self.prog.next_day(d) in days]
        segments = sum(1 for d in days if not any(self.prog.next_day(e) == d for e in days))
        for p in self.sc.patients:
            if not pairs:
                break
            if p.id in self.patterns:
                total += sum(pattern_counts(pat, (), self.prog)[1] * v for pat, v in self.patterns[p.id].items())
                continue
            qs = []
            for d, e in pairs:
                q = self.m.new_bool_var(f"adjacent[{p.id},{self.day_name(d)}]")
                self.m.add(q >= self.y[p.id, d] + self.y[p.id, e] - 1)
                qs.append(q)
            # Redundant cut: n attended days on lines of len(days) days leave at most len+segments-n runs.
            n = sum(self.y[p.id, d] for d in days)
            self.m.add(sum(qs) >= 2 * n - len(days) - segments)
            total += sum(qs)
        return total

"""The coordinator's template timetable: a first-fit greedy baseline and CP-SAT's first hint.

This is how a program coordinator fills a week by hand.

1. Tracks. Patients are grouped by cohort (adults and adolescents never share a
   session) and by the time of day their availability allows (morning, after school,
   evening): patients whose usual windows share a program day's worth of time form a
   track. Tracks are booked tightest first.
2. Template. For each track and day, a block of consecutive group slots is laid down
   at the earliest common time (or the first start where every slot can be staffed
   and roomed). Each slot runs the open-to-all group the track still needs most;
   tagged groups (e.g. relapse prevention) run beside the least-needed slot.
3. Patients, first-fit. Each patient gets the cheapest set of days (preferred days,
   spread, and above all days the rest of the track attends, so groups fill). Each
   day's block joins running groups first; where no group fits, an individual session
   goes there; only then is a group opened, with a qualified free facilitator (another
   session's facilitator may hand it to a free colleague) and a free room. Individual
   sessions (individual therapy with the primary therapist, medication checks and
   evaluations with a prescriber, discharge planning) otherwise go right before or
   after the block, or take the place of an optional group in it; family sessions go
   wherever the family, the primary therapist and an office are free. Days are topped
   up with optional groups to the day and week minimums.
4. Clean-up. Groups below their minimum size are repaired (topped up from a parallel
   group, a patient pulled in from another day, members moved to running groups) or
   dropped; a patient whose rules cannot all be met is taken out entirely with a reason
   in plain words, and this is iterated until nothing changes. Patients taken out get
   two more passes, the last joining only groups that already run.

Small clinics are filled in a few patient orders and the best week kept (the number
of orders depends only on the size, so the output is deterministic).

Guarantee: the timetable passes the hard rules for every patient it keeps,
``validate(scenario_without(scenario, unplaced_ids), timetable) == []``. The rule checks
here are this module's own, written from docs/rules.md; ``scheduler.validate`` is
deliberately not imported. Pure Python: no OR-Tools, and no iteration over sets of
strings (so no dependence on hash seeds).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, replace
from itertools import combinations

from scheduler.model import (
    DAY_NAMES,
    PROCESS_SKILL,
    Activity,
    Cohort,
    HoursBasis,
    Mode,
    Patient,
    RoomKind,
    Scenario,
    Session,
    Timetable,
    Window,
    scenario_without,
)
from scheduler.timegrid import format_time, open_windows

__all__ = ["GreedyResult", "greedy_timetable", "scenario_without"]

# Orders in which a track's patients are taken (see _Greedy._rank), best on generated clinics first.
_ORDERS = (1, 2, 0, 3)
SQUEAKY_ROUNDS = 6  # re-fills with the left-out patients booked first
# Day sets tried per number of days, cheapest first; enough for 5-7 program days.
_MAX_DAY_SETS = 10
# Block starts tried per day when a block cannot be completed from the track's start.
_MAX_BLOCK_STARTS = 6
# Day-choice costs, in objective units (a missed preferred day costs weight_preferences, 3 by default).
_LONELY_DAY = 3.0  # a day without a group of the track they could join (per required activity, and per day)
_SHORT_DAY = -2.0  # a day whose group of a required activity is still below its minimum size
# Clean-up rounds that try to repair short groups; later rounds only remove (so clean-up ends).
_REPAIR_ROUNDS = 6
# Patients tried when pulling someone onto a short group's day.
_MAX_PULLS = 12


@dataclass(frozen=True)
class GreedyResult:
    """The template timetable and the patients it could not place, each with a reason."""

    timetable: Timetable
    unplaced: tuple[tuple[str, str], ...] = ()

    @property
    def unplaced_ids(self) -> tuple[str, ...]:
        return tuple(pid for pid, _ in self.unplaced)


def greedy_timetable(scenario: Scenario, *, orders: int | None = None, deadline: float | None = None,
                     cancel=None, early: tuple[float, int] | None = None) -> GreedyResult:
    """Fill the week the way a coordinator does by hand; see the module docstring.

    Small clinics are filled a few times, going down the patient list in different orders, and the
    week that places the most patients (then runs the fewest groups) is kept. How many orders depends
    only on the clinic's size (4 up to 100 patients, 2 up to 250, else 1), so the result is
    deterministic; ``orders`` caps it (1 is fastest).

    Then, while patients are left out, the week is filled again with the left-out patients
    booked first in their track ("squeaky wheel": a coordinator who ran out of prescriber time
    for one patient books that patient first next time), accumulating, up to ``SQUEAKY_ROUNDS``
    times, while a fill leaves out someone not yet booked first (else the next fill would be
    the same), or until ``deadline`` (``time.monotonic()``) or ``cancel`` (an Event). The orders above
    always all run, so the first fill never depends on the machine's speed. ``early`` =
    (time, few): after that time the re-fills also stop once at most ``few`` patients are left out.
    """
    n = len(scenario.patients)
    count = 4 if n <= 100 else 2 if n <= 250 else 1
    orders = _ORDERS[: max(1, min(count, orders or count))]
    best = None

    def consider(result: GreedyResult) -> None:
        nonlocal best
        groups = sum(1 for s in result.timetable.sessions
                     if s.activity_id in scenario.activity_by_id and scenario.activity_by_id[s.activity_id].is_group)
        key = (len(result.unplaced), groups)
        if best is None or key < best[0]:
            best = (key, result)

    def out_of_time() -> bool:
        now = time.monotonic()
        if early is not None and now > early[0] and best is not None and len(best[1].unplaced) <= early[1]:
            return True
        return (deadline is not None and now > deadline) or (cancel is not None and cancel.is_set())

    results = []
    for variant in orders:
        result = _Greedy(scenario, variant).run()
        results.append((variant, result))
        consider(result)
        if not result.unplaced:
            break
    for variant, result in sorted(results, key=lambda vr: len(vr[1].unplaced))[:2]:
        first: list[str] = []
        for _ in range(SQUEAKY_ROUNDS):
            if not result.unplaced or not best[1].unplaced or out_of_time():
                break
            booked = len(first)
            first.extend(pid for pid in result.unplaced_ids if pid not in first)
            if len(first) == booked:
                break  # nobody new to book first: the fill is deterministic, so it would be this one again
            result = _Greedy(scenario, variant, first=first).run()
            consider(result)
    return best[1]


# --------------------------------------------------------------------------- board


@dataclass(eq=False)
class _Sess:
    """A session under construction (mutable; becomes a ``Session`` at the end)."""

    sid: int
    day: int
    start: int
    end: int
    act: Activity
    staff: tuple[str, ...]
    room: str | None
    capacity: int
    cohort: Cohort | None = None
    patients: list[str] | None = None
    pinned: bool = False
    session_id: str = ""
    track: tuple | None = None
    template: bool = False  # laid down before any patient joined: kept while empty until its track is done

    @property
    def minutes(self) -> int:
        return self.end - self.start


def _overlaps(sessions, start: int, end: int) -> bool:
    return any(s.start < end and start < s.end for s in sessions)


def _inside(windows: tuple[Window, ...], start: int, end: int) -> Window | None:
    for w in windows:
        if w.start <= start and end <= w.end:
            return w
    return None


def _at_least(hours: float) -> int:
    """Whole minutes that meet a minimum given in hours (as the validator compares, with a tolerance)."""
    return math.ceil(60 * hours - 1e-6)


def _at_most(hours: float) -> int:
    """Whole minutes that stay within a maximum given in hours."""
    return math.floor(60 * hours + 1e-6)


def _hours(minutes: float) -> str:
    """Minutes as hours for a message: 400 -> "6.67", 210 -> "3.5"."""
    return f"{round(minutes / 60, 2):g}"


def _group(act: Activity) -> str:
    """'Process group', 'Psychoeducation group': the activity's name as a group, said once."""
    return act.label if "group" in act.label.lower() else f"{act.label} group"


def _when(s) -> str:
    """"Mon 09:00": the day and start of a session (a _Sess or a Session)."""
    return f"{DAY_NAMES[s.day]} {format_time(s.start)}"


class _Board:
    """Sessions and who is busy when, with an undo log so a failed attempt leaves no trace."""

    def __init__(self) -> None:
        self.sessions: dict[int, _Sess] = {}
        self.by_start: dict[tuple[int, int], list[_Sess]] = {}
        self.by_end: dict[tuple[int, int], list[_Sess]] = {}
        self.patient_busy: dict[str, dict[int, list[_Sess]]] = {}
        self.staff_busy: dict[str, dict[int, list[_Sess]]] = {}
        self.room_busy: dict[str, dict[int, list[_Sess]]] = {}
        self.staff_day: Counter = Counter()
        self.staff_week: Counter = Counter()
        self.leads: Counter = Counter()  # (track, activity id, staff id) -> sessions led
        self.count: Counter = Counter()  # (patient id, activity id) -> sessions
        self.log: list[tuple] = []
        self._next = 0

    # -- primitive, logged operations
    def open(self, day, start, act, staff, room, capacity, cohort, *, pinned=False, session_id="",
             track=None) -> _Sess:
        self._next += 1
        sess = _Sess(self._next, day, start, start + act.duration_min, act, tuple(staff), room, capacity,
                     cohort, [], pinned, session_id, track)
        self._register(sess)
        self.log.append(("open", sess))
        return sess

    def close(self, sess: _Sess) -> None:
        for pid in list(sess.patients):
            self.leave(sess, pid, close_empty=False)
        self._unregister(sess)
        self.log.append(("close", sess))

    def join(self, sess: _Sess, pid: str) -> None:
        self._add(sess, pid)
        self.log.append(("join", sess, pid))

    def leave(self, sess: _Sess, pid: str, close_empty: bool = True) -> None:
        self._drop(sess, pid)
        self.log.append(("leave", sess, pid))
        if close_empty and not sess.patients and not sess.pinned and not sess.template:
            self.close(sess)

    def move(self, sess: _Sess, staff: tuple[str, ...], room: str | None, capacity: int) -> None:
        """Give a session other staff or another room (same time)."""
        old = (sess.staff, sess.room, sess.capacity)
        self._unregister(sess)
        sess.staff, sess.room, sess.capacity = tuple(staff), room, capacity
        self._register(sess)
        self.log.append(("move", sess, old))

    def undo_to(self, mark: int) -> None:
        while len(self.log) > mark:
            op = self.log.pop()
            if op[0] == "move":
                self._unregister(op[1])
                op[1].staff, op[1].room, op[1].capacity = op[2]
                self._register(op[1])
            elif op[0] == "open":
                self._unregister(op[1])
            elif op[0] == "close":
                self._register(op[1])
            elif op[0] == "join":
                self._drop(op[1], op[2])
            else:  # leave
                self._add(op[1], op[2])

    # -- bookkeeping
    def _add(self, sess: _Sess, pid: str) -> None:
        sess.patients.append(pid)
        self.patient_busy.setdefault(pid, {}).setdefault(sess.day, []).append(sess)
        self.count[(pid, sess.act.id)] += 1

    def _drop(self, sess: _Sess, pid: str) -> None:
        sess.patients.remove(pid)
        self.patient_busy[pid][sess.day].remove(sess)
        self.count[(pid, sess.act.id)] -= 1

    def _register(self, sess: _Sess) -> None:
        self.sessions[sess.sid] = sess
        if sess.act.is_group:
            self.by_start.setdefault((sess.day, sess.start), []).append(sess)
            self.by_end.setdefault((sess.day, sess.end), []).append(sess)
        for sid in sess.staff:
            self.staff_busy.setdefault(sid, {}).setdefault(sess.day, []).append(sess)
            self.staff_day[(sid, sess.day)] += sess.minutes
            self.staff_week[sid] += sess.minutes
            self.leads[(sess.track, sess.act.id, sid)] += 1
        if sess.room:
            self.room_busy.setdefault(sess.room, {}).setdefault(sess.day, []).append(sess)

    def _unregister(self, sess: _Sess) -> None:
        del self.sessions[sess.sid]
        if sess.act.is_group:
            self.by_start[(sess.day, sess.start)].remove(sess)
            self.by_end[(sess.day, sess.end)].remove(sess)
        for sid in sess.staff:
            self.staff_busy[sid][sess.day].remove(sess)
            self.staff_day[(sid, sess.day)] -= sess.minutes
            self.staff_week[sid] -= sess.minutes
            self.leads[(sess.track, sess.act.id, sid)] -= 1
        if sess.room:
            self.room_busy[sess.room][sess.day].remove(sess)

    # -- queries
    def of_patient(self, pid: str, day: int | None = None) -> list[_Sess]:
        days = self.patient_busy.get(pid, {})
        if day is not None:
            return list(days.get(day, ()))
        return [s for d in sorted(days) for s in days[d]]

    def patient_free(self, pid: str, day: int, start: int, end: int) -> bool:
        return not _overlaps(self.patient_busy.get(pid, {}).get(day, ()), start, end)


# --------------------------------------------------------------------------- planner


class _Fail(Exception):
    """A patient cannot be placed this way; the message says why in plain words."""


@dataclass
class _Track:
    key: tuple
    starts: dict[int, int]  # day -> block start (the earliest common time)
    popularity: dict[int, float] | None = None


class _Greedy:
    def __init__(self, scenario: Scenario, variant: int = 0, first=()) -> None:
        self.variant = variant
        # Patients booked first in their track, in this order (left out by an earlier fill).
        self.first = {pid: i for i, pid in enumerate(first)}
        self.sc = scenario
        prog = scenario.program
        self.prog = prog
        self.days = tuple(sorted(prog.days))
        self.slot = prog.slot_minutes
        self.gap = prog.max_gap_minutes
        self.span = prog.hours_basis == HoursBasis.SPAN
        self.acts = scenario.activity_by_id
        self.staff = scenario.staff_by_id
        self.rooms = scenario.rooms
        self.patients = scenario.patients
        self.pat = scenario.patient_by_id
        def windows(availability):
            return {d: open_windows(availability, prog, d) for d in self.days}

        self.staff_win = {s.id: windows(s.availability) for s in scenario.staff}
        self.room_win = {r.id: windows(r.availability) for r in scenario.rooms}
        self.pat_win = {p.id: windows(p.availability) for p in self.patients}
        self.fam_win = {p.id: windows(p.family_availability) for p in self.patients}
        self.limits = {p.id: p.limits(prog) for p in self.patients}
        for p in self.patients:
            self._follow_the_therapist(p)
        self.caseload = Counter(p.primary_therapist for p in self.patients if p.primary_therapist)
        self.board = _Board()
        self.small_groups = any(a.is_group and a.min_size <= 1 for a in scenario.activities)
        self.day_window_cache: dict[tuple[str, int], Window | None] = {}
        self.candidate_cache: dict[str, list[int]] = {}
        self.placed: list[str] = []
        self.reason: dict[str, str] = {}
        self.track_of: dict[str, _Track] = {}
        self.pinned_pids: set[str] = set()
        self.blocked: set[str] = set()  # patients of a dropped pinned session: not retried
        self.members: dict[tuple, list[Patient]] = {}
        self.avoid: set[int] = set()  # sessions being dissolved: not to be joined
        self.planned: Counter = Counter()  # required sessions of the current attempt not placed yet
        self.singles: list[Activity] = []  # individual in-block sessions of the current attempt not placed yet
        self.week_max = 0
        self.join_only = False  # the current attempt may only join groups that run
        self.risky_ok = True  # may open a group that too few patients still to place could join
        self.held_back = False  # such a group was not opened in the current attempt
        self.todo: dict[str, float] = {}
        self.promise_cache: dict = {}  # for the patient being placed (the waiting list changes between patients)
        self.promise_waiting: list = []
        self.laid: set[tuple] = set()  # tracks whose template is laid

    def _follow_the_therapist(self, p: Patient) -> None:
        """A patient who needs in-block sessions with their primary therapist is booked, in the template,
        only inside the therapist's hours on days those hold a program day: a patient free all day
        whose therapist works afternoons joins the afternoon track (the tiny clinic with blank
        availability, generated clinics of 12-25 patients so: until session 14 the template put the
        whole cohort in one morning track, and patients of afternoon therapists found no time for
        their individual session). Unchanged where that leaves fewer days than the patient needs."""
        th = self.staff.get(p.primary_therapist or "")
        if th is None or not any(req.min_count and (a := self.acts.get(req.activity_id)) is not None
                                 and a.with_primary and a.in_block for req in p.requirements):
            return
        need = _at_least(self.limits[p.id].min_hours)
        narrowed = {}
        for d in self.days:
            narrowed[d] = tuple(Window(d, lo, hi) for w in self.pat_win[p.id][d] for t in self.staff_win[th.id][d]
                                if (hi := min(w.end, t.end)) - (lo := max(w.start, t.start)) >= need)
        if narrowed == self.pat_win[p.id] or sum(1 for ws in narrowed.values() if ws) < self.limits[p.id].min_days:
            return
        self.pat_win[p.id] = narrowed

    # ------------------------------------------------------------------ driver
    def run(self) -> GreedyResult:
        self._place_pinned()
        order = self._order_by_track()
        self._pass(order, join_only=False)
        for join_only in (False, True):
            placed = self._placed_set()
            retry = [p for p in order if p.id not in placed and p.id not in self.blocked]
            if not retry:
                break
            self._pass(retry, join_only=join_only)
        placed = self._placed_set()
        unplaced = tuple(
            (p.id, self.reason.get(p.id, "could not be fitted into the week"))
            for p in self.patients
            if p.id not in placed
        )
        return GreedyResult(self._timetable(), unplaced)

    def _pass(self, patients: list[Patient], join_only: bool) -> None:
        self.todo = {p.id: self._day_chance(p) for p in patients}
        current = None
        for p in patients:
            key = self.track_of[p.id].key
            if key != current:
                if current is not None:
                    self._close_empty(current)
                current = key
                if not join_only and key not in self.laid:
                    self.laid.add(key)
                    self._lay_template(key)
            del self.todo[p.id]
            self.promise_cache = {}
            self._place(p, join_only)
        if current is not None:
            self._close_empty(current)
        self.promise_cache = {}
        self._clean_up()

    def _day_chance(self, p: Patient) -> float:
        """The chance the patient attends a given day they could come: days needed over days possible."""
        return min(1.0, self.limits[p.id].min_days / max(1, len(self._candidate_days(p))))

    def _lay_template(self, key: tuple) -> None:
        """Lay down the track's weekly template of group blocks, before any of its patients is placed.

        On each day enough of the track can come, a block of consecutive group slots starts at the track's
        earliest common time. Each slot runs the open-to-all activity the track still needs most (weekly
        requirements summed over the track, less the patients expected that day); a tagged activity (e.g.
        relapse prevention for SUD patients) runs beside the slot whose activity is needed least, on days
        enough of its patients can come.
        """
        members = self.members[key]
        track = self.track_of[members[0].id]
        cohort = members[0].cohort
        need = max(self._min_day_minutes(p) for p in members)
        groups = [a for a in self.sc.activities
                  if a.is_group and a.in_block and a.cohort in (Cohort.ANY, cohort) and a.room_kind != RoomKind.NONE]
        open_to_all = [a for a in groups if not a.tag]
        if not open_to_all:
            return
        durations = Counter(a.duration_min for a in open_to_all)
        length = min(durations, key=lambda m: (-durations[m], m))
        open_to_all = [a for a in open_to_all if a.duration_min == length]
        tagged = [a for a in groups if a.tag and a.duration_min == length]
        slots = max(1, math.ceil(need / length))
        remaining = Counter()
        for p in members:
            for req in p.requirements:
                if req.activity_id in self.acts:
                    remaining[req.activity_id] += req.min_count
        order = {a.id: i for i, a in enumerate(self.sc.activities)}
        chance = {p.id: self._day_chance(p) for p in members}
        for d in self.days:
            t0 = track.starts.get(d)
            if t0 is None:
                continue
            here = [p for p in members if (w := self._day_window(p, d)) is not None
                    and w.start <= t0 and t0 + need <= w.end]
            expected = sum(chance[p.id] for p in here)
            if len(here) < min(a.min_size for a in open_to_all):
                continue
            # The earliest start from which every slot can be booked, and next to which the most of the
            # individual sessions the track needs could be held (a prescriber's hour at noon: a block at
            # 08:30 leaves no medication check within the gap); else the one booking the most.
            best = None
            latest = min(w.end for p in here if (w := self._day_window(p, d)) is not None) - slots * length
            solos = self._solo_needs(here)
            for start in range(t0, max(t0, latest) + 1, self.slot):
                mark = len(self.board.log)
                used = self._lay_block(key, cohort, d, start, slots, length, open_to_all, remaining, order)
                self.board.undo_to(mark)
                reach = self._solo_reach(solos, d, start, start + len(used) * length)
                if best is None or (len(used), reach) > best[:2]:
                    best = (len(used), reach, start)
                if len(used) == slots and reach == sum(solos.values()):
                    break
            if not best or not best[0]:
                continue
            best = (best[0], best[2])
            used = self._lay_block(key, cohort, d, best[1], slots, length, open_to_all, remaining, order)
            track.starts[d] = best[1]
            for sess in used:
                sess.template = True
                remaining[sess.act.id] -= expected
            for act in tagged:
                eligible = [p for p in here if self._eligible(p, act)]
                expected_tagged = sum(chance[p.id] for p in eligible)
                if remaining[act.id] <= 0 or len(eligible) < act.min_size or not used:
                    continue
                for beside in sorted(used, key=lambda u: (remaining[u.act.id], u.start)):
                    sess = self._open_group_for(key, cohort, act, d, beside.start)
                    if sess is not None:
                        sess.template = True
                        remaining[act.id] -= expected_tagged
                        break
        self.board.log.clear()

    def _solo_needs(self, members: list[Patient]) -> Counter:
        """In-block individual activities the members need (not with their primary therapist: those
        follow the therapist's day), and how many members need each."""
        out = Counter()
        for p in members:
            for req in p.requirements:
                act = self.acts.get(req.activity_id)
                if act is not None and req.min_count and not act.is_group and act.in_block and not act.with_primary:
                    out[act.id] += 1
        return out

    def _solo_reach(self, solos: Counter, d: int, start: int, end: int) -> int:
        """How many of ``solos`` some qualified member of staff is open to hold next to a block [start, end)
        on day d (within the program's gap before or after it)."""
        reach = 0
        for aid, count in solos.items():
            act = self.acts[aid]
            lo, hi = start - self.gap - act.duration_min, end + self.gap + act.duration_min
            if any(min(w.end, hi) - max(w.start, lo) >= act.duration_min
                   for st in self.sc.staff if act.skill in st.skills for w in self.staff_win[st.id][d]):
                reach += count
        return reach

    def _lay_block(self, key, cohort, d, start, slots, length, acts, remaining, order) -> list[_Sess]:
        """Consecutive group slots from ``start``, each the most needed activity not yet in the block that
        can be staffed and roomed; stops at the first slot that cannot be booked."""
        used: list[_Sess] = []
        for k in range(slots):
            for act in sorted((a for a in acts if a.id not in {u.act.id for u in used}),
                              key=lambda a: (-remaining[a.id], order[a.id])):
                sess = self._open_group_for(key, cohort, act, d, start + k * length)
                if sess is not None:
                    used.append(sess)
                    break
            else:
                break
        return used

    def _close_empty(self, key: tuple) -> None:
        """Close the track's template groups nobody joined; the rest become ordinary groups."""
        for s in sorted(self.board.sessions.values(), key=lambda s: s.sid):
            if s.track == key and s.template:
                s.template = False
                if not s.patients:
                    self.board.close(s)
        self.board.log.clear()

    def _placed_set(self) -> set[str]:
        return set(self.placed)

    def _timetable(self) -> Timetable:
        out = []
        for s in self.board.sessions.values():
            if not s.patients:
                continue
            out.append(Session(
                day=s.day, start=s.start, end=s.end, activity_id=s.act.id,
                staff_ids=tuple(sorted(s.staff)), room_id=s.room,
                patient_ids=tuple(sorted(s.patients)), pinned=s.pinned, session_id=s.session_id,
            ))
        out.sort(key=lambda s: (s.day, s.start, s.activity_id, s.staff_ids, s.room_id or "", s.patient_ids))
        return Timetable(tuple(out)).numbered(self.sc.program.first_day)

    # ------------------------------------------------------------------ pinned sessions
    def _place_pinned(self) -> None:
        if self.sc.previous is None:
            return
        for s in self.sc.previous.pinned:
            act = self.acts.get(s.activity_id)
            if act is None or s.end - s.start != act.duration_min:
                continue
            cohorts = {self.pat[pid].cohort for pid in s.patient_ids if pid in self.pat}
            sess = self.board.open(s.day, s.start, act, s.staff_ids, s.room_id, len(s.patient_ids),
                                   next(iter(cohorts)) if len(cohorts) == 1 else None,
                                   pinned=True, session_id=s.session_id)
            for pid in s.patient_ids:
                self.board.join(sess, pid)
                self.pinned_pids.add(pid)
        self.board.log.clear()

    # ------------------------------------------------------------------ tracks
    def _order_by_track(self) -> list[Patient]:
        """Patients clustered into tracks: same cohort, usual windows sharing a program day's worth of time.

        Tracks are taken tightest first; inside a track, patients with pinned sessions come first, then
        those with the fewest possible days.
        """
        clusters: list[dict] = []
        for p in sorted(self.patients, key=lambda p: (p.cohort != Cohort.ADULT, self._usual_window(p), p.id)):
            start, end = self._usual_window(p)
            need = self._min_day_minutes(p)
            for cl in clusters:
                if cl["cohort"] == p.cohort and min(cl["end"], end) - max(cl["start"], start) >= max(cl["need"], need):
                    cl["start"], cl["end"] = max(cl["start"], start), min(cl["end"], end)
                    cl["need"] = max(cl["need"], need)
                    cl["members"].append(p)
                    break
            else:
                clusters.append({"cohort": p.cohort, "start": start, "end": end, "need": need, "members": [p]})
        order: list[Patient] = []
        # The tightest track first (least time around its block), as a coordinator books after-school
        # adolescents before evening adults who could also come later.
        clusters.sort(key=lambda cl: (cl["end"] - cl["start"] - cl["need"], cl["start"], cl["cohort"] != Cohort.ADULT))
        for cl in clusters:
            starts = {}
            for d in self.days:
                here = [w for w in (self._day_window(p, d) for p in cl["members"]) if w is not None
                        and w.start < cl["end"] and cl["start"] < w.end]
                if not here:
                    continue
                first, last = self._on_grid(max(w.start for w in here)), min(w.end for w in here)
                starts[d] = first if last - first >= cl["need"] else self._on_grid(cl["start"])
            track = _Track((cl["cohort"] != Cohort.ADULT, cl["start"], cl["end"]), starts)
            group = sorted(cl["members"], key=lambda p: (p.id not in self.pinned_pids,
                                                         self.first.get(p.id, len(self.first))) + self._rank(p))
            for p in group:
                self.track_of[p.id] = track
            self.members[track.key] = group
            order.extend(group)
        return order

    def _rank(self, p: Patient) -> tuple:
        """Order inside a track; each variant is one way a coordinator might go down the list."""
        days = len(self._candidate_days(p))
        sessions = -sum(r.min_count for r in p.requirements)
        if self.variant == 1:
            return (sessions, days, p.id)
        if self.variant == 2:
            return (days, sessions, tuple(-ord(c) for c in p.id))
        if self.variant == 3:
            return (-self.limits[p.id].min_days, days, p.id)
        return (days, p.id)

    def _usual_window(self, p: Patient) -> tuple[int, int]:
        """The (start, end) of the patient's day window seen on most days (earliest on a tie)."""
        seen = Counter()
        for d in self.days:
            w = self._day_window(p, d)
            if w is not None:
                seen[(self._on_grid(w.start), w.end)] += 1
        if not seen:
            return self.prog.open, self.prog.close
        return min(seen, key=lambda k: (-seen[k], k))

    def _promise(self, p: Patient, act: Activity, d: int, start: int, end: int) -> float:
        """Expected patients (this one included) who could still come to a new group here, from this track."""
        key = (p.id, act.id, d, start, end)
        if key not in self.promise_cache:
            if self.promise_cache.get("patient") != p.id:
                self.promise_cache = {"patient": p.id}
                self.promise_waiting = [(q, self.todo[q.id]) for q in self.members[self.track_of[p.id].key]
                                        if q.id != p.id and self.todo.get(q.id)]
            total = 1.0
            for q, weight in self.promise_waiting:
                if self._eligible(q, act) and _inside(self.pat_win[q.id][d], start, end):
                    total += weight
            self.promise_cache[key] = total
        return self.promise_cache[key]

    def _on_grid(self, minute: int) -> int:
        off = (minute - self.prog.open) % self.slot
        return minute if off == 0 else minute + self.slot - off

    def _min_day_minutes(self, p: Patient) -> int:
        return _at_least(self.limits[p.id].min_hours)

    def _day_window(self, p: Patient, d: int) -> Window | None:
        """The patient's first window on day d long enough for a program day."""
        key = (p.id, d)
        if key not in self.day_window_cache:
            need = self._min_day_minutes(p)
            self.day_window_cache[key] = next(
                (w for w in self.pat_win[p.id][d] if w.end - self._on_grid(w.start) >= need), None)
        return self.day_window_cache[key]

    def _candidate_days(self, p: Patient) -> list[int]:
        if p.id not in self.candidate_cache:
            self.candidate_cache[p.id] = [d for d in self.days if self._day_window(p, d) is not None]
        return self.candidate_cache[p.id]

    # ------------------------------------------------------------------ eligibility
    @staticmethod
    def _eligible(p: Patient, act: Activity) -> bool:
        return (act.cohort == Cohort.ANY or act.cohort == p.cohort) and (not act.tag or act.tag in p.tags)

    def _count_range(self, p: Patient, act: Activity) -> tuple[int, int] | None:
        """(min, max) weekly count, or None when the activity is not allowed for the patient."""
        req = p.requirement(act.id)
        if req is not None:
            return req.min_count, req.max_count
        if act.is_group and self._eligible(p, act):
            return 0, 10**6
        return None

    # ------------------------------------------------------------------ one patient
    def _place(self, p: Patient, join_only: bool) -> bool:
        try:
            self._precheck(p)
        except _Fail as exc:
            self.reason[p.id] = str(exc)
            return False
        best_reason, best_score = None, -1
        # First only day sets that open no group unlikely to reach its minimum size; then, where such a
        # group was held back, the same day sets allowing it.
        rounds = [(False, d) for d in self._day_sets(p)] + ([] if join_only else [(True, None)])
        held_back = []
        for risky, days in rounds:  # grows while iterated: the held-back day sets are appended at the marker
            if days is None:
                rounds.extend((True, d) for d in held_back)
                continue
            self.risky_ok = risky
            self.held_back = False
            mark = len(self.board.log)
            try:
                self._attempt(p, days, join_only)
            except _Fail as exc:
                score = len(self.board.of_patient(p.id))
                self.board.undo_to(mark)
                if self.held_back and not risky:
                    held_back.append(days)
                if score > best_score:
                    best_reason, best_score = str(exc), score
                continue
            problem = self._patient_problem(p)
            if problem is None:
                self.risky_ok = True
                self.board.log.clear()
                self.placed.append(p.id)
                self.reason.pop(p.id, None)
                return True
            score = len(self.board.of_patient(p.id))
            self.board.undo_to(mark)
            if self.held_back and not risky:
                held_back.append(days)
            if score > best_score:
                best_reason, best_score = problem, score
        self.risky_ok = True
        if not (join_only and p.id in self.reason):
            self.reason[p.id] = best_reason or "no combination of days fits the patient's availability and limits"
        return False

    def _precheck(self, p: Patient) -> None:
        lim = self.limits[p.id]
        for req in p.requirements:
            act = self.acts.get(req.activity_id)
            if act is None:
                raise _Fail(f"requires unknown activity {req.activity_id}")
            if req.min_count and not self._eligible(p, act):
                who = f"{act.cohort.value} patients" if act.cohort != Cohort.ANY else f"patients tagged {act.tag}"
                raise _Fail(f"requires {act.label} ({act.id}), which is only for {who}")
            if req.min_count and act.with_primary:
                th = self.staff.get(p.primary_therapist or "")
                if th is None:
                    raise _Fail(f"needs {act.label} with a primary therapist, but none is assigned")
                if act.skill and act.skill not in th.skills:
                    raise _Fail(f"needs {act.label} with primary therapist {th.name or th.id}, "
                                f"who does not hold the skill '{act.skill}'")
            if act.is_group and act.in_block and req.min_count > lim.max_days:
                raise _Fail(f"needs {act.label} {req.min_count} times a week but may attend only {lim.max_days} days "
                            f"(one {act.label} a day at most)")
        days = self._candidate_days(p)
        if len(days) < lim.min_days:
            raise _Fail(f"is available for a {lim.min_hours:g}-hour program day on only {len(days)} day(s) "
                        f"({', '.join(DAY_NAMES[d] for d in days) or 'none'}), but must attend at least {lim.min_days}")

    def _day_sets(self, p: Patient):
        """Candidate sets of attended days, cheapest first (preferences, spread, joinable groups)."""
        lim = self.limits[p.id]
        cands = self._candidate_days(p)
        forced = sorted({s.day for s in self.board.of_patient(p.id) if s.pinned and s.act.in_block})
        group_need = max((r.min_count for r in p.requirements
                          if r.activity_id in self.acts and self.acts[r.activity_id].is_group
                          and self.acts[r.activity_id].in_block), default=0)
        week_min = _at_least(lim.min_week_hours)
        lo = max(lim.min_days, group_need, len(forced),
                 math.ceil(week_min / max(1, _at_most(lim.max_hours))))
        hi = min(lim.max_days, len(cands))
        w = self.prog.weights
        pref = set(p.preferred_days)
        # Herd the track onto shared days, activity by activity: a day where none of the track's groups of
        # a required activity runs (or all are full) costs about a missed preference, a day where one runs
        # short of its minimum is sought out. That is what keeps groups above their minimum size.
        attendance = self._track_attendance(p)
        started = any(attendance.values())
        needs = self._group_needs(p)
        fill = self._track_fill(p)

        def activity_cost(act: Activity, d: int) -> float:
            size, room = fill.get((act.id, d), (0, 0))
            if room == 0:
                return _LONELY_DAY
            return _SHORT_DAY if 0 < size < act.min_size else 0.0

        popular = self._track_popularity(p)

        def herd(combo) -> float:
            total = sum(1.0 - popular[d] for d in combo)
            if not started:
                return total
            total += sum(_LONELY_DAY for d in combo if attendance[d] == 0)
            for act, count in needs:
                total += sum(sorted(activity_cost(act, d) for d in combo)[:count])
            return total

        for n in range(lo, hi + 1):
            scored = []
            for combo in combinations(cands, n):
                if not set(forced) <= set(combo):
                    continue
                nonpref = sum(1 for d in combo if d not in pref) if pref else 0
                adjacent = sum(1 for d in combo if self.prog.next_day(d) in combo and self.prog.next_day(d) in self.days)
                scored.append((w.preferences * nonpref + w.spread * adjacent + herd(combo), combo))
            scored.sort()
            for _, combo in scored[:_MAX_DAY_SETS]:
                yield combo

    def _track_popularity(self, p: Patient) -> dict[int, float]:
        """Per day, 0-1: how many of the track could come and prefer it (the best day is 1)."""
        track = self.track_of[p.id]
        if track.popularity is None:
            votes = Counter()
            for q in self.members[track.key]:
                for d in self._candidate_days(q):
                    votes[d] += 1 + (d in q.preferred_days)
            top = max(votes.values(), default=0) or 1
            track.popularity = {d: votes[d] / top for d in self.days}
        return track.popularity

    def _group_needs(self, p: Patient) -> list[tuple[Activity, int]]:
        """Required in-block group activities and how many more sessions of each the week needs."""
        have = Counter(x.act.id for x in self.board.of_patient(p.id))
        out = []
        for req in p.requirements:
            act = self.acts.get(req.activity_id)
            if act is not None and act.is_group and act.in_block and req.min_count > have[act.id]:
                out.append((act, req.min_count - have[act.id]))
        return out

    def _track_fill(self, p: Patient) -> dict[tuple[str, int], tuple[int, int]]:
        """(activity, day) -> (patients, free places) over the track's groups the patient could join."""
        key = self.track_of[p.id].key
        out: dict[tuple[str, int], tuple[int, int]] = {}
        for s in self.board.sessions.values():
            if s.track == key and s.act.is_group and p.id not in s.patients:
                size, room = out.get((s.act.id, s.day), (0, 0))
                free = s.capacity - len(s.patients) if self._can_join(p, s) else 0
                out[(s.act.id, s.day)] = (size + len(s.patients), room + free)
        return out

    def _track_attendance(self, p: Patient) -> Counter:
        """Per day, how many other placed patients of the patient's track attend."""
        placed = set(self.placed)
        out = Counter({d: 0 for d in self.days})
        for q in self.members[self.track_of[p.id].key]:
            if q.id != p.id and q.id in placed:
                out.update({x.day for x in self.board.of_patient(q.id) if x.act.in_block})
        return out

    def _block_start(self, p: Patient, d: int) -> int | None:
        w = self._day_window(p, d)
        if w is None:
            return None
        t = self.track_of[p.id].starts.get(d)
        need = self._min_day_minutes(p)
        if t is not None and w.start <= t and t + need <= w.end:
            return t
        return self._on_grid(w.start)

    def _can_join(self, p: Patient, s: _Sess) -> bool:
        return (not s.pinned and len(s.patients) < s.capacity and s.sid not in self.avoid and self._eligible(p, s.act)
                and (s.cohort is None or s.cohort == p.cohort))

    # ------------------------------------------------------------------ an attempt on a day set
    def _attempt(self, p: Patient, days: tuple[int, ...], join_only: bool) -> None:
        lim = self.limits[p.id]
        counts = Counter(s.act.id for s in self.board.of_patient(p.id))
        day_min = _at_least(lim.min_hours)
        day_max = _at_most(lim.max_hours)
        week_min, week_max = _at_least(lim.min_week_hours), _at_most(lim.max_week_hours)

        # Required in-block groups spread over the days (fewest-loaded day first, at most one a day).
        per_day: dict[int, list[str]] = {d: [] for d in days}
        group_reqs = []
        extra_items: list[Activity] = []
        for req in p.requirements:
            act = self.acts[req.activity_id]
            need = req.min_count - counts[act.id]
            if need <= 0:
                continue
            if act.is_group and act.in_block:
                group_reqs.append((act, need))
            else:
                extra_items.extend([act] * need)
        group_reqs.sort(key=lambda x: (-x[1], x[0].id))
        running = {d: self._day_groups(p, d) for d in days} if group_reqs else {}
        for act, need in group_reqs:
            free = [d for d in days if act.id not in per_day[d] and not self._has_on_day(p.id, d, act.id)]
            if len(free) < need:
                raise _Fail(f"needs {act.label} {need} more time(s) but attends only {len(days)} day(s)")
            free.sort(key=lambda d: (not any(s.act.id == act.id for s in running[d]),
                                     self._clashes(running[d], act, per_day[d]), len(per_day[d]), d))
            for d in sorted(free[:need]):
                per_day[d].append(act.id)

        self.planned = Counter(a for d in days for a in per_day[d])
        extra_minutes = sum(a.duration_min for a in extra_items)
        # (No days: a patient with min_days 0 tried with an empty week; until session 18 a ZeroDivisionError.)
        target = max(day_min, min(day_max, math.ceil(max(0, week_min - extra_minutes) / max(1, len(days)))))
        # Individual work (scarcest staff first) may go into a block where no group fits; a day may also be
        # built short of its target from running groups alone, by at most the individual minutes left,
        # rather than open a group nobody else needs.
        extra_items.sort(key=lambda a: (not a.in_block, self._staff_pool_size(p, a), a.id))
        self.singles = [a for a in extra_items if a.in_block and a.mode != Mode.FAMILY]
        self.week_max, self.join_only = week_max, join_only
        reserved = 0
        for d in days:
            slack = sum(a.duration_min for a in self.singles) - reserved
            reserved += self._grow_day(p, d, per_day[d], target, day_max, join_only, slack)

        for act in self.singles + [a for a in extra_items if a.in_block and a.mode == Mode.FAMILY]:
            self._place_in_block_single(p, act, days, day_min, day_max, week_max)
        self.singles = []
        for act in extra_items:
            if not act.in_block:
                self._place_floating(p, act, week_max)

        # Days still short of the daily minimum get optional groups; then the week's minimum.
        for d in days:
            self._fill(p, d, [], day_min, day_max, join_only)
        while self._week_minutes(p.id) < week_min:
            if not any(self._extend(p, d, day_max, join_only, wildcard_only=True)
                       for d in sorted(days, key=lambda d: (self._day_minutes(p.id, d), d))):
                raise _Fail(f"cannot reach the weekly minimum of {lim.min_week_hours:g} hours "
                            f"within {lim.max_hours:g} hours a day on the chosen days")

    def _has_on_day(self, pid: str, d: int, act_id: str) -> bool:
        return any(s.act.id == act_id for s in self.board.patient_busy.get(pid, {}).get(d, ()))

    # ------------------------------------------------------------------ the day's block
    def _in_block(self, pid: str, d: int) -> list[_Sess]:
        return sorted((s for s in self.board.of_patient(pid, d) if s.act.in_block), key=lambda s: s.start)

    def _minutes_of(self, chain: list[_Sess]) -> int:
        if not chain:
            return 0
        if self.span:
            return max(s.end for s in chain) - min(s.start for s in chain)
        return sum(s.minutes for s in chain)

    def _day_minutes(self, pid: str, d: int) -> int:
        return self._minutes_of(self._in_block(pid, d))

    def _week_minutes(self, pid: str) -> int:
        return sum(s.minutes for s in self.board.of_patient(pid))

    def _grow_day(self, p: Patient, d: int, pending: list[str], target: int, day_max: int, join_only: bool,
                  slack: int = 0) -> int:
        """Build the day's block: required groups, then optional ones up to the day's target minutes.

        Tried in this order, each from the track's block start, then from starts where a group they can
        join runs, then from other starts: (a) a full block of groups that already run; (b) a block of
        running groups at most ``slack`` minutes short (individual work fills it later); (c) a full block,
        opening groups where needed. Returns the minutes the block is short of the target.
        """
        if self._in_block(p.id, d):
            self._fill(p, d, list(pending), target, day_max, join_only)
            return 0
        starts = self._block_starts(p, d)[:_MAX_BLOCK_STARTS]
        failure: list[_Fail] = []
        for t in starts:
            if self._build_block(p, d, t, pending, target, day_max, True, 0, failure) is not None:
                return 0
        if slack > 0:
            best = None
            for t in starts:
                mark, state = len(self.board.log), self._state()
                short = self._build_block(p, d, t, pending, target, day_max, True, slack, failure)
                if short is not None:
                    self.board.undo_to(mark)
                    self._restore(state)
                    if best is None or short < best[0]:
                        best = (short, t)
            if best is not None:
                return self._build_block(p, d, best[1], pending, target, day_max, True, slack, failure)
        if not join_only:
            for t in starts:
                if self._build_block(p, d, t, pending, target, day_max, False, 0, failure) is not None:
                    return 0
        w = self._day_window(p, d)
        raise failure[0] if failure else _Fail(
            f"no group they can join or open on {DAY_NAMES[d]} within their hours "
            f"({format_time(w.start)}-{format_time(w.end)}): facilitators or rooms are taken")

    def _build_block(self, p: Patient, d: int, t: int, pending: list[str], target: int, day_max: int,
                     join_only: bool, slack: int, failure: list) -> int | None:
        """A block from ``t``; returns how many minutes it is short of the target (at most ``slack``),
        or None (and nothing changed) when it cannot be built."""
        mark, state = len(self.board.log), self._state()
        act_id = self._extend(p, d, day_max, join_only, pending=pending, at=t, window=self._day_window(p, d))
        if act_id is not None:
            rest = list(pending)
            if act_id in rest:
                rest.remove(act_id)
                self.planned[act_id] -= 1
            try:
                self._fill(p, d, rest, target, day_max, join_only, slack=slack)
                return max(0, target - self._day_minutes(p.id, d))
            except _Fail as exc:
                failure.append(exc)
        self.board.undo_to(mark)
        self._restore(state)
        return None

    def _state(self):
        return Counter(self.planned), list(self.singles)

    def _restore(self, state) -> None:
        self.planned, self.singles = Counter(state[0]), list(state[1])

    def _fill(self, p: Patient, d: int, pending: list[str], target: int, day_max: int, join_only: bool,
              slack: int = 0) -> None:
        """Add required, then optional groups next to the block until it reaches ``target`` minutes
        (or comes within ``slack`` of it, when no more can be added). Groups that run are joined first;
        where none fits, a pending individual session goes there; only then is a group opened."""
        while pending or self._day_minutes(p.id, d) < target:
            act_id = self._extend(p, d, day_max, True, pending=pending, wildcard_only=not pending)
            if act_id is None and self._single_in_block(p, d, day_max):
                continue
            if act_id is None and not join_only:
                act_id = self._extend(p, d, day_max, False, pending=pending, wildcard_only=not pending)
            if act_id is None:
                if pending:
                    act = self.acts[pending[0]]
                    raise _Fail(f"no {_group(act)} with room for them next to their {DAY_NAMES[d]} block, "
                                f"and no free facilitator and room to open one")
                if self._day_minutes(p.id, d) + slack >= target:
                    return
                raise _Fail(f"cannot fill {DAY_NAMES[d]} to the daily minimum of {_hours(target)} hours: "
                            f"no group with room next to their block and none can be opened")
            if act_id in pending:
                pending.remove(act_id)
                self.planned[act_id] -= 1

    def _block_starts(self, p: Patient, d: int) -> list[int]:
        """The track's block start first, then starts where a group they can join runs, then the rest."""
        w = self._day_window(p, d)
        first = self._block_start(p, d)
        need = self._min_day_minutes(p)
        starts = [first]
        t = self._on_grid(w.start)
        while t + need <= w.end:
            if t != first:
                starts.append(t)
            t += self.slot
        starts.sort(key=lambda t: (t != first, not self._joinable_at(p, d, t), t))
        return starts

    def _joinable_at(self, p: Patient, d: int, t: int) -> bool:
        return any(self._can_join(p, s) for s in self.board.by_start.get((d, t), ()))

    def _wildcard_ok(self, p: Patient, act: Activity, d: int) -> bool:
        if not act.is_group or not act.in_block or not self._eligible(p, act):
            return False
        rng = self._count_range(p, act)
        if rng is None:
            return False
        count = self.board.count[(p.id, act.id)] + self.planned[act.id]
        return count < rng[1] and not self._has_on_day(p.id, d, act.id)

    def _extend(self, p: Patient, d: int, day_max: int, join_only: bool, *, pending=(), wildcard_only=False,
                at: int | None = None, window: Window | None = None) -> str | None:
        """Add one group session right after (or before) the day's block; returns its activity id."""
        chain = self._in_block(p.id, d)
        if at is not None:
            positions = [("at", at)]
        else:
            cs, ce = chain[0].start, chain[-1].end
            window = _inside(self.pat_win[p.id][d], cs, ce)
            if window is None:
                return None
            positions = [("after", ce), ("before", cs)]
        wanted = [a for a in pending if not self._has_on_day(p.id, d, a)] if not wildcard_only else []
        for side, edge in positions:
            # 1. join a group that already runs there: a required one first, then one still short of its minimum,
            #    then the fullest.
            options = []
            for g in range(0, self.gap + 1, self.slot):
                if side == "at" and g:
                    break
                key_list = (self.board.by_start.get((d, edge + g), ()) if side in ("after", "at")
                            else self.board.by_end.get((d, edge - g), ()))
                for s in key_list:
                    if not self._can_join(p, s):
                        continue
                    required = s.act.id in wanted
                    if not required and wanted and not self._fits_later_minutes(chain, s.minutes, wanted, day_max):
                        continue
                    if not required and not self._wildcard_ok(p, s.act, d):
                        continue
                    if required and self._has_on_day(p.id, d, s.act.id):
                        continue
                    if not self._fits(p, d, chain, s.start, s.end, window, day_max):
                        continue
                    under = len(s.patients) < s.act.min_size
                    options.append((not required, not under, g, -len(s.patients), s.sid, s))
            if options:
                s = min(options, key=lambda o: o[:5])[-1]
                self.board.join(s, p.id)
                return s.act.id
            # 2. open a new group: a required activity first, then an optional one.
            if join_only and not self.small_groups:
                continue
            acts = [self.acts[a] for a in wanted]
            if not wanted or self._day_minutes_after_required(chain, wanted) < day_max:
                acts += [a for a in self.sc.activities if a.id not in wanted and self._wildcard_ok(p, a, d)]
            acts = [a for a in acts if self._eligible(p, a) and (not join_only or a.min_size <= 1)]
            if not acts:
                continue
            # Groups likely to reach their minimum size first (required before optional as a tie-break);
            # a required group that already runs later in the block is left to be joined there.
            later = self._runs_later(p, d, edge, wanted, window) if side in ("after", "at") else set()
            rank = {}
            for i, act in enumerate(acts):
                start = edge if side in ("after", "at") else edge - act.duration_min
                rank[act.id] = (act.id in later,
                                self._promise(p, act, d, start, start + act.duration_min) < act.min_size,
                                act.id not in wanted, i)
            acts.sort(key=lambda a: rank[a.id])
            for act in acts:
                if rank[act.id][1] and not self.risky_ok:
                    self.held_back = True
                    continue
                start = edge if side in ("after", "at") else edge - act.duration_min
                end = start + act.duration_min
                if act.id not in wanted and wanted and not self._fits_later_minutes(chain, act.duration_min,
                                                                                    wanted, day_max):
                    continue
                if not self._fits(p, d, chain, start, end, window, day_max):
                    continue
                sess = self._open_group(p, act, d, start)
                if sess is not None:
                    self.board.join(sess, p.id)
                    return act.id
        return None

    def _runs_later(self, p: Patient, d: int, edge: int, wanted, window: Window | None) -> set[str]:
        """Required activities with a joinable group starting later the same day inside the window."""
        if window is None or not wanted:
            return set()
        out = set()
        t = edge + self.slot
        while t < window.end:
            for s in self.board.by_start.get((d, t), ()):
                if s.act.id in wanted and s.end <= window.end and self._can_join(p, s):
                    out.add(s.act.id)
            t += self.slot
        return out

    def _day_minutes_after_required(self, chain, wanted) -> int:
        return self._minutes_of(chain) + sum(self.acts[a].duration_min for a in wanted)

    def _fits_later_minutes(self, chain, minutes: int, wanted, day_max) -> bool:
        return self._minutes_of(chain) + minutes + sum(self.acts[a].duration_min for a in wanted) <= day_max

    def _fits(self, p: Patient, d: int, chain: list[_Sess], start: int, end: int, window: Window | None,
              day_max: int) -> bool:
        """The patient is free, it lies in their window, the day stays within its maximum and gaps."""
        if window is None or not (window.start <= start and end <= window.end):
            return False
        if (start - self.prog.open) % self.slot:
            return False
        if not self.board.patient_free(p.id, d, start, end):
            return False
        if chain:
            # Next to the block: the gap to the block on either side at most max_gap.
            if start >= chain[-1].end:
                if start - chain[-1].end > self.gap:
                    return False
            elif end <= chain[0].start:
                if chain[0].start - end > self.gap:
                    return False
            else:
                return False
        new_minutes = (max([s.end for s in chain] + [end]) - min([s.start for s in chain] + [start])
                       if self.span else self._minutes_of(chain) + (end - start))
        return new_minutes <= day_max

    # ------------------------------------------------------------------ staff and rooms
    def _staff_free(self, sid: str, d: int, start: int, end: int) -> bool:
        st = self.staff[sid]
        if _inside(self.staff_win[sid][d], start, end) is None:
            return False
        if _overlaps(self.board.staff_busy.get(sid, {}).get(d, ()), start, end):
            return False
        mins = end - start
        if st.max_hours_day is not None and self.board.staff_day[(sid, d)] + mins > _at_most(st.max_hours_day):
            return False
        if st.max_hours_week is not None and self.board.staff_week[sid] + mins > _at_most(st.max_hours_week):
            return False
        return True

    def _room_free(self, rid: str, d: int, start: int, end: int) -> bool:
        return (_inside(self.room_win[rid][d], start, end) is not None
                and not _overlaps(self.board.room_busy.get(rid, {}).get(d, ()), start, end))

    def _pick_staff(self, act: Activity, d: int, start: int, end: int, first: list[str], order_key) -> list[str] | None:
        chosen = []
        for sid in first:
            if sid not in self.staff or (act.skill and act.skill not in self.staff[sid].skills):
                return None
            if not self._staff_free(sid, d, start, end):
                return None
            chosen.append(sid)
        if len(chosen) >= act.staff_count:
            return chosen[: max(act.staff_count, len(first))]
        pool = [s.id for s in self.sc.staff if s.id not in chosen and (not act.skill or act.skill in s.skills)]
        pool.sort(key=order_key)
        for sid in pool:
            if self._staff_free(sid, d, start, end):
                chosen.append(sid)
                if len(chosen) == act.staff_count:
                    return chosen
        # Nobody free: hand another session of one of them to a free colleague (a coordinator's swap).
        for sid in pool if act.is_group else ():
            if sid not in chosen and self._free_up_staff(sid, d, start, end, avoid=chosen):
                chosen.append(sid)
                if len(chosen) == act.staff_count:
                    return chosen
        return None

    def _free_up_staff(self, sid: str, d: int, start: int, end: int, avoid=()) -> bool:
        """Move the one session that keeps ``sid`` busy then to another qualified, free colleague, not one of
        ``avoid`` (the staff already chosen for the session being opened: they are free then only because it is
        not on the board yet; an outside check's co-led group was handed to its own co-facilitator, H4)."""
        st = self.staff[sid]
        if _inside(self.staff_win[sid][d], start, end) is None:
            return False
        clash = [x for x in self.board.staff_busy.get(sid, {}).get(d, ()) if x.start < end and start < x.end]
        if len(clash) != 1 or clash[0].pinned:
            return False
        x = clash[0]
        if x.act.with_primary and any(self.pat[q].primary_therapist == sid for q in x.patients if q in self.pat):
            return False
        extra = (end - start) - x.minutes
        if st.max_hours_day is not None and self.board.staff_day[(sid, d)] + extra > _at_most(st.max_hours_day):
            return False
        if st.max_hours_week is not None and self.board.staff_week[sid] + extra > _at_most(st.max_hours_week):
            return False
        alternatives = [a.id for a in self.sc.staff
                        if a.id not in x.staff and a.id not in avoid and (not x.act.skill or x.act.skill in a.skills)]
        alternatives.sort(key=lambda a: (self.board.staff_week[a], a))
        for alt in alternatives:
            if self._staff_free(alt, d, x.start, x.end):
                self.board.move(x, tuple(alt if s == sid else s for s in x.staff), x.room, x.capacity)
                return True
        return False

    def _free_up_room(self, rid: str, d: int, start: int, end: int) -> bool:
        """Move the one session that holds room ``rid`` then to another free room that fits it."""
        if _inside(self.room_win[rid][d], start, end) is None:
            return False
        clash = [x for x in self.board.room_busy.get(rid, {}).get(d, ()) if x.start < end and start < x.end]
        if len(clash) != 1 or clash[0].pinned:
            return False
        x = clash[0]
        others = [r for r in self.rooms if r.id != rid and r.kind == x.act.room_kind
                  and r.capacity >= max(len(x.patients), x.act.min_size)]
        others.sort(key=lambda r: (r.capacity < x.capacity, abs(r.capacity - x.capacity), r.id))
        for r in others:
            if self._room_free(r.id, d, x.start, x.end):
                capacity = min(x.act.max_size, r.capacity) if x.act.is_group else 1
                self.board.move(x, x.staff, r.id, max(capacity, len(x.patients)))
                return True
        return False

    def _pick_room(self, act: Activity, d: int, start: int, end: int,
                   min_capacity: int) -> tuple[bool, str | None, int]:
        if act.room_kind == RoomKind.NONE:
            return True, None, act.max_size
        rooms = [r for r in self.rooms if r.kind == act.room_kind and r.capacity >= min_capacity]
        if act.is_group:
            rooms.sort(key=lambda r: (0, r.capacity, r.id) if r.capacity >= act.max_size else (1, -r.capacity, r.id))
        else:
            rooms.sort(key=lambda r: (r.capacity, r.id))
        for r in rooms:
            if self._room_free(r.id, d, start, end):
                return True, r.id, min(act.max_size, r.capacity)
        for r in rooms:
            if self._free_up_room(r.id, d, start, end):
                return True, r.id, min(act.max_size, r.capacity)
        return False, None, 0

    def _open_group(self, p: Patient, act: Activity, d: int, start: int) -> _Sess | None:
        return self._open_group_for(self.track_of[p.id].key, p.cohort, act, d, start,
                                    self._facilitators(p.id, act.id))

    def _facilitators(self, pid: str, act_id: str) -> set[str]:
        """Who leads the patient's other sessions of a process group activity (continuity, S2); else nobody."""
        act = self.acts[act_id]
        if not act.is_group or act.skill != PROCESS_SKILL:
            return set()
        return {sid for s in self.board.of_patient(pid) if s.act.id == act_id for sid in s.staff}

    def _open_group_for(self, track: tuple, cohort: Cohort, act: Activity, d: int, start: int,
                        known: set[str] = frozenset()) -> _Sess | None:
        end = start + act.duration_min
        mark = len(self.board.log)
        ok, room, capacity = self._pick_room(act, d, start, end, max(1, act.min_size))
        if not ok:
            return None
        leads = self.board.leads

        def order(sid: str):
            # Continuity: whoever already leads this group for the track; then staff with the
            # smallest caseload (primary therapists keep time for individual sessions); then the least busy.
            return (sid not in known, -leads[(track, act.id, sid)], self.caseload[sid], self.board.staff_week[sid], sid)

        staff = self._pick_staff(act, d, start, end, [], order)
        if staff is None:
            self.board.undo_to(mark)
            return None
        return self.board.open(d, start, act, staff, room, capacity, cohort, track=track)

    def _staff_pool_size(self, p: Patient, act: Activity) -> int:
        if act.with_primary:
            return 1
        return sum(1 for s in self.sc.staff if not act.skill or act.skill in s.skills)

    def _open_single(self, p: Patient, act: Activity, d: int, start: int) -> _Sess | None:
        end = start + act.duration_min
        first = [p.primary_therapist] if act.with_primary and p.primary_therapist else []

        def order(sid: str):
            return (sid != p.primary_therapist, self.board.staff_week[sid], sid)

        mark = len(self.board.log)
        staff = self._pick_staff(act, d, start, end, first, order)
        if staff is None:
            return None
        ok, room, _ = self._pick_room(act, d, start, end, 1)
        if not ok:
            self.board.undo_to(mark)
            return None
        sess = self.board.open(d, start, act, staff, room, 1, p.cohort)
        self.board.join(sess, p.id)
        return sess

    # ------------------------------------------------------------------ individual and family sessions
    def _place_in_block_single(self, p: Patient, act: Activity, days, day_min: int, day_max: int,
                               week_max: int) -> None:
        """Right before or after the block, else in place of an optional group in it."""
        windows = self.fam_win[p.id] if act.mode == Mode.FAMILY else self.pat_win[p.id]
        order = sorted(days, key=lambda d: (self._has_on_day(p.id, d, act.id),
                                            sum(1 for s in self.board.of_patient(p.id, d) if not s.act.is_group),
                                            self._day_minutes(p.id, d), d))
        if self._week_minutes(p.id) + act.duration_min > week_max:
            raise _Fail(f"{act.label} would take them over the weekly maximum")
        for d in order:
            if self._single_next_to_block(p, act, d, windows[d], day_max):
                return
        for d in order:
            chain = self._in_block(p.id, d)
            for victim in sorted(chain, key=lambda s: (len(s.patients) <= s.act.min_size, -s.start)):
                if not victim.act.is_group or victim.pinned or self._is_required_group(p, victim):
                    continue
                mark = len(self.board.log)
                self.board.leave(victim, p.id)
                if self._single_in_hole(p, act, d, windows[d], day_min, day_max, victim):
                    return
                self.board.undo_to(mark)
        who = "their primary therapist" if act.with_primary else f"a staff member with the skill '{act.skill}'"
        raise _Fail(f"no time for {act.label} with {who} next to their program block on any attended day")

    def _single_in_block(self, p: Patient, d: int, day_max: int) -> bool:
        """Put one of the attempt's pending individual sessions right after (or before) the day's block."""
        if not self._in_block(p.id, d):
            return False
        tried = set()
        for act in list(self.singles):
            if act.id in tried or self._week_minutes(p.id) + act.duration_min > self.week_max:
                continue
            tried.add(act.id)
            if self._single_next_to_block(p, act, d, self.pat_win[p.id][d], day_max):
                self.singles.remove(act)
                return True
        return False

    @staticmethod
    def _clashes(running: list[_Sess], act: Activity, assigned: list[str]) -> bool:
        """Every running group of ``act`` that day overlaps every running group of an activity already
        assigned to that day (e.g. relapse prevention only beside DBT): the two cannot both be joined."""
        mine = [s for s in running if s.act.id == act.id]
        if not mine:
            return False
        for other in assigned:
            theirs = [s for s in running if s.act.id == other]
            if theirs and all(a.start < b.end and b.start < a.end for a in mine for b in theirs):
                return True
        return False

    def _day_groups(self, p: Patient, d: int) -> list[_Sess]:
        """Groups on day d within the patient's day window that they could join."""
        w = self._day_window(p, d)
        if w is None:
            return []
        out = []
        t = w.start
        while t < w.end:
            out.extend(s for s in self.board.by_start.get((d, t), ()) if s.end <= w.end and self._can_join(p, s))
            t += self.slot
        return out

    def _is_required_group(self, p: Patient, s: _Sess) -> bool:
        req = p.requirement(s.act.id)
        return req is not None and self.board.count[(p.id, s.act.id)] <= req.min_count

    def _single_next_to_block(self, p: Patient, act: Activity, d: int, windows, day_max: int) -> bool:
        chain = self._in_block(p.id, d)
        if not chain:
            return False
        cs, ce = chain[0].start, chain[-1].end
        starts = [ce + g for g in range(0, self.gap + 1, self.slot)]
        starts += [cs - act.duration_min - g for g in range(0, self.gap + 1, self.slot)]
        return self._try_single_at(p, act, d, windows, chain, starts, day_max)

    def _single_in_hole(self, p, act, d, windows, day_min, day_max, victim: _Sess) -> bool:
        chain = self._in_block(p.id, d)
        starts = [victim.start + k * self.slot for k in range(0, (victim.minutes - act.duration_min) // self.slot + 1)]
        if not chain:
            starts = starts[:1]
        for start in starts:
            end = start + act.duration_min
            if not self._gaps_ok(chain, start, end):
                continue
            if self._try_single_at(p, act, d, windows, chain, [start], day_max, check_edges=False):
                if self._day_minutes(p.id, d) >= day_min:
                    return True
                # Too short now: try to add an optional group back at the edges.
                if (self._extend(p, d, day_max, self.join_only, wildcard_only=True)
                        and self._day_minutes(p.id, d) >= day_min):
                    return True
                return False
        return False

    def _gaps_ok(self, chain, start, end) -> bool:
        times = sorted([(s.start, s.end) for s in chain] + [(start, end)])
        return all(b[0] - a[1] <= self.gap and b[0] >= a[1] for a, b in zip(times, times[1:]))

    def _try_single_at(self, p, act, d, windows, chain, starts, day_max, check_edges=True) -> bool:
        for start in starts:
            end = start + act.duration_min
            if (start - self.prog.open) % self.slot or _inside(windows, start, end) is None:
                continue
            if not self.board.patient_free(p.id, d, start, end):
                continue
            if check_edges and not self._fits(p, d, chain, start, end, Window(d, start, end), day_max):
                continue
            if not check_edges:
                mins = (max([s.end for s in chain] + [end]) - min([s.start for s in chain] + [start])
                        if self.span else self._minutes_of(chain) + act.duration_min)
                if mins > day_max:
                    continue
            if self._open_single(p, act, d, start) is not None:
                return True
        return False

    def _place_floating(self, p: Patient, act: Activity, week_max: int) -> None:
        """Out-of-block sessions (family sessions, usually): anywhere their availability and the staff allow."""
        if self._week_minutes(p.id) + act.duration_min > week_max:
            raise _Fail(f"{act.label} would take them over the weekly maximum")
        windows = self.fam_win[p.id] if act.mode == Mode.FAMILY else self.pat_win[p.id]
        whose = "the family's" if act.mode == Mode.FAMILY else "their"
        attended = {s.day for s in self.board.of_patient(p.id)}
        for d in sorted(self.days, key=lambda d: (d not in attended, d)):
            for w in windows[d]:
                t = self._on_grid(w.start)
                while t + act.duration_min <= w.end:
                    if self.board.patient_free(p.id, d, t, t + act.duration_min):
                        if act.is_group:
                            for s in self.board.by_start.get((d, t), ()):
                                if s.act.id == act.id and self._can_join(p, s):
                                    self.board.join(s, p.id)
                                    return
                            sess = None if self.join_only and act.min_size > 1 else self._open_group(p, act, d, t)
                            if sess is not None:
                                self.board.join(sess, p.id)
                                return
                        elif self._open_single(p, act, d, t) is not None:
                            return
                    t += self.slot
        who = "their primary therapist" if act.with_primary else f"a staff member with the skill '{act.skill}'"
        raise _Fail(f"no time for {act.label} with {who} within {whose} availability")

    # ------------------------------------------------------------------ the rules, checked here
    def _patient_problem(self, p: Patient) -> str | None:
        """The first hard rule this patient's sessions break, in plain words; None when all hold."""
        lim = self.limits[p.id]
        sessions = self.board.of_patient(p.id)
        counts = Counter(s.act.id for s in sessions)
        for act_id in sorted(counts):
            act = self.acts[act_id]
            rng = self._count_range(p, act)
            if rng is None:
                return f"{act.label} is not part of their plan"
            if not rng[0] <= counts[act_id] <= rng[1]:
                return f"gets {act.label} {counts[act_id]} time(s) instead of {rng[0]}-{rng[1]}"
        for req in p.requirements:
            if counts[req.activity_id] < req.min_count:
                act = self.acts[req.activity_id]
                return f"gets {act.label} {counts[req.activity_id]} time(s), fewer than the {req.min_count} required"
        attended = []
        for d in self.days:
            day = sorted(self.board.of_patient(p.id, d), key=lambda s: s.start)
            seen = Counter(s.act.id for s in day if s.act.is_group)
            if any(v > 1 for v in seen.values()):
                return f"has the same group twice on {DAY_NAMES[d]}"
            for a, b in zip(day, day[1:]):
                if b.start < a.end:
                    return f"is double-booked on {DAY_NAMES[d]} at {format_time(b.start)}"
            for s in day:
                wins = self.fam_win[p.id][d] if s.act.mode == Mode.FAMILY else self.pat_win[p.id][d]
                if _inside(wins, s.start, s.end) is None:
                    return f"{s.act.label} on {_when(s)} is outside their availability"
            chain = [s for s in day if s.act.in_block]
            if not chain:
                continue
            attended.append(d)
            mins = self._minutes_of(chain)
            if not _at_least(lim.min_hours) <= mins <= _at_most(lim.max_hours):
                return (f"would have {_hours(mins)} hours on {DAY_NAMES[d]}, outside "
                        f"{lim.min_hours:g}-{lim.max_hours:g} hours")
            for a, b in zip(chain, chain[1:]):
                if b.start - a.end > self.gap:
                    return f"would wait {b.start - a.end} minutes between sessions on {DAY_NAMES[d]}"
        if not lim.min_days <= len(attended) <= lim.max_days:
            return f"would attend {len(attended)} day(s), outside {lim.min_days}-{lim.max_days}"
        week = sum(s.minutes for s in sessions)
        if not _at_least(lim.min_week_hours) <= week <= _at_most(lim.max_week_hours):
            return (f"would have {_hours(week)} hours in the week, outside "
                    f"{lim.min_week_hours:g}-{lim.max_week_hours:g} hours")
        for s in sessions:
            if s.act.with_primary and p.primary_therapist not in s.staff:
                return f"{s.act.label} on {_when(s)} is not with their primary therapist"
        return None

    def _clean_up(self) -> None:
        """Repair or drop groups below their minimum size, then drop patients who break a rule; repeat.

        Repairs, in order: top up a short group with patients sitting in a fuller optional group at the
        same time; pull a patient of the track onto the group's day; move the group's members into groups
        that run anyway. A move is kept only when it leaves no other group short. What is still short is
        dropped; its patients get one more chance (their week re-planned with running groups only) before
        they are taken out. Later rounds only drop and remove, so clean-up always ends.
        """
        rounds = 0
        while True:
            repair = rounds < _REPAIR_ROUNDS
            rounds += 1
            short = self._short_groups()
            if repair:
                for step in (self._top_up, self._pull, self._move_members):
                    for s in short:
                        if s.sid in self.board.sessions and len(s.patients) < s.act.min_size:
                            step(s)
            bad: dict[str, str] = {}
            for s in short:
                if s.sid not in self.board.sessions or len(s.patients) >= s.act.min_size:
                    continue
                for pid in sorted(s.patients):
                    bad.setdefault(pid, f"the {_group(s.act)} on {_when(s)} would have only "
                                        f"{len(s.patients)} patient(s), below its minimum of {s.act.min_size}")
                self.board.close(s)
            for pid in self.placed:
                if pid not in bad:
                    problem = self._patient_problem(self.pat[pid])
                    if problem is not None:
                        bad[pid] = problem
            if repair:
                for pid in sorted(bad):
                    if not any(x.pinned for x in self.board.of_patient(pid)) and self._relocate(self.pat[pid]):
                        del bad[pid]
            # A pinned session is kept whole or not at all; once dropped, its patients stay on the
            # waitlist (placing all of them without it would break the pin).
            placed = set(self.placed)
            for s in sorted(self.board.sessions.values(), key=lambda s: s.sid):
                if s.pinned and any(pid in bad or pid not in placed for pid in s.patients):
                    for pid in sorted(s.patients):
                        self.blocked.add(pid)
                        if pid in placed:
                            bad.setdefault(pid, f"shares a pinned {s.act.label} session on {_when(s)} with a "
                                                f"patient who could not be placed")
                    self.board.close(s)
            for pid in sorted(bad):
                self._remove(pid)
                self.reason[pid] = bad[pid]
            self.placed = [pid for pid in self.placed if pid not in bad]
            self.board.log.clear()
            if not bad and not short:
                return

    def _short_groups(self) -> list[_Sess]:
        """Groups below their minimum size, the nearest to it first."""
        short = [s for s in self.board.sessions.values()
                 if not s.pinned and s.act.is_group and len(s.patients) < s.act.min_size]
        return sorted(short, key=lambda s: (s.act.min_size - len(s.patients), s.day, s.start, s.sid))

    def _move_members(self, s: _Sess) -> None:
        self.avoid = {s.sid}
        for pid in sorted(s.patients):
            self._relocate(self.pat[pid], s.day)
        self.avoid = set()

    def _top_up(self, s: _Sess) -> None:
        """Move patients into a short group from optional (or same-activity) groups at the same time."""
        for x in sorted(self.board.by_start.get((s.day, s.start), ()), key=lambda x: (-len(x.patients), x.sid)):
            if x is s or x.pinned or x.end != s.end:
                continue
            for pid in sorted(x.patients):
                if len(s.patients) >= s.act.min_size:
                    return
                if len(x.patients) <= x.act.min_size or len(s.patients) >= s.capacity:
                    break
                q = self.pat[pid]
                if not self._can_join(q, s):
                    continue
                if x.act.id != s.act.id and (self._is_required_group(q, x) or not self._wildcard_ok(q, s.act, s.day)):
                    continue
                self.board.leave(x, pid)
                self.board.join(s, pid)

    def _pull(self, s: _Sess) -> None:
        """Bring placed patients of the track onto a short group's day, moving one of their days.

        A patient qualifies when the group is open to them and they could attend that day; the day they
        give up must be one where every group they leave keeps its minimum size.
        """
        placed = set(self.placed)
        members = self.members.get(s.track, ()) if s.track is not None else ()
        tries = 0
        for q in members:
            if len(s.patients) >= s.act.min_size or tries >= _MAX_PULLS:
                return
            if (q.id not in placed or q.id in s.patients or not self._can_join(q, s)
                    or s.day not in self._candidate_days(q)
                    or any(x.act.in_block for x in self.board.of_patient(q.id, s.day))):
                continue
            if self._count_range(q, s.act) is None:
                continue
            attended = sorted({x.day for x in self.board.of_patient(q.id) if x.act.in_block})
            for give_up in attended:
                day_sessions = self.board.of_patient(q.id, give_up)
                if any(x.pinned or (x.act.is_group and len(x.patients) <= x.act.min_size) for x in day_sessions):
                    continue
                tries += 1
                mark = len(self.board.log)
                for x in day_sessions:
                    self.board.leave(x, q.id)
                days = tuple(sorted((set(attended) - {give_up}) | {s.day}))
                if self._try(q, days, join_only=True) and q.id in s.patients:
                    break
                self.board.undo_to(mark)

    def _relocate(self, p: Patient, day: int | None = None) -> bool:
        """Re-plan the patient's day (else their week) with groups that already run.

        Kept only when it is valid and every group the patient left still has its minimum size.
        """
        before = [x for x in self.board.of_patient(p.id) if x.act.is_group and not x.pinned]
        mark = len(self.board.log)

        def keeps_others() -> bool:
            return all(x.sid not in self.board.sessions or p.id in x.patients or x.sid in self.avoid
                       or len(x.patients) >= x.act.min_size for x in before)

        if day is not None:
            for x in self.board.of_patient(p.id, day):
                if not x.pinned:
                    self.board.leave(x, p.id)
            days = tuple(sorted({x.day for x in self.board.of_patient(p.id) if x.act.in_block} | {day}))
            if self._try(p, days, join_only=True) and keeps_others():
                return True
            self.board.undo_to(mark)
        for x in self.board.of_patient(p.id):
            if not x.pinned:
                self.board.leave(x, p.id)
        inner = len(self.board.log)
        for days in self._day_sets(p):
            if self._try(p, days, join_only=True):
                if keeps_others():
                    return True
                self.board.undo_to(inner)
        self.board.undo_to(mark)
        return False

    def _try(self, p: Patient, days: tuple[int, ...], join_only: bool) -> bool:
        mark = len(self.board.log)
        try:
            self._attempt(p, days, join_only)
        except _Fail:
            self.board.undo_to(mark)
            return False
        if self._patient_problem(p) is None:
            return True
        self.board.undo_to(mark)
        return False

    def _remove(self, pid: str) -> None:
        for s in self.board.of_patient(pid):
            if s.pinned:
                self.board.close(s)
            elif s.sid in self.board.sessions:
                self.board.leave(s, pid)

"""Neighbourhood fit: place the patients a template left out, without the whole-week model.

After every change of the timetable each left-out patient is first tried alone (a tiny
model, 0.1-1 s), then with a few *peers* in short rounds (``_in_the_way``, ``_peers``). Then
each round takes a left-out patient and a few patients like them
(same cohort, same therapist, overlapping hours), lifts them out of the current timetable and builds a
small CP-SAT model (solver/builder.py) of *those patients only*. Everything else stays
as it is: each remaining session keeps its time, staff and room (they are taken; a kept
non-process group may change who leads it, ``_with_leads``), and a
group session keeps its other patients, while the freed patients may join it as long as
it has seats (``Space.open_sessions``). The model maximises how many freed patients are
in (then the soft goals). A round is accepted when it places more of them and the merged
timetable, restricted to the patients it holds, passes ``scheduler.validate`` — a check
that shares no code with the model.

Before the first round, and after every few rounds without progress, the facilitators of
group sessions are re-chosen so that each left-out patient's sessions with their primary
therapist have a time at which the therapist is free, and then so that the therapist leads
as little as possible inside those hours, where someone else can lead
(``polish.clear_the_way``): a
template often has the one therapist a patient needs leading groups then (500 patients,
seed 0: 11 left out -> 1 within the time limit, where the fit alone placed 1).

The model of a round has the size of a 10-25 patient clinic whatever the clinic's size,
so this works where the whole-week model is too large to build (300-500 patients).

``improve`` runs rounds on the same model once everyone is in, minimising the freed
patients' soft goals instead: the only part of the large-clinic path that lowers S1, S5
and S6, and the end of the whole-week search (solver/model.py).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from ortools.sat.python import cp_model

from scheduler.model import PROCESS_SKILL, Availability, Scenario, Session, Timetable, Window
from scheduler.timegrid import open_windows
from scheduler.validate import continuity_by_patient, objective, validate
from solver.builder import IopModel
from solver.extract import extract, hints_from
from solver.polish import can_lead, clear_the_way, inside_any, therapist_needs, unmet_needs
from solver.space import OpenSession, build_space, day_patterns, eligible, pattern_counts, seats_in

from solver.repair import fix, solve_cancellable

log = logging.getLogger("solver.fit")

ROUND_SECONDS = 4.0
PEERS = 3  # patients freed with a left-out patient after its try alone (``_peers``)
PEER_TRIES = 3  # such rounds per left-out patient before wider neighbourhoods (again after any progress)
SEAT_TRY = 3  # the try that frees the seat makers (``_seat_makers``) instead of random peers, when there are any
SEAT_EVERY = 3  # of the wider rounds, every third frees the target's seat makers, when there are any
SEAT_MAKERS = 6  # patients freed with a left-out patient to make a seat in the full groups they need
PEER_SECONDS = 2.0  # per such round
CLEAR_EVERY = 5  # rounds without progress before the therapists' hours are cleared again
CLEAR_SECONDS = 3.0
BLOCKER_WEIGHT = 100.0  # in a neighbourhood's ranking: first the patients of sessions that block the target's therapist


def fit(scenario: Scenario, timetable: Timetable, left_out, deadline: float, cancel: threading.Event | None = None,
        seed: int = 0) -> tuple[Timetable, set[str]]:
    """Rounds until everyone is in or ``deadline`` (time.monotonic()) passes: (timetable, still left out)."""
    rng = random.Random(seed)
    left = set(left_out)
    size, rounds, failed, round_seconds = 8, 0, 0, ROUND_SECONDS
    cleared_at = None
    # First tries per left-out patient against the timetable in hand: alone, then up to
    # PEER_TRIES with their peers.
    tries: dict[str, int] = {}
    while left and time.monotonic() < deadline - 0.3 and not (cancel is not None and cancel.is_set()):
        if rounds == 0 or (failed and failed % CLEAR_EVERY == 0 and failed != cleared_at):
            # (Again after every few rounds without progress: the fit moves other patients.)
            waiting = [scenario.patient_by_id[pid] for pid in sorted(left)]
            seconds = min(CLEAR_SECONDS, max(0.0, deadline - time.monotonic() - 0.3))
            timetable = clear_the_way(_only(scenario, left), timetable, waiting, seconds, cancel)
            cleared_at = failed
            tries.clear()
        rounds += 1
        candidates = sorted(left)
        untried = [pid for pid in candidates if tries.get(pid, 0) <= PEER_TRIES]
        first_tries = bool(untried)
        seconds = round_seconds
        if untried:
            fewest = min(tries.get(pid, 0) for pid in untried)
            least = [pid for pid in untried if tries.get(pid, 0) == fewest]
            target = least[rng.randrange(len(least))]
            tries[target] = fewest + 1
        if untried and fewest == 0:
            # Each left-out patient is first tried alone: the model is tiny (0.1-1 s), and once
            # the way is cleared that is often enough (demo clinic: the one family session that
            # 4-s neighbourhood rounds missed, placed in 0.1 s).
            free = {target}
        elif untried:
            # Then with the patients of the sessions in their therapist's way, if any, else with
            # the few who could share their scarcest group activity with them (a group below its
            # minimum size is the template's usual reason): a 4-patient round is quick (0.7-2.7 s
            # at 40 patients, where a neighbourhood of 10 often ran out of its 4 s). The time such a
            # round needs varies 10-fold with the search's luck (0.3-5.8 s, one round, six seeds):
            # short rounds, retried with other peers, beat one long one.
            # (The second try takes the company of the next scarcest activity: the scarcest by count
            # is not always the one short of its minimum: a 12-patient clinic's left-out patient
            # needed relapse prevention, four could share it, three CBT.)
            company = _in_the_way(scenario, timetable, target)
            if not company and fewest == SEAT_TRY:
                company = _seat_makers(scenario, timetable, target, SEAT_MAKERS, rng)
            if not company:
                company = _peers(scenario, target, PEERS, rng if fewest > 2 else None, rank=1 if fewest == 2 else 0)
            free = {target} | company
            seconds = PEER_SECONDS
        else:
            target = candidates[rng.randrange(len(candidates))]
            # Every third wide round makes a seat where the target's groups are all full (a patient
            # who needs three groups every day meets full groups on some days: generated 100/6's
            # P059 stayed out for 90 s of rounds; such rounds placed them in 2 of 8 tries).
            makers = _seat_makers(scenario, timetable, target, SEAT_MAKERS, rng) if rounds % SEAT_EVERY == 0 else set()
            free = {target} | makers if makers else _neighbourhood(scenario, timetable, target, left, size, rng)
        free = _with_pins(scenario, free)
        seconds = min(seconds, deadline - time.monotonic())
        try:
            outcome = _round(scenario, timetable, free, seconds, cancel, seed + rounds)
        except Exception:  # a round is an attempt; the timetable in hand stays
            log.exception("fit round failed")
            outcome = None
        before = len(free - left)
        log.debug("fit round %d: %d free, outcome %s", rounds, len(free),
                  None if outcome is None else f"{len(outcome[1])} placed (was {before})")
        if outcome is not None and len(outcome[1]) > before:
            merged, placed = outcome
            now_left = (left | free) - placed
            if validate(_only(scenario, now_left), merged) == []:
                timetable, left = merged, now_left
                log.info("fit round %d: %d free, %d placed (was %d); %d left out", rounds, len(free), len(placed),
                         before, len(left))
                failed, cleared_at = 0, None
                tries.clear()
                continue
            log.warning("fit round %d: merged timetable failed validation; discarded", rounds)
        if first_tries:
            continue  # neither the neighbourhood's size nor the clearing cadence learns from these
        failed += 1
        # Nothing gained: look wider next time (smaller, and with more time, when the round ran
        # out of time: a 12-patient whole-clinic round needs ~4 s on a busy 2-core machine).
        size = min(size + 4, 24) if outcome is not None else max(4, size - 2)
        round_seconds = ROUND_SECONDS if outcome is not None else min(4 * ROUND_SECONDS, 2 * round_seconds)
    log.info("fit: %d rounds, %d left out%s", rounds, len(left), f" ({', '.join(sorted(left))})" if left else "")
    return timetable, left


def _blocked(scenario: Scenario, timetable: Timetable, target: str) -> list[tuple[int, int, int]]:
    """(day, start, end) hours of the target's sessions with their therapist that have no free time for them."""
    p = scenario.patient_by_id[target]
    return [(d, b, e) for n in unmet_needs(scenario, therapist_needs(scenario, p), timetable) for d, b, e in n.windows]


def _in_the_way(scenario: Scenario, timetable: Timetable, target: str) -> set[str]:
    """The patients of the sessions their therapist holds where the target's sessions with them could go
    (none when such a time is free)."""
    therapist = scenario.patient_by_id[target].primary_therapist
    blocked = _blocked(scenario, timetable, target) if therapist else []
    if not blocked:
        return set()
    return {pid for s in timetable.sessions if therapist in s.staff_ids and inside_any(blocked, s) for pid in s.patient_ids}


def _peers(scenario: Scenario, target: str, most: int, rng: random.Random | None = None, rank: int = 0) -> set[str]:
    """Up to ``most`` patients who could sit in a group with the target: of its group activity with the
    fewest such patients (the scarcest company; with ``rank`` 1 the next scarcest), those whose hours
    overlap the target's most (with ``rng``: ``most`` drawn from the twice as many whose hours overlap most).

    Company means: same cohort, the activity among their requirements, and windows that overlap the
    target's by at least the activity's length on some program day."""
    p = scenario.patient_by_id[target]
    prog = scenario.program
    windows = {d: open_windows(p.availability, prog, d) for d in prog.days}
    theirs: dict[str, dict[int, list[Window]]] = {}
    ranked: list[tuple[int, str, list[str]]] = []
    for r in p.requirements:
        a = scenario.activity_by_id.get(r.activity_id)
        if a is None or not a.is_group:
            continue
        length = a.duration_min
        company = []
        for q in scenario.patients:
            if q.id == target or q.cohort != p.cohort or q.requirement(a.id) is None:
                continue
            if q.id not in theirs:
                theirs[q.id] = {d: open_windows(q.availability, prog, d) for d in prog.days}
            shared = sum(overlap for d in prog.days for x in windows[d] for y in theirs[q.id][d]
                         if (overlap := min(x.end, y.end) - max(x.start, y.start)) >= length)
            if shared:
                company.append((-shared, q.id))
        if company:
            ranked.append((len(company), a.id, [pid for _, pid in sorted(company)]))
    if not ranked:
        return set()
    ranked.sort()
    best = ranked[min(rank, len(ranked) - 1)][2]
    if rng is None:
        return set(best[:most])
    return set(rng.sample(best[:2 * most], min(most, len(best))))


def _seat_makers(scenario: Scenario, timetable: Timetable, target: str, most: int, rng: random.Random) -> set[str]:
    """Up to ``most`` patients, one from each set of full groups the target needs: for each group
    activity among the target's requirements and each day on which every such group inside the
    target's hours is full, a member of those groups, the least bound first (the fewest of that
    activity required, then the most hours available; ties at random). Freed with the target, the
    round can move that member (another day, another group) and seat the target, or open a second
    group with them."""
    p = scenario.patient_by_id[target]
    prog = scenario.program

    def hours(pid: str) -> int:
        return sum(w.minutes for d in prog.days for w in open_windows(scenario.patient_by_id[pid].availability, prog, d))

    acts = scenario.activity_by_id
    windows = {d: open_windows(p.availability, prog, d) for d in prog.days}
    fixed = {pid for s in timetable.sessions if s.pinned for pid in s.patient_ids}
    choices: list[list[tuple[float, str]]] = []
    for r in p.requirements:
        a = acts.get(r.activity_id)
        if a is None or not a.is_group or r.min_count <= 0 or not eligible(p, a):
            continue
        for d in prog.days:
            groups = [s for s in timetable.sessions if s.day == d and s.activity_id == a.id and not s.pinned
                      and any(w.start <= s.start and s.end <= w.end for w in windows[d])
                      and all(q in scenario.patient_by_id and scenario.patient_by_id[q].cohort == p.cohort
                              for q in s.patient_ids)]
            if not groups or any(len(s.patient_ids) < seats_in(a, scenario.room_by_id.get(s.room_id or ""))
                                 for s in groups):
                continue
            members = []
            for s in groups:
                for q in s.patient_ids:
                    if q != target and q not in fixed:
                        req = scenario.patient_by_id[q].requirement(a.id)
                        members.append(((req.min_count if req else 0, -hours(q), rng.random()), q))
            if members:
                choices.append(sorted(members))
    rng.shuffle(choices)
    free: set[str] = set()
    for members in choices:
        if len(free) >= most:
            break
        if not any(q in free for _, q in members):
            free.add(members[0][1])
    return free


def _pins_of(scenario: Scenario, patients: set[str]) -> list[Session]:
    """Last week's pinned sessions that hold any of these patients."""
    if scenario.previous is None:
        return []
    return [s for s in scenario.previous.sessions if s.pinned and patients.intersection(s.patient_ids)]


def _with_pins(scenario: Scenario, free: set[str]) -> set[str]:
    """``free`` and every patient who shares a pinned session with them (and so on): a pinned
    session is kept exactly, so its patients are placed together or left out together."""
    free = set(free)
    while True:
        more = {pid for s in _pins_of(scenario, free) for pid in s.patient_ids} - free
        if not more:
            return free
        free |= more


def _only(scenario: Scenario, left_out: set[str]) -> Scenario:
    from solver.greedy import scenario_without

    return scenario_without(scenario, left_out)


def _neighbourhood(scenario: Scenario, timetable: Timetable, target: str, left: set[str], size: int,
                   rng: random.Random) -> set[str]:
    """The target, up to two other left-out patients, and ``size`` patients in the target's way.

    A patient is in the way by the minutes their sessions hold, inside the target's hours,
    a staff member or room the target could use (the blockers), and by the group
    activities and the therapist they share with the target (the company a new group needs).
    """
    p = scenario.patient_by_id[target]
    prog = scenario.program
    acts = scenario.activity_by_id
    needs = [acts[r.activity_id] for r in p.requirements if r.activity_id in acts]
    staff = {st.id for st in scenario.staff for a in needs if a.skill in st.skills}
    if p.primary_therapist:
        staff.add(p.primary_therapist)
    kinds = {a.room_kind for a in needs}
    rooms = {r.id for r in scenario.rooms if r.kind in kinds}
    windows = {d: open_windows(p.availability, prog, d) for d in prog.days}
    family = {d: open_windows(p.family_availability, prog, d) for d in prog.days}
    wanted = {a.id for a in needs}
    # Sessions the therapist holds where the target's sessions with them could go, when no such
    # time is free (after the way was cleared, nobody else can lead them): a group moves only when
    # all its patients are free, so theirs come first (120 patients, seed 1: a family evening
    # blocked by the therapist's two evening groups was never placed in 90 s; with those groups'
    # 7 patients freed it was, in 3 s).
    blocked = _blocked(scenario, timetable, target)
    score: dict[str, float] = {}
    for s in timetable.sessions:
        if not (staff.intersection(s.staff_ids) or s.room_id in rooms):
            continue
        inside = sum(max(0, min(w.end, s.end) - max(w.start, s.start)) for w in windows[s.day] + family[s.day])
        if not inside:
            continue
        weight = inside / 60 + (2.0 if s.activity_id in wanted else 0.0)
        if p.primary_therapist in s.staff_ids and inside_any(blocked, s):
            weight += BLOCKER_WEIGHT
        for pid in s.patient_ids:
            score[pid] = score.get(pid, 0.0) + weight
    for q in scenario.patients:
        if q.id != target and q.cohort == p.cohort:
            shared = len(wanted & {r.activity_id for r in q.requirements})
            same = bool(p.primary_therapist) and q.primary_therapist == p.primary_therapist
            score[q.id] = score.get(q.id, 0.0) + shared + 3 * same
    score.pop(target, None)
    ranked = sorted(score, key=lambda pid: -score[pid] * (0.5 + rng.random()))
    others = sorted(left - {target})
    rng.shuffle(others)
    free = {target, *others[:2], *ranked[:size]}
    if blocked:
        holders = {pid for pid in score if score[pid] >= BLOCKER_WEIGHT}
        log.debug("neighbourhood of %s: %d of the %d patients in the therapist's way freed", target,
                  len(holders & free), len(holders))
    return free


def completed(model: IopModel, partial: dict, seconds: float, cancel, workers: int = 1) -> list[int] | None:
    """A full assignment of the model with the ``partial`` values fixed, found for feasibility alone
    (the objective set aside), or None: the solution's values in variable order."""
    trial = model.m.clone()
    for var, value in partial.items():
        fix(trial, var.index, value)
    trial.clear_objective()  # for feasibility; with the objective kept: no better (add_complete_hint)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    solver.parameters.num_workers = workers
    if solve_cancellable(solver, trial, cancel) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return list(solver.response_proto.solution)
    return None


def add_complete_hint(model: IopModel, partial: dict, seconds: float, cancel=None) -> list[int] | None:
    """Hint every variable: complete the partial hint by a quick solve with it fixed.

    A hint naming only the sessions leaves CP-SAT to rediscover the derived variables
    (days, blocks, facilitators), which it often fails to do; a full assignment is taken
    as a first solution at once. If the partial hint cannot be completed, it is given as is.
    """
    # Completed for feasibility: the derived variables (days, spans, balance, continuity) may
    # keep slack (a template of 40 patients, seed 1, scoring 181.5 became a hint worth 313.5).
    # Completing it with the objective kept made it worth 181.5 in the same 0.15 s, but moved
    # no result: 40 patients, seeds 0-2, 60 s, one run each: 137.5/168.5/161 without,
    # 137.5/169.5/172.5 with; improvement rounds (3 x 3 runs of 30 s) the same within noise.
    values = completed(model, partial, seconds, cancel)
    if values is not None:
        for i, value in enumerate(values):
            model.m.add_hint(model.m.get_int_var_from_proto_index(i), value)
        log.info("hint completed into a full assignment")
        return values
    for var, value in partial.items():
        model.m.add_hint(var, value)
    log.info("hint could not be completed; partial hint given")
    return None


def _submodel(scenario: Scenario, timetable: Timetable, free: set[str], stability: bool = False, leads: bool = False):
    """The freed patients' model around the rest of the timetable, with their current placement as a partial hint.

    Every session keeps its time, staff and room; a group session keeps its other patients and
    the freed ones may join it while it has seats (``Space.open_sessions``); sessions of freed
    patients only are dissolved (the model may run them again). With ``stability`` the freed
    patients' S3 is priced against last week (its unpinned sessions; the pinned ones are in
    the timetable already). With ``leads`` a kept unpinned non-process group may change who
    leads it (``_with_leads``). Returns (model, open sessions, partial hint).
    """
    cohort_of = {p.id: p.cohort.value for p in scenario.patients}
    open_sessions, dissolved, joined_before = [], [], {}
    # A freed patient's pinned sessions are kept exactly, as pins of the round's model: the
    # patient's other sessions move around them (``free`` holds every patient of such a session:
    # _with_pins). Until session 14 patients of pinned sessions were never freed, so those the
    # template left out stayed out (40 patients with 6 pins, a 20-s solve: 8 of the 9 left out
    # were such patients, and the fit ended after 2 rounds).
    pins = _pins_of(scenario, free)
    pinned_keys = {s.key() for s in pins}
    for s in timetable.sessions:
        if s.pinned and s.key() in pinned_keys:
            continue
        rest = tuple(pid for pid in s.patient_ids if pid not in free)
        if not rest and s.patient_ids:
            dissolved.append(s)
            continue
        cohorts = {cohort_of.get(pid) for pid in rest}
        cohort = next(iter(cohorts)) if len(cohorts) == 1 else None
        joined_before[len(open_sessions)] = [pid for pid in s.patient_ids if pid in free]
        open_sessions.append(OpenSession(replace(s, patient_ids=rest), len(rest), cohort))
    previous = None
    if stability and scenario.previous is not None:
        previous = replace(scenario.previous, sessions=tuple(s for s in scenario.previous.sessions if not s.pinned))
    if pins:
        previous = Timetable((() if previous is None else previous.sessions) + tuple(pins))
    prog = scenario.program
    if leads:
        open_sessions = _with_leads(scenario, open_sessions)
    # Staff and rooms are offered only outside the kept sessions they hold: the space then has
    # no candidate the kept week forbids (200 patients, seed 1, a round of 17 freed: 41k -> 26k variables, and of 9: 29k -> 18k).
    busy_staff: dict[str, list] = {}
    busy_room: dict[str, list] = {}
    for o in open_sessions:
        for sid in () if o.leads else o.session.staff_ids:
            busy_staff.setdefault(sid, []).append(o.session)
        if o.session.room_id:
            busy_room.setdefault(o.session.room_id, []).append(o.session)
    sub = replace(scenario, patients=tuple(p for p in scenario.patients if p.id in free), previous=previous,
                  staff=tuple(replace(st, availability=_outside(st.availability, busy_staff[st.id], prog))
                              if st.id in busy_staff else st for st in scenario.staff),
                  rooms=tuple(replace(r, availability=_outside(r.availability, busy_room[r.id], prog))
                              if r.id in busy_room else r for r in scenario.rooms))
    space = build_space(sub)
    # The pins were checked against the whole scenario before the solve; here they name patients
    # outside the round (kept as they are), which pin_problems would report as unknown.
    space.pin_problems = []
    space.open_sessions = open_sessions
    space.outside_therapists = frozenset(p.primary_therapist for p in scenario.patients
                                         if p.id not in free and p.primary_therapist)
    # (A pinned session's patients are in together or out together: IopModel in best effort.)
    model = IopModel(space, best_effort=True, day_patterns=False).build()
    partial = hints_from(model, Timetable(tuple(dissolved)))
    placed_before = {pid for s in timetable.sessions for pid in s.patient_ids if pid in free}
    for pid, lit in model.inc.items():
        if not isinstance(lit, int):
            partial[lit] = int(pid in placed_before)
    for index, joins in model.joins.items():
        for pid, lit in joins.items():
            partial[lit] = int(pid in joined_before.get(index, ()))
    for index, leads in model.leads.items():
        for sid, lit in leads.items():
            partial[lit] = int(sid in open_sessions[index].session.staff_ids)
    return model, open_sessions, partial


def _with_leads(scenario: Scenario, open_sessions: list[OpenSession]) -> list[OpenSession]:
    """The kept group sessions whose leaders a fit round may change, with the staff who could lead them.

    Unpinned, non-process groups: who leads them changes no patient's continuity (S2), and a
    round can then hand a group to a colleague to free the one therapist a freed patient needs
    at that time. Candidates hold the skill, are available for the whole session and hold no
    session that stays with its staff then. Used by the fit's rounds only: the first complete
    timetable from the same templates took 8.0/3.6 s (40 patients, seed 1), 2.2/13.1 s (seed 2),
    26.2/8.5 s (120, seed 1) with it and 19.5/2.0, 11.9/1.8, 26.6/30.3 s without (two fit seeds
    each); the improvement rounds did worse with it (40 patients, seeds 0-2, three 30-s runs
    each from one template: worse in 8 of 9, sum 1323 without, 1362 with; likely S4 over every
    therapist keeps a 3-s round from a proof, and the neighbourhoods shrink)."""
    acts = scenario.activity_by_id
    prog = scenario.program
    movable = [o.session.activity_id in acts and acts[o.session.activity_id].is_group and not o.session.pinned
               and acts[o.session.activity_id].skill != PROCESS_SKILL and bool(o.session.staff_ids)
               for o in open_sessions]
    busy: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for o, m in zip(open_sessions, movable):
        if not m:
            for sid in o.session.staff_ids:
                busy.setdefault((sid, o.session.day), []).append((o.session.start, o.session.end))
    out = []
    for o, m in zip(open_sessions, movable):
        if m:
            s = o.session
            a = acts[s.activity_id]
            leads = tuple(st.id for st in scenario.staff if st.id in s.staff_ids or can_lead(st, a, s, busy, prog))
            if len(leads) > len(s.staff_ids):
                o = replace(o, leads=leads)
        out.append(o)
    return out


def _outside(availability: Availability, sessions, prog) -> Availability:
    """The availability without the times of these sessions (nothing left: no time at all)."""
    windows = []
    for d in prog.days:
        taken = sorted((s.start, s.end) for s in sessions if s.day == d)
        for w in open_windows(availability, prog, d):
            start = w.start
            for b, e in taken:
                if e <= start or b >= w.end:
                    continue
                if b > start:
                    windows.append(Window(d, start, b))
                start = max(start, e)
            if start < w.end:
                windows.append(Window(d, start, w.end))
    # No windows would mean "whenever the program is open": a window on no program day instead.
    return Availability(tuple(windows) or (Window(-1, 0, 0),))


def _merged(model: IopModel, open_sessions, value) -> Timetable:
    """The open sessions with the patients who joined them, and the model's own sessions."""
    sessions = []
    for index, o in enumerate(open_sessions):
        joins = model.joins.get(index, {})
        extra = tuple(pid for pid, lit in joins.items() if value(lit))
        session = replace(o.session, patient_ids=o.session.patient_ids + extra)
        if index in model.leads:
            session = replace(session, staff_ids=tuple(sid for sid, lit in model.leads[index].items() if value(lit)))
        sessions.append(session)
    sessions.extend(extract(model, value).sessions)
    return Timetable(tuple(sessions)).numbered(model.prog.first_day)


def _round(scenario: Scenario, timetable: Timetable, free: set[str], seconds: float, cancel, seed: int):
    """Re-solve the freed patients around the rest of the timetable: (merged timetable, placed) or None."""
    if seconds < 0.3:
        return None
    model, open_sessions, partial = _submodel(scenario, timetable, free, leads=True)
    # Only how many are in counts here (the search afterwards sees the soft goals): a round
    # ends as soon as every freed patient is in.
    model.m.clear_objective()
    model.m.maximize(sum(lit for lit in model.inc.values() if not isinstance(lit, int)))
    # The current placement of the freed patients, completed into a full assignment (the
    # derived variables by a quick solve with it fixed): the search starts from a solution.
    # Every other round gives the partial hint only: a complete hint keeps the search near the
    # current week, which is what a large clinic needs (measured: 120 patients, 5 left out
    # -> 0), while a small clinic sometimes needs a different week (12 patients: 2 -> 0).
    values = completed(model, partial, min(1.0, seconds / 4), cancel) if seed % 2 else None
    if values is not None:
        for i, value in enumerate(values):
            model.m.add_hint(model.m.get_int_var_from_proto_index(i), value)
    else:
        for var, value in partial.items():
            model.m.add_hint(var, value)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = seed
    # Measured on a 120-patient clinic's round: presolve 2.5 s -> 1.2 s, same patients placed;
    # a 12-patient clinic's whole-clinic round needs them (2 left out -> 0 only with).
    if len(model.m.proto.variables) > 20_000:
        solver.parameters.cp_model_probing_level = 0
        solver.parameters.symmetry_level = 0
    code = solve_cancellable(solver, model.m, cancel)
    log.debug("round model: %d variables, %s in %.2fs (hint %s)", len(model.m.proto.variables),
              solver.status_name(code), solver.wall_time, "completed" if values is not None else "partial")
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    placed = {pid for pid, lit in model.inc.items() if isinstance(lit, int) or solver.value(lit)}
    return _merged(model, open_sessions, solver.value), placed


IMPROVE_SIZE = 6  # patients freed by the first improvement round; then adapted (see improve())
IMPROVE_SECONDS = 3.0  # per round (measured, 20-40 patients, 30 s from the template: 2 s 631, 3 s 612, 4 s 616)
MERGE_MOST = 8  # patients in the two sessions together, at most
TARGET_EXCESS = 0.5  # share of company rounds around a patient whose days cost more than their cheapest


def improve(scenario: Scenario, timetable: Timetable, deadline: float, cancel: threading.Event | None = None,
            seed: int = 0, on_better=None, floor=None) -> Timetable:
    """Lower the objective of a complete timetable by neighbourhood rounds until ``deadline``.

    Rounds alternate two neighbourhoods: the patients of two small sessions of one group
    activity and cohort (``_two_groups``), and a patient with the patients who share the most
    sessions (then the therapist) with them (``_company``); either way whole groups can
    dissolve and run again elsewhere. The freed patients are re-solved around the rest (the
    fit's model, ``_submodel``), minimising their soft goals from their current placement. A round is kept only when the whole timetable's
    objective (``scheduler.validate.objective``) is lower and it passes ``validate``;
    ``on_better(timetable, objective)`` hears of each such round. ``floor()``, a proven lower bound
    of the objective (or None), ends the rounds once the timetable reaches it: it is optimal (an
    outside check's 7-day clinic reached its bound after one round and went on for 17 s).

    From ``PARALLEL_FROM`` patients two rounds run at once, on disjoint patients, one core each
    (``_paired``): their changes are kept together when the two weeks combine into one that keeps
    every rule and is better than either, else the better one alone.
    """
    rng = random.Random(seed)
    movable = [p.id for p in scenario.patients]
    if len(movable) < 2:
        return timetable
    cost = objective(scenario, timetable)
    rounds = kept = 0
    size = IMPROVE_SIZE
    cheapest = _cheapest_days(scenario)  # per patient, fixed for the week
    # A clinic this small is re-solved whole every round: patients of different cohorts share no
    # company, so a 2-patient clinic's rounds each freed one patient and never reached its optimum.
    everyone = len(movable) <= IMPROVE_SIZE
    paired = len(movable) >= PARALLEL_FROM

    def pick(taken: set[str]) -> set[str]:
        """The next round's patients (with their pinned sessions' company), none of ``taken``."""
        for _ in range(PICK_TRIES if taken else 1):
            if everyone:
                free = set(movable)
            elif rounds % 2:
                free = _two_groups(scenario, timetable, rng, max(size, MERGE_MOST))
            else:
                target = _target(movable, _day_excess(scenario, timetable, cheapest), rng)
                free = _company(scenario, timetable, target, size, rng)
            free = _with_pins(scenario, free) if free else free
            if free and not free & taken:
                return free
        return set()

    while time.monotonic() < deadline - 0.5 and not (cancel is not None and cancel.is_set()):
        proven = floor() if floor is not None else None
        if proven is not None and cost <= proven + 1e-9:
            log.info("improve: the objective %.2f is the proven bound; no more rounds", cost)
            break
        rounds += 1
        free = pick(set())
        if not free:
            continue
        seconds = min(IMPROVE_SECONDS, deadline - time.monotonic())
        if paired:
            rounds += 1
            other = pick(free)
            frees = [free, other] if other else [free]
            outcomes = _paired(scenario, timetable, frees, seconds, cancel, seed + rounds)
            for _merged_timetable, optimal in outcomes:
                size = _next_size(size, optimal)
            merged = _best_of(scenario, timetable, cost, frees, [m for m, _ in outcomes])
            if merged is None:
                continue
            after = objective(scenario, merged)
        else:
            try:
                merged, optimal = _improve_round(scenario, timetable, free, seconds, cancel, seed + rounds)
            except Exception:  # a round is an attempt; the timetable in hand stays
                log.exception("improvement round failed")
                merged, optimal = None, False
            if everyone and optimal and (merged is None or objective(scenario, merged) >= cost - 1e-9):
                log.info("improve: the whole clinic re-solved to optimality: no better timetable")
                break
            size = _next_size(size, optimal)
            if merged is None:
                continue
            after = objective(scenario, merged)
            if not (after < cost - 1e-9 and validate(scenario, merged) == []):
                continue
        log.debug("improvement round %d: %d free, objective %.2f -> %.2f", rounds, len(free), cost, after)
        timetable, cost, kept = merged, after, kept + 1
        if on_better is not None:
            on_better(timetable, cost)
    log.info("improve: %d rounds, %d kept, objective %.2f", rounds, kept, cost)
    return timetable


def _next_size(size: int, optimal: bool) -> int:
    """A neighbourhood solved to optimality in time: look wider; else narrower."""
    return min(size + 1, 16) if optimal else max(3, size - 1)


# Patients from which improvement rounds run two at a time (``_paired``). Each round of a pair runs on one
# core with CP-SAT's neighbourhood searches only (``interleave_search``, ``use_lns_only``): a round's
# presolve is single-threaded (1.6 s of its 3 s at 120 patients), and its improvements all came from the
# LNS workers. Six rounds of a 120-patient timetable (120/1), objective of the freed patients (thousands):
# two at a time with one core each, 11.3 s, 123 / 87 / 213 / 189 / 177 / 93; one at a time on both
# cores, 20.6 s, 117 / 93 / 201 / 189 / 201 / 93; one core without ``use_lns_only`` was far worse (159 /
# 99 / 213 / 195 / 453 / 99). Such rounds never prove their neighbourhood optimal, so the neighbourhoods
# stay small; at 120 patients the 2-worker rounds were never proven either (0 of 10 in 30 s), at 40 one in
# three. Whole solves at the limits, one run each, one at a time -> paired (docs/benchmarks.md,
# session 20): 120 patients 450.5 / 386.5 / 460 -> 410.5 / 394.5 / 411 (from 60 patients); 40 patients
# 120.5 / 154.5 / 133.5 -> 120.5 / 141.5 / 132 (from 30).
PARALLEL_FROM = 30
PICK_TRIES = 5  # draws for the pair's second neighbourhood, disjoint from the first


def _paired(scenario: Scenario, timetable: Timetable, frees: list[set[str]], seconds: float, cancel,
            seed: int) -> list[tuple[Timetable | None, bool]]:
    """``_improve_round`` for each of these disjoint sets of patients at once, on threads (CP-SAT releases the
    interpreter), one core each when there are two."""
    workers = 1 if len(frees) > 1 else 2

    def one(i: int) -> tuple[Timetable | None, bool]:
        try:
            return _improve_round(scenario, timetable, frees[i], seconds, cancel, seed + i, workers)
        except Exception:  # a round is an attempt; the timetable in hand stays
            log.exception("improvement round failed")
            return None, False

    if len(frees) == 1:
        return [one(0)]
    with ThreadPoolExecutor(len(frees), thread_name_prefix="improve") as pool:
        return list(pool.map(one, range(len(frees))))


def _best_of(scenario: Scenario, timetable: Timetable, cost: float, frees: list[set[str]],
             merged: list[Timetable | None]) -> Timetable | None:
    """Of a pair of rounds' weeks, the best that keeps every rule and lowers ``cost``: both rounds' changes
    together (``_combined``) when each lowered it alone, else the better single one; None if neither."""
    better = [(objective(scenario, m), i) for i, m in enumerate(merged) if m is not None]
    better = sorted((after, i) for after, i in better if after < cost - 1e-9)
    if len(better) == 2:
        both = _combined(timetable, [(frees[i], merged[i]) for i in range(2)], scenario.program.first_day)
        after = objective(scenario, both)
        if after < better[0][0] - 1e-9 and validate(scenario, both) == []:
            return both
    for _after, i in better:
        if validate(scenario, merged[i]) == []:
            return merged[i]
    return None


def _combined(timetable: Timetable, parts: list[tuple[set[str], Timetable]], first_day: int) -> Timetable:
    """The rounds' changes on disjoint patients applied together to the ``timetable`` they started from: each
    session without the freed patients, then each round's freed patients where that round put them (a
    session at the same place and time, or a new one). Checked by the caller: two rounds may have taken the
    same free room or colleague, or one dissolved a group the other joined."""
    freed = set().union(*(free for free, _ in parts))

    def where(s: Session) -> tuple:
        return s.activity_id, s.day, s.start, s.room_id, s.staff_ids

    sessions: dict[tuple, Session] = {}
    for s in timetable.sessions:
        rest = tuple(pid for pid in s.patient_ids if pid not in freed)
        if rest or not s.patient_ids:
            sessions[where(s)] = replace(s, patient_ids=rest)
    for free, week in parts:
        for s in week.sessions:
            mine = tuple(pid for pid in s.patient_ids if pid in free)
            if not mine:
                continue
            key = where(s)
            kept = sessions.get(key)
            sessions[key] = replace(s, patient_ids=mine) if kept is None else replace(kept, patient_ids=kept.patient_ids + mine)
    return Timetable(tuple(sessions.values())).numbered(first_day)


def _cheapest_days(scenario: Scenario) -> dict[str, float]:
    """Per patient, the least S1 + S6 any of their day patterns costs (days limits, available days)."""
    prog = scenario.program
    out = {}
    for p in scenario.patients:
        lim = p.limits(prog)
        possible = [d for d in prog.days if open_windows(p.availability, prog, d)]
        out[p.id] = min((_days_cost(prog, p, pattern) for pattern in day_patterns(possible, lim.min_days, lim.max_days, ())),
                        default=0.0)
    return out


def _days_cost(prog, patient, days) -> float:
    outside, adjacent = pattern_counts(days, patient.preferred_days, prog)
    return prog.weights.of("preferences") * outside + prog.weights.of("spread") * adjacent


def _day_excess(scenario: Scenario, timetable: Timetable, cheapest: dict[str, float] | None = None) -> dict[str, float]:
    """Per patient, what their attended days cost in S1 + S6 above their cheapest days (``_cheapest_days``),
    plus their own continuity cost (``_continuity_excess``): what a round around them might save."""
    if cheapest is None:
        cheapest = _cheapest_days(scenario)
    acts = scenario.activity_by_id
    days: dict[str, set[int]] = {}
    for s in timetable.sessions:
        a = acts.get(s.activity_id)
        if a is not None and a.in_block:
            for pid in s.patient_ids:
                days.setdefault(pid, set()).add(s.day)
    excess = {p.id: max(0.0, _days_cost(scenario.program, p, frozenset(days[p.id])) - cheapest.get(p.id, 0.0))
              for p in scenario.patients if days.get(p.id)}
    for pid, extra in _continuity_excess(scenario, timetable).items():
        excess[pid] = excess.get(pid, 0.0) + extra
    return excess


def _continuity_excess(scenario: Scenario, timetable: Timetable) -> dict[str, float]:
    """Per patient, what their own continuity costs (S2, weighted), as ``scheduler.validate`` counts it."""
    weight = scenario.program.weights.of("continuity")
    if not weight:
        return {}
    return {pid: weight * extra for pid, extra in continuity_by_patient(scenario, timetable).items()}


def _target(movable: list[str], excess: dict[str, float], rng: random.Random) -> str:
    """A patient to free with their company: with probability ``TARGET_EXCESS`` one whose days cost more than
    their cheapest (``_day_excess``, chosen in proportion to it), else anyone."""
    weights = [excess.get(pid, 0.0) for pid in movable]
    if TARGET_EXCESS and sum(weights) > 0 and rng.random() < TARGET_EXCESS:
        return rng.choices(movable, weights=weights)[0]
    return movable[rng.randrange(len(movable))]


def _company(scenario: Scenario, timetable: Timetable, target: str, size: int, rng: random.Random) -> set[str]:
    """The target and ``size`` patients who share the most sessions with them (then the therapist, the cohort)."""
    score: dict[str, float] = {}
    for s in timetable.sessions:
        if target in s.patient_ids:
            for pid in s.patient_ids:
                score[pid] = score.get(pid, 0.0) + 1.0
    p = scenario.patient_by_id[target]
    for q in scenario.patients:
        if q.cohort == p.cohort:
            same = bool(p.primary_therapist) and q.primary_therapist == p.primary_therapist
            score[q.id] = score.get(q.id, 0.0) + 0.5 + 2.0 * same
    score.pop(target, None)
    ranked = sorted(score, key=lambda pid: -score[pid] * (0.5 + rng.random()))
    return {target, *ranked[:size]}


def _two_groups(scenario: Scenario, timetable: Timetable, rng: random.Random, most: int) -> set[str]:
    """The patients of a small group session and of another session of the same activity and cohort.

    Freeing both lets the round run one group where two ran (S5), which freeing patients
    by their company rarely does: a group dissolves only when all its patients are free."""
    acts = scenario.activity_by_id
    cohort_of = {p.id: p.cohort for p in scenario.patients}
    groups = [s for s in timetable.sessions
              if s.patient_ids and not s.pinned and s.activity_id in acts and acts[s.activity_id].is_group]
    if len(groups) < 2:
        return set()
    # Smaller sessions first (a random one of the smaller half).
    groups.sort(key=lambda s: (len(s.patient_ids), rng.random()))
    first = groups[rng.randrange(max(1, len(groups) // 2))]
    cohort = cohort_of.get(first.patient_ids[0])
    twins = [s for s in groups if s is not first and s.activity_id == first.activity_id
             and cohort_of.get(s.patient_ids[0]) == cohort and len(s.patient_ids) + len(first.patient_ids) <= most]
    if not twins:
        return set()
    second = min(twins, key=lambda s: (len(s.patient_ids), rng.random()))
    return set(first.patient_ids) | set(second.patient_ids)


def _improve_round(scenario: Scenario, timetable: Timetable, free: set[str], seconds: float, cancel,
                   seed: int, workers: int = 2) -> tuple[Timetable | None, bool]:
    """The freed patients re-solved for their soft goals, every one of them kept in: (merged timetable or None,
    proven optimal). On one worker, CP-SAT's neighbourhood searches only (``PARALLEL_FROM``)."""
    if seconds < 0.5:
        return None, False
    began = time.monotonic()
    model, open_sessions, partial = _submodel(scenario, timetable, free, stability=True)
    for lit in model.inc.values():
        if not isinstance(lit, int):
            model.m.add(lit == 1)
    values = completed(model, partial, min(1.0, seconds / 3), cancel)
    if values is None:
        return None, False
    for i, value in enumerate(values):
        model.m.add_hint(model.m.get_int_var_from_proto_index(i), value)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.2, seconds - (time.monotonic() - began))
    solver.parameters.num_workers = workers
    if workers == 1:
        solver.parameters.interleave_search = True
        solver.parameters.use_lns_only = True
    solver.parameters.random_seed = seed
    code = solve_cancellable(solver, model.m, cancel)
    log.debug("improvement model: %d variables, %s in %.2fs", len(model.m.proto.variables),
              solver.status_name(code), solver.wall_time)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False
    return _merged(model, open_sessions, solver.value), code == cp_model.OPTIMAL

"""Composition root: checks -> space -> CP-SAT model -> warm start -> search -> SolveResult.

The search always runs the model with one inclusion literal per patient and a
lexicographic objective (every patient scheduled first, then the soft goals). The
greedy template's partial timetable is a solution of that model from the first second,
so the search starts from a timetable and repairs towards one that holds everyone. In
the default (strict) mode only a timetable holding every patient is returned; in
best-effort mode the patients left out form the waitlist. The bound reported is valid
for the full problem: while it is below the inclusion weight, it is a lower bound of the
soft-goal objective over timetables holding everyone.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable

from ortools.sat.python import cp_model

from scheduler.model import SOFT_GOALS, Scenario, Timetable
from solver.bound import relaxation_bound
from solver.builder import MINUTES_PER_HOUR, OBJECTIVE_SCALE, IopModel, model_size
from solver.extract import extract, hints_from
from scheduler.validate import objective as timetable_objective, soft_terms, validate
from solver.explain import ALONE_FIRST, alone_explanation, core_explanation
from solver.explain_checks import precheck
from solver.fit import add_complete_hint, completed, fit, improve
from solver.grid import GRID_MAX_SIZE, GRID_SHARE, grid_search, grid_space
from solver.greedy import GreedyResult, _when, greedy_timetable, scenario_without
from solver.polish import polish_staff
from solver.previous import from_previous, valid_part
from solver.repair import AnyOf, repair, solve_cancellable
from solver.result import Progress, SolveParams, SolveResult, SolveStatus, Term, WaitlistEntry
from solver.space import build_space

log = logging.getLogger("solver")

# Above this estimated size (solver.builder.model_size) the CP-SAT model would need many
# GiB and minutes to build (measured: ~16M literals, 15 GiB, 156 s at 500 patients);
# such clinics get the template, the neighbourhood fit, improvement rounds and the polish, without the
# whole-week model.
MAX_MODEL_SIZE = 1_000_000
# The whole-week model is also skipped when the time limit is too short for it to pay:
# measured on 2 cores, its build and presolve take ~15 s at 42k (40 patients), ~45 s at
# 375k (120 patients), and the fit does better in that time. Size allowed per second of limit.
MODEL_SIZE_PER_SECOND = 2_000
# Share of the time limit, at its end, for the neighbourhood improvement rounds (solver/fit.py)
# once a complete timetable is in hand: the whole-week search stops then (a proven optimum
# ends it before). Measured on 2 cores,
# 60 s, seeds 0-2, objective per run (mean per seed):
#   no rounds -> last 30% (one run each): median 160.5 -> 148.5;
#   30% -> 70% (two runs each): 40 patients 139.3/169/171.5 -> 132.8/161.3/147.8 (better in
#   6 of 6 pairs); 20 patients (one run) 84/59.5/80.5 -> 78/49.5/88.5; 90% at 40: 127/151/155.5.
#   At 40 patients the whole-week search rarely beats the template (seed 1: 183.5 against
#   181.5 after 22 s) while the rounds lower it about a point a round. Tried: 70% only while
#   the search had not improved on the template, else 30%: 40 patients 127.5/167.5/154, 20
#   patients 83/59.5/none: the search's small early gains do not earn it the time.
#   70% -> 90% (session 10, the first timetable at 1.5-5 s, one run each): 40 patients
#   128.5/164.5/162.5 -> 124/149.5/133.5 (session 8's two runs each, means: 132.8/161.3/147.8 ->
#   127/151/155.5): better in 5 of 6 pairs.
IMPROVE_TAIL = 0.9
# The day-level relaxation (solver/bound.py) is proven first without staff; when that took at
# most STAFF_BOUND_AFTER of its time, the relaxation with the staff's hours gets at most
# STAFF_BOUND_SHARE of it (at least a second): a 6-patient example 20 -> 21 in 0.6 s; 20 and
# 40 patients (generated): no higher (and not proven within 10 s at 40).
STAFF_BOUND_AFTER = 0.1
STAFF_BOUND_SHARE = 0.1
# The relaxation begins once the template and the fit are done, not beside them: its model is
# built in Python (the template's interpreter lock) and its search takes one of the two cores
# that the fit's rounds use. It runs until BOUND_UNTIL of the limit, and at least BOUND_MIN of
# it after it begins (a long fit at 120-300 patients): its bound is near its optimum within
# seconds (300 patients, seed 0: 743 after 10 s and proven at 22 s; 500: 1213 after 10 s, 1215
# after 30 s). Measured at 40 patients, 60 s, three fit seeds each: first complete timetable
# 1.9/1.9/1.9, 6.3/4.2/4.4, 8.9/8.4/8.2 s beside the relaxation -> 1.6/1.6/1.7, 4.5/3.8/4.2,
# 5.6/5.1/8.2 s after it.
BOUND_UNTIL = 0.5
BOUND_MIN = 0.15
# Large clinics (no whole-week model): the neighbourhood fit places the template's left-out
# patients until FIT_UNTIL of the limit; in strict mode, where a timetable without everyone is
# no answer at all, it goes on until FIT_LAST (the polish, the rounds and the bound then get
# what is left, maybe nothing). 300 patients, seed 1, 120 s: the fit placed its last patient at
# 83.7-85.3 s in two runs and not within its 102 s in two others (session 12's benchmark).
FIT_UNTIL = 0.85
FIT_LAST = 0.97
# Share of the time limit for the template's squeaky-wheel re-fills (its first orders always
# run whole); after TEMPLATE_EARLY_SHARE they stop as soon as at most TEMPLATE_FEW patients
# are left out, in clinics of more than TEMPLATE_EARLY_FROM patients. The neighbourhood fit
# places a few left-out patients faster than more re-fills do there (measured, 120 patients
# at 120 s: first timetable 31.3 s -> 20.2 s; a fill takes 1.4 s), but not many (20
# patients, seed 1: 7 left out after 5% of 30 s, the fit placed none of them), and not
# always one that quick re-fills place (40 patients, seed 0, 60 s: a fill takes 0.5 s;
# stopped early with 1 left out, the fit and the search placed nobody more in 57 s, where
# the re-fills alone place everyone in 2.1 s). At 80 patients, 60 s, the early stop served:
# 3/3 complete with it (two runs), 2/3 without (seed 1: none) - hence the threshold between.
TEMPLATE_SHARE = 0.15
TEMPLATE_EARLY_SHARE = 0.05
TEMPLATE_FEW = 3
TEMPLATE_EARLY_FROM = 60
# Large clinics (no whole-week model): share of the time from the first timetable to 85% of the
# limit that the facilitator polish gets before the improvement rounds (the polish runs again at
# the end). Measured, 120 s, one run each, objective at 0.5 / 0.2 / 0.1 / 0.0: 120 patients seed 0
# 518.5 / 484 / 470.5 / 469.5, seed 1 446 / 387.5 / 436.5 / 437.5; 300 patients seed 0 1330 /
# 1286.5, seed 1 1657.5 / 1588.5 (0.5 and 0.2 only). The rounds lower S1, S5 and S6 that the
# polish cannot touch (120 patients, seed 0, at 0.5: the polish 729.5 -> 628.5 in 45 s, then
# 21 rounds, 16 kept, 628.5 -> 543 in 45 s); some polish first is kept for the largest clinics,
# where continuity is most of the objective.
POLISH_FIRST_SHARE = 0.2
# The polish's reserve after a grid search (small clinics): it took 0.04-0.1 s at 40 patients, where the
# usual reserve (5% of the limit) left ~2.9 s of a 60-s solve unused.
GRID_POLISH_SECONDS = 1.0
TEMPLATE_END_SHARE = 0.05  # at most, of the limit (``_template_end_reserve``)
TEMPLATE_END_SECONDS = 1.5  # at least, below that share
LAST_ROUNDS_MIN = 3.0  # seconds left after the last polish that are worth another improvement rounds


_FALLBACK = "Timetable from the constructive heuristic; the optimiser found no better one in time."
_ROUNDS_ONLY = ("Timetable from the template, the neighbourhood fit, improvement rounds and the polish (complete "
                "only after the whole-week search's share of the time limit); the bound is the day-level relaxation's.")


class _ProgressRelay(cp_model.CpSolverSolutionCallback):
    """Per improving solution: (objective, bound, seconds) of the soft goals, handed on."""

    def __init__(self, scenario: Scenario, on_progress, start: float, report_partial: bool, kept: _Kept | None = None):
        super().__init__()
        self.scenario = scenario
        self.kept = kept
        self.model: IopModel | None = None  # attach() before the search calls back
        self.incs: list = []
        self.on_progress = on_progress
        self.start = start
        self.report_partial = report_partial
        self.history: list[Progress] = []
        self.first_complete: float | None = None
        self.floor = 0.0  # a bound proven elsewhere (solver/bound.py) for complete timetables
        self._best: tuple[int, float] | None = None  # (patients left out, objective) of the best reported

    def attach(self, model: IopModel) -> None:
        """The whole-week model whose solutions the search will report."""
        self.model = model
        self.incs = [v for v in model.inc.values() if not isinstance(v, int)]

    def on_solution_callback(self) -> None:
        left_out = sum(1 - self.value(v) for v in self.incs)
        weight = self.model.inclusion_weight
        seconds = time.monotonic() - self.start
        if left_out and not self.report_partial:
            return
        if not left_out and self.first_complete is None:
            self.first_complete = seconds
            if self.kept is not None and self.kept.first is None:
                self.kept.first = seconds  # the search's own complete timetable (none is kept: no sessions)
        raw_bound = self.best_objective_bound
        bound = raw_bound / OBJECTIVE_SCALE if raw_bound < weight else None
        if bound is not None and not left_out:
            bound = max(bound, self.floor)
        objective = (self.objective_value - weight * left_out) / OBJECTIVE_SCALE
        self._emit(Progress(objective=objective, bound=objective if bound is None else min(objective, max(0.0, bound)),
                            seconds=seconds, unplaced=left_out), left_out)

    def announce(self, timetable: Timetable, complete: bool) -> None:
        """A timetable found outside the search (the template, the repair, a round, the polish): it is progress too."""
        if not complete and not self.report_partial:
            return
        seconds = time.monotonic() - self.start
        if complete and self.first_complete is None:
            self.first_complete = seconds
        objective = sum(t.cost for t in _score_timetable(self.scenario, timetable))
        if complete and self.kept is not None:
            self.kept.note(timetable, objective, seconds)
        placed = {pid for s in timetable.sessions for pid in s.patient_ids}
        left_out = 0 if complete else sum(1 for p in self.scenario.patients if p.id not in placed)
        self._emit(Progress(objective=objective, bound=min(objective, self.floor if complete else 0.0), seconds=seconds,
                            timetable=timetable, unplaced=left_out), left_out)

    def _emit(self, seen: Progress, left_out: int) -> None:
        """Report improvements only: a timetable that places more patients, or as many at a lower
        objective, or a tighter bound (then with the best objective so far). The search's first
        solution can score worse than a polished template announced before it."""
        rank = (left_out, seen.objective)
        if self._best is not None and rank >= self._best:
            last = self.history[-1]
            if seen.bound <= last.bound + 1e-9:
                return
            seen = replace(seen, objective=last.objective, bound=min(last.objective, seen.bound), timetable=None,
                           unplaced=last.unplaced)
        else:
            if self._best is not None and self._best[0] == left_out == 0:
                # A bound proven earlier still holds (complete timetables): never report a looser one.
                seen = replace(seen, bound=min(seen.objective, max(seen.bound, self.history[-1].bound)))
            self._best = rank
        self.history.append(replace(seen, timetable=None))  # numbers only
        if self.on_progress is not None:
            try:
                self.on_progress(seen)
            except Exception:  # a listener's bug must not stop the search
                log.exception("progress listener failed")


@dataclass
class _Warm:
    """What the warm start gave: a complete greedy timetable (fallback) and who it left out."""

    complete: Timetable | None
    unplaced: dict[str, str]
    values: list[int] | None = None


def solve(
    scenario: Scenario,
    params: SolveParams,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> SolveResult:
    """Build and solve the model; every outcome comes back as a SolveResult, never an exception.

    With a ``cancel`` event the work runs on a helper thread, so a cancel is answered
    within a second even while an uninterruptible step (the greedy template, presolve)
    is running: the best timetable found so far is returned, or none yet.
    """
    began = time.monotonic()
    reserve = _answer_reserve(scenario, params)
    checkpoint = began + params.time_limit - reserve if reserve > 0 else None
    result = _solve_answered(scenario, params, on_progress, cancel, checkpoint)
    if params.best_effort and result.timetable is None and result.status == SolveStatus.UNKNOWN:
        result = _partial_result(scenario, GreedyResult(Timetable(()), tuple((p.id, _NOBODY) for p in scenario.patients)),
                                 result.seconds, False)
    result = _undecided_explained(scenario, params, result, began + params.time_limit - time.monotonic())
    result = _with_reasons(scenario, result, began + params.time_limit - time.monotonic())
    return _checked(scenario, _with_dropped_pins(scenario, result))


def _answer_reserve(scenario: Scenario, params: SolveParams) -> float:
    """Seconds kept at the end of the time limit for proving why there is no timetable (strict) or why
    patients wait (best effort), used only when no complete timetable is in hand by then (clinics of up
    to ``ALONE_AFTER_MOST`` patients). Until session 17 these ran after the limit: an outside check's
    25-patient clinic took 36 s of a 30-s limit, 13 s of 10."""
    n = len(scenario.patients)
    if n > ALONE_AFTER_MOST:
        return 0.0
    limit = params.time_limit
    if params.best_effort:  # a patient's check alone takes about a second
        return min(5.0, max(2.0, ALONE_REASON_SHARE * limit), 0.25 * limit)
    if n <= ALONE_FIRST:  # the whole explanation needs ~3 s (a 5-patient clinic: "?" in 2 s, proven in 3 s)
        return min(15.0, max(3.0, 0.5 * limit), 0.8 * limit)
    return min(10.0, max(3.0, ALONE_AFTER_UNKNOWN * limit), 0.5 * limit)


ALONE_AFTER_MOST = 60  # patients: above, the few checks that fit in 10 s are unlikely to meet the one without a week
ALONE_AFTER_UNKNOWN = 0.25  # of the time limit (3-10 s), for a proof of no week after an undecided solve (small clinics: half, 5-15 s)


def _undecided_explained(scenario: Scenario, params: SolveParams, result: SolveResult, seconds: float) -> SolveResult:
    """An undecided strict solve (``unknown``, no timetable) made ``infeasible`` with the reason when a
    proof is found in a short extra time: in a small clinic (``ALONE_FIRST`` patients) the whole
    explanation (``core_explanation``), else (up to ``ALONE_AFTER_MOST``) a patient who has no week
    even alone (``alone_explanation``), in the ``seconds`` left of the time limit (the solve stopped
    early for them, ``_answer_reserve``); they count in the result's seconds. Any set of rules either
    one reports is itself proven infeasible.

    Outside checks' 5-patient clinics ended ``unknown`` at 15-20 s: one where a patient's days, hours
    and DBT count exclude any week for her (the check of each patient alone proves that in about a
    second), one where a patient must come all five days and no other adult can (a proof with
    presolve in 1 s)."""
    if (result.status != SolveStatus.UNKNOWN or result.timetable is not None or params.best_effort
            or len(scenario.patients) > ALONE_AFTER_MOST or seconds < 1.0):
        return result
    began = time.monotonic()
    small = len(scenario.patients) <= ALONE_FIRST
    try:
        if small:
            findings = core_explanation(scenario, seconds, after_search=True)
        else:
            findings = alone_explanation(scenario, seconds)
    except Exception:  # an aid to the answer; "unknown" stands
        log.exception("the explanation after an undecided solve failed")
        findings = []
    if not findings or findings[0].rule == "?":
        return replace(result, seconds=result.seconds + time.monotonic() - began)
    return SolveResult(
        SolveStatus.INFEASIBLE,
        seconds=result.seconds + time.monotonic() - began,
        message="No timetable satisfies every rule.",
        explanations=tuple(f.message for f in findings),
    )


ALONE_REASONS = 5  # waitlisted patients checked alone, at most (best effort)
ALONE_REASON_SHARE = 0.1  # of the time limit (at most 5 s) for those checks together


def _with_reasons(scenario: Scenario, result: SolveResult, seconds: float = 0.0) -> SolveResult:
    """The result, each waitlisted patient's reason the pre-solve finding that bears on them where there
    is one (``_finding_reason``): the scarce resource rather than the group the template last tried;
    else, for the first few, that they have no week even on their own, with their rules in conflict
    (``_alone_reason``), where that is so (clinics of up to ``ALONE_AFTER_MOST`` patients), in the
    ``seconds`` left of the time limit (at most 5). The checks' time counts in the result's seconds."""
    if not result.waitlist:
        return result
    began = time.monotonic()
    findings = _precheck(scenario)
    entries = []
    until = time.monotonic() + min(5.0, seconds)
    alone_checks = len(scenario.patients) <= ALONE_AFTER_MOST
    checked = 0
    for entry in result.waitlist:
        better = _finding_reason(scenario, entry.patient_id, findings) if findings else None
        pinned = entry.reason.startswith("shares a pinned")
        if (better is None and not pinned and alone_checks and checked < ALONE_REASONS
                and time.monotonic() < until - 0.5):
            checked += 1
            better = _alone_reason(scenario, entry.patient_id, until - time.monotonic())
        if pinned:
            entries.append(entry)
        elif better is not None:
            entries.append(replace(entry, reason=better))
        else:  # the template's or the search's last try for them: no proof that they cannot fit
            entries.append(replace(entry, reason=_tentative(entry.reason)))
    return replace(result, waitlist=tuple(entries), seconds=result.seconds + time.monotonic() - began)


TENTATIVE = "; no place was found for them within the time limit, and a longer solve may find one"


def _tentative(reason: str) -> str:
    """A reason from an attempt (the template's "would have 3.5 hours in the week", ...) said as one:
    an outside check's best effort gave that reason for a patient whom other runs placed (session 18)."""
    if "within the time limit" in reason:
        return reason
    return reason.rstrip(".") + TENTATIVE


def _alone_reason(scenario: Scenario, pid: str, seconds: float) -> str | None:
    """"no week even on their own: <their rules in conflict>", or None (a week exists, or no proof in time).

    An outside check's best-effort solve waitlisted a patient "no Process group with room for them next
    to their Fri block", where her days, hours and DBT count admit no week at all."""
    try:
        findings = alone_explanation(scenario, seconds, only={pid})
    except Exception:  # a better reason only
        log.exception("the patient-alone check failed")
        return None
    rules = [f.message.rstrip(".") for f in findings[1:]]
    if not rules:
        return None
    rules = [r[0].lower() + r[1:] for r in rules]
    return "has no week even on their own, with every group open to them: " + "; ".join(rules)


def _finding_reason(scenario: Scenario, pid: str, findings) -> str | None:
    """A finding that names the patient; else one that names a shortage (no patient named) of an
    activity the patient requires: not everyone who needs it can have it, so the patient may be left
    out for it. The template names the group or hour it last tried instead (a best-effort solve of 50
    patients where the prescriber's hours run short: two of six reasons named a relapse-prevention or
    CBT group)."""
    for f in findings:
        if pid in f.subjects:
            return f.message
    patient = scenario.patient_by_id.get(pid)
    if patient is None:
        return None
    needed = {r.activity_id for r in patient.requirements if r.min_count > 0}
    for f in findings:
        if scenario.patient_by_id.keys() & set(f.subjects):
            continue
        for aid in sorted(needed.intersection(f.subjects)):
            name = scenario.activity_by_id[aid].label if aid in scenario.activity_by_id else aid
            return f"needs {name}, and not everyone who needs it can have it: {f.message}"
    return None


def _with_dropped_pins(scenario: Scenario, result: SolveResult) -> SolveResult:
    """The result, its message naming the pinned sessions that are not kept because their patients are
    on the waitlist (best effort: a pinned session is kept whole or not at all, H9)."""
    if not result.waitlist or scenario.previous is None:
        return result
    waiting = {w.patient_id for w in result.waitlist}
    dropped = [s for s in scenario.previous.pinned if waiting.intersection(s.patient_ids)]
    if not dropped:
        return result
    names = tuple(f"{s.session_id or s.activity_id} ({_when(s)})" for s in dropped)
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    note = (f"{len(names)} pinned session(s) not kept, {', '.join(names[:5])}{more}: their patients are on the "
            "waitlist (a pinned session is kept whole or not at all).")
    return replace(result, message=f"{result.message} {note}".strip(), dropped_pins=names)


def _solve_answered(scenario: Scenario, params: SolveParams, on_progress, cancel,
                    checkpoint: float | None = None) -> SolveResult:
    """``_solve``, on a helper thread when there is a ``cancel`` event, so that a cancel is answered within a second.

    At ``checkpoint`` (``time.monotonic()``), if no complete timetable has been found, the solve is
    stopped as by a cancel, and its answer is the one a time limit gives (``unknown``, or best effort's
    timetable with its waitlist), so that the rest of the limit can go to the reasons."""
    if cancel is None and checkpoint is None:
        return _solve(scenario, params, on_progress, None)
    box: list[SolveResult] = []
    kept = _Kept()
    stop = threading.Event()  # the caller's cancel, or the checkpoint
    worker = threading.Thread(
        target=lambda: box.append(_solve(scenario, params, on_progress, stop, kept)), daemon=True, name="solve"
    )
    began = time.monotonic()
    worker.start()
    stopped = False
    while worker.is_alive():
        if cancel is not None and cancel.is_set():
            stop.set()
            worker.join(0.8)
            break
        if checkpoint is not None and not stopped and time.monotonic() >= checkpoint and kept.first is None:
            log.info("no complete timetable at %.1fs: stopping for the reasons", time.monotonic() - began)
            stop.set()
            stopped = True
        if stopped and time.monotonic() > began + params.time_limit + 1.0:
            break  # a step that cannot be interrupted: answer with what was reported
        worker.join(0.05)
    timed_out = stopped and not (cancel is not None and cancel.is_set())  # the checkpoint, not the caller
    if box:
        result = box[0]
    elif kept.timetable is not None:
        # Stopped inside a step that cannot be interrupted (building the whole-week model):
        # the best complete timetable already reported is the result.
        result = _fallback_result(scenario, kept.timetable, time.monotonic() - began, True, kept.first,
                                  "The best timetable found within the time limit." if timed_out
                                  else "Cancelled; the best timetable found so far is kept.", bound=kept.bound)
    elif params.best_effort and kept.partial is not None:
        result = _partial_result(scenario, kept.partial, time.monotonic() - began, True)
    else:
        result = SolveResult(
            SolveStatus.CANCELLED,
            seconds=time.monotonic() - began,
            message="No timetable was found within the time limit." if timed_out
            else "Cancelled before a timetable was found.",
        )
    if timed_out and result.status == SolveStatus.CANCELLED:
        # Stopped at the checkpoint: the answer a time limit gives, not "cancelled".
        result = replace(result, status=SolveStatus.UNKNOWN if result.timetable is None else SolveStatus.FEASIBLE)
    return result


def _checked(scenario: Scenario, result: SolveResult) -> SolveResult:
    """The result, if its timetable keeps every hard rule for every patient not on its waitlist
    (``scheduler.validate``, independent of the model); else no timetable and status ``invalid``.

    A safety net: every path above is meant to return only such timetables (0.08 s at 500
    patients). Session 13 found one that did not: a patient the fit had moved out was on no
    list, and a strict solve returned the week without them as optimal."""
    if result.timetable is None:
        return result
    try:
        problems = validate(scenario_without(scenario, {w.patient_id for w in result.waitlist}), result.timetable)
    except Exception:  # the check must not lose a result it cannot judge
        log.exception("final check failed")
        return result
    if not problems:
        return result
    rules = sorted({v.rule for v in problems})
    log.error("the timetable found breaks %d hard rule(s) (%s); not returned", len(problems), ", ".join(rules))
    return SolveResult(
        SolveStatus.INVALID,
        seconds=result.seconds,
        message=f"The optimiser's timetable failed the final check ({', '.join(rules)}): this is a defect; "
        "please report it. No timetable is returned.",
        explanations=tuple(v.message for v in problems[:10]),
    )


class _Kept:
    """The best complete timetable reported as progress so far (for a cancel that cannot wait)."""

    def __init__(self):
        self.timetable: Timetable | None = None
        self.objective: float | None = None
        self.first: float | None = None  # seconds to the first one
        self.bound = 0.0  # the day-level relaxation's bound so far (complete timetables); _Bounder sets it
        self.partial: GreedyResult | None = None  # best effort: the template and fit's week, patients left out

    def note(self, timetable: Timetable, objective: float, seconds: float) -> None:
        if self.first is None:
            self.first = seconds
        if self.objective is None or objective < self.objective:
            self.timetable, self.objective = timetable, objective


def _solve(scenario: Scenario, params: SolveParams, on_progress, cancel, kept: _Kept | None = None) -> SolveResult:
    start = time.monotonic()
    findings = _precheck(scenario)
    if findings and not params.best_effort:
        return SolveResult(
            SolveStatus.INFEASIBLE,
            seconds=time.monotonic() - start,
            message="No timetable exists: " + findings[0].message,
            explanations=tuple(f.message for f in findings),
        )
    bounder = None
    try:
        built_at = time.monotonic()
        space = build_space(scenario)
        build_seconds = time.monotonic() - built_at
        if space.pin_problems:
            return SolveResult(
                SolveStatus.INFEASIBLE,
                seconds=time.monotonic() - start,
                message="Pinned sessions break the rules.",
                explanations=tuple(f"A pinned session cannot be kept: {p}." for p in space.pin_problems),
            )
        # The day-level relaxation (solver/bound.py) proves a bound on one core from the end of the fit.
        bounder = _Bounder(space, start, params.time_limit, cancel, kept)
        size = model_size(space)
        allowed = min(MAX_MODEL_SIZE, MODEL_SIZE_PER_SECOND * params.time_limit)
        if size > allowed:
            log.info("whole-week model too large for the time limit (%d > %d): template, fit and polish", size, allowed)
            result = _template_only(scenario, params, start, bounder, cancel, on_progress, kept)
            return replace(bounder.apply(result), build_seconds=build_seconds, seconds=time.monotonic() - start)
        # The template first: a coordinator's week (often with everyone) in seconds, before the model exists.
        # Time plan: template re-fills until 15% of the limit (5% once at most 3 are left out), neighbourhood fit until 50%,
        # then the whole-week model: completion of its hint <= 10%, repair until 60%, search.
        greedy = _greedy(scenario, start, params.time_limit, cancel)
        # The fit places the last few; a template that left out many (half or more, MANY_OUT) says the week
        # needs the whole-week model, which then gets the time: a 3-patient clinic on a 5-minute grid,
        # all three left out, stayed `unknown` at 15 and 60 s with the fit until half the limit (the
        # model alone finds a week in ~10 s).
        many_out = greedy is not None and len(greedy.unplaced) >= max(1.0, MANY_OUT * len(scenario.patients))
        fit_until = start + (FIT_BRIEF if many_out else 0.5) * params.time_limit
        if many_out:  # still a few seconds after the template (a quarter of the limit at most)
            fit_until = max(fit_until, min(time.monotonic() + FIT_BRIEF_SECONDS, start + 0.25 * params.time_limit))
        greedy = _fitted(scenario, greedy, fit_until, cancel, params.seed)
        if kept is not None and greedy is not None and params.best_effort:
            kept.partial = greedy
        bounder.begin()
        # The template is progress at once (the first timetable), then again once its facilitators
        # are polished: the coordinator sees it while the model is built.
        relay = _ProgressRelay(scenario, on_progress, start, report_partial=params.best_effort, kept=kept)
        bounder.watch(relay)
        if greedy is not None:
            relay.announce(greedy.timetable, complete=not greedy.unplaced)
            polished = polish_staff(scenario, greedy.timetable, _polish_reserve(params), cancel)
            if polished is not greedy.timetable:
                greedy = replace(greedy, timetable=polished)
                relay.announce(polished, complete=not greedy.unplaced)
        if greedy is not None and not greedy.unplaced and time.monotonic() >= _tail_at(params, start):
            # Complete, and the search's share of the limit is already spent: the improvement
            # rounds start now, without building the whole-week model (~3 s at 40 patients).
            log.info("complete template at %.2fs, past the search's share: rounds without the whole-week model",
                     time.monotonic() - start)
            result = _fallback_result(scenario, greedy.timetable, time.monotonic() - start,
                                      cancel is not None and cancel.is_set(), relay.first_complete, _ROUNDS_ONLY)
            return _finished(scenario, result, params, cancel, relay, start, bounder, build_seconds)
        built_at = time.monotonic()
        model = IopModel(space, best_effort=True).build()
        relay.attach(model)
        build_seconds += time.monotonic() - built_at
        log.info(
            "model built in %.2fs (%.2fs after the start): %d group starts, %d patient choices, %d constraints",
            build_seconds,
            time.monotonic() - start,
            len(model.g),
            len(model.xg) + len(model.xs),
            len(model.m.proto.constraints),
        )
        warm = _warm_start(
            model,
            scenario,
            min(5.0, max(0.5, 0.1 * params.time_limit)),
            # (Repair rounds free a few patients around the rest; with many out the search does better.)
            0.0 if many_out else start + 0.6 * params.time_limit - time.monotonic(),
            cancel,
            greedy=greedy,
            relay=relay,
        )
        if many_out and warm.complete is None and not params.best_effort:
            warm = _everyone_first(model, warm, start + 0.6 * params.time_limit, cancel, relay)
    except Exception as exc:  # defensive: data that slipped past the reader, or a bug
        log.exception("model build failed")
        if bounder is not None:
            bounder.stop.set()
        return SolveResult(SolveStatus.INVALID, seconds=time.monotonic() - start, message=f"The model could not be built: {exc}")
    result = _no_worse_than(scenario, _search(model, params, cancel, start, warm, findings, relay), warm.complete,
                            relay.first_complete)
    if params.best_effort and result.timetable is None and greedy is not None:
        result = _partial_result(scenario, greedy, time.monotonic() - start, cancel is not None and cancel.is_set())
    return _finished(scenario, result, params, cancel, relay, start, bounder, build_seconds)


def _finished(scenario: Scenario, result: SolveResult, params: SolveParams, cancel, relay, start: float, bounder,
              build_seconds: float) -> SolveResult:
    """The improvement rounds until the polish's reserve, the polish, the relaxation's bound."""
    result = _improved_result(scenario, result, start + params.time_limit - _polish_reserve(params), cancel, relay,
                              start, params)
    if cancel is not None and cancel.is_set() and result.status == SolveStatus.FEASIBLE:
        # The cancel stopped the rounds: the solve was cut short, whatever the part before them said.
        result = replace(result, status=SolveStatus.CANCELLED)
    result = bounder.apply(_polish_result(scenario, result, _polish_seconds(params, start), cancel, relay, start))
    # The wall time of the whole solve (rounds and a polish that changed nothing took time too).
    return replace(result, build_seconds=build_seconds, seconds=time.monotonic() - start)


def _no_worse_than(scenario: Scenario, result: SolveResult, template: Timetable | None,
                   first: float | None = None) -> SolveResult:
    """The search's best timetable, or the complete template it started from if that scores better,
    or if the search's best leaves patients out (best effort).

    A best-effort search stopped early for the improvement rounds (a complete timetable in hand)
    may not yet have re-found a week with everyone: an outside check's 2-patient clinic, 10 s,
    waitlisted P3 in 3 of 25 runs ("could not be fitted alongside the others") after 0.5 s, while
    the template and the fit had placed both; its search was stopped at the rounds' share with its
    best week still leaving P3 out (session 18).

    The search's objective counts the slack that the completed hint leaves in its helper
    variables (the balance bounds, for one): its first solution can score worse than the
    template it was completed from (the demo clinic's progress chart showed that jump), and
    a short search may not win it back. A guard, not a measured gain."""
    if template is not None and result.timetable is not None and result.waitlist:
        log.info("the search's best leaves %d patient(s) out; the complete template is kept", len(result.waitlist))
        return _fallback_result(scenario, template, result.seconds, result.status == SolveStatus.CANCELLED, first,
                                _FALLBACK)
    if template is None or result.timetable is None or result.waitlist or result.objective is None:
        return result
    terms = _score_timetable(scenario, template)
    score = sum(t.cost for t in terms)
    if score >= result.objective - 1e-9:
        return result
    log.info("the template scores %.2f, the search's best %.2f: the template is kept", score, result.objective)
    bound = None if result.bound is None else min(result.bound, score)
    return replace(result, timetable=template.numbered(scenario.program.first_day), terms=terms, objective=score, bound=bound)


def _tail_at(params: SolveParams, start: float) -> float:
    """When (time.monotonic()) the whole-week search hands over to the improvement rounds, once a complete timetable is in hand."""
    return start + (1 - IMPROVE_TAIL) * params.time_limit - _polish_reserve(params)


def _polish_reserve(params: SolveParams) -> float:
    """Seconds kept at the end of the time limit for the facilitator polish (solver/polish.py)."""
    return min(10.0, 0.05 * params.time_limit)


def _polish_seconds(params: SolveParams, start: float) -> float:
    return max(0.0, min(_polish_reserve(params), start + params.time_limit - time.monotonic()))


def _polish_result(scenario: Scenario, result: SolveResult, seconds: float, cancel, relay=None,
                   start: float | None = None) -> SolveResult:
    """Better facilitators for the result's group sessions, if that scores better (never for a proven optimum)."""
    if result.timetable is None or result.status == SolveStatus.OPTIMAL or seconds < 0.2:
        return result
    if cancel is not None and cancel.is_set():
        return result
    polished = polish_staff(scenario, result.timetable, seconds, cancel)
    if polished is result.timetable:
        return result
    if relay is not None:
        relay.announce(polished, complete=not result.waitlist)
    return _rescored(scenario, result, polished, start)


def _improved_result(scenario: Scenario, result: SolveResult, deadline: float, cancel, relay, start: float,
                     params: SolveParams) -> SolveResult:
    """The result's timetable after neighbourhood improvement rounds (solver/fit.py) until ``deadline``; for a
    complete timetable of a small clinic (its grid model within ``GRID_MAX_SIZE``), the rounds until ``GRID_SHARE``
    of the time is left, then the grid search (solver/grid.py), which may take the polish's reserve but
    ``GRID_POLISH_SECONDS``."""
    if result.timetable is None or result.status != SolveStatus.FEASIBLE:
        return result
    if (cancel is not None and cancel.is_set()) or deadline - time.monotonic() < 1.0:
        return result
    complete = not result.waitlist

    def better(timetable: Timetable, _objective: float) -> None:
        relay.announce(timetable, complete)

    floor = (lambda: relay.floor or None) if complete and relay is not None else None
    # A complete timetable of a small clinic: the rounds for the first part, then the grid search
    # (solver/grid.py) on the group days and starts the rounds left, where CP-SAT can merge groups clinic-wide.
    grid = complete and model_size(grid_space(scenario, result.timetable)) <= GRID_MAX_SIZE
    if grid:  # the grid search chooses the staff itself: the polish after it needs little of its reserve
        deadline = max(deadline, start + params.time_limit - GRID_POLISH_SECONDS)
    rounds_until = deadline - GRID_SHARE * (deadline - time.monotonic()) if grid else deadline
    improved = improve(scenario_without(scenario, [w.patient_id for w in result.waitlist]), result.timetable,
                       rounds_until, cancel, params.seed, on_better=better, floor=floor)
    proven = floor() if floor is not None else None
    if grid and not (cancel is not None and cancel.is_set()) and not (
            proven is not None and timetable_objective(scenario, improved) <= proven + 1e-9):
        improved = grid_search(scenario, improved, deadline, lambda solver, seconds: _parameters(solver, params, seconds),
                               cancel, better)
    return result if improved is result.timetable else _rescored(scenario, result, improved, start)


def _rescored(scenario: Scenario, result: SolveResult, timetable: Timetable, start: float | None) -> SolveResult:
    """The result with another timetable of the same patients: its terms, objective, bound and wall time."""
    terms = _score_timetable(scenario, timetable)
    objective = sum(t.cost for t in terms)
    bound = None if result.bound is None else min(result.bound, objective)
    wall = result.seconds if start is None else time.monotonic() - start
    return replace(result, timetable=timetable, terms=terms, objective=objective, bound=bound, seconds=wall)


class _TailDue:
    """Event-like: set once ``at`` (time.monotonic()) has passed and the relay has seen a complete timetable."""

    def __init__(self, relay: _ProgressRelay, at: float):
        self.relay, self.at = relay, at

    def is_set(self) -> bool:
        return self.relay.first_complete is not None and time.monotonic() >= self.at


class _Bounder:
    """Runs solver.bound.relaxation_bound on a helper thread; its bound tightens the result's."""

    def __init__(self, space, start: float, time_limit: float, cancel: threading.Event | None,
                 kept: _Kept | None = None):
        self.value: float | None = None
        self._kept = kept  # a cancel that cannot wait reports its timetable with this bound
        self.stop = threading.Event()
        self.relays: list[_ProgressRelay] = []
        self._cancel = cancel
        self._space, self._start, self._limit = space, start, time_limit
        self._thread: threading.Thread | None = None

    def begin(self) -> None:
        """Start the relaxation (once): until BOUND_UNTIL of the limit, and at least BOUND_MIN of it from now."""
        if self._thread is not None:
            return
        now = time.monotonic()
        deadline = min(self._start + self._limit,
                       max(self._start + BOUND_UNTIL * self._limit, now + BOUND_MIN * self._limit))
        self._thread = threading.Thread(target=self._run, args=(self._space, deadline), daemon=True, name="solve-bound")
        self._thread.start()

    def _run(self, space, deadline: float) -> None:
        seconds = deadline - time.monotonic()
        if seconds <= 0.2:
            return
        # Stopped by the end of the search or by a cancel of the solve.
        stop = AnyOf(self.stop, self._cancel)
        began = time.monotonic()
        self._publish(relaxation_bound(space, seconds, workers=1, cancel=stop))
        spent, left = time.monotonic() - began, deadline - time.monotonic()
        if self.value is None or spent > STAFF_BOUND_AFTER * seconds or left < 0.2 or stop.is_set():
            return
        # Proven quickly: the relaxation with the staff's hours (and S4) may prove more; it is
        # larger and may not finish, so it gets a short budget (its proven bound counts anyway).
        self._publish(relaxation_bound(space, min(left, max(1.0, STAFF_BOUND_SHARE * seconds)), workers=1,
                                       cancel=stop, staff=True))

    def _publish(self, value: float | None) -> None:
        if value is None or (self.value is not None and value <= self.value):
            return
        self.value = value
        if self._kept is not None:
            self._kept.bound = value
        for relay in list(self.relays):
            relay.floor = value

    def watch(self, relay: _ProgressRelay) -> None:
        self.relays.append(relay)
        if self.value is not None:
            relay.floor = self.value

    def apply(self, result: SolveResult) -> SolveResult:
        """Stop the relaxation and raise the result's bound to its proven value (complete timetables only)."""
        self.stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        value = self.value
        if value is None or result.timetable is None or result.waitlist or result.objective is None:
            return result
        if result.status not in (SolveStatus.FEASIBLE, SolveStatus.CANCELLED):
            return result
        bound = min(result.objective, max(result.bound or 0.0, value))
        status = result.status
        if status == SolveStatus.FEASIBLE and bound >= result.objective - 1e-9:
            status = SolveStatus.OPTIMAL
        log.info("bound %.2f -> %.2f by the day-level relaxation", result.bound or 0.0, bound)
        return replace(result, bound=bound, status=status)


# A template that leaves out this share of the patients (and at least one) leaves many out: the fit then gets
# FIT_BRIEF and the whole-week model the rest. A third until session 21: generated 20/2, whose template leaves
# 7 of 20 out, ended `unknown` at 60 s in 4 of 4 runs (12-13 placed); with half, the fit gets half the limit and
# places them (complete at 33.3 and 10.1 s, two solver seeds). The 3-patient clinic that asked for the rule
# (all three out, tests/test_solver_edges.py) is many either way.
MANY_OUT = 0.5
FIT_BRIEF = 0.1  # share of the limit the fit gets when the template left out many (then the model)
# ... but at least this long after the template (at most a quarter of the limit): the tiny example with one
# pinned process group (Wed 09:00, all six patients), which the template cannot place around, stayed
# `unknown` at 8 s with the fit's 0.3 s; its fit places all six in one round of about a second (session 18).
FIT_BRIEF_SECONDS = 2.0


def _fitted(scenario: Scenario, greedy: GreedyResult | None, deadline: float, cancel, seed: int) -> GreedyResult | None:
    """The template with the patients it left out fitted in by neighbourhood rounds (solver/fit.py).

    Everyone the fit leaves out is listed, with the template's reason, or ``_MOVED_OUT`` for a
    patient a round moved out to place two others (the waitlist then names them too)."""
    if greedy is None or not greedy.unplaced:
        return greedy
    timetable, left = fit(scenario, greedy.timetable, greedy.unplaced_ids, deadline, cancel, seed)
    why = dict(greedy.unplaced)
    return GreedyResult(timetable, tuple((pid, why.get(pid, _MOVED_OUT)) for pid in sorted(left)))


_MOVED_OUT = "gave up their place so that more patients could be scheduled, and could not be fitted in again within the time limit"


def _template_only(scenario: Scenario, params: SolveParams, start: float, bounder: _Bounder, cancel=None,
                   on_progress=None, found: _Kept | None = None) -> SolveResult:
    """Large clinics: the template, the neighbourhood fit and improvement, scored like any other (bound: the relaxation's)."""
    greedy = _greedy(scenario, start, params.time_limit, cancel)
    fit_until = FIT_UNTIL if params.best_effort else FIT_LAST
    greedy = _fitted(scenario, greedy, start + fit_until * params.time_limit, cancel, params.seed)
    bounder.begin()
    first = time.monotonic() - start
    left_out = dict(greedy.unplaced)
    if left_out and not params.best_effort:
        return SolveResult(
            SolveStatus.CANCELLED if cancel is not None and cancel.is_set() else SolveStatus.UNKNOWN,
            seconds=first,
            message=f"Within the time limit the template and the fit placed {len(scenario.patients) - len(left_out)} "
            f"of {len(scenario.patients)} patients; try a longer time limit, or best-effort mode for that timetable "
            "with a waitlist.",
        )

    def report(timetable: Timetable, objective: float) -> None:
        # The relaxation's bound so far holds for complete timetables only.
        proven = bounder.value if bounder.value is not None and not left_out else 0.0
        if found is not None and not left_out:
            found.note(timetable, objective, time.monotonic() - start)
        if on_progress is not None:
            try:
                on_progress(Progress(objective=objective, bound=min(objective, proven), seconds=time.monotonic() - start,
                                     timetable=timetable, unplaced=len(left_out)))
            except Exception:  # a listener's bug must not stop the solve
                log.exception("progress listener failed")

    timetable = greedy.timetable
    report(timetable, sum(t.cost for t in _score_timetable(scenario, timetable)))
    kept = scenario_without(scenario, left_out)

    def polished(timetable: Timetable, seconds: float) -> Timetable:
        """The facilitator polish for ``seconds`` (none under 0.2 s), reported when it scored better."""
        if seconds < 0.2:
            return timetable
        better = polish_staff(kept, timetable, seconds, cancel)
        if better is not timetable:
            report(better, sum(t.cost for t in _score_timetable(scenario, better)))
        return better

    # Until 85%: the facilitator polish for POLISH_FIRST_SHARE of the time left (continuity is the template's
    # largest term at 200-500 patients, and the rounds keep the staff of the sessions they do
    # not dissolve), then neighbourhood rounds lower the objective of the patients in.
    until = start + FIT_UNTIL * params.time_limit
    timetable = polished(timetable, POLISH_FIRST_SHARE * (until - time.monotonic()))
    floor = (lambda: bounder.value) if not left_out else None  # the relaxation's bound holds for complete timetables
    timetable = improve(kept, timetable, until, cancel, params.seed, on_better=report, floor=floor)
    # No whole-week search follows: the polish again, until the end's reserve; it stops once it finds
    # nothing better for a while (polish.STALL_SECONDS), and the rest goes to more rounds.
    last = start + params.time_limit - _template_end_reserve(params)
    if not (cancel is not None and cancel.is_set()):
        timetable = polished(timetable, last - time.monotonic())
        if last - time.monotonic() >= LAST_ROUNDS_MIN:
            timetable = improve(kept, timetable, last, cancel, params.seed + 1, on_better=report, floor=floor)
    return _fallback_result(
        scenario,
        timetable,
        time.monotonic() - start,
        cancel is not None and cancel.is_set(),
        first,
        "Timetable from the template, the neighbourhood fit, improvement rounds and the polish (the whole-week "
        "model is too large for this time limit); the bound is the day-level relaxation's.",
        tuple(WaitlistEntry(pid, reason) for pid, reason in left_out.items()),
    )


def _template_end_reserve(params: SolveParams) -> float:
    """Seconds kept at the end of a template-only solve for the answer (scoring, ``scheduler.validate``, the
    relaxation thread's stop): 5% of the limit until session 23, when a 120-patient solve returned at 114.0 s
    of 120 (6 s unused while the rounds still gained about a point a second); the answer took under 0.1 s there
    and the validator and the score 0.24 s at 500 patients."""
    return min(TEMPLATE_END_SHARE * params.time_limit, max(TEMPLATE_END_SECONDS, 0.01 * params.time_limit))


def _precheck(scenario: Scenario) -> list:
    """Arithmetic impossibilities found before any search (each is a necessary condition)."""
    try:
        return precheck(scenario)
    except Exception:  # the checks are an aid; the search decides
        log.exception("pre-solve checks failed")
        return []


def _greedy(scenario: Scenario, start: float, time_limit: float, cancel) -> GreedyResult | None:
    """The first week: last week's timetable where it still keeps the rules (solver/previous.py), if
    it holds everyone; else the better of it and the greedy template (fewer left out, then the lower
    objective)."""
    try:
        kept = from_previous(scenario)
    except Exception:  # a head start only
        log.exception("last week's timetable could not be reused")
        kept = None
    if kept is not None and not kept.unplaced:
        return kept
    try:
        early = None
        if len(scenario.patients) > TEMPLATE_EARLY_FROM:
            early = (start + TEMPLATE_EARLY_SHARE * time_limit, TEMPLATE_FEW)
        template = greedy_timetable(scenario, deadline=start + TEMPLATE_SHARE * time_limit, cancel=cancel, early=early)
    except Exception:  # the template is a head start only
        log.exception("greedy template failed")
        template = None
    template = _valid_template(scenario, template)
    if kept is None or template is None:
        return kept or template

    def key(result: GreedyResult) -> tuple[int, float]:
        left = result.unplaced_ids
        return len(left), timetable_objective(scenario_without(scenario, left), result.timetable)

    if key(kept) < key(template):
        # The template's reasons, where it left the same patients out, say more than "changed".
        reasons = dict(template.unplaced)
        log.info("last week's timetable (%d left out) is the start, not the template (%d left out)",
                 len(kept.unplaced), len(template.unplaced))
        return replace(kept, unplaced=tuple((pid, reasons.get(pid, why)) for pid, why in kept.unplaced))
    return template


_TEMPLATE_BROKE = "could not be fitted into the week"


def _valid_template(scenario: Scenario, template: GreedyResult | None) -> GreedyResult | None:
    """The template as it is when it keeps every rule for the patients it placed (solver/greedy.py promises
    that by its own checks); else, with an error logged, the template without every patient a broken rule
    names (``solver.previous.valid_part``), left to the fit. A defect there must not cost the solve: an
    outside check's template handed a co-led group to its own co-facilitator (H4), every fit round's model
    was infeasible from the start, and a 26-patient clinic ended `unknown` at 60 s."""
    if template is None:
        return None
    left = dict(template.unplaced)
    violations = validate(scenario_without(scenario, left), template.timetable)
    if not violations:
        return template
    log.error("the template breaks %s: the patients they name are left to the fit (a defect)",
              sorted({v.rule for v in violations}))
    return valid_part(scenario, template.timetable.sessions, left, _TEMPLATE_BROKE)


def _warm_start(model: IopModel, scenario: Scenario, seconds: float, repair_seconds: float, cancel=None,
                greedy: GreedyResult | None = None, relay: _ProgressRelay | None = None) -> _Warm:
    """Hint the greedy template (or last week's timetable), completed into a full assignment.

    A timetable holding everyone (the template's, or the repair's) is announced as progress
    at once: from then on the solve holds a timetable to return, whatever the search does.
    """
    complete, unplaced, source = None, {}, scenario.previous
    if greedy is not None:
        unplaced = dict(greedy.unplaced)
        if not unplaced:
            complete = greedy.timetable
        if source is None or not any(not s.pinned for s in source.sessions):
            source = greedy.timetable
    if source is not None:
        partial = hints_from(model, source)
        placed = {pid for s in source.sessions for pid in s.patient_ids}
        for pid, lit in model.inc.items():
            if not isinstance(lit, int):
                partial[lit] = 1 if pid in placed and pid not in unplaced else 0
        values = add_complete_hint(model, partial, seconds)
        if values is not None and unplaced and complete is None and repair_seconds > 0:
            values = repair(model, values, time.monotonic() + max(1.0, repair_seconds), cancel=cancel)
            if relay is not None and all(values[lit.index] for lit in model.inc.values() if not isinstance(lit, int)):
                relay.announce(extract(model, lambda v: values[v.index]), complete=True)
            model.m.clear_hints()
            for i, value in enumerate(values):
                model.m.add_hint(model.m.get_int_var_from_proto_index(i), value)
        return _Warm(complete, unplaced, values)
    return _Warm(complete, unplaced)


def _everyone_first(model: IopModel, warm: _Warm, deadline: float, cancel, relay) -> _Warm:
    """With many left out by the template: a week that holds everyone, whatever it scores (the soft
    goals set aside), searched until ``deadline``; found, it is announced and becomes the search's hint.
    The lexicographic objective makes the whole-week search weigh the soft goals from the start; on
    the 5-minute-grid clinic of tests/test_solver_edges.py it held 2 of 3 patients after 40 s, where
    the same model without an objective finds a week for all three in ~10 s."""
    seconds = deadline - time.monotonic()
    if seconds < 0.5:
        return warm
    began = time.monotonic()
    values = completed(model, {lit: 1 for lit in model.inc.values() if not isinstance(lit, int)}, seconds, cancel,
                       workers=2)
    log.info("a week for everyone, soft goals aside: %s in %.2fs", "found" if values else "none",
             time.monotonic() - began)
    if values is None:
        return warm
    timetable = extract(model, lambda v: values[v.index])
    model.m.clear_hints()
    for i, value in enumerate(values):
        model.m.add_hint(model.m.get_int_var_from_proto_index(i), value)
    if relay is not None:
        relay.announce(timetable, complete=True)
    return _Warm(timetable, {}, values)


def _parameters(solver: cp_model.CpSolver, params: SolveParams, seconds: float) -> None:
    p = solver.parameters
    p.max_time_in_seconds = max(0.1, seconds)
    p.num_workers = max(1, params.workers)
    if p.num_workers == 2:
        # Measured on the tiny clinic: with 2 workers the default portfolio's one full worker
        # proves a bound of 4 (gap 83%); the full-LP worker proves 18.7 (gap 19%), same objective.
        p.subsolvers.append("max_lp")
    p.random_seed = params.seed
    p.relative_gap_limit = params.relative_gap
    p.linearization_level = 2
    p.log_search_progress = params.log_search
    if params.log_search:
        p.log_to_stdout = False
        solver.log_callback = lambda line: log.info("cp-sat: %s", line)


def _search(model: IopModel, params, cancel, start, warm: _Warm, findings, relay: _ProgressRelay) -> SolveResult:
    solver = cp_model.CpSolver()
    remaining = params.time_limit - (time.monotonic() - start) - _polish_reserve(params)
    if remaining < 0.5 and warm.values is not None:
        values = warm.values
        return _result(model, lambda v: values[v.index], cp_model.FEASIBLE, 0, relay, time.monotonic() - start, False, params, warm, findings)
    _parameters(solver, params, max(0.5, remaining))
    try:
        # Cancelled during the warm start: keep what it found, skip the search.
        # Once a complete timetable is in hand, the last IMPROVE_TAIL of the limit goes to the
        # neighbourhood improvement rounds (_improved_result); until then the search goes on.
        tail = _TailDue(relay, _tail_at(params, start))
        code = (cp_model.UNKNOWN if cancel is not None and cancel.is_set()
                else solve_cancellable(solver, model.m, AnyOf(cancel, tail), relay))
    except Exception as exc:  # an OR-Tools failure: report it, never crash the caller
        log.exception("CP-SAT failed")
        return SolveResult(SolveStatus.INVALID, seconds=time.monotonic() - start, message=f"The optimiser failed: {exc}")
    seconds = time.monotonic() - start
    cancelled = cancel is not None and cancel.is_set()
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _result(model, solver.value, code, solver.best_objective_bound, relay, seconds, cancelled, params, warm, findings)
    if code == cp_model.INFEASIBLE:
        return _infeasible(model, params, start, "No timetable satisfies every rule.")
    if code == cp_model.MODEL_INVALID:
        return SolveResult(SolveStatus.INVALID, seconds=seconds, message="The model was rejected by the optimiser.")
    if warm.values is not None:
        # The search ran out of time before re-finding the warm start: it is still a solution.
        values = warm.values
        return _result(model, lambda v: values[v.index], cp_model.FEASIBLE, 0, relay, seconds, cancelled, params, warm, findings)
    if warm.complete is not None:
        return _fallback_result(model.sc, warm.complete, seconds, cancelled, relay.first_complete, _FALLBACK)
    status = SolveStatus.CANCELLED if cancelled else SolveStatus.UNKNOWN
    return SolveResult(status, seconds=seconds, message="No timetable was found within the time limit.")


def _result(model, value, code, raw_bound, relay, seconds, cancelled, params, warm, findings) -> SolveResult:
    """Read the best solution: a full timetable, or (best effort) the scheduled part and a waitlist."""
    left_out = [pid for pid, lit in model.inc.items() if not isinstance(lit, int) and not value(lit)]
    weight = model.inclusion_weight
    proven_partial = raw_bound >= weight  # the bound proves someone must be left out
    if left_out and not params.best_effort:
        if proven_partial:
            return _infeasible(model, params, time.monotonic() - seconds, "No timetable holds every patient.")
        if warm.complete is not None:
            return _fallback_result(model.sc, warm.complete, seconds, cancelled, relay.first_complete, _FALLBACK)
        status = SolveStatus.CANCELLED if cancelled else SolveStatus.UNKNOWN
        return SolveResult(
            status,
            seconds=seconds,
            message=f"Within the time limit only {len(model.inc) - len(left_out)} of {len(model.inc)} patients could be fitted; "
            "try a longer time limit, or best-effort mode for a timetable with a waitlist.",
        )
    timetable = extract(model, value)
    # A pinned session left out with its patients still holds its staff and room in the model (pins
    # are constants there), so the model's proofs speak of weeks that keep those hours free: with such
    # a pin neither its optimum nor its bounds hold for the timetable returned (an outside check: a
    # best-effort week "optimal" at 11 where 9 was possible, the pin's hours still in S4).
    dropped = any(set(left_out).intersection(s.patient_ids) for s in model.space.pins)
    # Penalty variables may carry slack in an intermediate solution (a facilitator counted
    # who leads no session, say); the timetable's own score is what is reported.
    terms = _score_timetable(model.sc, timetable)
    objective = sum(t.cost for t in terms)
    try:
        internal = sum(t.cost for t in _terms(model, value))
        if internal + 1e-6 < objective:
            log.warning("solver terms %.2f below the timetable's score %.2f", internal, objective)
    except Exception:  # a stored assignment answers for variables, not expressions
        pass
    if code == cp_model.OPTIMAL and not dropped:
        bound, status = objective, SolveStatus.OPTIMAL
    else:
        # Soft-goal part of the bound, for timetables leaving out no more patients than this one.
        soft_bound = (raw_bound - weight * len(left_out)) / OBJECTIVE_SCALE
        bound = 0.0 if dropped else min(objective, max(0.0, soft_bound))
        status = SolveStatus.CANCELLED if cancelled else SolveStatus.FEASIBLE
    waitlist = tuple(WaitlistEntry(pid, _reason(model, pid, warm, findings, left_out)) for pid in left_out)
    first = relay.first_complete if not params.best_effort else (relay.history[0].seconds if relay.history else None)
    message = "" if not left_out else f"{len(left_out)} patient(s) on the waitlist."
    # The bound proves how many must be left out (each outweighs every soft goal together); with pins
    # in the week, only for weeks that keep every pinned session's hours (see above), so not said.
    must_wait = int((raw_bound + 1e-6) // weight) if weight else 0
    if left_out and not model.space.pins and must_wait >= len(left_out):
        message += " The bound proves no timetable holds more patients."
    elif left_out and not model.space.pins and must_wait >= 1:
        message += f" The bound proves at least {must_wait} must wait."
    return SolveResult(
        status,
        timetable=timetable,
        objective=objective,
        bound=bound,
        seconds=seconds,
        terms=terms,
        first_solution_seconds=first,
        message=message.strip(),
        waitlist=waitlist,
        history=tuple(relay.history),
    )


def _infeasible(model: IopModel, params: SolveParams, start: float, message: str) -> SolveResult:
    """An infeasible result, explained in words by a conflicting set of rules (solver/explain.py)."""
    budget = max(5.0, min(30.0, 0.5 * params.time_limit))
    try:
        findings = core_explanation(model.sc, budget)
    except Exception:  # the explanation is an aid; the verdict stands
        log.exception("explanation failed")
        findings = []
    return SolveResult(
        SolveStatus.INFEASIBLE,
        seconds=time.monotonic() - start,
        message=message,
        explanations=tuple(f.message for f in findings),
    )


def _reason(model: IopModel, pid: str, warm: _Warm, findings, left_out=()) -> str:
    """Why a patient stays on the waitlist, in words: a finding that names them; else a pinned session
    they share with a patient a finding names (kept whole or not at all, it goes with that patient);
    else the template's reason; else a general one."""
    for f in findings:
        if pid in f.subjects:
            return f.message
    named = {subject for f in findings for subject in f.subjects}
    for s in model.space.pins:
        others = sorted(q for q in s.patient_ids if q != pid and q in named and q in left_out)
        if pid in s.patient_ids and others:
            activity = model.sc.activity_by_id[s.activity_id].label
            return (f"shares a pinned {activity} session on {_when(s)} with {', '.join(others)}, who cannot be "
                    "scheduled; a pinned session is kept whole or not at all")
    if pid in warm.unplaced:
        return warm.unplaced[pid]
    p = model.sc.patient_by_id[pid]
    needs = "; ".join(
        f"{r.activity_id}={r.min_count}" + (f"-{r.max_count}" if r.max_count != r.min_count else "") for r in p.requirements
    )
    return (
        f"patient {pid} could not be fitted alongside the others: their requirements ({needs or 'program hours'}) "
        "found no free places within their availability once the other patients were placed"
    )


def _terms(model: IopModel, value) -> tuple[Term, ...]:
    weights = model.prog.weights
    out = []
    for code, name in SOFT_GOALS:
        expr = model.terms[name]
        raw = expr if isinstance(expr, int) else value(expr)
        amount = raw / MINUTES_PER_HOUR if name == "balance" else float(raw)
        out.append(Term(code, name, round(weights.of(name), 2), amount))
    return tuple(out)


def _score_timetable(scenario: Scenario, timetable: Timetable) -> tuple[Term, ...]:
    """Soft-goal values of a timetable, by the one definition the validator implements, over the
    whole scenario: a waitlisted patient's therapist counts in S4 and their last week in S3, as
    an outside check of the written files counts them (until session 14 a best-effort result
    was scored without the waitlisted patients, and its summary.json disagreed with
    ``main.py validate``: S4 3 against 14 on a 20-patient clinic)."""
    values = soft_terms(scenario, timetable)
    weights = scenario.program.weights
    # Weights are used to two decimals (docs/rules.md), as in the integer objective.
    return tuple(Term(code, name, round(weights.of(name), 2), float(values[name])) for code, name in SOFT_GOALS)


_PARTIAL = ("Best effort: the patients on the waitlist could not be placed within the time limit (a longer solve "
            "may place them); the others' week is the template's and the neighbourhood fit's.")
_NOBODY = "no place was found for them within the time limit"


def _partial_result(scenario: Scenario, start: GreedyResult, seconds: float, cancelled: bool) -> SolveResult:
    """Best effort's answer when the search found no week of its own in time: the template and fit's week
    (valid for the patients it placed) with the rest on the waitlist; with nobody placed, an empty week.
    An outside check's best-effort solves of planted clinics (15-21 patients, 15-30 s) answered `unknown`
    with no timetable in 7 of 17 runs, where best effort promises a timetable with a waitlist."""
    waitlist = tuple(WaitlistEntry(pid, reason) for pid, reason in start.unplaced)
    result = _fallback_result(scenario, start.timetable, seconds, cancelled, None, _PARTIAL, waitlist)
    return replace(result, first_solution_seconds=None)


def _fallback_result(scenario: Scenario, timetable: Timetable, seconds: float, cancelled: bool,
                     first: float | None, message: str, waitlist: tuple[WaitlistEntry, ...] = (),
                     bound: float = 0.0) -> SolveResult:
    """A timetable from the constructive template rather than the search, scored like any other
    (``bound``: one proven for complete timetables, if any)."""
    terms = _score_timetable(scenario, timetable)
    objective = sum(t.cost for t in terms)
    return SolveResult(
        SolveStatus.CANCELLED if cancelled else SolveStatus.FEASIBLE,
        timetable=timetable.numbered(scenario.program.first_day),
        objective=objective,
        bound=0.0 if waitlist else min(objective, bound),
        seconds=seconds,
        terms=terms,
        first_solution_seconds=seconds if first is None else first,
        message=message,
        waitlist=waitlist,
    )

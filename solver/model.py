"""Composition root: space -> CP-SAT model -> search -> SolveResult. Never raises for an outcome."""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from ortools.sat.python import cp_model

from scheduler.model import SOFT_GOALS, Scenario, Timetable
from solver.builder import MINUTES_PER_HOUR, OBJECTIVE_SCALE, IopModel
from solver.extract import extract, hints_from
from solver.result import Progress, SolveParams, SolveResult, SolveStatus, Term
from solver.space import build_space

log = logging.getLogger("solver")

_STATUS = {
    cp_model.OPTIMAL: SolveStatus.OPTIMAL,
    cp_model.FEASIBLE: SolveStatus.FEASIBLE,
    cp_model.INFEASIBLE: SolveStatus.INFEASIBLE,
    cp_model.MODEL_INVALID: SolveStatus.INVALID,
    cp_model.UNKNOWN: SolveStatus.UNKNOWN,
}


class _ProgressRelay(cp_model.CpSolverSolutionCallback):
    """O(1) per improving solution: hands (objective, bound, seconds) on."""

    def __init__(self, on_progress: Callable[[Progress], None] | None, offset: float, start: float):
        super().__init__()
        self.on_progress = on_progress
        self.offset = offset
        self.start = start
        self.history: list[Progress] = []

    def on_solution_callback(self) -> None:
        seen = Progress(
            objective=self.objective_value / OBJECTIVE_SCALE - self.offset,
            bound=max(0.0, self.best_objective_bound / OBJECTIVE_SCALE - self.offset),
            seconds=time.monotonic() - self.start,
        )
        self.history.append(seen)
        if self.on_progress is not None:
            try:
                self.on_progress(seen)
            except Exception:  # a listener's bug must not kill the search
                log.exception("progress listener failed")


def solve(
    scenario: Scenario,
    params: SolveParams,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> SolveResult:
    """Build and solve the model; every outcome comes back as a SolveResult."""
    start = time.monotonic()
    try:
        space = build_space(scenario)
        model = IopModel(space, best_effort=params.best_effort).build()
    except Exception as exc:  # defensive: bad data that slipped past the reader
        log.exception("model build failed")
        return SolveResult(SolveStatus.INVALID, seconds=time.monotonic() - start, message=f"The model could not be built: {exc}")
    build_seconds = time.monotonic() - start
    log.info(
        "model built in %.2fs: %d group starts, %d patient choices, %d constraints",
        build_seconds,
        len(model.g),
        len(model.xg) + len(model.xs),
        len(model.m.proto.constraints),
    )
    if space.pin_problems and not params.best_effort:
        return SolveResult(
            SolveStatus.INFEASIBLE,
            seconds=time.monotonic() - start,
            message="Pinned sessions break the rules.",
            explanations=tuple(f"A pinned session cannot be kept: {p}." for p in space.pin_problems),
        )
    fallback = _hint(model, scenario)
    return _search(model, params, on_progress, cancel, start, build_seconds, fallback)


def _hint(model: IopModel, scenario: Scenario) -> Timetable | None:
    """Warm start: last week's timetable if given, else the greedy template. Returns a complete greedy timetable."""
    complete = None
    source = scenario.previous
    try:
        from solver.greedy import greedy_timetable

        greedy = greedy_timetable(scenario)
        if not greedy.unplaced:
            complete = greedy.timetable
        if source is None:
            source = greedy.timetable
    except Exception:  # the hint is an optimisation only
        log.exception("greedy hint failed")
    if source is not None:
        for var, value in hints_from(model, source).items():
            model.m.add_hint(var, value)
    return complete


def _search(model, params, on_progress, cancel, start, build_seconds, fallback) -> SolveResult:
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = max(0.1, params.time_limit - build_seconds)
    p.num_workers = max(1, params.workers)
    p.random_seed = params.seed
    p.relative_gap_limit = params.relative_gap
    p.log_search_progress = params.log_search
    p.linearization_level = 2
    if params.log_search:
        solver.log_callback = lambda line: log.info("cp-sat: %s", line)
    relay = _ProgressRelay(on_progress, 0.0, start)
    done = threading.Event()
    watcher = None
    if cancel is not None:
        watcher = threading.Thread(target=_watch, args=(cancel, done, solver), daemon=True, name="solve-cancel")
        watcher.start()
    try:
        code = solver.solve(model.m, relay)
    except Exception as exc:  # OR-Tools failure: report, never crash the caller
        log.exception("CP-SAT failed")
        return SolveResult(SolveStatus.INVALID, seconds=time.monotonic() - start, message=f"The optimiser failed: {exc}")
    finally:
        done.set()
    seconds = time.monotonic() - start
    status = _STATUS.get(code, SolveStatus.UNKNOWN)
    cancelled = cancel is not None and cancel.is_set()
    first = relay.history[0].seconds if relay.history else None
    if status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        timetable = extract(model, solver.value)
        terms = _terms(model, solver)
        objective = sum(t.cost for t in terms)
        bound = objective if status == SolveStatus.OPTIMAL else min(objective, solver.best_objective_bound / OBJECTIVE_SCALE)
        if cancelled and status == SolveStatus.FEASIBLE:
            status = SolveStatus.CANCELLED
        return SolveResult(
            status,
            timetable=timetable,
            objective=objective,
            bound=max(0.0, bound),
            seconds=seconds,
            terms=terms,
            first_solution_seconds=first,
            message=f"model built in {build_seconds:.2f}s",
            history=tuple(relay.history),
        )
    if status == SolveStatus.UNKNOWN and fallback is not None:
        return _fallback_result(model, fallback, solver, seconds, cancelled, build_seconds)
    if status == SolveStatus.UNKNOWN and cancelled:
        status = SolveStatus.CANCELLED
    message = {
        SolveStatus.INFEASIBLE: "No timetable satisfies every rule.",
        SolveStatus.UNKNOWN: "No timetable was found within the time limit.",
        SolveStatus.CANCELLED: "Cancelled before a timetable was found.",
        SolveStatus.INVALID: "The model was rejected by the optimiser.",
    }.get(status, "")
    return SolveResult(status, seconds=seconds, message=message)


def _watch(cancel: threading.Event, done: threading.Event, solver: cp_model.CpSolver) -> None:
    """Stop the search within a fraction of a second of a cancel."""
    while not done.is_set():
        if cancel.wait(0.05):
            solver.stop_search()
            return


def _terms(model: IopModel, solver: cp_model.CpSolver) -> tuple[Term, ...]:
    weights = model.prog.weights
    out = []
    for code, name in SOFT_GOALS:
        raw = solver.value(model.terms[name]) if not isinstance(model.terms[name], int) else model.terms[name]
        value = raw / MINUTES_PER_HOUR if name == "balance" else float(raw)
        out.append(Term(code, name, weights.of(name), value))
    return tuple(out)


def _fallback_result(model, timetable, solver, seconds, cancelled, build_seconds) -> SolveResult:
    """CP-SAT found nothing in time: return the complete greedy timetable, scored like any other."""
    from scheduler.validate import soft_terms

    values = soft_terms(model.sc, timetable)
    weights = model.prog.weights
    terms = tuple(Term(code, name, weights.of(name), float(values[name])) for code, name in SOFT_GOALS)
    objective = sum(t.cost for t in terms)
    bound = solver.best_objective_bound / OBJECTIVE_SCALE
    return SolveResult(
        SolveStatus.CANCELLED if cancelled else SolveStatus.FEASIBLE,
        timetable=timetable.numbered(),
        objective=objective,
        bound=max(0.0, min(objective, bound)),
        seconds=seconds,
        terms=terms,
        first_solution_seconds=seconds,
        message=f"model built in {build_seconds:.2f}s; timetable from the constructive heuristic",
    )

"""Patient-centred large-neighbourhood repair: fit the patients the warm start left out.

A left-out patient usually needs a few others to move (a group below its minimum size,
an office taken at the only hour the therapist is free). Each round frees the left-out
patients plus a few patients who share sessions or the therapist with one of them, fixes
everyone else (and the staff and rooms of sessions none of the freed patients could
join) exactly as in the current assignment, and lets CP-SAT maximise the freed patients
who are in, starting from the current assignment. Accepted only when it does not get worse.
"""

from __future__ import annotations

import atexit
import logging
import random
import threading
import time

from ortools.sat.python import cp_model

from solver.builder import IopModel

log = logging.getLogger("solver.repair")


def repair(model: IopModel, values: list[int], deadline: float, seed: int = 0, cancel=None) -> list[int]:
    """Improve a full assignment until every patient is in, or the deadline passes."""
    rng = random.Random(seed)
    by_patient = _patient_vars(model)
    incs = {pid: lit for pid, lit in model.inc.items() if not isinstance(lit, int)}
    size = 8
    rounds = 0
    affinity: dict[str, dict[str, float]] = {}
    while time.monotonic() < deadline - 0.5 and not (cancel is not None and cancel.is_set()):
        left = [pid for pid, lit in incs.items() if not values[lit.index]]
        if not left:
            break
        rounds += 1
        target = model.sc.patient_by_id[left[rng.randrange(len(left))]]
        if target.id not in affinity:
            affinity[target.id] = _affinity(model, target.id)
        ranked = sorted(
            (pid for pid in affinity[target.id] if values[incs[pid].index]),
            key=lambda pid: -(affinity[target.id][pid] * (0.5 + rng.random())),
        )
        free = {target.id, *left[:2], *ranked[:size]}
        trial = model.m.clone()
        for pid, lits in by_patient.items():
            if pid in free:
                continue
            for index in lits:
                fix(trial, index, values[index])
        # Sessions no freed patient could join keep their staff and rooms: the neighbourhood
        # is the freed patients and the sessions within their reach, so presolve stays small.
        for index in _out_of_reach(model, free):
            fix(trial, index, values[index])
        # Maximise the freed patients who are in, from the current assignment (a solution from
        # the first moment): a round that cannot fit the target still keeps what it has.
        trial.clear_objective()
        freed = [incs[pid] for pid in free if pid in incs]
        for pid in free:
            if pid in incs and values[incs[pid].index]:
                fix(trial, incs[pid].index, 1)
        trial.maximize(sum(trial.get_bool_var_from_proto_index(lit.index) for lit in freed))
        trial.clear_hints()
        for index, value in enumerate(values):
            trial.add_hint(trial.get_int_var_from_proto_index(index), value)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.5, min(4.0, deadline - time.monotonic()))
        solver.parameters.num_workers = 2
        solver.parameters.random_seed = seed + rounds
        code = solve_cancellable(solver, trial, cancel)
        log.debug("repair round %d: %d free, %s in %.1fs", rounds, len(free), solver.status_name(code), solver.wall_time)
        gained = 0
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            solution = list(solver.response_proto.solution)
            gained = sum(solution[lit.index] - values[lit.index] for lit in freed)
            if gained >= 0:
                values = solution
        if code == cp_model.OPTIMAL and not gained and len(free) >= len(incs):
            break  # everyone was free and nobody more fits: no repair exists
        # Proven to gain nothing: look wider next time; timed out without a gain: look narrower.
        if not gained:
            size = min(size + 3, 24) if code == cp_model.OPTIMAL else max(3, size - 1)
    placed = sum(values[lit.index] for lit in incs.values())
    log.info("repair: %d rounds, %d of %d patients placed", rounds, placed, len(incs))
    return values


def _out_of_reach(model: IopModel, free: set[str]) -> list[int]:
    """Proto indices of the session variables (group counts, staff, rooms) no freed patient could use."""
    reach_groups = {key for key, patients in model.space.group_patients.items() if free.intersection(patients)}
    reach_solo = {(aid, day, start) for pid in free for _lit, aid, day, start, *_ in model.patient_vars.get(pid, ())}
    out = [var.index for key, var in model.g.items() if key not in reach_groups and not isinstance(var, int)]
    for table in (model.sg, model.rg):
        out.extend(var.index for (_, key), var in table.items() if key not in reach_groups and not isinstance(var, int))
    for table in (model.ss, model.rs):
        out.extend(var.index for (_, key), var in table.items()
                   if (key.activity, key.day, key.start) not in reach_solo and not isinstance(var, int))
    return out


# Set when the interpreter exits: a CP-SAT search still running on a helper thread then
# (after a cancelled solve returned) is stopped and awaited, instead of being torn down
# mid-search (which aborts the process: "terminate called without an active exception").
_SHUTDOWN = threading.Event()
_active = 0
_active_lock = threading.Condition()


def solve_cancellable(solver: cp_model.CpSolver, model: cp_model.CpModel, cancel, callback=None) -> int:
    """``solver.solve(model)``, stopped within a fraction of a second when ``cancel`` (an Event) is set."""
    global _active
    done = threading.Event()
    threading.Thread(target=stop_on_cancel, args=(cancel, done, solver), daemon=True, name="cp-sat-cancel").start()
    with _active_lock:
        _active += 1
    try:
        return solver.solve(model, callback) if callback is not None else solver.solve(model)
    finally:
        done.set()
        with _active_lock:
            _active -= 1
            _active_lock.notify_all()


@atexit.register
def _stop_searches_at_exit() -> None:
    _SHUTDOWN.set()
    with _active_lock:
        _active_lock.wait_for(lambda: _active == 0, timeout=5.0)


class AnyOf:
    """An Event-like view of several events (None ones ignored): set when any of them is."""

    def __init__(self, *events):
        self.events = [e for e in events if e is not None]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if self.is_set():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(0.02, left))


def stop_on_cancel(cancel: threading.Event | None, done: threading.Event, solver: cp_model.CpSolver) -> None:
    """Stop a CP-SAT search within a fraction of a second of a cancel (or of the interpreter's exit).

    A stop requested before CP-SAT has started its search is lost, so the request is
    repeated until the search has returned.
    """
    stop = AnyOf(cancel, _SHUTDOWN)
    while not done.is_set():
        if stop.wait(0.05):
            while not done.is_set():
                solver.stop_search()
                done.wait(0.05)
            return


def _affinity(model: IopModel, target: str) -> dict[str, float]:
    """How much each other patient could share sessions or staff with ``target`` (higher: closer)."""
    score: dict[str, float] = {}
    for key, patients in model.space.group_patients.items():
        if target in patients:
            for pid in patients:
                if pid != target:
                    score[pid] = score.get(pid, 0.0) + 1.0
    primary = model.sc.patient_by_id[target].primary_therapist
    for p in model.sc.patients:
        if p.id != target and primary and p.primary_therapist == primary:
            score[p.id] = score.get(p.id, 0.0) * 1.5 + 5.0
    return score


def fix(model: cp_model.CpModel, index: int, value: int) -> None:
    """Fix a variable by narrowing its domain in the proto (far cheaper than a constraint)."""
    domain = model.proto.variables[index].domain
    domain.clear()
    domain.extend([value, value])


def _patient_vars(model: IopModel) -> dict[str, list[int]]:
    """Proto indices of the variables that say where each patient is (and whether included)."""
    out: dict[str, list[int]] = {}
    for pid, uses in model.patient_vars.items():
        out[pid] = [lit.index for lit, *_ in uses]
    for pid, lit in model.inc.items():
        if not isinstance(lit, int):
            out.setdefault(pid, []).append(lit.index)
    return out

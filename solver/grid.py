"""Grid search: the whole week searched again on the group sessions' days and starts the timetable already uses.

The improvement rounds (solver/fit.py) re-solve a few patients around a fixed rest of the
week, so a group runs fuller only when all its patients happen to be freed together. The
whole-week model (solver/builder.py) can merge groups across the clinic, but at 40 patients
its search rarely beat the template in the time it had: every 15-minute start of every group
activity is a choice. Here the whole week is searched with each group activity allowed only
on the days and at the starts where the timetable runs it for that cohort: groups can be merged,
emptied, refilled and handed to other staff and rooms, patients can move between them and
change days, but no group opens at a new time. The model shrinks about fivefold (40 patients:
43-50k -> 8.3-8.6k by ``model_size``), the timetable in hand is a solution of it (its complete
hint), and CP-SAT's neighbourhood searches (every worker: ``use_lns_only``) move patients, days
and staff across the whole clinic at once.

Measured (session 21) at 40 patients, seeds 0-2, from the same fitted and polished templates
(151.5 / 224.5 / 204), 52 s each: rounds alone 119 / 148 / 145 and 125.5 / 152 / 127 (two round
seeds); rounds for 26 s then this search for 26 s 115.5 / 134 / 135.5 and 122.5 / 141.5 / 134.5;
this search alone 120.5 / 139 / 136.5. At 120 patients (178k) it did not even re-find its hint
in 56 s, where the rounds went 549.5 -> 393.5: hence ``GRID_MAX_SIZE``.

Session 22, from the same post-round 40-patient timetables (129.5 / 144 / 155), 26 s, CP-SAT
seeds 1-3, sums of the nine results: the session-21 search (each activity at any start it used
on some day, one worker proving the grid's own bound) 1163; every worker on neighbourhoods 1138;
then groups only on their own days and starts 1117.5 (better on each clinic); wider grids did
worse (any start the cohort uses 1157.5, starts +-15 minutes 1172.5). At 120 patients the
rounds still win: 80 s from one fitted template (534.5), rounds 413.5, this search 470.5, half
and half 426.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from ortools.sat.python import cp_model

from scheduler.model import Scenario, Timetable
from scheduler.validate import objective, validate
from solver.builder import IopModel, model_size
from solver.extract import extract, hints_from
from solver.fit import add_complete_hint
from solver.repair import solve_cancellable
from solver.space import Space, build_space, keep_starts, starts_in_use

log = logging.getLogger("solver.grid")

# model_size of the grid's space: 40 patients 8.3-8.6k (helps), 120 patients 60k (the rounds do better there);
# on the generated witnesses 60 patients 15k, 80 patients 23k
GRID_MAX_SIZE = 40_000
# Of the improvement time left, the last part goes to the grid search (26 s of 52 at 40 patients). Session 22,
# 52 s from the same fitted templates (151.5 / 223.5 / 197), sums over the three clinics, two seeds: with every
# activity's starts in use 0.25: 383 / 385.5, 0.5: 382.5 / 375.5, 0.75: 388.5 / 387, 1.0: 379 / 374; with the
# day's own starts 0.5: 375.5 / 375, 0.75: 394.5 / 381.
GRID_SHARE = 0.5
HINT_SECONDS = 2.0  # at most, to complete the timetable into a full hint (0.2 s at 40 patients)


def grid_space(scenario: Scenario, timetable: Timetable) -> Space:
    """The scenario's search space with group candidates only where the timetable runs a group: the same
    activity, cohort, day and start."""
    return keep_starts(build_space(scenario), starts_in_use(scenario, timetable))


class _Better(cp_model.CpSolverSolutionCallback):
    """Each solution the search finds: kept (and told) when its timetable scores lower and keeps every rule."""

    def __init__(self, model: IopModel, timetable: Timetable, cost: float, on_better):
        super().__init__()
        self.model = model
        self.best = timetable
        self.cost = cost
        self.on_better = on_better

    def on_solution_callback(self) -> None:
        timetable = extract(self.model, self.value)
        cost = objective(self.model.sc, timetable)
        if cost < self.cost - 1e-9 and validate(self.model.sc, timetable) == []:
            self.best, self.cost = timetable, cost
            if self.on_better is not None:
                self.on_better(timetable, cost)


def grid_search(scenario: Scenario, timetable: Timetable, deadline: float, configure: Callable,
                cancel: threading.Event | None = None, on_better=None) -> Timetable:
    """A better timetable of the same patients on the grid of ``timetable``'s group days and starts, or
    ``timetable`` itself; searched until ``deadline``. ``configure(solver, seconds)`` sets the
    CP-SAT parameters (time limit, workers, seed); ``on_better(timetable, objective)`` hears of
    each better timetable, which has passed ``scheduler.validate``."""
    began = time.monotonic()
    space = grid_space(scenario, timetable)
    size = model_size(space)
    if size > GRID_MAX_SIZE:
        log.info("grid search skipped: its model would be too large (%d > %d)", size, GRID_MAX_SIZE)
        return timetable
    model = IopModel(space).build()
    completed = add_complete_hint(model, hints_from(model, timetable),
                                  min(HINT_SECONDS, max(0.1, deadline - time.monotonic())), cancel)
    seconds = deadline - time.monotonic()
    if seconds < 0.5 or (cancel is not None and cancel.is_set()):
        return timetable
    solver = cp_model.CpSolver()
    configure(solver, seconds)
    if completed is not None:
        # The grid model's own bound is of no use (the grid is a restriction): every worker
        # searches neighbourhoods of the hint, where with 2 workers one of them proved a bound.
        # 40-patient clinics 0-2, the same post-round timetables (129.5 / 144 / 155), 26 s, sums per
        # CP-SAT seed 1-3: 384.5 / 393 / 388.5 -> 378.5 / 380.5 / 379 (better in 9 of 9 pairs).
        solver.parameters.subsolvers.clear()
        solver.parameters.use_lns_only = True
    found = _Better(model, timetable, objective(scenario, timetable), on_better)
    code = solve_cancellable(solver, model.m, cancel, found)
    log.info("grid search (%d group starts, size %d): %s in %.2fs, objective %.2f", len(space.group_keys), size,
             solver.status_name(code), time.monotonic() - began, found.cost)
    return found.best

"""The grid search (solver/grid.py): the whole week re-searched on the group starts in use."""

from __future__ import annotations

import threading
import time

from ortools.sat.python import cp_model

from scheduler.generate import generate_clinic
from scheduler.model import Timetable
from scheduler.validate import objective, validate
import solver.grid as grid_module
from solver.grid import grid_search, grid_space
from solver.space import build_space
from solver_fixtures import group, micro, patient, room, sess, staff


def _configure(solver: cp_model.CpSolver, seconds: float) -> None:
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = 0


def _two_small_groups(pinned_first: bool = False):
    """P1-P4 each need one PROC hour on Monday; the week runs two PROC groups of two, 09:00 and 10:00.

    One group of four is the optimum (S5 = 1); the week in hand costs 2. With the first group pinned,
    nobody may join it: 2 is all there is."""
    first = sess("Mon", "09:00", "10:00", "PROC", "S1", "R1", "P1 P2", pinned=pinned_first)
    second = sess("Mon", "10:00", "11:00", "PROC", "S1", "R1", "P3 P4")
    scenario = micro([patient(f"P{i}", "PROC=1") for i in (1, 2, 3, 4)], [group("PROC")], [staff("S1")],
                     [room("R1")], previous=Timetable((first,)) if pinned_first else None)
    timetable = Timetable((first, second)).numbered()
    assert validate(scenario, timetable) == [] and objective(scenario, timetable) == 2.0
    return scenario, timetable


def test_the_grid_holds_only_the_starts_in_use_and_the_timetable_itself():
    clinic = generate_clinic(20, 0)
    scenario, week = clinic.scenario, clinic.witness
    prog = scenario.program
    used = {(scenario.patient_by_id[s.patient_ids[0]].cohort.value, s.activity_id, s.day,
             (s.start - prog.open) // prog.slot_minutes)
            for s in week.sessions if scenario.activity_by_id[s.activity_id].is_group}
    full, grid = build_space(scenario), grid_space(scenario, week)
    assert 0 < len(grid.group_keys) < len(full.group_keys) / 2
    starts = {(k.cohort, k.activity, k.day, k.start) for k in grid.group_keys}
    assert starts == used  # every group's day and start in use, each a candidate of the full space, and nothing else
    assert {(k.cohort, k.activity, k.day, k.start) for k in full.group_keys} >= used


def test_the_grid_search_runs_one_group_where_two_small_ones_ran():
    scenario, timetable = _two_small_groups()
    seen = []
    better = grid_search(scenario, timetable, time.monotonic() + 10, _configure, on_better=lambda t, cost: seen.append(cost))
    assert validate(scenario, better) == []
    assert objective(scenario, better) == 1.0  # the hand-computed optimum
    assert seen and seen[-1] == 1.0
    (only,) = better.sessions
    assert sorted(only.patient_ids) == ["P1", "P2", "P3", "P4"]
    assert only.start in (9 * 60, 10 * 60)  # one of the two starts in use


def test_the_grid_search_keeps_pinned_sessions_and_never_returns_worse():
    scenario, timetable = _two_small_groups(pinned_first=True)
    kept = grid_search(scenario, timetable, time.monotonic() + 5, _configure)
    assert validate(scenario, kept) == []
    assert objective(scenario, kept) == 2.0
    assert [(s.start, sorted(s.patient_ids)) for s in kept.sessions if s.pinned] == [(9 * 60, ["P1", "P2"])]


def test_the_grid_search_lowers_a_generated_week_and_keeps_every_rule():
    clinic = generate_clinic(20, 1)
    before = objective(clinic.scenario, clinic.witness)
    better = grid_search(clinic.scenario, clinic.witness, time.monotonic() + 10, _configure)
    assert validate(clinic.scenario, better) == []
    assert objective(clinic.scenario, better) < before


def test_a_model_too_large_is_not_searched(monkeypatch):
    monkeypatch.setattr(grid_module, "GRID_MAX_SIZE", 10)
    scenario, timetable = _two_small_groups()
    started = time.monotonic()
    assert grid_search(scenario, timetable, started + 10, _configure) is timetable
    assert time.monotonic() - started < 5


def test_a_cancel_stops_the_grid_search_within_a_second():
    clinic = generate_clinic(40, 0)
    cancel = threading.Event()
    out = {}

    def run():
        out["week"] = grid_search(clinic.scenario, clinic.witness, time.monotonic() + 60, _configure, cancel)
        out["done"] = time.monotonic()

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(4.0)  # the model built (about a second) and searching
    cancelled = time.monotonic()
    cancel.set()
    worker.join(timeout=10)
    assert not worker.is_alive(), "grid_search() ran on after the cancel"
    assert out["done"] - cancelled < 1.0 + 0.5  # "within a second", with slack for the shared cores
    assert validate(clinic.scenario, out["week"]) == []
    assert objective(clinic.scenario, out["week"]) <= objective(clinic.scenario, clinic.witness)

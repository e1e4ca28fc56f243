"""The neighbourhood fit (solver/fit.py): places patients a template left out, and the timetable stays valid."""

from __future__ import annotations

import time

from scheduler.generate import generate_clinic
from scheduler.validate import validate
from solver.fit import fit
from solver.greedy import _Greedy, scenario_without


def test_the_fit_places_left_out_patients_and_keeps_every_rule():
    scenario = generate_clinic(12, 4).scenario
    template = _Greedy(scenario, 1).run()  # one coordinator's order: leaves two patients out
    left_before = set(template.unplaced_ids)
    assert left_before
    assert validate(scenario_without(scenario, left_before), template.timetable) == []
    timetable, left = fit(scenario, template.timetable, left_before, time.monotonic() + 60, seed=0)
    assert len(left) < len(left_before)
    assert validate(scenario_without(scenario, left), timetable) == []
    placed = {pid for s in timetable.sessions for pid in s.patient_ids}
    assert placed == {p.id for p in scenario.patients} - left


def test_a_complete_timetable_is_returned_as_it_is():
    clinic = generate_clinic(12, 4)
    timetable, left = fit(clinic.scenario, clinic.witness, (), time.monotonic() + 5)
    assert timetable is clinic.witness and left == set()


def test_the_fit_stops_at_its_deadline():
    scenario = generate_clinic(12, 0).scenario
    template = _Greedy(scenario, 1).run()
    started = time.monotonic()
    timetable, left = fit(scenario, template.timetable, template.unplaced_ids, started + 3)
    assert time.monotonic() - started < 3 + 5  # a round already running ends within its own limit
    assert validate(scenario_without(scenario, left), timetable) == []

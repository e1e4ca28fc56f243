"""Last week's timetable as the first week (solver/previous.py): kept wherever it still keeps the rules."""

from __future__ import annotations

from dataclasses import replace

from scheduler.generate import generate_clinic
from scheduler.model import Requirement
from scheduler.validate import objective, soft_terms, validate
from solver.greedy import scenario_without
from solver.model import _greedy
from solver.previous import CHANGED, NEW, from_previous
from solver import SolveParams, solve
from solver_fixtures import key


def _clinic_with_last_week():
    clinic = generate_clinic(12, 4)
    return clinic, replace(clinic.scenario, previous=clinic.witness)


def test_an_unchanged_week_comes_back_whole_and_is_the_first_week():
    clinic, scenario = _clinic_with_last_week()
    kept = from_previous(scenario)
    assert kept is not None and kept.unplaced == ()
    assert sorted(map(key, kept.timetable.sessions)) == sorted(map(key, clinic.witness.sessions))
    first = _greedy(scenario, 0.0, 10.0, None)
    assert first.unplaced == () and soft_terms(scenario, first.timetable)["stability"] == 0


def test_a_new_patient_and_a_changed_one_are_left_for_the_fit_and_the_rest_is_kept():
    clinic, scenario = _clinic_with_last_week()
    first, second, *_ = scenario.patients
    # The first patient is new this week (not in last week's timetable); the second now needs one
    # more process group than last week gave them.
    reqs = tuple(replace(r, min_count=r.min_count + 1, max_count=r.max_count + 1) if r.activity_id == "PROC" else r
                 for r in second.requirements)
    previous = replace(clinic.witness, sessions=tuple(
        replace(s, patient_ids=tuple(p for p in s.patient_ids if p != first.id))
        for s in clinic.witness.sessions if s.patient_ids != (first.id,)))
    scenario = replace(scenario, previous=previous,
                       patients=tuple(replace(p, requirements=reqs) if p.id == second.id else p
                                      for p in scenario.patients))
    kept = from_previous(scenario)
    left = dict(kept.unplaced)
    assert left[first.id] == NEW and left[second.id] == CHANGED
    assert validate(scenario_without(scenario, left), kept.timetable) == []
    # Everyone else keeps last week's sessions (a group left too small would have named its patients).
    others = {p.id for p in scenario.patients} - set(left)
    assert len(others) >= 8
    for pid in others:
        mine = sorted(key(s)[:4] for s in kept.timetable.sessions if pid in s.patient_ids)
        theirs = sorted(key(s)[:4] for s in previous.sessions if pid in s.patient_ids)
        assert mine == theirs, pid


def test_a_solve_from_an_unchanged_week_is_no_worse_than_that_week():
    clinic, scenario = _clinic_with_last_week()
    last_week = objective(scenario, clinic.witness)  # S3 0: every session as it was
    seen = []
    result = solve(scenario, SolveParams(time_limit=10, workers=2, seed=0), on_progress=seen.append)
    assert result.timetable is not None and validate(scenario, result.timetable) == []
    assert seen and seen[0].objective == last_week  # last week's timetable is the first one reported
    assert result.objective <= last_week


def test_a_template_that_breaks_a_rule_gives_up_the_patients_it_names_not_the_solve(caplog):
    """The template promises every rule for the patients it places; where a defect breaks that promise
    (session 19: a co-led group handed to its own co-facilitator, H4), the patients of the clashing sessions
    are left to the fit, with an error logged, and the rest of the template is kept as a valid start."""
    from solver.greedy import GreedyResult
    from solver.model import _valid_template
    from scheduler.model import Timetable

    clinic = generate_clinic(12, 4)
    scenario, witness = clinic.scenario, clinic.witness
    groups = [s for s in witness.sessions if len(s.patient_ids) > 1]
    first = groups[0]
    other = next(s for s in witness.sessions if s.day == first.day and s.start >= first.end
                 and not set(s.staff_ids) & set(first.staff_ids))
    # Its staff lead another session at the same time: a double booking (H4).
    clash = replace(other, start=first.start, end=first.start + (other.end - other.start), staff_ids=first.staff_ids)
    broken = Timetable(tuple(clash if s is other else s for s in witness.sessions))
    assert validate(scenario, broken) != []
    kept = _valid_template(scenario, GreedyResult(broken, ()))
    assert kept is not None and kept.unplaced
    out = set(kept.unplaced_ids)
    assert out >= set(first.patient_ids) or out >= set(clash.patient_ids)
    assert len(out) < len(scenario.patients)  # the rest of the template is kept
    assert validate(scenario_without(scenario, kept.unplaced_ids), kept.timetable) == []
    assert "the template breaks" in caplog.text
    assert _valid_template(scenario, GreedyResult(witness, ())).timetable is witness

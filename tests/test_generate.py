"""Generated clinics: feasible by construction, deterministic, realistic; and the bundled demo clinic."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import pytest

from resources import demo_path
from resources.make_demo import WITNESS_FILE, write_demo
from scheduler.generate import GeneratedClinic, demo_clinic, generate_clinic
from scheduler.io.reader import read_scenario, read_timetable
from scheduler.model import Cohort, Mode, RoomKind, Scenario, Timetable
from scheduler.timegrid import parse_time
from scheduler.validate import soft_terms, validate

SIZES = (20, 40, 120)
SEEDS = (0, 1)
DEMO_FILES = ("program.csv", "activities.csv", "staff.csv", "rooms.csv", "patients.csv", WITNESS_FILE)


@lru_cache(maxsize=None)
def clinic(n: int, seed: int) -> GeneratedClinic:
    return generate_clinic(n, seed)


@lru_cache(maxsize=None)
def demo() -> GeneratedClinic:
    return demo_clinic()


def in_block_minutes(scenario: Scenario, timetable: Timetable, patient_id: str) -> int:
    acts = scenario.activity_by_id
    return sum(s.minutes for s in timetable.of_patient(patient_id) if acts[s.activity_id].in_block)


def therapists(scenario: Scenario):
    return [m for m in scenario.staff if "therapy" in m.skills]


def prescribers(scenario: Scenario):
    return [m for m in scenario.staff if "prescriber" in m.skills]


# ---------------------------------------------------------------- feasible by construction


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", SIZES)
def test_witness_satisfies_every_hard_rule(n, seed):
    c = clinic(n, seed)
    assert len(c.scenario.patients) == n
    assert validate(c.scenario, c.witness) == []


def test_500_patients_generate_and_validate():
    """Generation speed is reported by the benchmark harness, not asserted in a unit test."""
    c = generate_clinic(500, seed=7)
    assert len(c.scenario.patients) == 500
    assert validate(c.scenario, c.witness) == []


@pytest.mark.parametrize("n", range(3, 16))
def test_small_clinics_fold_tracks_and_stay_feasible(n):
    c = generate_clinic(n, seed=n)
    assert validate(c.scenario, c.witness) == []


def test_fewer_than_three_patients_cannot_make_a_group():
    with pytest.raises(ValueError):
        generate_clinic(2)


def test_every_patient_gets_a_full_week():
    c = clinic(120, 0)
    for p in c.scenario.patients:
        assert p.requirement("IND") is not None, p.id
        if p.status == "new":
            assert p.requirement("EVAL") is not None, p.id
        if p.status == "discharging":
            assert p.requirement("DC") is not None, p.id


# ---------------------------------------------------------------- deterministic


def test_same_seed_gives_the_same_clinic():
    a, b = generate_clinic(40, seed=3), generate_clinic(40, seed=3)
    assert a.scenario == b.scenario
    assert a.witness == b.witness


def test_different_seeds_give_different_clinics():
    a, b = clinic(40, 0), clinic(40, 1)
    assert a.scenario.patients != b.scenario.patients
    assert a.witness != b.witness


# ---------------------------------------------------------------- realistic


@pytest.mark.parametrize("n", SIZES)
def test_cohorts_never_share_a_session(n):
    c = clinic(n, 0)
    cohort = {p.id: p.cohort for p in c.scenario.patients}
    for s in c.witness.sessions:
        assert len({cohort[pid] for pid in s.patient_ids}) == 1, s


def test_population_mix_is_roughly_as_intended():
    patients = clinic(120, 0).scenario.patients + clinic(120, 1).scenario.patients + clinic(40, 0).scenario.patients
    n = len(patients)
    share = lambda pred: sum(1 for p in patients if pred(p)) / n  # noqa: E731
    assert 0.15 <= share(lambda p: p.cohort == Cohort.ADOLESCENT) <= 0.25
    assert 0.15 <= share(lambda p: "SUD" in p.tags) <= 0.35
    assert 0.08 <= share(lambda p: p.status == "new") <= 0.22
    assert 0.04 <= share(lambda p: p.status == "discharging") <= 0.16
    assert 0.10 <= share(lambda p: p.requirement("FAM") or p.requirement("TFAM")) <= 0.35


def test_program_is_an_iop_week():
    program = clinic(40, 0).scenario.program
    assert program.days == (0, 1, 2, 3, 4)
    assert (program.open, program.close) == (parse_time("08:00"), parse_time("21:00"))
    assert (program.slot_minutes, program.max_gap_minutes) == (15, 15)
    assert (program.min_days, program.max_days, program.min_hours, program.max_hours) == (3, 5, 3, 5)
    assert (program.min_week_hours, program.max_week_hours) == (9, 19)


def test_three_tracks_at_their_hours():
    c = clinic(120, 0)
    acts = c.scenario.activity_by_id
    morning = evening = 0
    for p in c.scenario.patients:
        mine = [s for s in c.witness.of_patient(p.id) if acts[s.activity_id].in_block]
        first, last = min(s.start for s in mine), max(s.end for s in mine)
        if p.cohort == Cohort.ADOLESCENT:
            assert first >= parse_time("15:00"), p.id  # after school
        elif last <= parse_time("14:00"):
            morning += 1
        else:
            assert first >= parse_time("16:00"), p.id  # after work
            evening += 1
    assert morning > evening > 0


def test_groups_are_a_realistic_size():
    c = clinic(120, 0)
    sizes = [len(s.patient_ids) for s in c.witness.sessions if c.scenario.activity_by_id[s.activity_id].is_group]
    assert min(sizes) >= 2 and max(sizes) <= 12
    assert 5 <= sum(sizes) / len(sizes) <= 11


def test_relapse_prevention_group_only_for_sud():
    c = clinic(120, 0)
    tags = {p.id: p.tags for p in c.scenario.patients}
    rp = [s for s in c.witness.sessions if s.activity_id == "RP"]
    assert rp
    assert all("SUD" in tags[pid] for s in rp for pid in s.patient_ids)


@pytest.mark.parametrize("n", (40, 120, 500))
def test_staffing_and_rooms_scale_with_the_clinic(n):
    c = clinic(n, 0) if n != 500 else generate_clinic(500, seed=7)
    sc = c.scenario
    assert n / 9 <= len(therapists(sc)) <= n / 5 + 1
    assert 1 <= len(prescribers(sc)) <= max(1, n / 40 + 1)
    group_rooms = [r for r in sc.rooms if r.kind == RoomKind.GROUP]
    offices = [r for r in sc.rooms if r.kind == RoomKind.OFFICE]
    assert 1 <= len(group_rooms) <= n / 10 + 2
    assert all(10 <= r.capacity <= 14 for r in group_rooms)
    assert len(offices) >= len(therapists(sc)) / 2
    for m in therapists(sc):
        assert m.role in ("LCSW", "LPC", "LMFT")
        assert 2 <= len(m.skills) <= 5
        assert m.max_hours_day in (8, 9) and 36 <= m.max_hours_week <= 40
    for m in prescribers(sc):
        assert m.role in ("Psychiatrist", "PMHNP")


def test_primary_therapists_can_deliver_what_they_must():
    sc = clinic(120, 1).scenario
    staff = sc.staff_by_id
    for p in sc.patients:
        primary = staff[p.primary_therapist]
        assert "therapy" in primary.skills
        if p.requirement("FAM") or p.requirement("TFAM"):
            assert "family" in primary.skills


def test_names_are_initials():
    for p in clinic(40, 0).scenario.patients:
        assert len(p.name) == 4 and p.name[1] == p.name[3] == "."


# ---------------------------------------------------------------- freedom for the optimiser


def test_scenario_is_wider_than_the_witness():
    c = clinic(120, 0)
    sc, w = c.scenario, c.witness
    wider = 0
    for p in sc.patients:
        offered = sum(win.minutes for win in p.availability.windows)
        if offered > in_block_minutes(sc, w, p.id):
            wider += 1
    assert wider == len(sc.patients)
    assert any(r.min_count < r.max_count for p in sc.patients for r in p.requirements)
    assert any(p.preferred_days for p in sc.patients)
    used_rooms = {s.room_id for s in w.sessions}
    assert any(r.id not in used_rooms for r in sc.rooms)  # a spare room
    for m in sc.staff:
        worked = sum(s.minutes for s in w.of_staff(m.id))
        assert worked < 60 * m.max_hours_week


def test_witness_leaves_soft_goals_to_improve():
    c = clinic(40, 0)
    terms = soft_terms(c.scenario, c.witness)
    assert terms["spread"] > 0 and terms["continuity"] + terms["balance"] > 0


# ---------------------------------------------------------------- the demo clinic


def test_demo_clinic_has_every_feature():
    c = demo()
    sc, w = c.scenario, c.witness
    assert sc.program.name == "Riverside Behavioral Health IOP"
    assert sc.program.week_start.isoformat() == "2026-11-30"
    assert 30 <= len(sc.patients) <= 40
    assert validate(sc, w) == []
    cohorts = Counter(p.cohort for p in sc.patients)
    assert cohorts[Cohort.ADOLESCENT] >= 5 and cohorts[Cohort.ADULT] >= 20
    acts = Counter(s.activity_id for s in w.sessions)
    for activity_id in ("PROC", "CBT", "DBT", "PSYED", "RP", "ADOL", "IND", "MED", "EVAL", "DC", "FAM", "TFAM"):
        assert acts[activity_id] >= 1, activity_id
    statuses = Counter(p.status for p in sc.patients)
    assert acts["EVAL"] == statuses["new"] >= 3
    assert acts["DC"] == statuses["discharging"] >= 2
    assert 5 <= len(therapists(sc)) <= 6
    assert len({m.skills for m in therapists(sc)}) >= 4
    held = Counter(skill for m in therapists(sc) for skill in m.skills)
    assert all(held[skill] >= 2 for skill in ("process", "cbt", "dbt", "psyed", "sud", "family")), held
    (prescriber,) = prescribers(sc)
    assert prescriber.name == "Dr Carla Reyes"
    assert len(prescriber.availability.windows) <= 6  # a few half-day clinics
    rooms = Counter(r.kind for r in sc.rooms)
    assert 2 <= rooms[RoomKind.GROUP] <= 3 and rooms[RoomKind.OFFICE] >= 3
    assert {"Oak Group Room", "Office 2"} <= {r.name for r in sc.rooms}
    family = [s for s in w.sessions if sc.activity_by_id[s.activity_id].mode == Mode.FAMILY]
    assert all(s.start >= parse_time("16:00") for s in family)
    adults = {p.id for p in sc.patients if p.cohort == Cohort.ADULT}
    in_block = [s for s in w.sessions if sc.activity_by_id[s.activity_id].in_block]
    evening = {pid for s in in_block if s.start >= parse_time("17:30") for pid in s.patient_ids} & adults
    morning = {pid for s in in_block if s.end <= parse_time("13:00") for pid in s.patient_ids} & adults
    assert evening and morning and not evening & morning


def test_committed_demo_reads_back_equal():
    read = read_scenario(demo_path())
    assert read.warnings == ()
    assert read.scenario == demo().scenario
    witness = read_timetable(demo_path() / WITNESS_FILE, read.scenario)
    assert witness == demo().witness
    assert validate(read.scenario, witness) == []


def test_make_demo_reproduces_the_committed_files(tmp_path):
    write_demo(tmp_path)
    for name in DEMO_FILES:
        assert (tmp_path / name).read_bytes() == (demo_path() / name).read_bytes(), name

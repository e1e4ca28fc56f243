"""Pre-solve checks (solver/explain_checks.py): the feasible base gives no finding, each
infeasible corpus variant gives the expected finding, in words with names and numbers."""

from __future__ import annotations

import time
from dataclasses import FrozenInstanceError, replace

import pytest

from scheduler.model import (
    Activity,
    Cohort,
    HoursBasis,
    Mode,
    Patient,
    Program,
    Requirement,
    Room,
    RoomKind,
    Scenario,
    Session,
    Staff,
    Timetable,
)
from scheduler.timegrid import parse_availability, parse_time
from solver.explain_checks import CHECKS, Finding, days_text, hours, precheck
from scheduler.io import read_scenario
try:
    from tests.infeasible_corpus import CORPUS, base, base_witness
    from tests.outside_cases import write_eval_over_daily_cap, write_rp_nobody_leads
except ImportError:  # tests/ itself on sys.path
    from infeasible_corpus import CORPUS, base, base_witness
    from outside_cases import write_eval_over_daily_cap, write_rp_nobody_leads

# Names and numbers each variant's finding must carry (not generic text).
EXPECTED_TEXT: dict[str, tuple[str, ...]] = {
    "prescriber_clinic_cancelled": ("Dr Carla Reyes", "3 h", "Wed", "8 Medication Management",
                                    "2 Psychiatric Evaluation", "6 h"),
    "patient_available_two_days": ("Hana Ito", "3 days", "Tue and Thu", "2 days"),
    "short_availability": ("Dev Patel", "at least 3 h", "is 2 h", "09:00-11:00"),
    "no_skill": ("'dbt'", "DBT Skills", "Eli Brooks", "Fay Gold"),
    "primary_never_meets": ("Dev Patel", "Priya Nair", "60 min", "09:00-14:00", "14:00-19:00"),
    "too_few_for_group": ("Relapse Prevention", "4 patients", "3 adult patients", "SUD", "Ann Lee",
                          "Ben Cruz", "Cara Diaz"),
    "no_group_room": ("'group'", "Process Group", "CBT Skills", "8 patients"),
    "family_in_the_day_far_from_it": ("Family Therapy", "program day", "Ben Cruz", "17:00-19:00", "08:00-13:00",
                                      "never"),
    "family_window_misses_therapist": ("Ben Cruz", "Sam Ortiz", "Family Therapy", "19:00-20:00",
                                       "08:00-19:00"),
    "pin_outside_availability": ("Dev Patel", "Mon 15:00-16:00", "09:00-14:00"),
    "pins_overlap": ("Sam Ortiz", "Tue 12:30-13:30", "Tue 13:00-14:00"),
    "pin_lacks_skill": ("Dr Carla Reyes", "'cbt'", "Tue 09:00-10:00"),
    "group_required_daily_too_often": ("Cara Diaz", "Process Group", "6 times", "5 days"),
    "week_hours_too_high": ("Hana Ito", "16 h", "15 h", "Tue-Thu"),
    "room_capacity_zero": ("Group Room", "seats 0", "Process Group", "Relapse Prevention"),
    "ineligible_requirement": ("Dev Patel", "Relapse Prevention", "SUD"),
    "therapist_overbooked": ("Jordan Blake", "1.5 h", "Gus Hart", "Hana Ito", "2 h"),
    "primary_lacks_skill": ("Gus Hart", "Dr Carla Reyes", "'therapy'", "Individual Therapy"),
    "required_sessions_above_week_max": ("Ann Lee", "10 h", "9.5 h"),
    "inblock_requirements_exceed_days": ("Ann Lee", "10 h", "3 days", "9 h"),
    "offices_closed_most_of_week": ("Office 1", "Office 2", "8 h", "16 h", "8 Individual Therapy"),
    "group_room_closed_most_of_week": ("Group Room", "3 h", "7.5 h", "3 Process Group"),
    "no_prescriber_for_new_patient": ("'prescriber'", "Medication Management", "Psychiatric Evaluation",
                                      "8 patients"),
    "unknown_activity_in_requirements": ("Gus Hart", "'DBT'"),
}

BRIEF_NAMES = {
    "prescriber_clinic_cancelled", "patient_available_two_days", "short_availability", "no_skill",
    "primary_never_meets", "too_few_for_group", "no_group_room", "family_window_misses_therapist",
    "pin_outside_availability", "group_required_daily_too_often", "week_hours_too_high",
    "room_capacity_zero", "ineligible_requirement", "therapist_overbooked",
}


# --------------------------------------------------------------------------- the base


def test_base_has_no_findings():
    assert precheck(base()) == []


def test_base_witness_keeps_every_hard_rule():
    validate = pytest.importorskip("scheduler.validate").validate
    assert validate(base(), base_witness()) == []


def test_base_witness_pinned_gives_no_findings():
    """Pinning the whole (valid) witness timetable breaks nothing on its own."""
    pinned = Timetable(tuple(replace(s, pinned=True) for s in base_witness().sessions))
    assert precheck(base().with_previous(pinned)) == []


# --------------------------------------------------------------------------- the corpus


def test_corpus_has_every_named_cause():
    assert BRIEF_NAMES <= set(CORPUS)
    assert len(CORPUS) >= 14
    assert set(EXPECTED_TEXT) == set(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_variant_is_explained(name):
    scenario, rule, subjects = CORPUS[name]()
    findings = precheck(scenario)
    matching = [f for f in findings if f.rule == rule and set(subjects) <= set(f.subjects)]
    assert matching, f"{name}: no {rule} finding naming {subjects}; got {findings}"
    texts = EXPECTED_TEXT[name]
    assert any(all(t in f.message for t in texts) for f in matching), (
        f"{name}: expected {texts} in one of {[f.message for f in matching]}")
    for f in findings:
        assert f.message.endswith(".") and f.message[0].isupper(), f.message
        assert f.subjects, f


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_variant_differs_from_base_in_little(name):
    """Each variant is the base with a small change: same program, most entities unchanged."""
    scenario, _, _ = CORPUS[name]()
    b = base()
    assert scenario.program == b.program
    changed = (
        len(set(scenario.patients) ^ set(b.patients))
        + len(set(scenario.staff) ^ set(b.staff))
        + len(set(scenario.rooms) ^ set(b.rooms))
        + len(set(scenario.activities) ^ set(b.activities))
        + len(scenario.previous.sessions if scenario.previous else ())
    )
    assert 1 <= changed <= 6


# --------------------------------------------------------------------------- API


def test_finding_is_frozen_and_prints_its_message():
    f = Finding("H1", ("P1",), "Ann Lee (P1) must attend at least 3 days.")
    with pytest.raises(FrozenInstanceError):
        f.rule = "H2"  # type: ignore[misc]
    assert str(f) == f.message


def test_every_check_has_a_one_line_docstring_naming_its_rule():
    for check in CHECKS:
        doc = check.__doc__ or ""
        assert doc and "\n" not in doc.strip(), check.__name__
        assert doc.startswith("H"), check.__name__


def test_precheck_is_deterministic():
    s, _, _ = CORPUS["group_room_closed_most_of_week"]()
    assert precheck(s) == precheck(s)


def test_words_and_numbers():
    assert hours(180) == "3 h"
    assert hours(330) == "5.5 h"
    assert hours(135) == "2.25 h"
    assert hours(70) == "1 h 10 min"
    assert days_text((0, 2, 4)) == "Mon, Wed and Fri"
    assert days_text((0, 1, 2, 3, 4)) == "Mon-Fri"
    assert days_text((1, 3)) == "Tue and Thu"


# --------------------------------------------------------------------------- smaller scenarios


def _tiny(patient_avail: str, *, basis=HoursBasis.CONTACT, min_hours=3.0, reqs=(), **program_kw) -> Scenario:
    program = Program(days=(0, 1, 2, 3, 4), open=8 * 60, close=20 * 60, min_days=1, min_hours=min_hours,
                      min_week_hours=0, hours_basis=basis, **program_kw)
    acts = tuple(Activity(f"G{i}", f"Group {i}", Mode.GROUP, 60, 1, 8, "g", room_kind=RoomKind.NONE)
                 for i in range(4))
    staff = (Staff("S1", "Staff One", skills=frozenset({"g"})),)
    p = Patient("P1", "Pat One", availability=parse_availability(patient_avail), requirements=tuple(reqs))
    return Scenario(program, acts, staff, (), (p,))


def test_windows_are_aligned_to_the_grid():
    # 09:10-12:00 offers 09:15-12:00 on a 15-minute grid: 2.75 h < 3 h.
    found = precheck(_tiny("Mon 09:10-12:00"))
    assert [f.rule for f in found] == ["H2"]
    assert "2.75 h" in found[0].message
    assert precheck(_tiny("Mon 09:00-12:00")) == []


def test_windows_further_apart_than_max_gap_do_not_join():
    # Two 1.5 h windows 30 min apart: with max_gap 15 a day holds at most 1.5 h of contact.
    found = precheck(_tiny("Mon 09:00-10:30; Mon 11:00-12:30"))
    assert [f.rule for f in found] == ["H2"] and "1.5 h" in found[0].message
    assert precheck(_tiny("Mon 09:00-10:30; Mon 11:00-12:30", max_gap_minutes=30)) == []


def test_span_basis_counts_the_gap_between_windows():
    # 09:00-10:30 and 10:45-12:00: contact 2.75 h, span 3 h.
    avail = "Mon 09:00-10:30; Mon 10:45-12:00"
    assert [f.rule for f in precheck(_tiny(avail))] == ["H2"]
    assert precheck(_tiny(avail, basis=HoursBasis.SPAN)) == []


def test_patient_never_available_in_program_hours():
    found = precheck(_tiny("Sat 09:00-13:00"))
    assert [f.rule for f in found] == ["H2"] and "never available" in found[0].message


def test_min_days_above_max_days():
    s = base()
    s = replace(s, patients=tuple(replace(p, min_days=4, max_days=3) if p.id == "P1" else p for p in s.patients))
    found = [f for f in precheck(s) if f.rule == "H1"]
    assert found and "Ann Lee (P1)" in found[0].message and "4 days" in found[0].message


def test_groups_split_by_cohort_for_the_session_lower_bound():
    """Adults and adolescents never share a session, so a cohort-any group needs one per cohort."""
    program = Program(days=(0,), open=8 * 60, close=20 * 60, min_days=0, min_hours=0, min_week_hours=0)
    acts = (Activity("GRP", "Open Group", Mode.GROUP, 60, 1, 8, "g", room_kind=RoomKind.NONE),)
    staff = (Staff("S1", "Solo", skills=frozenset({"g"}), availability=parse_availability("Mon 08:00-09:00")),)
    req = (Requirement("GRP", 1, 1),)
    patients = (
        Patient("A1", "Adult One", cohort=Cohort.ADULT, requirements=req),
        Patient("Y1", "Teen One", cohort=Cohort.ADOLESCENT, requirements=req),
    )
    found = precheck(Scenario(program, acts, staff, (), patients))
    assert [f.rule for f in found] == ["H8"]
    assert "Solo (S1)" in found[0].message and "at least 2 Open Group" in found[0].message


def test_pinned_session_with_unknown_ids_and_wrong_room():
    s = base().with_previous(Timetable((
        Session(0, parse_time("09:00"), parse_time("10:00"), "IND", ("T9",), "G1", ("P4",), True, "S010"),
        Session(1, parse_time("09:00"), parse_time("10:00"), "NOPE", ("T1",), "O1", ("P1",), True, "S011"),
    )))
    msgs = [f.message for f in precheck(s) if f.rule == "H9"]
    assert any("'T9'" in m for m in msgs)
    assert any("'NOPE'" in m for m in msgs)
    assert any("Group Room (G1), a group room" in m for m in msgs)
    assert any("primary therapist of Dev Patel (P4)" in m for m in msgs)


def test_pinned_group_over_room_capacity_and_mixed_cohorts():
    s = base()
    teen = Patient("Y1", "Teen One", cohort=Cohort.ADOLESCENT)
    s = replace(s, patients=s.patients + (teen,), rooms=tuple(
        replace(r, capacity=2) if r.id == "G1" else r for r in s.rooms))
    s = s.with_previous(Timetable((
        Session(0, parse_time("09:00"), parse_time("10:30"), "PROC", ("T1",), "G1", ("P1", "P2", "Y1"),
                True, "S020"),
    )))
    msgs = [f.message for f in precheck(s) if f.rule == "H9"]
    assert any("3 patients in Group Room (G1), which seats 2" in m for m in msgs)
    assert any("Teen One (Y1)" in m and "adult patients" in m for m in msgs)
    assert any("mixes adults and adolescents" in m for m in msgs)


def test_group_with_too_few_patients_free_at_once():
    """Three SUD patients exist, but one is free only when the other two are not."""
    s = base()
    s = replace(s, patients=tuple(
        replace(p, availability=parse_availability("Mon-Fri 15:00-20:00")) if p.id == "P3" else
        replace(p, availability=parse_availability("Mon-Fri 08:00-14:00")) if p.id in ("P1", "P2") else p
        for p in s.patients))
    found = [f for f in precheck(s) if f.rule == "H5" and "RP" in f.subjects]
    assert found, precheck(s)
    assert any("Cara Diaz (P3)" in f.message and "at most 1 eligible patient" in f.message for f in found)


def test_individual_session_needing_more_placements_than_possible():
    """MED twice, but the patient and the psychiatrist overlap for one 30-minute slot only."""
    s = base()
    s = replace(s, staff=tuple(
        replace(x, availability=parse_availability("Mon 13:30-14:00")) if x.id == "DR" else x for x in s.staff))
    s = replace(s, patients=tuple(
        replace(p, requirements=tuple(
            Requirement("MED", 2, 2) if r.activity_id == "MED" else r for r in p.requirements))
        if p.id == "P4" else p for p in s.patients))
    found = [f for f in precheck(s) if f.rule == "H3" and "P4" in f.subjects]
    assert any("twice" in f.message and "at most once" in f.message for f in found), found


# --------------------------------------------------------------------------- speed and soundness at scale


def _scaled_base(copies: int) -> Scenario:
    """The base's patients, staff and rooms copied ``copies`` times (ids suffixed), in one program."""
    b = base()
    patients, staff, rooms = [], [], []
    for k in range(copies):
        sfx = f"_{k}"
        staff += [replace(x, id=x.id + sfx) for x in b.staff]
        rooms += [replace(r, id=r.id + sfx) for r in b.rooms]
        patients += [replace(p, id=p.id + sfx, primary_therapist=(p.primary_therapist or "") + sfx)
                     for p in b.patients]
    return replace(b, patients=tuple(patients), staff=tuple(staff), rooms=tuple(rooms))


def _timed(s: Scenario) -> tuple[float, list[Finding]]:
    """Best of three runs (the machine is shared), and the findings."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        found = precheck(s)
        best = min(best, time.perf_counter() - t0)
    return best, found


def test_precheck_on_500_patients_gives_no_false_alarm():
    """Speed is measured in benchmarks (docs/explanations.md), not asserted here."""
    s = _scaled_base(63)  # 504 patients
    assert len(s.patients) >= 500
    _elapsed, found = _timed(s)
    assert found == []  # 63 copies of a feasible clinic, each with its own staff and rooms


def test_precheck_on_500_patients_finds_the_prescriber_shortage():
    s = _scaled_base(63)
    s = replace(s, staff=tuple(replace(x, availability=parse_availability("Wed 09:00-10:00"))
                               if x.id.startswith("DR") else x for x in s.staff))
    _elapsed, found = _timed(s)
    assert any(f.rule == "H8" and "prescriber" in f.message for f in found)


@pytest.mark.parametrize("n", [12, 60])
def test_generated_clinics_give_no_findings(n):
    """Generated clinics are feasible by construction (their witness passes validate): no false alarm."""
    generate = pytest.importorskip("scheduler.generate")
    validate = pytest.importorskip("scheduler.validate").validate
    clinic = generate.generate_clinic(n, seed=1)
    assert validate(clinic.scenario, clinic.witness) == []
    assert precheck(clinic.scenario) == []


# --------------------------------------------------------------------------- soundness at the edge


def _tighten(scenario: Scenario, timetable: Timetable, slack: int) -> Scenario:
    """The scenario shrunk around a valid timetable: availabilities are the hull of each day's
    sessions (plus ``slack`` minutes each side), caps and limits are exactly what the timetable uses.
    The timetable stays valid, so no check may report anything."""
    from collections import defaultdict

    from scheduler.model import Availability, Window
    from scheduler.timegrid import merge_windows

    prog = scenario.program
    acts = scenario.activity_by_id

    def hull(sessions) -> Availability:
        by_day = defaultdict(list)
        for s in sessions:
            by_day[s.day].append(s)
        wins = [Window(d, max(prog.open, min(s.start for s in ss) - slack),
                       min(prog.close, max(s.end for s in ss) + slack))
                for d, ss in by_day.items()]
        if not wins:  # never used: a quarter of an hour on the first day
            wins = [Window(prog.days[0], prog.open, prog.open + 15)]
        return Availability(merge_windows(wins))

    sessions = timetable.sessions
    patients = []
    for p in scenario.patients:
        mine = [s for s in sessions if p.id in s.patient_ids]
        own = [s for s in mine if acts[s.activity_id].mode != Mode.FAMILY]
        fam = [s for s in mine if acts[s.activity_id].mode == Mode.FAMILY]
        block = defaultdict(int)
        for s in own:
            if acts[s.activity_id].in_block:
                block[s.day] += s.minutes
        counts = defaultdict(int)
        for s in mine:
            counts[s.activity_id] += 1
        week = sum(s.minutes for s in mine)
        patients.append(replace(
            p, availability=hull(own), family_availability=hull(fam) if fam else p.family_availability,
            min_days=len(block), max_days=len(block),
            min_hours=min(block.values()) / 60, max_hours=max(block.values()) / 60,
            min_week_hours=week / 60, max_week_hours=week / 60,
            requirements=tuple(Requirement(a, n, n) for a, n in counts.items() if acts[a].mode != Mode.GROUP
                               or any(r.activity_id == a for r in p.requirements)),
        ))
    staff = []
    for st in scenario.staff:
        mine = [s for s in sessions if st.id in s.staff_ids]
        per_day = defaultdict(int)
        for s in mine:
            per_day[s.day] += s.minutes
        staff.append(replace(st, availability=hull(mine), max_hours_day=max(per_day.values(), default=0) / 60,
                             max_hours_week=sum(per_day.values()) / 60))
    rooms = []
    for r in scenario.rooms:
        mine = [s for s in sessions if s.room_id == r.id]
        rooms.append(replace(r, availability=hull(mine), capacity=max((len(s.patient_ids) for s in mine), default=1)))
    activities = []
    for a in scenario.activities:
        sizes = [len(s.patient_ids) for s in sessions if s.activity_id == a.id]
        if a.is_group and sizes:
            a = replace(a, min_size=min(sizes), max_size=max(sizes))
        activities.append(a)
    return replace(scenario, patients=tuple(patients), staff=tuple(staff), rooms=tuple(rooms),
                   activities=tuple(activities))


@pytest.mark.parametrize("slack", [0, 15, 60])
def test_no_finding_on_a_scenario_shrunk_around_a_valid_timetable(slack):
    validate = pytest.importorskip("scheduler.validate").validate
    tight = _tighten(base(), base_witness(), slack)
    assert validate(tight, base_witness()) == []
    assert precheck(tight) == []
    pinned = Timetable(tuple(replace(s, pinned=True) for s in base_witness().sessions))
    assert precheck(tight.with_previous(pinned)) == []


# --------------------------------------------------------------------------- robustness


def _random_scenario(rng) -> Scenario:
    """Small scenarios with odd values: empty availabilities, zero capacities, unknown ids, odd limits."""
    def avail():
        if rng.random() < 0.3:
            return parse_availability("")
        day = rng.choice(["Mon", "Tue", "Wed", "Sat", "Mon-Fri"])
        start = rng.randrange(6, 20)
        end = min(24, start + rng.randrange(1, 8))
        return parse_availability(f"{day} {start:02d}:{rng.choice(['00', '10', '45'])}-{end:02d}:00")

    program = Program(days=tuple(sorted(rng.sample(range(7), rng.randrange(1, 6)))), open=8 * 60,
                      close=rng.choice([12, 18, 21]) * 60, min_days=rng.randrange(0, 4),
                      min_hours=rng.choice([0, 1, 3]), max_hours=rng.choice([2, 5]),
                      hours_basis=rng.choice(list(HoursBasis)), min_week_hours=rng.choice([0, 9, 30]))
    acts = []
    for i in range(rng.randrange(1, 6)):
        mode = rng.choice(list(Mode))
        acts.append(Activity(f"A{i}", f"Act {i}", mode, rng.choice([15, 30, 60, 90]),
                             rng.randrange(0, 4), rng.randrange(0, 6), rng.choice(["", "x", "y"]),
                             rng.randrange(0, 3), rng.choice(list(RoomKind)), rng.choice(list(Cohort)),
                             rng.choice([None, "SUD"]), rng.random() < 0.4, rng.random() < 0.7))
    staff = tuple(Staff(f"S{i}", f"Staff {i}", skills=frozenset(rng.sample(["x", "y", "z"], rng.randrange(0, 3))),
                        availability=avail(), max_hours_day=rng.choice([None, 0, 2, 8]),
                        max_hours_week=rng.choice([None, 0, 5, 40])) for i in range(rng.randrange(0, 4)))
    rooms = tuple(Room(f"R{i}", f"Room {i}", rng.choice([RoomKind.GROUP, RoomKind.OFFICE]), rng.randrange(0, 6),
                       avail()) for i in range(rng.randrange(0, 3)))
    patients = []
    for i in range(rng.randrange(0, 6)):
        reqs = tuple(Requirement(rng.choice([a.id for a in acts] + ["ZZ"]), lo, lo + rng.randrange(-1, 3))
                     for lo in [rng.randrange(0, 4) for _ in range(rng.randrange(0, 4))])
        patients.append(Patient(f"P{i}", rng.choice(["", f"Pat {i}"]), rng.choice([Cohort.ADULT, Cohort.ADOLESCENT]),
                                frozenset(rng.sample(["SUD"], rng.randrange(0, 2))),
                                max_days=rng.choice([None, 0, 2, 5]), availability=avail(),
                                family_availability=avail(), primary_therapist=rng.choice([None, "S0", "S9"]),
                                requirements=reqs))
    pins = tuple(Session(rng.randrange(0, 7), 8 * 60 + 15 * k, 8 * 60 + 15 * k + rng.choice([15, 60]),
                         rng.choice([a.id for a in acts] + ["ZZ"]),
                         tuple(rng.sample([s.id for s in staff] + ["S9"], rng.randrange(0, 2))),
                         rng.choice([None, "R0", "R9"]),
                         tuple(rng.sample([p.id for p in patients] + ["P9"], rng.randrange(0, 2))), True)
                 for k in range(rng.randrange(0, 4)))
    return Scenario(program, tuple(acts), staff, rooms, tuple(patients), Timetable(pins))


def test_precheck_never_raises_on_odd_scenarios():
    import random

    rng = random.Random(7)
    for _ in range(400):
        found = precheck(_random_scenario(rng))
        assert all(isinstance(f, Finding) and f.message and f.rule.startswith("H") for f in found)


@pytest.mark.parametrize("seed", [0, 3])
def test_no_finding_on_generated_clinic_shrunk_around_its_witness(seed):
    generate = pytest.importorskip("scheduler.generate")
    validate = pytest.importorskip("scheduler.validate").validate
    clinic = generate.generate_clinic(30, seed=seed)
    tight = _tighten(clinic.scenario, clinic.witness, 0)
    assert validate(tight, clinic.witness) == []
    assert precheck(tight) == []


# --------------------------------------------------------------------------- outside check (outside17)


def test_an_activity_no_one_can_deliver_is_a_finding_naming_the_skill_and_patients(tmp_path):
    """RP's skill 'sud' is held by no one and P02 needs RP: it reads (a warning), and the finding is H5."""
    scenario = read_scenario(write_rp_nobody_leads(tmp_path / "rp")).scenario
    assert precheck(scenario) == [Finding("H5", ("RP", "P02"), (
        "No staff member holds the skill 'sud' to deliver Relapse prevention (RP), which 1 patient must attend: "
        "B.K. (P02)."))]


def test_a_session_longer_than_a_required_staff_members_daily_cap_is_h8_not_never_free(tmp_path):
    """EVAL (125 min) needs both T1 and T2, and T1 may work 2 h a day. They are free together Tue 10:00-13:00
    and Sat 08:00-12:05, so "never free at the same time" (H3) was false: the cause is T1's cap (H8)."""
    scenario = read_scenario(write_eval_over_daily_cap(tmp_path / "cap2", t1_cap=2)).scenario
    found = precheck(scenario)
    assert found == [Finding("H8", ("EVAL", "T1", "P01"), (
        "Intake assessment (EVAL) takes 125 min and needs 2 staff members with skill 'therapy' per session, but "
        "Ana Brooks (T1) may work at most 2 h a day, less than one session, so only Ben Okafor (T2) is left to "
        "deliver it; 1 patient must attend: Quentin Solo (P01)."))]
    assert not any("never free at the same time" in f.message for f in found)
    # A cap of 3 h holds a 125-min session: neither finding.
    raised = read_scenario(write_eval_over_daily_cap(tmp_path / "cap3", t1_cap=3)).scenario
    assert precheck(raised) == []


def test_co_facilitators_never_free_together_is_still_reported_when_true(tmp_path):
    """T2 works only Mon 08:00-12:00 and T1 (cap 3 h) only Tue-Sat: each is free long enough for the
    125-min EVAL, never together. The H3 finding says so, naming both and their windows."""
    scenario = read_scenario(write_eval_over_daily_cap(
        tmp_path / "apart", t1_cap=3, t2_availability="Mon 08:00-12:00")).scenario
    scenario = replace(scenario, staff=tuple(
        replace(x, availability=parse_availability("Tue-Sat 08:00-14:00")) if x.id == "T1" else x
        for x in scenario.staff))
    found = [f for f in precheck(scenario) if "EVAL" in f.subjects]
    assert [f.rule for f in found] == ["H3"], found
    assert found[0].message.startswith(
        "Quentin Solo (P01) and 2 staff members with skill 'therapy' (of Ana Brooks (T1) and Ben Okafor (T2)) are "
        "never free at the same time for the 125 min of Intake assessment (EVAL)")
    assert "T1 Tue-Sat 08:00-14:00; T2 Mon 08:00-12:00" in found[0].message
    assert {"P01", "T1", "T2", "EVAL"} <= set(found[0].subjects)


def test_a_primary_therapist_capped_below_one_session_is_h8():
    """Priya Nair (T2) may work 0.5 h a day, less than the 60 min of Individual Therapy only she may give
    her patients: one H8 finding naming her, the cap, the activity and the patients, and no H3."""
    s = base()
    s = replace(s, staff=tuple(replace(x, max_hours_day=0.5) if x.id == "T2" else x for x in s.staff))
    patients = [p for p in s.patients if p.primary_therapist == "T2" and p.requirement("IND")]
    assert patients
    found = [f for f in precheck(s) if "IND" in f.subjects and "T2" in f.subjects]
    assert [f.rule for f in found] == ["H8"], found
    assert {p.id for p in patients} <= set(found[0].subjects)
    assert "Priya Nair (T2)" in found[0].message and "at most 0.5 h a day" in found[0].message
    assert "Individual Therapy (IND) takes 60 min" in found[0].message


def test_a_group_whose_co_facilitators_never_meet_the_patients_names_them_and_every_patients_hours():
    """The tiny clinic with CBT led by two (Ana Brooks all day, Cara Diaz only Mon/Wed/Fri afternoons)
    while its six patients come mornings: the H3 finding names both staff with their hours, and the six
    patients' hours once (an outside check: no staff named, four of six patients' hours listed)."""
    from pathlib import Path

    tiny = read_scenario(Path(__file__).parent / "data" / "tiny").scenario
    cara = Staff("T3", "Cara Diaz", "LPC", frozenset({"cbt"}), parse_availability("Mon,Wed,Fri 13:00-17:00"), 8, 36)
    scenario = replace(tiny, staff=tiny.staff + (cara,),
                       activities=tuple(replace(a, staff_count=2) if a.id == "CBT" else a for a in tiny.activities))
    found = [f for f in precheck(scenario) if "CBT" in f.subjects]
    assert [f.rule for f in found] == ["H3"], found
    text = found[0].message
    assert "(P01, P02, P03, P04, P05 and P06 Mon-Fri 09:00-13:00)" in text, text
    assert "2 staff members with skill 'cbt' (of Ana Brooks (T1)" in text and "Cara Diaz (T3) Mon,Wed,Fri 13:00-17:00" in text

"""Solver inputs at the edges: a valid timetable or a clear explanation, never an exception.

Every case calls ``solve`` directly and accepts exactly two outcomes:

- a timetable (status ``optimal`` or ``feasible``) that ``scheduler.validate.validate`` passes
  with no violation, or
- status ``infeasible`` with explanations that name the cause (the person, room or rule).

Anything else fails: an exception, status ``invalid`` (the model could not be built), or
``unknown``/``cancelled`` without a timetable on these small cases. The 500-patient clinic is
the exception: there the contract is "returns, without an exception, something valid", and
what it returns is recorded (docs/reliability.md). Time limits are small (``LIMIT``) except
for that case (60 s). Statuses and times are printed at the end of the session and written to
``<pytest basetemp>/solver_edges_summary.json``.
"""

from __future__ import annotations

import contextlib
import json
import resource
import time
from dataclasses import replace

import pytest

from scheduler.generate import generate_clinic
from scheduler.model import (
    Activity,
    Mode,
    Patient,
    Program,
    Requirement,
    Room,
    RoomKind,
    Scenario,
    Staff,
)
from scheduler.timegrid import parse_availability
from scheduler.validate import validate
from solver import SolveParams, SolveResult, SolveStatus, solve

LIMIT = 5.0  # seconds per small case
OFF_WEDNESDAY = parse_availability("Mon,Tue,Thu,Fri 08:00-21:00")
BIG_LIMIT = 60.0  # the 500-patient clinic
RESULTS: dict[str, dict] = {}


@pytest.fixture(scope="session", autouse=True)
def _edges_report(request, tmp_path_factory):
    """At the end of the session: what each edge case returned."""
    yield
    if not RESULTS:
        return
    path = tmp_path_factory.getbasetemp() / "solver_edges_summary.json"
    path.write_text(json.dumps(RESULTS, indent=2))
    lines = [f"solver edge cases ({path}):"] + [
        f"  {name}: {r['status']} in {r['wall_seconds']:.1f} s (objective {r['objective']}, bound {r['bound']})"
        for name, r in RESULTS.items()
    ]
    _show(request, lines)


def _show(request, lines: list[str]) -> None:
    """Print past pytest's output capture (the session is ending)."""
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        for line in lines:
            if reporter is not None:
                reporter.write_line(line)
            else:  # pragma: no cover - without the terminal plugin
                print(line)


def run(name: str, scenario: Scenario, limit: float = LIMIT) -> SolveResult:
    """Solve, record what came back, and reject an exception or an 'invalid' model outright."""
    started = time.monotonic()
    result = solve(scenario, SolveParams(time_limit=limit, workers=2))  # an exception fails the test here
    wall = time.monotonic() - started
    RESULTS[name] = {
        "status": result.status.value, "wall_seconds": round(wall, 2), "solver_seconds": round(result.seconds, 2),
        "time_limit": limit, "objective": result.objective, "bound": result.bound,
        "sessions": None if result.timetable is None else len(result.timetable.sessions),
        "message": result.message, "explanations": list(result.explanations[:3]),
    }
    assert result.status is not SolveStatus.INVALID, f"the model could not be built: {result.message}"
    # The result's seconds are the solve's wall time, the rounds and polish after the search
    # included (they once reported when the search stopped: 5.0 s of a 19.6-s solve).
    assert wall - 0.5 <= result.seconds <= wall + 1e-6, (result.seconds, wall)
    return result


def assert_valid_timetable(scenario: Scenario, result: SolveResult) -> None:
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE), result.headline() + " " + result.message
    assert result.timetable is not None
    violations = validate(scenario, result.timetable)
    assert violations == [], "\n".join(v.message for v in violations[:10])


def assert_explained(result: SolveResult, *words: str) -> None:
    """Infeasible, with at least one explanation that names every one of ``words``."""
    assert result.status is SolveStatus.INFEASIBLE, result.headline()
    assert result.timetable is None
    assert result.explanations, f"infeasible without an explanation: {result.message!r}"
    assert any(all(w in text for w in words) for text in result.explanations), (words, result.explanations)


# --------------------------------------------------------------------------- a small clinic to bend


def clinic(n_patients: int = 3, **program) -> Scenario:
    """Three 60-minute groups open to anyone from one patient up, individual therapy, two therapists."""
    activities = (
        Activity("PROC", "Process group", Mode.GROUP, 60, 1, 8, "process", room_kind=RoomKind.GROUP),
        Activity("CBT", "CBT skills group", Mode.GROUP, 60, 1, 8, "cbt", room_kind=RoomKind.GROUP),
        Activity("PSYED", "Psychoeducation", Mode.GROUP, 60, 1, 8, "psyed", room_kind=RoomKind.GROUP),
        Activity("IND", "Individual therapy", Mode.INDIVIDUAL, 60, skill="therapy", room_kind=RoomKind.OFFICE,
                 with_primary=True),
    )
    skills = frozenset({"process", "cbt", "psyed", "therapy"})
    staff = (Staff("T1", "Ana Brooks", "LCSW", skills), Staff("T2", "Ben Okafor", "LPC", skills))
    rooms = (Room("G1", "Group room", RoomKind.GROUP, 10), Room("O1", "Office", RoomKind.OFFICE, 1))
    patients = tuple(
        Patient(f"P{i}", f"Patient {i}", availability=parse_availability("Mon-Fri 09:00-13:00"),
                primary_therapist="T1" if i % 2 else "T2",
                requirements=(Requirement("PROC", 3, 3), Requirement("CBT", 3, 3), Requirement("IND", 1, 1)))
        for i in range(1, n_patients + 1)
    )
    return Scenario(Program(name="Edge clinic", **program), activities, staff, rooms, patients)


# --------------------------------------------------------------------------- people


def test_zero_patients():
    scenario = replace(clinic(), patients=())
    result = run("zero patients", scenario)
    assert_valid_timetable(scenario, result)
    assert result.status is SolveStatus.OPTIMAL and result.timetable.sessions == ()


def test_empty_scenario():
    scenario = Scenario(Program())
    result = run("empty scenario (no activities, staff, rooms or patients)", scenario)
    assert_valid_timetable(scenario, result)
    assert result.timetable.sessions == ()


def test_one_patient_in_groups_of_min_size_one():
    scenario = replace(clinic(), patients=clinic().patients[:1])
    result = run("one patient, groups of min_size 1", scenario)
    assert_valid_timetable(scenario, result)
    groups = [s for s in result.timetable.sessions if s.activity_id in ("PROC", "CBT")]
    assert len(groups) == 6 and all(s.patient_ids == ("P1",) for s in groups)


def test_patient_without_requirements_gets_program_hours_from_groups():
    base = clinic()
    patient = replace(base.patients[0], requirements=())
    scenario = replace(base, patients=(patient,))
    result = run("a patient with no requirements", scenario)
    assert_valid_timetable(scenario, result)
    mine = result.timetable.of_patient("P1")
    assert mine and all(scenario.activity_by_id[s.activity_id].is_group for s in mine)
    assert sum(s.minutes for s in mine) >= 9 * 60  # the program's min_week_hours, from groups alone


# --------------------------------------------------------------------------- staff and rooms


def test_all_staff_unavailable_one_day():
    base = clinic()
    off_wednesday = tuple(replace(m, availability=OFF_WEDNESDAY) for m in base.staff)
    scenario = replace(base, staff=off_wednesday)
    result = run("all staff off on Wednesday", scenario)
    assert_valid_timetable(scenario, result)
    assert not [s for s in result.timetable.sessions if s.day == 2]


def test_patient_who_can_only_come_when_no_staff_work_is_explained():
    base = clinic()
    off_wednesday = tuple(replace(m, availability=OFF_WEDNESDAY) for m in base.staff)
    patient = replace(base.patients[0], availability=parse_availability("Wed 09:00-13:00"), min_days=1, max_days=1,
                      min_week_hours=3, requirements=(Requirement("PROC", 1, 1), Requirement("CBT", 1, 1)))
    scenario = replace(base, staff=off_wednesday, patients=(patient,))
    assert_explained(run("only patient comes on the day no staff work", scenario), "P1", "Wed")


def test_no_staff_at_all_is_explained():
    result = run("no staff at all", replace(clinic(), staff=()))
    assert_explained(result, "therapy", "Individual therapy (IND)")


def test_co_facilitated_group_with_one_qualified_facilitator_is_explained():
    base = clinic()
    activities = (replace(base.activities[0], staff_count=2),) + base.activities[1:]
    scenario = replace(base, activities=activities, staff=base.staff[:1])
    assert_explained(run("staff_count 2, one qualified facilitator", scenario), "PROC", "2 staff", "T1")


def test_room_of_capacity_zero_is_never_used():
    base = clinic()
    scenario = replace(base, rooms=(Room("G0", "Broom cupboard", RoomKind.GROUP, 0),) + base.rooms)
    result = run("a group room of capacity 0 beside a real one", scenario)
    assert_valid_timetable(scenario, result)
    assert not result.timetable.of_room("G0")


def test_only_group_room_of_capacity_zero_is_explained():
    base = clinic()
    scenario = replace(base, rooms=(Room("G0", "Broom cupboard", RoomKind.GROUP, 0), base.rooms[1]))
    assert_explained(run("the only group room seats 0", scenario), "G0", "seats 0")


def test_activities_without_rooms():
    base = clinic()
    activities = tuple(replace(a, room_kind=RoomKind.NONE) for a in base.activities)
    scenario = replace(base, activities=activities, rooms=())
    result = run("every activity room_kind none, no rooms", scenario)
    assert_valid_timetable(scenario, result)
    assert result.timetable.sessions and all(s.room_id is None for s in result.timetable.sessions)


# --------------------------------------------------------------------------- time


def test_seven_day_week():
    base = clinic(days=tuple(range(7)), max_days=7)
    weekend_lovers = tuple(
        replace(p, availability=parse_availability("Mon-Sun 09:00-13:00"), preferred_days=(5, 6)) for p in base.patients
    )
    scenario = replace(base, patients=weekend_lovers)
    result = run("7-day week", scenario)
    assert_valid_timetable(scenario, result)


def test_five_minute_grid():
    base = clinic(slot_minutes=5, open=9 * 60, close=14 * 60, max_gap_minutes=5)
    activities = base.activities + (
        Activity("MED", "Medication check", Mode.INDIVIDUAL, 5, skill="prescriber", room_kind=RoomKind.OFFICE),
    )
    staff = base.staff + (Staff("DR", "Dr Reyes", "Psychiatrist", frozenset({"prescriber"})),)
    rooms = base.rooms + (Room("O2", "Medication office", RoomKind.OFFICE, 1),)
    patients = tuple(replace(p, requirements=p.requirements + (Requirement("MED", 1, 1),)) for p in base.patients)
    scenario = replace(base, activities=activities, staff=staff, rooms=rooms, patients=patients)
    result = run("5-minute grid with a 5-minute activity", scenario)
    assert_valid_timetable(scenario, result)
    assert [s for s in result.timetable.sessions if s.activity_id == "MED" and s.minutes == 5]


def test_odd_durations_on_a_five_minute_grid_with_one_group_room():
    """An outside check's clinic: groups of 55, 50, 40 and 35 minutes and sessions of 45 and 25 on a
    5-minute grid, 08:05-14:00, idle gaps of at most 5 minutes, one group room, a prescriber two
    mornings an hour each; three patients. The template places none of them; until session 15 the
    fit had half the time limit first and the week stayed `unknown` at 15 and 60 s (the whole-week
    model alone finds one in ~10 s). With half or more left out, the fit now gets a tenth and the
    model the rest (30 s: complete, objective 12.75 against the outside check's own 22.75)."""
    from solver_fixtures import reqs as needs

    gap = parse_availability
    activities = (
        Activity("PROC", "Process group", Mode.GROUP, 55, 2, 8, "process", room_kind=RoomKind.GROUP),
        Activity("CBT", "CBT", Mode.GROUP, 50, 2, 8, "cbt", room_kind=RoomKind.GROUP),
        Activity("PSYED", "Psyed", Mode.GROUP, 40, 2, 8, "psyed", room_kind=RoomKind.GROUP),
        Activity("WELL", "Wellness", Mode.GROUP, 35, 2, 8, "psyed", room_kind=RoomKind.GROUP),
        Activity("IND", "Individual", Mode.INDIVIDUAL, 45, skill="therapy", room_kind=RoomKind.OFFICE, with_primary=True),
        Activity("MED", "Meds", Mode.INDIVIDUAL, 25, skill="prescriber", room_kind=RoomKind.OFFICE),
    )
    staff = (Staff("T1", "Ana", "LCSW", frozenset({"process", "therapy", "psyed"}), gap("Mon-Fri 08:05-14:00")),
             Staff("T2", "Ben", "LPC", frozenset({"cbt", "therapy", "process"}), gap("Mon-Fri 08:05-13:35")),
             Staff("MD", "Dr", "MD", frozenset({"prescriber"}), gap("Mon,Wed 10:10-11:05")))
    rooms = (Room("G1", "Oak", RoomKind.GROUP, 8), Room("O1", "Off", RoomKind.OFFICE, 1),
             Room("O2", "Off2", RoomKind.OFFICE, 1))

    patients = (Patient("P1", "A", primary_therapist="T1", requirements=needs("PROC=3-5; CBT=2; IND=1; MED=1")),
                Patient("P2", "B", availability=gap("Mon-Fri 08:05-12:35"), primary_therapist="T2",
                        requirements=needs("PROC=3-5; CBT=3; IND=1; MED=1")),
                Patient("P3", "C", primary_therapist="T1", requirements=needs("PROC=3; CBT=1-3; IND=1")))
    program = Program(name="Five", slot_minutes=5, open=8 * 60 + 5, close=14 * 60, max_gap_minutes=5,
                      min_hours=2.5, max_hours=4, min_week_hours=8)
    scenario = Scenario(program, activities, staff, rooms, patients)
    result = run("odd durations on a 5-minute grid", scenario, 40.0)
    assert_valid_timetable(scenario, result)


def test_a_template_leaving_a_third_out_still_gets_the_fits_time():
    """Generated 20/2: the template leaves 7 of 20 out. With a third counted as many (until session 21) the fit
    had a tenth of the limit and the whole-week model the rest, and 60-s solves ended `unknown` with 12-13
    placed (4 of 4 runs); with half (model.MANY_OUT), the fit gets half the limit and places them (complete at
    33.3 and 10.1 s in two runs); 90 s here for a loaded machine."""
    from solver.greedy import greedy_timetable

    scenario = generate_clinic(20, 2).scenario
    template = greedy_timetable(scenario)
    assert 3 * len(template.unplaced) >= len(scenario.patients) > 2 * len(template.unplaced)  # a third, not half
    result = run("generated 20/2: the template leaves a third out", scenario, 90.0)
    assert_valid_timetable(scenario, result)
    assert {pid for s in result.timetable.sessions for pid in s.patient_ids} == {p.id for p in scenario.patients}


# --------------------------------------------------------------------------- size


@pytest.fixture(scope="module")
def big():
    """generate_clinic(500, 0), solved once with a 60 s limit: (scenario, result, wall seconds, peak RSS MiB)."""
    scenario = generate_clinic(500, 0).scenario
    started = time.monotonic()
    result = run("generate_clinic(500, 0)", scenario, BIG_LIMIT)
    wall = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    RESULTS["generate_clinic(500, 0)"]["peak_rss_mib"] = round(peak)
    return scenario, result, wall


@pytest.mark.slow
def test_500_patients_returns_something_valid(big):
    """Returns without an exception; a timetable, if any, breaks no rule. What it returns is recorded."""
    scenario, result, _ = big
    assert result.status is not SolveStatus.INVALID
    if result.timetable is not None:
        assert validate(scenario, result.timetable) == []
    else:
        assert result.status in (SolveStatus.UNKNOWN, SolveStatus.INFEASIBLE), result.headline()
        assert result.message


@pytest.mark.slow
def test_500_patients_respects_the_time_limit(big):
    _, result, wall = big
    assert wall <= 1.5 * BIG_LIMIT, f"time_limit={BIG_LIMIT:g} s, returned after {wall:.0f} s ({result.headline()})"


# --------------------------------------------------------------------------- outside check, session 18

def _outside(name: str, folder):
    try:  # tests/ as a package or as a plain folder on sys.path
        import tests.outside_cases as cases
    except ImportError:
        import outside_cases as cases
    from scheduler.io import read_scenario

    return read_scenario(cases.write_case(folder, getattr(cases, name))).scenario


@pytest.mark.parametrize("name, optimum", [
    ("ZERO_DAYS_FILES", 1.0),  # a patient whose only week is empty (min_days = max_days = 0)
    ("FAMILY_DAY_FILES", 2.0),  # an in-block family session makes a day outside the patient's own hours
    ("FAMILY_CHAIN_FILES", 3.0),  # two in-block family sessions in a row make a family-only day
    ("FAMILY_AFTER_BLOCK_FILES", 1.0),  # two in-block family sessions in a row after the day's group
])
def test_outside_checks_timetables_exist_and_are_found(tmp_path, caplog, name, optimum):
    """Each was called infeasible (or its template crashed) though a valid timetable exists; the
    optimum is the outside checker's, and the best-effort solve agrees with the strict one."""
    from solver.explain_checks import precheck

    scenario = _outside(name, tmp_path / "clinic")
    assert precheck(scenario) == []
    with caplog.at_level("ERROR"):
        result = solve(scenario, SolveParams(time_limit=10))
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # no "greedy template failed"
    assert result.status == SolveStatus.OPTIMAL and result.objective == pytest.approx(optimum)
    assert validate(scenario, result.timetable) == []
    again = solve(scenario, SolveParams(time_limit=10, best_effort=True))
    assert again.waitlist == () and again.objective == pytest.approx(optimum)
    assert validate(scenario, again.timetable) == []

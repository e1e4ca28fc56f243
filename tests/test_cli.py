"""The headless commands, run as a coordinator would: ``python main.py <command> ...`` in a subprocess.

Exit codes (cli.py): 0 success, 1 bad input or violations, 2 no timetable. Scenarios are micro
clinics from tests/solver_fixtures.py written with ``scheduler.io.writer.write_scenario``, so
every solve finishes in about a second.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from scheduler.io.reader import read_scenario, read_timetable
from scheduler.io.writer import write_scenario
from scheduler.model import SOFT_GOAL_NAMES
from scheduler.validate import objective, validate
from solver.greedy import scenario_without

try:  # tests/ as a package or as a plain folder on sys.path
    from tests import solver_fixtures as fx
except ImportError:
    import solver_fixtures as fx

ROOT = Path(__file__).resolve().parent.parent
EXPORTS = ("sessions.csv", "summary.json", "patient_schedule.csv", "staff_schedule.csv", "room_schedule.csv")
SPEC_SUMMARY_KEYS = {"status", "objective", "bound", "gap", "seconds", "terms"}


def run_cli(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def all_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()) if p.is_file())


def name_parts(scenario) -> list[str]:
    """Every patient's full name and each word of it (the fixture names are distinctive)."""
    parts = []
    for p in scenario.patients:
        parts.append(p.name)
        parts.extend(p.name.split())
    return parts


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clinic")
    write_scenario(fx.cli_clinic(), folder)
    return folder


@pytest.fixture(scope="module")
def solved(clinic, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("solved")
    return out, run_cli("solve", clinic, "--out", out, "--time-limit", 20)


# ---------------------------------------------------------------- generate


def test_generate_writes_a_readable_clinic(tmp_path):
    out = tmp_path / "gen"
    done = run_cli("generate", 12, "--out", out)
    assert done.returncode == 0, done.stderr
    for name in ("program.csv", "activities.csv", "staff.csv", "rooms.csv", "patients.csv"):
        assert (out / name).is_file(), name
    result = read_scenario(out)
    assert len(result.scenario.patients) == 12
    assert str(out) in done.stdout


# ---------------------------------------------------------------- solve


def test_solve_writes_every_export(solved):
    out, done = solved
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("status="), done.stdout
    assert lines[0].startswith("status=optimal ")
    for name in EXPORTS:
        assert (out / name).is_file(), name
    assert not (out / "waitlist.csv").exists()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert SPEC_SUMMARY_KEYS <= set(summary)
    assert summary["status"] == "optimal"
    assert summary["gap"] == 0
    assert summary["bound"] == pytest.approx(summary["objective"])
    assert {t["name"] for t in summary["terms"]} == {
        "preferences", "continuity", "stability", "balance", "efficiency", "spread"}
    assert all({"name", "weight", "value"} <= set(t) for t in summary["terms"])


def test_solved_sessions_validate_and_score_as_summarised(solved, clinic):
    out, _ = solved
    scenario = read_scenario(clinic).scenario
    timetable = read_timetable(out / "sessions.csv", scenario)
    assert validate(scenario, timetable) == []
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert objective(scenario, timetable) == pytest.approx(summary["objective"], abs=1e-6)
    rows = read_rows(out / "sessions.csv")
    assert rows and {"session_id", "day", "date", "start", "end", "activity_id", "activity_name", "staff_ids",
                     "room_id", "patient_ids", "pinned"} <= set(rows[0])
    # week_start 2026-11-30 is a Monday: exports carry dates.
    assert {(r["day"], r["date"]) for r in rows} <= {("Mon", "2026-11-30"), ("Tue", "2026-12-01")}
    people = read_rows(out / "patient_schedule.csv")
    assert {r["patient_id"] for r in people} == {"P1", "P2", "P3"}
    assert sum(len(r["patient_ids"].split(";")) for r in rows) == len(people)


def test_validate_accepts_the_solved_timetable(solved, clinic):
    out, _ = solved
    done = run_cli("validate", clinic, out / "sessions.csv")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 violation(s)" in done.stdout


def _break_outside_availability(rows):
    # P1 is available 09:00-11:00 on both days; the program is open until 12:00. Moving one of
    # P1's sessions to 11:00-12:00 keeps it inside opening hours (no H0) but outside P1's window.
    row = next(r for r in rows if "P1" in r["patient_ids"].split(";"))
    start, end = int(row["start"][:2]) * 60 + int(row["start"][3:]), int(row["end"][:2]) * 60 + int(row["end"][3:])
    row["start"], row["end"] = "11:00", f"{11 + (end - start) // 60:02d}:{(end - start) % 60:02d}"
    return rows, "H3", "P1"


def _break_double_booking(rows):
    # The same session twice (a new id): its patient, staff and room are in two places at once.
    row = next(r for r in rows if r["activity_id"] == "IND")
    rows.append(dict(row, session_id="S999"))
    return rows, "H4", row["patient_ids"]


def _break_patient_listed_twice(rows):
    row = next(r for r in rows if r["activity_id"] == "PROC")
    first = row["patient_ids"].split(";")[0]
    row["patient_ids"] = f"{row['patient_ids']};{first}"
    return rows, "H0", first


@pytest.mark.parametrize("bend", [_break_outside_availability, _break_double_booking, _break_patient_listed_twice],
                         ids=["outside availability", "double booked", "patient listed twice"])
def test_validate_reports_a_broken_timetable(solved, clinic, tmp_path, bend):
    out, _ = solved
    rows, rule, who = bend(read_rows(out / "sessions.csv"))
    broken = tmp_path / "sessions.csv"
    write_rows(broken, rows)
    done = run_cli("validate", clinic, broken)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith(f"{rule}: ")]
    assert lines, done.stdout
    assert any(who in line for line in lines), done.stdout
    assert "0 violation(s)" not in done.stdout


# ---------------------------------------------------------------- no timetable


INFEASIBLE = {
    # Found by the pre-solve checks: 3 h a day needed, 2 h of availability.
    "precheck": (lambda: fx.micro([fx.patient("P1", "PROC=1", "Mon 09:00-11:00", name="Annabel Quartermaine",
                                              min_hours=3)],
                                  [fx.group("PROC")], [fx.staff("S1")], [fx.room("R1")]), 20),
    # Found only by the search (three patients, one 09:00-10:00 PROC for two): the CLI explains it.
    "search": (fx.oversubscribed_group, 3),
}


@pytest.mark.parametrize("case", list(INFEASIBLE))
def test_solve_infeasible_exits_2_and_names_the_patient(case, tmp_path):
    builder, limit = INFEASIBLE[case]
    scenario = builder()
    folder = tmp_path / "scn"
    write_scenario(scenario, folder)
    out = tmp_path / "out"
    out.mkdir()
    (out / "sessions.csv").write_text("an earlier solve's timetable\n")
    done = run_cli("solve", folder, "--out", out, "--time-limit", limit)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout.startswith("status=infeasible"), done.stdout
    assert "Why no timetable exists:" in done.stdout
    explanation = done.stdout.split("Why no timetable exists:", 1)[1]
    p = scenario.patients[0]
    assert p.id in explanation or p.name in explanation, done.stdout
    # The result states its status and terms (SPEC section 5) in summary.json; no timetable file
    # is left for it, not even an earlier solve's (until session 14 nothing was written).
    assert not (out / "sessions.csv").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "infeasible" and summary["objective"] is None
    assert [t["name"] for t in summary["terms"]] == list(SOFT_GOAL_NAMES)
    assert any(p.id in line or p.name in line for line in summary["explanations"])


def _bad_number(folder: Path):
    rows = read_rows(folder / "patients.csv")
    rows[1]["min_days"] = "lots"  # spreadsheet row 3 (header = row 1)
    write_rows(folder / "patients.csv", rows)
    return "patients.csv", "row 3", "min_days", "lots"


def _dangling_therapist(folder: Path):
    rows = read_rows(folder / "patients.csv")
    rows[2]["primary_therapist"] = "T9"  # row 4
    write_rows(folder / "patients.csv", rows)
    return "patients.csv", "row 4", "primary_therapist", "T9"


def _missing_column(folder: Path):
    rows = read_rows(folder / "rooms.csv")
    write_rows(folder / "rooms.csv", [{k: v for k, v in r.items() if k != "capacity"} for r in rows])
    return "rooms.csv", None, "capacity", None


@pytest.mark.parametrize("bend", [_bad_number, _dangling_therapist, _missing_column],
                         ids=["bad number", "dangling reference", "missing column"])
def test_solve_on_bad_input_names_file_row_and_column(clinic, tmp_path, bend):
    folder = tmp_path / "bad"
    shutil.copytree(clinic, folder)
    file, row, column, value = bend(folder)
    done = run_cli("solve", folder, "--out", tmp_path / "out", "--time-limit", 20)
    assert done.returncode == 1, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line and file in line]
    assert errors, done.stderr
    line = next((e for e in errors if column in e), None)
    assert line is not None, done.stderr
    if row:
        assert row in line, line
    if value:
        assert value in line, line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# ---------------------------------------------------------------- database


@pytest.fixture(scope="module")
def database(clinic, tmp_path_factory) -> str:
    """A SQLite clinic database holding the micro clinic, imported with the CLI."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'x.db'}"
    done = run_cli("import", clinic, "--db", url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Imported 3 patients, 2 staff, 3 rooms, 2 activities" in done.stdout
    return url


def test_import_then_export_round_trips_the_scenario(clinic, database, tmp_path):
    out = tmp_path / "exported"
    done = run_cli("export", "--db", database, "--scenario", "--out", out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert read_scenario(out).scenario == read_scenario(clinic).scenario
    for name in ("program.csv", "activities.csv", "staff.csv", "rooms.csv", "patients.csv"):
        assert (out / name).read_text(encoding="utf-8") == (clinic / name).read_text(encoding="utf-8"), name


def test_export_of_a_stored_timetable_can_be_deidentified(clinic, database, solved, tmp_path):
    from scheduler.store import Store

    out, _ = solved
    scenario = read_scenario(clinic).scenario
    assert any(p.name in all_text(out) for p in scenario.patients)  # names are there without the option
    with Store.open(database) as store:
        store.save_timetable("week 1", read_timetable(out / "sessions.csv", scenario),
                             json.loads((out / "summary.json").read_text(encoding="utf-8")))
    listed = run_cli("export", "--db", database, "--out", tmp_path / "unused", "--list")
    assert listed.returncode == 0 and "week 1" in listed.stdout, listed.stdout + listed.stderr
    anonymous = tmp_path / "anonymous"
    done = run_cli("export", "--db", database, "--out", anonymous, "--deidentify")
    assert done.returncode == 0, done.stdout + done.stderr
    for name in EXPORTS:
        assert (anonymous / name).is_file(), name
    text = all_text(anonymous)
    assert [part for part in name_parts(scenario) if part in text] == []
    assert {r["patient_id"] for r in read_rows(anonymous / "patient_schedule.csv")} == {"P1", "P2", "P3"}
    exported = read_timetable(anonymous / "sessions.csv", scenario)
    assert sorted(map(fx.key, exported.sessions)) == sorted(
        map(fx.key, read_timetable(out / "sessions.csv", scenario).sessions))


def names_in_free_text(scenario):
    """The clinic with its patients' names also written into free text: the program's, an activity's
    and a room's name, a staff role, a status."""
    p1, p2, p3 = (p.name for p in scenario.patients)
    return replace(
        scenario,
        program=replace(scenario.program, name=f"{p1}'s morning group"),
        activities=(replace(scenario.activities[0], name=f"Process group ({p2} joins late)"),
                    *scenario.activities[1:]),
        staff=(replace(scenario.staff[0], role=f"keyworker for {p3}"), *scenario.staff[1:]),
        rooms=(replace(scenario.rooms[0], name=f"{p1} room"), *scenario.rooms[1:]),
        patients=(*scenario.patients[:2], replace(scenario.patients[2], status=f"new, referred with {p2}")),
    )


def test_export_of_the_scenario_can_be_deidentified(tmp_path):
    """Fixed (session 19): --deidentify was ignored with --scenario, which wrote every patient's name."""
    named = names_in_free_text(fx.cli_clinic())
    write_scenario(named, tmp_path / "clinic")
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run_cli("import", tmp_path / "clinic", "--db", url).returncode == 0
    plain = run_cli("export", "--db", url, "--scenario", "--out", tmp_path / "plain")
    assert plain.returncode == 0 and all(p.name in all_text(tmp_path / "plain") for p in named.patients)

    out = tmp_path / "anonymous"
    done = run_cli("export", "--db", url, "--scenario", "--deidentify", "--out", out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"De-identified scenario written to {out}" in done.stdout
    text = all_text(out)
    assert [part for part in name_parts(named) if part in text] == []
    # Each name became its patient's id, wherever it was; everything else is as imported.
    scenario = fx.cli_clinic()
    expected = replace(
        scenario,
        program=replace(scenario.program, name="P1's morning group"),
        activities=(replace(scenario.activities[0], name="Process group (P2 joins late)"), *scenario.activities[1:]),
        staff=(replace(scenario.staff[0], role="keyworker for P3"), *scenario.staff[1:]),
        rooms=(replace(scenario.rooms[0], name="P1 room"), *scenario.rooms[1:]),
        patients=tuple(replace(p, name=p.id) for p in scenario.patients[:2])
        + (replace(scenario.patients[2], name="P3", status="new, referred with P2"),),
    )
    assert read_scenario(out).scenario == expected
    # ... and it solves, into a timetable that holds for the identified clinic too.
    solved = run_cli("solve", out, "--out", tmp_path / "solved", "--time-limit", 20)
    assert solved.returncode == 0 and solved.stdout.startswith("status=optimal"), solved.stdout + solved.stderr
    assert validate(named, read_timetable(tmp_path / "solved" / "sessions.csv", named)) == []


def test_export_list_needs_no_out(clinic, solved, tmp_path):
    """Fixed (session 19): `export --list` failed with "the following arguments are required: --out"."""
    from scheduler.store import Store

    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run_cli("import", clinic, "--db", url).returncode == 0
    scenario = read_scenario(clinic).scenario
    with Store.open(url) as store:
        store.save_timetable("week 1", read_timetable(solved[0] / "sessions.csv", scenario), None)
    listed = run_cli("export", "--db", url, "--list")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert listed.stdout.startswith("week 1\t") and listed.stderr == ""
    # Every other export still needs --out: exit 1 with the usage line, nothing written.
    for extra in ((), ("--scenario",), ("--timetable", "week 1")):
        done = run_cli("export", "--db", url, *extra)
        assert done.returncode == 1, done.stdout + done.stderr
        assert done.stderr.startswith("usage: ")
        one_error(done, "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.db"]


# ---------------------------------------------------------------- options


def test_best_effort_writes_the_waitlist(tmp_path):
    scenario = fx.oversubscribed_therapist()
    folder, out = tmp_path / "scn", tmp_path / "out"
    write_scenario(scenario, folder)
    done = run_cli("solve", folder, "--out", out, "--best-effort", "--time-limit", 3)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0].startswith("status=")
    waitlist = read_rows(out / "waitlist.csv")
    assert len(waitlist) == 1 and set(waitlist[0]) == {"patient_id", "reason"}
    left_out = waitlist[0]["patient_id"]
    assert left_out in {"P1", "P2", "P3"} and waitlist[0]["reason"].strip()
    assert f"waitlisted {left_out}" in done.stdout
    assert "1 patient(s) on the waitlist" in done.stdout  # the result's message, then each entry
    timetable = read_timetable(out / "sessions.csv", scenario)
    assert validate(scenario_without(scenario, [left_out]), timetable) == []
    assert left_out not in {pid for s in timetable.sessions for pid in s.patient_ids}
    # `validate --waitlist` holds the others to the rules and scores as summary.json does.
    checked = run_cli("validate", folder, out / "sessions.csv", "--waitlist", out / "waitlist.csv")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert f"0 violation(s); objective {summary['objective']:.2f}" in checked.stdout
    assert run_cli("validate", folder, out / "sessions.csv").returncode == 1  # the waitlisted patient's rules


def test_deidentified_solve_exports_carry_no_patient_name(clinic, solved, tmp_path):
    plain, _ = solved
    scenario = read_scenario(clinic).scenario
    assert any(p.name in all_text(plain) for p in scenario.patients)  # names are there without the option
    out = tmp_path / "anonymous"
    done = run_cli("solve", clinic, "--out", out, "--time-limit", 20, "--deidentify")
    assert done.returncode == 0, done.stdout + done.stderr
    for name in EXPORTS:
        assert (out / name).is_file()
    text = all_text(out)
    assert [part for part in name_parts(scenario) if part in text] == []
    assert {r["patient_id"] for r in read_rows(out / "patient_schedule.csv")} == {"P1", "P2", "P3"}
    assert "Dana Reyes" in text  # staff names are not patient data


ON_SCREEN = {
    # A waitlist reason that names the patients (Dana Reyes is primary therapist of all three).
    "waitlist": (fx.oversubscribed_therapist, ("--best-effort",), 0),
    # An explanation that names the patient.
    "no timetable": (INFEASIBLE["precheck"][0], (), 2),
}


@pytest.mark.parametrize("case", list(ON_SCREEN))
def test_deidentified_solve_prints_no_patient_name(case, tmp_path):
    """Fixed (session 19): with --deidentify the files had ids, but the screen still showed names."""
    builder, options, code = ON_SCREEN[case]
    scenario = builder()
    write_scenario(scenario, tmp_path / "scn")
    shown = {}
    for extra in ((), ("--deidentify",)):
        done = run_cli("solve", tmp_path / "scn", "--out", tmp_path / f"out{len(extra)}", "--time-limit", 10,
                       *options, *extra)
        assert done.returncode == code, done.stdout + done.stderr
        shown[extra] = done.stdout + done.stderr
    named = [p.name for p in scenario.patients if p.name in shown[()]]
    assert named, shown[()]  # the control: without the option the screen names them
    anonymous = shown[("--deidentify",)]
    assert [p.name for p in scenario.patients if p.name in anonymous] == []
    assert all(p.id in anonymous for p in scenario.patients if p.name in named)
    # The screen says what the files say.
    folder = tmp_path / "out1"
    if code == 0:
        reasons = [r["reason"] for r in read_rows(folder / "waitlist.csv")]
    else:
        reasons = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["explanations"]
    assert reasons and all(reason in anonymous for reason in reasons)


# ---------------------------------------------------------------- bad arguments and unwritable outputs
# Fixed audit findings F1, F3, F10, F11, F12 (session 14): exit 1 and a message, never a traceback;
# never exit 2, which means "no timetable".


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def one_error(done: subprocess.CompletedProcess, *words: str) -> str:
    """The single error line on stderr; it must contain every word, and there is no traceback."""
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, done.stderr
    assert all(w in errors[0] for w in words), errors[0]
    return errors[0]


@pytest.mark.parametrize("option, value", [
    ("--time-limit", "abc"), ("--time-limit", "-5"), ("--time-limit", "0"), ("--time-limit", "inf"),
    ("--gap", "-1"), ("--gap", "1"), ("--gap", "nan"), ("--workers", "0"), ("--workers", "-2"),
    ("--seed", "-1"), ("--seed", "99999999999"),
])
def test_solve_refuses_a_bad_option_value_with_exit_1(clinic, tmp_path, option, value):
    done = run_cli("solve", clinic, "--out", tmp_path / "out", option, value)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.startswith("usage: "), done.stderr
    one_error(done, f"argument {option}:", repr(value))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args", [
    ("solve", "{clinic}", "--out", "{out}", "--no-such-option"),
    ("solve", "--out", "{out}"),  # no scenario
    ("explain", "{clinic}", "--time-limit", "0"),
    ("validate", "{clinic}"),  # no timetable
    ("generate", "12"),  # no --out
], ids=["unknown option", "missing argument", "explain time limit", "validate", "generate"])
def test_every_command_exits_1_on_a_bad_argument(clinic, tmp_path, args):
    done = run_cli(*(a.format(clinic=clinic, out=tmp_path / "out") for a in args))
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.startswith("usage: ") and "Traceback" not in done.stderr, done.stderr


def test_help_still_exits_0():
    for args in (("--help",), ("solve", "--help")):
        done = run_cli(*args)
        assert done.returncode == 0 and done.stdout.startswith("usage: "), done.stdout + done.stderr


@pytest.mark.parametrize("count", ["-5", "2", "2.5"])
def test_generate_refuses_too_few_patients(tmp_path, count):
    done = run_cli("generate", count, "--out", tmp_path / "gen")
    assert done.returncode == 1, done.stdout + done.stderr
    one_error(done, "patients", "at least 3", repr(count))
    assert not (tmp_path / "gen").exists()


def test_solve_into_a_file_exits_1_and_names_it(clinic, tmp_path):
    target = tmp_path / "afile"
    target.write_text("mine\n")
    done = run_cli("solve", clinic, "--out", target, "--time-limit", 20)
    assert done.returncode == 1, done.stdout + done.stderr
    one_error(done, str(target), "not a folder")
    assert target.read_text() == "mine\n"


def test_export_and_generate_into_a_file_exit_1_and_name_it(database, tmp_path):
    target = tmp_path / "afile"
    target.write_text("mine\n")
    for args in (("export", "--db", database, "--scenario", "--out", target),
                 ("generate", 6, "--out", target),
                 ("generate", 6, "--out", target / "inside")):
        done = run_cli(*args)
        assert done.returncode == 1, done.stdout + done.stderr
        one_error(done, str(target), "not a folder")
    assert [p.name for p in tmp_path.iterdir()] == ["afile"] and target.read_text() == "mine\n"


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_FSIZE")
def test_solve_that_cannot_write_its_exports_exits_1_and_keeps_the_earlier_ones(solved, clinic, tmp_path):
    import resource

    def small_files():  # as `ulimit -f`: no file may grow past 200 bytes
        resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))

    out = tmp_path / "out"
    shutil.copytree(solved[0], out)
    before = snapshot(out)
    assert max(len(b) for b in before.values()) > 200
    done = run_cli("solve", clinic, "--out", out, "--time-limit", 20, preexec_fn=small_files)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("status=optimal"), done.stdout
    one_error(done, str(out), "File too large")
    assert snapshot(out) == before


def test_export_of_a_missing_database_creates_nothing(tmp_path):
    missing = tmp_path / "missing.db"
    for extra in (("--scenario",), ("--list",), ()):
        done = run_cli("export", "--db", missing, "--out", tmp_path / "out", *extra)
        assert done.returncode == 1, done.stdout + done.stderr
        one_error(done, str(missing), "nothing was created")
    assert list(tmp_path.iterdir()) == []

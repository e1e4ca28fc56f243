"""Headless commands: solve, validate, explain, import, export, generate.

Exit codes: 0 success (a timetable was written / no violations), 1 bad input (a bad argument
too), violations found, or outputs that could not be written, 2 no timetable exists (or none
was found in time).
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path
from typing import NoReturn

COMMANDS = ("solve", "validate", "explain", "import", "export", "generate")

log = logging.getLogger("cli")


MAX_WORKERS = 256
MAX_SEED = 1_000_000_000  # CP-SAT seeds are 32-bit, and the improvement rounds add their count to it


class _Parser(argparse.ArgumentParser):
    """argparse, except that a bad argument exits 1 (bad input): exit 2 means "no timetable".

    Subcommand parsers are made by ``add_subparsers`` with the parent's class, so they do the same.
    """

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def _number(text: str, kind: type, expected: str):
    """``text`` as an int or float, or the argparse error that names what was expected."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def seconds(text: str) -> float:
    """A time limit: a number of seconds above 0."""
    value = _number(text, float, "a number of seconds above 0")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {text!r}")
    return value


def gap(text: str) -> float:
    """A relative gap: at least 0 and below 1 (0.01 is 1%)."""
    value = _number(text, float, "a fraction from 0 to below 1, e.g. 0.01 for 1%")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction from 0 to below 1, e.g. 0.01 for 1%, got {text!r}")
    return value


def _whole(low: int, high: int | None, what: str):
    """An argparse type: a whole number from ``low`` (to ``high``)."""
    expected = f"a whole number from {low} to {high}" if high is not None else f"a whole number of at least {low}"

    def parse(text: str) -> int:
        value = _number(text, int, expected + what)
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {expected}{what}, got {text!r}")
        return value

    return parse


workers = _whole(1, MAX_WORKERS, "")
seed = _whole(0, MAX_SEED, "")
patients = _whole(3, None, " (a clinic needs 3 patients to run a group)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="iop-scheduler", description="IOP timetabling: optimal weekly timetables.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    solve = sub.add_parser("solve", help="solve a scenario and write the timetable exports")
    solve.add_argument("scenario", help="folder of CSV files or an .xlsx workbook")
    solve.add_argument("--out", required=True, help="folder for sessions.csv, summary.json, ...")
    solve.add_argument("--time-limit", type=seconds, default=60.0, help="seconds, above 0 (default 60)")
    solve.add_argument("--workers", type=workers, default=None,
                       help=f"CP-SAT workers, 1 to {MAX_WORKERS} (default: best for 2 cores)")
    solve.add_argument("--seed", type=seed, default=0, help=f"0 to {MAX_SEED} (default 0)")
    solve.add_argument("--gap", type=gap, default=0.0, help="stop at this relative gap, from 0 to below 1, e.g. 0.01")
    solve.add_argument("--previous", help="last week's sessions.csv (pins and stability)")
    solve.add_argument("--best-effort", action="store_true", help="schedule as many patients as possible; write waitlist.csv")
    solve.add_argument("--deidentify", action="store_true",
                       help="patient ids instead of names, in the exports and on screen")
    solve.add_argument("--log-search", action="store_true", help="route the CP-SAT search log to the log")

    validate = sub.add_parser("validate", help="check a timetable against every hard rule")
    validate.add_argument("scenario")
    validate.add_argument("timetable", help="a sessions.csv")
    validate.add_argument("--waitlist", help="a best-effort solve's waitlist.csv: its patients are not held to the "
                                             "rules (the soft goals still count every patient, as summary.json does)")

    explain = sub.add_parser("explain", help="explain why a scenario has no timetable")
    explain.add_argument("scenario")
    explain.add_argument("--time-limit", type=seconds, default=30.0, help="seconds, above 0 (default 30)")

    imp = sub.add_parser("import", help="import a scenario into the clinic database")
    imp.add_argument("scenario")
    imp.add_argument("--db", help="SQLAlchemy URL or SQLite file path (default: the user's clinic database)")

    exp = sub.add_parser("export", help="export the stored scenario or a stored timetable")
    exp.add_argument("--db", help="SQLAlchemy URL or SQLite file path")
    exp.add_argument("--out", help="folder for the files (required unless --list)")
    exp.add_argument("--timetable", help="name of a stored timetable (default: the newest)")
    exp.add_argument("--scenario", action="store_true", help="export the scenario CSVs instead of a timetable")
    exp.add_argument("--list", action="store_true", help="list stored timetables and exit")
    exp.add_argument("--deidentify", action="store_true", help="patient ids instead of names (timetable or scenario)")
    exp.set_defaults(usage_error=exp.error)  # for the --out check, which depends on --list

    gen = sub.add_parser("generate", help="write a generated (feasible by construction) clinic")
    gen.add_argument("patients", type=patients, help="how many, at least 3")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--out", required=True)
    return parser


def db_url(value: str | None) -> str | None:
    """A bare file path becomes a SQLite URL; URLs pass through."""
    if value is None or "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    handler = {
        "solve": cmd_solve,
        "validate": cmd_validate,
        "explain": cmd_explain,
        "import": cmd_import,
        "export": cmd_export,
        "generate": cmd_generate,
    }[args.command]
    return handler(args)


def _read(path: str):
    """Read a scenario; on bad input print every error and return None."""
    from scheduler.io.errors import ScenarioError
    from scheduler.io.reader import read_scenario

    try:
        result = read_scenario(path)
    except ScenarioError as exc:
        print(f"{path}: the scenario has {len(exc.errors)} error(s); nothing was changed.", file=sys.stderr)
        for err in exc.errors:
            print(f"  error: {err}", file=sys.stderr)
        return None
    for warning in result.warnings:
        print(f"  warning: {warning}", file=sys.stderr)
    return result.scenario


def _unwritable(what: str, folder: str, exc: OSError) -> int:
    """Print why ``what`` could not be written into ``folder`` (one line, no traceback); exit code 1.

    The writers write a folder's files all or nothing, so the files already there are unchanged.
    """
    reason = exc.strerror or str(exc) or type(exc).__name__
    out = Path(folder).absolute()
    where = Path(exc.filename).absolute() if isinstance(exc.filename, str) else None
    if where is not None and where != out and not where.name.startswith("."):  # not one of our temp files
        reason += f": {where.name}" if where.parent == out else f": {where}"
    log.debug("writing %s failed", what, exc_info=True)
    print(f"error: could not write {what} to {folder} ({reason}); nothing there was changed.",
          file=sys.stderr)
    return 1


def _not_a_folder(folder: str) -> bool:
    """True (and a message printed) when ``folder`` is an existing file: checked before a long solve."""
    if Path(folder).exists() and not Path(folder).is_dir():
        print(f"error: --out {folder} is a file, not a folder; nothing was written.", file=sys.stderr)
        return True
    return False


def _shown(scenario, deidentify: bool):
    """What the CLI prints of a result: the text as is, or with patient names replaced by ids as
    in the de-identified files (scrub_names)."""
    from scheduler.io.writer import scrub_names

    return (lambda text: scrub_names(text, scenario)) if deidentify else str


def cmd_solve(args) -> int:
    from scheduler.io.errors import ScenarioError
    from scheduler.io.reader import read_timetable
    from scheduler.io.writer import write_outcome, write_timetable
    from scheduler.model import SOFT_GOALS
    from solver import SolveParams, solve
    from solver.explain import explain

    if _not_a_folder(args.out):
        return 1
    scenario = _read(args.scenario)
    if scenario is None:
        return 1
    if args.previous:
        try:
            scenario = scenario.with_previous(read_timetable(args.previous, scenario))
        except ScenarioError as exc:
            for err in exc.errors:
                print(f"  error: {err}", file=sys.stderr)
            return 1
    params = SolveParams(
        time_limit=args.time_limit,
        seed=args.seed,
        relative_gap=args.gap,
        best_effort=args.best_effort,
        log_search=args.log_search,
        **({"workers": args.workers} if args.workers else {}),
    )
    result = solve(scenario, params)
    shown = _shown(scenario, args.deidentify)
    print(shown(result.headline()))
    if result.timetable is None:
        explanations = list(result.explanations)
        if result.status.value == "infeasible" and not explanations:
            explanations = [f.message for f in explain(scenario, time_limit=min(30.0, args.time_limit))]
        if explanations:
            print("Why no timetable exists:")
            for line in explanations:
                print(shown(f"  - {line}"))
        elif result.message:
            print(shown(result.message))
        summary = result.summary()
        summary["explanations"] = explanations
        weights = scenario.program.weights
        summary["terms"] = summary["terms"] or [
            {"code": code, "name": name, "weight": weights.of(name), "value": None} for code, name in SOFT_GOALS]
        try:
            write_outcome(args.out, scenario, summary, deidentify=args.deidentify)
        except OSError as exc:
            return _unwritable("summary.json", args.out, exc)
        return 2
    try:
        write_timetable(
            args.out,
            scenario,
            result.timetable,
            result.summary(),
            deidentify=args.deidentify,
            waitlist=result.waitlist if args.best_effort else None,
        )
    except OSError as exc:
        return _unwritable("the timetable", args.out, exc)
    if result.waitlist and result.message:
        print(shown(result.message))  # how many are waitlisted, and any pinned session not kept with them
    for entry in result.waitlist:
        print(shown(f"  waitlisted {entry.patient_id}: {entry.reason}"))
    return 0


def cmd_validate(args) -> int:
    from scheduler.io.errors import ScenarioError
    from scheduler.io.reader import read_timetable
    from scheduler.validate import objective, soft_terms, validate
    from solver.greedy import scenario_without

    scenario = _read(args.scenario)
    if scenario is None:
        return 1
    try:
        timetable = read_timetable(args.timetable, scenario)
    except ScenarioError as exc:
        for err in exc.errors:
            print(f"  error: {err}", file=sys.stderr)
        return 1
    waitlisted = set()
    if args.waitlist:
        waitlisted = _waitlist(args.waitlist, scenario)
        if waitlisted is None:
            return 1
    violations = validate(scenario_without(scenario, waitlisted), timetable)
    for v in violations:
        print(v.message)
    terms = soft_terms(scenario, timetable)
    print(f"{len(violations)} violation(s); objective {objective(scenario, timetable):.2f} (" + ", ".join(f"{k} {v:g}" for k, v in terms.items()) + ")")
    return 1 if violations else 0


def _waitlist(path: str, scenario) -> set[str] | None:
    """The patient ids of a waitlist.csv; None (errors printed) when it cannot be read."""
    import csv

    name = Path(path).name
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            columns = reader.fieldnames or ()
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        print(f"  error: {name}: cannot be read: {exc}", file=sys.stderr)
        return None
    if "patient_id" not in columns:
        print(f"  error: {name}: no 'patient_id' column", file=sys.stderr)
        return None
    out, ok = set(), True
    for number, row in enumerate(rows, start=2):
        pid = (row.get("patient_id") or "").strip()
        if pid not in scenario.patient_by_id:
            print(f"  error: {name} row {number}, column patient_id: unknown patient {pid!r}", file=sys.stderr)
            ok = False
        out.add(pid)
    return out if ok else None


def cmd_explain(args) -> int:
    from solver.explain import explain

    scenario = _read(args.scenario)
    if scenario is None:
        return 1
    findings = explain(scenario, time_limit=args.time_limit)
    if not findings:
        print("No conflict found: the scenario looks schedulable.")
        return 0
    for f in findings:
        print(f"- [{f.rule}] {f.message}")
    return 2


def cmd_import(args) -> int:
    from scheduler.store import Store, StoreError

    scenario = _read(args.scenario)
    if scenario is None:
        return 1
    try:
        with Store.open(db_url(args.db)) as store:
            store.save_scenario(scenario)
            where = store.path or "the database"
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Imported {len(scenario.patients)} patients, {len(scenario.staff)} staff, {len(scenario.rooms)} rooms, {len(scenario.activities)} activities into {where}.")
    return 0


def cmd_export(args) -> int:
    from scheduler.io.writer import write_scenario, write_timetable
    from scheduler.store import Store, StoreError

    if args.out is None and not args.list:
        args.usage_error("the following arguments are required: --out (unless --list)")
    try:
        with Store.open(db_url(args.db), create=False) as store:  # export only reads: no new database
            scenario = store.load_scenario()
            if scenario is None:
                print("error: the database holds no scenario; import one first.", file=sys.stderr)
                return 1
            if args.list:
                for info in store.list_timetables():
                    print(f"{info.name}\t{info.created_at}\t{info.status}\t{info.objective}")
                return 0
            if args.scenario:
                try:
                    write_scenario(scenario, args.out, deidentify=args.deidentify)
                except OSError as exc:
                    return _unwritable("the scenario", args.out, exc)
                print(f"{'De-identified scenario' if args.deidentify else 'Scenario'} written to {args.out}")
                return 0
            infos = store.list_timetables()
            if not infos:
                print("error: the database holds no timetable; solve first.", file=sys.stderr)
                return 1
            name = args.timetable or max(infos, key=lambda i: i.created_at).name
            timetable, summary = store.load_timetable(name)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        write_timetable(args.out, scenario, timetable, summary, deidentify=args.deidentify)
    except OSError as exc:
        return _unwritable(f"timetable '{name}'", args.out, exc)
    print(f"Timetable '{name}' written to {args.out}")
    return 0


def cmd_generate(args) -> int:
    from scheduler.generate import generate_clinic
    from scheduler.io.writer import write_scenario

    try:
        clinic = generate_clinic(args.patients, args.seed)
    except ValueError as exc:  # the generator's own limits; the parser checks the count already
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        write_scenario(clinic.scenario, args.out)
    except OSError as exc:
        return _unwritable("the clinic", args.out, exc)
    print(f"Generated a {args.patients}-patient clinic (seed {args.seed}) in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))

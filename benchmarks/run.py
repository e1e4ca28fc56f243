"""Benchmark the CP-SAT optimiser against the coordinator's greedy template on generated clinics.

    python benchmarks/run.py [--sizes 20,40,80,120,200,300,500] [--seeds 0,1,2]
                             [--time-limit S | --time-limit 20=60,120=120,500=300 | --targets]
                             [--contenders cpsat,cpsat1,cpsat2,greedy] [--quick] [--out benchmarks/results]

``--time-limit`` is one number for every size, or ``SIZE=SECONDS`` pairs: a clinic gets the
limit of the largest listed size not above it (the smallest listed, below them all).
``--targets`` is the optimiser issue's limits: 60 s up to 80 patients, 120 s up to 300,
300 s from 500.

For each clinic size and seed the clinic comes from ``scheduler.generate.generate_clinic``;
every contender then runs in its own subprocess, under the same time limit, so that peak
memory (ru_maxrss of that process) belongs to that run alone. Contenders:

- ``cpsat``   ``solver.solve`` with the default ``SolveParams`` (its default worker count)
- ``cpsatN``  the same with ``workers=N`` (``cpsat1``, ``cpsat2``, ``cpsat8``, ...)
- ``greedy``  ``solver.greedy.greedy_timetable``

Each timetable is checked with ``scheduler.validate.validate`` (restricted to the patients
it placed; a waitlisted or unplaced patient is counted as not placed) and scored with
``soft_terms``. Written to ``--out``: ``results.csv`` (one row per run, rewritten after
each run), ``summary.md`` (medians over seeds per size and contender, with ratios to
greedy), ``plot.png`` (time to first timetable and gap at the limit against size) and
``raw/`` (each run's JSON, with its progress history).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import pickle
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from solver.result import relative_gap  # noqa: E402  (after the path is set; no OR-Tools import)

DEFAULT_SIZES = (20, 40, 80, 120, 200, 300, 500)
DEFAULT_SEEDS = (0, 1, 2)
DEFAULT_CONTENDERS = ("cpsat", "cpsat1", "cpsat2", "greedy")
DEFAULT_TIME_LIMIT = 60.0
QUICK = {"sizes": (20, 40, 120), "seeds": None, "time_limit": 30.0}  # seeds: as many (1-3) as fit the budget
QUICK_BUDGET_SECONDS = 600
TARGET_LIMITS = "20=60,120=120,500=300"  # issue 3: 40 at 60 s, 120 at 120 s, 300 first within 120 s, 500 within 300 s
CONTENDER = re.compile(r"^(cpsat)(\d*)$|^(greedy)$")
SOFT_GOAL_NAMES = ("preferences", "continuity", "stability", "balance", "efficiency", "spread")

CSV_COLUMNS = [
    "size", "seed", "contender", "workers", "time_limit", "status", "build_s", "first_s", "t5_s", "t1_s",
    "objective", "solver_objective", "bound", "gap", "gap_vs_best_bound", "seconds", "wall_s", "peak_rss_mb",
    "violations", "placed", "patients", "message",
] + [f"term_{name}" for name in SOFT_GOAL_NAMES]


# ------------------------------------------------------------------------------ one run (child process)


def run_child(scenario_path: str, contender: str, time_limit: float) -> dict:
    """Load the pickled scenario, run one contender, check its timetable; returns a JSON-able record."""
    import resource

    from scheduler.validate import objective as score
    from scheduler.validate import soft_terms, validate
    from solver.greedy import scenario_without

    with open(scenario_path, "rb") as fh:
        scenario = pickle.load(fh)
    record: dict = {"contender": contender, "patients": len(scenario.patients)}
    kind, workers = parse_contender(contender)
    started = time.monotonic()
    if kind == "greedy":
        from solver.greedy import greedy_timetable

        result = greedy_timetable(scenario)
        seconds = time.monotonic() - started
        timetable, left_out = result.timetable, [pid for pid, _ in result.unplaced]
        record.update(status="feasible", seconds=seconds, first_s=seconds, message=f"{len(left_out)} unplaced")
    else:
        from solver import SolveParams, solve

        params = SolveParams(time_limit=time_limit, **({} if workers is None else {"workers": workers}))
        record["workers"] = params.workers
        result = solve(scenario, params)
        timetable = result.timetable
        left_out = [w.patient_id for w in result.waitlist]
        record.update(
            status=result.status.value, seconds=result.seconds, first_s=result.first_solution_seconds,
            solver_objective=result.objective, bound=result.bound, message=result.message,
            build_s=result.build_seconds,
            history=[[h.objective, h.bound, h.seconds] for h in result.history],
        )
    record["wall_s"] = time.monotonic() - started
    # This process's peak: ru_maxrss is in KiB on Linux, in bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    record["peak_rss_mb"] = peak / (1024 * 1024 if sys.platform == "darwin" else 1024)
    restricted = scenario_without(scenario, left_out)
    if timetable is not None:
        # One yardstick for every contender: the validator's score of the timetable actually returned.
        found = validate(restricted, timetable)
        record["violations"] = len(found)
        record["violation_sample"] = [str(v) for v in found[:5]]
        record["terms"] = soft_terms(restricted, timetable)
        record["placed"] = len(scenario.patients) - len(left_out)
        record["objective"] = score(restricted, timetable)
        if record.get("bound") is not None:
            record["gap"] = relative_gap(record["objective"], record["bound"])
        if kind == "greedy":
            record["history"] = [[record["objective"], None, record["seconds"]]]
    return record


def parse_contender(name: str) -> tuple[str, int | None]:
    m = CONTENDER.match(name)
    if not m:
        raise argparse.ArgumentTypeError(f"unknown contender '{name}': use cpsat, cpsatN (N workers) or greedy")
    if m.group(3):
        return "greedy", None
    return "cpsat", int(m.group(2)) if m.group(2) else None


# ------------------------------------------------------------------------------ the driver


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.child, args.child_contender, float(args.time_limit))))
        return 0

    out = Path(args.out)
    (out / "raw").mkdir(parents=True, exist_ok=True)
    contenders = dedupe(args.contenders)

    def planned(seeds):
        plan = [(n, seed) for n in args.sizes for seed in seeds]
        return plan, sum(estimate_seconds(n, c, limit_for(args.limits, n)) for n, _ in plan for c in contenders)

    if args.seeds is None:  # --quick: the most seeds that fit its budget, with a tenth to spare
        args.seeds = next((s for s in ((0, 1, 2), (0, 1)) if planned(s)[1] <= 0.9 * QUICK_BUDGET_SECONDS), (0,))
    plan, estimate = planned(args.seeds)
    print(f"Plan: sizes {list(args.sizes)} x seeds {list(args.seeds)} x contenders {contenders} = "
          f"{len(plan) * len(contenders)} runs, time limit {describe_limits(args.limits)}; "
          f"estimated at most {estimate / 60:.1f} min in all", flush=True)
    if args.quick and estimate > QUICK_BUDGET_SECONDS:
        print(f"warning: the estimate exceeds the {QUICK_BUDGET_SECONDS // 60}-minute budget of --quick", flush=True)

    rows: list[dict] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="iop-bench-") as tmp:
        for n, seed in plan:
            scenario_path = os.path.join(tmp, f"clinic_{n}_{seed}.pickle")
            t0 = time.monotonic()
            generate_to(scenario_path, n, seed)
            print(f"[{n} patients, seed {seed}] clinic generated in {time.monotonic() - t0:.1f}s", flush=True)
            instance = []
            for contender in contenders:
                limit = limit_for(args.limits, n)
                record = run_in_subprocess(scenario_path, contender, limit)
                record.update(size=n, seed=seed, time_limit=limit)
                (out / "raw" / f"{n}_{seed}_{contender}.json").write_text(json.dumps(record, indent=1))
                instance.append(record)
                print("   " + describe(record), flush=True)
            rows.extend(finish_instance(instance))
            write_csv(out / "results.csv", rows)
    print(f"All runs done in {(time.monotonic() - started) / 60:.1f} min", flush=True)
    write_summary(out / "summary.md", rows, contenders, args)
    plotted = write_plot(out / "plot.png", rows, contenders)
    print(f"Wrote {out / 'results.csv'}, {out / 'summary.md'}" + (f", {out / 'plot.png'}" if plotted else ""))
    return 0


def parse_args(argv):
    def ints(text: str) -> tuple[int, ...]:
        return tuple(int(x) for x in text.split(",") if x.strip())

    def names(text: str) -> tuple[str, ...]:
        out = tuple(x.strip() for x in text.split(",") if x.strip())
        for x in out:
            parse_contender(x)
        return out

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=ints,
                    help=f"clinic sizes in patients (default {','.join(map(str, DEFAULT_SIZES))})")
    ap.add_argument("--seeds", type=ints, help=f"generator seeds (default {','.join(map(str, DEFAULT_SEEDS))})")
    ap.add_argument("--time-limit", help=f"seconds per run, or SIZE=SECONDS pairs (default {DEFAULT_TIME_LIMIT:g})")
    ap.add_argument("--targets", action="store_true", help=f"the optimiser issue's limits ({TARGET_LIMITS})")
    ap.add_argument("--contenders", type=names, default=DEFAULT_CONTENDERS,
                    help="comma-separated: cpsat (default workers), cpsatN (N workers), greedy")
    ap.add_argument("--quick", action="store_true",
                    help="sizes 20,40,120, 30 s limit, as many seeds (1-3) as fit 10 minutes on 2 cores "
                         "(explicit flags win)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), help="output folder")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-contender", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    base = QUICK if args.quick else {"sizes": DEFAULT_SIZES, "seeds": DEFAULT_SEEDS, "time_limit": DEFAULT_TIME_LIMIT}
    args.sizes = args.sizes or base["sizes"]
    args.seeds = args.seeds or base["seeds"]
    if args.targets and args.time_limit is None:
        args.time_limit = TARGET_LIMITS
    args.time_limit = args.time_limit if args.time_limit is not None else str(base["time_limit"])
    try:
        args.limits = parse_limits(args.time_limit)
    except ValueError as exc:
        ap.error(f"--time-limit {args.time_limit!r}: {exc}")
    return args


def parse_limits(text: str) -> dict[int, float]:
    """``"60"`` -> {0: 60.0}; ``"20=60,120=120"`` -> {20: 60.0, 120: 120.0} (seconds > 0)."""
    limits: dict[int, float] = {}
    for part in (x.strip() for x in str(text).split(",") if x.strip()):
        size, _, seconds = part.rpartition("=")
        value = float(seconds)
        if not value > 0:
            raise ValueError(f"time limit {seconds!r} is not a positive number of seconds")
        limits[int(size) if size else 0] = value
    if not limits:
        raise ValueError("no time limit given")
    return limits


def limit_for(limits: dict[int, float], n: int) -> float:
    """The limit of the largest listed size not above n (the smallest listed size's, below them all)."""
    fitting = [size for size in limits if size <= n]
    return limits[max(fitting)] if fitting else limits[min(limits)]


def describe_limits(limits: dict[int, float]) -> str:
    if len(limits) == 1:
        return f"{next(iter(limits.values())):g} s per run"
    return "per size " + ", ".join(f"{size}+: {seconds:g} s" for size, seconds in sorted(limits.items()))


def dedupe(contenders: tuple[str, ...]) -> list[str]:
    """Drop a cpsatN whose worker count equals the default's: it would repeat the cpsat run exactly."""
    out: list[str] = []
    default_workers = None
    if "cpsat" in contenders:
        from solver.result import SolveParams

        default_workers = SolveParams().workers
    for c in contenders:
        kind, workers = parse_contender(c)
        if c in out:
            continue
        if kind == "cpsat" and workers is not None and workers == default_workers:
            print(f"note: {c} skipped, it is the same as cpsat (default workers = {default_workers})", flush=True)
            continue
        out.append(c)
    return out


def estimate_seconds(n: int, contender: str, time_limit: float) -> float:
    """A generous upper estimate of one run's wall time (process start, model build, search, checks)."""
    if contender == "greedy":
        return 3 + 0.02 * n
    return time_limit + 4 + 0.05 * n


def generate_to(path: str, n: int, seed: int) -> None:
    from scheduler.generate import generate_clinic

    clinic = generate_clinic(n, seed)
    with open(path, "wb") as fh:
        pickle.dump(clinic.scenario, fh, protocol=pickle.HIGHEST_PROTOCOL)


def run_in_subprocess(scenario_path: str, contender: str, time_limit: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", scenario_path, "--child-contender", contender,
           "--time-limit", str(time_limit)]
    timeout = 3 * time_limit + 120
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"contender": contender, "status": "timeout", "wall_s": time.monotonic() - started,
                "message": f"killed after {timeout:.0f}s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"contender": contender, "status": "error", "wall_s": time.monotonic() - started,
                "message": " | ".join(tail)}
    return json.loads(lines[-1])


def describe(r: dict) -> str:
    def num(x, fmt="{:.2f}"):
        return "-" if x is None else fmt.format(x)

    return (f"{r['contender']:<8} status={r.get('status')} obj={num(r.get('objective'))} "
            f"bound={num(r.get('bound'))} gap={num(r.get('gap'), '{:.1%}')} first={num(r.get('first_s'))}s "
            f"wall={num(r.get('wall_s'), '{:.1f}')}s rss={num(r.get('peak_rss_mb'), '{:.0f}')}MB "
            f"placed={r.get('placed', '-')}/{r.get('patients', '-')} violations={r.get('violations', '-')}"
            + (f"  [{r['message']}]" if r.get("status") in ("error", "timeout", "invalid") else ""))


# ------------------------------------------------------------------------------ per-instance figures


def finish_instance(records: list[dict]) -> list[dict]:
    """Times to within 5% and 1% of the best objective any complete, valid run reached on this clinic."""
    complete = [r for r in records if r.get("objective") is not None and r.get("violations") == 0
                and r.get("placed") == r.get("patients")]
    best = min((r["objective"] for r in complete), default=None)
    bounds = [r["bound"] for r in records if r.get("bound") is not None and r.get("violations") == 0]
    best_bound = max(bounds, default=None)
    rows = []
    for r in records:
        row = {k: r.get(k) for k in CSV_COLUMNS if not k.startswith("term_")}
        for name in SOFT_GOAL_NAMES:
            row[f"term_{name}"] = (r.get("terms") or {}).get(name)
        history = r.get("history") or []
        row["t5_s"] = time_to_within(history, best, 0.05)
        row["t1_s"] = time_to_within(history, best, 0.01)
        if r.get("objective") is not None and best_bound is not None:
            row["gap_vs_best_bound"] = relative_gap(r["objective"], best_bound)
        rows.append(row)
    return rows


def time_to_within(history, best: float | None, tolerance: float) -> float | None:
    if best is None:
        return None
    for objective, _bound, seconds in history:
        if objective is not None and objective <= best + tolerance * abs(best) + 1e-9:
            return seconds
    return None


def write_csv(path: Path, rows: list[dict]) -> None:
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: fmt_cell(row.get(k)) for k in CSV_COLUMNS})
    os.replace(tmp, path)


def fmt_cell(x):
    if isinstance(x, float):
        return f"{x:.6g}"
    return "" if x is None else x


# ------------------------------------------------------------------------------ summary table and plot


def median(values):
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return statistics.median(values) if values else None


def medians(rows: list[dict], contenders: list[str]) -> dict[tuple[int, str], dict]:
    """Per (size, contender): medians over seeds, plus per-seed ratios to greedy's objective."""
    greedy = {(r["size"], r["seed"]): r for r in rows if r["contender"] == "greedy"}
    out = {}
    for n in sorted({r["size"] for r in rows}):
        for c in contenders:
            runs = [r for r in rows if r["size"] == n and r["contender"] == c]
            if not runs:
                continue
            m = {k: median([r.get(k) for r in runs]) for k in CSV_COLUMNS if k not in ("status", "message",
                                                                                       "contender")}
            m["runs"] = len(runs)
            m["statuses"] = ",".join(sorted({str(r.get("status")) for r in runs}))
            m["violations_max"] = max((r.get("violations") or 0 for r in runs), default=0)
            ratios = []
            for r in runs:
                g = greedy.get((n, r["seed"]))
                if g and r.get("objective") is not None and g.get("objective"):
                    ratios.append(r["objective"] / g["objective"])
            m["ratio_to_greedy"] = median(ratios)
            out[(n, c)] = m
    return out


def write_summary(path: Path, rows: list[dict], contenders: list[str], args) -> None:
    table = medians(rows, contenders)

    def num(x, fmt="{:.2f}"):
        return "" if x is None else fmt.format(x)

    lines = [
        "# Benchmark: CP-SAT against the greedy template",
        "",
        f"Sizes {', '.join(map(str, args.sizes))}; seeds {', '.join(map(str, args.seeds))}; "
        f"time limit {describe_limits(args.limits)}; contenders {', '.join(contenders)}. "
        f"Medians over seeds. Generated {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores.",
        "",
        "Columns: *placed* patients placed of all; *build* model build (s); *first* time to the first "
        "timetable (s); *t5%*, *t1%* time to within 5% / 1% of the best objective any complete run reached "
        "on that clinic; *gap* the run's own gap at the limit; *gap\\** the gap against the best bound any "
        "run proved (greedy has none of its own); *obj/greedy* objective divided by greedy's (below 1: "
        "better than the coordinator's template; greedy scores only the patients it placed); "
        "*viol* most hard-rule violations in any run (must be 0).",
        "",
        "| size | contender | runs | status | placed | build | first | t5% | t1% | objective | obj/greedy | "
        "bound | gap | gap\\* | seconds | RSS MB | viol |",
        "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (n, c), m in table.items():
        placed = "" if m.get("placed") is None else f"{m['placed']:g}/{m.get('patients') or n:g}"
        lines.append(
            f"| {n} | {c} | {m['runs']} | {m['statuses']} | {placed} | {num(m.get('build_s'))} | "
            f"{num(m.get('first_s'))} | {num(m.get('t5_s'))} | {num(m.get('t1_s'))} | {num(m.get('objective'))} | "
            f"{num(m.get('ratio_to_greedy'), '{:.3f}')} | {num(m.get('bound'))} | {num(m.get('gap'), '{:.1%}')} | "
            f"{num(m.get('gap_vs_best_bound'), '{:.1%}')} | {num(m.get('seconds'), '{:.1f}')} | "
            f"{num(m.get('peak_rss_mb'), '{:.0f}')} | {m['violations_max']} |")
    lines += ["", "## Soft goals (medians)", "",
              "| size | contender | " + " | ".join(SOFT_GOAL_NAMES) + " |",
              "|---:|---|" + "---:|" * len(SOFT_GOAL_NAMES)]
    for (n, c), m in table.items():
        lines.append(f"| {n} | {c} | " + " | ".join(num(m.get(f"term_{k}"), "{:g}") for k in SOFT_GOAL_NAMES)
                     + " |")
    mismatches = [r for r in rows if r.get("solver_objective") is not None and r.get("objective") is not None
                  and abs(r["solver_objective"] - r["objective"]) > 1e-6]
    if mismatches:
        lines += ["", "## Objective reported by the solver differs from the validator's score", "",
                  "The tables use the validator's score of the returned timetable.", ""]
        lines += [f"- {r['size']} patients, seed {r['seed']}, {r['contender']}: solver {r['solver_objective']:.2f}, "
                  f"validator {r['objective']:.2f}" for r in mismatches]
    failures = [r for r in rows if r.get("status") in ("error", "timeout", "invalid")]
    if failures:
        lines += ["", "## Runs that failed", ""]
        lines += [f"- {r['size']} patients, seed {r['seed']}, {r['contender']}: {r['status']} "
                  f"({r.get('message') or ''})" for r in failures]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_plot(path: Path, rows: list[dict], contenders: list[str]) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install -e '.[bench]')")
        return False
    table = medians(rows, contenders)
    sizes = sorted({n for n, _ in table})
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for c in contenders:
        xs = [n for n in sizes if (n, c) in table]
        first = [(n, table[(n, c)].get("first_s")) for n in xs]
        gaps = [(n, table[(n, c)].get("gap_vs_best_bound" if c == "greedy" else "gap")) for n in xs]
        marker = "s" if c == "greedy" else "o"
        first = [(n, y) for n, y in first if y is not None]
        gaps = [(n, 100 * y) for n, y in gaps if y is not None]
        if first:
            left.plot(*zip(*first), marker=marker, label=c)
        if gaps:
            right.plot(*zip(*gaps), marker=marker, label=f"{c} (vs best bound)" if c == "greedy" else c)
    left.set(xlabel="patients", ylabel="seconds (log)", title="Time to first timetable (median over seeds)")
    left.set_yscale("log")
    right.set(xlabel="patients", ylabel="gap %", title="Gap at the time limit (median over seeds)")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xticks(sizes, [str(n) for n in sizes])
        ax.minorticks_off()
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


if __name__ == "__main__":
    sys.exit(main())

"""Time ``solver.explain.explain`` on infeasible 40-patient clinics.

    python benchmarks/explain_bench.py [--patients 40] [--seeds 0,1,2] [--time-limit 30]
                                       [--variants prescriber_cut,prescriber_afternoons]

Each clinic is ``scheduler.generate.generate_clinic(patients, seed)`` (feasible by
construction) with the prescriber's availability changed so that the medication checks
and evaluations cannot all be placed:

- ``prescriber_cut`` (caught by the pre-solve checks): the prescriber works only
  Mon 08:00-10:00, 2 h against about 12 h of MED/EVAL due.
- ``prescriber_afternoons`` (only the solver route can catch it): the prescriber moves to
  Mon-Fri 14:00-21:00 and sees the morning track only Tue and Thu 12:30-13:30. Her week
  (capped at 20 h) still covers all MED/EVAL, and every morning patient can meet her at
  least once, so no pre-check fires; but the morning track's MED/EVAL need 255-555 min
  against the 120 min she overlaps it (the morning patients leave by 14:00).

For each run: the time of ``explain`` (pre-checks included), which route answered, how many
rules the explanation names, and whether it is minimal. Medians per variant at the end.
Single-threaded (explain's CP-SAT runs use one worker); one process for all runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scheduler.generate import generate_clinic  # noqa: E402
from scheduler.model import Scenario  # noqa: E402
from scheduler.timegrid import parse_availability  # noqa: E402
from solver.explain import explain  # noqa: E402
from solver.explain_checks import precheck  # noqa: E402

PRESCRIBER_HOURS = {
    "prescriber_cut": "Mon 08:00-10:00",
    "prescriber_afternoons": "Tue,Thu 12:30-13:30; Mon-Fri 14:00-21:00",
}
HEADLINE = "No timetable can satisfy these rules together"
MINIMAL = "Relaxing any one of them removes this conflict."


def variant(name: str, patients: int, seed: int) -> Scenario:
    """The generated clinic with every prescriber's availability replaced."""
    s = generate_clinic(patients, seed).scenario
    hours = parse_availability(PRESCRIBER_HOURS[name])
    return replace(s, staff=tuple(replace(x, availability=hours) if "prescriber" in x.skills else x for x in s.staff))


def run(name: str, patients: int, seed: int, time_limit: float) -> dict:
    scenario = variant(name, patients, seed)
    t0 = time.monotonic()
    pre = precheck(scenario)
    pre_s = time.monotonic() - t0
    t0 = time.monotonic()
    findings = explain(scenario, time_limit=time_limit)
    seconds = time.monotonic() - t0
    if pre:
        route, outcome = "pre-check", f"{len(findings)} finding(s), first {findings[0].rule}"
    elif not findings:
        route, outcome = "solver", "nothing found"
    else:
        head = findings[0].message
        rules = len(findings) - 1 if head.startswith(HEADLINE) else len(findings)
        route = "solver"
        outcome = f"{rules} rule(s), " + ("minimal" if head.endswith(MINIMAL) else "not minimal (out of time)")
    return {
        "variant": name, "seed": seed, "patients": len(scenario.patients), "precheck_s": pre_s,
        "explain_s": seconds, "route": route, "outcome": outcome,
        "first": findings[0].message if findings else "",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=40)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--variants", default=",".join(PRESCRIBER_HOURS))
    ap.add_argument("--show", action="store_true", help="print each run's first finding in full")
    args = ap.parse_args(argv)
    seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
    names = [x.strip() for x in args.variants.split(",") if x.strip()]
    rows = []
    print(f"explain(time_limit={args.time_limit:g}) on generate_clinic({args.patients}, seed)")
    print(f"{'variant':24} {'seed':>4} {'precheck_s':>10} {'explain_s':>9}  route      outcome")
    for name in names:
        for seed in seeds:
            r = run(name, args.patients, seed, args.time_limit)
            rows.append(r)
            line = f"{name:24} {seed:>4} {r['precheck_s']:>10.3f} {r['explain_s']:>9.2f}  {r['route']:10} "
            line += r["outcome"]
            print(line, flush=True)
            if args.show and r["first"]:
                print("    " + r["first"][:2000])
    print()
    print("| variant | route | median explain() s | runs (s) | outcome |")
    print("|---|---|---|---|---|")
    for name in names:
        mine = [r for r in rows if r["variant"] == name]
        times = [r["explain_s"] for r in mine]
        outcomes = "; ".join(sorted({r["outcome"] for r in mine}))
        print(f"| {name} | {mine[0]['route']} | {statistics.median(times):.2f} | "
              f"{', '.join(f'{t:.2f}' for t in times)} | {outcomes} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

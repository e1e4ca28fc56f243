"""The benchmark harness (benchmarks/run.py): its time-limit options and one real, tiny run."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def harness():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_time_limit_per_size_applies_to_the_sizes_from_it_up():
    run = harness()
    limits = run.parse_limits("20=60,120=120,500=300")
    assert [run.limit_for(limits, n) for n in (10, 20, 40, 119, 120, 300, 500, 900)] == [60, 60, 60, 60, 120, 120, 300, 300]
    assert run.limit_for(run.parse_limits("45"), 500) == 45
    assert run.parse_args(["--targets"]).limits == run.parse_limits(run.TARGET_LIMITS)
    with pytest.raises(ValueError):
        run.parse_limits("40=0")
    with pytest.raises(SystemExit):
        run.parse_args(["--time-limit", "40=soon"])


def test_a_tiny_run_writes_validated_rows_and_a_summary(tmp_path):
    run = harness()
    assert run.main(["--sizes", "12", "--seeds", "0", "--time-limit", "12=4", "--contenders", "cpsat,greedy",
                     "--out", str(tmp_path)]) == 0
    rows = list(csv.DictReader(open(tmp_path / "results.csv", encoding="utf-8")))
    assert {r["contender"] for r in rows} == {"cpsat", "greedy"}
    for r in rows:
        assert float(r["time_limit"]) == 4 and r["size"] == "12"
        if r["objective"]:
            assert r["violations"] == "0"
    cpsat = next(r for r in rows if r["contender"] == "cpsat")
    assert 0 < float(cpsat["build_s"]) < 4  # the solver's own build time, inside the limit
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "4 s per run" in summary and "| 12 |" in summary

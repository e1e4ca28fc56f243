"""Regenerate the bundled demo clinic: ``python -m resources.make_demo [out_dir]``.

Writes the scenario of ``scheduler.generate.demo_clinic()`` as CSV files into
resources/demo/ (or ``out_dir``), plus ``witness_sessions.csv``: a timetable that
satisfies every hard rule, in the sessions.csv format. The scenario reader ignores
that extra file.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from resources import demo_path
from scheduler.generate import demo_clinic
from scheduler.io.writer import write_scenario, write_timetable

WITNESS_FILE = "witness_sessions.csv"


def write_demo(out_dir: Path) -> list[Path]:
    """Write the demo scenario and its witness timetable into ``out_dir``; returns the files written."""
    clinic = demo_clinic()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = write_scenario(clinic.scenario, out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        write_timetable(tmp, clinic.scenario, clinic.witness)
        target = out_dir / WITNESS_FILE
        shutil.copyfile(Path(tmp) / "sessions.csv", target)
    paths.append(target)
    for path in paths:
        path.chmod(0o644)  # shipped, fictional data: the writer's owner-only mode is for real patients
    return paths


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out_dir = Path(args[0]) if args else demo_path()
    for path in write_demo(out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Regenerate the screenshots in this folder (1280x800) from the demo clinic, solved for real.

    QT_QPA_PLATFORM=offscreen python docs/screenshots/make_screenshots.py [--time-limit 60] [--best-effort]

The demo is loaded into a temporary database; your own clinic file is not touched.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, QTimer

from ui.app import make_app
from ui.main_window import MainWindow
from ui.models.filters import FilterKind

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--best-effort", action="store_true", help="solve in best-effort mode (timetable + waitlist)")
    args = parser.parse_args(argv)
    app = make_app()
    work = Path(tempfile.mkdtemp(prefix="iop-shots-"))
    window = MainWindow(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    window.open_clinic(work / "demo.db", demo_if_empty=True)
    window.resize(1280, 800)
    window.show()

    loop = QEventLoop()
    window.runner.finished.connect(lambda _: QTimer.singleShot(300, loop.quit))
    window.solve_panel.best_effort.setChecked(args.best_effort)
    window.solve(args.time_limit)
    loop.exec()
    outcome = window.document.outcome
    if outcome is None or outcome.timetable is None:
        print("no timetable was found; screenshots not taken", file=sys.stderr)
        return 1

    def shot(name: str) -> None:
        app.processEvents()
        window.grab().save(str(HERE / name))
        _shrink(HERE / name)
        print("saved", HERE / name)

    view = window.timetable_view
    window.tabs.setCurrentWidget(view)
    view.set_filter(FilterKind.ALL)
    group = max(outcome.timetable.sessions, key=lambda s: (len(s.patient_ids), -s.day, -s.start))
    view.select_session(group)
    shot("timetable.png")
    window.tabs.setCurrentWidget(window.result_panel)
    shot("result.png")
    editor = window.editors["patients"]
    window.tabs.setCurrentWidget(editor)
    editor.view.selectRow(2)
    shot("editor.png")
    window.close()
    return 0


def _shrink(path: Path) -> None:
    """A 256-colour palette keeps the PNGs small for the repository (when Pillow is installed)."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

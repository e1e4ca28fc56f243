"""Application start-up: ``run_app(argv)`` opens the window (or takes a screenshot and exits)."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from ui.icons import BASE_POINTS, icon, stylesheet

log = logging.getLogger(__name__)
ORGANISATION, APPLICATION = "IOP", "IOP Scheduler"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="main.py", description="IOP Scheduler: optimal weekly IOP timetables.")
    parser.add_argument("--db", metavar="URL_OR_PATH", help="clinic file (SQLite path) or database URL to open")
    parser.add_argument("--screenshot", metavar="FILE.png",
                        help="solve the demo clinic in a temporary database, save a 1280x800 picture of the window, exit")
    parser.add_argument("--time-limit", type=float, default=20.0, metavar="S",
                        help="solver time limit for --screenshot (default 20 s)")
    return parser.parse_args(argv)


def make_app() -> QApplication:
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "iop-scheduler"])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    app.setStyle("Fusion")
    # The system's text size, but not below the size the layout was drawn for: macOS's 13 pt (9.5
    # pt was tiny there) and a coordinator's larger system font are kept; sizes follow (font_scale).
    font = QFont(app.font())
    font.setPointSizeF(max(BASE_POINTS, font.pointSizeF()))
    app.setFont(font)
    app.setStyleSheet(stylesheet())
    app.setWindowIcon(icon("app"))
    return app


def run_app(argv: list[str]) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = make_app()
    from ui.main_window import MainWindow

    if args.screenshot:
        return screenshot(app, Path(args.screenshot), args.time_limit)
    window = MainWindow()
    open_first_clinic(window, args.db)
    window.show()
    return app.exec()


def open_first_clinic(window, db: str | None) -> bool:
    """``--db``, else the most recent clinic file, else the default database.

    On first start (no recent file) or with ``--db``, an empty database gets the
    demo clinic, so the README's ``python main.py`` shows a real clinic.
    """
    recent = window.recent_files()
    location = db or _existing(recent)
    if window.open_clinic(location, demo_if_empty=db is not None or not recent):
        return True
    if location is None or not window.open_clinic(None, demo_if_empty=True):
        return False
    # Said where the coordinator looks next, so that the default clinic is not taken for theirs.
    from ui.document import display_name, to_url

    window.statusBar().showMessage(f"{display_name(to_url(location))} could not be opened (see the message): this "
                                   f"is the default clinic file, {display_name(window.document.url)}", 0)
    return True


def _existing(recent: list[str]) -> str | None:
    for url in recent:
        if not url.startswith("sqlite:///") or Path(url[len("sqlite:///"):]).exists():
            return url
    return None


def screenshot(app: QApplication, target: Path, time_limit: float) -> int:
    """Solve the demo clinic in a throw-away database and save the window as a PNG."""
    from ui.main_window import MainWindow

    workdir = tempfile.TemporaryDirectory(prefix="iop-screenshot-")
    settings = QSettings(str(Path(workdir.name) / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings)
    if not window.open_clinic(Path(workdir.name) / "demo.db", demo_if_empty=True):
        return 1
    window.resize(1280, 800)
    window.show()
    code = {"value": 1}

    def grab(outcome) -> None:
        def save() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            ok = window.grab().save(str(target))
            log.info("screenshot %s: %s", "saved" if ok else "NOT saved", target)
            if outcome.timetable is None:
                log.warning("the solve found no timetable in %.0f s: the picture shows the result panel", time_limit)
            code["value"] = 0 if ok else 1
            window.close()
            app.quit()

        QTimer.singleShot(300, save)

    window.runner.finished.connect(grab)
    window.runner.failed.connect(lambda message: (window.close(), app.quit()))
    QTimer.singleShot(100, lambda: window.solve(time_limit))
    app.exec()
    workdir.cleanup()
    return code["value"]

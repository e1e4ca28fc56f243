"""Start-up: arguments, the first start on the default database, and screenshot mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage

from ui.app import open_first_clinic, parse_args
from ui.main_window import MainWindow
from ui_helpers import demo_scenario

ROOT = Path(__file__).resolve().parents[1]


def test_arguments():
    args = parse_args(["--db", "clinic.db"])
    assert args.db == "clinic.db" and args.screenshot is None and args.time_limit == 20
    args = parse_args(["--screenshot", "shot.png", "--time-limit", "3"])
    assert args.screenshot == "shot.png" and args.time_limit == 3


def test_first_start_opens_the_default_database_with_the_demo_clinic(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("IOP_DB_URL", f"sqlite:///{tmp_path / 'default.db'}")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings)
    qtbot.addWidget(window)
    assert window.recent_files() == []
    assert open_first_clinic(window, None)
    assert window.document.url == f"sqlite:///{tmp_path / 'default.db'}"
    assert window.document.scenario == demo_scenario()
    assert window.recent_files() == [window.document.url]
    # The next start reopens the same file, edits included, and does not reload the demo over them.
    window.entity_models["patients"].remove_rows([0])
    window.close()
    again = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert open_first_clinic(again, None)
    assert len(again.document.scenario.patients) == len(demo_scenario().patients) - 1


def test_db_argument_takes_a_path(qtbot, tmp_path):
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    assert open_first_clinic(window, str(tmp_path / "given.db"))
    assert (tmp_path / "given.db").exists()
    assert window.document.scenario == demo_scenario()


def test_a_damaged_clinic_file_is_named_and_the_default_clinic_says_it_is_the_default(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("IOP_DB_URL", f"sqlite:///{tmp_path / 'default.db'}")
    damaged = tmp_path / "riverside.db"
    damaged.write_bytes(b"this is not a database" * 100)
    before = damaged.read_bytes()
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    assert open_first_clinic(window, str(damaged))
    assert damaged.read_bytes() == before  # left as it was
    warning = [d for d in window.dialogs if d.windowTitle() == "Could not open the clinic file"][-1]
    assert "riverside.db is not a clinic database" in warning.text() and "riverside.db.bak-" in warning.text()
    assert window.document.url == f"sqlite:///{tmp_path / 'default.db'}"
    message = window.statusBar().currentMessage()
    assert "riverside.db could not be opened" in message and "default clinic file, default.db" in message


def test_screenshot_mode_saves_the_window_and_exits(tmp_path):
    target = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "IOP_DB_URL": f"sqlite:///{tmp_path / 'untouched.db'}"}
    code = "import sys; from ui.app import run_app; sys.exit(run_app(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", code, "--screenshot", str(target), "--time-limit", "6"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    image = QImage(str(target))
    assert (image.width(), image.height()) == (1280, 800)
    assert not (tmp_path / "untouched.db").exists()  # the user's data is left alone


LARGE_TEXT = """
import sys, tempfile
from pathlib import Path
from PySide6.QtCore import QSettings
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication
app = QApplication([])
font = QFont(app.font()); font.setPointSizeF(float(sys.argv[1])); app.setFont(font)  # the system's text size
from ui.app import make_app
make_app()
from ui.icons import font_scale
from ui.main_window import MainWindow
folder = Path(tempfile.mkdtemp())
window = MainWindow(QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat))
assert window.open_clinic(f"sqlite:///{folder / 'c.db'}", demo_if_empty=True)
window.resize(1280, 800); window.show(); app.processEvents()
grid = window.timetable_view.grid
print(app.font().pointSizeF(), round(font_scale(), 2), window.width(), window.minimumSizeHint().width(),
      grid._title_font.pointSizeF(), "font-size: 16pt" in app.styleSheet())
window.document.close()
"""


def test_the_systems_text_size_is_kept_and_the_window_still_fits_a_1280_screen(tmp_path):
    """macOS's 13-pt text (and a coordinator's larger system font) is kept, not forced down to 9.5 pt
    (tiny on macOS), and the stylesheet, the grid and the tables grow with it while the window still
    fits 1280 px; a smaller system text is raised to the 9.5 pt the layout was drawn for."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    sizes = {}
    for points in ("8", "13"):
        done = subprocess.run([sys.executable, "-c", LARGE_TEXT, points], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        sizes[points] = done.stdout.split()
    size, scale, width, minimum, title, base_qss = sizes["8"]
    assert (float(size), float(scale), width, float(title), base_qss) == (9.5, 1.0, "1280", 8.5, "True")
    size, scale, width, minimum, title, base_qss = sizes["13"]
    assert float(size) == 13 and float(scale) > 1.3 and float(title) > 11 and base_qss == "False"
    assert int(width) == 1280 and int(minimum) <= 1280


def test_qt_calls_keep_none_alive(qtbot):
    """PySide6 6.12.0 dropped a reference to None on every call that returns nothing (setText,
    setVisible, addItem...). Python 3.11's None is not immortal: after some ten thousand such calls
    the app aborted with "Fatal Python error: deallocating None". pyproject.toml keeps that release
    off Python 3.11; this catches any release that brings the leak back."""
    from PySide6.QtWidgets import QComboBox, QLabel

    label, combo = QLabel(), QComboBox()
    qtbot.addWidget(label)
    qtbot.addWidget(combo)
    before = sys.getrefcount(None)
    for i in range(2000):
        label.setText(str(i))
        label.setVisible(bool(i % 2))
        combo.addItem("x")
        combo.clear()
    assert sys.getrefcount(None) - before > -100  # 6.12.0 on Python 3.11: -8000

"""Icons and the stylesheet shipped in resources/ui."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

import resources

UI_DIR = Path(resources.__file__).resolve().parent / "ui"


@cache
def icon(name: str) -> QIcon:
    path = UI_DIR / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


BASE_POINTS = 9.5  # the text size the stylesheet and the grid were drawn for (Windows and Linux)


def font_scale() -> float:
    """The application font's size against ``BASE_POINTS``: 1 on Windows and Linux, about 1.4 on macOS
    (13 pt system text) or with a larger system font; sizes drawn in points or pixels follow it."""
    app = QApplication.instance()
    size = app.font().pointSizeF() if app is not None else BASE_POINTS
    return max(1.0, size / BASE_POINTS) if size > 0 else 1.0


def stylesheet(scale: float | None = None) -> str:
    """The app's stylesheet with its point sizes scaled to the application font (``font_scale``)."""
    path = UI_DIR / "style.qss"
    if not path.exists():
        return ""
    scale = font_scale() if scale is None else scale
    # Qt resolves url() against the working folder; point it at our icons wherever we run from.
    text = path.read_text(encoding="utf-8").replace("@ICONS@", (UI_DIR / "icons").as_posix())
    return re.sub(r"(\d+(?:\.\d+)?)pt\b", lambda m: f"{round(float(m.group(1)) * scale * 2) / 2:g}pt", text)

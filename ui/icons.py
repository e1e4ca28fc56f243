"""Icons and the stylesheet shipped in resources/ui."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

import resources

UI_DIR = Path(resources.__file__).resolve().parent / "ui"


@cache
def icon(name: str) -> QIcon:
    path = UI_DIR / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


def stylesheet() -> str:
    path = UI_DIR / "style.qss"
    if not path.exists():
        return ""
    # Qt resolves url() against the working folder; point it at our icons wherever we run from.
    return path.read_text(encoding="utf-8").replace("@ICONS@", (UI_DIR / "icons").as_posix())

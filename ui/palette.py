"""Colours: a calm, stable palette for activities and the few accents the views share."""

from __future__ import annotations

from PySide6.QtGui import QColor

from scheduler.model import Scenario

# Soft fills that keep dark text legible; each activity keeps its colour as long as
# the catalogue's order does (the colour follows the activity's position).
FILLS = (
    "#cfe2f3", "#d9ead3", "#fce5cd", "#e4d9f2", "#f4cccc", "#d0ecea",
    "#fff2cc", "#dde3ea", "#f6d5e8", "#e2efd0", "#c9daf8", "#ead1c4",
)
ACCENT = QColor("#2563eb")
TEXT = QColor("#1f2933")
MUTED = QColor("#52606d")
GRID_LINE = QColor("#e4e7eb")
HOUR_LINE = QColor("#cbd2d9")
HEADER_BG = QColor("#f5f7fa")
OK = QColor("#1b7f3b")
WARN = QColor("#b54708")
BAD = QColor("#b42318")
BAD_BG = QColor("#fde2e1")


def activity_colours(scenario: Scenario | None) -> dict[str, QColor]:
    if scenario is None:
        return {}
    return {a.id: QColor(FILLS[i % len(FILLS)]) for i, a in enumerate(scenario.activities)}


def border_of(fill: QColor) -> QColor:
    return fill.darker(135)

"""Reading a QComboBox's current value safely."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox


def current_value(combo: QComboBox):
    """The current item's data; None when nothing is chosen (an empty combo).

    Never ``combo.currentData()`` where it may answer None: PySide6 6.12.0 then drops a reference to None
    on every call, and on Python 3.11 after some thousands of calls (a grid refresh made three) Python
    aborts with "deallocating None". pyproject.toml keeps that release off Python 3.11
    (``tests/test_ui_app.py::test_qt_calls_keep_none_alive``); this stays as a second line of defence,
    and items never carry None as their data either."""
    index = combo.currentIndex()
    return None if index < 0 else combo.itemData(index)

"""The program settings (program.csv) as a two-column key/value table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal

from scheduler.model import SOFT_GOALS, Program, Scenario
from ui.models import fields as f
from ui.models.edits import Edit, EditKind
from ui.models.entity_model import ERROR_BACKGROUND
from scheduler.io.reader import import_refusal, program_refusal


@dataclass(frozen=True)
class Setting:
    key: str  # program.csv key
    label: str
    meaning: str
    get: Callable[[Program], Any]
    fmt: Callable[[Any], str]
    parse: Callable[[str], Any]
    put: Callable[[Program, Any], Program]


def _field(key, label, meaning, fmt, parse) -> Setting:
    return Setting(key, label, meaning, lambda p: getattr(p, key), fmt, parse, lambda p, v: replace(p, **{key: v}))


def _weight(code: str, name: str) -> Setting:
    return Setting(
        f"weight_{name}", f"Weight: {name}", f"{code}: weight of the {name} goal in the objective",
        lambda p: p.weights.of(name), f.fmt_number, f.parse_weight,
        lambda p, v: replace(p, weights=replace(p.weights, **{name: v})),
    )


SETTINGS: tuple[Setting, ...] = (
    _field("name", "Program name", "Shown in exports and the window title", str, f.parse_text),
    _field("week_start", "Week start", "Date of the first day (YYYY-MM-DD); exports then carry dates", f.fmt_date, f.parse_date),
    _field("days", "Days", "Working days, e.g. Mon-Fri", f.fmt_days, f.parse_days_text),
    _field("open", "Opens", "Opening time, HH:MM", f.fmt_time, f.parse_time_text),
    _field("close", "Closes", "Closing time, HH:MM", f.fmt_time, f.parse_time_text),
    _field("slot_minutes", "Slot minutes", "Time grid: every session starts and ends on it", f.fmt_number, partial(f.parse_minutes, minimum=5)),
    _field("max_gap_minutes", "Max gap minutes", "Longest idle gap between two in-block activities of a patient's day", f.fmt_number, f.parse_minutes),
    _field("min_days", "Min days", "Default days a week a patient attends", f.fmt_number, f.parse_int),
    _field("max_days", "Max days", "", f.fmt_number, f.parse_int),
    _field("min_hours", "Min hours/day", "Default program hours on an attended day", f.fmt_number, f.parse_float),
    _field("max_hours", "Max hours/day", "", f.fmt_number, f.parse_float),
    _field("hours_basis", "Hours basis", "contact (in-block minutes) or span (first start to last end)", lambda v: v.value, f.parse_hours_basis),
    _field("min_week_hours", "Min hours/week", "Weekly hours of all activities (IOP: 9-19 adults, 6-19 adolescents)", f.fmt_number, f.parse_float),
    _field("max_week_hours", "Max hours/week", "", f.fmt_number, f.parse_float),
) + tuple(_weight(code, name) for code, name in SOFT_GOALS)


def _check(p: Program) -> str | None:
    if not p.days:
        return "name at least one working day"
    if p.close <= p.open:
        return "the program must close after it opens"
    if (p.close - p.open) % p.slot_minutes:
        return f"opening hours must be a whole number of {p.slot_minutes}-minute slots"
    for low, high, what in ((p.min_days, p.max_days, "days"), (p.min_hours, p.max_hours, "hours per day"),
                            (p.min_week_hours, p.max_week_hours, "hours per week")):
        if low > high:
            return f"the minimum {what} ({f.fmt_number(low)}) exceeds the maximum ({f.fmt_number(high)})"
    return program_refusal(p)  # the importer's own checks, e.g. the week starts on the program's first day


class ProgramTableModel(QAbstractTableModel):
    editRefused = Signal(int, int, str)
    HEADERS = ("Setting", "Value", "Meaning")
    VALUE = 1

    def __init__(self, scenario: Scenario | None = None, parent=None):
        super().__init__(parent)
        self._scenario = scenario
        self._errors: dict[int, str] = {}
        self.last_error: str | None = None
        self.apply_edit: Callable[[Edit], None] = lambda edit: self.set_scenario(edit.after)

    @property
    def scenario(self) -> Scenario | None:
        return self._scenario

    def set_scenario(self, scenario: Scenario | None) -> None:
        had = self._scenario is not None
        self._scenario = scenario
        if had and scenario is not None:
            self.dataChanged.emit(self.index(0, self.VALUE), self.index(len(SETTINGS) - 1, self.VALUE))
        else:
            self.beginResetModel()
            self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() or self._scenario is None else len(SETTINGS)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def flags(self, index):
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.column() == self.VALUE else base

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self._scenario is None:
            return None
        s = SETTINGS[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if index.column() == 0:
                return s.label
            if index.column() == self.VALUE:
                return s.fmt(s.get(self._scenario.program))
            return s.meaning
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._errors.get(index.row()) if index.column() == self.VALUE else f"program.csv key: {s.key}"
        if role == Qt.ItemDataRole.BackgroundRole and index.column() == self.VALUE and index.row() in self._errors:
            return ERROR_BACKGROUND
        return None

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or index.column() != self.VALUE or role != Qt.ItemDataRole.EditRole:
            return False
        return self.edit_setting(index.row(), "" if value is None else str(value))

    def row_of(self, key: str) -> int:
        return next(i for i, s in enumerate(SETTINGS) if s.key == key)

    def edit_setting(self, row: int, text: str) -> bool:
        s = SETTINGS[row]
        program = self._scenario.program
        try:
            new = s.put(program, s.parse(text))
            reason = _check(new)
        except ValueError as exc:
            reason = str(exc)
        if reason is None and new != program:  # across files: what the importer would refuse
            reason = import_refusal(self._scenario, replace(self._scenario, program=new))
        if reason is not None:
            self.last_error = f"{s.label}: {reason}"
            self._errors[row] = self.last_error
            self.dataChanged.emit(self.index(row, self.VALUE), self.index(row, self.VALUE))
            self.editRefused.emit(row, self.VALUE, self.last_error)
            return False
        self.last_error = None
        if self._errors.pop(row, None):
            self.dataChanged.emit(self.index(row, self.VALUE), self.index(row, self.VALUE))
        if new != program:
            after = replace(self._scenario, program=new)
            self.apply_edit(Edit(EditKind.PROGRAM, self._scenario, after, f"Change {s.label.lower()}"))
        return True

"""One ``QAbstractTableModel`` over a tuple of frozen domain objects (patients, staff, ...).

The model owns no data of its own: it shows ``getattr(scenario, spec.attr)``.
An edit parses the cell text, builds a new object with ``dataclasses.replace``
and a new ``Scenario``, checks it, and hands an :class:`Edit` to
``apply_edit``. A refused edit leaves the cell as it was and emits
``editRefused(row, column, reason)``; the reason is also the cell's tooltip
until the cell is edited successfully.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from scheduler.io.reader import import_refusal
from scheduler.model import Scenario
from ui.models.edits import Edit, EditKind
from ui.models.references import removal_refusal, rename_refusal, without_previous_mentions

ERROR_BACKGROUND = QColor("#fde2e1")
READ_ONLY_FOREGROUND = QColor("#6b7280")


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    fmt: Callable[[Any], str] = str
    parse: Callable[[str], Any] | None = None
    tip: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class EntitySpec:
    attr: str  # the Scenario field: "patients", "staff", "rooms", "activities"
    singular: str
    id_prefix: str
    columns: tuple[Column, ...]
    new_item: Callable[[str, Scenario], Any]
    # Cross-field and cross-entity checks of an edited object: a reason, or None when fine.
    check: Callable[[Scenario, Any], str | None] = lambda scenario, item: None


class EntityTableModel(QAbstractTableModel):
    editRefused = Signal(int, int, str)

    def __init__(self, spec: EntitySpec, scenario: Scenario | None = None, parent=None):
        super().__init__(parent)
        self.spec = spec
        self._scenario = scenario
        self._items: tuple = getattr(scenario, spec.attr) if scenario else ()
        self._errors: dict[tuple[int, int], str] = {}
        self.last_error: str | None = None
        self.apply_edit: Callable[[Edit], None] = self._apply_locally

    # -- data in -------------------------------------------------------------------------

    @property
    def scenario(self) -> Scenario | None:
        return self._scenario

    def set_scenario(self, scenario: Scenario | None) -> None:
        items = getattr(scenario, self.spec.attr) if scenario else ()
        old = self._items
        self._scenario = scenario
        if len(items) == len(old) and all(a.id == b.id for a, b in zip(items, old)):
            self._items = items
            changed = [i for i, (a, b) in enumerate(zip(items, old)) if a is not b and a != b]
            if changed:
                last = self.columnCount() - 1
                self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), last))
            return
        self.beginResetModel()
        self._items = items
        self._errors.clear()
        self.endResetModel()

    def _apply_locally(self, edit: Edit) -> None:
        self.set_scenario(edit.after)

    def item(self, row: int):
        return self._items[row]

    def row_of(self, item_id: str) -> int:
        return next((i for i, it in enumerate(self._items) if it.id == item_id), -1)

    # -- Qt model --------------------------------------------------------------------------

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.spec.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal:
            col = self.spec.columns[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return col.header
            if role == Qt.ItemDataRole.ToolTipRole:
                return col.tip or None
        elif role == Qt.ItemDataRole.DisplayRole:
            return str(section + 1)
        return None

    def flags(self, index):
        base = super().flags(index)
        if index.isValid() and self.spec.columns[index.column()].parse is not None:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        col = self.spec.columns[index.column()]
        value = getattr(self._items[index.row()], col.field)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return col.fmt(value)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._errors.get((index.row(), index.column())) or col.tip or None
        if role == Qt.ItemDataRole.BackgroundRole and (index.row(), index.column()) in self._errors:
            return ERROR_BACKGROUND
        if role == Qt.ItemDataRole.ForegroundRole and col.parse is None:
            return READ_ONLY_FOREGROUND
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        return self.edit_cell(index.row(), index.column(), "" if value is None else str(value))

    # -- edits -----------------------------------------------------------------------------

    def edit_cell(self, row: int, column: int, text: str) -> bool:
        """Parse ``text`` into the cell; False (and ``editRefused``) when it is refused."""
        col = self.spec.columns[column]
        old = self._items[row]
        reason = None
        new = old
        try:
            if col.parse is None:
                raise ValueError(f"{col.header} cannot be edited here")
            new = replace(old, **{col.field: col.parse(text)})
        except ValueError as exc:  # TimeFormatError is a ValueError
            reason = str(exc)
        if reason is None and new == old:
            self._clear_error(row, column)
            return True
        if reason is None and col.field == "id":
            reason = self._id_refusal(old.id, new.id)
        if reason is None:
            reason = self.spec.check(self._scenario, new)
        after = self._with_items(self._items[:row] + (new,) + self._items[row + 1 :])
        if reason is None:  # across files: what the importer would refuse (the app never holds such data)
            reason = import_refusal(self._scenario, after)
        if reason is not None:
            return self._refuse(row, column, f"{col.header}: {reason}")
        self._clear_error(row, column)
        self.apply_edit(Edit(EditKind.CELL, self._scenario, after, f"Edit {col.header.lower()} of {old.id}"))
        return True

    def add_item(self) -> str:
        """Append a new object with a fresh id; returns the id."""
        new_id = self._fresh_id()
        item = self.spec.new_item(new_id, self._scenario)
        after = self._with_items(self._items + (item,))
        self.apply_edit(Edit(EditKind.ADD, self._scenario, after, f"Add {self.spec.singular} {new_id}"))
        return new_id

    def remove_rows(self, rows: list[int]) -> str | None:
        """Remove the objects on ``rows``; returns the refusal reason, or None when done."""
        rows = sorted(set(r for r in rows if 0 <= r < len(self._items)))
        if not rows:
            return "Select the rows to remove first"
        after = self._scenario
        ids = [self._items[r].id for r in rows]
        for item_id in ids:
            reason = removal_refusal(after, self.spec.attr, item_id)
            if reason:
                self.last_error = reason
                return reason
            after = without_previous_mentions(after, self.spec.attr, item_id)
        kept = tuple(it for it in getattr(after, self.spec.attr) if it.id not in ids)
        after = replace(after, **{self.spec.attr: kept})
        text = f"Remove {self.spec.singular} {ids[0]}" if len(ids) == 1 else f"Remove {len(ids)} {self.spec.attr}"
        self.apply_edit(Edit(EditKind.REMOVE, self._scenario, after, text))
        return None

    # -- helpers ---------------------------------------------------------------------------

    def _with_items(self, items: tuple) -> Scenario:
        return replace(self._scenario, **{self.spec.attr: items})

    def _id_refusal(self, old_id: str, new_id: str) -> str | None:
        if any(it.id == new_id for it in self._items):
            return f"{new_id} is already used by another {self.spec.singular}"
        return rename_refusal(self._scenario, self.spec.attr, old_id)

    def _fresh_id(self) -> str:
        used = {it.id for it in self._items}
        width = max(2, len(str(len(used) + 1)))
        n = len(used) + 1
        while f"{self.spec.id_prefix}{n:0{width}d}" in used:
            n += 1
        return f"{self.spec.id_prefix}{n:0{width}d}"

    def _refuse(self, row: int, column: int, reason: str) -> bool:
        self.last_error = reason
        self._errors[(row, column)] = reason
        idx = self.index(row, column)
        self.dataChanged.emit(idx, idx)
        self.editRefused.emit(row, column, reason)
        return False

    def _clear_error(self, row: int, column: int) -> None:
        self.last_error = None
        if self._errors.pop((row, column), None) is not None:
            idx = self.index(row, column)
            self.dataChanged.emit(idx, idx)

"""Editor tabs: one table per entity (patients, staff, rooms, activities) and the program settings.

The views only show models and forward the coordinator's gestures; the models
build the new scenario and the window's undo stack applies it.
"""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QStyledItemDelegate,
    QTableView, QToolTip, QVBoxLayout, QWidget,
)

from scheduler.io.reader import import_warning
from ui.icons import font_scale
from ui.models.entity_model import EntityTableModel
from ui.models.program_model import ProgramTableModel


class ChoiceDelegate(QStyledItemDelegate):
    """A combo box for columns with a fixed set of values (cohort, mode, yes/no ...)."""

    def __init__(self, choices_of, parent=None):
        super().__init__(parent)
        self._choices_of = choices_of

    def createEditor(self, parent, option, index):
        choices = self._choices_of(index.column())
        if not choices:
            return super().createEditor(parent, option, index)
        combo = QComboBox(parent)
        combo.addItems(list(choices))
        return combo

    def setEditorData(self, editor, index):
        if isinstance(editor, QComboBox):
            editor.setCurrentText(str(index.data(Qt.ItemDataRole.EditRole)))
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor, model, index):
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)
        else:
            super().setModelData(editor, model, index)


def _table_view() -> QTableView:
    view = QTableView()
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
                         | QAbstractItemView.EditTrigger.AnyKeyPressed)
    view.verticalHeader().setDefaultSectionSize(round(26 * font_scale()))
    view.horizontalHeader().setHighlightSections(False)
    view.setWordWrap(False)
    return view


def show_refusal(view: QTableView, index, reason: str) -> None:
    """Show why an edit was refused right at the cell."""
    if index.isValid():
        rect = view.visualRect(index)
        QToolTip.showText(view.viewport().mapToGlobal(rect.bottomLeft()), reason, view.viewport(), rect, 6000)


def set_hint(label: QLabel, text: str, tone: str = "") -> None:
    label.setText(text)
    label.setProperty("tone", tone)
    label.style().unpolish(label)
    label.style().polish(label)


class EntityEditor(QWidget):
    """Add/Remove buttons, a quick filter, and the table of one entity."""

    message = Signal(str)
    HINT = "Double-click a cell to edit it. Every edit can be undone (Ctrl+Z)."

    def __init__(self, model: EntityTableModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        bar = QHBoxLayout()
        noun = model.spec.singular
        self.add_button = QPushButton(f"Add {noun}")
        self.remove_button = QPushButton("Remove selected")
        self.search = QLineEdit()
        self.search.setPlaceholderText(f"Filter {model.spec.attr}…")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(260)
        self.count = QLabel()
        self.count.setObjectName("muted")
        bar.addWidget(self.add_button)
        bar.addWidget(self.remove_button)
        bar.addSpacing(12)
        bar.addWidget(self.search)
        bar.addStretch(1)
        bar.addWidget(self.count)
        layout.addLayout(bar)
        self.view = _table_view()
        self.view.setModel(self.proxy)
        self.view.setItemDelegate(ChoiceDelegate(lambda c: model.spec.columns[c].choices, self.view))
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.view, 1)
        self.hint = QLabel(self.HINT)
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)  # a long refusal wraps instead of widening the window
        layout.addWidget(self.hint)

        self.add_button.clicked.connect(self.add_row)
        self.remove_button.clicked.connect(self.remove_selected)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        model.editRefused.connect(self._refused)
        model.modelReset.connect(self._model_reset)
        model.rowsInserted.connect(self._update_count)
        self._model_reset()

    def _model_reset(self) -> None:
        self._update_count()
        self.view.resizeColumnsToContents()
        header = self.view.horizontalHeader()
        for column in range(header.count()):
            header.resizeSection(column, min(max(header.sectionSize(column), 60), 320))

    def _update_count(self) -> None:
        n = self.model.rowCount()
        self.count.setText(f"{n} {self.model.spec.attr if n != 1 else self.model.spec.singular}")

    def add_row(self) -> str:
        new_id = self.model.add_item()
        row = self.model.row_of(new_id)
        if row >= 0:
            index = self.proxy.mapFromSource(self.model.index(row, 1))
            self.view.scrollTo(index)
            self.view.setCurrentIndex(index)
        self.message.emit(f"Added {self.model.spec.singular} {new_id}")
        return new_id

    def selected_rows(self) -> list[int]:
        rows = {self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedRows()}
        if not rows and self.view.currentIndex().isValid():
            rows = {self.proxy.mapToSource(self.view.currentIndex()).row()}
        return sorted(rows)

    def remove_selected(self) -> None:
        rows = self.selected_rows()
        ids = [self.model.item(r).id for r in rows]
        before = self.model.scenario
        reason = self.model.remove_rows(rows)
        if reason:
            self.message.emit(reason)
            set_hint(self.hint, reason, "bad")
            return
        self._update_count()
        done = f"Removed {self.model.spec.singular} {ids[0]}" if len(ids) == 1 else f"Removed {len(ids)} {self.model.spec.attr}"
        # What the clinic can no longer do, as the import would warn (the only prescriber removed, ...).
        warning = import_warning(before, self.model.scenario)
        if warning:
            set_hint(self.hint, f"{done}. Note: {warning}", "warn")
            self.message.emit(f"{done}. Note: {warning}")
        else:
            set_hint(self.hint, done)
            self.message.emit(done)

    def _refused(self, row: int, column: int, reason: str) -> None:
        set_hint(self.hint, reason, "bad")
        self.message.emit(reason)
        show_refusal(self.view, self.proxy.mapFromSource(self.model.index(row, column)), reason)

    def clear_hint(self) -> None:
        set_hint(self.hint, self.HINT)


class ProgramEditor(QWidget):
    message = Signal(str)
    HINT = "Program-wide settings (program.csv). Patients may override the attendance limits."

    def __init__(self, model: ProgramTableModel, parent=None):
        super().__init__(parent)
        self.model = model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.view = _table_view()
        self.view.setModel(model)
        self.view.verticalHeader().setVisible(False)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.resizeSection(1, 220)
        header.setStretchLastSection(True)
        layout.addWidget(self.view, 1)
        self.hint = QLabel(self.HINT)
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)  # a long refusal wraps instead of widening the window
        layout.addWidget(self.hint)
        model.editRefused.connect(self._refused)

    def _refused(self, row: int, column: int, reason: str) -> None:
        set_hint(self.hint, reason, "bad")
        self.message.emit(reason)
        show_refusal(self.view, self.model.index(row, column), reason)

    def clear_hint(self) -> None:
        set_hint(self.hint, self.HINT)

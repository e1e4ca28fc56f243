"""Undoable edits: one ``QUndoCommand`` per kind of edit.

Every command swaps whole, immutable scenarios (before/after), so undo is
exact and cheap; the document saves the scenario to the store on each swap.
"""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from ui.models.edits import Edit, EditKind


class ScenarioCommand(QUndoCommand):
    """An edit. If the clinic file cannot take it (read-only, busy, disk full), nothing changes: the
    document keeps its scenario and says why; an edit that fails when first made is not pushed
    (obsolete), so the undo stack holds only edits that happened."""

    def __init__(self, document, edit: Edit):
        super().__init__(edit.text)
        self.document = document
        self.edit = edit
        self._made = False

    def redo(self) -> None:
        if self.document.set_scenario(self.edit.after):
            self._made = True
        elif not self._made:
            self.setObsolete(True)

    def undo(self) -> None:
        self.document.set_scenario(self.edit.before)


class EditCellCommand(ScenarioCommand):
    """One cell of a patients/staff/rooms/activities table."""


class AddRowCommand(ScenarioCommand):
    """A new patient, staff member, room or activity."""


class RemoveRowsCommand(ScenarioCommand):
    """Rows removed from an editor table (and their mentions in last week's timetable)."""


class EditProgramCommand(ScenarioCommand):
    """One program setting."""


class ImportScenarioCommand(ScenarioCommand):
    """A whole scenario read from a CSV folder or an XLSX workbook."""


class PinSessionsCommand(ScenarioCommand):
    """Sessions pinned or unpinned (stored as ``scenario.previous``)."""


COMMANDS: dict[EditKind, type[ScenarioCommand]] = {
    EditKind.CELL: EditCellCommand,
    EditKind.ADD: AddRowCommand,
    EditKind.REMOVE: RemoveRowsCommand,
    EditKind.PROGRAM: EditProgramCommand,
    EditKind.IMPORT: ImportScenarioCommand,
    EditKind.PIN: PinSessionsCommand,
}


def command_for(document, edit: Edit) -> ScenarioCommand:
    return COMMANDS[edit.kind](document, edit)

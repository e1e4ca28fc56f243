"""Undoable edits: one ``QUndoCommand`` per kind of edit.

Every command swaps whole, immutable scenarios (before/after), so undo is
exact and cheap; the document saves the scenario to the store on each swap.
A move by hand also swaps the shown timetable (``MoveSessionCommand``).
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


class MoveSessionCommand(QUndoCommand):
    """A session of the shown timetable moved by hand: its pin (in the scenario) and the shown timetable
    change together, as one step. Undo brings both back while the edited timetable is still the one
    shown; once a solve or a saved timetable took its place, undo and redo change the pins alone (as
    undoing a pin does) and leave the timetable on show alone."""

    def __init__(self, document, edit: Edit, before, after, *, new_name: bool):
        super().__init__(edit.text)
        self.document = document
        self.edit = edit
        self.after = after  # SolveOutcome: the edited timetable
        self._before_shown = before  # the outcome on show when the move is not made
        self._after_shown = None  # the outcome on show when it is (after is renamed if it cannot be saved)
        self._before = before
        self._forget = after.name if new_name else ""  # a saved timetable the move made, deleted by undo
        self._made = False

    def redo(self) -> None:
        doc = self.document
        if self._made and doc.outcome is not self._before_shown:
            doc.set_scenario(self.edit.after)
            return
        shown = doc.set_hand_edit(self.edit.after, self.after)
        if shown is None:
            if not self._made:
                self.setObsolete(True)
            return
        self._made, self._after_shown = True, shown

    def undo(self) -> None:
        doc = self.document
        if doc.outcome is not self._after_shown:
            doc.set_scenario(self.edit.before)
            return
        shown = doc.set_hand_edit(self.edit.before, self._before, forget=self._forget)
        if shown is not None:
            self._before_shown = shown


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

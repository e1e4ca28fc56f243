"""An edit the coordinator made: the scenario before and after, and words for the undo menu.

Table models describe edits with this value and hand it to ``apply_edit``; the
main window turns it into a ``QUndoCommand`` (``ui.commands.command_for``), a
bare model just applies it to itself. Models never import the undo machinery.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from scheduler.model import Scenario


class EditKind(StrEnum):
    CELL = "cell"
    ADD = "add"
    REMOVE = "remove"
    PROGRAM = "program"
    IMPORT = "import"
    PIN = "pin"
    MOVE = "move"  # a session of the shown timetable moved by hand (ui.models.moves)


@dataclass(frozen=True)
class Edit:
    kind: EditKind
    before: Scenario
    after: Scenario
    text: str

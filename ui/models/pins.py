"""Pinned sessions: kept by the next solve (H9).

A pin is stored the way the solver reads it: the current timetable becomes
``scenario.previous`` with ``pinned=True`` on the chosen sessions. Which
sessions of a timetable are pinned is read back from ``scenario.previous``.
"""

from __future__ import annotations

from dataclasses import replace

from scheduler.model import Scenario, Session, Timetable
from ui.models.edits import Edit, EditKind

SessionKey = tuple


def session_key(s: Session) -> SessionKey:
    return (s.day, s.start, s.end, s.activity_id, tuple(sorted(s.staff_ids)), s.room_id or "", tuple(sorted(s.patient_ids)))


def pinned_keys(scenario: Scenario | None) -> frozenset[SessionKey]:
    if scenario is None or scenario.previous is None:
        return frozenset()
    return frozenset(session_key(s) for s in scenario.previous.pinned)


def pin_edit(scenario: Scenario, timetable: Timetable, sessions: list[Session], pinned: bool) -> Edit:
    """The edit that pins (or unpins) ``sessions`` of ``timetable``; other pins stay."""
    keys = set(pinned_keys(scenario))
    chosen = {session_key(s) for s in sessions}
    keys = keys | chosen if pinned else keys - chosen
    previous = Timetable(tuple(replace(s, pinned=session_key(s) in keys) for s in timetable.sessions))
    word = "Pin" if pinned else "Unpin"
    text = f"{word} {len(sessions)} sessions" if len(sessions) != 1 else f"{word} {sessions[0].activity_id} on {_when(sessions[0])}"
    return Edit(EditKind.PIN, scenario, scenario.with_previous(previous), text)


def _when(s: Session) -> str:
    from scheduler.model import DAY_NAMES
    from scheduler.timegrid import format_time

    return f"{DAY_NAMES[s.day]} {format_time(s.start)}"

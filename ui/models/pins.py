"""Pinned sessions: kept by the next solve (H9).

A pin is stored the way the solver reads it, as a session of ``scenario.previous`` with
``pinned=True``: pinning adds the chosen sessions of the shown timetable there, unpinning takes
them out. Last week's timetable (imported, ``previous_sessions.csv``) stays as it is beside them:
its unpinned sessions are what stability (S3) is measured against, and a solve's own sessions
never become "last week" by pinning one of them (until session 18 the first pin replaced last
week's timetable with the whole shown week, and every id in it could no longer be renamed).
Which sessions of a timetable are pinned is read back from ``scenario.previous``.
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
    """The edit that pins (or unpins) ``sessions`` of ``timetable``; other pins and last week's sessions stay."""
    kept = () if scenario.previous is None else scenario.previous.sessions
    chosen = {session_key(s) for s in sessions}
    if pinned:
        have = pinned_keys(scenario)
        taken = {s.session_id for s in kept if s.session_id}
        added = []
        for s in timetable.sessions:
            key = session_key(s)
            if key in chosen and key not in have:
                have |= {key}
                session_id = s.session_id if s.session_id and s.session_id not in taken else free_session_id(taken)
                taken.add(session_id)
                added.append(replace(s, pinned=True, session_id=session_id))
        sessions_after = tuple(kept) + tuple(added)
    else:
        sessions_after = tuple(s for s in kept if not (s.pinned and session_key(s) in chosen))
    previous = Timetable(sessions_after) if sessions_after else None
    word = "Pin" if pinned else "Unpin"
    text = f"{word} {len(sessions)} sessions" if len(sessions) != 1 else f"{word} {sessions[0].activity_id} on {_when(sessions[0])}"
    return Edit(EditKind.PIN, scenario, scenario.with_previous(previous), text)


def free_session_id(taken: set[str]) -> str:
    """The first ``S001``-style id not taken (two sessions of last week's timetable never share one)."""
    n = 1
    while f"S{n:03d}" in taken:
        n += 1
    return f"S{n:03d}"


def _when(s: Session) -> str:
    from scheduler.model import DAY_NAMES
    from scheduler.timegrid import format_time

    return f"{DAY_NAMES[s.day]} {format_time(s.start)}"

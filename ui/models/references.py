"""Who refers to an id: what a rename or a removal would leave dangling.

Patients name staff (primary therapist) and activities (requirements); last
week's timetable (``scenario.previous``) names everything. A rename or removal
that would break a reference is refused with the reason; unpinned sessions of
last week that mention a removed id are dropped, pinned ones block the removal.
"""

from __future__ import annotations

from dataclasses import replace

from scheduler.model import Scenario, Session, Timetable


def _in_session(kind: str, item_id: str, s: Session) -> bool:
    if kind == "patients":
        return item_id in s.patient_ids
    if kind == "staff":
        return item_id in s.staff_ids
    if kind == "rooms":
        return s.room_id == item_id
    if kind == "activities":
        return s.activity_id == item_id
    return False


def referrers(scenario: Scenario, kind: str, item_id: str) -> list[str]:
    """Plain-words list of what refers to ``item_id`` (patients' fields only)."""
    out: list[str] = []
    if kind == "staff":
        ids = [p.id for p in scenario.patients if p.primary_therapist == item_id]
        if ids:
            out.append(f"primary therapist of {len(ids)} patient(s) ({', '.join(ids[:5])}{'…' if len(ids) > 5 else ''})")
    if kind == "activities":
        ids = [p.id for p in scenario.patients if p.requirement(item_id) is not None]
        if ids:
            out.append(f"required by {len(ids)} patient(s) ({', '.join(ids[:5])}{'…' if len(ids) > 5 else ''})")
    return out


def pinned_uses(scenario: Scenario, kind: str, item_id: str) -> int:
    if scenario.previous is None:
        return 0
    return sum(1 for s in scenario.previous.pinned if _in_session(kind, item_id, s))


def rename_refusal(scenario: Scenario, kind: str, old_id: str) -> str | None:
    """Why ``old_id`` cannot be renamed, or None."""
    refs = referrers(scenario, kind, old_id)
    if scenario.previous is not None and any(_in_session(kind, old_id, s) for s in scenario.previous.sessions):
        refs.append("named in last week's timetable")
    if refs:
        return f"{old_id} cannot be renamed: it is {'; '.join(refs)}"
    return None


def removal_refusal(scenario: Scenario, kind: str, item_id: str) -> str | None:
    """Why ``item_id`` cannot be removed, or None."""
    refs = referrers(scenario, kind, item_id)
    pins = pinned_uses(scenario, kind, item_id)
    if pins:
        refs.append(f"in {pins} pinned session(s); unpin them first")
    if refs:
        return f"{item_id} cannot be removed: it is {'; '.join(refs)}"
    return None


def without_previous_mentions(scenario: Scenario, kind: str, item_id: str) -> Scenario:
    """Drop ``item_id`` from last week's unpinned sessions (a patient leaves a group; other sessions go)."""
    if scenario.previous is None:
        return scenario
    kept: list[Session] = []
    for s in scenario.previous.sessions:
        if not _in_session(kind, item_id, s):
            kept.append(s)
        elif kind == "patients" and len(s.patient_ids) > 1:
            kept.append(replace(s, patient_ids=tuple(p for p in s.patient_ids if p != item_id)))
    return scenario.with_previous(Timetable(tuple(kept)))

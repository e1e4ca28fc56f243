"""Which sessions the timetable shows: the whole program, one patient, staff member, room or track,
or the pinned sessions (every pin at a glance, to unpin one).

A *track* is a cohort, optionally narrowed to a time of day (morning, afternoon,
evening) read from the patients' availability: the groups of patients a
coordinator thinks in ("adult evening track").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from scheduler.model import Cohort, Patient, Scenario, Session, Timetable
from ui.models.pins import pinned_keys, session_key


class FilterKind(StrEnum):
    ALL = "all"
    PATIENT = "patient"
    STAFF = "staff"
    ROOM = "room"
    TRACK = "track"
    PINNED = "pinned"


FILTER_LABELS = {
    FilterKind.ALL: "Whole program",
    FilterKind.PATIENT: "Patient",
    FilterKind.STAFF: "Staff member",
    FilterKind.ROOM: "Room",
    FilterKind.TRACK: "Track",
    FilterKind.PINNED: "Pinned sessions",
}

_COHORT_WORDS = {Cohort.ADULT: "Adults", Cohort.ADOLESCENT: "Adolescents", Cohort.ANY: "Everyone"}


@dataclass(frozen=True)
class Track:
    key: str  # "adult" or "adult:evening"
    label: str
    patient_ids: frozenset[str]


def time_of_day(patient: Patient) -> str | None:
    """morning / afternoon / evening from the middle of the patient's windows; None when unrestricted."""
    windows = patient.availability.windows
    if not windows:
        return None
    middle = sum((w.start + w.end) / 2 for w in windows) / len(windows)
    if middle < 12 * 60 + 30:
        return "morning"
    if middle < 17 * 60:
        return "afternoon"
    return "evening"


def tracks(scenario: Scenario) -> list[Track]:
    by_key: dict[str, set[str]] = {}
    for p in scenario.patients:
        by_key.setdefault(p.cohort.value, set()).add(p.id)
        band = time_of_day(p)
        if band:
            by_key.setdefault(f"{p.cohort.value}:{band}", set()).add(p.id)
    order = {"morning": 0, "afternoon": 1, "evening": 2}
    out = []
    for key in sorted(by_key, key=lambda k: (k.split(":")[0] != "adult", k.split(":")[0], order.get(k.partition(":")[2], -1))):
        cohort, _, band = key.partition(":")
        words = _COHORT_WORDS.get(Cohort(cohort), cohort)
        label = f"{words} · {band}" if band else f"{words} (all)"
        out.append(Track(key, f"{label} ({len(by_key[key])})", frozenset(by_key[key])))
    return out


def subjects(scenario: Scenario | None, kind: FilterKind) -> list[tuple[str, str]]:
    """(id, label) choices for the second filter combo."""
    if scenario is None:
        return []
    if kind == FilterKind.PATIENT:
        return [(p.id, f"{p.id} — {p.name}" if p.name else p.id) for p in scenario.patients]
    if kind == FilterKind.STAFF:
        return [(s.id, f"{s.name or s.id} ({s.role})" if s.role else s.name or s.id) for s in scenario.staff]
    if kind == FilterKind.ROOM:
        return [(r.id, r.name or r.id) for r in scenario.rooms]
    if kind == FilterKind.TRACK:
        return [(t.key, t.label) for t in tracks(scenario)]
    return []


def filter_sessions(scenario: Scenario | None, timetable: Timetable | None, kind: FilterKind,
                    subject: str | None) -> tuple[Session, ...]:
    if timetable is None:
        return ()
    if kind == FilterKind.PINNED:
        keys = pinned_keys(scenario)
        return tuple(s for s in timetable.sessions if session_key(s) in keys)
    if kind == FilterKind.ALL or not subject:
        return timetable.sessions
    if kind == FilterKind.PATIENT:
        return timetable.of_patient(subject)
    if kind == FilterKind.STAFF:
        return timetable.of_staff(subject)
    if kind == FilterKind.ROOM:
        return timetable.of_room(subject)
    if kind == FilterKind.TRACK and scenario is not None:
        track = next((t for t in tracks(scenario) if t.key == subject), None)
        if track is None:
            return ()
        return tuple(s for s in timetable.sessions if track.patient_ids.intersection(s.patient_ids))
    return ()

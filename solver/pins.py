"""Pinned sessions checked on their own (H9): a pin that breaks a rule makes the week infeasible."""

from __future__ import annotations

from scheduler.model import DAY_NAMES, Mode, RoomKind, Scenario, Session
from scheduler.timegrid import covers, format_time
from solver.space import eligible


def pin_problems(scenario: Scenario) -> list[str]:
    """Plain-words reasons why pinned sessions cannot be kept; empty when all can."""
    if scenario.previous is None:
        return []
    problems: list[str] = []
    pins = [s for s in scenario.previous.sessions if s.pinned]
    for s in pins:
        problems.extend(_session_problems(scenario, s))
    for i, a in enumerate(pins):
        for b in pins[i + 1 :]:
            if a.overlaps(b):
                shared = (set(a.patient_ids) & set(b.patient_ids)) | (set(a.staff_ids) & set(b.staff_ids))
                if a.room_id and a.room_id == b.room_id:
                    shared.add(a.room_id)
                if shared:
                    problems.append(
                        f"pinned {_label(a)} and pinned {_label(b)} overlap for {', '.join(sorted(shared))}"
                    )
    return problems


def _label(s: Session) -> str:
    return f"{s.activity_id} on {DAY_NAMES[s.day]} {format_time(s.start)}-{format_time(s.end)}"


def _session_problems(sc: Scenario, s: Session) -> list[str]:
    prog = sc.program
    a = sc.activity_by_id.get(s.activity_id)
    label = _label(s)
    if a is None:
        return [f"pinned {label} names an unknown activity"]
    out: list[str] = []
    if s.day not in prog.days or s.start < prog.open or s.end > prog.close:
        out.append(f"pinned {label} lies outside the program's days or opening hours")
    if s.end - s.start != a.duration_min or (s.start - prog.open) % prog.slot_minutes:
        out.append(f"pinned {label} does not last {a.duration_min} min on the slot grid")
    n = len(s.patient_ids)
    lo, hi = (a.min_size, a.max_size) if a.mode == Mode.GROUP else (1, 1)
    if not lo <= n <= hi:
        out.append(f"pinned {label} has {n} patients; {lo}-{hi} are allowed")
    if len(set(s.staff_ids)) != a.staff_count:
        out.append(f"pinned {label} has {len(set(s.staff_ids))} staff; it needs {a.staff_count}")
    for sid in s.staff_ids:
        st = sc.staff_by_id.get(sid)
        if st is None:
            out.append(f"pinned {label} names unknown staff {sid}")
        elif a.skill not in st.skills:
            out.append(f"pinned {label}: {st.name or sid} ({sid}) lacks the skill '{a.skill}'")
        elif not covers(st.availability, prog, s.day, s.start, s.end):
            out.append(f"pinned {label}: {st.name or sid} ({sid}) is not available then")
    if a.room_kind == RoomKind.NONE:
        if s.room_id:
            out.append(f"pinned {label} is held in a room but needs none")
    else:
        room = sc.room_by_id.get(s.room_id or "")
        if room is None:
            out.append(f"pinned {label} needs a {a.room_kind.value} room")
        elif room.kind != a.room_kind or room.capacity < n:
            out.append(f"pinned {label}: room {room.id} is the wrong kind or too small")
        elif not covers(room.availability, prog, s.day, s.start, s.end):
            out.append(f"pinned {label}: room {room.id} is not available then")
    cohorts = set()
    for pid in s.patient_ids:
        p = sc.patient_by_id.get(pid)
        if p is None:
            out.append(f"pinned {label} names unknown patient {pid}")
            continue
        cohorts.add(p.cohort)
        if not eligible(p, a):
            out.append(f"pinned {label}: patient {pid} is not eligible for it")
        window = p.family_availability if a.mode == Mode.FAMILY else p.availability
        if not covers(window, prog, s.day, s.start, s.end):
            out.append(f"pinned {label}: patient {pid} is not available then")
        if a.with_primary and p.primary_therapist not in s.staff_ids:
            out.append(f"pinned {label}: patient {pid}'s primary therapist does not lead it")
    if len(cohorts) > 1:
        out.append(f"pinned {label} mixes adults and adolescents")
    return out

"""Turn a CP-SAT assignment into a Timetable (and a Timetable back into hints)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Callable

from scheduler.model import RoomKind, Session, Timetable
from solver.builder import IopModel
from solver.space import GroupKey, SoloKey


def extract(model: IopModel, value: Callable[[object], int]) -> Timetable:
    """Sessions from variable values; aggregated group starts are split into their sessions.

    A pinned session whose patients are left out (best effort: they are in or out together) is
    not kept: it would name patients the timetable does not schedule."""
    left_out = {pid for pid, lit in model.inc.items() if not isinstance(lit, int) and not value(lit)}
    sessions: list[Session] = [s for s in model.space.pins if not left_out.intersection(s.patient_ids)]
    sessions += _group_sessions(model, value)
    sessions += _solo_sessions(model, value)
    return Timetable(tuple(sessions)).numbered(model.prog.first_day)


def _times(model: IopModel, activity_id: str, day: int, start: int) -> tuple[int, int]:
    prog = model.prog
    begin = prog.open + start * prog.slot_minutes
    return begin, begin + model.sc.activity_by_id[activity_id].duration_min


def _group_sessions(model: IopModel, value) -> list[Session]:
    out: list[Session] = []
    for key, g in model.g.items():
        count = value(g)
        if count <= 0:
            continue
        a = model.sc.activity_by_id[key.activity]
        base = replace(key, copy=0)
        patients = [pid for pid in model.space.group_patients[base] if value(model.xg[pid, key])]
        staff = [sid for sid in model.space.group_staff[base] if value(model.sg[sid, key])]
        if a.room_kind == RoomKind.NONE:
            rooms: list[str | None] = [None] * count
            seats = [a.max_size] * count
        else:
            chosen = [rid for rid in model.space.group_rooms[base] if value(model.rg[rid, key])]
            chosen.sort(key=lambda rid: (-model.sc.room_by_id[rid].capacity, rid))
            rooms = list(chosen)
            seats = [min(model.sc.room_by_id[rid].capacity, a.max_size) for rid in chosen]
        sizes = _split(len(patients), a.min_size, seats)
        begin, end = _times(model, a.id, key.day, key.start)
        at = 0
        for i, size in enumerate(sizes):
            out.append(
                Session(
                    day=key.day,
                    start=begin,
                    end=end,
                    activity_id=a.id,
                    staff_ids=tuple(staff[i * a.staff_count : (i + 1) * a.staff_count]),
                    room_id=rooms[i],
                    patient_ids=tuple(patients[at : at + size]),
                )
            )
            at += size
    return out


def _split(total: int, minimum: int, seats: list[int]) -> list[int]:
    """Sizes for len(seats) sessions: each at least ``minimum``, at most its seats, summing to total."""
    sizes = [minimum] * len(seats)
    rest = total - minimum * len(seats)
    for i, cap in enumerate(seats):
        more = min(rest, cap - sizes[i])
        sizes[i] += more
        rest -= more
    return sizes


def _solo_sessions(model: IopModel, value) -> list[Session]:
    out: list[Session] = []
    taken: dict[SoloKey, list[tuple[str, SoloKey]]] = defaultdict(list)
    for (pid, key), lit in model.xs.items():
        if value(lit):
            taken[key].append((pid, key))
    for key, entries in sorted(taken.items()):
        a = model.sc.activity_by_id[key.activity]
        helpers = a.staff_count - (1 if a.with_primary else 0)
        pool = [sid for sid in model.space.solo_staff[key] if (sid, key) in model.ss and value(model.ss[sid, key])]
        rooms = [rid for rid in model.space.solo_rooms[key] if (rid, key) in model.rs and value(model.rs[rid, key])]
        begin, end = _times(model, a.id, key.day, key.start)
        for i, (pid, _k) in enumerate(sorted(entries)):
            staff = []
            if a.with_primary:
                staff.append(model.sc.patient_by_id[pid].primary_therapist)
            staff += pool[i * helpers : (i + 1) * helpers] if helpers > 0 else []
            out.append(
                Session(
                    day=key.day,
                    start=begin,
                    end=end,
                    activity_id=a.id,
                    staff_ids=tuple(staff),
                    room_id=rooms[i] if a.room_kind != RoomKind.NONE else None,
                    patient_ids=(pid,),
                )
            )
    return out


def hints_from(model: IopModel, timetable: Timetable) -> dict[object, int]:
    """Variable -> value for a known timetable (previous week, greedy); unknown parts are left 0."""
    hint: dict[object, int] = {v: 0 for v in model.xg.values()}
    hint.update({v: 0 for v in model.xs.values()})
    counts: dict[GroupKey, int] = defaultdict(int)
    used: dict[GroupKey, int] = defaultdict(int)
    prog = model.prog
    for s in timetable.sessions:
        if s.pinned:
            continue
        a = model.sc.activity_by_id.get(s.activity_id)
        if a is None or (s.start - prog.open) % prog.slot_minutes:
            continue
        t = (s.start - prog.open) // prog.slot_minutes
        if a.is_group:
            cohorts = {model.sc.patient_by_id[p].cohort.value for p in s.patient_ids if p in model.sc.patient_by_id}
            if len(cohorts) != 1:
                continue
            key = GroupKey(a.id, cohorts.pop(), s.day, t)
            if key in model.copied:
                used[key] += 1
                key = replace(key, copy=used[key] - 1)
            if key not in model.g:
                continue
            counts[key] += 1
            for pid in s.patient_ids:
                if (pid, key) in model.xg:
                    hint[model.xg[pid, key]] = 1
            for sid in s.staff_ids:
                if (sid, key) in model.sg:
                    hint[model.sg[sid, key]] = 1
            if s.room_id and (s.room_id, key) in model.rg:
                hint[model.rg[s.room_id, key]] = 1
        else:
            key = SoloKey(a.id, s.day, t)
            for pid in s.patient_ids:
                if (pid, key) in model.xs:
                    hint[model.xs[pid, key]] = 1
            # The primary therapist of a with-primary session is not one of its pooled helpers (a
            # co-led individual session, staff_count 2: the primary and one helper); hinting them as a
            # helper too made every such timetable an impossible hint (an outside check, session 18).
            primary = ({model.sc.patient_by_id[pid].primary_therapist for pid in s.patient_ids
                        if pid in model.sc.patient_by_id} if a.with_primary else set())
            for sid in s.staff_ids:
                if sid not in primary and (sid, key) in model.ss:
                    hint[model.ss[sid, key]] = 1
            if s.room_id and (s.room_id, key) in model.rs:
                hint[model.rs[s.room_id, key]] = 1
    for key, g in model.g.items():
        hint[g] = min(counts.get(key, 0), model.g_max[key])
    return hint

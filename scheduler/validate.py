"""The referee: hard rules H0-H9 and soft goals S1-S6 of docs/rules.md, checked without the solver.

Every timetable the product shows is judged here, and the CP-SAT model is tested
against this module, so it shares no rule code with ``solver/``. It never raises on
an odd timetable: unknown ids, broken times and empty sessions become H0 violations,
and the other checks skip what they cannot judge.

Choices where docs/rules.md leaves room (each pinned by a test in tests/test_validate.py):

- A session whose activity is unknown, or which does not end after it starts, is
  reported under H0 and left out of every other check and of the soft goals (its
  hours, size, staff and room cannot be judged without the activity). Unknown staff,
  room and patient ids are reported under H0 and skipped by the checks on people.
- A session that H0 reports as off a program day or outside opening hours is not
  reported again under H3 (every availability is clipped to opening hours, so the
  same breach would repeat for every person and room in it).
- The H2 gap is measured from the latest end so far: identical to
  ``next.start - prev.end`` whenever the patient has no overlapping sessions (H4).
- A patient in a group activity they are not eligible for is reported under H5
  (eligibility) only, not again under H6 (allowed activities); H6 "allowed" reports
  individual and family activities missing from the patient's requirements.
- Mixing adults and adolescents (H5) is reported for ``cohort=any`` activities; in a
  cohort-restricted one the patients of the other cohort are already reported as
  ineligible.
- A session listing the same patient or staff id twice is an H0 defect; every other
  check counts distinct ids.
- S3 treats a status of ``new`` case-insensitively (status is free text).
- Hours are compared in minutes (``60 * hours``) with a tiny tolerance for floats.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from scheduler.model import (
    DAY_NAMES,
    SOFT_GOAL_NAMES,
    Activity,
    Availability,
    Cohort,
    HoursBasis,
    Limits,
    Mode,
    Patient,
    Room,
    RoomKind,
    Scenario,
    Session,
    Staff,
    Timetable,
)
from scheduler.timegrid import covers, format_days, format_time, on_grid, open_windows

__all__ = [
    "PatientCompliance",
    "Violation",
    "objective",
    "patient_compliance",
    "soft_terms",
    "validate",
]

_EPS = 1e-6  # minutes; hours limits are floats such as 3.3


@dataclass(frozen=True)
class Violation:
    """One breach of a hard rule: the rule id, the ids involved, where it happens and a full sentence."""

    rule: str
    who: tuple[str, ...]
    day: int | None
    start: int | None
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class PatientCompliance:
    """One patient's attendance against their limits, for the result panel."""

    patient_id: str
    days: tuple[int, ...]
    day_hours: dict[int, float]
    week_hours: float
    limits: Limits
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Booking:
    """A session whose activity is known, with only its known, distinct people and room."""

    session: Session
    activity: Activity
    patients: tuple[str, ...]
    staff: tuple[str, ...]
    room: Room | None
    in_hours: bool  # on a program day, inside opening hours

    @property
    def day(self) -> int:
        return self.session.day

    @property
    def start(self) -> int:
        return self.session.start

    @property
    def end(self) -> int:
        return self.session.end

    @property
    def minutes(self) -> int:
        return self.session.end - self.session.start


# ---------------------------------------------------------------- public API


def validate(scenario: Scenario, timetable: Timetable) -> list[Violation]:
    """Every breach of H0-H9 in ``timetable``, each reported once, ordered by rule, day, time and ids."""
    sessions = tuple(timetable.sessions)
    bookings = _bookings(scenario, sessions)
    found: list[Violation] = []
    found += _check_structure(scenario, sessions)  # H0
    found += _check_days(scenario, bookings)  # H1
    found += _check_hours(scenario, bookings)  # H2
    found += _check_availability(scenario, bookings)  # H3
    found += _check_overlaps(scenario, bookings)  # H4
    found += _check_sessions(scenario, bookings)  # H5
    found += _check_requirements(scenario, bookings)  # H6
    found += _check_primary(scenario, bookings)  # H7
    found += _check_staff_caps(scenario, bookings)  # H8
    found += _check_pinned(scenario, sessions)  # H9
    return sorted(set(found), key=_order)


def soft_terms(scenario: Scenario, timetable: Timetable) -> dict[str, float]:
    """The value of each soft goal S1-S6, keyed by name in SOFT_GOALS order."""
    bookings = _bookings(scenario, tuple(timetable.sessions))
    values = {
        "preferences": _preferences(scenario, bookings),
        "continuity": _continuity(scenario, bookings),
        "stability": _stability(scenario, bookings),
        "balance": _balance(scenario, bookings),
        "efficiency": _efficiency(scenario, bookings),
        "spread": _spread(scenario, bookings),
    }
    return {name: float(values[name]) for name in SOFT_GOAL_NAMES}


def objective(scenario: Scenario, timetable: Timetable) -> float:
    """Sum of weight x value over the soft goals, weights used to two decimals (as the solver does).

    Computed as an integer count of 1/6000ths and divided once, so it equals the
    solver's ``6000 x objective`` integer divided by 6000 exactly.
    """
    terms = soft_terms(scenario, timetable)
    total = 0  # in units of 1/6000
    for name in SOFT_GOAL_NAMES:
        cents = round(scenario.program.weights.of(name) * 100)
        # 6000 * (cents / 100) * value = 60 * cents * value; S4's value is minutes / 60.
        scaled = round(terms[name] * 60) if name == "balance" else round(terms[name]) * 60
        total += cents * scaled
    return total / 6000


def patient_compliance(scenario: Scenario, timetable: Timetable) -> list[PatientCompliance]:
    """Per patient in scenario order: attended days, hours per attended day, week hours, and what is out of range."""
    bookings = _bookings(scenario, tuple(timetable.sessions))
    by_patient = _by_patient(bookings)
    basis = scenario.program.hours_basis
    out = []
    for patient in scenario.patients:
        mine = by_patient.get(patient.id, [])
        limits = patient.limits(scenario.program)
        in_block = _in_block_by_day(mine)
        day_minutes = {day: _day_minutes(day_bookings, basis) for day, day_bookings in sorted(in_block.items())}
        week_minutes = sum(b.minutes for b in mine)
        problems: list[str] = []
        days = len(day_minutes)
        if days < limits.min_days or days > limits.max_days:
            bound = f"at least {limits.min_days}" if days < limits.min_days else f"at most {limits.max_days}"
            problems.append(f"attends {_count(days, 'day')}; needs {bound}")
        for day, minutes in day_minutes.items():
            if _below(minutes, limits.min_hours):
                problems.append(f"{_day(day)}: {_hours(minutes)} h; needs at least {_hours(60 * limits.min_hours)} h")
            elif _above(minutes, limits.max_hours):
                problems.append(f"{_day(day)}: {_hours(minutes)} h; needs at most {_hours(60 * limits.max_hours)} h")
        if _below(week_minutes, limits.min_week_hours):
            problems.append(f"week: {_hours(week_minutes)} h; needs at least {_hours(60 * limits.min_week_hours)} h")
        elif _above(week_minutes, limits.max_week_hours):
            problems.append(f"week: {_hours(week_minutes)} h; needs at most {_hours(60 * limits.max_week_hours)} h")
        out.append(
            PatientCompliance(
                patient_id=patient.id,
                days=tuple(day_minutes),
                day_hours={day: minutes / 60 for day, minutes in day_minutes.items()},
                week_hours=week_minutes / 60,
                limits=limits,
                problems=tuple(problems),
            )
        )
    return out


# ---------------------------------------------------------------- hard rules


def _check_structure(scenario: Scenario, sessions: tuple[Session, ...]) -> Iterator[Violation]:
    """H0: known ids, at least one patient, exact duration, on the grid, on a program day inside opening hours."""
    program = scenario.program
    first_with: dict[str, Session] = {}
    for s in sessions:
        what = _session_with_ids(s)
        ids = _session_ids(s)
        if s.session_id:
            if s.session_id in first_with:
                other = first_with[s.session_id]
                yield _v("H0", ids, s, f"H0: {what} has the id of another session, {_session(other)}; "
                                       "each session has its own id.")
            first_with.setdefault(s.session_id, s)
        activity = scenario.activity_by_id.get(s.activity_id)
        if activity is None:
            yield _v("H0", ids, s, f"H0: {what} names unknown activity {s.activity_id!r}.")
        for kind, listed, known in (
            ("staff", s.staff_ids, scenario.staff_by_id),
            ("patient", s.patient_ids, scenario.patient_by_id),
        ):
            for pid, times in Counter(listed).items():
                if pid not in known:
                    yield _v("H0", (pid,), s, f"H0: {what} names unknown {kind} {pid!r}.")
                elif times > 1:
                    yield _v("H0", (pid,), s, f"H0: {what} lists {kind} {pid} {times} times.")
        if s.room_id and s.room_id not in scenario.room_by_id:
            yield _v("H0", (s.room_id,), s, f"H0: {what} names unknown room {s.room_id!r}.")
        if not s.patient_ids:
            yield _v("H0", ids, s, f"H0: {what} has no patients.")
        if activity is not None and s.minutes != activity.duration_min:
            yield _v(
                "H0", ids, s, f"H0: {what} lasts {s.minutes} min; {activity.id} lasts {activity.duration_min} min."
            )
        elif activity is None and s.end <= s.start:
            yield _v("H0", ids, s, f"H0: {what} does not end after it starts.")
        if not on_grid(program, s.start):
            yield _v(
                "H0",
                ids,
                s,
                f"H0: {what} starts at {format_time(s.start)}, off the {program.slot_minutes}-min grid "
                f"that starts at {format_time(program.open)}.",
            )
        if s.day not in program.days:
            yield _v("H0", ids, s, f"H0: {what} is on {_day(s.day)}, not a program day ({format_days(program.days)}).")
        elif s.start < program.open or s.end > program.close:
            yield _v(
                "H0",
                ids,
                s,
                f"H0: {what} lies outside opening hours {format_time(program.open)}-{format_time(program.close)}.",
            )


def _check_days(scenario: Scenario, bookings: list[_Booking]) -> Iterator[Violation]:
    """H1: each patient's attended days within [min_days, max_days]."""
    by_patient = _by_patient(bookings)
    for patient in scenario.patients:
        limits = patient.limits(scenario.program)
        days = sorted(_in_block_by_day(by_patient.get(patient.id, [])))
        listed = f" ({', '.join(_day(d) for d in days)})" if days else ""
        n = len(days)
        if n < limits.min_days:
            need = f"at least {limits.min_days} {_are(limits.min_days)} required"
        elif n > limits.max_days:
            need = f"at most {limits.max_days} {_are(limits.max_days)} allowed"
        else:
            continue
        message = f"H1: {_patient(patient)} attends {_count(n, 'day')}{listed}; {need}."
        yield Violation("H1", (patient.id,), None, None, message)


def _check_hours(scenario: Scenario, bookings: list[_Booking]) -> Iterator[Violation]:
    """H2: hours on each attended day (by hours_basis), idle gaps between in-block sessions, and week hours."""
    program = scenario.program
    basis = program.hours_basis
    by_patient = _by_patient(bookings)
    for patient in scenario.patients:
        limits = patient.limits(program)
        who = _patient(patient)
        mine = by_patient.get(patient.id, [])
        for day, day_bookings in sorted(_in_block_by_day(mine).items()):
            minutes = _day_minutes(day_bookings, basis)
            measured = "" if basis == HoursBasis.CONTACT else " from first start to last end"
            if _below(minutes, limits.min_hours):
                yield Violation(
                    "H2",
                    (patient.id,),
                    day,
                    None,
                    f"H2: {who} has {_hours(minutes)} h{measured} on {_day(day)}; "
                    f"at least {_hours(60 * limits.min_hours)} h are required.",
                )
            elif _above(minutes, limits.max_hours):
                yield Violation(
                    "H2",
                    (patient.id,),
                    day,
                    None,
                    f"H2: {who} has {_hours(minutes)} h{measured} on {_day(day)}; "
                    f"at most {_hours(60 * limits.max_hours)} h are allowed.",
                )
            ordered = sorted(day_bookings, key=lambda b: (b.start, b.end))
            latest = ordered[0]
            for b in ordered[1:]:
                idle = b.start - latest.end
                if idle > program.max_gap_minutes:
                    yield Violation(
                        "H2",
                        (patient.id,),
                        day,
                        latest.end,
                        f"H2: {who} is idle {idle} min on {_day(day)} between {latest.activity.id} ending "
                        f"{format_time(latest.end)} and {b.activity.id} starting {format_time(b.start)}; "
                        f"at most {program.max_gap_minutes} min are allowed.",
                    )
                if b.end > latest.end:
                    latest = b
        week = sum(b.minutes for b in mine)
        if _below(week, limits.min_week_hours):
            need = f"at least {_hours(60 * limits.min_week_hours)} h are required"
        elif _above(week, limits.max_week_hours):
            need = f"at most {_hours(60 * limits.max_week_hours)} h are allowed"
        else:
            continue
        yield Violation("H2", (patient.id,), None, None, f"H2: {who} has {_hours(week)} h in the week; {need}.")


def _check_availability(scenario: Scenario, bookings: list[_Booking]) -> Iterator[Violation]:
    """H3: patients (families for family sessions), staff and rooms only inside their availability."""
    program = scenario.program
    for b in bookings:
        if not b.in_hours:
            continue  # already H0
        s = b.session
        for pid in b.patients:
            patient = scenario.patient_by_id[pid]
            if b.activity.mode == Mode.FAMILY:
                if not covers(patient.family_availability, program, s.day, s.start, s.end):
                    yield _v(
                        "H3",
                        (pid,),
                        s,
                        f"H3: the family of {_patient(patient)} is not available for {_session(s)} "
                        f"({_windows(patient.family_availability, scenario, s.day)}).",
                    )
            elif not covers(patient.availability, program, s.day, s.start, s.end):
                yield _v(
                    "H3",
                    (pid,),
                    s,
                    f"H3: {_patient(patient)} is not available for {_session(s)} "
                    f"({_windows(patient.availability, scenario, s.day)}).",
                )
        for sid in b.staff:
            staff = scenario.staff_by_id[sid]
            if not covers(staff.availability, program, s.day, s.start, s.end):
                yield _v(
                    "H3",
                    (sid,),
                    s,
                    f"H3: {_staff(staff)} is not available for {_session(s)} "
                    f"({_windows(staff.availability, scenario, s.day)}).",
                )
        if b.room is not None and not covers(b.room.availability, program, s.day, s.start, s.end):
            yield _v(
                "H3",
                (b.room.id,),
                s,
                f"H3: {_room(b.room)} is not available for {_session(s)} "
                f"({_windows(b.room.availability, scenario, s.day)}).",
            )


def _check_overlaps(scenario: Scenario, bookings: list[_Booking]) -> Iterator[Violation]:
    """H4: no patient, staff member or room in two overlapping sessions."""
    calendars: dict[tuple[str, str], list[_Booking]] = defaultdict(list)
    for b in bookings:
        for pid in b.patients:
            calendars[("patient", pid)].append(b)
        for sid in b.staff:
            calendars[("staff", sid)].append(b)
        if b.room is not None:
            calendars[("room", b.room.id)].append(b)
    for (kind, rid), mine in calendars.items():
        label = _label(scenario, kind, rid)
        ordered = sorted(mine, key=lambda b: (b.day, b.start, b.end, b.activity.id))
        for i, first in enumerate(ordered):
            for second in ordered[i + 1 :]:
                if second.day != first.day or second.start >= first.end:
                    break
                yield _v(
                    "H4",
                    (rid,),
                    second.session,
                    f"H4: {label} is in {_session(first.session)} and {_session(second.session)} at once.",
                )


def _check_sessions(scenario: Scenario, bookings: list[_Booking]) -> Iterator[Violation]:
    """H5: group size, room none/kind/capacity, staff count and skill, eligibility, no cohort mixing."""
    for b in bookings:
        s, activity = b.session, b.activity
        what = _session_with_ids(s)
        ids = _session_ids(s)
        size = len(set(s.patient_ids))
        low, high = (activity.min_size, activity.max_size) if activity.is_group else (1, 1)
        if size and size < low:
            yield _v("H5", ids, s, f"H5: {what} has {_count(size, 'patient')}; at least {low} {_are(low)} required.")
        elif size > high:
            yield _v("H5", ids, s, f"H5: {what} has {_count(size, 'patient')}; at most {high} {_are(high)} allowed.")
        yield from _check_room(b, size)
        staff_listed = len(set(s.staff_ids))
        if staff_listed != activity.staff_count:
            yield _v(
                "H5",
                ids,
                s,
                f"H5: {what} has {staff_listed} staff; it needs exactly {activity.staff_count} distinct staff.",
            )
        if activity.skill:
            for sid in b.staff:
                staff = scenario.staff_by_id[sid]
                if activity.skill not in staff.skills:
                    message = f"H5: {_staff(staff)} lacks skill {activity.skill!r} needed for {_session(s)}."
                    yield _v("H5", (sid,), s, message)
        for pid in b.patients:
            patient = scenario.patient_by_id[pid]
            reason = _ineligible(patient, activity)
            if reason:
                yield _v("H5", (pid,), s, f"H5: {_patient(patient)} may not attend {_session(s)}: {reason}.")
        if activity.cohort == Cohort.ANY:
            cohorts: dict[Cohort, list[str]] = defaultdict(list)
            for pid in b.patients:
                cohorts[scenario.patient_by_id[pid].cohort].append(pid)
            adults, teens = cohorts.get(Cohort.ADULT, []), cohorts.get(Cohort.ADOLESCENT, [])
            if adults and teens:
                yield _v(
                    "H5",
                    tuple(b.patients),
                    s,
                    f"H5: {_session(s)} mixes adults ({', '.join(adults)}) and adolescents ({', '.join(teens)}).",
                )


def _check_room(b: _Booking, size: int) -> Iterator[Violation]:
    """H5 (room part): no room for telehealth, else a known room of the right kind that seats everyone."""
    s, activity = b.session, b.activity
    what = _session(s)
    if activity.room_kind == RoomKind.NONE:
        if b.room is not None:
            yield _v("H5", (b.room.id,), s, f"H5: {what} needs no room (telehealth) but uses {_room(b.room)}.")
        return
    if not s.room_id:
        yield _v(
            "H5", _session_ids(s), s, f"H5: {_session_with_ids(s)} needs {_a(activity.room_kind)} room but has none."
        )
        return
    if b.room is None:
        return  # unknown room: H0
    if b.room.kind != activity.room_kind:
        yield _v(
            "H5",
            (b.room.id,),
            s,
            f"H5: {what} needs {_a(activity.room_kind)} room but {_room(b.room)} is {_a(b.room.kind)} room.",
        )
    if size > b.room.capacity:
        yield _v(
            "H5",
            (b.room.id,),
            s,
            f"H5: {_room(b.room)} seats {b.room.capacity} but {what} has {_count(size, 'patient')}.",
        )


def _check_requirements(scenario: Scenario, bookings: list[_Booking]) -> Iterator[Violation]:
    """H6: weekly counts within each requirement's range, allowed activities only, each group at most once a day."""
    by_patient = _by_patient(bookings)
    for patient in scenario.patients:
        who = _patient(patient)
        mine = by_patient.get(patient.id, [])
        counts = Counter(b.activity.id for b in mine)
        for req in patient.requirements:
            n = counts.get(req.activity_id, 0)
            if not req.min_count <= n <= req.max_count:
                yield Violation(
                    "H6",
                    (patient.id,),
                    None,
                    None,
                    f"H6: {who} has {_count(n, 'session')} of {req.activity_id}; "
                    f"{_range(req.min_count, req.max_count)} {_are(req.max_count)} required.",
                )
        for activity_id, n in sorted(counts.items()):
            activity = scenario.activity_by_id[activity_id]
            if not activity.is_group and patient.requirement(activity_id) is None:
                yield Violation(
                    "H6",
                    (patient.id,),
                    None,
                    None,
                    f"H6: {who} has {_count(n, 'session')} of {activity_id}, "
                    f"{_a(activity.mode)} activity not in their requirements.",
                )
        per_day: dict[tuple[str, int], list[_Booking]] = defaultdict(list)
        for b in mine:
            if b.activity.is_group:
                per_day[(b.activity.id, b.day)].append(b)
        for (activity_id, day), same in sorted(per_day.items()):
            if len(same) > 1:
                second = sorted(same, key=lambda b: b.start)[1]
                yield Violation(
                    "H6",
                    (patient.id,),
                    day,
                    second.start,
                    f"H6: {who} attends {activity_id} {len(same)} times on {_day(day)}; at most once a day is allowed.",
                )


def _check_primary(scenario: Scenario, bookings: list[_Booking]) -> Iterator[Violation]:
    """H7: with_primary sessions include the patient's primary therapist among their staff."""
    for b in bookings:
        if not b.activity.with_primary:
            continue
        s = b.session
        for pid in b.patients:
            patient = scenario.patient_by_id[pid]
            primary = patient.primary_therapist
            if not primary:
                message = f"H7: {_session(s)} needs the primary therapist of {_patient(patient)}, who has none."
                yield _v("H7", (pid,), s, message)
            elif primary not in s.staff_ids:
                staff = scenario.staff_by_id.get(primary)
                named = _staff(staff) if staff else f"staff {primary}"
                yield _v(
                    "H7",
                    (pid, primary),
                    s,
                    f"H7: {_session(s)} for {_patient(patient)} is not delivered by their primary therapist, {named}.",
                )


def _check_staff_caps(scenario: Scenario, bookings: list[_Booking]) -> Iterator[Violation]:
    """H8: each staff member's minutes a day and a week within 60 x max_hours_day / max_hours_week."""
    minutes: dict[str, Counter[int]] = defaultdict(Counter)
    for b in bookings:
        for sid in b.staff:
            minutes[sid][b.day] += b.minutes
    for staff in scenario.staff:
        per_day = minutes.get(staff.id, Counter())
        if staff.max_hours_day is not None:
            for day, worked in sorted(per_day.items()):
                if _above(worked, staff.max_hours_day):
                    yield Violation(
                        "H8",
                        (staff.id,),
                        day,
                        None,
                        f"H8: {_staff(staff)} works {_hours(worked)} h on {_day(day)}; "
                        f"at most {_hours(60 * staff.max_hours_day)} h a day are allowed.",
                    )
        week = sum(per_day.values())
        if staff.max_hours_week is not None and _above(week, staff.max_hours_week):
            yield Violation(
                "H8",
                (staff.id,),
                None,
                None,
                f"H8: {_staff(staff)} works {_hours(week)} h in the week; "
                f"at most {_hours(60 * staff.max_hours_week)} h are allowed.",
            )


def _check_pinned(scenario: Scenario, sessions: tuple[Session, ...]) -> Iterator[Violation]:
    """H9: every pinned previous session appears unchanged (day, times, activity, staff set, room, patient set)."""
    if scenario.previous is None:
        return
    available = Counter(s.key() for s in sessions)
    for old in sorted(scenario.previous.pinned, key=Session.key):
        key = old.key()
        if available[key] > 0:
            available[key] -= 1
            continue
        yield _v(
            "H9",
            _session_ids(old),
            old,
            f"H9: pinned {_session_with_ids(old)} is missing or changed; it must be kept exactly.",
        )


# ---------------------------------------------------------------- soft goals


def _preferences(scenario: Scenario, bookings: list[_Booking]) -> int:
    """S1: attended days outside preferred_days, over patients who named some."""
    by_patient = _by_patient(bookings)
    total = 0
    for patient in scenario.patients:
        if patient.preferred_days:
            days = _in_block_by_day(by_patient.get(patient.id, []))
            total += sum(1 for day in days if day not in patient.preferred_days)
    return total


def _continuity(scenario: Scenario, bookings: list[_Booking]) -> int:
    """S2: per patient and process group activity, distinct facilitators beyond staff_count."""
    return sum(_continuity_by_patient(scenario, bookings).values())


def continuity_by_patient(scenario: Scenario, timetable: Timetable) -> dict[str, int]:
    """Each patient's own part of S2 (those with none are not listed)."""
    return _continuity_by_patient(scenario, _bookings(scenario, tuple(timetable.sessions)))


def _continuity_by_patient(scenario: Scenario, bookings: list[_Booking]) -> dict[str, int]:
    staff_seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for b in bookings:
        if b.activity.is_group and b.activity.skill == "process":
            for pid in b.patients:
                staff_seen[(pid, b.activity.id)].update(b.session.staff_ids)
    out: dict[str, int] = defaultdict(int)
    for (pid, activity_id), staff in staff_seen.items():
        extra = len(staff) - scenario.activity_by_id[activity_id].staff_count
        if extra > 0:
            out[pid] += extra
    return dict(out)


def _stability(scenario: Scenario, bookings: list[_Booking]) -> int:
    """S3: unpinned previous sessions of non-new patients with no session of the same activity, day and start now."""
    if scenario.previous is None:
        return 0
    now = {(b.activity.id, b.day, b.start, pid) for b in bookings for pid in b.patients}
    total = 0
    for patient in scenario.patients:
        if patient.status.strip().lower() == "new":
            continue
        for old in scenario.previous.sessions:
            if not old.pinned and patient.id in old.patient_ids:
                total += (old.activity_id, old.day, old.start, patient.id) not in now
    return total


def therapist_ids(scenario: Scenario) -> list[str]:
    """The staff S4 balances: those named as some patient's primary therapist (sorted)."""
    return sorted({p.primary_therapist for p in scenario.patients if p.primary_therapist in scenario.staff_by_id})


def _balance(scenario: Scenario, bookings: list[_Booking]) -> float:
    """S4: (max - min) scheduled hours over therapists (staff who are some patient's primary therapist)."""
    therapists = therapist_ids(scenario)
    if len(therapists) < 2:
        return 0.0
    minutes = dict.fromkeys(therapists, 0)
    for b in bookings:
        for sid in b.staff:
            if sid in minutes:
                minutes[sid] += b.minutes
    return (max(minutes.values()) - min(minutes.values())) / 60


def _efficiency(scenario: Scenario, bookings: list[_Booking]) -> int:
    """S5: number of group sessions run."""
    return sum(1 for b in bookings if b.activity.is_group)


def _spread(scenario: Scenario, bookings: list[_Booking]) -> int:
    """S6: per patient, attended days d whose next calendar day in the week (``Program.next_day``) is
    attended too, both program days."""
    by_patient = _by_patient(bookings)
    program = scenario.program
    program_days = set(program.days)
    total = 0
    for patient in scenario.patients:
        days = set(_in_block_by_day(by_patient.get(patient.id, [])))
        total += sum(1 for d in days if program.next_day(d) in days and d in program_days
                     and program.next_day(d) in program_days)
    return total


# ---------------------------------------------------------------- helpers


def _bookings(scenario: Scenario, sessions: tuple[Session, ...]) -> list[_Booking]:
    """Sessions the rules can judge (known activity, ends after it starts), with unknown ids dropped."""
    program = scenario.program
    out = []
    for s in sessions:
        activity = scenario.activity_by_id.get(s.activity_id)
        if activity is None or s.end <= s.start:
            continue
        out.append(
            _Booking(
                session=s,
                activity=activity,
                patients=tuple(p for p in dict.fromkeys(s.patient_ids) if p in scenario.patient_by_id),
                staff=tuple(x for x in dict.fromkeys(s.staff_ids) if x in scenario.staff_by_id),
                room=scenario.room_by_id.get(s.room_id) if s.room_id else None,
                in_hours=s.day in program.days and program.open <= s.start and s.end <= program.close,
            )
        )
    return out


def _by_patient(bookings: Iterable[_Booking]) -> dict[str, list[_Booking]]:
    out: dict[str, list[_Booking]] = defaultdict(list)
    for b in bookings:
        for pid in b.patients:
            out[pid].append(b)
    return out


def _in_block_by_day(bookings: Iterable[_Booking]) -> dict[int, list[_Booking]]:
    """In-block sessions by day: the keys are the attended days."""
    out: dict[int, list[_Booking]] = defaultdict(list)
    for b in bookings:
        if b.activity.in_block:
            out[b.day].append(b)
    return dict(out)


def _day_minutes(day_bookings: list[_Booking], basis: HoursBasis) -> int:
    """A day's program minutes: contact (sum of in-block minutes) or span (first start to last end)."""
    if basis == HoursBasis.SPAN:
        return max(b.end for b in day_bookings) - min(b.start for b in day_bookings)
    return sum(b.minutes for b in day_bookings)


def _ineligible(patient: Patient, activity: Activity) -> str:
    """Why the patient may not attend the activity (cohort, tag), or '' when eligible."""
    reasons = []
    if activity.cohort != Cohort.ANY and activity.cohort != patient.cohort:
        reasons.append(f"it is for {activity.cohort} patients and they are {patient.cohort}")
    if activity.tag and activity.tag not in patient.tags:
        reasons.append(f"it is for patients tagged {activity.tag} only")
    return "; ".join(reasons)


def _v(rule: str, who: tuple[str, ...], s: Session, message: str) -> Violation:
    """A violation located at a session's day and start."""
    return Violation(rule, tuple(who), s.day, s.start, message)


def _order(v: Violation) -> tuple:
    number = int(v.rule[1:]) if v.rule[1:].isdigit() else 99
    return (
        number,
        -1 if v.day is None else v.day,
        -1 if v.start is None else v.start,
        v.who,
        v.message,
    )


def _session_ids(s: Session) -> tuple[str, ...]:
    """Ids involved in a session: patients, then staff, then the room."""
    return tuple(dict.fromkeys((*s.patient_ids, *s.staff_ids, *((s.room_id,) if s.room_id else ()))))


def _day(day: int) -> str:
    return DAY_NAMES[day] if 0 <= day < len(DAY_NAMES) else f"day {day}"


def _session(s: Session) -> str:
    """``session S003 (CBT on Tue 09:00-10:00)``, or ``CBT on Tue 09:00-10:00`` without an id."""
    what = f"{s.activity_id} on {_day(s.day)} {format_time(s.start)}-{format_time(s.end)}"
    return f"session {s.session_id} ({what})" if s.session_id else what


def _session_with_ids(s: Session) -> str:
    """``CBT on Tue 09:00-10:00 (patients P1, P2; staff S1; room R1)``: enough to find the session."""
    patients = ", ".join(s.patient_ids) or "none"
    staff = ", ".join(s.staff_ids) or "none"
    room = f"room {s.room_id}" if s.room_id else "no room"
    return f"{_session(s)} (patients {patients}; staff {staff}; {room})"


def _patient(p: Patient) -> str:
    return f"patient {p.id} ({p.name})" if p.name else f"patient {p.id}"


def _staff(s: Staff) -> str:
    return f"staff {s.id} ({s.name})" if s.name else f"staff {s.id}"


def _label(scenario: Scenario, kind: str, rid: str) -> str:
    """``patient P01 (A.B.)``, ``staff S01 (Dr Reyes)`` or ``room R1 (Group A)`` for a known id."""
    if kind == "patient":
        return _patient(scenario.patient_by_id[rid])
    if kind == "staff":
        return _staff(scenario.staff_by_id[rid])
    return _room(scenario.room_by_id[rid])


def _room(r: Room) -> str:
    return f"room {r.id} ({r.name})" if r.name else f"room {r.id}"


def _windows(availability: Availability, scenario: Scenario, day: int) -> str:
    """``available 09:00-12:00, 13:00-17:00 on Tue`` or ``not available on Tue``."""
    windows = open_windows(availability, scenario.program, day)
    if not windows:
        return f"not available on {_day(day)}"
    spans = ", ".join(f"{format_time(w.start)}-{format_time(w.end)}" for w in windows)
    return f"available {spans} on {_day(day)}"


def _hours(minutes: float) -> str:
    """Minutes as hours, at most two decimals: 150 -> ``2.5``, 180 -> ``3``."""
    return f"{round(minutes / 60, 2):g}"


def _range(low: float, high: float) -> str:
    low_text, high_text = f"{low:g}", f"{high:g}"
    return f"exactly {low_text}" if low == high else f"{low_text}-{high_text}"


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _are(n: float) -> str:
    return "is" if n == 1 else "are"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _below(minutes: float, hours: float) -> bool:
    return minutes < 60 * hours - _EPS


def _above(minutes: float, hours: float) -> bool:
    return minutes > 60 * hours + _EPS

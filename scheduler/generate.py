"""Seeded, realistic IOP clinics that are feasible by construction.

``generate_clinic(n, seed)`` first builds a *witness* timetable in which every hard
rule of docs/rules.md holds by construction, then writes the scenario around it:
requirements and limits are read off the witness (sometimes widened into ranges),
availability is wider than what the witness uses, staff hold more skills than they
use and there are spare rooms, so an optimiser has real freedom to beat the witness.

The clinic has three tracks that never share a session: an adult morning track, an
adult evening track for working patients and an adolescent after-school track. Each
attended day is three 60-minute groups; individual work (evaluation, individual
therapy, discharge planning, medication checks) sits at the edges of the day's block
or replaces one group, and family sessions happen in the evening.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations

from scheduler.model import (
    Activity,
    Availability,
    Cohort,
    Mode,
    Patient,
    Program,
    Requirement,
    Room,
    RoomKind,
    Scenario,
    Session,
    Staff,
    Timetable,
    Window,
)
from scheduler.timegrid import merge_windows, parse_time

__all__ = ["ACTIVITIES", "GeneratedClinic", "demo_clinic", "generate_clinic"]

WEEK_START = date(2026, 11, 30)
DAYS = (0, 1, 2, 3, 4)
OPEN, CLOSE = parse_time("08:00"), parse_time("21:00")
SLOT = 15
MAX_GAP = 15
MIN_DAY_MINUTES = 3 * 60  # program min_hours
MAX_DAY_MINUTES = 5 * 60  # program max_hours
MAX_WEEK_MINUTES = 19 * 60  # program max_week_hours
MAX_SKILLS = 5
MAX_CLINICS = 7  # half-days a prescriber opens before another prescriber is hired
PATIENTS_PER_THERAPIST = 7
PATIENTS_PER_PRESCRIBER = 60
DEMO_NAME = "Riverside Behavioral Health IOP"
DEMO_PATIENTS = 35
DEMO_SEED = 35


def _t(text: str) -> int:
    return parse_time(text)


def _act(id, name, mode, minutes, skill, *, size=(1, 1), room=RoomKind.OFFICE, cohort=Cohort.ANY, tag=None,
         primary=False, in_block=True) -> Activity:
    """Shorthand for one catalogue entry."""
    return Activity(id=id, name=name, mode=mode, duration_min=minutes, min_size=size[0], max_size=size[1],
                    skill=skill, room_kind=room, cohort=cohort, tag=tag, with_primary=primary, in_block=in_block)


ACTIVITIES: tuple[Activity, ...] = (
    _act("PROC", "Process group", Mode.GROUP, 60, "process", size=(3, 10), room=RoomKind.GROUP),
    _act("CBT", "CBT skills group", Mode.GROUP, 60, "cbt", size=(3, 12), room=RoomKind.GROUP, cohort=Cohort.ADULT),
    _act("DBT", "DBT skills group", Mode.GROUP, 60, "dbt", size=(3, 12), room=RoomKind.GROUP),
    _act("PSYED", "Psychoeducation", Mode.GROUP, 60, "psyed", size=(3, 12), room=RoomKind.GROUP),
    _act("RP", "Relapse prevention group", Mode.GROUP, 60, "sud", size=(2, 10), room=RoomKind.GROUP, tag="SUD"),
    _act("ADOL", "Adolescent skills group", Mode.GROUP, 60, "cbt", size=(3, 10), room=RoomKind.GROUP,
         cohort=Cohort.ADOLESCENT),
    _act("IND", "Individual therapy", Mode.INDIVIDUAL, 60, "therapy", primary=True),
    _act("MED", "Medication check", Mode.INDIVIDUAL, 15, "prescriber"),
    _act("EVAL", "Psychiatric evaluation", Mode.INDIVIDUAL, 60, "prescriber"),
    _act("DC", "Discharge planning", Mode.INDIVIDUAL, 30, "therapy", primary=True),
    _act("FAM", "Family session", Mode.FAMILY, 60, "family", primary=True, in_block=False),
    _act("TFAM", "Family session (telehealth)", Mode.FAMILY, 60, "family", room=RoomKind.NONE, primary=True,
         in_block=False),
)
ACTIVITY = {a.id: a for a in ACTIVITIES}


@dataclass(frozen=True)
class GeneratedClinic:
    """A scenario and a timetable that satisfies every hard rule of it."""

    scenario: Scenario
    witness: Timetable


@dataclass(frozen=True)
class SlotPlan:
    """Which group runs in one group slot: ``main`` rotates by day, ``tagged`` takes the tag's patients."""

    main: tuple[str, ...]
    tagged: str | None = None


@dataclass(frozen=True)
class Track:
    """A daily block of three groups shared by one cohort, with the hours around it."""

    key: str
    cohort: Cohort
    group_starts: tuple[int, ...]
    plan: tuple[SlotPlan, ...]
    window: tuple[int, int]  # where a patient's in-block sessions may lie
    offered: tuple[tuple[int, int], ...]  # availability windows written for patients, narrow first
    family_window: tuple[int, int]
    staff_window: tuple[int, int]
    day_counts: tuple[tuple[int, int], ...]  # (days a week, weight)


TRACKS: dict[str, Track] = {
    "am": Track(
        "am", Cohort.ADULT, (_t("09:00"), _t("10:15"), _t("11:30")),
        (SlotPlan(("PROC",)), SlotPlan(("CBT", "DBT")), SlotPlan(("PSYED",), "RP")),
        (_t("08:00"), _t("14:00")), ((_t("08:30"), _t("13:30")), (_t("08:00"), _t("14:00"))),
        (_t("17:00"), _t("20:00")), (_t("08:00"), _t("16:30")), ((3, 5), (4, 3), (5, 2)),
    ),
    "pm": Track(
        "pm", Cohort.ADULT, (_t("17:30"), _t("18:30"), _t("19:30")),
        (SlotPlan(("PROC",)), SlotPlan(("DBT", "CBT")), SlotPlan(("PSYED",), "RP")),
        (_t("16:00"), _t("21:00")), ((_t("16:30"), _t("21:00")), (_t("16:00"), _t("21:00"))),
        (_t("16:00"), _t("20:30")), (_t("12:30"), _t("21:00")), ((3, 7), (4, 3)),
    ),
    "adol": Track(
        "adol", Cohort.ADOLESCENT, (_t("15:30"), _t("16:30"), _t("17:30")),
        (SlotPlan(("PROC",)), SlotPlan(("ADOL",)), SlotPlan(("DBT", "PSYED"), "RP")),
        (_t("15:00"), _t("19:30")), ((_t("15:00"), _t("19:00")), (_t("15:00"), _t("19:30"))),
        (_t("16:00"), _t("20:30")), (_t("12:00"), _t("20:30")), ((3, 6), (4, 4)),
    ),
}
GROUP_MINUTES = 60
LATE_SHIFT_END = _t("20:00")  # a morning therapist's one late day, for family sessions
HALF_DAYS = ((_t("08:00"), _t("14:00")), (_t("15:00"), _t("21:00")))  # prescriber clinics

FIRST_NAMES = (
    "Ana", "Ben", "Maya", "Luis", "Priya", "Grace", "Omar", "Hannah", "Diego", "Keisha", "Tom", "Mei", "Rosa",
    "Sam", "Nadia", "Eli", "Fatima", "Jonah", "Lena", "Marcus", "Ines", "Caleb", "Yuki", "Zara", "Victor", "Alma",
)
LAST_NAMES = (
    "Brooks", "Okafor", "Chen", "Ortega", "Nair", "Whitfield", "Haddad", "Novak", "Ramirez", "Johnson", "Keller",
    "Tanaka", "Silva", "Patel", "Cohen", "Mensah", "Lindqvist", "Moreau", "Kowalski", "Abbott", "Duarte", "Fischer",
)
PRESCRIBER_NAMES = (
    "Dr Carla Reyes", "Jordan Lee", "Dr Samuel Adeyemi", "Rita Gomez", "Dr Helen Park", "Kofi Asante",
    "Dr Miriam Stein", "Paul Nguyen", "Dr Aisha Rahman", "Elena Petrova", "Dr Robert Hale", "Nina Castillo",
)  # "Dr" names are psychiatrists, the others psychiatric nurse practitioners (PMHNP)
ROOM_NAMES = ("Oak", "Maple", "Cedar", "Birch", "Willow", "Aspen", "Pine", "Elm", "Spruce", "Alder", "Hazel", "Juniper")
ROLES = ("LCSW", "LPC", "LMFT")
TRACK_SKILLS = {"am": ("process", "cbt", "dbt", "psyed", "sud"), "pm": ("process", "dbt", "cbt", "sud", "psyed"),
                "adol": ("process", "cbt", "dbt", "psyed", "sud")}


# ---------------------------------------------------------------- construction state


@dataclass
class _Person:
    """A patient while the witness is being built."""

    id: str
    name: str
    cohort: Cohort
    track: Track
    tags: frozenset[str]
    status: str
    family: str | None  # "FAM", "TFAM" or None
    days: tuple[int, ...] = ()
    pod: int = 0
    primary: str = ""
    skipped: set[tuple[int, int]] = field(default_factory=set)  # (day, slot) given to an individual session


@dataclass
class _Worker:
    """A staff member while the witness is being built; ``windows`` are the hours they could work."""

    id: str
    name: str
    role: str
    skills: set[str]
    windows: dict[int, tuple[int, int]]
    max_day: float
    max_week: float
    track: str = ""
    opened: set[tuple[int, int]] = field(default_factory=set)  # prescriber half-days in use

    @property
    def prescriber(self) -> bool:
        return "prescriber" in self.skills


@dataclass
class _Place:
    """A room while the witness is being built."""

    id: str
    name: str
    kind: RoomKind
    capacity: int


@dataclass(frozen=True)
class _Step:
    """How far the search for an individual session may go: replace a group, open a clinic, add rooms or staff."""

    replace: bool = False
    open_clinic: bool = False
    new_room: bool = False
    hire: bool = False  # a new prescriber, or a group facilitator hired later


class _Calendar:
    """Busy intervals and worked minutes of every patient, staff member and room."""

    def __init__(self) -> None:
        self.spans: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
        self.day_minutes: Counter[tuple[str, int]] = Counter()
        self.week_minutes: Counter[str] = Counter()

    def free(self, who: str, day: int, start: int, end: int) -> bool:
        return all(e <= start or end <= s for s, e in self.spans[who, day])

    def add(self, who: str, day: int, start: int, end: int) -> None:
        self.spans[who, day].append((start, end))
        self.day_minutes[who, day] += end - start
        self.week_minutes[who] += end - start

    def remove(self, who: str, day: int, start: int, end: int) -> None:
        self.spans[who, day].remove((start, end))
        self.day_minutes[who, day] -= end - start
        self.week_minutes[who] -= end - start


def _chain_ok(spans: list[tuple[int, int]]) -> bool:
    """In-block sessions of one day: no overlap, gaps within MAX_GAP, contact within the day's hours."""
    spans = sorted(spans)
    if not MIN_DAY_MINUTES <= sum(e - s for s, e in spans) <= MAX_DAY_MINUTES:
        return False
    return all(0 <= b[0] - a[1] <= MAX_GAP for a, b in zip(spans, spans[1:]))


def _chunks(items: list, max_size: int) -> list[list]:
    """Split into the fewest chunks of at most max_size, sizes as even as possible."""
    if not items:
        return []
    count = math.ceil(len(items) / max_size)
    base, extra = divmod(len(items), count)
    out, i = [], 0
    for k in range(count):
        size = base + (1 if k < extra else 0)
        out.append(items[i : i + size])
        i += size
    return out


# ---------------------------------------------------------------- the builder


class _Builder:
    """Builds one clinic: patients, staff, the witness, then the scenario around it."""

    def __init__(self, n_patients: int, seed: int, curated: bool) -> None:
        self.n = n_patients
        self.rng = random.Random(f"iop-clinic/{n_patients}/{seed}")
        self.curated = curated
        self.cal = _Calendar()
        self.people: list[_Person] = []
        self.workers: list[_Worker] = []
        self.places: list[_Place] = []
        self.sessions: list[Session] = []
        self.inblock: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
        self.present: Counter[tuple[str, int, int]] = Counter()
        self.proc_leads: dict[str, Counter[str]] = defaultdict(Counter)
        self.unplaced: list[tuple[str, str]] = []
        self._group_counts: dict[tuple[str, int, int], int] = {}
        self.members: dict[str, list[_Person]] = {}
        self._names = self._name_pool()

    # -- people

    def _name_pool(self) -> list[str]:
        """Therapist names: the curated ones first for the demo, shuffled by seed otherwise."""
        names = [f"{f} {l}" for f, l in zip(FIRST_NAMES, LAST_NAMES)]
        names += [f"{f} {l}" for f in FIRST_NAMES for l in LAST_NAMES if f"{f} {l}" not in names]
        if not self.curated:
            head, tail = names[:40], names[40:]
            self.rng.shuffle(head)
            names = head + tail
        return names

    def make_patients(self) -> None:
        """Cohorts, tracks, tags, status and family involvement, with small tracks folded away."""
        rng, n = self.rng, self.n
        width = max(3, len(str(n)))
        n_adol = round(n * 0.2) if round(n * 0.2) >= 3 else 0
        n_pm = round((n - n_adol) * 0.42)
        if n_pm < 3:
            n_pm = 0
        tracks = ["adol"] * n_adol + ["pm"] * n_pm + ["am"] * (n - n_adol - n_pm)
        rng.shuffle(tracks)
        letters = "ABCDEFGHJKLMNPRSTVW"
        for i, key in enumerate(tracks, start=1):
            track = TRACKS[key]
            adolescent = track.cohort == Cohort.ADOLESCENT
            tags = set()
            if rng.random() < (0.15 if adolescent else 0.3):
                tags.add("SUD")
            if rng.random() < 0.3:
                tags.add("TRAUMA")
            roll = rng.random()
            status = "new" if roll < 0.15 else "discharging" if roll < 0.25 else "continuing"
            family = None
            if rng.random() < (0.5 if adolescent else 0.12):
                family = "TFAM" if rng.random() < 0.35 else "FAM"
            name = f"{rng.choice(letters)}.{rng.choice(letters)}."
            self.people.append(
                _Person(f"P{i:0{width}d}", name, track.cohort, track, frozenset(tags), status, family)
            )

    def assign_days(self) -> None:
        """Pods of 3+ patients share a day pattern, so every track day has enough patients for a group."""
        pod_id = 0
        for key, track in TRACKS.items():
            members = [p for p in self.people if p.track.key == key]
            self.rng.shuffle(members)
            load = Counter()
            for pod in self._pods(members):
                pod_id += 1
                count = self._weighted(track.day_counts)
                pattern = min(
                    combinations(DAYS, count),
                    key=lambda c: (sum(load[d] for d in c), self.rng.random()),
                )
                for p in pod:
                    p.days, p.pod = pattern, pod_id
                    for d in pattern:
                        load[d] += 1
                        self._attend_groups(p, d)
        self.members = {
            key: sorted((p for p in self.people if p.track.key == key), key=lambda p: (p.pod, p.id)) for key in TRACKS
        }

    def _pods(self, members: list[_Person]) -> list[list[_Person]]:
        """Consecutive runs of 4-9 patients; a remainder under 3 joins the last pod."""
        pods, i = [], 0
        while i < len(members):
            size = self.rng.randint(4, 9)
            if len(members) - (i + size) < 3:
                size = len(members) - i
            pods.append(members[i : i + size])
            i += size
        return pods

    def _weighted(self, options: tuple[tuple[int, int], ...]) -> int:
        values = [v for v, _ in options]
        return self.rng.choices(values, weights=[w for _, w in options])[0]

    def _attend_groups(self, p: _Person, day: int) -> None:
        """Book the patient into the track's three group slots of the day (groups are formed later)."""
        for k, start in enumerate(p.track.group_starts):
            self.cal.add(p.id, day, start, start + GROUP_MINUTES)
            self.inblock[p.id, day].append((start, start + GROUP_MINUTES))
            self.present[p.track.key, day, k] += 1

    # -- staff and rooms

    def make_staff(self) -> None:
        """Therapists per track (about one per seven patients) as primaries, and prescribers."""
        for key, track in TRACKS.items():
            members = [p for p in self.people if p.track.key == key]
            if not members:
                continue
            team = [self._new_therapist(track) for _ in range(math.ceil(len(members) / PATIENTS_PER_THERAPIST))]
            self.rng.shuffle(members)
            members.sort(key=lambda p: p.family is None)
            for i, p in enumerate(members):
                w = team[i % len(team)]
                p.primary = w.id
                if p.family:
                    w.skills.add("family")
        for _ in range(max(1, round(self.n / PATIENTS_PER_PRESCRIBER))):
            self._new_prescriber()
        for _ in range(math.ceil(len(self.therapists) / 2) + len(self.prescribers)):
            self._new_room(RoomKind.OFFICE)

    @property
    def therapists(self) -> list[_Worker]:
        return [w for w in self.workers if not w.prescriber]

    @property
    def prescribers(self) -> list[_Worker]:
        return [w for w in self.workers if w.prescriber]

    def _next_name(self) -> str:
        index = len(self.therapists)
        name = self._names[index % len(self._names)]
        return name if index < len(self._names) else f"{name} {index // len(self._names) + 1}"

    def _new_therapist(self, track: Track) -> _Worker:
        index = len(self.therapists)
        start, end = track.staff_window
        windows = {d: (start, end) for d in DAYS}
        max_day = 8.0
        if track.key == "am":
            late = (1, 3, 2)[index % 3]
            windows[late] = (start, LATE_SHIFT_END)
            max_day = 9.0
        own = TRACK_SKILLS[track.key]
        skills = {"therapy", own[index % len(own)]}
        if self.rng.random() < 0.5:
            skills.add(own[(index + 2) % len(own)])
        w = _Worker(f"T{index + 1:02d}", self._next_name(), ROLES[index % len(ROLES)], skills, windows, max_day,
                    float(self.rng.choice((36, 38, 40))), track.key)
        self.workers.append(w)
        return w

    def _new_prescriber(self) -> _Worker:
        index = len(self.prescribers)
        if index < len(PRESCRIBER_NAMES):
            name = PRESCRIBER_NAMES[index]
        else:
            name = f"Dr {FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_NAMES[-1 - index % len(LAST_NAMES)]}"
        role = "Psychiatrist" if name.startswith("Dr") else "PMHNP"
        windows = {d: (HALF_DAYS[0][0], HALF_DAYS[1][1]) for d in DAYS}
        w = _Worker(f"MD{index + 1}", name, role, {"prescriber"}, windows, 8.0, 32.0)
        self.workers.append(w)
        return w

    def _new_room(self, kind: RoomKind, min_capacity: int = 1) -> _Place:
        same = [r for r in self.places if r.kind == kind]
        n = len(same) + 1
        if kind == RoomKind.GROUP:
            base = ROOM_NAMES[(n - 1) % len(ROOM_NAMES)]
            suffix = "" if n <= len(ROOM_NAMES) else f" {(n - 1) // len(ROOM_NAMES) + 1}"
            capacity = max(min_capacity, (12, 10, 14)[(n - 1) % 3])
            room = _Place(f"G{n}", f"{base} Group Room{suffix}", kind, capacity)
        else:
            room = _Place(f"O{n}", f"Office {n}", kind, self.rng.choice((2, 3)))
        self.places.append(room)
        return room

    def _worker(self, staff_id: str) -> _Worker:
        return next(w for w in self.workers if w.id == staff_id)  # only primaries: called once a session

    def _staff_ok(self, w: _Worker, day: int, start: int, end: int) -> bool:
        window = w.windows.get(day)
        if window is None or not (window[0] <= start and end <= window[1]):
            return False
        if not self.cal.free(w.id, day, start, end):
            return False
        minutes = end - start
        return (self.cal.day_minutes[w.id, day] + minutes <= w.max_day * 60
                and self.cal.week_minutes[w.id] + minutes <= w.max_week * 60)

    def _free_room(self, kind: RoomKind, day: int, start: int, end: int, size: int = 1) -> _Place | None:
        fits = [r for r in self.places if r.kind == kind and r.capacity >= size and self.cal.free(r.id, day, start, end)]
        return min(fits, key=lambda r: (r.capacity, r.id)) if fits else None

    # -- individual sessions inside the day's block

    def place_individual_work(self) -> None:
        """Evaluations, individual therapy, discharge planning and medication checks, most constrained first."""
        order = list(self.people)
        self.rng.shuffle(order)
        for activity_id in ("EVAL", "IND", "DC", "MED"):
            for p in order:
                if self._needs(p, activity_id):
                    self._place_inblock(p, ACTIVITY[activity_id])

    def _needs(self, p: _Person, activity_id: str) -> bool:
        if activity_id == "EVAL":
            return p.status == "new"
        if activity_id == "DC":
            return p.status == "discharging"
        if activity_id == "MED":
            return p.status != "new" and self.rng.random() < 0.85
        return activity_id == "IND"

    def _place_inblock(self, p: _Person, act: Activity) -> bool:
        """Put one in-block individual session into the patient's week, widening the search step by step."""
        days = list(p.days)
        self.rng.shuffle(days)
        steps = [
            _Step(),
            _Step(replace=True),
            _Step(replace=True, open_clinic=True),
            _Step(replace=True, open_clinic=True, new_room=True),
            _Step(replace=True, open_clinic=True, new_room=True, hire=True),
        ]
        for step in steps:
            if step.hire and act.skill == "prescriber":
                self._new_prescriber()
            for day, start, slot in self._positions(p, act, days, step.replace):
                if self._try_inblock(p, act, day, start, slot, step):
                    return True
        self.unplaced.append((p.id, act.id))
        return False

    def _positions(self, p: _Person, act: Activity, days: list[int], replace_ok: bool):
        """Candidate (day, start, replaced group slot) for an in-block session, nearest the block first."""
        lo, hi = p.track.window
        for day in days:
            spans = self.inblock[p.id, day]
            edge = []
            for start in range(lo, hi - act.duration_min + 1, SLOT):
                end = start + act.duration_min
                if self.cal.free(p.id, day, start, end) and _chain_ok(spans + [(start, end)]):
                    gap = min(min(abs(start - e), abs(s - end)) for s, e in spans)
                    edge.append((gap, start))
            for _, start in sorted(edge):
                yield day, start, None
        if replace_ok and act.duration_min >= 30:
            for day in days:
                yield from self._replacements(p, act, day)

    def _replacements(self, p: _Person, act: Activity, day: int):
        """Positions inside one of the day's groups that the patient would leave for this session."""
        if any(d == day for d, _ in p.skipped):
            return
        spans = self.inblock[p.id, day]
        for k, slot_start in enumerate(p.track.group_starts):
            group = (slot_start, slot_start + GROUP_MINUTES)
            if self.present[p.track.key, day, k] - 1 < 3 or group not in spans:
                continue
            rest = [x for x in spans if x != group]
            for start in range(slot_start, group[1] - act.duration_min + 1, SLOT):
                end = start + act.duration_min
                if _chain_ok(rest + [(start, end)]):
                    yield day, start, k

    def _try_inblock(self, p: _Person, act: Activity, day: int, start: int, slot: int | None, step: _Step) -> bool:
        """Book the session at this position if staff and an office can be found under the step's allowances."""
        end = start + act.duration_min
        if self.cal.week_minutes[p.id] + act.duration_min - (GROUP_MINUTES if slot is not None else 0) > MAX_WEEK_MINUTES:
            return False
        if slot is not None and not self._free_but_group(p, day, start, end, slot):
            return False
        for w in self._candidates(p, act, day, start, end, step.open_clinic):
            if not (step.hire or w.prescriber or self._spare_facilitators(day, start, end, w, p if slot is not None else None)):
                continue
            room = self._free_room(act.room_kind, day, start, end)
            if room is None and step.new_room:
                room = self._new_room(act.room_kind)
            if room is None:
                continue
            if slot is not None:
                self._skip_group(p, day, slot)
            if w.prescriber:
                w.opened.add((day, self._half(start)))
            self._book(act, day, start, [w], room, [p], in_block=True)
            return True
        return False

    def _free_but_group(self, p: _Person, day: int, start: int, end: int, slot: int) -> bool:
        """Whether the patient is free then apart from the group slot they would leave."""
        group = (p.track.group_starts[slot], p.track.group_starts[slot] + GROUP_MINUTES)
        return all(e <= start or end <= s for s, e in self.cal.spans[p.id, day] if (s, e) != group)

    def _candidates(self, p: _Person, act: Activity, day: int, start: int, end: int, open_ok: bool) -> list[_Worker]:
        """Staff who could deliver this session now: the primary, or prescribers (open clinics first)."""
        if act.with_primary:
            w = self._worker(p.primary)
            return [w] if self._staff_ok(w, day, start, end) else []
        half = self._half(start)
        if not (HALF_DAYS[half][0] <= start and end <= HALF_DAYS[half][1]):
            return []
        out = []
        for w in self.prescribers:
            if not self._staff_ok(w, day, start, end):
                continue
            if (day, half) in w.opened or (open_ok and len(w.opened) < MAX_CLINICS):
                out.append(w)
        return sorted(out, key=lambda w: ((day, half) not in w.opened, self.cal.week_minutes[w.id]))

    @staticmethod
    def _half(minute: int) -> int:
        return 0 if minute < HALF_DAYS[0][1] else 1

    def _spare_facilitators(self, day: int, start: int, end: int, busy: _Worker, leaving: _Person | None) -> bool:
        """Whether the therapists free then can still staff every group running then once ``busy`` is taken."""
        free = sum(1 for w in self.therapists if w is not busy and self._staff_ok(w, day, start, end))
        needed = 0
        for track in TRACKS.values():
            for k, s in enumerate(track.group_starts):
                if s < end and start < s + GROUP_MINUTES:
                    needed += self._groups_at(track, day, k, leaving)
        return free >= needed

    def _groups_at(self, track: Track, day: int, slot: int, leaving: _Person | None = None) -> int:
        """How many groups the slot will run (without ``leaving``, when given)."""
        key = (track.key, day, slot)
        if leaving is None or leaving.track is not track:
            if key not in self._group_counts:
                self._group_counts[key] = len(self._split(track.plan[slot], self._present(track, day, slot), day))
            return self._group_counts[key]
        here = [p for p in self._present(track, day, slot) if p is not leaving]
        return len(self._split(track.plan[slot], here, day))

    def _present(self, track: Track, day: int, slot: int) -> list[_Person]:
        """The track's patients in the group slot, pods together."""
        return [p for p in self.members[track.key] if day in p.days and (day, slot) not in p.skipped]

    def _skip_group(self, p: _Person, day: int, slot: int) -> None:
        """Take the patient out of one group slot (an individual session replaces it)."""
        start = p.track.group_starts[slot]
        p.skipped.add((day, slot))
        self.cal.remove(p.id, day, start, start + GROUP_MINUTES)
        self.inblock[p.id, day].remove((start, start + GROUP_MINUTES))
        self.present[p.track.key, day, slot] -= 1
        self._group_counts.pop((p.track.key, day, slot), None)

    def _book(self, act, day, start, workers, room, patients, in_block) -> None:
        """Record a session in the witness and in everyone's calendar (group patients are booked already)."""
        end = start + act.duration_min
        for w in workers:
            self.cal.add(w.id, day, start, end)
        if room is not None:
            self.cal.add(room.id, day, start, end)
        for p in patients:
            if act.mode != Mode.GROUP:
                self.cal.add(p.id, day, start, end)
                if in_block:
                    self.inblock[p.id, day].append((start, end))
        self.sessions.append(Session(
            day=day, start=start, end=end, activity_id=act.id,
            staff_ids=tuple(sorted(w.id for w in workers)), room_id=room.id if room else None,
            patient_ids=tuple(sorted(p.id for p in patients)),
        ))

    # -- family sessions

    def place_family_sessions(self) -> None:
        """One evening family session per involved family, with the primary therapist."""
        for p in self.people:
            if p.family and not self._place_family(p, ACTIVITY[p.family]):
                self.unplaced.append((p.id, p.family))
                p.family = None

    def _place_family(self, p: _Person, act: Activity) -> bool:
        """Any day, in the family's evening hours, when the patient and the primary therapist are free."""
        lo, hi = p.track.family_window
        w = self._worker(p.primary)
        days = list(DAYS)
        self.rng.shuffle(days)
        if self.cal.week_minutes[p.id] + act.duration_min > MAX_WEEK_MINUTES:
            return False
        for room_ok, hire_ok in ((False, False), (True, False), (True, True)):
            for day in days:
                for start in sorted(range(lo, hi - act.duration_min + 1, 30), key=lambda m: ((m - lo) % 60, m)):
                    end = start + act.duration_min
                    if not (self.cal.free(p.id, day, start, end) and self._staff_ok(w, day, start, end)):
                        continue
                    if not (hire_ok or self._spare_facilitators(day, start, end, w, None)):
                        continue
                    room = None
                    if act.room_kind != RoomKind.NONE:
                        room = self._free_room(act.room_kind, day, start, end)
                        if room is None and room_ok:
                            room = self._new_room(act.room_kind)
                        if room is None:
                            continue
                    self._book(act, day, start, [w], room, [p], in_block=False)
                    self.cal.add(p.id, day, start, end)
                    return True
        return False

    # -- groups

    def run_groups(self) -> None:
        """Every track day and slot: split the patients present into groups, then staff and house them."""
        for track in TRACKS.values():
            for day in DAYS:
                for k, start in enumerate(track.group_starts):
                    plan = track.plan[k]
                    for act_id, patients in self._split(plan, self._present(track, day, k), day):
                        options = (act_id,) + tuple(a for a in plan.main if a != act_id and act_id in plan.main)
                        self._run_group(options, track, day, start, patients)

    def _split(self, plan: SlotPlan, here: list[_Person], day: int) -> list[tuple[str, list[_Person]]]:
        """The slot's groups: the tag's patients on their own when they make a group, the rest in even chunks."""
        out = []
        rest = here
        if plan.tagged:
            tagged = ACTIVITY[plan.tagged]
            mine = [p for p in here if tagged.tag in p.tags]
            others = [p for p in here if tagged.tag not in p.tags]
            if len(mine) >= tagged.min_size and (not others or len(others) >= 3):
                out += [(tagged.id, chunk) for chunk in _chunks(mine, tagged.max_size)]
                rest = others
        limit = min(ACTIVITY[a].max_size for a in plan.main)
        for i, chunk in enumerate(_chunks(rest, limit)):
            out.append((plan.main[(day + i) % len(plan.main)], chunk))
        return out

    def _run_group(self, options: tuple[str, ...], track: Track, day: int, start: int, patients: list[_Person]) -> None:
        """Run the first option a free therapist can lead (teaching a skill or hiring if none), in a free room."""
        end = start + GROUP_MINUTES
        act, lead = self._facilitator(options, track, day, start, end, patients)
        room = self._free_room(RoomKind.GROUP, day, start, end, len(patients))
        if room is None:
            room = self._new_room(RoomKind.GROUP, len(patients))
        if act.skill == "process":
            for p in patients:
                self.proc_leads[p.id][lead.id] += 1
        self._book(act, day, start, [lead], room, patients, in_block=True)

    def _facilitator(self, options, track, day, start, end, patients) -> tuple[Activity, _Worker]:
        """A free therapist who holds an option's skill, else one who can take it on, else a new hire."""
        free = [w for w in self.therapists if self._staff_ok(w, day, start, end)]

        def rank(w: _Worker):
            continuity = -sum(self.proc_leads[p.id][w.id] for p in patients)
            return (w.track != track.key, continuity, self.cal.day_minutes[w.id, day], w.id)

        for act_id in options:
            skilled = [w for w in free if ACTIVITY[act_id].skill in w.skills]
            if skilled:
                return ACTIVITY[act_id], min(skilled, key=rank)
        act = ACTIVITY[options[0]]
        learners = [w for w in free if len(w.skills) < MAX_SKILLS]
        if learners:
            w = min(learners, key=lambda w: (w.track != track.key, len(w.skills), rank(w)))
        else:
            w = self._new_therapist(track)
        w.skills.add(act.skill)
        return act, w

    # -- the scenario around the witness

    def scenario(self, name: str) -> Scenario:
        """Program, catalogue, staff, rooms and patients, each wider than the witness needs."""
        program = Program(name=name, week_start=WEEK_START, open=OPEN, close=CLOSE)
        by_patient: dict[str, list[Session]] = defaultdict(list)
        for session in self.sessions:
            for pid in session.patient_ids:
                by_patient[pid].append(session)
        patients = tuple(self._patient(p, by_patient[p.id]) for p in sorted(self.people, key=lambda p: p.id))
        rooms = tuple(self._room(r) for r in self._rooms())
        staff = tuple(self._staff(w) for w in self.workers)
        return Scenario(program=program, activities=ACTIVITIES, staff=staff, rooms=rooms, patients=patients)

    def witness(self) -> Timetable:
        return Timetable(tuple(self.sessions)).numbered()

    def add_spare_rooms(self) -> None:
        """Rooms the witness does not need, so the optimiser can move groups and individual sessions."""
        for _ in range(self.n // 120):
            self._new_room(RoomKind.GROUP)
        for _ in range(1 + self.n // 150):
            self._new_room(RoomKind.OFFICE)

    def _rooms(self) -> list[_Place]:
        """Group rooms first, then offices, each in number order."""
        return sorted(self.places, key=lambda r: (r.kind != RoomKind.GROUP, int(r.id[1:])))

    @staticmethod
    def _room(r: _Place) -> Room:
        return Room(id=r.id, name=r.name, kind=r.kind, capacity=r.capacity)

    def _staff(self, w: _Worker) -> Staff:
        """A therapist with the skills used (sometimes one more) and the whole shift as availability."""
        if w.prescriber:
            return self._prescriber(w)
        skills = set(w.skills)
        if len(skills) < 4 and self.rng.random() < 0.5:
            extra = [s for s in TRACK_SKILLS[w.track] if s not in skills]
            skills.add(self.rng.choice(extra))
        windows = tuple(Window(d, s, e) for d, (s, e) in sorted(w.windows.items()))
        max_day = w.max_day
        used_day = max((self.cal.day_minutes[w.id, d] for d in DAYS), default=0)
        assert used_day <= max_day * 60 and self.cal.week_minutes[w.id] <= w.max_week * 60
        return Staff(id=w.id, name=w.name, role=w.role, skills=frozenset(skills),
                     availability=Availability(merge_windows(windows)), max_hours_day=max_day,
                     max_hours_week=w.max_week)

    def _prescriber(self, w: _Worker) -> Staff:
        """Half-day clinics: the ones the witness uses plus one spare."""
        halves = set(w.opened)
        spare = [(d, h) for d in DAYS for h in (0, 1) if (d, h) not in halves]
        if len(halves) < 5:
            halves.add(self.rng.choice(spare))
        windows = tuple(Window(d, *HALF_DAYS[h]) for d, h in sorted(halves))
        used = self.cal.week_minutes[w.id] / 60
        week = float(min(w.max_week, max(12, 4 * math.ceil(used / 4) + 4)))
        return Staff(id=w.id, name=w.name, role=w.role, skills=frozenset(w.skills),
                     availability=Availability(merge_windows(windows)), max_hours_day=w.max_day,
                     max_hours_week=week)

    def _patient(self, p: _Person, mine: list[Session]) -> Patient:
        """The patient as the coordinator would enter them, built around their witness week."""
        counts = Counter(s.activity_id for s in mine)
        attended = sorted({s.day for s in mine if ACTIVITY[s.activity_id].in_block})
        assert tuple(attended) == p.days
        inblock = [s for s in mine if ACTIVITY[s.activity_id].in_block]
        day_minutes = Counter()
        for s in inblock:
            day_minutes[s.day] += s.minutes
        limits = self._limits(p, attended, max(day_minutes.values()))
        return Patient(
            id=p.id, name=p.name, cohort=p.cohort, tags=p.tags,
            availability=self._availability(p, inblock),
            family_availability=self._family_availability(p, mine),
            primary_therapist=p.primary,
            requirements=self._requirements(p, counts),
            preferred_days=self._preferred(p, attended),
            status=p.status,
            **limits,
        )

    def _limits(self, p: _Person, attended: list[int], busiest: int) -> dict:
        """Personal overrides, each containing what the witness gives."""
        out: dict = {}
        roll = self.rng.random()
        if p.track.key == "pm" and roll < 0.5:
            out["max_days"] = len(attended)  # can take only so many evenings off work
        elif roll < 0.15 and not self.curated:  # the demo's patients keep the program's 3-5 days
            out["min_days"] = out["max_days"] = len(attended)
        if busiest <= 240 and self.rng.random() < 0.2:
            out["max_hours"] = 4
        if p.cohort == Cohort.ADOLESCENT:
            out["min_week_hours"] = 6
        return out

    def _availability(self, p: _Person, inblock: list[Session]) -> Availability:
        """The track's hours on every day, or on the attended days plus one (part-time jobs, school)."""
        first = min(s.start for s in inblock)
        last = max(s.end for s in inblock)
        options = [w for w in p.track.offered if w[0] <= first and last <= w[1]]
        start, end = options[0] if self.rng.random() < 0.6 else options[-1]
        days = set(DAYS)
        if self.rng.random() < 0.3 and len(p.days) < 5:
            days = set(p.days) | {self.rng.choice([d for d in DAYS if d not in p.days])}
        return Availability(tuple(Window(d, start, end) for d in sorted(days)))

    def _family_availability(self, p: _Person, mine: list[Session]) -> Availability:
        fam = [s for s in mine if ACTIVITY[s.activity_id].mode == Mode.FAMILY]
        if not fam:
            return Availability()
        lo, hi = p.track.family_window
        days = {s.day for s in fam}
        days |= set(self.rng.sample([d for d in DAYS if d not in days], self.rng.choice((1, 2))))
        return Availability(tuple(Window(d, lo, hi) for d in sorted(days)))

    def _requirements(self, p: _Person, counts: Counter) -> tuple[Requirement, ...]:
        """Counts the witness gives; skills groups sometimes as a range; other groups fill the hours."""
        rng = self.rng
        out = []
        for act_id in ("PROC", "ADOL", "RP"):
            if counts[act_id] and self.curated and act_id == "PROC" and counts[act_id] > 2:
                # The demo's coordinator lets process groups flex by two a week (e.g. PROC=3-5).
                out.append(Requirement(act_id, counts[act_id] - 2, counts[act_id]))
            elif counts[act_id]:
                out.append(Requirement(act_id, counts[act_id], counts[act_id]))
        skills = [a for a in ("CBT", "DBT") if counts[a]] if p.cohort == Cohort.ADULT else []
        if skills:
            act_id = max(skills, key=lambda a: (counts[a], a))
            c = counts[act_id]
            if rng.random() < 0.4:
                out.append(Requirement(act_id, max(1, c - 1), c + (1 if rng.random() < 0.5 else 0)))
            else:
                out.append(Requirement(act_id, c, c))
        for act_id in ("IND", "MED", "EVAL", "DC", "FAM", "TFAM"):
            if counts[act_id]:
                out.append(Requirement(act_id, counts[act_id], counts[act_id]))
        return tuple(out)

    def _preferred(self, p: _Person, attended: list[int]) -> tuple[int, ...]:
        roll = self.rng.random()
        if roll < 0.25:
            return tuple(attended)
        if roll < 0.45:
            return tuple(sorted(self.rng.sample(DAYS, len(attended))))
        return ()


def _build(n_patients: int, seed: int, name: str, curated: bool) -> GeneratedClinic:
    if n_patients < 3:
        raise ValueError("a clinic needs at least 3 patients to run a group")
    b = _Builder(n_patients, seed, curated)
    b.make_patients()
    b.assign_days()
    b.make_staff()
    b.place_individual_work()
    b.place_family_sessions()
    b.run_groups()
    b.add_spare_rooms()
    return GeneratedClinic(scenario=b.scenario(name), witness=b.witness())


def generate_clinic(n_patients: int, seed: int = 0) -> GeneratedClinic:
    """A realistic clinic of ``n_patients`` and a witness timetable that satisfies every hard rule."""
    return _build(n_patients, seed, f"Generated IOP ({n_patients} patients, seed {seed})", curated=False)


def demo_clinic() -> GeneratedClinic:
    """The bundled demo: Riverside Behavioral Health IOP, about 35 patients on three tracks."""
    return _build(DEMO_PATIENTS, DEMO_SEED, DEMO_NAME, curated=True)

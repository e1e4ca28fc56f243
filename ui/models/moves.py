"""Moving a session by hand: the choices the move dialog offers, the edit, and its check.

A moved session is kept by the next solve, so it is stored as a pin (``ui.models.pins``): the move
takes the old session's pin out of ``scenario.previous`` (when it had one) and pins the new one,
with the old session's id. The shown timetable gets the new session in the old one's place. Whether
the move keeps the hard rules is the validator's answer (``scheduler.validate``), never ours.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from scheduler.model import DAY_NAMES, Activity, RoomKind, Scenario, Session, Timetable, scenario_without
from scheduler.timegrid import format_time
from scheduler.validate import Violation, objective, validate
from ui.models.edits import Edit, EditKind
from ui.models.pins import free_session_id, pinned_keys, session_key


# -- what the dialog offers ----------------------------------------------------------------------


def start_choices(scenario: Scenario, activity: Activity) -> list[int]:
    """Starts on the program's slot grid at which the activity ends by closing time."""
    p = scenario.program
    return list(range(p.open, p.close - activity.duration_min + 1, p.slot_minutes))


def room_choices(scenario: Scenario, activity: Activity, current: str | None) -> list[str]:
    """Rooms of the activity's kind (the current room first among them when it is of another kind)."""
    if activity.room_kind == RoomKind.NONE:
        return []
    rooms = [r.id for r in scenario.rooms if r.kind == activity.room_kind]
    return rooms if current is None or current in rooms or current not in scenario.room_by_id else [current] + rooms


def staff_choices(scenario: Scenario, activity: Activity, current: tuple[str, ...]) -> list[str]:
    """Staff holding the activity's skill, and the session's own staff whatever their skills."""
    skilled = [s.id for s in scenario.staff if not activity.skill or activity.skill in s.skills]
    return skilled + [i for i in current if i not in skilled and i in scenario.staff_by_id]


# -- the edit ------------------------------------------------------------------------------------


def move_edit(scenario: Scenario, timetable: Timetable, old: Session, new: Session) -> tuple[Edit, Timetable]:
    """The edit that pins ``new`` in place of ``old`` (and of old's pin, if it had one), and the shown
    timetable with ``new`` in old's place. Other pins and last week's sessions stay as they are."""
    kept = () if scenario.previous is None else scenario.previous.sessions
    old_key = session_key(old)
    old_pin = next((s for s in kept if s.pinned and session_key(s) == old_key), None)
    rest = tuple(s for s in kept if s is not old_pin)
    taken = {s.session_id for s in rest if s.session_id}
    wanted = old_pin.session_id if old_pin is not None else old.session_id
    pin = replace(new, pinned=True, session_id=wanted if wanted and wanted not in taken else free_session_id(taken))
    at = next(i for i, s in enumerate(timetable.sessions) if session_key(s) == old_key)
    shown = Timetable(timetable.sessions[:at] + (pin,) + timetable.sessions[at + 1:])
    after = scenario.with_previous(Timetable(rest + (pin,)))
    return Edit(EditKind.MOVE, scenario, after, move_text(old, new)), shown


def move_text(old: Session, new: Session) -> str:
    """Words for the undo menu: "Move CBT from Mon 09:00 to Tue 10:00", "Change room and staff of CBT on Mon 09:00"."""
    if (old.day, old.start) != (new.day, new.start):
        return f"Move {old.activity_id} from {when(old)} to {when(new)}"
    changed = [word for word, a, b in (("room", old.room_id, new.room_id),
                                       ("staff", sorted(old.staff_ids), sorted(new.staff_ids))) if a != b]
    return f"Change {' and '.join(changed) or 'nothing'} of {old.activity_id} on {when(old)}"


def when(s: Session) -> str:
    return f"{DAY_NAMES[s.day]} {format_time(s.start)}"


# -- the check -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MoveCheck:
    """What a move would do to the timetable: hard rules it breaks and mends, and the objective."""

    broken: tuple[Violation, ...]  # broken by the moved timetable and not by the current one
    mended: tuple[Violation, ...]  # broken by the current timetable and not by the moved one
    still: int  # broken by both
    objective_before: float
    objective_after: float

    @property
    def objective_change(self) -> float:
        return self.objective_after - self.objective_before


class MovePreview:
    """Checks candidate moves of one session of the shown timetable (the current one is checked once)."""

    def __init__(self, scenario: Scenario, timetable: Timetable, session: Session, waitlisted=()):
        self.scenario, self.timetable, self.session = scenario, timetable, session
        self.waitlisted = frozenset(waitlisted)
        self.pinned = session_key(session) in pinned_keys(scenario)
        self._before = frozenset(self._violations(scenario, timetable))
        self._objective = objective(scenario, timetable)

    def moved(self, new: Session) -> Session:
        """``new`` as the move would store it: the session's activity and patients, the chosen rest."""
        return replace(new, activity_id=self.session.activity_id, patient_ids=self.session.patient_ids)

    def changes(self, new: Session) -> bool:
        return session_key(self.moved(new)) != session_key(self.session)

    def check(self, new: Session) -> MoveCheck:
        edit, shown = move_edit(self.scenario, self.timetable, self.session, self.moved(new))
        after = frozenset(self._violations(edit.after, shown))
        # The soft goals count every patient, waitlisted or not (as a best-effort solve's summary does).
        return MoveCheck(
            broken=tuple(sorted(after - self._before, key=_order)),
            mended=tuple(sorted(self._before - after, key=_order)),
            still=len(after & self._before),
            objective_before=self._objective,
            objective_after=objective(edit.after, shown),
        )

    def _violations(self, scenario: Scenario, timetable: Timetable) -> list[Violation]:
        # A best-effort timetable answers the scenario without its waitlisted patients (ui.outcome.review).
        return validate(scenario_without(scenario, self.waitlisted), timetable)


def _order(v: Violation) -> tuple:
    return (v.rule, -1 if v.day is None else v.day, -1 if v.start is None else v.start, v.message)

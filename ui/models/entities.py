"""The columns of each editor table and the checks an edited object must pass."""

from __future__ import annotations

from collections import Counter
from functools import partial

from scheduler.model import Activity, Cohort, Mode, Patient, Room, RoomKind, Scenario, Staff
from ui.models import fields as f
from ui.models.entity_model import Column, EntitySpec, EntityTableModel
from scheduler.io.reader import patient_refusal, with_primary_refusal

AVAIL_TIP = "Availability: DAYS HH:MM-HH:MM entries separated by ';', e.g. Mon-Fri 09:00-13:00; Sat 10:00-12:00. Empty: whenever the program is open."
_int = partial(f.parse_int, minimum=0)
_pos = partial(f.parse_int, minimum=1)


def _check_patient(scenario: Scenario, p: Patient) -> str | None:
    lim = p.limits(scenario.program)
    for low, high, what in (
        (lim.min_days, lim.max_days, "days"),
        (lim.min_hours, lim.max_hours, "hours per day"),
        (lim.min_week_hours, lim.max_week_hours, "hours per week"),
    ):
        if low > high:
            return f"the minimum {what} ({f.fmt_number(low)}) exceeds the maximum ({f.fmt_number(high)})"
    if p.primary_therapist and p.primary_therapist not in scenario.staff_by_id:
        return f"no staff member has the id {p.primary_therapist}"
    unknown = [r.activity_id for r in p.requirements if r.activity_id not in scenario.activity_by_id]
    if unknown:
        return f"unknown activity {', '.join(unknown)}; known: {', '.join(a.id for a in scenario.activities)}"
    return patient_refusal(scenario.program, p)  # the importer's own checks (max days, preferred days)


def _check_activity(scenario: Scenario, a: Activity) -> str | None:
    slot = scenario.program.slot_minutes
    if a.duration_min <= 0 or a.duration_min % slot:
        return f"the duration must be a positive multiple of {slot} minutes"
    if a.min_size > a.max_size:
        return f"the minimum size ({a.min_size}) exceeds the maximum ({a.max_size})"
    if a.mode != Mode.GROUP and a.max_size != 1:
        return f"{a.mode.value} sessions have exactly one patient (sizes 1-1)"
    return with_primary_refusal(a.mode, a.with_primary)  # the importer's own check


def _check_staff(scenario: Scenario, s: Staff) -> str | None:
    if s.max_hours_day is not None and s.max_hours_week is not None and s.max_hours_day > s.max_hours_week:
        return "the daily cap exceeds the weekly cap"
    return None


def _new_patient(new_id: str, scenario: Scenario) -> Patient:
    return Patient(id=new_id, name="New patient", status="new")


def _new_staff(new_id: str, scenario: Scenario) -> Staff:
    return Staff(id=new_id, name="New staff member")


def _new_room(new_id: str, scenario: Scenario) -> Room:
    return Room(id=new_id, name="New room", kind=RoomKind.GROUP, capacity=8)


NEW_GROUP_SKILL = "group"  # a new group's skill when nothing in the scenario suggests one


def _new_group_skill(scenario: Scenario) -> str:
    """The skill a new group needs until the coordinator says otherwise; never empty (the importer requires one).

    The skill of the first group activity that some staff member holds (so the new group can be led
    as it stands), else of the first group activity, else the skill most staff hold, else "group".
    """
    held = {skill for member in scenario.staff for skill in member.skills}
    groups = [a.skill for a in scenario.activities if a.mode == Mode.GROUP and a.skill.strip()]
    led = [skill for skill in groups if skill in held]
    if led or groups:
        return (led or groups)[0]
    counts = Counter(skill for member in scenario.staff for skill in member.skills if skill.strip())
    return min(counts, key=lambda skill: (-counts[skill], skill)) if counts else NEW_GROUP_SKILL


def _new_activity(new_id: str, scenario: Scenario) -> Activity:
    slot = scenario.program.slot_minutes
    duration = slot * -(-60 // slot)  # an hour, or the first multiple of the slot after it (the importer's grid)
    return Activity(id=new_id, name="New group", mode=Mode.GROUP, duration_min=duration, min_size=3, max_size=10,
                    skill=_new_group_skill(scenario), room_kind=RoomKind.GROUP)


PATIENTS = EntitySpec(
    attr="patients",
    singular="patient",
    id_prefix="P",
    check=_check_patient,
    new_item=_new_patient,
    columns=(
        Column("id", "Id", parse=f.parse_id),
        Column("name", "Name", parse=f.parse_text, tip="Name or initials"),
        Column("cohort", "Cohort", fmt=lambda v: v.value, parse=f.parse_patient_cohort, choices=("adult", "adolescent")),
        Column("status", "Status", parse=f.parse_text, tip="new, continuing or discharging"),
        Column("primary_therapist", "Primary therapist", fmt=lambda v: v or "", parse=f.parse_opt_text, tip="Staff id"),
        Column("requirements", "Requirements", fmt=f.fmt_requirements, parse=f.parse_requirements,
               tip="Weekly counts per activity, e.g. PROC=3; CBT=2-3; IND=1"),
        Column("availability", "Availability", fmt=f.fmt_availability, parse=f.parse_availability_text, tip=AVAIL_TIP),
        Column("family_availability", "Family availability", fmt=f.fmt_availability, parse=f.parse_availability_text, tip=AVAIL_TIP),
        Column("preferred_days", "Preferred days", fmt=f.fmt_days, parse=f.parse_days_text, tip="e.g. Mon,Wed,Fri"),
        Column("tags", "Tags", fmt=f.fmt_set, parse=f.parse_set, tip="';'-separated, e.g. SUD; TRAUMA"),
        Column("min_days", "Min days", fmt=f.fmt_number, parse=partial(f.parse_opt_int, minimum=0), tip="Empty: program default"),
        Column("max_days", "Max days", fmt=f.fmt_number, parse=partial(f.parse_opt_int, minimum=0), tip="Empty: program default"),
        Column("min_hours", "Min h/day", fmt=f.fmt_number, parse=f.parse_opt_float, tip="Empty: program default"),
        Column("max_hours", "Max h/day", fmt=f.fmt_number, parse=f.parse_opt_float, tip="Empty: program default"),
        Column("min_week_hours", "Min h/week", fmt=f.fmt_number, parse=f.parse_opt_float, tip="Empty: program default"),
        Column("max_week_hours", "Max h/week", fmt=f.fmt_number, parse=f.parse_opt_float, tip="Empty: program default"),
    ),
)

STAFF = EntitySpec(
    attr="staff",
    singular="staff member",
    id_prefix="S",
    check=_check_staff,
    new_item=_new_staff,
    columns=(
        Column("id", "Id", parse=f.parse_id),
        Column("name", "Name", parse=f.parse_text),
        Column("role", "Role", parse=f.parse_text, tip="Free text, e.g. LCSW, Psychiatrist"),
        Column("skills", "Skills", fmt=f.fmt_set, parse=f.parse_set, tip="';'-separated, e.g. process; cbt; therapy"),
        Column("availability", "Availability", fmt=f.fmt_availability, parse=f.parse_availability_text, tip=AVAIL_TIP),
        Column("max_hours_day", "Max h/day", fmt=f.fmt_number, parse=f.parse_opt_float, tip="Empty: no cap"),
        Column("max_hours_week", "Max h/week", fmt=f.fmt_number, parse=f.parse_opt_float, tip="Empty: no cap"),
    ),
)

ROOMS = EntitySpec(
    attr="rooms",
    singular="room",
    id_prefix="R",
    new_item=_new_room,
    columns=(
        Column("id", "Id", parse=f.parse_id),
        Column("name", "Name", parse=f.parse_text),
        Column("kind", "Kind", fmt=lambda v: v.value, parse=f.required(f.parse_kind_of_room), choices=("group", "office")),
        Column("capacity", "Capacity", fmt=f.fmt_number, parse=f.required(_pos), tip="Patients it seats"),
        Column("availability", "Availability", fmt=f.fmt_availability, parse=f.parse_availability_text, tip=AVAIL_TIP),
    ),
)

ACTIVITIES = EntitySpec(
    attr="activities",
    singular="activity",
    id_prefix="A",
    check=_check_activity,
    new_item=_new_activity,
    columns=(
        Column("id", "Id", parse=f.parse_id),
        Column("name", "Name", parse=f.parse_text),
        Column("mode", "Mode", fmt=lambda v: v.value, parse=f.required(f.parse_mode), choices=tuple(m.value for m in Mode)),
        Column("duration_min", "Minutes", fmt=f.fmt_number, parse=f.required(partial(f.parse_minutes, minimum=1))),
        Column("min_size", "Min size", fmt=f.fmt_number, parse=_pos),
        Column("max_size", "Max size", fmt=f.fmt_number, parse=f.required(_pos)),
        Column("skill", "Skill", parse=f.parse_required_text, tip="Staff skill needed, e.g. process, cbt, prescriber (required)"),
        Column("staff_count", "Staff", fmt=f.fmt_number, parse=_pos, tip="Staff per session (2 = co-facilitated)"),
        Column("room_kind", "Room", fmt=lambda v: v.value, parse=f.parse_room_kind, choices=tuple(k.value for k in RoomKind)),
        Column("cohort", "Cohort", fmt=lambda v: v.value, parse=f.parse_cohort, choices=tuple(c.value for c in Cohort)),
        Column("tag", "Tag", fmt=lambda v: v or "", parse=f.parse_opt_text, tip="Only patients with this tag may attend"),
        Column("with_primary", "With primary", fmt=f.fmt_bool, parse=f.parse_bool, choices=("yes", "no")),
        Column("in_block", "In block", fmt=f.fmt_bool, parse=f.parse_bool, choices=("yes", "no"),
               tip="Counts toward the patient's program day"),
    ),
)

class PatientsTableModel(EntityTableModel):
    def __init__(self, scenario: Scenario | None = None, parent=None):
        super().__init__(PATIENTS, scenario, parent)


class StaffTableModel(EntityTableModel):
    def __init__(self, scenario: Scenario | None = None, parent=None):
        super().__init__(STAFF, scenario, parent)


class RoomsTableModel(EntityTableModel):
    def __init__(self, scenario: Scenario | None = None, parent=None):
        super().__init__(ROOMS, scenario, parent)


class ActivitiesTableModel(EntityTableModel):
    def __init__(self, scenario: Scenario | None = None, parent=None):
        super().__init__(ACTIVITIES, scenario, parent)


TABLE_MODELS = {"patients": PatientsTableModel, "staff": StaffTableModel, "rooms": RoomsTableModel,
                "activities": ActivitiesTableModel}

"""ORM rows (``*Row``): one table per domain entity. The schema itself is built by the migrations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, Double, ForeignKey, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Fixed constraint names keep migrations portable (SQLite batch mode, PostgreSQL).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = 100  # length of an id column (activity, staff, room, patient codes)
NAME = 200


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class TimetableRow(Base):
    """A timetable: a named, saved result, or (name NULL) the scenario's previous week."""

    __tablename__ = "timetables"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(NAME), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC
    status: Mapped[str | None] = mapped_column(String(40))
    objective: Mapped[float | None] = mapped_column(Double)
    bound: Mapped[float | None] = mapped_column(Double)
    gap: Mapped[float | None] = mapped_column(Double)
    summary: Mapped[str] = mapped_column(Text)  # JSON


class SessionRow(Base):
    """One session of a timetable; ids are kept as text so a saved timetable outlives scenario edits."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timetable_id: Mapped[int] = mapped_column(ForeignKey("timetables.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    session_id: Mapped[str] = mapped_column(String(ID))
    day: Mapped[str] = mapped_column(String(3))
    start_min: Mapped[int] = mapped_column(Integer)
    end_min: Mapped[int] = mapped_column(Integer)
    activity_id: Mapped[str] = mapped_column(String(ID))
    staff_ids: Mapped[str] = mapped_column(Text)
    room_id: Mapped[str | None] = mapped_column(String(ID))
    patient_ids: Mapped[str] = mapped_column(Text)
    pinned: Mapped[bool] = mapped_column(Boolean)


class ProgramRow(Base):
    """The program settings of the one stored scenario (id is always 1)."""

    __tablename__ = "program"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    week_start: Mapped[date | None] = mapped_column(Date)
    days: Mapped[str] = mapped_column(String(40))
    open_min: Mapped[int] = mapped_column(Integer)
    close_min: Mapped[int] = mapped_column(Integer)
    slot_minutes: Mapped[int] = mapped_column(Integer)
    max_gap_minutes: Mapped[int] = mapped_column(Integer)
    min_days: Mapped[int] = mapped_column(Integer)
    max_days: Mapped[int] = mapped_column(Integer)
    min_hours: Mapped[float] = mapped_column(Double)
    max_hours: Mapped[float] = mapped_column(Double)
    hours_basis: Mapped[str] = mapped_column(String(20))
    min_week_hours: Mapped[float] = mapped_column(Double)
    max_week_hours: Mapped[float] = mapped_column(Double)
    weight_preferences: Mapped[float] = mapped_column(Double)
    weight_continuity: Mapped[float] = mapped_column(Double)
    weight_stability: Mapped[float] = mapped_column(Double)
    weight_balance: Mapped[float] = mapped_column(Double)
    weight_efficiency: Mapped[float] = mapped_column(Double)
    weight_spread: Mapped[float] = mapped_column(Double)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("timetables.id"))


class ActivityRow(Base):
    __tablename__ = "activities"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(NAME))
    mode: Mapped[str] = mapped_column(String(20))
    duration_min: Mapped[int] = mapped_column(Integer)
    min_size: Mapped[int] = mapped_column(Integer)
    max_size: Mapped[int] = mapped_column(Integer)
    skill: Mapped[str] = mapped_column(String(ID))
    staff_count: Mapped[int] = mapped_column(Integer)
    room_kind: Mapped[str] = mapped_column(String(20))
    cohort: Mapped[str] = mapped_column(String(20))
    tag: Mapped[str | None] = mapped_column(String(ID))
    with_primary: Mapped[bool] = mapped_column(Boolean)
    in_block: Mapped[bool] = mapped_column(Boolean)


class StaffRow(Base):
    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(NAME))
    role: Mapped[str] = mapped_column(String(NAME))
    skills: Mapped[str] = mapped_column(Text)  # sorted, ';'-joined
    availability: Mapped[str] = mapped_column(Text)
    max_hours_day: Mapped[float | None] = mapped_column(Double)
    max_hours_week: Mapped[float | None] = mapped_column(Double)


class RoomRow(Base):
    __tablename__ = "rooms"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(NAME))
    kind: Mapped[str] = mapped_column(String(20))
    capacity: Mapped[int] = mapped_column(Integer)
    availability: Mapped[str] = mapped_column(Text)


class PatientRow(Base):
    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(NAME))
    cohort: Mapped[str] = mapped_column(String(20))
    tags: Mapped[str] = mapped_column(Text)  # sorted, ';'-joined
    min_days: Mapped[int | None] = mapped_column(Integer)
    max_days: Mapped[int | None] = mapped_column(Integer)
    min_hours: Mapped[float | None] = mapped_column(Double)
    max_hours: Mapped[float | None] = mapped_column(Double)
    min_week_hours: Mapped[float | None] = mapped_column(Double)
    max_week_hours: Mapped[float | None] = mapped_column(Double)
    availability: Mapped[str] = mapped_column(Text)
    family_availability: Mapped[str] = mapped_column(Text)
    primary_therapist: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    preferred_days: Mapped[str] = mapped_column(String(40))  # "Mon,Wed,Fri", in the given order
    status: Mapped[str] = mapped_column(String(NAME))


class RequirementRow(Base):
    __tablename__ = "requirements"
    __table_args__ = (CheckConstraint("min_count >= 0 AND min_count <= max_count", name="count_range"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"))
    position: Mapped[int] = mapped_column(Integer)
    min_count: Mapped[int] = mapped_column(Integer)
    max_count: Mapped[int] = mapped_column(Integer)


class SettingRow(Base):
    """One app setting (window layout, last folder, solver time limit...), as text."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    value: Mapped[str] = mapped_column(Text)

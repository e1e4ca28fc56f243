"""Initial schema: the scenario (program, activities, staff, rooms, patients, requirements), timetables, settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("duration_min", sa.Integer(), nullable=False),
        sa.Column("min_size", sa.Integer(), nullable=False),
        sa.Column("max_size", sa.Integer(), nullable=False),
        sa.Column("skill", sa.String(length=100), nullable=False),
        sa.Column("staff_count", sa.Integer(), nullable=False),
        sa.Column("room_kind", sa.String(length=20), nullable=False),
        sa.Column("cohort", sa.String(length=20), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=True),
        sa.Column("with_primary", sa.Boolean(), nullable=False),
        sa.Column("in_block", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    op.create_table(
        "rooms",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("availability", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("skills", sa.Text(), nullable=False),
        sa.Column("availability", sa.Text(), nullable=False),
        sa.Column("max_hours_day", sa.Double(), nullable=True),
        sa.Column("max_hours_week", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
    )
    op.create_table(
        "timetables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.Column("objective", sa.Double(), nullable=True),
        sa.Column("bound", sa.Double(), nullable=True),
        sa.Column("gap", sa.Double(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timetables")),
        sa.UniqueConstraint("name", name=op.f("uq_timetables_name")),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("cohort", sa.String(length=20), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("min_days", sa.Integer(), nullable=True),
        sa.Column("max_days", sa.Integer(), nullable=True),
        sa.Column("min_hours", sa.Double(), nullable=True),
        sa.Column("max_hours", sa.Double(), nullable=True),
        sa.Column("min_week_hours", sa.Double(), nullable=True),
        sa.Column("max_week_hours", sa.Double(), nullable=True),
        sa.Column("availability", sa.Text(), nullable=False),
        sa.Column("family_availability", sa.Text(), nullable=False),
        sa.Column("primary_therapist", sa.String(length=100), nullable=True),
        sa.Column("preferred_days", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["primary_therapist"], ["staff.id"], name=op.f("fk_patients_primary_therapist_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
    )
    op.create_table(
        "program",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=True),
        sa.Column("days", sa.String(length=40), nullable=False),
        sa.Column("open_min", sa.Integer(), nullable=False),
        sa.Column("close_min", sa.Integer(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("max_gap_minutes", sa.Integer(), nullable=False),
        sa.Column("min_days", sa.Integer(), nullable=False),
        sa.Column("max_days", sa.Integer(), nullable=False),
        sa.Column("min_hours", sa.Double(), nullable=False),
        sa.Column("max_hours", sa.Double(), nullable=False),
        sa.Column("hours_basis", sa.String(length=20), nullable=False),
        sa.Column("min_week_hours", sa.Double(), nullable=False),
        sa.Column("max_week_hours", sa.Double(), nullable=False),
        sa.Column("weight_preferences", sa.Double(), nullable=False),
        sa.Column("weight_continuity", sa.Double(), nullable=False),
        sa.Column("weight_stability", sa.Double(), nullable=False),
        sa.Column("weight_balance", sa.Double(), nullable=False),
        sa.Column("weight_efficiency", sa.Double(), nullable=False),
        sa.Column("weight_spread", sa.Double(), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["previous_id"], ["timetables.id"], name=op.f("fk_program_previous_id_timetables")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program")),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("timetable_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=100), nullable=False),
        sa.Column("day", sa.String(length=3), nullable=False),
        sa.Column("start_min", sa.Integer(), nullable=False),
        sa.Column("end_min", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.String(length=100), nullable=False),
        sa.Column("staff_ids", sa.Text(), nullable=False),
        sa.Column("room_id", sa.String(length=100), nullable=True),
        sa.Column("patient_ids", sa.Text(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["timetable_id"],
            ["timetables.id"],
            name=op.f("fk_sessions_timetable_id_timetables"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_table(
        "requirements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(length=100), nullable=False),
        sa.Column("activity_id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("min_count", sa.Integer(), nullable=False),
        sa.Column("max_count", sa.Integer(), nullable=False),
        sa.CheckConstraint("min_count >= 0 AND min_count <= max_count", name=op.f("ck_requirements_count_range")),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_requirements_activity_id_activities")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_requirements_patient_id_patients"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requirements")),
    )


def downgrade() -> None:
    children_first = ("requirements", "sessions", "program", "patients", "timetables", "staff", "settings", "rooms")
    for table in (*children_first, "activities"):
        op.drop_table(table)

"""Index the foreign keys that are looked up and cascaded on: sessions by timetable, requirements by patient.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_sessions_timetable_id"), "sessions", ["timetable_id"], unique=False)
    op.create_index(op.f("ix_requirements_patient_id"), "requirements", ["patient_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_requirements_patient_id"), table_name="requirements")
    op.drop_index(op.f("ix_sessions_timetable_id"), table_name="sessions")

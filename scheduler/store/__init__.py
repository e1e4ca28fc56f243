"""Persistence: the clinic database (SQLite by default, any SQLAlchemy URL), migrated by Alembic on open."""

from scheduler.store.engine import default_url
from scheduler.store.errors import (
    DatabaseCorrupt,
    DatabaseInUse,
    DatabaseMissing,
    DatabaseTooNew,
    NotFound,
    StoreError,
)
from scheduler.store.repository import Store, TimetableInfo

__all__ = [
    "DatabaseCorrupt",
    "DatabaseInUse",
    "DatabaseMissing",
    "DatabaseTooNew",
    "NotFound",
    "Store",
    "StoreError",
    "TimetableInfo",
    "default_url",
]

"""Shared fixtures. db_url: a fresh store database, a SQLite file or a new schema on a PostgreSQL server."""

from __future__ import annotations

import os
import uuid

# The GUI tests draw offscreen on every machine (a headless one has no screen to open; the
# README's test command crashed there without the variable). Set it to another platform to watch.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

PG_URL = os.environ.get("IOP_TEST_PG_URL", "").strip()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh database: a SQLite file in tmp_path, or a new schema on the IOP_TEST_PG_URL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'clinic.db'}"
        return
    if not PG_URL:
        pytest.skip("set IOP_TEST_PG_URL to run the store tests on PostgreSQL")
    schema = f"iop_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

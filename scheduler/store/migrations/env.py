"""Alembic environment: run from code (``scheduler.store.migrate``) with a connection, or with a URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from scheduler.store.engine import PG_LOCK_KEY
from scheduler.store.rows import Base


def _sqlite_pragma(connection, statement: str) -> None:
    """Run a PRAGMA outside any transaction (inside one, ``foreign_keys`` is silently ignored)."""
    connection.connection.driver_connection.execute(statement)


def run(connection) -> None:
    """All pending revisions in one transaction: on SQLite and PostgreSQL DDL is transactional.

    On SQLite foreign keys are off meanwhile, as SQLite's own ALTER TABLE procedure asks: a batch
    table rebuild drops the old table, which would otherwise cascade-delete its children.
    ``foreign_key_check`` then proves the revisions left every reference intact, or all is rolled back.
    """
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_pragma(connection, "PRAGMA foreign_keys = OFF")
    try:
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
            context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
            context.run_migrations()
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                raise RuntimeError("a migration left rows pointing at missing rows; nothing was changed")
    finally:
        if sqlite:
            _sqlite_pragma(connection, "PRAGMA foreign_keys = ON")


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    from sqlalchemy import make_url

    from scheduler.store.engine import WRITE, make_engine

    engine = make_engine(make_url(context.config.get_main_option("sqlalchemy.url")), busy_timeout=10.0)
    try:
        with engine.connect().execution_options(**{WRITE: True}) as conn:
            run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
main()

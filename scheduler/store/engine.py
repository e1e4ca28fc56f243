"""Where the database lives and how connections to it are set up (SQLite pragmas, write transactions)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from platformdirs import user_data_dir
from sqlalchemy import URL, Engine, StaticPool, create_engine, event

APP_NAME, APP_AUTHOR = "IOP Scheduler", "IOP"
DB_FILE = "clinic.db"
ENV_URL = "IOP_DB_URL"
WRITE = "iop_write"  # execution option: this transaction will write (SQLite: BEGIN IMMEDIATE)
PG_LOCK_KEY = 4_242_001  # PostgreSQL advisory lock taken by every write and migration: writers queue


def default_url() -> str:
    """``$IOP_DB_URL``, else ``clinic.db`` in the user data folder (created, private to the user)."""
    env = os.environ.get(ENV_URL, "").strip()
    if env:
        return env
    folder = Path(user_data_dir(APP_NAME, APP_AUTHOR))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return URL.create("sqlite", database=str(folder / DB_FILE)).render_as_string()


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL; None for other databases and in-memory SQLite."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or url.query.get("mode") == "memory":
        return None
    return Path(database).expanduser().absolute()


class _HideRows(logging.Filter):
    """Redact the result rows SQLAlchemy logs at DEBUG ("Row ('P001', 0, 'Jane Doe', ...)")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Row "):
            record.msg, record.args = "Row [values hidden]", ()
        return True


# Filters act only on the logger a record is made on: every engine and connection logs through these.
SQL_LOGGERS = ("sqlalchemy.engine.Engine", "sqlalchemy.engine.Connection")


def hide_logged_rows() -> None:
    """Make sure no fetched row's values reach the logs, whatever level SQL logging is set to."""
    for name in SQL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _HideRows) for f in logger.filters):
            logger.addFilter(_HideRows())


def make_engine(url: URL, busy_timeout: float) -> Engine:
    """An engine with hidden parameters and rows (no patient data in logs or errors) and, on SQLite, safe pragmas."""
    hide_logged_rows()
    if url.get_backend_name() != "sqlite":
        return create_engine(url, hide_parameters=True, pool_pre_ping=True)
    # One shared connection for in-memory SQLite: otherwise each thread would see its own empty database.
    memory = {"poolclass": StaticPool} if sqlite_path(url) is None else {}
    engine = create_engine(url, hide_parameters=True, connect_args={"timeout": busy_timeout}, **memory)
    _sqlite_pragmas(engine, busy_timeout)
    return engine


def _sqlite_pragmas(engine: Engine, busy_timeout: float) -> None:
    """WAL, FULL sync, foreign keys and busy timeout on every connection; we emit BEGIN ourselves."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # sqlite3 must not BEGIN/COMMIT behind our back
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # FULL: in WAL mode NORMAL may lose the last commits on power loss; a coordinator's save must stick.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection) -> None:
        # IMMEDIATE takes the write lock up front (waiting up to busy_timeout), so a writer never
        # fails half-way when upgrading a read lock; readers get a consistent snapshot.
        write = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

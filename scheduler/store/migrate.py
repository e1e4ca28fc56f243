"""Alembic, run from code: the schema revision of a database, and upgrading it to head on open."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from scheduler.store.engine import WRITE
from scheduler.store.errors import DatabaseCorrupt, DatabaseTooNew
from scheduler.store.rows import Base

log = logging.getLogger(__name__)

SCRIPTS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic Config without alembic.ini; env.py uses ``connection`` if given, else ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.set_main_option("path_separator", "os")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    return scripts().get_current_head()


def known_revisions() -> set[str]:
    return {script.revision for script in scripts().walk_revisions()}


def current(connection: Connection) -> str | None:
    """The revision stamped in the database (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, where: str) -> None:
    """Bring the database to head in one transaction; refuse revisions this version does not know."""
    target = head()
    with engine.connect() as conn:
        revision = current(conn)
        ours = set(Base.metadata.tables) & set(inspect(conn).get_table_names())
        conn.rollback()
    if revision is not None and revision not in known_revisions():
        raise DatabaseTooNew(where, revision, target)
    if revision is None and ours:
        raise DatabaseCorrupt(where)  # our tables but no revision: not made by this app
    if revision == target:
        return
    log.info("migrating the database from %s to %s", revision or "empty", target)
    with engine.connect().execution_options(**{WRITE: True}) as conn:
        command.upgrade(alembic_config(conn), "head")

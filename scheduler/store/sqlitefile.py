"""File-level safety for SQLite: a read-only look before anything is written, and backups before migrations."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from scheduler.store.errors import DatabaseCorrupt, DatabaseInUse, DatabaseTooNew, StoreError

log = logging.getLogger(__name__)


def side_files(path: Path) -> tuple[Path, Path]:
    """The write-ahead log and shared-memory index SQLite keeps beside the database in WAL mode."""
    return Path(f"{path}-wal"), Path(f"{path}-shm")


def create_private(path: Path) -> None:
    """Create an empty database file readable by its owner only; SQLite gives -wal/-shm the same mode."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    if os.name == "posix":
        os.chmod(path, 0o600)


def exists(path: Path) -> bool:
    """True when the file holds a database already (not a new, empty file)."""
    wal, _ = side_files(path)
    return path.exists() and (path.stat().st_size > 0 or wal.exists())


def probe(path: Path, known: Iterable[str], head: str) -> str | None:
    """Check an existing file without changing it; return its schema revision (None: no tables yet).

    Without a -wal file nobody has the database open, so ``immutable=1`` reads the main file alone and
    SQLite creates nothing beside it. With a -wal (open elsewhere, or left by a crash) the main file is
    only complete together with the log, so it is read with ``mode=ro``, which still never writes to it.
    """
    wal, _ = side_files(path)
    mode = "mode=ro" if wal.exists() else "immutable=1"
    try:
        con = sqlite3.connect(f"file:{quote(str(path))}?{mode}", uri=True, timeout=5.0)
        try:
            check = con.execute("PRAGMA quick_check").fetchall()
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            revisions = (
                [row[0] for row in con.execute("SELECT version_num FROM alembic_version")]
                if "alembic_version" in tables
                else []
            )
        finally:
            con.close()
    except sqlite3.OperationalError as exc:
        raise _operational(path, exc) from exc
    except sqlite3.DatabaseError as exc:
        raise DatabaseCorrupt(str(path)) from exc
    if check != [("ok",)]:
        log.warning("integrity check failed on %s (%d problems)", path, len(check))
        raise DatabaseCorrupt(str(path))
    if "alembic_version" not in tables:
        if tables - {"sqlite_sequence"}:
            raise DatabaseCorrupt(str(path))  # someone else's SQLite database
        return None
    known = set(known)
    for revision in revisions:
        if revision not in known:
            raise DatabaseTooNew(str(path), revision, head)
    return revisions[0] if revisions else None


def _operational(path: Path, exc: sqlite3.OperationalError) -> StoreError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return DatabaseInUse(str(path))
    if "unable to open" in text:
        return StoreError(f"{path} cannot be opened: check that the file and its folder may be read and written.")
    return DatabaseCorrupt(str(path))


def backup(path: Path, revision: str) -> Path:
    """Copy the database with SQLite's online backup (it includes the -wal); the copy is private to the user."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = Path(f"{path}.bak-{revision}-{stamp}")
    n = 1
    while True:
        try:
            fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            break
        except FileExistsError:
            n += 1
            target = Path(f"{path}.bak-{revision}-{stamp}-{n}")
    os.close(fd)
    source = sqlite3.connect(path, timeout=30.0)
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy)
    finally:
        copy.close()
        source.close()
    log.info("backed up %s (schema %s) to %s before migrating", path.name, revision, target.name)
    return target

"""The Store: the one stored scenario, named timetables and settings; every write is one transaction."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, delete, exc, make_url, select, text
from sqlalchemy.orm import Session

from scheduler.model import Scenario, Timetable
from scheduler.store import migrate, sqlitefile
from scheduler.store.convert import (
    activity_of,
    activity_row,
    finite_or_none,
    patient_of,
    patient_row,
    program_of,
    program_row,
    requirement_rows,
    room_of,
    room_row,
    session_of,
    session_row,
    staff_of,
    staff_row,
)
from scheduler.store.engine import PG_LOCK_KEY, WRITE, default_url, make_engine, sqlite_path
from scheduler.store.errors import DatabaseCorrupt, DatabaseInUse, DatabaseMissing, NotFound, StoreError
from scheduler.store.rows import (
    ActivityRow,
    PatientRow,
    ProgramRow,
    RequirementRow,
    RoomRow,
    SessionRow,
    SettingRow,
    StaffRow,
    TimetableRow,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimetableInfo:
    """One saved timetable as listed: name, when it was saved (UTC) and the headline of its summary."""

    name: str
    created_at: datetime
    status: str | None
    objective: float | None
    gap: float | None


class Store:
    """The clinic database. Open with ``Store.open``; each method runs its own short transaction."""

    def __init__(self, engine: Engine, where: str, path: Path | None) -> None:
        self._engine: Engine | None = engine
        self._where = where
        self._path = path
        # Reads see one snapshot (SQLite: one BEGIN; PostgreSQL: REPEATABLE READ); writes lock up front.
        postgres = engine.dialect.name == "postgresql"
        self._reader = engine.execution_options(isolation_level="REPEATABLE READ") if postgres else engine
        self._writer = engine.execution_options(**{WRITE: True})

    @classmethod
    def open(cls, url: str | None = None, *, busy_timeout: float = 10.0, create: bool = True) -> Store:
        """Open the database at ``url`` (default: ``default_url()``), creating or migrating it to head.

        ``create=False`` is for commands that only read: a SQLite file that does not exist (or is
        empty) raises ``DatabaseMissing`` and is not created.
        """
        try:
            parsed = make_url(url or default_url())
        except exc.ArgumentError as error:
            raise StoreError(f"'{url}' is not a database address (expected e.g. sqlite:///clinic.db).") from error
        path = sqlite_path(parsed)
        where = str(path) if path else parsed.render_as_string(hide_password=True)
        if path is not None:
            if not create and not sqlitefile.exists(path):
                raise DatabaseMissing(str(path), path.exists())
            _prepare_file(path)
        try:
            engine = make_engine(parsed, busy_timeout)
        except ModuleNotFoundError as error:
            raise StoreError(f"The database driver for {parsed.drivername} is not installed ({error.name}).") from error
        try:
            with _guard(where, "open the database"):
                migrate.upgrade(engine, where)
        except BaseException:
            engine.dispose()
            raise
        log.info("opened the clinic database (%s)", parsed.get_backend_name())
        return cls(engine, where, path)

    @property
    def path(self) -> Path | None:
        """The SQLite file; None for a server database or in-memory SQLite."""
        return self._path

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for diagnostics and tests."""
        self._check_open()
        return self._engine

    def _check_open(self) -> None:
        if self._engine is None:
            raise StoreError("The clinic database is closed.")

    def close(self) -> None:
        """Close every connection; on SQLite the last close checkpoints the WAL into the file."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    # -- scenario --------------------------------------------------------------------------------

    def save_scenario(self, scenario: Scenario) -> None:
        """Replace the stored scenario, previous timetable included, in one transaction."""
        with self._write("save the scenario") as s:
            _clear_scenario(s)
            previous_id = None if scenario.previous is None else _add_timetable(s, None, scenario.previous, {})
            for rows in (
                (activity_row(a, n) for n, a in enumerate(scenario.activities)),
                (staff_row(m, n) for n, m in enumerate(scenario.staff)),
                (room_row(r, n) for n, r in enumerate(scenario.rooms)),
                (patient_row(p, n) for n, p in enumerate(scenario.patients)),
                (q for p in scenario.patients for q in requirement_rows(p)),
                (program_row(scenario.program, previous_id),),
            ):
                s.add_all(rows)
                s.flush()  # table by table, so foreign keys always point at rows already written
        log.info(
            "saved the scenario: %d activities, %d staff, %d rooms, %d patients, %d previous sessions",
            len(scenario.activities),
            len(scenario.staff),
            len(scenario.rooms),
            len(scenario.patients),
            len(scenario.previous.sessions) if scenario.previous else 0,
        )

    def load_scenario(self) -> Scenario | None:
        """The stored scenario, equal to the one saved; None when nothing was saved yet."""
        with self._read("load the scenario") as s:
            program = s.get(ProgramRow, 1)
            if program is None:
                return None
            requirements: dict[str, list[RequirementRow]] = defaultdict(list)
            for q in s.scalars(select(RequirementRow).order_by(RequirementRow.patient_id, RequirementRow.position)):
                requirements[q.patient_id].append(q)
            scenario = Scenario(
                program=program_of(program),
                activities=tuple(activity_of(r) for r in _ordered(s, ActivityRow)),
                staff=tuple(staff_of(r) for r in _ordered(s, StaffRow)),
                rooms=tuple(room_of(r) for r in _ordered(s, RoomRow)),
                patients=tuple(patient_of(r, requirements[r.id]) for r in _ordered(s, PatientRow)),
                previous=None if program.previous_id is None else _timetable(s, program.previous_id),
            )
        log.info("loaded the scenario: %d patients", len(scenario.patients))
        return scenario

    # -- saved timetables ------------------------------------------------------------------------

    def save_timetable(self, name: str, timetable: Timetable, summary: dict) -> None:
        """Save a timetable under ``name`` (replacing one of that name) with its result summary."""
        if not name or not name.strip():
            raise StoreError("A saved timetable needs a name.")
        with self._write("save the timetable") as s:
            _delete_named(s, name)
            row_id = _add_timetable(s, name, timetable, summary or {})
        log.info("saved timetable #%d (%d sessions)", row_id, len(timetable.sessions))

    def list_timetables(self) -> list[TimetableInfo]:
        """Saved timetables, newest first."""
        with self._read("list the saved timetables") as s:
            rows = s.scalars(
                select(TimetableRow)
                .where(TimetableRow.name.is_not(None))
                .order_by(TimetableRow.created_at.desc(), TimetableRow.id.desc())
            )
            return [
                TimetableInfo(r.name, r.created_at.replace(tzinfo=UTC), r.status, r.objective, r.gap) for r in rows
            ]

    def load_timetable(self, name: str) -> tuple[Timetable, dict]:
        """The timetable saved under ``name`` and its summary; NotFound if there is none."""
        with self._read("load the timetable") as s:
            row = s.scalar(select(TimetableRow).where(TimetableRow.name == name))
            if row is None:
                raise NotFound(f"There is no saved timetable called '{name}'.")
            return _timetable(s, row.id), json.loads(row.summary)

    def delete_timetable(self, name: str) -> None:
        """Delete the timetable saved under ``name``; nothing happens if there is none."""
        with self._write("delete the timetable") as s:
            _delete_named(s, name)

    # -- settings --------------------------------------------------------------------------------

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        with self._read("read a setting") as s:
            row = s.get(SettingRow, key)
            return default if row is None else row.value

    def set_setting(self, key: str, value: str | None) -> None:
        """Store ``value`` under ``key``; None removes the setting."""
        with self._write("save a setting") as s:
            row = s.get(SettingRow, key)
            if value is None:
                if row is not None:
                    s.delete(row)
            elif row is None:
                s.add(SettingRow(key=key, value=str(value)))
            else:
                row.value = str(value)

    # -- transactions ----------------------------------------------------------------------------

    @contextmanager
    def _read(self, action: str) -> Iterator[Session]:
        """A read transaction: one consistent snapshot of the database."""
        self._check_open()
        with _guard(self._where, action), Session(self._reader) as s, s.begin():
            yield s

    @contextmanager
    def _write(self, action: str) -> Iterator[Session]:
        """A write transaction holding the database's write lock from its first statement."""
        self._check_open()
        with _guard(self._where, action), Session(self._writer) as s, s.begin():
            if self._writer.dialect.name == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
            yield s


def _prepare_file(path: Path) -> None:
    """Before any connection writes: check an existing file read-only and back it up if it needs a
    migration, or create a new, private file."""
    if not path.parent.is_dir():
        raise StoreError(f"The folder {path.parent} does not exist; create it or choose another place.")
    if not sqlitefile.exists(path):
        sqlitefile.create_private(path)
        return
    revision = sqlitefile.probe(path, migrate.known_revisions(), migrate.head())
    if revision is not None and revision != migrate.head():
        sqlitefile.backup(path, revision)


def _ordered(s: Session, row: type) -> list:
    return list(s.scalars(select(row).order_by(row.position, row.id)))


def _timetable(s: Session, timetable_id: int) -> Timetable:
    rows = s.scalars(
        select(SessionRow).where(SessionRow.timetable_id == timetable_id).order_by(SessionRow.position, SessionRow.id)
    )
    return Timetable(tuple(session_of(r) for r in rows))


def _add_timetable(s: Session, name: str | None, timetable: Timetable, summary: dict) -> int:
    row = TimetableRow(
        name=name,
        created_at=datetime.now(UTC).replace(tzinfo=None),
        status=None if summary.get("status") is None else str(summary["status"]),
        objective=finite_or_none(summary.get("objective")),
        bound=finite_or_none(summary.get("bound")),
        gap=finite_or_none(summary.get("gap")),
        summary=json.dumps(summary, default=str),
    )
    s.add(row)
    s.flush()
    s.add_all(session_row(x, row.id, n) for n, x in enumerate(timetable.sessions))
    s.flush()
    return row.id


def _delete(s: Session, statement) -> None:
    s.execute(statement, execution_options={"synchronize_session": False})


def _delete_timetables(s: Session, condition) -> None:
    ids = select(TimetableRow.id).where(condition)
    _delete(s, delete(SessionRow).where(SessionRow.timetable_id.in_(ids)))
    _delete(s, delete(TimetableRow).where(condition))


def _delete_named(s: Session, name: str) -> None:
    _delete_timetables(s, TimetableRow.name == name)


def _clear_scenario(s: Session) -> None:
    """Delete the stored scenario, children before parents; saved timetables stay."""
    for row in (ProgramRow, RequirementRow, PatientRow, RoomRow, StaffRow, ActivityRow):
        _delete(s, delete(row))
    _delete_timetables(s, TimetableRow.name.is_(None))


@contextmanager
def _guard(where: str, action: str) -> Iterator[None]:
    """Turn driver errors into StoreErrors a coordinator can read, never carrying a row's values."""
    try:
        yield
    except (exc.IntegrityError, exc.DataError) as error:
        # The driver's detail may quote the whole failing row (PostgreSQL: "Failing row contains
        # (P07, Jane Doe, ...)"), so only its first line is kept and the original is not chained.
        raise StoreError(
            f"Could not {action}: an id is repeated or missing, names an activity or staff member that is "
            f"not in the scenario, or a value is out of range ({_first_line(error)}). Nothing was changed."
        ) from None
    except ValueError as error:  # a value that cannot be stored or read back, e.g. a day index of 9
        raise StoreError(f"Could not {action}: {error}. Nothing was changed.") from error
    except OverflowError as error:  # the driver's check, e.g. "Python int too large to convert to SQLite INTEGER"
        raise StoreError(f"Could not {action}: a number is too large to store ({error}). Nothing was changed.") from None
    except exc.DBAPIError as error:
        detail = str(error.orig).lower()
        if "locked" in detail or "busy" in detail:
            raise DatabaseInUse(where) from error
        if "malformed" in detail or "not a database" in detail:
            raise DatabaseCorrupt(where) from error
        if "readonly" in detail or "read-only" in detail:
            raise StoreError(f"Could not {action}: {where} is read-only (the file or its folder cannot be "
                             "written). Nothing was changed.") from error
        if "disk is full" in detail or "disk full" in detail:
            raise StoreError(f"Could not {action}: the disk holding {where} is full. Nothing was changed.") from error
        raise StoreError(
            f"Could not {action}: the database at {where} reported {type(error.orig).__name__}. Nothing was changed."
        ) from error


def _first_line(error: exc.DBAPIError) -> str:
    """The driver's headline (constraint and table names), without the DETAIL lines that quote values."""
    lines = str(error.orig).strip().splitlines()
    return lines[0] if lines else type(error.orig).__name__

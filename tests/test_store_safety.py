"""The store's data-safety guarantees, one test (or more) per guarantee; numbers refer to docs/privacy.md."""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, event, inspect, make_url, text

from scheduler.model import (
    Activity,
    Mode,
    Patient,
    Program,
    Requirement,
    Room,
    RoomKind,
    Scenario,
    Session,
    Staff,
    Timetable,
)
from scheduler.store import DatabaseCorrupt, DatabaseInUse, DatabaseTooNew, Store, StoreError
from scheduler.store.engine import make_engine
from scheduler.store.migrate import alembic_config, current, head
from scheduler.store.rows import Base
from scheduler.timegrid import parse_availability

TESTS = Path(__file__).parent
TABLES = {"alembic_version", "program", "activities", "staff", "rooms", "patients", "requirements", "timetables",
          "sessions", "settings"}




@pytest.fixture
def db_file(tmp_path) -> Path:
    return tmp_path / "clinic.db"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def big_scenario(version: int, n_patients: int = 300) -> Scenario:
    """A deterministic clinic whose every version differs (name, limits, names, sessions)."""
    activities = tuple(
        Activity(f"A{i}", f"Activity {i}", Mode.GROUP if i < 6 else Mode.INDIVIDUAL, 60,
                 max_size=10 if i < 6 else 1, skill=f"s{i}", room_kind=RoomKind.GROUP if i < 6 else RoomKind.OFFICE,
                 tag="SUD" if i == 5 else None)
        for i in range(9)
    )
    staff = tuple(
        Staff(f"T{i:02d}", f"Clinician {i}", "LCSW", frozenset({f"s{i % 9}", "therapy"}),
              parse_availability("Mon-Fri 08:00-17:00"), max_hours_week=30.0 + version % 7)
        for i in range(30)
    )
    rooms = tuple(Room(f"R{i}", f"Room {i}", RoomKind.GROUP if i < 5 else RoomKind.OFFICE, 10) for i in range(10))
    patients = tuple(
        Patient(f"P{i:04d}", f"Zq{version}x{i} Vantorsky", tags=frozenset({"SUD"} if i % 3 == 0 else ()),
                availability=parse_availability("Mon-Fri 09:00-15:00"), primary_therapist=f"T{i % 30:02d}",
                requirements=(Requirement("A0", 2, 3), Requirement("A6", 1, 1)), preferred_days=(0, 2, 4),
                max_hours=4.0 + (version + i) % 3, status="continuing")
        for i in range(n_patients)
    )
    sessions = tuple(
        Session(k % 5, 9 * 60 + (k + version) % 6 * 60, 10 * 60 + (k + version) % 6 * 60, f"A{k % 6}",
                (f"T{k % 30:02d}",), f"R{k % 5}", tuple(f"P{(k * 7 + j) % n_patients:04d}" for j in range(6)),
                pinned=k == 0, session_id=f"S{k:04d}")
        for k in range(n_patients + 100)
    )
    program = Program(name=f"Load test v{version}", max_gap_minutes=15 * (1 + version % 4))
    return Scenario(program, activities, staff, rooms, patients, Timetable(sessions))


def version_of(scenario: Scenario) -> int:
    return int(scenario.program.name.rsplit("v", 1)[1])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def neighbours(path: Path) -> set[str]:
    return {p.name for p in path.parent.iterdir()}


# 1. Every write is one transaction; SQLite connections are set up safely ------------------------------


def test_sqlite_pragmas_on_every_connection(db_file):
    with Store.open(sqlite_url(db_file)) as store:
        with store.engine.connect() as first, store.engine.connect() as second:
            for conn in (first, second):
                pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
                assert pragma("journal_mode") == "wal"
                assert pragma("foreign_keys") == 1
                assert pragma("synchronous") == 2  # FULL
                assert pragma("busy_timeout") == 10_000


def test_every_write_is_one_transaction(db_url):
    with Store.open(db_url) as store:
        seen: list[str] = []
        event.listen(store.engine, "begin", lambda conn: seen.append("begin"))
        event.listen(store.engine, "commit", lambda conn: seen.append("commit"))
        writes = (
            lambda: store.save_scenario(big_scenario(1, 20)),
            lambda: store.save_timetable("W1", Timetable(), {"status": "optimal"}),
            lambda: store.delete_timetable("W1"),
            lambda: store.set_setting("k", "v"),
        )
        for write in writes:
            seen.clear()
            write()
            assert seen == ["begin", "commit"]


# 2. A backup is written before a migration changes an existing file ------------------------------------


def downgrade_to(url: str, revision: str) -> None:
    engine = make_engine(make_url(url), 5.0)
    with engine.connect() as conn:
        command.downgrade(alembic_config(conn), revision)
    engine.dispose()


def test_backup_before_migrating_an_older_file(db_file):
    scenario = big_scenario(1, 20)
    with Store.open(sqlite_url(db_file)) as store:
        store.save_scenario(scenario)
    downgrade_to(sqlite_url(db_file), "0001")  # a real file of the first released schema
    with Store.open(sqlite_url(db_file)) as store:
        assert store.load_scenario() == scenario
        with store.engine.connect() as conn:
            assert current(conn) == head()
    [backup] = db_file.parent.glob("clinic.db.bak-0001-*")
    con = sqlite3.connect(backup)
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
    assert con.execute("SELECT name FROM program").fetchall() == [("Load test v1",)]
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    con.close()
    if os.name == "posix":
        assert backup.stat().st_mode & 0o777 == 0o600


def test_no_backup_for_new_or_current_files(db_file):
    for _ in range(2):
        with Store.open(sqlite_url(db_file)) as store:
            store.save_scenario(big_scenario(1, 5))
    assert not list(db_file.parent.glob("*.bak-*"))


# 3. A crash in the middle of a save keeps the last saved state ------------------------------------------

CHILD = """
import sys
sys.path.insert(0, {tests!r})
from test_store_safety import big_scenario
from scheduler.store import Store

store = Store.open({url!r})
version = {start}
while True:
    version += 1
    scenario = big_scenario(version)
    print("begin", version, flush=True)
    store.save_scenario(scenario)
    print("saved", version, flush=True)
"""


def run_and_kill(url: str, start: int, fraction: float) -> tuple[int | None, int]:
    """Save versions start+1, start+2, ... in a child process; SIGKILL it part-way through a save."""
    code = textwrap.dedent(CHILD).format(tests=str(TESTS), url=url, start=start)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    begun: dict[int, float] = {}
    took: list[float] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                pytest.fail("the saving child process stopped on its own")
            word, number = line.split()
            if word == "saved":
                took.append(time.monotonic() - begun[int(number)])
            else:
                begun[int(number)] = time.monotonic()
                if len(took) >= 2:
                    time.sleep(fraction * min(took))
                    break
        else:
            pytest.fail("the saving child process made no progress")
    finally:
        child.send_signal(signal.SIGKILL)
        rest = child.communicate()[0].split()
    lines = [tuple(pair) for pair in zip(rest[::2], rest[1::2])]
    saved = [int(n) for word, n in lines if word == "saved"] + [max(begun) - 1]
    return max(saved), max([int(n) for word, n in lines if word == "begin"] + list(begun))


def test_kill_during_save_keeps_last_saved_state(db_file):
    url = sqlite_url(db_file)
    interrupted = 0
    for attempt, fraction in enumerate((0.2, 0.5, 0.8)):
        last_saved, in_flight = run_and_kill(url, start=1000 * attempt, fraction=fraction)
        assert Path(f"{db_file}-wal").exists()  # the crash left a write-ahead log to recover from
        with Store.open(url) as store:
            loaded = store.load_scenario()
        assert version_of(loaded) in (last_saved, in_flight)
        assert loaded == big_scenario(version_of(loaded))
        interrupted += version_of(loaded) < in_flight
        con = sqlite3.connect(db_file)
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        con.close()
    assert interrupted, "no kill landed inside a save; the test proved nothing"


# 4. A damaged, foreign or newer file is refused and left as it was ---------------------------------------


def make_damaged(kind: str, path: Path) -> None:
    if kind == "random bytes":
        path.write_bytes(os.urandom(64 * 1024))
    elif kind == "text file":
        path.write_text("patient_id,name\nP01,not a database\n" * 200)
    elif kind == "other app's database":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE notes (body TEXT)")
        con.commit()
        con.close()
    elif kind == "truncated database":
        with Store.open(sqlite_url(path)) as store:
            store.save_scenario(big_scenario(1))
        with path.open("r+b") as f:
            f.truncate(path.stat().st_size // 2)


@pytest.mark.parametrize("kind", ["random bytes", "text file", "other app's database", "truncated database"])
def test_damaged_file_is_refused_and_unchanged(kind, db_file):
    make_damaged(kind, db_file)
    before, files = sha256(db_file), neighbours(db_file)
    with pytest.raises(DatabaseCorrupt, match="is not a clinic database or is damaged; it was not changed"):
        Store.open(sqlite_url(db_file))
    assert sha256(db_file) == before
    assert neighbours(db_file) == files  # no -wal, -shm or journal appeared


def test_newer_sqlite_file_is_refused_and_unchanged(db_file):
    with Store.open(sqlite_url(db_file)) as store:
        store.save_scenario(big_scenario(1, 10))
    con = sqlite3.connect(db_file)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    before, files = sha256(db_file), neighbours(db_file)
    with pytest.raises(DatabaseTooNew, match="newer version of IOP Scheduler .*9999.*it was not changed"):
        Store.open(sqlite_url(db_file))
    assert sha256(db_file) == before
    assert neighbours(db_file) == files


def test_newer_database_is_refused_and_unchanged(db_url):
    with Store.open(db_url) as store:
        store.save_scenario(big_scenario(1, 10))
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseTooNew):
        Store.open(db_url)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"
        assert conn.execute(text("SELECT count(*) FROM patients")).scalar() == 10
    engine.dispose()


# 5. Two stores on one database --------------------------------------------------------------------------


def test_two_stores_read_and_write_without_harm(db_url):
    with Store.open(db_url) as a, Store.open(db_url) as b:
        a.save_scenario(big_scenario(1, 40))
        assert b.load_scenario() == big_scenario(1, 40)
        failures: list[BaseException] = []
        versions_read: list[int] = []
        stop = threading.Event()

        def write(store: Store, versions: range) -> None:
            try:
                for version in versions:
                    store.save_scenario(big_scenario(version, 40))
            except BaseException as error:  # noqa: BLE001 - reported by the assertion below
                failures.append(error)

        def read() -> None:
            try:
                while not stop.is_set():
                    loaded = b.load_scenario()
                    assert loaded == big_scenario(version_of(loaded), 40)  # one snapshot, never a mix
                    versions_read.append(version_of(loaded))
            except BaseException as error:  # noqa: BLE001
                failures.append(error)

        writers = [threading.Thread(target=write, args=(a, range(10, 16))),
                   threading.Thread(target=write, args=(b, range(20, 26)))]
        reader = threading.Thread(target=read)
        for thread in (*writers, reader):
            thread.start()
        for thread in writers:
            thread.join(120)
        stop.set()
        reader.join(120)
        assert failures == []
        assert version_of(a.load_scenario()) in (15, 25)
        assert versions_read


def test_second_writer_waits_then_gets_a_clear_error(db_file):
    with Store.open(sqlite_url(db_file)) as store:
        store.save_scenario(big_scenario(1, 5))
    other = sqlite3.connect(db_file, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another copy of the app in the middle of a long write
    try:
        with Store.open(sqlite_url(db_file), busy_timeout=0.3) as store:
            assert version_of(store.load_scenario()) == 1  # readers are not blocked (WAL)
            started = time.monotonic()
            with pytest.raises(DatabaseInUse, match="another copy of IOP Scheduler is writing"):
                store.save_scenario(big_scenario(2, 5))
            assert time.monotonic() - started >= 0.25
            other.execute("ROLLBACK")
            store.save_scenario(big_scenario(2, 5))
            assert version_of(store.load_scenario()) == 2
    finally:
        other.close()


# 6. The SQLite files are private to the user --------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_files_are_private(db_file):
    with Store.open(sqlite_url(db_file)) as store:
        store.save_scenario(big_scenario(1, 5))
        for path in (db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")):
            assert path.stat().st_mode & 0o777 == 0o600, path.name


# 7. A failed save leaves the database byte-for-byte as it was ----------------------------------------------


def spoil(kind: str, scenario: Scenario) -> Scenario:
    """A scenario that fails part-way through saving, after many rows were already written."""
    patients = list(scenario.patients)
    last = patients[-1]
    if kind == "unknown primary therapist":  # foreign key
        patients[-1] = replace(last, primary_therapist="NOBODY")
    elif kind == "repeated patient id":  # primary key
        patients[-1] = replace(last, id=patients[0].id)
    elif kind == "requirement range upside down":  # check constraint
        patients[-1] = replace(last, requirements=(Requirement("A0", 3, 1),))
    elif kind == "missing status":  # not-null constraint
        patients[-1] = replace(last, status=None)
    elif kind == "day that is not a weekday":  # raised by the conversion itself
        patients[-1] = replace(last, preferred_days=(0, 9))
    return replace(scenario, patients=tuple(patients))


BAD = ["unknown primary therapist", "repeated patient id", "requirement range upside down", "missing status",
       "day that is not a weekday"]


@pytest.mark.parametrize("kind", BAD)
def test_failed_save_leaves_file_byte_for_byte_unchanged(kind, db_file):
    good = big_scenario(1)
    with Store.open(sqlite_url(db_file)) as store:
        store.save_scenario(good)
        store.save_timetable("Week 1", good.previous, {"status": "optimal"})
    # Closing checkpoints the WAL into the file and removes it, so the file alone is the database.
    assert not Path(f"{db_file}-wal").exists()
    before = sha256(db_file)
    with Store.open(sqlite_url(db_file)) as store:
        inserts = count_inserts(store)
        with pytest.raises(StoreError, match="Nothing was changed"):
            store.save_scenario(spoil(kind, big_scenario(2)))
        assert inserts[0] > 0  # it really failed midway
        assert store.load_scenario() == good
    assert not Path(f"{db_file}-wal").exists()
    assert sha256(db_file) == before


@pytest.mark.parametrize("kind", BAD)
def test_failed_save_leaves_database_unchanged(kind, db_url):
    good = big_scenario(1, 30)
    with Store.open(db_url) as store:
        store.save_scenario(good)
        store.save_timetable("Week 1", good.previous, {"status": "optimal"})
        listed = store.list_timetables()
        with pytest.raises(StoreError, match="Nothing was changed"):
            store.save_scenario(spoil(kind, big_scenario(2, 30)))
        assert store.load_scenario() == good
        assert store.list_timetables() == listed
        assert store.load_timetable("Week 1")[0] == good.previous


def test_unstorable_value_is_named_in_the_error(db_file):
    with Store.open(sqlite_url(db_file)) as store:
        with pytest.raises(StoreError, match="Could not save the scenario: day 9 is not a weekday index"):
            store.save_scenario(spoil("day that is not a weekday", big_scenario(1, 5)))


def count_inserts(store: Store) -> list[int]:
    counter = [0]

    def on_execute(conn, cursor, statement, *args) -> None:
        counter[0] += statement.lstrip().upper().startswith("INSERT")

    event.listen(store.engine, "before_cursor_execute", on_execute)
    return counter


# 8. The migrations build the schema the rows describe ------------------------------------------------------


def test_migrations_build_an_empty_database(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with Store.open(db_url) as store, store.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == TABLES
        assert current(conn) == head()
        assert {ix["name"] for ix in inspect(conn).get_indexes("sessions")} == {"ix_sessions_timetable_id"}
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert store.load_scenario() is None


def test_migrations_go_down_and_up_again(db_url):
    with Store.open(db_url) as store:
        store.save_scenario(big_scenario(1, 5))
    downgrade_to(db_url, "base")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    with Store.open(db_url) as store:
        assert store.load_scenario() is None


# 9. No patient names in logs or error messages ---------------------------------------------------------------


def test_logs_and_errors_carry_no_patient_names(db_url, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # even with SQL logging switched on
    try:
        scenario = big_scenario(7, 20)
        with Store.open(db_url) as store:
            store.save_scenario(scenario)
            store.load_scenario()
            store.save_timetable("Week 7", scenario.previous, {"status": "optimal"})
            store.load_timetable("Week 7")
            failures = []
            for kind in ("unknown primary therapist", "missing status"):
                with pytest.raises(StoreError) as failure:
                    store.save_scenario(spoil(kind, big_scenario(8, 20)))
                failures.append("".join(traceback.format_exception(failure.value)))  # with chained causes
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.NOTSET)
    assert "INSERT INTO patients" in caplog.text  # SQL was logged ...
    assert "20 patients" in caplog.text  # ... and so were counts ...
    for name in (p.name for p in (*scenario.patients, *big_scenario(8, 20).patients)):
        assert name not in caplog.text  # ... but never a name
        assert not any(name in text for text in failures)
    assert "Vantorsky" not in caplog.text

"""The store's API: scenarios, saved timetables and settings round-trip unchanged (SQLite; PostgreSQL too
when IOP_TEST_PG_URL is set)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from scheduler.model import (
    Activity,
    Cohort,
    HoursBasis,
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
    Weights,
)
from scheduler.store import DatabaseMissing, NotFound, Store, StoreError, TimetableInfo, default_url
from scheduler.store import engine as store_engine
from scheduler.store.rows import PatientRow, ProgramRow, SessionRow, StaffRow
from scheduler.timegrid import parse_availability





@pytest.fixture
def store(db_url):
    with Store.open(db_url) as opened:
        yield opened


def sample_scenario() -> Scenario:
    """A small clinic using every field: overrides, tags, ranges, preferred days, a pinned previous session."""
    program = Program(
        name="Riverside Adult IOP",
        week_start=date(2026, 1, 5),
        days=(0, 1, 2, 3, 4),
        open=8 * 60,
        close=20 * 60,
        max_gap_minutes=30,
        min_days=3,
        max_days=4,
        min_hours=3.0,
        max_hours=4.5,
        hours_basis=HoursBasis.SPAN,
        min_week_hours=9.0,
        max_week_hours=16.5,
        weights=Weights(preferences=4.0, continuity=2.5, stability=1.0, balance=0.5, efficiency=1.25, spread=0.0),
    )
    activities = (
        Activity("PROC", "Process group", Mode.GROUP, 90, min_size=3, max_size=10, skill="process",
                 room_kind=RoomKind.GROUP, cohort=Cohort.ADULT),
        Activity("DBT", "DBT skills", Mode.GROUP, 60, min_size=4, max_size=8, skill="dbt", staff_count=2,
                 room_kind=RoomKind.GROUP),
        Activity("SUD", "Relapse prevention", Mode.GROUP, 60, min_size=2, max_size=8, skill="sud",
                 room_kind=RoomKind.GROUP, tag="SUD"),
        Activity("IND", "Individual therapy", Mode.INDIVIDUAL, 60, skill="therapy", with_primary=True),
        Activity("MED", "Medication management", Mode.INDIVIDUAL, 30, skill="prescriber", room_kind=RoomKind.NONE),
        Activity("FAM", "Family therapy", Mode.FAMILY, 60, skill="therapy", with_primary=True, in_block=False),
    )
    staff = (
        Staff("T1", "Dana Whitfield", "LCSW", frozenset({"process", "therapy", "dbt"}),
              parse_availability("Mon-Fri 08:00-17:00"), max_hours_day=8.0, max_hours_week=32.5),
        Staff("T2", "Omar Haddad", "LMFT", frozenset({"therapy", "sud"}),
              parse_availability("Mon,Wed 09:00-13:00; Tue 12:00-20:00")),
        Staff("MD1", "Dr Elena Reyes", "Psychiatrist", frozenset({"prescriber"}),
              parse_availability("Tue,Thu 09:00-12:00"), max_hours_week=6.0),
    )
    rooms = (
        Room("G1", "Group room 1", RoomKind.GROUP, 12),
        Room("O1", "Office 1", RoomKind.OFFICE, 3, parse_availability("Mon-Thu 08:00-18:00")),
    )
    patients = (
        Patient("P01", "Jordan Alvarez", Cohort.ADULT, frozenset({"SUD", "TRAUMA"}), min_days=4, max_hours=4.0,
                availability=parse_availability("Mon-Fri 09:00-14:00"),
                family_availability=parse_availability("Thu 17:00-19:00"), primary_therapist="T2",
                requirements=(Requirement("PROC", 3, 3), Requirement("SUD", 1, 2), Requirement("IND", 1, 1),
                              Requirement("MED", 1, 1), Requirement("FAM", 0, 1)),
                preferred_days=(4, 0, 2), status="continuing"),
        Patient("P02", "Sam Okafor", Cohort.ADOLESCENT, primary_therapist="T1", min_week_hours=6.0,
                requirements=(Requirement("DBT", 2, 3),), preferred_days=(1, 3), status="new"),
        Patient("P03", "Riley Chen-Moreau", status="discharging"),
    )
    previous = Timetable((
        Session(0, 9 * 60, 10 * 60 + 30, "PROC", ("T1",), "G1", ("P01", "P03"), pinned=True, session_id="S001"),
        Session(1, 10 * 60, 10 * 60 + 30, "MED", ("MD1",), None, ("P01",), session_id="S002"),
        Session(3, 17 * 60, 18 * 60, "FAM", ("T2",), "O1", ("P01",), session_id="S003"),
    ))
    return Scenario(program, activities, staff, rooms, patients, previous)


SUMMARY = {
    "status": "feasible",
    "objective": 42.5,
    "bound": 40.0,
    "gap": 0.0588,
    "seconds": 12.3,
    "terms": [{"name": "preferences", "weight": 3.0, "value": 2.0}],
}


def test_new_database_is_empty(store):
    assert store.load_scenario() is None
    assert store.list_timetables() == []


def test_scenario_round_trips_unchanged(db_url):
    scenario = sample_scenario()
    with Store.open(db_url) as store:
        store.save_scenario(scenario)
        assert store.load_scenario() == scenario
    with Store.open(db_url) as reopened:
        assert reopened.load_scenario() == scenario


@pytest.mark.parametrize("n_patients", [12, 80])
def test_generated_clinic_round_trips(n_patients, store):
    generate = pytest.importorskip("scheduler.generate")
    clinic = generate.generate_clinic(n_patients, seed=1)
    scenario = clinic.scenario.with_previous(clinic.witness)
    store.save_scenario(scenario)
    assert store.load_scenario() == scenario


def test_save_replaces_the_whole_scenario(store):
    first = sample_scenario()
    store.save_scenario(first)
    store.save_timetable("Week 2", first.previous, SUMMARY)
    second = Scenario(first.program, first.activities, first.staff[:2], first.rooms, first.patients[1:], None)
    store.save_scenario(second)
    assert store.load_scenario() == second
    assert [info.name for info in store.list_timetables()] == ["Week 2"]  # saved timetables are kept


def test_empty_previous_timetable_is_not_none(store):
    scenario = sample_scenario().with_previous(Timetable())
    store.save_scenario(scenario)
    assert store.load_scenario().previous == Timetable()


def test_values_are_stored_as_readable_text(store):
    store.save_scenario(sample_scenario())
    with store.engine.connect() as conn:
        program = conn.execute(select(ProgramRow)).one()
        staff = conn.execute(select(StaffRow).where(StaffRow.id == "T2")).one()
        patient = conn.execute(select(PatientRow).where(PatientRow.id == "P01")).one()
        session = conn.execute(select(SessionRow).where(SessionRow.session_id == "S001")).one()
    assert (program.days, program.hours_basis, program.min_hours) == ("Mon,Tue,Wed,Thu,Fri", "span", 3.0)
    assert staff.skills == "sud;therapy"
    assert staff.availability == "Mon,Wed 09:00-13:00; Tue 12:00-20:00"
    assert (patient.tags, patient.preferred_days, patient.cohort) == ("SUD;TRAUMA", "Fri,Mon,Wed", "adult")
    assert (session.day, session.patient_ids, session.room_id, session.pinned) == ("Mon", "P01;P03", "G1", True)


def test_saved_timetables_list_load_replace_delete(store):
    timetable = sample_scenario().previous
    before = datetime.now(UTC)
    store.save_timetable("Week 2", timetable, SUMMARY)
    [info] = store.list_timetables()
    assert isinstance(info, TimetableInfo)
    assert (info.name, info.status, info.objective, info.gap) == ("Week 2", "feasible", 42.5, 0.0588)
    assert before.replace(microsecond=0) <= info.created_at <= datetime.now(UTC)
    assert store.load_timetable("Week 2") == (timetable, SUMMARY)

    shorter = Timetable(timetable.sessions[:1])
    store.save_timetable("Week 2", shorter, {"status": "optimal", "objective": 40.0, "gap": 0.0})
    assert [(i.name, i.status) for i in store.list_timetables()] == [("Week 2", "optimal")]
    assert store.load_timetable("Week 2")[0] == shorter

    store.delete_timetable("Week 2")
    assert store.list_timetables() == []
    with pytest.raises(NotFound, match="no saved timetable called 'Week 2'"):
        store.load_timetable("Week 2")
    store.delete_timetable("Week 2")  # deleting what is not there is not an error


def test_timetables_listed_newest_first(store):
    for name in ("A", "B", "C"):
        store.save_timetable(name, Timetable(), {"status": "infeasible", "objective": None, "gap": None})
    infos = store.list_timetables()
    assert [i.name for i in infos] == ["C", "B", "A"]
    assert infos[0].objective is None and infos[0].gap is None


def test_timetable_needs_a_name(store):
    with pytest.raises(StoreError, match="needs a name"):
        store.save_timetable("  ", Timetable(), {})


def test_settings(store):
    assert store.get_setting("solver.time_limit") is None
    assert store.get_setting("solver.time_limit", "60") == "60"
    store.set_setting("solver.time_limit", "120")
    store.set_setting("solver.time_limit", "90")
    assert store.get_setting("solver.time_limit") == "90"
    store.set_setting("solver.time_limit", None)
    assert store.get_setting("solver.time_limit", "60") == "60"


def test_closed_store_refuses_work(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'clinic.db'}") as store:
        assert store.path == tmp_path / "clinic.db"
    with pytest.raises(StoreError, match="closed"):
        store.load_scenario()
    store.close()  # closing twice is fine


def test_in_memory_database_has_no_path():
    with Store.open("sqlite://") as store:
        assert store.path is None
        store.save_scenario(sample_scenario())
        assert store.load_scenario() == sample_scenario()


def test_url_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("IOP_DB_URL", f"sqlite:///{tmp_path / 'shared.db'}")
    with Store.open() as store:
        assert store.path == tmp_path / "shared.db"


def test_default_is_a_private_file_in_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("IOP_DB_URL", raising=False)
    folder = tmp_path / "data" / "IOP Scheduler"
    monkeypatch.setattr(store_engine, "user_data_dir", lambda app, author: str(folder))
    assert default_url().endswith("/IOP Scheduler/clinic.db")
    with Store.open() as store:
        assert store.path == folder / "clinic.db"
        assert store.path.is_file()
    if os.name == "posix":
        assert folder.stat().st_mode & 0o777 == 0o700


def test_unusable_addresses_give_clear_errors(tmp_path):
    with pytest.raises(StoreError, match="not a database address"):
        Store.open("not a url")
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(f"sqlite:///{tmp_path / 'missing' / 'clinic.db'}")


def test_opening_to_read_creates_no_database(tmp_path):
    # Fixed audit finding F12 (session 14): `export --db missing.db` failed but left a new, empty
    # clinic database behind. create=False (the commands that only read) refuses and creates nothing.
    missing = tmp_path / "missing.db"
    with pytest.raises(DatabaseMissing, match="no clinic database at .*missing.db; nothing was created"):
        Store.open(f"sqlite:///{missing}", create=False)
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(DatabaseMissing, match="empty.db is empty"):
        Store.open(f"sqlite:///{empty}", create=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]
    assert empty.stat().st_size == 0


def test_opening_to_read_opens_an_existing_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    with Store.open(url) as store:  # creating is still the default (import, the app)
        store.save_scenario(sample_scenario())
    with Store.open(url, create=False) as store:
        assert store.load_scenario() == sample_scenario()

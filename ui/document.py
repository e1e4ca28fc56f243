"""The open clinic file: its store, the current scenario and the current timetable.

Views read from the document and listen to its signals; undo commands call
``set_scenario``; the window calls ``open`` and ``set_outcome``. Every
scenario change is saved to the store at once (a clinic file is a SQLite
database, so "saving" is cheap and nothing is ever lost).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal

from scheduler.model import Program, Scenario
from scheduler.store import Store, StoreError
from ui.outcome import SolveOutcome, outcome_from_summary, outcome_summary

log = logging.getLogger(__name__)


def to_url(location: str | Path | None) -> str | None:
    """A path (``clinic.db``) or a URL (``sqlite:///clinic.db``) -> a database URL."""
    if location is None:
        return None
    text = str(location)
    if "://" in text:
        return text
    return "sqlite:///" + str(Path(text).expanduser().resolve())


class ClinicInUse(Exception):
    """The clinic file is open in another copy of the app (its lock file is held)."""


def _sqlite_path(url: str | None) -> Path | None:
    if url and url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url[len("sqlite:///"):])
    return None


def display_name(url: str | None) -> str:
    if not url:
        return "default clinic"
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):]).name
    return url.split("@")[-1]


class ClinicDocument(QObject):
    opened = Signal(str)  # url
    scenarioChanged = Signal(object)  # Scenario
    outcomeChanged = Signal(object)  # SolveOutcome | None
    saveFailed = Signal(str, str)  # title, message: the change was not saved (and, for data, not made)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.store: Store | None = None
        self.url: str | None = None
        self.scenario: Scenario | None = None
        self.outcome: SolveOutcome | None = None
        self._lock: QLockFile | None = None

    # -- files --------------------------------------------------------------------------------

    def open(self, url: str | None, *, demo_if_empty: bool = False) -> None:
        """Open (or create) a clinic database; an empty one gets the demo clinic when asked.

        A clinic file is held by one copy of the app at a time (a lock file beside it): every edit
        writes the whole clinic, so two copies would overwrite each other's changes. A copy that
        crashed leaves a stale lock, which the next open takes over."""
        lock = self._lock if url == self.url else self._take_lock(url)
        try:
            store = Store.open(url)
        except Exception:
            if lock is not None and lock is not self._lock:
                lock.unlock()
            raise
        if lock is not self._lock:
            self.close()
        else:
            self._close_store()
        self._lock = lock
        self.store, self.url = store, url
        scenario = store.load_scenario()
        if scenario is None and demo_if_empty:
            scenario = load_demo()
            store.save_scenario(scenario)
            log.info("empty clinic file: loaded the demo clinic (%d patients)", len(scenario.patients))
        if scenario is None:
            scenario = Scenario(Program(name="New program"))
            store.save_scenario(scenario)
        self.scenario = scenario
        self.outcome = self._latest_outcome(scenario)
        self.opened.emit(url or "")
        self.scenarioChanged.emit(scenario)
        self.outcomeChanged.emit(self.outcome)

    @staticmethod
    def _take_lock(url: str | None) -> QLockFile | None:
        path = _sqlite_path(url)
        if path is None or not path.parent.is_dir():
            return None  # a server database (PostgreSQL) handles its own writers; a missing folder fails in Store.open
        lock = QLockFile(str(path) + ".lock")
        lock.setStaleLockTime(0)  # only a dead holder's lock is stale, however old
        if lock.tryLock(0):
            return lock
        if lock.error() == QLockFile.LockError.LockFailedError:
            raise ClinicInUse(f"{path.name} is open in another copy of IOP Scheduler. Every change writes the whole "
                              "clinic, so two copies would overwrite each other's changes: close the other copy "
                              "first, then open the file again.")
        log.warning("no lock file for the clinic file (%s); opened without one", lock.error().name)
        return None  # a read-only folder: the store says what it can and cannot do

    def close(self) -> None:
        self._close_store()
        if self._lock is not None:
            self._lock.unlock()
        self._lock = None

    def _close_store(self) -> None:
        if self.store is not None:
            self.store.close()
        self.store = None

    def _latest_outcome(self, scenario: Scenario) -> SolveOutcome | None:
        """The newest saved timetable, re-checked against the current scenario."""
        try:
            saved = self.store.list_timetables()  # newest first
            if not saved:
                return None
            timetable, summary = self.store.load_timetable(saved[0].name)
        except StoreError:  # an unreadable old timetable must not keep the clinic closed
            log.exception("could not load the latest timetable")
            return None
        return outcome_from_summary(scenario, summary, timetable, name=saved[0].name)

    # -- edits --------------------------------------------------------------------------------

    def set_scenario(self, scenario: Scenario) -> bool:
        """Save the scenario, then make it the current one; False (nothing changed, ``saveFailed``
        said why) when the clinic file cannot be written: read-only, busy, gone, disk full."""
        if not self._saved(scenario, "the data"):
            return False
        self.scenario = scenario
        self.scenarioChanged.emit(scenario)
        return True

    def _saved(self, scenario: Scenario, what: str) -> bool:
        """Save ``scenario`` in the clinic file (when there is one); False, and ``saveFailed`` says so, when it cannot."""
        if self.store is None:
            return True
        try:
            self.store.save_scenario(scenario)
        except StoreError as exc:
            log.error("the change could not be saved: %s", type(exc).__name__)
            self.saveFailed.emit("The change was not saved",
                                 f"{exc}\n\nThe change was not made: the clinic file and the window still hold "
                                 f"{what} as it was.")
            return False
        return True

    def set_outcome(self, outcome: SolveOutcome | None, *, save_as: str | None = None) -> None:
        """Show ``outcome``; with ``save_as`` save its timetable in the clinic file first. A timetable
        that cannot be saved is still shown (unnamed), and ``saveFailed`` says so."""
        if outcome is not None and save_as and outcome.timetable is not None and self.store is not None:
            try:
                self.store.save_timetable(save_as, outcome.timetable, outcome_summary(outcome))
            except StoreError as exc:
                log.error("the timetable could not be saved: %s", type(exc).__name__)
                self.saveFailed.emit("The timetable was not saved",
                                     f"{exc}\n\nThe timetable is shown but is not in the clinic file: export it "
                                     "now, or use Save As to keep it in another clinic file.")
            else:
                outcome = replace(outcome, name=save_as)
                log.info("timetable saved as %r: %d sessions", save_as, len(outcome.timetable.sessions))
        self.outcome = outcome
        self.outcomeChanged.emit(outcome)

    def set_hand_edit(self, scenario: Scenario, outcome: SolveOutcome, *, forget: str = "") -> SolveOutcome | None:
        """A change by hand to the shown timetable, with the pins that keep it (``ui.models.moves``), or its undo.

        The scenario is saved first: when the clinic file cannot take it, nothing changes and None is
        returned (``saveFailed`` said why). Then the timetable is saved under its name, becoming the newest
        (the one the clinic opens with), and ``forget``, a saved timetable the undone edit had made, is
        deleted. A timetable that cannot be saved is still shown, unnamed, and ``saveFailed`` says so.
        Returns the outcome shown."""
        if not self._saved(scenario, "the timetable"):
            return None
        if self.store is not None:
            try:
                if outcome.name and outcome.timetable is not None:
                    self.store.save_timetable(outcome.name, outcome.timetable, outcome_summary(outcome))
                if forget and forget != outcome.name:
                    self.store.delete_timetable(forget)
            except StoreError as exc:
                log.error("the timetable could not be saved: %s", type(exc).__name__)
                self.saveFailed.emit("The timetable was not saved",
                                     f"{exc}\n\nThe timetable is shown and its pins are saved, but the timetable is "
                                     "not in the clinic file: export it now, or use Save As.")
                outcome = replace(outcome, name="")
        self.scenario, self.outcome = scenario, outcome
        self.scenarioChanged.emit(scenario)
        self.outcomeChanged.emit(outcome)
        return outcome

    def timetable_names(self) -> set[str]:
        """The names of the timetables saved in the clinic file (none when it cannot be read)."""
        try:
            return {t.name for t in self.store.list_timetables()} if self.store is not None else set()
        except StoreError:
            return set()

    @property
    def timetable(self):
        return None if self.outcome is None else self.outcome.timetable

    @property
    def outcome_is_stale(self) -> bool:
        """The data changed (pins aside) since the shown timetable was made."""
        if self.outcome is None or self.scenario is None:
            return False
        return replace(self.outcome.scenario, previous=None) != replace(self.scenario, previous=None)


def load_demo() -> Scenario:
    import resources
    from scheduler.io.reader import read_scenario

    return read_scenario(resources.demo_path()).scenario

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

from PySide6.QtCore import QObject, Signal

from scheduler.model import Program, Scenario
from scheduler.store import Store, StoreError
from ui.outcome import SolveOutcome, result_from_summary, review

log = logging.getLogger(__name__)


def to_url(location: str | Path | None) -> str | None:
    """A path (``clinic.db``) or a URL (``sqlite:///clinic.db``) -> a database URL."""
    if location is None:
        return None
    text = str(location)
    if "://" in text:
        return text
    return "sqlite:///" + str(Path(text).expanduser().resolve())


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

    def __init__(self, parent=None):
        super().__init__(parent)
        self.store: Store | None = None
        self.url: str | None = None
        self.scenario: Scenario | None = None
        self.outcome: SolveOutcome | None = None

    # -- files --------------------------------------------------------------------------------

    def open(self, url: str | None, *, demo_if_empty: bool = False) -> None:
        """Open (or create) a clinic database; an empty one gets the demo clinic when asked."""
        store = Store.open(url)
        self.close()
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

    def close(self) -> None:
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
        return review(scenario, result_from_summary(summary, timetable), name=saved[0].name)

    # -- edits --------------------------------------------------------------------------------

    def set_scenario(self, scenario: Scenario) -> None:
        self.scenario = scenario
        if self.store is not None:
            self.store.save_scenario(scenario)
        self.scenarioChanged.emit(scenario)

    def set_outcome(self, outcome: SolveOutcome | None, *, save_as: str | None = None) -> None:
        if outcome is not None and save_as and outcome.timetable is not None and self.store is not None:
            self.store.save_timetable(save_as, outcome.timetable, outcome.result.summary())
            outcome = replace(outcome, name=save_as)
            log.info("timetable saved as %r: %d sessions", save_as, len(outcome.timetable.sessions))
        self.outcome = outcome
        self.outcomeChanged.emit(outcome)

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

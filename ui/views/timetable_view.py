"""The timetable tab: a filter bar, the weekly grid and the session side panel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from scheduler.model import Scenario, Session, Timetable
from ui.models.filters import FILTER_LABELS, FilterKind, filter_sessions, subjects
from ui.models.pins import pinned_keys, session_key
from ui.views.combos import current_value
from ui.views.session_panel import SessionPanel
from ui.views.timetable_grid import TimetableGrid


class TimetableView(QWidget):
    pinRequested = Signal(object, bool)  # Session, pin
    moveRequested = Signal(object)  # Session

    def __init__(self, parent=None):
        super().__init__(parent)
        self._scenario: Scenario | None = None
        self._timetable: Timetable | None = None
        self._pinned: frozenset = frozenset()
        self.live = False  # showing a solve's best timetable so far, not the clinic's
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show"))
        self.kind_combo = QComboBox()
        for kind, label in FILTER_LABELS.items():
            self.kind_combo.addItem(label, kind)
        self.subject_combo = QComboBox()
        self.subject_combo.setMinimumWidth(240)
        self.subject_combo.setEnabled(False)
        bar.addWidget(self.kind_combo)
        bar.addWidget(self.subject_combo)
        bar.addStretch(1)
        self.summary = QLabel()
        self.summary.setObjectName("muted")
        bar.addWidget(self.summary)
        layout.addLayout(bar)
        # Set by the window: the shown timetable breaks hard rules of the current data, or is out of date.
        self.warning = QLabel()
        self.warning.setObjectName("warningBanner")
        self.warning.setWordWrap(True)
        self.warning.setVisible(False)
        layout.addWidget(self.warning)

        self.grid = TimetableGrid()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.grid)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.StyledPanel)
        self.panel = SessionPanel()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.scroll)
        splitter.addWidget(self.panel)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setSizes([900, 250])
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)

        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        self.subject_combo.currentIndexChanged.connect(lambda _: self._refresh())
        self.grid.sessionClicked.connect(self._session_clicked)
        self.grid.showRect.connect(lambda r: self.scroll.ensureVisible(int(r.center().x()), int(r.center().y()),
                                                                       int(r.width() / 2) + 8, int(r.height() / 2) + 8))
        self.grid.pinRequested.connect(self.pinRequested)
        self.panel.pinRequested.connect(self.pinRequested)
        self.grid.moveRequested.connect(self.moveRequested)
        self.panel.moveRequested.connect(self.moveRequested)

    # -- inputs -------------------------------------------------------------------------------

    def set_scenario(self, scenario: Scenario | None) -> None:
        self._scenario = scenario
        self._pinned = pinned_keys(scenario)
        self._fill_subjects()
        self._refresh()

    NO_TIMETABLE_YET = "No timetable yet. Press Solve (F5) to make one."
    NONE_FOUND = ("The last solve found no timetable: the Result tab says why. Earlier timetables saved in this "
                  "clinic file are listed in the Solve panel (click one to show it).")

    def set_timetable(self, timetable: Timetable | None, *, none_found: bool = False) -> None:
        """Show ``timetable``; without one, ``none_found`` says a solve ended without a timetable."""
        self.grid.empty_text = self.NONE_FOUND if timetable is None and none_found else self.NO_TIMETABLE_YET
        self._timetable = timetable
        self.live = False
        self.warning.setVisible(bool(self.warning.text()))
        self._refresh()

    def set_warning(self, text: str, tone: str = "bad") -> None:
        """A banner above the grid ("" hides it)."""
        self.warning.setText(text)
        self.warning.setProperty("tone", "bad" if tone == "bad" else "warn")  # colours: resources/ui/style.qss
        self.warning.style().unpolish(self.warning)
        self.warning.style().polish(self.warning)
        self.warning.setVisible(bool(text) and not self.live)

    def show_live(self, timetable: Timetable) -> None:
        """A running solve's best timetable so far (the finished solve's outcome replaces it)."""
        self._timetable = timetable
        self.live = True
        self.warning.setVisible(False)
        self._refresh()

    def set_filter(self, kind: FilterKind, subject: str | None = None) -> None:
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))
        if subject is not None:
            index = self.subject_combo.findData(subject)
            if index < 0:
                raise KeyError(f"{subject} is not a {kind.value}")
            self.subject_combo.setCurrentIndex(index)

    # -- outputs ------------------------------------------------------------------------------

    @property
    def filter(self) -> tuple[FilterKind, str | None]:
        return current_value(self.kind_combo), current_value(self.subject_combo)

    def visible_sessions(self) -> tuple[Session, ...]:
        kind, subject = self.filter
        return filter_sessions(self._scenario, self._timetable, kind, subject)

    @property
    def selected_session(self) -> Session | None:
        return self.panel.session

    def select_session(self, session: Session | None) -> None:
        self.grid.set_selected(session)
        self._session_clicked(session)

    # -- internals ----------------------------------------------------------------------------

    def _kind_changed(self) -> None:
        self._fill_subjects()
        self._refresh()

    def _fill_subjects(self) -> None:
        kind = current_value(self.kind_combo)
        previous = current_value(self.subject_combo)
        self.subject_combo.blockSignals(True)
        self.subject_combo.clear()
        for subject_id, label in subjects(self._scenario, kind):
            self.subject_combo.addItem(label, subject_id)
        index = self.subject_combo.findData(previous) if previous is not None else -1
        self.subject_combo.setCurrentIndex(max(0, index) if self.subject_combo.count() else -1)
        self.subject_combo.setEnabled(kind != FilterKind.ALL and self.subject_combo.count() > 0)
        self.subject_combo.blockSignals(False)

    def _shade(self):
        kind, subject = self.filter
        sc = self._scenario
        if sc is None or not subject:
            return None
        lookup = {FilterKind.PATIENT: sc.patient_by_id, FilterKind.STAFF: sc.staff_by_id, FilterKind.ROOM: sc.room_by_id}
        entity = lookup.get(kind, {}).get(subject)
        return entity.availability if entity is not None else None

    def _refresh(self) -> None:
        sessions = self.visible_sessions()
        self.grid.set_content(self._scenario, sessions, self._pinned, self._shade(), self._timetable is not None)
        self._update_summary(sessions)
        current = self.panel.session
        if current is not None:
            match = next((s for s in sessions if session_key(s) == session_key(current)), None)
            self.panel.show_session(self._scenario, match, match is not None and session_key(match) in self._pinned)

    def _update_summary(self, sessions) -> None:
        if self._timetable is None:
            self.summary.setText("")
            return
        patients = {p for s in sessions for p in s.patient_ids}
        hours = sum(s.minutes for s in sessions) / 60
        pins = sum(1 for s in sessions if session_key(s) in self._pinned)
        kind, _ = self.filter
        text = f"{len(sessions)} sessions · {len(patients)} patients"
        if kind in (FilterKind.PATIENT, FilterKind.STAFF, FilterKind.ROOM):
            days = len({s.day for s in sessions})
            text = f"{len(sessions)} sessions · {days} days · {hours:g} h"
        if pins:
            text += f" · {pins} pinned"
        if self.live:
            text = f"Best so far, still solving · {text}"
        self.summary.setText(text)

    def _session_clicked(self, session: Session | None) -> None:
        pinned = session is not None and session_key(session) in self._pinned
        self.panel.show_session(self._scenario, session, pinned)

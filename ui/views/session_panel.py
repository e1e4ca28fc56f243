"""The side panel beside the grid: one session's details and roster, with Move/edit and Pin/Unpin."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout, QFrame, QHeaderView, QLabel, QPushButton, QSizePolicy, QTableWidget, QTableWidgetItem, QVBoxLayout,
)

from scheduler.model import DAY_NAMES, Scenario, Session
from scheduler.timegrid import format_time


class SessionPanel(QFrame):
    pinRequested = Signal(object, bool)  # Session, pin
    moveRequested = Signal(object)  # Session: open the move dialog

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("sidePanel")
        self.setMinimumWidth(220)
        self._session: Session | None = None
        self._pinned = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        self.title = QLabel("No session selected")
        self.title.setObjectName("panelTitle")
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.hint = QLabel("Click a session in the grid to see its roster. Right-click to move or pin it.")
        self.hint.setWordWrap(True)
        self.hint.setObjectName("muted")
        layout.addWidget(self.hint)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.when = QLabel()
        self.staff = QLabel()
        self.room = QLabel()
        self.kind = QLabel()
        self.pin_state = QLabel()
        for label in (self.when, self.staff, self.room, self.kind, self.pin_state):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("When", self.when)
        form.addRow("Staff", self.staff)
        form.addRow("Room", self.room)
        form.addRow("Activity", self.kind)
        form.addRow("Pinned", self.pin_state)
        self.details = QFrame()
        self.details.setLayout(form)
        # Above a short window's red banner the roster gives up its height, never the details (they clipped).
        self.details.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout.addWidget(self.details)
        self.roster_label = QLabel("Roster")
        self.roster_label.setObjectName("sectionLabel")
        layout.addWidget(self.roster_label)
        self.roster = QTableWidget(0, 3)
        self.roster.setHorizontalHeaderLabels(["Id", "Name", "Status"])
        self.roster.verticalHeader().setVisible(False)
        self.roster.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.roster.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.roster.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.roster.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.roster.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.roster, 1)
        # Room for a name between the id and the status, whatever the text size (at 14 pt it shrank to "…").
        self.roster.horizontalHeader().setMinimumSectionSize(self.fontMetrics().horizontalAdvance("P000"))
        self.setMinimumWidth(max(self.minimumWidth(), self.fontMetrics().averageCharWidth() * 28))
        self.move_button = QPushButton("Move / edit…")
        self.move_button.setToolTip("Change the session's day, time, room or staff by hand (F2 or Enter in the grid); "
                                    "the moved session is pinned")
        self.move_button.clicked.connect(self._move)
        self.pin_button = QPushButton("Pin session")
        self.pin_button.setToolTip("A pinned session is kept exactly by the next solve")
        self.pin_button.clicked.connect(self._toggle_pin)
        layout.addWidget(self.move_button)
        layout.addWidget(self.pin_button)
        self.spacer = QFrame()
        layout.addWidget(self.spacer, 1)
        self.show_session(None, None, False)

    @property
    def session(self) -> Session | None:
        return self._session

    def show_session(self, scenario: Scenario | None, session: Session | None, pinned: bool) -> None:
        self._session, self._pinned = session, pinned
        has = session is not None and scenario is not None
        for w in (self.details, self.roster_label, self.roster, self.move_button, self.pin_button):
            w.setVisible(has)
        self.hint.setVisible(not has)
        self.spacer.setVisible(not has)
        if not has:
            self.title.setText("No session selected")
            return
        activity = scenario.activity_by_id.get(session.activity_id)
        self.title.setText(activity.name if activity else session.activity_id)
        date = scenario.program.date_of(session.day)
        day = DAY_NAMES[session.day] + (f" {date:%d %b}" if date else "")
        self.when.setText(f"{day}, {format_time(session.start)}–{format_time(session.end)}")
        self.staff.setText("\n".join(
            f"{st.name} ({st.role})" if (st := scenario.staff_by_id.get(i)) and st.role else (st.name if st else i)
            for i in session.staff_ids) or "—")
        room = scenario.room_by_id.get(session.room_id) if session.room_id else None
        self.room.setText(room.name if room else (session.room_id or "none (telehealth)"))
        kind = f"{session.activity_id} · {activity.mode.value}" if activity else session.activity_id
        # The session's id, as sessions.csv and the explanations name it ("pinned session S001").
        self.kind.setText(f"{kind} · session {session.session_id}" if session.session_id else kind)
        self.pin_state.setText("yes: kept by the next solve" if pinned else "no")
        self.pin_button.setText("Unpin session" if pinned else "Pin session")
        self.roster_label.setText(f"Roster ({len(session.patient_ids)})")
        self.roster.setRowCount(len(session.patient_ids))
        for row, pid in enumerate(session.patient_ids):
            patient = scenario.patient_by_id.get(pid)
            values = (pid, patient.name if patient else "", patient.status if patient else "")
            for col, text in enumerate(values):
                self.roster.setItem(row, col, QTableWidgetItem(text))
        self._fit_details()

    def _fit_details(self) -> None:
        """Shown again after "no session", the form kept the one-line height of rows that now wrap (clipping
        "Pinned: yes: kept by the next solve"): its height is measured for the width the panel gives it, again
        whenever that changes (measured once, a panel widened afterwards kept the narrow height: an empty band).
        The details' own width is stale while they are hidden, so the panel's is used."""
        margins = self.layout().contentsMargins()
        width = self.contentsRect().width() - margins.left() - margins.right()
        self.details.setMinimumHeight(max(0, self.details.layout().heightForWidth(max(1, width))))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_details()

    def _move(self) -> None:
        if self._session is not None:
            self.moveRequested.emit(self._session)

    def _toggle_pin(self) -> None:
        if self._session is not None:
            self.pinRequested.emit(self._session, not self._pinned)

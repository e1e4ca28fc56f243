"""Move or edit one session of the shown timetable: its day, start, room and staff.

As the fields change, the dialog says which hard rules the move would break (the validator's own
words, ``ui.models.moves.MovePreview``) and how the objective would change. It never refuses a
move: a coordinator may knowingly break a rule, and the window's red banner then says so.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QFrame, QLabel, QListWidget,
    QListWidgetItem, QPushButton, QVBoxLayout,
)

from scheduler.model import DAY_NAMES, Mode, RoomKind, Session
from scheduler.timegrid import format_time
from ui import palette
from ui.models.moves import MoveCheck, MovePreview, room_choices, staff_choices, start_choices
from ui.views.combos import current_value

# Each hard rule in a few words, for the summary line; the list below it gives the validator's sentences.
RULE_WORDS = {
    "H0": "structure", "H1": "attendance days", "H2": "daily or weekly hours", "H3": "availability",
    "H4": "double-booking", "H5": "size, room or staff", "H6": "required sessions", "H7": "primary therapist",
    "H8": "staff hours cap", "H9": "pinned sessions",
}
# Rules about the moved session itself (who or what clashes) first, then what it does to the week.
FIRST = ("H4", "H3", "H5", "H7", "H0", "H9")
LIST_ROWS = 6  # the problem list's height, in lines: the dialog keeps its size as the fields change


class MoveSessionDialog(QDialog):
    def __init__(self, preview: MovePreview, parent=None):
        super().__init__(parent)
        self.preview = preview
        scenario, session = preview.scenario, preview.session
        self.activity = activity = scenario.activity_by_id[session.activity_id]
        self.setWindowTitle("Move or edit session")
        self.setMinimumWidth(max(600, self.fontMetrics().averageCharWidth() * 84))
        layout = QVBoxLayout(self)
        layout.setSpacing(8)

        title = QLabel(activity.name or activity.id)
        title.setObjectName("panelTitle")
        layout.addWidget(title)
        self.now = QLabel(self._now_text())
        self.now.setObjectName("muted")
        self.now.setWordWrap(True)
        layout.addWidget(self.now)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.setHorizontalSpacing(14)
        self.day = QComboBox()
        for day in scenario.program.week_days:
            date = scenario.program.date_of(day)
            self.day.addItem(DAY_NAMES[day] + (f" {date:%d %b}" if date else ""), day)
        self.start = QComboBox()
        starts = start_choices(scenario, activity)
        for minute in sorted(set(starts) | {session.start}):
            self.start.addItem(f"{format_time(minute)}–{format_time(minute + activity.duration_min)}", minute)
        self.room = QComboBox()
        for room_id in room_choices(scenario, activity, session.room_id):
            self.room.addItem(self._room_label(room_id), room_id)
        if activity.room_kind == RoomKind.NONE:
            self.room.addItem("none (telehealth)", "")  # never None as data (ui.views.combos)
            self.room.setEnabled(False)
        self.staff: list[QComboBox] = []
        choices = staff_choices(scenario, activity, session.staff_ids)
        for n in range(max(activity.staff_count, len(session.staff_ids), 1)):
            combo = QComboBox()
            for staff_id in choices:
                combo.addItem(self._staff_label(staff_id), staff_id)
            self.staff.append(combo)
        form.addRow("Day", self.day)
        form.addRow("Time", self.start)
        form.addRow("Room", self.room)
        for n, combo in enumerate(self.staff):
            form.addRow("Staff" if len(self.staff) == 1 else f"Staff {n + 1}", combo)
        layout.addLayout(form)
        skill = f"holding the skill “{activity.skill}”" if activity.skill else "any staff member"
        rooms = f"{activity.room_kind.value} rooms" if activity.room_kind != RoomKind.NONE else "no room (telehealth)"
        offer = QLabel(f"Offered: times on the {scenario.program.slot_minutes}-min grid within opening hours, "
                       f"{rooms}, staff {skill}.{self._primary_note()}")
        offer.setObjectName("caption")
        offer.setWordWrap(True)
        layout.addWidget(offer)

        card = QFrame()
        card.setObjectName("card")
        check = QVBoxLayout(card)
        check.setContentsMargins(12, 10, 12, 10)
        check.setSpacing(4)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.problems = QListWidget()
        self.problems.setObjectName("moveProblems")
        self.problems.setWordWrap(True)
        self.problems.setFrameShape(QFrame.Shape.NoFrame)
        self.problems.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.problems.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.problems.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.problems.setFixedHeight(LIST_ROWS * self.fontMetrics().lineSpacing() + 8)
        policy = self.problems.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.problems.setSizePolicy(policy)
        self.objective = QLabel()
        self.objective.setObjectName("muted")
        self.objective.setWordWrap(True)
        for widget in (self.verdict, self.problems, self.objective):
            check.addWidget(widget)
        layout.addWidget(card)
        self.note = QLabel()
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.note.setMinimumHeight(3 * self.fontMetrics().lineSpacing())  # the longer note fits: no jump in size
        layout.addWidget(self.note)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = QPushButton("Move session")
        self.apply_button.setObjectName("primary")
        self.apply_button.setDefault(True)
        self.buttons.addButton(self.apply_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self._select(self.day, session.day)
        self._select(self.start, session.start)
        self._select(self.room, session.room_id)
        for combo, staff_id in zip(self.staff, session.staff_ids):
            self._select(combo, staff_id)
        for combo in (self.day, self.start, self.room, *self.staff):
            combo.currentIndexChanged.connect(self._update)
        self.last_check: MoveCheck | None = None
        self._update()

    # -- outputs ------------------------------------------------------------------------------

    def session(self) -> Session:
        """The session as the fields now place it (activity and patients are the session's own)."""
        start = current_value(self.start)
        # The same person twice is kept: the check says so. (No one to choose: an empty combo, left out.)
        staff = tuple(v for v in (current_value(c) for c in self.staff) if v)
        return self.preview.moved(Session(current_value(self.day), start, start + self.activity.duration_min,
                                          self.activity.id, staff, current_value(self.room) or None))

    def set_fields(self, *, day: int | None = None, start: int | None = None, room: str | None = None,
                   staff: tuple[str, ...] | None = None) -> None:
        """Choose values as a coordinator would in the combos (KeyError: not offered)."""
        if day is not None:
            self._select(self.day, day, strict=True)
        if start is not None:
            self._select(self.start, start, strict=True)
        if room is not None:
            self._select(self.room, room, strict=True)
        for combo, staff_id in zip(self.staff, staff or ()):
            self._select(combo, staff_id, strict=True)

    # -- internals ----------------------------------------------------------------------------

    def _update(self) -> None:
        candidate = self.session()
        self.problems.clear()
        if not self.preview.changes(candidate):
            self.last_check = None
            self._tone(self.verdict, "none")
            self.verdict.setText("Choose another day, time, room or staff member: the check appears here.")
            self.problems.setVisible(False)
            self.objective.setText("")
            self.apply_button.setEnabled(False)
            self.apply_button.setText("Move session")
            self.note.setText(PINNED_NOTE)
            return
        check = self.last_check = self.preview.check(candidate)
        self.apply_button.setEnabled(True)
        if check.broken:
            counts: dict[str, int] = {}
            for v in check.broken:
                counts[v.rule] = counts.get(v.rule, 0) + 1
            rules = ", ".join(f"{RULE_WORDS.get(rule, rule)} ({n})" for rule, n in sorted(counts.items(), key=_first))
            self._tone(self.verdict, "bad")
            self.verdict.setText(f"This move breaks {len(check.broken)} hard rule(s): {rules}.")
            self.apply_button.setText("Move anyway")
            self.note.setText(PINNED_NOTE + " " + BROKEN_NOTE)
        else:
            self._tone(self.verdict, "ok")
            self.verdict.setText("✓ This move keeps every hard rule.")
            self.apply_button.setText("Move session")
            self.note.setText(PINNED_NOTE)
        for v in sorted(check.broken, key=lambda v: _first((v.rule, 0))):
            self._add_line(f"{_plain(v.message)} ({v.rule})", palette.BAD)
        if check.mended:
            self._add_line(f"It also mends {len(check.mended)} rule(s) the timetable breaks now.", palette.OK)
        if check.still:
            self._add_line(f"{check.still} other broken rule(s) of the timetable stay as they are.", palette.MUTED)
        if not check.broken and not check.mended and not check.still:
            self._add_line("Nobody is double-booked, and every patient's days, hours and required sessions hold "
                           "(checked by the independent validator).", palette.MUTED)
        self.problems.setVisible(True)
        self.objective.setText(_objective_words(check))

    def _add_line(self, text: str, colour) -> None:
        item = QListWidgetItem(f"•  {text}")
        item.setForeground(colour)
        item.setToolTip(text)
        self.problems.addItem(item)

    def _now_text(self) -> str:
        s, scenario = self.preview.session, self.preview.scenario
        date = scenario.program.date_of(s.day)
        day = DAY_NAMES[s.day] + (f" {date:%d %b}" if date else "")
        room = scenario.room_by_id.get(s.room_id) if s.room_id else None
        staff = ", ".join((scenario.staff_by_id[i].name or i) if i in scenario.staff_by_id else i for i in s.staff_ids)
        n = len(s.patient_ids)
        who = s.patient_ids[0] if n == 1 else f"{n} patients"
        mode = {Mode.GROUP: "group", Mode.INDIVIDUAL: "individual", Mode.FAMILY: "family"}[self.activity.mode]
        ident = f" · session {s.session_id}" if s.session_id else ""
        pinned = " · pinned" if self.preview.pinned else ""
        return (f"{s.activity_id} · {mode} · {who}{ident}{pinned}\nNow: {day}, {format_time(s.start)}–"
                f"{format_time(s.end)} · {room.name if room else (s.room_id or 'telehealth')} · {staff or 'no staff'}")

    def _room_label(self, room_id: str) -> str:
        room = self.preview.scenario.room_by_id[room_id]
        n = len(self.preview.session.patient_ids)
        seats = f"{room.capacity} seat{'s' if room.capacity != 1 else ''}"
        small = f" · too small for {n}" if room.capacity < n else ""
        other = f" · a {room.kind.value} room" if room.kind != self.activity.room_kind else ""
        return f"{room.name or room.id} ({room.id}) · {seats}{small}{other}"

    def _staff_label(self, staff_id: str) -> str:
        staff = self.preview.scenario.staff_by_id[staff_id]
        role = f" · {staff.role}" if staff.role else ""
        lacks = f" · lacks “{self.activity.skill}”" if self.activity.skill and self.activity.skill not in staff.skills else ""
        return f"{staff.name or staff.id} ({staff.id}){role}{lacks}"

    def _primary_note(self) -> str:
        if not self.activity.with_primary:
            return ""
        scenario = self.preview.scenario
        names = []
        for pid in self.preview.session.patient_ids:
            patient = scenario.patient_by_id.get(pid)
            therapist = scenario.staff_by_id.get(patient.primary_therapist) if patient and patient.primary_therapist else None
            if therapist is not None:
                names.append(f"{therapist.name or therapist.id} for {pid}")
        return f" It must include the primary therapist ({', '.join(names)})." if names else ""

    @staticmethod
    def _select(combo: QComboBox, value, strict: bool = False) -> None:
        index = combo.findData("" if value is None else value)
        if index < 0 and strict:
            raise KeyError(f"{value!r} is not offered")
        if index >= 0:
            combo.setCurrentIndex(index)

    @staticmethod
    def _tone(label: QLabel, tone: str) -> None:
        label.setProperty("tone", tone)  # colours: resources/ui/style.qss
        label.style().unpolish(label)
        label.style().polish(label)


PINNED_NOTE = ("The moved session is pinned: the next solve keeps it exactly and arranges the rest around it. "
               "Undo (Ctrl+Z) puts it back.")
BROKEN_NOTE = ("Moved anyway, the timetable shows a red warning until the rules hold again, and the next solve may "
               "find no timetable around a session that breaks a rule (unpin it to let the solve move it).")


def _first(rule_count: tuple[str, int]) -> tuple[int, str]:
    rule = rule_count[0]
    return (FIRST.index(rule) if rule in FIRST else len(FIRST), rule)


def _plain(message: str) -> str:
    """The validator's sentence without its rule id in front ("H4: Ana Brooks ..." -> "Ana Brooks ...")."""
    head, sep, rest = message.partition(": ")
    return rest if sep and head[:1] == "H" and head[1:].isdigit() else message


def _objective_words(check: MoveCheck) -> str:
    change = check.objective_change
    if abs(change) < 1e-9:
        trend = "no change"
    else:
        trend = f"{change:+.2f}, {'better' if change < 0 else 'worse'}"
    return f"Soft goals (lower is better): objective {check.objective_before:.2f} → {check.objective_after:.2f} ({trend})."

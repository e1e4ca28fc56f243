"""The weekly grid: program days as columns, opening hours as rows at the slot size.

Concurrent sessions share their day column side by side (lanes assigned per
cluster of overlapping sessions, as calendars do). Painting is plain QPainter;
the block rectangles are kept for clicks, tooltips and the context menu.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QMenu, QSizePolicy, QWidget

from scheduler.model import DAY_NAMES, Availability, Scenario, Session
from scheduler.timegrid import format_time, open_windows
from ui.models.pins import session_key
from ui import palette
from ui.icons import font_scale


@dataclass(frozen=True)
class Placed:
    session: Session
    lane: int
    lanes: int


def place(sessions: list[Session]) -> list[Placed]:
    """Lanes for one day: clusters of overlapping sessions, first free lane in each."""
    out: list[Placed] = []
    ordered = sorted(sessions, key=lambda s: (s.start, -s.end, s.activity_id, s.session_id))
    cluster: list[tuple[Session, int]] = []
    lane_ends: list[int] = []
    cluster_end = -1

    def flush():
        out.extend(Placed(s, lane, len(lane_ends)) for s, lane in cluster)

    for s in ordered:
        if cluster and s.start >= cluster_end:
            flush()
            cluster, lane_ends, cluster_end = [], [], -1
        lane = next((i for i, end in enumerate(lane_ends) if end <= s.start), None)
        if lane is None:
            lane_ends.append(s.end)
            lane = len(lane_ends) - 1
        else:
            lane_ends[lane] = s.end
        cluster.append((s, lane))
        cluster_end = max(cluster_end, s.end)
    flush()
    return out


_FORWARD = (Qt.Key.Key_Right, Qt.Key.Key_Down)
_MOVE = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2)
_KEYS = _FORWARD + _MOVE + (Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_Space)


class TimetableGrid(QWidget):
    """The week's sessions as blocks. Keyboard: the arrows move the selection from session to session in
    the order of the week (Home and End: the first and the last), Space pins or unpins the selected session,
    Enter or F2 moves it (the move dialog), and the menu key (or Shift+F10) opens its menu."""

    sessionClicked = Signal(object)  # Session | None
    pinRequested = Signal(object, bool)  # Session, pin
    moveRequested = Signal(object)  # Session
    showRect = Signal(QRectF)  # a block chosen from the keyboard: the scroll area brings it into view

    # Drawn for 9.5-pt text; each instance scales them with the application font (ui.icons.font_scale).
    HEADER_H = 40
    AXIS_W = 54
    MIN_LANE = 30
    MIN_PX_PER_MIN = 0.55
    NARROW = 84  # below this block width, labels switch to codes and surnames

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)  # for the per-block tooltip
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # sessions can be chosen and pinned without a mouse
        self._pixmap: QPixmap | None = None
        self._scenario: Scenario | None = None
        self._placed: dict[int, list[Placed]] = {}
        self._pinned: frozenset = frozenset()
        self._colours: dict[str, QColor] = {}
        self._selected = None
        self._shade: Availability | None = None
        self._rects: list[tuple[QRectF, Session]] = []
        self.empty_text = "No timetable yet. Press Solve (F5) to make one."
        scale = self.scale = font_scale()  # macOS's 13-pt text, or a larger system font: the grid grows with it
        self.HEADER_H, self.AXIS_W = round(40 * scale), round(54 * scale)
        self.MIN_LANE, self.MIN_PX_PER_MIN, self.NARROW = round(30 * scale), 0.55 * scale, round(84 * scale)
        self._title_font = QFont(self.font())
        self._title_font.setPointSizeF(8.5 * scale)
        self._title_font.setBold(True)
        self._detail_font = QFont(self.font())
        self._detail_font.setPointSizeF(8 * scale)
        self._tiny_font = QFont(self.font())
        self._tiny_font.setPointSizeF(6.5 * scale)
        self._tiny_font.setBold(True)

    # -- content --------------------------------------------------------------------------------

    def set_content(self, scenario: Scenario | None, sessions, pinned: frozenset = frozenset(),
                    shade: Availability | None = None, has_timetable: bool = True) -> None:
        self._scenario = scenario
        self._pinned = pinned
        self._shade = shade
        self._colours = palette.activity_colours(scenario)
        self._has_timetable = has_timetable
        by_day: dict[int, list[Session]] = {}
        for s in sessions:
            by_day.setdefault(s.day, []).append(s)
        self._placed = {day: place(items) for day, items in by_day.items()}
        self._rects = []
        keys = {session_key(s) for s in sessions}
        if self._selected is not None and self._selected not in keys:
            self._selected = None
        self._update_minimum_size()
        self._changed()

    def set_selected(self, session: Session | None) -> None:
        self._selected = None if session is None else session_key(session)
        self._changed()

    def _changed(self) -> None:
        self._pixmap = None
        self.update()

    def session_rects(self) -> list[tuple[QRectF, Session]]:
        """Block rectangles in widget coordinates (as last laid out)."""
        if not self._rects:
            self._layout()
        return list(self._rects)

    # -- geometry -------------------------------------------------------------------------------

    @property
    def _days(self) -> tuple[int, ...]:
        return self._scenario.program.week_days if self._scenario else (0, 1, 2, 3, 4)

    def _hours(self) -> tuple[int, int]:
        p = self._scenario.program if self._scenario else None
        return (p.open, p.close) if p else (8 * 60, 18 * 60)

    def _update_minimum_size(self) -> None:
        """A fixed minimum (no Python sizeHint override: layouts never call back into Python)."""
        lanes = max((pl.lanes for items in self._placed.values() for pl in items), default=1)
        opening, closing = self._hours()
        # Wide enough that each lane keeps a sliver of colour; beyond that, labels elide.
        width = self.AXIS_W + len(self._days) * max(110, min(lanes * self.MIN_LANE, 126)) + 2
        height = self.HEADER_H + int((closing - opening) * self.MIN_PX_PER_MIN) + 8
        self.setMinimumSize(width, height)

    def _y(self, minute: int) -> float:
        opening, closing = self._hours()
        usable = self.height() - self.HEADER_H - 8
        return self.HEADER_H + (minute - opening) * usable / max(1, closing - opening)

    def _day_width(self) -> float:
        return (self.width() - self.AXIS_W - 1) / max(1, len(self._days))

    def _day_x(self, column: int) -> float:
        return self.AXIS_W + column * self._day_width()

    def _layout(self) -> None:
        self._rects = []
        dw = self._day_width()
        for column, day in enumerate(self._days):
            x0 = self._day_x(column) + 3
            for pl in self._placed.get(day, ()):
                lane_w = (dw - 6) / pl.lanes
                top, bottom = self._y(pl.session.start), self._y(pl.session.end)
                rect = QRectF(x0 + pl.lane * lane_w, top + 1, lane_w - 2, bottom - top - 2)
                self._rects.append((rect, pl.session))

    def resizeEvent(self, event) -> None:
        self._rects = []
        self._pixmap = None
        super().resizeEvent(event)

    # -- painting -------------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        """Rendered into a pixmap when something changed; otherwise one blit (cheap while solving)."""
        ratio = self.devicePixelRatioF()
        if self._pixmap is None or self._pixmap.size() != self.size() * ratio:
            self._pixmap = QPixmap(self.size() * ratio)
            self._pixmap.setDevicePixelRatio(ratio)
            self._render(self._pixmap)
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._pixmap)
        painter.end()

    def _render(self, target: QPixmap) -> None:
        self._layout()
        p = QPainter(target)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))
        self._paint_shade(p)
        self._paint_lines(p)
        self._paint_header(p)
        for rect, s in self._rects:
            self._paint_block(p, rect, s)
        if not self._rects:
            p.setPen(palette.MUTED)
            text = self.empty_text if not getattr(self, "_has_timetable", False) else "No sessions for this selection."
            area = QRectF(self.AXIS_W, self.HEADER_H, self.width() - self.AXIS_W, self.height() - self.HEADER_H)
            p.drawText(area, int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap), text)
        p.end()

    def _paint_shade(self, p: QPainter) -> None:
        if self._shade is None or self._scenario is None or self._shade.unrestricted:
            return
        program = self._scenario.program
        shade = QColor("#eef0f3")
        for column, day in enumerate(self._days):
            x, w = self._day_x(column), self._day_width()
            cursor = program.open
            for win in list(open_windows(self._shade, program, day)) + [None]:
                start = program.close if win is None else win.start
                if start > cursor:
                    p.fillRect(QRectF(x, self._y(cursor), w, self._y(start) - self._y(cursor)), shade)
                cursor = max(cursor, program.close if win is None else win.end)

    def _paint_lines(self, p: QPainter) -> None:
        opening, closing = self._hours()
        slot = self._scenario.program.slot_minutes if self._scenario else 15
        right = self.width() - 1
        small = QFont(self.font())
        small.setPointSizeF(8 * self.scale)
        p.setFont(small)
        fm = QFontMetrics(small)
        for minute in range(opening, closing + 1, slot):
            y = round(self._y(minute)) + 0.5
            on_hour = minute % 60 == 0
            p.setPen(QPen(palette.HOUR_LINE if on_hour else palette.GRID_LINE, 1))
            p.drawLine(QPointF(self.AXIS_W - (6 if on_hour else 0), y), QPointF(right, y))
            if on_hour and minute < closing:
                p.setPen(palette.MUTED)
                p.drawText(QRectF(0, y - 1, self.AXIS_W - 9, fm.height()), Qt.AlignmentFlag.AlignRight, format_time(minute))
        p.setPen(QPen(palette.HOUR_LINE, 1))
        for column in range(len(self._days) + 1):
            x = round(self._day_x(column)) + 0.5
            p.drawLine(QPointF(x, 0), QPointF(x, self._y(closing)))

    def _paint_header(self, p: QPainter) -> None:
        p.fillRect(QRectF(0, 0, self.width(), self.HEADER_H), palette.HEADER_BG)
        p.setPen(QPen(palette.HOUR_LINE, 1))
        p.drawLine(QPointF(0, self.HEADER_H - 0.5), QPointF(self.width(), self.HEADER_H - 0.5))
        program = self._scenario.program if self._scenario else None
        for column, day in enumerate(self._days):
            rect = QRectF(self._day_x(column), 4, self._day_width(), self.HEADER_H - 8)
            date = program.date_of(day) if program else None
            p.setFont(self._title_font)
            p.setPen(palette.TEXT)
            if date is None:
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, DAY_NAMES[day])
                continue
            top, bottom = rect.adjusted(0, 0, 0, -rect.height() / 2), rect.adjusted(0, rect.height() / 2, 0, 0)
            p.drawText(top, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, DAY_NAMES[day])
            p.setFont(self._detail_font)
            p.setPen(palette.MUTED)
            p.drawText(bottom, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, date.strftime("%d %b"))

    def _paint_block(self, p: QPainter, rect: QRectF, s: Session) -> None:
        fill = self._colours.get(s.activity_id, QColor(palette.FILLS[0]))
        key = session_key(s)
        selected = key == self._selected
        p.setPen(QPen(palette.ACCENT if selected else palette.border_of(fill), 2 if selected else 1))
        p.setBrush(fill)
        p.drawRoundedRect(rect, 3, 3)
        pinned = key in self._pinned
        if pinned:
            self._paint_pin(p, QPointF(rect.right() - 7, rect.top() + 7))
        inner = rect.adjusted(4, 2, -(12 if pinned else 3), -2)
        if inner.width() < 12 or rect.height() < 7:
            return
        if inner.height() < QFontMetrics(self._title_font).height():
            # A short block (a 15-minute check): its code in a small font, centred.
            p.setFont(self._tiny_font)
            p.setPen(palette.TEXT)
            fm = QFontMetrics(self._tiny_font)
            text = fm.elidedText(self._label_lines(s, inner.width())[0], Qt.TextElideMode.ElideRight, int(inner.width()))
            p.drawText(rect.adjusted(4, 0, -3, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
            return
        lines = self._label_lines(s, inner.width())
        y = inner.top()
        for i, text in enumerate(lines):
            font = self._title_font if i == 0 else self._detail_font
            fm = QFontMetrics(font)
            if i > 0 and y + fm.height() > inner.bottom() + 2:
                break
            p.setFont(font)
            p.setPen(palette.TEXT if i == 0 else palette.MUTED.darker(120))
            width = int(inner.width() + (12 if pinned and i > 0 else 0))
            p.drawText(QPointF(inner.left(), y + fm.ascent()), fm.elidedText(text, Qt.TextElideMode.ElideRight, width))
            y += fm.height()

    @staticmethod
    def _paint_pin(p: QPainter, centre: QPointF) -> None:
        p.save()
        p.setPen(QPen(QColor("#7a1f1f"), 1.4))
        p.drawLine(centre + QPointF(0, 2), centre + QPointF(0, 7))
        p.setBrush(QColor("#d64545"))
        p.drawEllipse(centre, 3.2, 3.2)
        p.restore()

    def _label_lines(self, s: Session, width: float) -> list[str]:
        """Wide blocks: name, time, staff, room and patients. Narrow ones: code, surnames, room."""
        sc = self._scenario
        activity = sc.activity_by_id.get(s.activity_id) if sc else None
        room = sc.room_by_id.get(s.room_id) if sc and s.room_id else None
        n = len(s.patient_ids)
        people = s.patient_ids[0] if n == 1 else f"{n} patients"
        if width < self.NARROW:
            surnames = ", ".join(self._staff_name(i).split()[-1] for i in s.staff_ids)
            return [s.activity_id, surnames, s.room_id or "tele", people if n == 1 else f"{n} pts"]
        title = activity.name if activity else s.activity_id
        staff = ", ".join(self._staff_name(i) for i in s.staff_ids)
        room_text = room.name if room else (s.room_id or "telehealth")
        return [title, f"{format_time(s.start)}–{format_time(s.end)}", staff, f"{room_text} · {people}"]

    def _staff_name(self, staff_id: str) -> str:
        staff = self._scenario.staff_by_id.get(staff_id) if self._scenario else None
        return staff.name if staff and staff.name else staff_id

    # -- interaction ----------------------------------------------------------------------------

    def session_at(self, pos: QPointF) -> Session | None:
        for rect, s in reversed(self.session_rects()):
            if rect.contains(pos):
                return s
        return None

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            s = self.session_at(event.position())
            self.set_selected(s)
            self.sessionClicked.emit(s)
        super().mousePressEvent(event)

    def contextMenuEvent(self, event) -> None:
        if event.reason() == event.Reason.Keyboard:  # the menu key: the selected session's menu, at the block
            found = self._selected_rect()
            if found is None:
                return
            rect, s = found
            where = self.mapToGlobal(rect.center().toPoint())
        else:
            s = self.session_at(QPointF(event.pos()))
            if s is None:
                return
            where = event.globalPos()
        self.set_selected(s)
        self.sessionClicked.emit(s)
        self.menu = QMenu(self)
        move = self.menu.addAction("Move or edit session…\tF2")  # the key is the grid's (keyPressEvent)
        move.triggered.connect(lambda: self.moveRequested.emit(s))
        pinned = session_key(s) in self._pinned
        action = self.menu.addAction("Unpin session" if pinned else "Pin session (keep it in the next solve)")
        action.triggered.connect(lambda: self.pinRequested.emit(s, not pinned))
        self.menu.popup(where)

    def keyPressEvent(self, event) -> None:
        key = event.key()
        order = sorted(self.session_rects(), key=lambda rs: (self._days.index(rs[1].day) if rs[1].day in self._days
                                                             else len(self._days), rs[1].start, rs[0].x()))
        if not order or key not in _KEYS:
            super().keyPressEvent(event)
            return
        found = self._selected_rect()
        at = next((i for i, (_r, s) in enumerate(order) if found is not None and s is found[1]), None)
        if key == Qt.Key.Key_Space:
            if found is not None:
                self.pinRequested.emit(found[1], session_key(found[1]) not in self._pinned)
            return
        if key in _MOVE:
            if found is not None:
                self.moveRequested.emit(found[1])
            return
        if key == Qt.Key.Key_Home or (at is None and key in _FORWARD):
            at = 0
        elif key == Qt.Key.Key_End or at is None:
            at = len(order) - 1
        else:
            at = max(0, min(len(order) - 1, at + (1 if key in _FORWARD else -1)))
        rect, s = order[at]
        self.set_selected(s)
        self.sessionClicked.emit(s)
        self.showRect.emit(rect)

    def _selected_rect(self) -> tuple[QRectF, Session] | None:
        return next(((r, s) for r, s in self.session_rects() if session_key(s) == self._selected), None)

    def mouseMoveEvent(self, event) -> None:
        s = self.session_at(event.position())
        text = "" if s is None else self._tooltip(s)
        if text != self.toolTip():
            self.setToolTip(text)
        super().mouseMoveEvent(event)

    def _tooltip(self, s: Session) -> str:
        title, when, staff, place_ = self._label_lines(s, 10_000)
        pin = "<br><i>Pinned: kept by the next solve</i>" if session_key(s) in self._pinned else ""
        return f"<b>{title}</b><br>{DAY_NAMES[s.day]} {when}<br>{staff}<br>{place_}{pin}"

"""Read-only table models for the result panel: soft-goal terms, patient compliance, waitlist."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from scheduler.model import DAY_NAMES
from ui import palette


class _ReadOnlyModel(QAbstractTableModel):
    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list = []

    def set_rows(self, rows) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None


def _num(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.2f}"


def _hours(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


class TermsTableModel(_ReadOnlyModel):
    """One row per soft goal (name, weight, value, cost) and a total row."""

    HEADERS = ("Soft goal", "Weight", "Value", "Cost")
    NUMERIC = {1, 2, 3}

    def set_terms(self, terms) -> None:
        rows = [(f"{t.code} {t.name}", _num(t.weight), _num(t.value), _num(t.cost)) for t in terms]
        if rows:
            rows.append(("Objective (total)", "", "", _num(sum(t.cost for t in terms))))
        self.set_rows(rows)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in self.NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and index.row() == len(self._rows) - 1:
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        return None


class ComplianceTableModel(_ReadOnlyModel):
    """Per patient: attended days, hours on each program day and week hours, against their limits.

    Columns: Patient, Days, one column per program day, Week hours, Status.
    """

    DAYS = 1
    FIRST_DAY = 2

    def __init__(self, parent=None):
        super().__init__(parent)
        self._days: tuple[int, ...] = (0, 1, 2, 3, 4)
        self._names: dict[str, str] = {}

    @property
    def HEADERS(self) -> tuple[str, ...]:  # noqa: N802 - the base class reads it as a constant
        return ("Patient", "Days", *(DAY_NAMES[d] for d in self._days), "Week h", "Status")

    @property
    def WEEK(self) -> int:  # noqa: N802
        return self.FIRST_DAY + len(self._days)

    @property
    def STATUS(self) -> int:  # noqa: N802
        return self.WEEK + 1

    def set_compliance(self, rows, names: dict[str, str] | None = None, days: tuple[int, ...] | None = None) -> None:
        self._names = names or {}
        if days is not None:
            self._days = tuple(days)
        self.set_rows(rows)

    def day_of(self, column: int) -> int | None:
        i = column - self.FIRST_DAY
        return self._days[i] if 0 <= i < len(self._days) else None

    def out_of_range(self, row: int, column: int) -> bool:
        c = self._rows[row]
        lim = c.limits
        if column == self.DAYS:
            return not lim.min_days <= len(c.days) <= lim.max_days
        if column == self.WEEK:
            return not lim.min_week_hours - 1e-6 <= c.week_hours <= lim.max_week_hours + 1e-6
        day = self.day_of(column)
        if day is not None and day in c.day_hours:
            return not lim.min_hours - 1e-6 <= c.day_hours[day] <= lim.max_hours + 1e-6
        return False

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        c = self._rows[index.row()]
        col = index.column()
        lim = c.limits
        day = self.day_of(col)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return f"{c.patient_id}  {self._names.get(c.patient_id, '')}".rstrip()
            if col == self.DAYS:
                return f"{len(c.days)} ({_num(lim.min_days)}–{_num(lim.max_days)})"
            if day is not None:
                return _hours(c.day_hours[day]) if day in c.day_hours else ""
            if col == self.WEEK:
                return f"{_hours(c.week_hours)} ({_num(lim.min_week_hours)}–{_num(lim.max_week_hours)})"
            return "OK" if c.ok else f"{len(c.problems)} problem{'s' if len(c.problems) > 1 else ''}"
        if role == Qt.ItemDataRole.TextAlignmentRole and col != 0 and col != self.STATUS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if day is not None:
                return f"Program hours on {DAY_NAMES[day]}; allowed {_num(lim.min_hours)}–{_num(lim.max_hours)} h on an attended day"
            if not c.ok:
                return "\n".join(c.problems)
            return None
        if role == Qt.ItemDataRole.BackgroundRole and self.out_of_range(index.row(), col):
            return palette.BAD_BG
        if role == Qt.ItemDataRole.ForegroundRole:
            if self.out_of_range(index.row(), col) or (col == self.STATUS and not c.ok):
                return palette.BAD
            if col == self.STATUS:
                return palette.OK
        return None


class StaffLoadTableModel(_ReadOnlyModel):
    """Scheduled sessions and hours per staff member this week, against their weekly cap."""

    HEADERS = ("Staff", "Role", "Sessions", "Hours", "Cap")

    def set_load(self, scenario, timetable) -> None:
        rows = []
        if scenario is not None and timetable is not None:
            for st in scenario.staff:
                mine = timetable.of_staff(st.id)
                rows.append((st.name or st.id, st.role, len(mine), sum(x.minutes for x in mine) / 60, st.max_hours_week))
        self.set_rows(rows)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        name, role_text, sessions, hours, cap = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (name, role_text, str(sessions), _hours(hours), "" if cap is None else _num(cap))[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and col == 3 and cap is not None and hours > cap + 1e-6:
            return palette.BAD
        return None


class WaitlistTableModel(_ReadOnlyModel):
    HEADERS = ("Patient", "Reason")

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if index.isValid() and role == Qt.ItemDataRole.DisplayRole:
            entry = self._rows[index.row()]
            return entry.patient_id if index.column() == 0 else entry.reason
        return None

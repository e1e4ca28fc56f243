"""Dialogs. None of them blocks: the window opens them with ``open()``/``show()`` and acts on
``accepted``, so tests drive the same code through the window's methods."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView,
    QLabel, QLineEdit, QPushButton, QTableWidget, QTableWidgetItem, QTextBrowser, QVBoxLayout,
)


class ExportDialog(QDialog):
    """Where to write the timetable's CSV set, and whether to leave patient names out."""

    def __init__(self, folder: str = "", parent=None, warning: str = "", tone: str = "bad"):
        super().__init__(parent)
        self.setWindowTitle("Export timetable")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        # Said before anything is written: the timetable breaks hard rules of the current data (its
        # summary.json will say "invalid"), or the data changed since it was made.
        self.warning = QLabel(warning)
        self.warning.setObjectName("warningBanner")
        self.warning.setProperty("tone", "bad" if tone == "bad" else "warn")  # colours: resources/ui/style.qss
        self.warning.setWordWrap(True)
        self.warning.setVisible(bool(warning))
        layout.addWidget(self.warning)
        intro = QLabel("Writes sessions.csv, patient_schedule.csv, staff_schedule.csv, room_schedule.csv and "
                       "summary.json (and waitlist.csv when patients were left out) into a folder.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        row = QHBoxLayout()
        self.folder = QLineEdit(folder)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        form.addRow("Folder", row)
        layout.addLayout(form)
        self.deidentify = QCheckBox("De-identified (patient ids only)")
        self.deidentify.setToolTip("Leave patient names out of every file, e.g. to share the timetable by e-mail")
        layout.addWidget(self.deidentify)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export timetable to", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _accept(self) -> None:
        if self.folder.text().strip():
            self.accept()


class ProblemsDialog(QDialog):
    """Input problems (errors or warnings), one row each: file, row, column, value, problem."""

    HEADERS = ("File", "Row", "Column", "Value", "Problem")

    def __init__(self, title: str, intro: str, problems, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(860, 380)
        layout = QVBoxLayout(self)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.table = QTableWidget(len(problems), len(self.HEADERS))
        self.table.setHorizontalHeaderLabels(self.HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        for r, problem in enumerate(problems):
            values = (problem.file, "" if problem.row is None else str(problem.row), problem.column or "",
                      problem.value or "", problem.message)
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setToolTip(str(problem))
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
        self.table.setCurrentCell(-1, -1)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, ...]]:
        return [tuple(self.table.item(r, c).text() for c in range(self.table.columnCount()))
                for r in range(self.table.rowCount())]


FORMATS_HTML = """
<h3>Scenario: a folder of CSV files or one XLSX workbook</h3>
<p>UTF-8, a header row, comma-separated. A workbook carries one sheet per file, same columns.</p>
<table cellspacing="0" cellpadding="3">
<tr><td><b>program.csv</b></td><td><code>key,value</code> rows: name, week_start, days, open, close,
 slot_minutes, max_gap_minutes, min/max_days, min/max_hours, hours_basis, min/max_week_hours, weight_*</td></tr>
<tr><td><b>activities.csv</b></td><td>id, name, mode (group/individual/family), duration_min, min_size, max_size,
 skill, staff_count, room_kind (group/office/none), cohort, tag, with_primary, in_block</td></tr>
<tr><td><b>staff.csv</b></td><td>id, name, role, skills (;-separated), availability, max_hours_day, max_hours_week</td></tr>
<tr><td><b>rooms.csv</b></td><td>id, name, kind, capacity, availability</td></tr>
<tr><td><b>patients.csv</b></td><td>id, name, cohort, tags, min/max_days, min/max_hours, min/max_week_hours,
 availability, family_availability, primary_therapist, requirements, preferred_days, status</td></tr>
<tr><td><b>previous_sessions.csv</b></td><td>optional: last week's timetable; rows with pinned=yes are kept exactly</td></tr>
</table>
<p><b>Availability</b>: entries separated by <code>;</code>, each <code>DAYS HH:MM-HH:MM</code>, e.g.
<code>Mon-Fri 09:00-13:00; Sat 10:00-12:00</code>. Empty means whenever the program is open.</p>
<p><b>Requirements</b>: weekly counts per activity, exact or a range: <code>PROC=3; CBT=2-3; IND=1; MED=1</code>.</p>
<h3>Timetable export</h3>
<p><b>sessions.csv</b>: session_id, day, date, start, end, activity_id, activity_name, staff_ids, room_id,
patient_ids, pinned; beside it patient_schedule.csv, staff_schedule.csv, room_schedule.csv,
summary.json (status, objective, bound, gap, seconds, terms) and waitlist.csv in best-effort mode.</p>
<p>A problem in an input file is reported with its file, row, column and value; nothing is imported until all are fixed.</p>
"""


class FormatsDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("File formats")
        self.resize(760, 560)
        layout = QVBoxLayout(self)
        browser = QTextBrowser()
        browser.setHtml(FORMATS_HTML)
        layout.addWidget(browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


ABOUT_HTML = """<h3>IOP Scheduler</h3>
<p>Optimal weekly timetables for mental-health Intensive Outpatient Programs.</p>
<p>The timetable is optimised with Google OR-Tools CP-SAT; every result states how close it is to the best
possible one, and is checked by an independent validator against every hard rule.</p>
<p>Your data stays on this computer: the app makes no network connections.</p>"""


def about_dialog(parent=None) -> QDialog:
    dialog = QDialog(parent)
    dialog.setWindowTitle("About IOP Scheduler")
    layout = QVBoxLayout(dialog)
    label = QLabel(ABOUT_HTML)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setMinimumWidth(380)
    layout.addWidget(label)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
    buttons.accepted.connect(dialog.accept)
    layout.addWidget(buttons)
    return dialog

"""The result tab: status in words, objective/bound/gap, soft-goal terms, patient compliance,
the validator's violations and, when there is no timetable, the explanations and the waitlist."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QFrame, QGridLayout, QHBoxLayout, QHeaderView, QLabel, QListWidget, QPushButton, QSizePolicy, QSplitter, QTableView,
    QTabWidget, QVBoxLayout, QWidget,
)

from ui.icons import font_scale
from ui.models.result_models import ComplianceTableModel, StaffLoadTableModel, TermsTableModel, WaitlistTableModel
from ui.outcome import SolveOutcome, status_words
from solver.result import SolveStatus


def _table(model) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.verticalHeader().setVisible(False)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.horizontalHeader().setHighlightSections(False)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(round(26 * font_scale()))
    return view


def _page(widget: QWidget, note: QLabel) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(10, 8, 10, 10)
    note.setObjectName("muted")
    note.setWordWrap(True)
    layout.addWidget(note)
    layout.addWidget(widget, 1)
    return page


def _section(title: str, widget: QWidget, note: QLabel | None = None) -> QFrame:
    frame = QFrame()
    frame.setObjectName("card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(12, 10, 12, 10)
    label = QLabel(title)
    label.setObjectName("sectionLabel")
    label.setWordWrap(True)  # large text: the title wraps rather than widening the window
    layout.addWidget(label)
    if note is not None:
        note.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout.addWidget(note)
    layout.addWidget(widget, 1)
    return frame


class ResultPanel(QWidget):
    bestEffortRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(10)

        header = QFrame()
        header.setObjectName("card")
        head = QHBoxLayout(header)
        head.setContentsMargins(16, 12, 16, 12)
        words = QVBoxLayout()
        self.headline = QLabel()
        self.headline.setObjectName("headline")
        self.headline.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setObjectName("muted")
        self.detail.setWordWrap(True)
        words.addWidget(self.headline)
        words.addWidget(self.detail)
        head.addLayout(words, 1)
        metrics = QGridLayout()
        metrics.setHorizontalSpacing(22)
        self.metric_labels: dict[str, QLabel] = {}
        for column, name in enumerate(("Objective", "Bound", "Gap", "Time", "First timetable")):
            caption = QLabel(name)
            caption.setObjectName("caption")
            value = QLabel("—")
            value.setObjectName("metric")
            metrics.addWidget(caption, 0, column)
            metrics.addWidget(value, 1, column)
            self.metric_labels[name] = value
        head.addLayout(metrics)
        layout.addWidget(header)

        self.terms = TermsTableModel(self)
        self.compliance = ComplianceTableModel(self)
        self.waitlist = WaitlistTableModel(self)
        self.terms_view = _table(self.terms)
        self.terms_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.terms_view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.compliance_view = _table(self.compliance)
        self.compliance.modelReset.connect(self._size_compliance_columns)
        self.staff_load = StaffLoadTableModel(self)
        self.staff_view = _table(self.staff_load)
        self.staff_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.staff_view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.waitlist_view = _table(self.waitlist)
        self.waitlist_view.horizontalHeader().setStretchLastSection(True)
        self.violations = QListWidget()
        self.violations.setWordWrap(True)
        self.violations_note = QLabel()
        self.violations_note.setWordWrap(True)
        self.explanations = QListWidget()
        self.explanations.setWordWrap(True)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(10)
        self.left_layout = left_layout
        left_layout.addWidget(_section("Soft goals (what the objective is made of)", self.terms_view), 0)
        self.violations_card = _section("Hard rules (checked by the independent validator)", self.violations, self.violations_note)
        left_layout.addWidget(self.violations_card, 0)
        self.explain_card = _section("Why there is no timetable", self.explanations)
        self.best_effort_button = QPushButton("Solve in best-effort mode (timetable with a waitlist)")
        self.best_effort_button.setToolTip("Schedule as many patients as the rules allow and list who is left out, and why")
        self.best_effort_button.clicked.connect(self.bestEffortRequested)
        self.explain_card.layout().addWidget(self.best_effort_button, 0, Qt.AlignmentFlag.AlignLeft)
        left_layout.addWidget(self.explain_card, 1)
        left_layout.addStretch(1)

        # Right: the per-person tables, one tab each.
        self.compliance_note = QLabel()
        self.compliance_note.setObjectName("muted")
        self.compliance_page = _page(self.compliance_view, self.compliance_note)
        self.staff_page = _page(self.staff_view, QLabel("Scheduled sessions and hours per staff member (S4 balances the therapists')."))
        self.waitlist_page = _page(self.waitlist_view, QLabel("Patients best-effort mode left out, each with the reason."))
        self.details = QTabWidget()
        self.details.setObjectName("details")
        self.details.addTab(self.compliance_page, "Patient compliance")
        self.details.addTab(self.staff_page, "Staff hours")
        self.details.addTab(self.waitlist_page, "Waitlist")

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.details)
        splitter.setSizes([400, 730])
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)
        self.show_outcome(None)

    def show_outcome(self, outcome: SolveOutcome | None, names: dict[str, str] | None = None, stale: bool = False,
                     scenario=None) -> None:
        result = outcome.result if outcome else None
        hand = outcome.hand if outcome is not None else None
        headline, detail = status_words(result, hand)
        if outcome is not None and outcome.name:
            detail += f"  Saved as “{outcome.name}”."
        if stale:
            detail += "  The clinic data changed since: solve again to update it."
        tone = "none" if result is None else {
            SolveStatus.OPTIMAL: "ok", SolveStatus.FEASIBLE: "ok", SolveStatus.INFEASIBLE: "bad",
            SolveStatus.INVALID: "bad"}.get(result.status, "warn")
        # A timetable the current data no longer matches is not "optimal" any more, whatever it scored.
        if outcome is not None and outcome.timetable is not None and outcome.violations and hand is not None:
            detail = (f"It breaks {len(outcome.violations)} hard rule(s) (listed below): undo the move (Ctrl+Z), "
                      f"move the session again or solve again. {detail}")
            headline, tone = f"Breaks {len(outcome.violations)} hard rule(s): do not use", "bad"
        elif outcome is not None and outcome.timetable is not None and outcome.violations:
            detail = (f"It breaks {len(outcome.violations)} hard rule(s) of the current clinic data (listed below): "
                      f"solve again. When it was made: {headline}. {detail}")
            headline, tone = f"Breaks {len(outcome.violations)} hard rule(s): do not use", "bad"
        elif outcome is not None and outcome.timetable is not None and stale:
            detail = f"When it was made: {headline}. {detail}"
            headline, tone = "Out of date", "warn"
        self.headline.setText(headline)
        self.detail.setText(detail)
        self.headline.setProperty("tone", tone)
        self.headline.style().unpolish(self.headline)
        self.headline.style().polish(self.headline)

        gap = result.gap if result else None
        values = {
            "Objective": None if result is None or result.objective is None else f"{result.objective:.2f}",
            "Bound": None if result is None or result.bound is None else f"{result.bound:.2f}",
            # A timetable edited by hand has no bound: the solve's proof was about its own timetable.
            "Gap": "edited by hand" if hand is not None else None if gap is None else f"{100 * gap:.1f}%",
            "Time": None if result is None else f"{result.seconds:.1f} s",
            "First timetable": None if result is None or result.first_solution_seconds is None
            else f"{result.first_solution_seconds:.1f} s",
        }
        for name, text in values.items():
            self.metric_labels[name].setText(text or "—")

        self.terms.set_terms(result.terms if result else ())
        self._fit_height(self.terms_view)
        scenario = scenario or (outcome.scenario if outcome else None)
        days = scenario.program.week_days if scenario else None
        self.compliance.set_compliance(outcome.compliance if outcome else (), names, days)
        self.staff_load.set_load(scenario, outcome.timetable if outcome else None)
        self.details.setTabVisible(self.details.indexOf(self.staff_page), bool(outcome and outcome.timetable is not None))
        bad = sum(1 for c in (outcome.compliance if outcome else ()) if not c.ok)
        self.compliance_note.setText(
            "" if outcome is None or not outcome.compliance
            else (f"{bad} patient(s) out of range (highlighted)." if bad else
                  f"All {len(outcome.compliance)} patients within their limits (IOP: 9–19 h a week)."))
        self._show_violations(outcome)
        explanations = list(result.explanations) if result else []
        self.explanations.clear()
        self.explanations.addItems(explanations or ([result.message] if result and result.message and not result.timetable else []))
        self.explain_card.setVisible(self.explanations.count() > 0)
        self.best_effort_button.setVisible(result is not None and result.timetable is None
                                           and result.status in (SolveStatus.INFEASIBLE, SolveStatus.UNKNOWN))
        self.waitlist.set_rows(result.waitlist if result else ())
        index = self.details.indexOf(self.waitlist_page)
        self.details.setTabVisible(index, bool(result and result.waitlist))
        self.details.setTabText(index, f"Waitlist ({len(result.waitlist)})" if result and result.waitlist else "Waitlist")

    def waitlist_shown(self) -> bool:
        return self.details.isTabVisible(self.details.indexOf(self.waitlist_page))

    def _size_compliance_columns(self) -> None:
        """Text columns fit their contents; the day columns share what is left."""
        header = self.compliance_view.horizontalHeader()
        header.setMinimumSectionSize(36)
        for column in range(self.compliance.columnCount()):
            day = self.compliance.day_of(column) is not None
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch if day else QHeaderView.ResizeMode.ResizeToContents)

    @staticmethod
    def _fit_height(view: QTableView) -> None:
        """Size a short table to its rows, so the cards below get the room."""
        rows = view.verticalHeader().defaultSectionSize() * view.model().rowCount()
        view.setFixedHeight(view.horizontalHeader().sizeHint().height() + rows + 2 * view.frameWidth() + 2)

    def _show_violations(self, outcome: SolveOutcome | None) -> None:
        self.violations.clear()
        if outcome is None or outcome.timetable is None:
            self.violations_card.setVisible(False)
            return
        self.violations_card.setVisible(True)
        if not outcome.violations:
            waiting = len(outcome.result.waitlist)
            self.violations_note.setText(
                "None: the timetable keeps every hard rule (H1–H9)."
                + (f" ({waiting} waitlisted patient(s) are not in it.)" if waiting else ""))
            self.violations_note.setProperty("tone", "ok")
            self.violations.setVisible(False)
        else:
            self.violations_note.setText(f"{len(outcome.violations)} violation(s): this timetable must not be used.")
            self.violations_note.setProperty("tone", "bad")
            self.violations.setVisible(True)
            self.violations.addItems([violation_text(v) for v in outcome.violations])
        self.violations_note.style().unpolish(self.violations_note)
        self.violations_note.style().polish(self.violations_note)


def violation_text(v) -> str:
    """"H3: patient P01 ..." — the validator's messages mostly name their rule already."""
    return v.message if v.message.startswith(f"{v.rule}") else f"{v.rule}: {v.message}"

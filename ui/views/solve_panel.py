"""The solve panel: time limit, Solve/Cancel, and live progress (elapsed, objective, bound, gap, chart).

Signal handlers here are O(1): a progress report updates four labels and
appends one point; the elapsed clock is a 200 ms QTimer.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox, QFormLayout, QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton, QSpinBox, QVBoxLayout,
)

from solver.result import Progress, SolveParams
from ui.views.progress_chart import ProgressChart


class SolvePanel(QFrame):
    solveRequested = Signal()
    cancelRequested = Signal()
    savedChosen = Signal(str)  # the name of a saved timetable to show

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("solvePanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        title = QLabel("Solve")
        title.setObjectName("panelTitle")
        layout.addWidget(title)

        form = QFormLayout()
        self.time_limit = QSpinBox()
        self.time_limit.setRange(1, 3600)
        self.time_limit.setValue(round(SolveParams().time_limit))  # the CLI's default too
        self.time_limit.setSuffix(" s")
        self.time_limit.setToolTip("The solver stops at this limit and keeps the best timetable found")
        form.addRow("Time limit", self.time_limit)
        layout.addLayout(form)
        self.best_effort = QCheckBox("Best effort (waitlist who cannot fit)")
        self.best_effort.setToolTip("When no timetable holds everyone, schedule as many patients as possible")
        layout.addWidget(self.best_effort)

        buttons = QHBoxLayout()
        self.solve_button = QPushButton("Solve")
        self.solve_button.setObjectName("primary")
        self.solve_button.setToolTip("Make the optimal timetable (F5)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop and keep the best timetable found so far (Esc)")
        self.cancel_button.setEnabled(False)
        buttons.addWidget(self.solve_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        self.solve_button.clicked.connect(self.solveRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)

        self.state = QLabel("Ready")
        self.state.setObjectName("muted")
        self.state.setWordWrap(True)
        layout.addWidget(self.state)
        self.time_bar = QProgressBar()
        self.time_bar.setTextVisible(False)
        self.time_bar.setFixedHeight(6)
        self.time_bar.setRange(0, 1000)
        layout.addWidget(self.time_bar)

        numbers = QFormLayout()
        numbers.setVerticalSpacing(4)
        self.elapsed_label = QLabel("—")
        self.objective_label = QLabel("—")
        self.bound_label = QLabel("—")
        self.gap_label = QLabel("—")
        for label in (self.elapsed_label, self.objective_label, self.bound_label, self.gap_label):
            label.setAlignment(Qt.AlignmentFlag.AlignRight)
            label.setObjectName("number")
        numbers.addRow("Elapsed", self.elapsed_label)
        numbers.addRow("Best objective", self.objective_label)
        numbers.addRow("Best bound", self.bound_label)
        numbers.addRow("Gap", self.gap_label)
        box = QFrame()
        box.setObjectName("numbers")
        box.setLayout(numbers)
        layout.addWidget(box)
        self.chart = ProgressChart()
        self.chart.setMaximumHeight(230)
        layout.addWidget(self.chart, 1)
        saved_label = QLabel("Saved timetables")
        saved_label.setObjectName("sectionLabel")
        layout.addWidget(saved_label)
        self.saved = QListWidget()
        self.saved.setToolTip("Double-click to show a saved timetable")
        self.saved.itemActivated.connect(lambda item: self.savedChosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        layout.addWidget(self.saved, 1)

        self._clock = QElapsedTimer()
        self._limit = SolveParams().time_limit
        self.timer = QTimer(self)
        self.timer.setInterval(200)
        self.timer.timeout.connect(self._tick)
        self.last_progress: Progress | None = None
        self.progress_count = 0
        self._patients = 0
        self._best_effort = False
        self._complete = True

    def set_saved(self, infos, current: str = "") -> None:
        """Saved timetables (newest first): name, status and gap."""
        self.saved.clear()
        for info in infos:
            gap = "" if info.gap is None else f", gap {100 * info.gap:.1f}%"
            item = QListWidgetItem(f"{info.name}\n{info.status or 'unknown'}{gap}")
            item.setData(Qt.ItemDataRole.UserRole, info.name)
            item.setToolTip(f"{info.name}: status {info.status}, objective {info.objective}")
            if info.name == current:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.saved.addItem(item)

    def params(self) -> SolveParams:
        return SolveParams(time_limit=float(self.time_limit.value()), best_effort=self.best_effort.isChecked())

    # -- state changes (called by the window) -------------------------------------------------

    def solving_started(self, time_limit: float, patients: int = 0, best_effort: bool = False) -> None:
        """``patients``: how many the clinic has; ``best_effort``: the solve reports partial timetables
        (patients not placed yet), whose gap means nothing."""
        self._limit = max(1.0, time_limit)
        self._patients = patients
        self._best_effort = best_effort
        self._complete = not best_effort  # a complete timetable was reported
        self.last_progress = None
        self.progress_count = 0
        self.chart.clear(self._limit)
        for label in (self.objective_label, self.bound_label, self.gap_label):
            label.setText("—")
        self.state.setText("Solving… looking for a first timetable")
        self.solve_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.time_limit.setEnabled(False)
        self.best_effort.setEnabled(False)
        self._clock.start()
        self.timer.start()
        self._tick()

    def cancelling(self) -> None:
        self.state.setText("Cancelling… keeping the best timetable found")
        self.cancel_button.setEnabled(False)

    def solving_finished(self, headline: str, result=None) -> None:
        self.timer.stop()
        self._tick()
        if result is not None:
            self._show_final(result)
        self.chart.flush()
        if self.chart.points:
            self.chart.set_elapsed(max(self.elapsed_seconds, self.chart.points[-1][0]))
        self.state.setText(headline)
        self.solve_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.time_limit.setEnabled(True)
        self.best_effort.setEnabled(True)

    def show_progress(self, progress: Progress) -> None:
        """O(1) per improving solution."""
        self.last_progress = progress
        self.progress_count += 1
        placed = None  # known when the progress says (or carries its timetable)
        if progress.unplaced is not None:
            placed = self._patients - progress.unplaced
        elif progress.timetable is not None:
            placed = len({p for s in progress.timetable.sessions for p in s.patient_ids})
        if placed is not None and self._best_effort:
            self._complete = placed >= self._patients
        self.objective_label.setText(f"{progress.objective:.2f}")
        if not self._complete:
            # A partial timetable (best effort, patients still unplaced): its bound and gap mean nothing yet.
            self.bound_label.setText("—")
            self.gap_label.setText("—")
            self.state.setText(f"Solving… best so far places {placed} of {self._patients} patients" if placed is not None
                               else "Solving… not every patient is placed yet")
            if not self.chart.points:
                self.chart.set_empty_text("Objective and bound appear\nonce every patient is placed")
            return
        self.bound_label.setText(f"{progress.bound:.2f}")
        self.gap_label.setText(f"{100 * progress.gap:.1f}%")
        self.state.setText("Solving… improving the timetable")
        self.chart.add_point(progress.seconds, progress.objective, progress.bound, repaint=not self.timer.isActive())

    def _show_final(self, result) -> None:
        """The result's numbers, and its history when no progress came live (a heuristic answer)."""
        if not self.chart.points and not self.progress_count:  # (live partial timetables are not plotted)
            for p in result.history:
                self.chart.add_point(p.seconds, p.objective, p.bound, repaint=False)
        if result.objective is not None and result.bound is not None and math.isfinite(result.objective) \
                and math.isfinite(result.bound):
            # The final numbers (a bound proven at the end, the polish): the chart ends where the panel does.
            last = self.chart.points[-1] if self.chart.points else None
            if last is None or (last[1], last[2]) != (result.objective, result.bound):
                seconds = max(result.seconds, last[0] if last else 0.0)
                self.chart.add_point(seconds, result.objective, result.bound, repaint=False)
        if not self.chart.points:
            self.chart.set_empty_text("No improving solutions\nwere reported")
        if result.objective is not None:
            self.objective_label.setText(f"{result.objective:.2f}")
        if result.bound is not None:
            self.bound_label.setText(f"{result.bound:.2f}")
        if result.gap is not None:
            self.gap_label.setText(f"{100 * result.gap:.1f}%")

    @property
    def elapsed_seconds(self) -> float:
        return self._clock.elapsed() / 1000 if self._clock.isValid() else 0.0

    def _tick(self) -> None:
        seconds = self.elapsed_seconds
        self.elapsed_label.setText(f"{seconds:.1f} s")
        self.time_bar.setValue(min(1000, int(1000 * seconds / self._limit)))
        if seconds > self.chart.elapsed + 1:  # a solve outliving its limit (building took longer)
            self.chart.set_elapsed(seconds + 5)
        self.chart.flush()

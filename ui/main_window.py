"""The main window: wires the document, the undo stack, the solve runner and the views together.

Every menu command has a plain method behind it (``open_clinic``, ``import_scenario``,
``export_timetable``, ``solve`` ...) that tests call directly; the ``ask_*`` methods
only add a file dialog in front of them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QTabWidget

from scheduler.io.errors import ScenarioError
from scheduler.io.reader import read_scenario
from scheduler.io.writer import write_timetable
from scheduler.model import Timetable
from scheduler.store import Store, StoreError, default_url
from ui import actions
from ui.commands import MoveSessionCommand, command_for
from ui.document import ClinicDocument, ClinicInUse, display_name, to_url
from ui.icons import icon
from ui.models.edits import Edit, EditKind
from ui.models.entities import TABLE_MODELS
from ui.models.moves import MovePreview, move_edit
from ui.models.pins import pin_edit, pinned_keys, session_key
from ui.models.program_model import ProgramTableModel
from ui.outcome import (
    SolveOutcome, export_summary, hand_edited, outcome_from_summary, outcome_summary, recheck, status_words,
    validity_warning,
)
from ui.views.dialogs import ExportDialog, FormatsDialog, ProblemsDialog, about_dialog
from ui.views.editors import EntityEditor, ProgramEditor
from ui.views.move_dialog import MoveSessionDialog
from ui.views.result_panel import ResultPanel
from ui.views.solve_panel import SolvePanel
from ui.views.timetable_view import TimetableView
from ui.workers.solve_worker import SolveRunner, warm_up

log = logging.getLogger(__name__)
RECENT_KEY = "recentFiles"
MAX_RECENT = 8
LIVE_EVERY = 1.0  # seconds between two live timetables in the grid while solving (the grid is the costly part)


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.settings = settings or QSettings("IOP", "IOP Scheduler")
        self.setWindowIcon(icon("app"))
        self.document = ClinicDocument(self)
        self.undo_stack = QUndoStack(self)
        self.runner = SolveRunner(self)
        self.dialogs: list = []  # open non-modal dialogs (kept alive; tests inspect the last one)
        self._solve_started: datetime | None = None
        # The best timetable so far while solving, shown at most every LIVE_EVERY seconds.
        self._live: Timetable | None = None
        self._live_shown = 0.0
        self._live_cost = 0.0  # seconds the last live update took
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.timeout.connect(self._show_live)

        self.entity_models = {attr: model_type(parent=self) for attr, model_type in TABLE_MODELS.items()}
        self.program_model = ProgramTableModel(parent=self)
        for model in (*self.entity_models.values(), self.program_model):
            model.apply_edit = self.apply_edit

        self.timetable_view = TimetableView()
        self.result_panel = ResultPanel()
        self.editors = {attr: EntityEditor(model) for attr, model in self.entity_models.items()}
        self.program_editor = ProgramEditor(self.program_model)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(False)
        self.tabs.addTab(self.timetable_view, "Timetable")
        self.tabs.addTab(self.result_panel, "Result")
        for attr, title in (("patients", "Patients"), ("staff", "Staff"), ("rooms", "Rooms"), ("activities", "Activities")):
            self.tabs.addTab(self.editors[attr], title)
        self.tabs.addTab(self.program_editor, "Program")
        self.setCentralWidget(self.tabs)

        self.solve_panel = SolvePanel()
        dock = QDockWidget("Solve", self)
        dock.setObjectName("solveDock")
        dock.setWidget(self.solve_panel)
        dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        dock.setTitleBarWidget(QLabel(""))
        dock.setMinimumWidth(250)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.solve_dock = dock

        self.actions = actions.build(self)
        self.clinic_label = QLabel()
        self.statusBar().addPermanentWidget(self.clinic_label)
        self._connect()
        self.resize(1280, 800)
        self._restore_window()
        QTimer.singleShot(300, warm_up)  # after the window shows; see warm_up

    def _connect(self) -> None:
        doc = self.document
        doc.scenarioChanged.connect(self._scenario_changed)
        doc.outcomeChanged.connect(self._outcome_changed)
        doc.saveFailed.connect(self._save_failed)
        self.timetable_view.pinRequested.connect(lambda s, pin: self.set_pinned([s], pin))
        self.timetable_view.moveRequested.connect(self.ask_move_session)
        for editor in (*self.editors.values(), self.program_editor):
            editor.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.solve_panel.solveRequested.connect(self.solve)
        self.solve_panel.cancelRequested.connect(self.cancel_solve)
        self.runner.progress.connect(self.solve_panel.show_progress)
        self.runner.progress.connect(self._solve_progress)
        self.runner.finished.connect(self._solve_finished)
        self.runner.failed.connect(self._solve_failed)
        self.solve_panel.savedChosen.connect(self.show_saved_timetable)
        self.result_panel.bestEffortRequested.connect(self.solve_best_effort)

    # -- clinic files ---------------------------------------------------------------------------

    def open_clinic(self, location: str | Path | None, *, demo_if_empty: bool = False) -> bool:
        """Open a clinic file (path or URL; None: the default database)."""
        if self.runner.is_running():
            self.statusBar().showMessage("Cancel the running solve first", 5000)
            return False
        url = to_url(location) or default_url()
        try:
            self.document.open(url, demo_if_empty=demo_if_empty)
        except (StoreError, ScenarioError, OSError, ClinicInUse) as exc:
            log.error("could not open the clinic file: %s", type(exc).__name__)
            self._warn("Could not open the clinic file", str(exc))
            return False
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._remember_recent(url)
        scenario = self.document.scenario
        self.statusBar().showMessage(
            f"Opened {display_name(url)}: {len(scenario.patients)} patients, {len(scenario.staff)} staff", 6000)
        return True

    def new_clinic(self, path: str | Path) -> bool:
        if not self._may_replace(path):
            return False
        Path(path).unlink(missing_ok=True)
        return self.open_clinic(path)

    def _may_replace(self, path: str | Path) -> bool:
        if to_url(path) == self.document.url:
            self._warn("Choose another file", "That is the clinic file open now; choose another name.")
            return False
        return True

    def save(self) -> bool:
        """Edits are saved as they happen; Save writes the scenario once more and says so."""
        if self.document.scenario is None or self.document.store is None:
            return False
        try:
            self.document.store.save_scenario(self.document.scenario)
        except StoreError as exc:
            self._save_failed("The clinic was not saved", f"{exc}\n\nUse Save As to keep the clinic in another file.")
            return False
        self.undo_stack.setClean()
        self.statusBar().showMessage(f"Saved to {display_name(self.document.url)}", 4000)
        return True

    def _save_failed(self, title: str, text: str) -> None:
        self.statusBar().showMessage(title, 15000)
        self._warn(title, text)

    def save_as(self, path: str | Path) -> bool:
        """Copy the scenario and the current timetable into a new clinic file and continue there."""
        if not self._may_replace(path):
            return False
        scenario, outcome = self.document.scenario, self.document.outcome
        target = Path(path)
        target.unlink(missing_ok=True)
        try:
            store = Store.open(to_url(target))
            try:
                store.save_scenario(scenario)
                source = self.document.store
                for info in reversed(source.list_timetables()):  # oldest first keeps the order
                    store.save_timetable(info.name, *source.load_timetable(info.name))
                if outcome is not None and outcome.timetable is not None and not outcome.name:
                    store.save_timetable("Unsaved timetable", outcome.timetable, outcome_summary(outcome))
            finally:
                store.close()
        except StoreError as exc:
            self._warn("Could not save the clinic file", str(exc))
            return False
        return self.open_clinic(target)

    # -- import / export ------------------------------------------------------------------------

    def import_scenario(self, path: str | Path) -> bool:
        """Read a CSV folder or an XLSX workbook; on errors show them all and change nothing."""
        path = Path(path)
        try:
            read = read_scenario(path)
        except ScenarioError as exc:
            log.info("import refused: %d problem(s)", len(exc.errors))
            self._show_problems("The scenario was not imported",
                                f"{len(exc.errors)} problem(s) in {path.name}. Nothing was changed: "
                                "fix them and import again.", exc.errors)
            self.statusBar().showMessage(f"Import failed: {len(exc.errors)} problem(s) in {path.name}", 10000)
            return False
        except OSError as exc:
            self._warn("Could not read the scenario", str(exc))
            return False
        self.apply_edit(Edit(EditKind.IMPORT, self.document.scenario, read.scenario, f"Import {path.name}"))
        if read.warnings:
            self._show_problems("Scenario imported with warnings",
                                f"{path.name} was imported; {len(read.warnings)} thing(s) were ignored:", read.warnings)
        s = read.scenario
        self.statusBar().showMessage(
            f"Imported {path.name}: {len(s.patients)} patients, {len(s.staff)} staff, {len(s.rooms)} rooms", 8000)
        return True

    def export_timetable(self, folder: str | Path, deidentify: bool = False) -> list[Path]:
        """Write the SPEC CSV set for the current timetable into ``folder``."""
        outcome = self.document.outcome
        if outcome is None or outcome.timetable is None:
            self.statusBar().showMessage("There is no timetable to export yet: solve first", 6000)
            return []
        # Checked against the data it is exported with: a timetable that breaks its hard rules is marked so.
        outcome = recheck(outcome, self.document.scenario)
        pins = pinned_keys(self.document.scenario)
        timetable = Timetable(tuple(replace(s, pinned=session_key(s) in pins) for s in outcome.timetable.sessions))
        result = outcome.result
        try:
            paths = write_timetable(Path(folder), self.document.scenario, timetable, export_summary(outcome),
                                    deidentify=deidentify, waitlist=result.waitlist or None)
        except OSError as exc:  # a file in the folder's place, no permission, a full disk
            log.info("export failed: %s", exc.strerror or type(exc).__name__)
            self._warn("Could not export the timetable",
                       f"The files could not be written to {folder}: {exc.strerror or exc}. "
                       "Nothing was changed; choose another folder.")
            return []
        self.settings.setValue("exportFolder", str(folder))
        log.info("exported %d sessions to %d files (deidentified=%s)", len(timetable.sessions), len(paths), deidentify)
        if outcome.violations:
            self._warn("The exported timetable breaks hard rules",
                       f"The timetable written to {folder} breaks {len(outcome.violations)} hard rule(s) of the current "
                       "clinic data and must not be used; summary.json says so (status “invalid”, with the "
                       "violations). Solve again and export the new timetable.")
            self.statusBar().showMessage(
                f"Exported {len(paths)} files to {folder}: the timetable breaks {len(outcome.violations)} hard rule(s)", 15000)
        else:
            self.statusBar().showMessage(f"Exported {len(paths)} files to {folder}", 8000)
        return paths

    # -- edits ----------------------------------------------------------------------------------

    def apply_edit(self, edit: Edit) -> None:
        self.undo_stack.push(command_for(self.document, edit))

    def set_pinned(self, sessions, pinned: bool) -> None:
        timetable = self.document.timetable
        if timetable is None or not sessions:
            return
        if self.runner.is_running():  # the solve read the pins when it started; the grid shows its timetable
            self.statusBar().showMessage("Pins can be changed when the solve has finished", 6000)
            return
        self.apply_edit(pin_edit(self.document.scenario, timetable, list(sessions), pinned))
        self.statusBar().showMessage(
            f"{'Pinned' if pinned else 'Unpinned'} {len(sessions)} session(s); the next solve keeps pinned sessions", 6000)

    def ask_move_session(self, session=None) -> MoveSessionDialog | None:
        """The move dialog for ``session`` (the selected one by default); applying it calls ``move_session``."""
        session = session or self.timetable_view.selected_session
        if session is None:
            self.statusBar().showMessage("Select a session in the timetable first, then move it (F2)", 6000)
            return None
        if not self._may_move(session):
            return None
        outcome, scenario = self.document.outcome, self.document.scenario
        waitlisted = {w.patient_id for w in outcome.result.waitlist}
        dialog = self._keep(MoveSessionDialog(MovePreview(scenario, outcome.timetable, session, waitlisted), self))
        dialog.accepted.connect(lambda: self.move_session(session, dialog.session()))
        dialog.open()
        return dialog

    def move_session(self, old, new) -> bool:
        """Put ``new`` in place of ``old`` in the shown timetable and pin it, as one undo step (whatever
        rules it breaks: the banner and the Result tab then say so)."""
        if not self._may_move(old):
            return False
        outcome, scenario = self.document.outcome, self.document.scenario
        edit, shown = move_edit(scenario, outcome.timetable, old, new)
        name = outcome.name if outcome.hand is not None and outcome.name else self._edited_name(outcome.name)
        after = hand_edited(outcome, edit.after, shown, name)
        taken = self.document.timetable_names()
        self.undo_stack.push(MoveSessionCommand(self.document, edit, outcome, after, new_name=name not in taken))
        if self.document.outcome is outcome:  # not saved: nothing changed (the document said why)
            return False
        moved = next((s for s in self.document.timetable.sessions if session_key(s) == session_key(new)), None)
        self.timetable_view.select_session(moved)
        broken = len(self.document.outcome.violations)
        self.statusBar().showMessage(
            f"{edit.text}; pinned, so the next solve keeps it"
            + (f". The timetable breaks {broken} hard rule(s): see the Result tab" if broken else ""), 10000)
        return True

    def _may_move(self, session) -> bool:
        if self.runner.is_running():  # the solve read the pins when it started; the grid shows its timetable
            self.statusBar().showMessage("Sessions can be moved when the solve has finished", 6000)
            return False
        timetable = self.document.timetable
        return timetable is not None and any(session_key(s) == session_key(session) for s in timetable.sessions)

    def _edited_name(self, name: str) -> str:
        base = f"{name} (edited)" if name else "Timetable edited by hand"
        taken = self.document.timetable_names()
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base[:-1]} {n})" if base.endswith(")") else f"{base} ({n})", n + 1
        return candidate

    # -- solving --------------------------------------------------------------------------------

    def solve(self, time_limit: float | None = None) -> bool:
        if self.runner.is_running() or self.document.scenario is None:
            return False
        if time_limit is not None:
            self.solve_panel.time_limit.setValue(max(1, round(time_limit)))
        params = self.solve_panel.params()
        self._solve_started = datetime.now()
        # Change the window first and paint it now, before the worker competes for the GIL.
        self.solve_panel.solving_started(params.time_limit, len(self.document.scenario.patients), params.best_effort)
        self.actions.solve.setEnabled(False)
        self.actions.cancel.setEnabled(True)
        self.statusBar().showMessage("Solving…")
        if self.isVisible():
            self.repaint()
        warm_up()  # at once if F5 came before the start-up warm-up
        self.runner.start(self.document.scenario, params)
        return True

    def solve_best_effort(self) -> bool:
        self.solve_panel.best_effort.setChecked(True)
        return self.solve()

    def cancel_solve(self) -> None:
        if self.runner.is_running():
            self.runner.cancel()
            self.solve_panel.cancelling()

    def _solve_progress(self, progress) -> None:
        """Keep the best timetable so far for the grid (shown by ``_show_live``, at most every LIVE_EVERY s)."""
        if progress.timetable is None:
            return
        self._live = progress.timetable
        if not self._live_timer.isActive():
            # At most one update a second, and at most a tenth of the time in updates (a large clinic's grid).
            every = max(LIVE_EVERY, 10 * self._live_cost)
            wait = max(0.0, every - (time.monotonic() - self._live_shown))
            self._live_timer.start(round(1000 * wait))

    def _show_live(self) -> None:
        if self._live is not None and self.runner.is_running():
            began = time.monotonic()
            self.timetable_view.show_live(self._live)
            self._live_shown = time.monotonic()
            self._live_cost = self._live_shown - began
        self._live = None

    def _end_live(self) -> None:
        self._live_timer.stop()
        self._live = None

    def _solve_finished(self, outcome: SolveOutcome) -> None:
        self._end_live()
        headline, _ = status_words(outcome.result)
        name = self._timetable_name() if outcome.timetable is not None else None
        self.document.set_outcome(outcome, save_as=name)
        self.solve_panel.solving_finished(headline, outcome.result)
        self.actions.solve.setEnabled(True)
        self.actions.cancel.setEnabled(False)
        self.tabs.setCurrentWidget(self.timetable_view if outcome.timetable is not None else self.result_panel)
        self.statusBar().showMessage(f"{headline} — {outcome.result.headline()}", 15000)

    def _solve_failed(self, message: str) -> None:
        self._end_live()
        self.timetable_view.set_timetable(self.document.timetable)  # not the failed solve's last timetable
        self.solve_panel.solving_finished("The solver stopped with an error")
        self.actions.solve.setEnabled(True)
        self.actions.cancel.setEnabled(False)
        self._warn("The solver stopped with an error", message)

    def show_saved_timetable(self, name: str) -> bool:
        """Show a timetable saved in the clinic file, re-checked against the current scenario."""
        try:
            timetable, summary = self.document.store.load_timetable(name)
        except StoreError as exc:
            self._warn("Could not load the timetable", str(exc))
            return False
        outcome = outcome_from_summary(self.document.scenario, summary, timetable, name=name)
        self.document.set_outcome(outcome)
        self.tabs.setCurrentWidget(self.timetable_view)
        self.statusBar().showMessage(f"Showing “{name}”", 5000)
        return True

    def _timetable_name(self) -> str:
        base = f"Solve {(self._solve_started or datetime.now()):%Y-%m-%d %H:%M}"
        try:
            taken = {t.name for t in self.document.store.list_timetables()}
        except StoreError:
            taken = set()
        name, n = base, 2
        while name in taken:
            name, n = f"{base} ({n})", n + 1
        return name

    # -- document -> views ----------------------------------------------------------------------

    def _scenario_changed(self, scenario) -> None:
        for editor in (*self.editors.values(), self.program_editor):
            editor.clear_hint()
        for model in (*self.entity_models.values(), self.program_model):
            model.set_scenario(scenario)
        self.timetable_view.set_scenario(scenario)
        self._show_outcome()
        p = scenario.program
        self.setWindowTitle(f"{p.name or 'IOP program'} — {display_name(self.document.url)} — IOP Scheduler")
        self.clinic_label.setText(f"{display_name(self.document.url)} · {len(scenario.patients)} patients · "
                                  f"{len(scenario.staff)} staff · {len(scenario.rooms)} rooms")

    def _outcome_changed(self, outcome) -> None:
        self.timetable_view.set_timetable(outcome.timetable if outcome else None, none_found=outcome is not None)
        self._show_outcome()
        try:
            saved = self.document.store.list_timetables() if self.document.store else []
        except StoreError:
            saved = []
        self.solve_panel.set_saved(saved, outcome.name if outcome else "")

    def checked_outcome(self) -> SolveOutcome | None:
        """The shown outcome, re-checked against the current clinic data when that changed since it was made
        (the validator's violations then are the current data's)."""
        outcome, scenario = self.document.outcome, self.document.scenario
        if outcome is None or outcome.timetable is None or scenario is None or not self.document.outcome_is_stale:
            return outcome
        return recheck(outcome, scenario)

    def _show_outcome(self) -> None:
        scenario = self.document.scenario
        names = {p.id: p.name for p in scenario.patients} if scenario else {}
        stale = self.document.outcome_is_stale
        outcome = self.checked_outcome()
        self.result_panel.show_outcome(outcome, names, stale, scenario)
        warning = validity_warning(outcome, stale)
        self.timetable_view.set_warning(warning, "bad" if outcome is not None and outcome.violations else "warn")

    # -- dialogs --------------------------------------------------------------------------------

    def _keep(self, dialog):
        """Hold a non-modal dialog until it closes."""
        self.dialogs.append(dialog)

        def done(_result=None) -> None:
            if dialog in self.dialogs:
                self.dialogs.remove(dialog)
            dialog.deleteLater()

        dialog.finished.connect(done)
        return dialog

    def _show_problems(self, title: str, intro: str, problems) -> ProblemsDialog:
        dialog = self._keep(ProblemsDialog(title, intro, problems, self))
        dialog.show()
        return dialog

    def _warn(self, title: str, text: str) -> None:
        box = self._keep(QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self))
        box.show()

    def show_about(self) -> None:
        self._keep(about_dialog(self)).show()

    def show_formats(self) -> None:
        self._keep(FormatsDialog(self)).show()

    def _folder_hint(self) -> str:
        return str(self.settings.value("lastFolder", str(Path.home())))

    def ask_new(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "New clinic file", self._folder_hint(), "Clinic files (*.db)")
        if path:
            self.new_clinic(path if path.endswith(".db") else path + ".db")

    def ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open clinic file", self._folder_hint(), "Clinic files (*.db *.sqlite);;All files (*)")
        if path:
            self.settings.setValue("lastFolder", str(Path(path).parent))
            self.open_clinic(path)

    def ask_save_as(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save clinic as", self._folder_hint(), "Clinic files (*.db)")
        if path:
            self.save_as(path if path.endswith(".db") else path + ".db")

    def ask_import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import scenario from a CSV folder", self._folder_hint())
        if folder and self._may_import(folder):
            self.settings.setValue("lastFolder", folder)
            self.import_scenario(folder)

    def ask_import_xlsx(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import scenario from a workbook", self._folder_hint(), "Excel workbooks (*.xlsx)")
        if path and self._may_import(path):
            self.import_scenario(path)

    def import_question(self, path: str | Path) -> str:
        """What importing ``path`` would replace ("" when the open clinic holds nothing yet)."""
        s = self.document.scenario
        if s is None or not (s.patients or s.staff or s.rooms or s.activities):
            return ""
        return (f"Importing {Path(path).name} replaces the clinic open now ({len(s.patients)} patients, "
                f"{len(s.staff)} staff, {len(s.rooms)} rooms, {len(s.activities)} activities) with the imported one. "
                "Undo (Ctrl+Z) brings it back until this window closes; to keep both, use File > Save As "
                "first and import into the copy.\n\nImport and replace?")

    def _may_import(self, path: str | Path) -> bool:
        question = self.import_question(path)
        if not question:
            return True
        answer = QMessageBox.question(self, "Replace the open clinic?", question,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def ask_export(self) -> ExportDialog | None:
        if self.document.timetable is None:
            self.statusBar().showMessage("There is no timetable to export yet: solve first", 6000)
            return None
        folder = str(self.settings.value("exportFolder", str(Path.home() / "IOP timetable")))
        outcome = self.checked_outcome()
        warning = validity_warning(outcome, self.document.outcome_is_stale)
        if outcome is not None and outcome.violations:
            warning += " The export is marked so: summary.json says “invalid” and lists the violations."
        tone = "bad" if outcome is not None and outcome.violations else "warn"
        dialog = self._keep(ExportDialog(folder, self, warning=warning, tone=tone))
        dialog.accepted.connect(lambda: self.export_timetable(dialog.folder.text().strip(), dialog.deidentify.isChecked()))
        dialog.open()
        return dialog

    # -- recent files and window state ----------------------------------------------------------

    def recent_files(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        return [value] if isinstance(value, str) else list(value or [])

    def _remember_recent(self, url: str) -> None:
        recent = [url] + [u for u in self.recent_files() if u != url]
        self.settings.setValue(RECENT_KEY, recent[:MAX_RECENT])

    def fill_recent_menu(self) -> None:
        menu = self.actions.recent
        menu.clear()
        for url in self.recent_files():
            path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else None
            action = menu.addAction(display_name(url), lambda u=url: self.open_clinic(u))
            action.setToolTip(path or url)
            action.setEnabled(path is None or Path(path).exists())
        if menu.isEmpty():
            menu.addAction("No recent files").setEnabled(False)

    def _restore_window(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value("windowState")
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event) -> None:
        if self.runner.is_running():
            self.hide()
            self.runner.cancel()
            self.runner.wait()  # the solver answers a cancel within a second
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("windowState", self.saveState())
        self.settings.sync()
        self.document.close()
        super().closeEvent(event)


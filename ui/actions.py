"""The window's actions, menus and toolbar, built in one place from the window's methods."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from ui.icons import icon


@dataclass
class Actions:
    new: QAction
    open: QAction
    save: QAction
    save_as: QAction
    import_folder: QAction
    import_xlsx: QAction
    export: QAction
    quit: QAction
    undo: QAction
    redo: QAction
    move: QAction
    solve: QAction
    cancel: QAction
    about: QAction
    formats: QAction
    recent: QMenu


def _action(window, text: str, slot, shortcut=None, icon_name: str | None = None, tip: str = "") -> QAction:
    action = QAction(text, window)
    if icon_name:
        action.setIcon(icon(icon_name))
    if shortcut is not None:
        shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.triggered.connect(slot)
    return action


def build(window) -> Actions:
    undo = window.undo_stack.createUndoAction(window, "&Undo")
    undo.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
    undo.setIcon(icon("undo"))
    redo = window.undo_stack.createRedoAction(window, "&Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")])
    redo.setIcon(icon("redo"))
    a = Actions(
        new=_action(window, "&New clinic file…", window.ask_new, "Ctrl+N", "new", "Start an empty clinic file"),
        open=_action(window, "&Open clinic file…", window.ask_open, "Ctrl+O", "open", "Open a clinic file (.db)"),
        save=_action(window, "&Save", window.save, "Ctrl+S", "save", "Save the clinic (edits are also saved as you go)"),
        save_as=_action(window, "Save &As…", window.ask_save_as, "Ctrl+Shift+S", None, "Copy the clinic into a new file"),
        import_folder=_action(window, "From a CSV &folder…", window.ask_import_folder, None, None,
                              "Import a scenario from a folder of CSV files"),
        import_xlsx=_action(window, "From an &Excel workbook (.xlsx)…", window.ask_import_xlsx, None, None,
                            "Import a scenario from one workbook"),
        export=_action(window, "&Export timetable…", window.ask_export, "Ctrl+E", "export",
                       "Write the timetable as CSV files (sessions, schedules, summary)"),
        quit=_action(window, "&Quit", window.close, QKeySequence.StandardKey.Quit),
        undo=undo,
        redo=redo,
        move=_action(window, "&Move or edit session…", lambda: window.ask_move_session(), "F2", None,
                     "Change the selected session's day, time, room or staff by hand (F2 or Enter in the timetable)"),
        solve=_action(window, "&Solve", window.solve, "F5", "solve", "Make the optimal timetable (F5)"),
        cancel=_action(window, "&Cancel solve", window.cancel_solve, "Esc", "cancel",
                       "Stop and keep the best timetable found so far (Esc)"),
        about=_action(window, "&About IOP Scheduler", window.show_about),
        formats=_action(window, "&File formats", window.show_formats, "F1"),
        recent=QMenu("&Recent files", window),
    )
    a.cancel.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    # F2 edits a cell in the editor tables: here it moves the selected session, in the timetable tab only.
    a.move.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    window.timetable_view.addAction(a.move)
    a.cancel.setEnabled(False)
    a.recent.aboutToShow.connect(window.fill_recent_menu)
    _menus(window, a)
    _toolbar(window, a)
    return a


def _menus(window, a: Actions) -> None:
    bar = window.menuBar()
    file = bar.addMenu("&File")
    file.addActions([a.new, a.open])
    file.addMenu(a.recent)
    file.addSeparator()
    file.addActions([a.save, a.save_as])
    file.addSeparator()
    imports = file.addMenu(icon("import"), "&Import scenario")
    imports.addActions([a.import_folder, a.import_xlsx])
    file.addAction(a.export)
    file.addSeparator()
    file.addAction(a.quit)
    edit = bar.addMenu("&Edit")
    edit.addActions([a.undo, a.redo])
    edit.addSeparator()
    edit.addAction(a.move)
    solve = bar.addMenu("&Solve")
    solve.addActions([a.solve, a.cancel])
    helpm = bar.addMenu("&Help")
    helpm.addActions([a.formats, a.about])


def _toolbar(window, a: Actions) -> None:
    bar = QToolBar("Main toolbar", window)
    bar.setObjectName("mainToolbar")
    bar.setMovable(False)
    bar.setIconSize(QSize(18, 18))
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for action, text in ((a.new, "New"), (a.open, "Open"), (a.save, "Save"), (a.export, "Export"),
                         (a.undo, "Undo"), (a.redo, "Redo"), (a.solve, "Solve"), (a.cancel, "Cancel")):
        action.setIconText(text)
    bar.addActions([a.new, a.open, a.save])
    bar.addSeparator()
    import_action = QAction(icon("import"), "Import", window)
    import_action.setToolTip("Import a scenario from a CSV folder")
    import_action.triggered.connect(window.ask_import_folder)
    bar.addAction(import_action)
    bar.addAction(a.export)
    bar.addSeparator()
    bar.addActions([a.undo, a.redo])
    bar.addSeparator()
    bar.addActions([a.solve, a.cancel])
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

"""The main window as the GUI tests open it: settings and history of its own, in the test's folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from concgui.gui.main_window import MainWindow


def open_window(qtbot, tmp_path: Path, history_path: Path | str | None = None) -> MainWindow:
    """A shown MainWindow whose QSettings and history database live under ``tmp_path``."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    w = MainWindow(history_path=str(history_path or tmp_path / "history.sqlite3"))
    qtbot.addWidget(w)
    w.show()
    return w

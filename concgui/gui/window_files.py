"""The window's files: runs opened and saved, charts and data exported, every write guarded.

A part of :class:`concgui.gui.main_window.MainWindow`, kept apart because it is one idea: asking
where (remembering the folder), writing, and saying in the status bar or a problem box how that
went. It uses the window's ``settings``, ``store``, ``history``, ``keeper``, ``compare``, ``result``,
``show_result`` and ``show_problem``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from ..engine import RunResult
from ..engine.exports import load_results, save_csv, save_result, save_trace
from ..history_store import HistoryError
from . import image_export, report


class FileActions:
    """The File menu's commands, mixed into the main window."""

    def _export_dir(self) -> str:
        return str(self.settings.value("export/folder", str(Path.home())))

    def _ask_path(self, title: str, name: str, filters: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, title, str(Path(self._export_dir()) / name), filters)
        if not path:
            return None
        self.settings.setValue("export/folder", str(Path(path).parent))
        return path

    def save_unsaved(self, result: RunResult, path: str | None = None) -> bool:
        """Save a run the history could not take to a JSON file (asked for when ``path`` is None)."""
        path = path or self._ask_path("Save run as JSON", "concgui-run.json", "ConcGUI runs (*.json)")
        if not path:
            return False
        try:
            save_result(path, result)
        except OSError as exc:
            self.show_problem("Save run", f"Could not write {path}: {exc}", offer_save=result)
            return False
        self.keeper.saved_elsewhere(result)
        self.statusBar().showMessage(f"Wrote {path}")
        return True

    def open_run_file(self, path: str | None = None) -> list[RunResult]:
        """Open a run file (asked for when ``path`` is None): only JSON is read, nothing is run."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open run file", self._export_dir(),
                                                  "ConcGUI runs (*.json)")
        if not path:
            return []
        try:
            results = load_results(path)
        except (OSError, ValueError) as exc:
            name = Path(path).name
            self.show_problem("Open run file", str(exc) if name in str(exc) else f"{name}: {exc}")
            return []
        try:
            for r in results:
                self.store.save(r)
            self.history.refresh()
        except (HistoryError, OSError) as exc:
            self.statusBar().showMessage(f"Shown, but not added to the history: {exc}")
        if len(results) > 1:
            self.compare.set_results(results)
        self.show_result(results[-1])
        return results

    def save_run_file(self) -> None:
        self.export_data("json")

    def _need_result(self) -> RunResult | None:
        if self.result is None:
            QMessageBox.information(self, "Export", "Run an experiment or open one from the history first.")
        return self.result

    def _ask_width(self) -> int | None:
        width, ok = QInputDialog.getInt(self, "Image width", "Width in pixels:", 1600, 200, 10000, 100)
        return width if ok else None

    def export_report(self) -> None:
        result = self._need_result()
        if result is None:
            return
        path = self._ask_path("Export report image", "concgui-report.png", "PNG images (*.png)")
        width = self._ask_width() if path else None
        if path and width:
            self._guarded_write(lambda: report.save_report_png(result, path, width), path)

    def export_chart(self, which: str, fmt: str) -> None:
        widget = getattr(self, which)
        path = self._ask_path(f"Export {which}", f"concgui-{which}.{fmt}", f"{fmt.upper()} (*.{fmt})")
        if not path:
            return
        if fmt == "png":
            width = self._ask_width()
            if width:
                self._guarded_write(lambda: image_export.export_widget_png(widget, path, width), path)
        else:
            self._guarded_write(lambda: image_export.export_widget_svg(widget, path), path)

    def export_data(self, fmt: str) -> None:
        result = self._need_result()
        if result is None:
            return
        ext = {"csv": "csv", "json": "json", "trace": "trace.json"}[fmt]
        path = self._ask_path("Export data", f"concgui-run.{ext}", "All files (*)")
        if not path:
            return
        writer = {"csv": save_csv, "json": save_result, "trace": save_trace}[fmt]
        self._guarded_write(lambda: writer(path, result), path)

    def _guarded_write(self, write, path: str) -> None:
        try:
            write()
        except OSError as exc:
            self.show_problem("Export", f"Could not write {path}: {exc}\nNothing was written there.")
            return
        self.statusBar().showMessage(f"Wrote {path}")


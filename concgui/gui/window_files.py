"""The window's files: runs opened and saved, charts and data exported, every write guarded.

A part of :class:`concgui.gui.main_window.MainWindow`, kept apart because it is one idea: asking
where (remembering the folder), writing, and saying in the status bar or a problem box how that
went. It uses the window's ``settings``, ``store``, ``history``, ``keeper``, ``compare``, ``result``,
``panel``, ``sweep``, ``show_result`` and ``show_problem``.

Every chart exports the same way from its right-click menu and from File ▸ Export chart: one
dialog (where, PNG or SVG, how wide) offering a file name that says what the image shows: the
preset (or workload), the executor, the chart and the day the run was made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from ..engine import RunResult
from ..engine.exports import LoadCancelled, save_csv, save_result, save_trace
from ..history import HistoryError
from . import image_export, report
from .file_loading import load_with_progress

#: every chart the window exports: its attribute (or "compare_stack"), what a person calls it, its file name part,
#: and whether it shows one run (its file name then names the executor)
CHARTS: dict[str, tuple[str, str, bool]] = {
    "timeline": ("timeline", "timeline", True),
    "cores": ("CPU cores chart", "cpu-cores", True),
    "memory": ("memory chart", "memory", True),
    "compare_stack": ("comparison timelines", "compare-timelines", False),
    "compare_chart": ("wall-time comparison", "compare-wall-times", False),
    "speedup_chart": ("scaling study: speedup", "scaling-speedup", False),
    "efficiency_chart": ("scaling study: efficiency", "scaling-efficiency", False),
}
#: the spec fields that tell one preset's experiment from another's, where they matter for its workload (the
#: executor and workers vary within a preset)
_PRESET_KEYS = ("workload", "tasks", "duration", "size_mb", "cpu_fraction", "increments", "lock", "function",
                "jitter")


class FileActions:
    """The File menu's commands, mixed into the main window."""

    def install_chart_exports(self) -> None:
        """Each chart's right-click "Export image…" goes through :meth:`export_chart`, as File ▸ Export does."""
        for which in CHARTS:
            self._chart(which).export_handler = lambda _w, which=which: self.export_chart(which)

    def _chart(self, which: str) -> QWidget:
        return self.compare.stack if which == "compare_stack" else getattr(self, which)

    def _chart_context(self, which: str) -> tuple[dict[str, Any], float | None]:
        """The spec a chart shows (the first run's, for several) and when its run was made."""
        if which in ("timeline", "cores", "memory"):
            if self.result is not None:
                return self.result.spec, self.result.started_at
            state = self.timeline.state()
            return (state.spec if state is not None else {}), None
        if which.startswith("compare"):
            results = self.compare.results()
            return (results[0].spec, results[0].started_at) if results else ({}, None)
        sweep = self.sweep
        return (sweep.spec, sweep.started_at) if sweep is not None else ({}, None)

    def preset_of(self, spec: dict[str, Any]) -> str | None:
        """The shipped preset whose experiment ``spec`` is (any of its executors), or None."""
        if not spec:
            return None
        for name, preset in self.panel.presets.items():
            for candidate in preset.specs:
                theirs = candidate.to_dict()
                if all(theirs.get(k) == spec.get(k) for k in _PRESET_KEYS if candidate.relevant(k)):
                    return name
        return None

    def suggested_file(self, which: str, ext: str = "png") -> str:
        """The file name the export dialog offers for chart ``which``."""
        _, part, one_run = CHARTS[which]
        spec, when = self._chart_context(which)
        return image_export.suggested_name(part, spec, self.preset_of(spec), when, ext, executor=one_run)

    def _data_name(self, result: RunResult, ext: str) -> str:
        """The file name offered for a run's data: what it ran and when, as the image exports name theirs."""
        return image_export.suggested_name("run", result.spec, self.preset_of(result.spec), result.started_at, ext)

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
        path = path or self._ask_path("Save run as JSON", self._data_name(result, "json"), "ConcGUI runs (*.json)")
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
        """Open a run file (asked for when ``path`` is None): only JSON is read, every value checked, nothing
        is run (an interpreter or function it names waits for the person to confirm it in the form)."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open run file", self._export_dir(),
                                                  "ConcGUI runs (*.json)")
        if not path:
            return []
        name = Path(path).name
        try:  # off the UI thread, with progress and Cancel (a file may hold a million tasks)
            results = load_with_progress(self, path)
        except LoadCancelled:
            self.statusBar().showMessage(f"Opening {name} was cancelled: nothing was opened")
            return []
        except (OSError, ValueError) as exc:
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

    def export_report(self) -> None:
        result = self._need_result()
        if result is None:
            return
        spec = result.spec
        name = image_export.suggested_name("report", spec, self.preset_of(spec), result.started_at)
        chosen = image_export.ask_image_file(self, "Export the report image", name, ("png",))
        if chosen:
            path, width = chosen
            self._guarded_write(lambda: report.save_report_png(result, path, width), path)

    def export_chart(self, which: str, fmt: str | None = None) -> None:
        """Ask where (PNG or SVG, or only ``fmt``; how wide) and save chart ``which`` there."""
        widget = self._chart(which)
        human = CHARTS[which][0]
        formats = (fmt,) if fmt else ("png", "svg")
        chosen = image_export.ask_image_file(self, f"Export the {human}", self.suggested_file(which, formats[0]),
                                             formats)
        if not chosen:
            return
        path, width = chosen
        self._guarded_write(lambda: image_export.export_to_path(widget, path, width), path)

    def export_data(self, fmt: str) -> None:
        result = self._need_result()
        if result is None:
            return
        ext = {"csv": "csv", "json": "json", "trace": "trace.json"}[fmt]
        path = self._ask_path("Export data", self._data_name(result, ext), "All files (*)")
        if not path:
            return
        writer = {"csv": save_csv, "json": save_result, "trace": save_trace}[fmt]
        self._guarded_write(lambda: writer(path, result), path)

    def _guarded_write(self, write, path: str) -> None:
        try:
            write()
        except (OSError, ValueError) as exc:
            self.show_problem("Export", f"Could not write {path}: {exc}\nNothing was written there.")
            return
        self.statusBar().showMessage(f"Wrote {path}")


"""The window's scaling study: the dialog, the runs' progress in the status bar, its files.

A part of :class:`concgui.gui.main_window.MainWindow`, kept apart because it is one idea. The
runs themselves go through the window's ``sweeper`` (a :class:`~concgui.gui.sweep_controller.
SweepController` over the window's ``controller``); this shows them in the ``scaling`` tab. The
dialog shows the experiment to sweep and lets it be changed there (never silently the form's). It
uses the window's ``form``, ``tabs``, ``results_placement``, ``_form_spec``, ``_update_buttons``,
``show_problem`` and the file helpers of :class:`~concgui.gui.window_files.FileActions`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from ..engine import ExperimentSpec, SpecError
from ..engine.present import count
from ..engine.sweep import PlannedPoint, SweepResult, load_sweep_json, save_sweep_csv, save_sweep_json
from .views.scaling import SweepDialog


class ScalingStudyActions:
    """Run ▸ Scaling study and its files, mixed into the main window."""

    @property
    def sweep(self) -> SweepResult | None:
        """The scaling study shown (running or ended)."""
        return self.sweeper.sweep

    def sweep_clicked(self) -> None:
        """Show the experiment to sweep (editable there) and ask for executors, max workers and repeats;
        then start the scaling study, the form showing the experiment it runs."""
        if self.controller.is_running() or self.sweeper.is_running():
            return
        if (spec := self._form_spec("start a scaling study")) is None:
            return
        dialog = SweepDialog(spec, self)
        if dialog.exec():
            self.start_sweep(*dialog.choice(), spec=dialog.spec())

    def start_sweep(self, executors: list[str], max_workers: int, repeats: int,
                    spec: ExperimentSpec | None = None) -> bool:
        """Run ``spec`` (by default the form's experiment) with 1, 2, 4, … workers on each executor, one run
        after another; a ``spec`` given is put into the form first, so the form shows what is swept.

        Each run goes through the RunController like any other (off the UI thread, live in the
        timeline, into the history); the Scaling tab redraws as each one ends. Returns False,
        saying why in the status bar, when the input is refused.
        """
        if self.controller.is_running() or self.sweeper.is_running():
            return False
        if spec is not None:
            self.form.set_spec(spec)
        try:
            self.sweeper.start(spec or self.form.spec(), executors, max_workers, repeats)
        except SpecError as exc:
            self.statusBar().showMessage(f"Cannot start a scaling study: {exc}")
            return False
        return True

    def _on_sweep_started(self, sweep: SweepResult) -> None:
        self.scaling.set_sweep(sweep, running=True)
        self.tabs.setCurrentWidget(self.scaling)

    def _on_sweep_point_started(self, point: PlannedPoint, sweep: SweepResult) -> None:
        what = f"{sweep.label(point.executor)}, {count(point.workers, 'worker')}, repeat {point.repeat + 1}"
        self.statusBar().showMessage(f"Scaling study: run {len(sweep.points) + 1} of {sweep.planned} ({what})…")

    def _on_sweep_finished(self, sweep: SweepResult) -> None:
        self.scaling.set_sweep(sweep)
        self.results_placement.make_room()  # the charts are the picture now; the next run gives the room back
        done, failed = len(sweep.points), len(sweep.failed())
        self.statusBar().showMessage(f"Scaling study {'done' if done == sweep.planned else 'stopped'}: {done} of "
                                     f"{sweep.planned} runs" + (f", {failed} not ok" if failed else ""))
        self._update_buttons()

    def export_sweep(self, fmt: str, path: str | None = None) -> None:
        """Write the scaling study's data as CSV (a row per run) or JSON (asked where when ``path`` is None)."""
        sweep = self.sweep
        if sweep is None or not sweep.points:
            QMessageBox.information(self, "Export", "Run a scaling study first (Run ▸ Scaling study…).")
            return
        path = path or self._ask_path("Export scaling study", f"concgui-scaling.{fmt}", f"{fmt.upper()} (*.{fmt})")
        if path:
            writer = save_sweep_csv if fmt == "csv" else save_sweep_json
            self._guarded_write(lambda: writer(path, sweep), path)

    def open_sweep_file(self, path: str | None = None) -> SweepResult | None:
        """Show a saved scaling study (asked for when ``path`` is None): only JSON is read, nothing is run."""
        if self.sweeper.is_running():
            self.statusBar().showMessage("A scaling study is running; stop it first")
            return None
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open scaling study", self._export_dir(),
                                                  "ConcGUI scaling studies (*.json)")
        if not path:
            return None
        try:
            sweep = load_sweep_json(path)
        except (OSError, ValueError) as exc:
            name = Path(path).name
            self.show_problem("Open scaling study", str(exc) if name in str(exc) else f"{name}: {exc}")
            return None
        self.sweeper.sweep = sweep
        self.scaling.set_sweep(sweep)
        self.tabs.setCurrentWidget(self.scaling)
        self.results_placement.make_room()
        self.statusBar().showMessage(f"Showing scaling study: {Path(path).name}, {count(len(sweep.points), 'run')}")
        return sweep


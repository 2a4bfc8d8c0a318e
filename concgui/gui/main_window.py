"""The main window: the experiment form, the live views, comparison, scaling study, history and export.

It owns no experiment logic: the form builds a spec, the RunController runs
it off the UI thread and paces the live views (a chart per turn of the event
loop, each at most 30 times a second), and the RunKeeper sees that every run
lands in the history database or, failing that, in a file.

Two parts of it live beside it, each one idea: the File menu's opening,
saving and exporting (:mod:`.window_files`) and the scaling study's glue
(:mod:`.window_sweep`); the Compare tab is :mod:`.views.compare`, what a person sets up
before pressing Run is :mod:`.views.experiment_panel`, and how an ended run reads in the progress
bar, or a failed one's partial result, is :mod:`.run_outcome`.
"""

from __future__ import annotations

import json
import logging
import platform
import sys

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..engine import ExperimentSpec, RunResult, SpecError
from ..engine.baseline import baselines, experiment_key
from ..engine.live import RunState
from ..engine.present import count, number, plural, seconds, speedup
from ..engine.records import RUNNING
from ..engine.spec import executor_label
from ..engine.summary import summarize
from ..engine.why_compare import compare_why
from .help_menu import install_help
from .recalibrate import install_recalibrate
from .run_controller import RunController
from .run_keeper import RunKeeper, open_history
from .run_outcome import PROGRESS_FORMAT, outcome, partial_result
from .sweep_controller import SweepController
from .views.compare import CompareView
from .views.console import ConsolePane
from .views.cores import CoreUsagePlot
from .views.experiment_panel import ExperimentPanel
from .views.history_view import HistoryView
from .views.memory import MemoryPlot
from .views.scaling import ScalingView
from .views.summary import SummaryPanel
from .views.timeline import TimelineView
from .window_files import FileActions
from .window_layout import ResultsPlacement
from .window_sweep import ScalingStudyActions

SWITCH_INTERVAL = 0.001  # seconds: how long another thread may keep the GIL from the window's thread
COMPARISON_HINT = "This preset is a comparison: press Compare (Ctrl+R) to run it."
log = logging.getLogger("concgui")


class MainWindow(FileActions, ScalingStudyActions, QMainWindow):
    """ConcGUI's window. ``history_path`` lets tests use their own database."""

    def __init__(self, history_path: str | None = None) -> None:
        super().__init__()
        # Other Python threads of this process (the engine's reader, the history writer, inline runs) hold
        # the GIL up to the switch interval each time this thread asks for it, and drawing asks often:
        # at Python's default (5 ms) those waits add up, during a flood of events, to pauses a person sees.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self.setWindowTitle("ConcGUI — concurrency and parallelism in Python, live")
        self.settings = QSettings()
        # reads, deletes, opened files: on the GUI thread, waiting at most GUI_BUSY_TIMEOUT for a lock
        self.store, problem = open_history(history_path)
        if problem:
            self.store.notice = problem + (f" {self.store.notice}" if self.store.notice else "")
        self.controller = RunController(self)
        # runs as they go, on the history writer's thread, which leaves the GIL to the window's turns
        self.keeper = RunKeeper(self.store, self.controller.host_idle)
        self.problem_box: QMessageBox | None = None  # the last problem shown (never modal)
        self.result: RunResult | None = None  # the run shown in the views
        self.compare_results: list[RunResult] = []
        self._baselines: dict[tuple, RunResult] = {}
        self._screenshot: str | None = None
        self._closing = False
        self._quit_asked = False  # the close comes from File ▸ Quit
        self._history_stale = False  # a run was saved while another went: list it once that one ends

        self._build_views()
        self._build_docks()
        self._build_menus()
        self._build_status_bar()
        self._connect()
        self.install_chart_exports()  # a chart's right-click "Export image…" is File ▸ Export chart's dialog
        self._restore_settings()
        self._writer_timer = QTimer(self)
        self._writer_timer.setInterval(100)
        self._writer_timer.timeout.connect(self._on_history_written)
        self._writer_timer.start()
        self._update_buttons()
        if self.store.notice:
            QTimer.singleShot(0, lambda: self.show_problem("History", self.store.notice))
        n = len(self.store.unfinished(elsewhere=False))  # not those another process still records
        if n:
            self.statusBar().showMessage(
                f"{count(n, 'run')} {plural(n, 'was', 'were')} interrupted when ConcGUI last ended; the tasks "
                f"{plural(n, 'it', 'they')} finished are in the History tab, marked 'interrupted'.")

    # --- construction ------------------------------------------------------------
    def _build_views(self) -> None:
        self.timeline = TimelineView()
        self.cores = CoreUsagePlot()
        self.cores.link_x(self.timeline)
        self.memory = MemoryPlot()  # the cores chart's second tab, on the same time axis
        self.memory.link_x(self.timeline)
        self.chart_tabs = QTabWidget()
        self.chart_tabs.setTabPosition(QTabWidget.TabPosition.East)  # tabs at the side: the charts keep their height
        self.chart_tabs.setDocumentMode(True)
        self.chart_tabs.addTab(self.cores, "CPU")
        self.chart_tabs.addTab(self.memory, "Memory")
        self.chart_tabs.setTabToolTip(1, "Memory per worker process over the run (USS, else RSS)")
        self.chart_tabs.currentChanged.connect(lambda _: self.memory.refresh())
        self.timeline.set_right_inset(self.chart_tabs.tabBar().sizeHint().width())
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.timeline)
        splitter.addWidget(self.chart_tabs)
        self.timeline.setMinimumHeight(150)  # a dock under the charts may grow, but never squash them unreadable
        self.cores.setMinimumHeight(120)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.setCentralWidget(splitter)

        self.summary = SummaryPanel()
        self.console = ConsolePane()
        self.compare = CompareView()
        self.compare_chart, self.compare_table = self.compare.chart, self.compare.table
        self.history = HistoryView(self.store)
        self.scaling = ScalingView()
        self.speedup_chart = self.scaling.speedup_chart
        self.efficiency_chart = self.scaling.efficiency_chart

        self.tabs = QTabWidget()
        self.tabs.addTab(self.summary, "Summary")
        self.tabs.addTab(self.compare, "Compare")
        self.tabs.addTab(self.scaling, "Scaling")
        self.tabs.addTab(self.console, "Console")
        self.tabs.addTab(self.history, "History")

    def _build_docks(self) -> None:
        panel = self.panel = ExperimentPanel()
        self.form, self.preset_box, self.preset_note = panel.form, panel.preset_box, panel.preset_note
        self.run_button, self.stop_button, self.sweep_button = panel.run_button, panel.stop_button, panel.sweep_button
        self.executor_checks = panel.executor_checks
        self.compare_checks, self.compare_button = self.executor_checks.checks, self.executor_checks.button
        scroll = self.panel_scroll = QScrollArea()
        scroll.setWidget(panel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(panel.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4)
        body = QWidget()  # the panel scrolls; Run and Stop stay in view under it
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(scroll, 1)
        column.addWidget(panel.run_bar)
        left = QDockWidget("Experiment", self)
        left.setObjectName("experiment-dock")
        left.setWidget(body)
        left.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, left)

        right = QDockWidget("Results", self)
        right.setObjectName("results-dock")
        right.setWidget(self.tabs)
        right.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        right.setMinimumWidth(380)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, right)
        self.resizeDocks([left, right], [340, 440], Qt.Orientation.Horizontal)
        # under the charts on a narrow window
        self.results_placement = ResultsPlacement(self, right, self.controller.run_started)

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "&Open run file…", lambda: self.open_run_file(), QKeySequence.StandardKey.Open)
        self._action(file, "Open scaling study…", lambda: self.open_sweep_file(),
                     tip="A scaling study saved as JSON (File ▸ Export data), back in the Scaling tab")
        self.save_action = self._action(file, "&Save run as JSON…", self.save_run_file, QKeySequence.StandardKey.Save)
        file.addSeparator()
        self.export_action = self._action(file, "&Export report image…", self.export_report, "Ctrl+E",
                                          "Timeline, cores and summary in one PNG")
        images = file.addMenu("Export chart")
        for label, widget in (("Timeline", "timeline"), ("CPU cores", "cores"), ("Memory", "memory"),
                              ("Comparison: timelines", "compare_stack"), ("Comparison: wall times", "compare_chart"),
                              ("Scaling: speedup", "speedup_chart"), ("Scaling: efficiency", "efficiency_chart")):
            self._action(images, f"{label} as PNG…", lambda _=False, w=widget: self.export_chart(w, "png"))
            self._action(images, f"{label} as SVG…", lambda _=False, w=widget: self.export_chart(w, "svg"))
        data = file.addMenu("Export data")
        self._action(data, "Tasks as CSV…", lambda: self.export_data("csv"))
        self._action(data, "Run as JSON…", lambda: self.export_data("json"))
        self._action(data, "Chrome trace (Perfetto)…", lambda: self.export_data("trace"))
        self._action(data, "Scaling study as CSV…", lambda: self.export_sweep("csv"))
        self._action(data, "Scaling study as JSON…", lambda: self.export_sweep("json"))
        file.addSeparator()
        self.quit_action = self._action(file, "&Quit", self.quit_clicked, QKeySequence.StandardKey.Quit)

        run = bar.addMenu("&Run")
        self.run_action = self._action(run, "&Run", self.run_clicked, "Ctrl+R")
        self.stop_action = self._action(run, "&Stop", self.stop_clicked, "Esc")
        self.compare_action = self._action(run, "&Compare executors", self.compare_clicked, "Ctrl+Shift+R")
        self.sweep_action = self._action(run, "Scaling &study…", self.sweep_clicked, "Ctrl+Shift+S",
                                         "The experiment with 1, 2, 4, … workers: speedup and efficiency")
        install_recalibrate(self, run)  # Run ▸ Recalibrate CPU work

        helpm = bar.addMenu("&Help")
        install_help(self, helpm)
        self._action(helpm, "&About ConcGUI", self.show_about)

    def _build_status_bar(self) -> None:
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.setFormat(PROGRESS_FORMAT)
        self.eta_label = QLabel()
        self.statusBar().addPermanentWidget(self.eta_label)
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().showMessage("Ready. Pick a preset or set up an experiment, then press Run (Ctrl+R).")

    def _connect(self) -> None:
        self.run_button.clicked.connect(self.run_clicked)
        self.stop_button.clicked.connect(self.stop_clicked)
        self.compare_button.clicked.connect(self.compare_clicked)
        self.sweep_button.clicked.connect(self.sweep_clicked)
        self.form.validity_changed.connect(lambda _ok: self._update_buttons())
        self.panel.compare_mode_changed.connect(self._on_compare_mode)
        c = self.controller
        c.run_started.connect(self._on_run_started)
        c.updated.connect(self._on_updated)
        c.frame_step.connect(self._on_frame_step)
        c.run_finished.connect(self._on_run_finished)
        c.run_failed.connect(self._on_run_failed)
        c.sequence_finished.connect(self._on_sequence_finished)
        # after the window's own handlers: the sweeper starts the next run when one ends
        self.sweeper = SweepController(c, self)
        self.sweeper.started.connect(self._on_sweep_started)
        self.sweeper.point_started.connect(self._on_sweep_point_started)
        self.sweeper.point_added.connect(lambda sweep: self.scaling.set_sweep(sweep,
                                                                             running=self.sweeper.remaining() > 0))
        self.sweeper.finished.connect(self._on_sweep_finished)
        self.history.open_requested.connect(self.open_history_run)
        self.history.compare_requested.connect(self.open_history_runs)

    # --- settings ----------------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1500, 900)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        last = self.settings.value("experiment/last")
        if isinstance(last, str):
            try:
                self.form.set_spec(ExperimentSpec.from_dict(json.loads(last)))
            except (ValueError, TypeError):
                pass  # an old or damaged setting: keep the defaults

    def _save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        if self.form.is_valid():
            self.settings.setValue("experiment/last", json.dumps(self.form.spec().to_dict()))

    # --- running -----------------------------------------------------------------
    def _update_buttons(self) -> None:
        running = self.controller.is_running() or self.sweeper.is_running()
        valid = self.form.is_valid()
        self.panel.set_running(running, valid)
        for w in (self.run_action, self.compare_action, self.sweep_action):
            w.setEnabled(valid and not running)
        self.stop_action.setEnabled(running)
        if not valid:
            self.statusBar().showMessage(f"Cannot run: {self.form.error()}")

    def _form_spec(self, action: str) -> ExperimentSpec | None:
        """The form's experiment, or None after saying in the status bar why ``action`` cannot start."""
        try:
            return self.form.spec()
        except SpecError as exc:
            self.statusBar().showMessage(f"Cannot {action}: {exc}")
            return None

    def run_clicked(self) -> None:
        if self.controller.is_running() or (spec := self._form_spec("run")) is None:
            return
        baseline = None if spec.executor == "sequential" else self._baselines.get(experiment_key(spec.to_dict()))
        self.controller.start(spec, baseline)

    def compare_clicked(self) -> None:
        if self.controller.is_running() or (spec := self._form_spec("compare")) is None:
            return
        names = self.executor_checks.chosen()
        if not names:
            self.statusBar().showMessage("Cannot compare: check at least one executor")
            return
        try:  # each checked executor; a preset meant for Compare runs its own runs of them
            specs = self.panel.comparison(spec, names)
        except SpecError as exc:
            self.statusBar().showMessage(f"Cannot compare: {exc}")
            return
        self.run_sequence(specs)

    def _on_compare_mode(self, on: bool) -> None:
        """A preset meant for Compare is loaded (or no longer): Ctrl+R runs its comparison, not one run."""
        self.run_action.setShortcut(QKeySequence() if on else QKeySequence("Ctrl+R"))
        self.compare_action.setShortcuts([QKeySequence("Ctrl+R"), QKeySequence("Ctrl+Shift+R")] if on
                                         else [QKeySequence("Ctrl+Shift+R")])
        if on:
            # once the panel is laid out anew with the preset's note
            QTimer.singleShot(0, lambda: self.panel_scroll.ensureWidgetVisible(self.compare_button))
            self.statusBar().showMessage(COMPARISON_HINT)
        elif self.statusBar().currentMessage() == COMPARISON_HINT:  # the hint no longer holds
            self.statusBar().clearMessage()

    def run_sequence(self, specs: list[ExperimentSpec]) -> None:
        self.compare_results = []
        self.controller.start_sequence(specs)

    def stop_clicked(self) -> None:
        self.sweeper.stop()  # a scaling study ends with the run going now
        if self.controller.is_running():
            self.statusBar().showMessage("Stopping…")
            self.controller.cancel()

    def _on_run_started(self, state: RunState) -> None:
        self.result = None
        self.timeline.set_state(state)
        self.cores.set_state(state)
        self.memory.set_state(state)
        self.summary.set_result(None)
        self.console.clear()
        spec = self.controller._run.spec if self.controller._run is not None else None
        if spec is not None:
            self.console.write(f"▶ {spec.workload} × {spec.tasks} on {executor_label(spec.to_dict())}")
            self.statusBar().showMessage(f"Running {spec.workload} × {spec.tasks} on {executor_label(spec.to_dict())}…")
        self.progress.setRange(0, max(1, spec.tasks if spec else 1))
        self.progress.setValue(0)
        self.progress.setFormat(PROGRESS_FORMAT)
        self.eta_label.clear()
        self._update_buttons()

    def _on_updated(self, state: RunState, events: list) -> None:
        self.console.on_events(events)
        self.keeper.on_events(state, events)

    def _on_history_written(self) -> None:
        """Take the writer's reports: refresh the list, or say a run could not be written (it is kept).

        The list is read again only between runs: reading and laying it out is a pause on the window's
        thread, which the live views would show in the middle of the next run's flood of events.
        """
        out = self.keeper.take_outcomes()
        for result, detail in out.unsaved:  # named by the file it went to: a full disk sends it elsewhere
            where = self.keeper.kept_at(result)
            kept = (f"It is not lost: it was written to {where}, and it is still on screen." if where else
                    "It is still on screen, but no folder took it as a file: save it as JSON now.")
            self.show_problem("Run not saved to the history",
                              f"This run could not be written to the history: {detail}.\n\n{kept}", offer_save=result)
        for text in out.kept_elsewhere:
            self.show_problem("Run kept elsewhere", text)
        for detail in out.errors:
            self.statusBar().showMessage(f"Could not write to the history: {detail}")
        refresh = self._history_stale or out.saved
        self._history_stale = refresh and self.controller.is_running()
        if refresh and not self._history_stale:
            try:
                self.history.refresh()
            except Exception as exc:  # noqa: BLE001 - a history that cannot be read must not stop the window
                self.statusBar().showMessage(f"Could not read the history: {exc}")

    def _on_frame_step(self, step: int) -> None:
        """While a run goes, the charts take turns: each redraw is its own short turn of the event loop."""
        if step == 1:
            self.timeline.refresh()
        else:
            self.cores.refresh()
            self.memory.refresh()
            self._refresh_progress()
            self.keeper.flush()

    def _refresh_views(self) -> None:
        """Bring every view up to date at once (a run's end)."""
        self.timeline.refresh()
        self.cores.refresh()
        self.memory.refresh()
        self._refresh_progress()

    def _refresh_progress(self) -> None:
        state = self.controller.state
        if state is not None and state.total:
            self.progress.setRange(0, state.total)
            self.progress.setValue(state.done)
            eta = state.eta()
            self.eta_label.setText("" if eta is None else f"about {seconds(eta, 1)} left")

    def _show_outcome(self, result: RunResult, elsewhere: int | None = None) -> None:
        """An ended run's tasks in the progress bar (the words: :func:`.run_outcome.outcome`)."""
        text, value, maximum = outcome(result, elsewhere)
        self.progress.setRange(0, maximum)
        self.progress.setValue(value)
        self.progress.setFormat(text)

    def _on_run_finished(self, result: RunResult) -> None:
        self.result = result
        self.keeper.end(result)
        if result.spec.get("executor") == "sequential" and result.status == "ok":
            self._baselines[experiment_key(result.spec)] = result
        self.summary.set_result(result)
        self._refresh_views()
        self._show_outcome(result)
        s = result.summary
        speed = f", {speedup(s['speedup'])} against {s['baseline']}" if s.get("speedup") else ""
        done = f"{executor_label(result.spec)}: {result.status} in {seconds(result.wall_seconds)}{speed}"
        self.statusBar().showMessage(done)
        self.eta_label.clear()
        self._update_buttons()
        if self._screenshot and not self.controller.is_running() and self.controller._sequence is None:
            QTimer.singleShot(400, self._take_screenshot_and_quit)

    def _on_run_failed(self, message: str) -> None:
        partial = partial_result(self.controller.state, message, self.keeper.started_at)
        self.keeper.end(partial)  # if it had started: what it did, closed as failed, in history and view
        if partial is not None:
            self.result = partial
            self.summary.set_result(partial)
            self._refresh_views()
            self._show_outcome(partial)
        else:  # nothing ran: say why where the tasks would have been, and show the machine's load again
            self.summary.set_result(None)
            self.timeline.set_message(f"The run did not start:\n{message.splitlines()[0]}")
            self.cores.set_state(None)
            self.memory.set_state(None)
        self.console.write(message)
        self.statusBar().showMessage(message.splitlines()[0])
        self._update_buttons()
        if self._screenshot:
            QTimer.singleShot(200, lambda: self._take_screenshot_and_quit(exit_code=1))
        elif not self._closing and not self.sweeper.is_running():  # a scaling study keeps it as a failed point
            self.show_problem("Run failed", message)

    def show_problem(self, title: str, text: str, offer_save: RunResult | None = None) -> QMessageBox:
        """Say what went wrong without blocking: a modal box would freeze the live views behind it."""
        if self.problem_box is not None:
            self.problem_box.close()
            self.problem_box.deleteLater()
        box = self.problem_box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok,
                                             self)
        box.setWindowModality(Qt.WindowModality.NonModal)
        if offer_save is not None:
            save = box.addButton("Save as JSON…", QMessageBox.ButtonRole.ActionRole)
            save.clicked.connect(lambda: self.save_unsaved(offer_save))
        box.show()
        return box

    def _on_sequence_finished(self, results: list[RunResult]) -> None:
        self._show_comparison(results)
        if self._screenshot:
            QTimer.singleShot(400, self._take_screenshot_and_quit)

    def _show_comparison(self, results: list[RunResult]) -> None:
        """Runs side by side in the Compare tab, and which won and why in the Summary and the console."""
        self.compare_results = results
        self.compare.set_results(results)
        self.summary.set_comparison(results)
        if text := compare_why(results):
            self.console.write(f"Compare: {text}")
        self.tabs.setCurrentWidget(self.compare)
        self.results_placement.make_room()

    # --- presets and screenshots -------------------------------------------------
    def load_preset(self, name: str) -> list[ExperimentSpec]:
        """Put a preset into the form (and the comparison checkboxes); returns its runnable specs."""
        return self.panel.load_preset(name)

    def run_preset(self, name: str, screenshot: str | None = None, size: tuple[int, int] = (1600, 1000)) -> None:
        """Load a preset and run it (a comparison when it has several specs); with ``screenshot``, at ``size``."""
        self._screenshot = screenshot
        if screenshot:  # the same picture whatever size the window had last time
            self.resize(*size)
            self.resizeDocks([self.findChild(QDockWidget, "experiment-dock")], [360], Qt.Orientation.Horizontal)
        specs = self.load_preset(name)
        if len(specs) > 1:
            self.run_sequence(specs)
        else:
            self.controller.start(specs[0])

    def _take_screenshot_and_quit(self, exit_code: int = 0) -> None:
        if self._screenshot:
            self.grab().save(self._screenshot)
            self._screenshot = None
        from PySide6.QtWidgets import QApplication

        self.close()
        QApplication.instance().exit(exit_code)

    # --- history -----------------------------------------------------------------
    def open_history_run(self, run_id: int) -> None:
        try:
            result = self.store.load(run_id)
        except Exception as exc:  # noqa: BLE001 - a damaged row must not take the window down
            self.show_problem("History", f"Could not open run {run_id}: {exc}")
            return
        self.show_result(result)
        elsewhere = self.store.recorded_elsewhere().get(run_id) if result.status == RUNNING else None
        if elsewhere:  # concgui run (or another window) still records it: what it has finished so far
            self._show_outcome(result, elsewhere)
            self.statusBar().showMessage(f"Run {run_id} is still going in process {elsewhere}: showing the tasks "
                                         "it had finished; open it again for more")

    def open_history_runs(self, run_ids: list[int]) -> None:
        """Several runs side by side in Compare, each against the earliest of its experiment; the last in every
        view."""
        try:
            results = [self.store.load(i) for i in sorted(run_ids)]
        except Exception as exc:  # noqa: BLE001 - a damaged row must not take the window down
            self.show_problem("History", f"Could not open runs {run_ids}: {exc}")
            return
        for r, base in zip(results, baselines(results), strict=True):  # against these, not what each had
            r.summary = summarize(r, None if r is base else base)
        self.show_result(results[-1])
        self._show_comparison(results)

    def show_result(self, result: RunResult) -> None:
        """Show a finished run (from history or a file) in every view."""
        if self.controller.is_running():
            self.statusBar().showMessage("Stop the current run before opening another")
            return
        self.result = result
        state = RunState.from_result(result)
        self.timeline.set_state(state)
        self.cores.set_state(state)
        self.memory.set_state(state)
        self.timeline.refresh()
        self.cores.refresh()
        self.summary.set_result(result)
        self.console.show_result(result)
        self.panel.leave_compare()  # the form shows this run's experiment, not a preset's comparison
        try:  # no probe: a run file's interpreter runs only when the person runs the experiment
            self.form.set_spec(ExperimentSpec.from_dict(result.spec), probe=False)
        except (SpecError, TypeError):
            pass  # a run made by another version: show it, keep the form as it is
        self._show_outcome(result)
        self.statusBar().showMessage(f"Showing run: {result.spec.get('workload')} on {executor_label(result.spec)}")

    # --- about and closing -------------------------------------------------------
    def show_about(self) -> None:
        import numpy
        import psutil
        import pyqtgraph
        import PySide6
        from PySide6.QtCore import qVersion

        QMessageBox.about(
            self, "About ConcGUI",
            f"<b>ConcGUI {__version__}</b><br>See, live, the difference between concurrency and parallelism "
            f"in Python.<br><br>Python {platform.python_version()} ({platform.python_implementation()})<br>"
            f"Qt {qVersion()}, PySide6 {PySide6.__version__}<br>pyqtgraph {pyqtgraph.__version__}, "
            f"psutil {psutil.__version__}, numpy {numpy.__version__}<br>{platform.platform()}",
        )

    def quit_clicked(self) -> None:
        """File ▸ Quit (Ctrl+Q): the window's close, which asks first while a run goes."""
        self._quit_asked = True
        try:
            self.close()
        finally:
            self._quit_asked = False

    def _confirm_quit(self) -> bool:
        """Ask once whether to stop the run going and quit; the tasks it finished are kept either way."""
        state = self.controller.state
        what = "A scaling study is running" if self.sweeper.is_running() else "A run is going"
        if state is not None and state.total:
            ended = plural(state.done, "has", "have")
            what += f": {number(state.done, 0)} of {count(state.total, 'task')} {ended} ended"
        box = QMessageBox(QMessageBox.Icon.Question, "Quit ConcGUI?", f"{what}.", parent=self)
        box.setInformativeText("Quitting stops it. The tasks it finished are kept in the History, "
                               "marked 'interrupted'.")
        quit_button = box.addButton("Stop and quit", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(box.addButton("Keep running", QMessageBox.ButtonRole.RejectRole))
        box.exec()
        return box.clickedButton() is quit_button

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Stop a running experiment (bounded), save settings, release the database.

        Closed by the person (File ▸ Quit, the window's close button) while a run goes, it asks
        first; closed by the program (a screenshot taken, a test), it does not.
        """
        by_person = event.spontaneous() or self._quit_asked
        busy = self.controller.is_running() or self.sweeper.is_running()
        if by_person and busy and not self._closing and not self._confirm_quit():
            event.ignore()
            return
        self._closing = True
        self.sweeper.stop()
        self.controller.shutdown()
        self.cores.stop()
        self.form.shutdown()
        self._save_settings()
        self._writer_timer.stop()
        self.keeper.close()  # bounded; every run the history did not take goes to a file
        if self.problem_box is not None:
            self.problem_box.close()
        self.store.close()
        super().closeEvent(event)

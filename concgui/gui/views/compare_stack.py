"""Compare as small multiples: one timeline per executor, stacked on one shared time axis.

The picture every course draws for concurrency and parallelism: the same tasks one after another
(a staircase), overlapping on one core, side by side on several (a stack), each on the same clock.
Each run is drawn by a :class:`~.stack_timeline.StackTimeline` (the live timeline's view, with a
wall-time mark and an ideal mark); this widget stacks them, links them on x (zooming or panning one
moves all), gives every one the same row height and lane-label width, and puts a
:class:`~.stack_header.StackHeader` above them.  Time is seconds since each run's work started, a
pool's start-up shaded before 0, so a wall mark sits at the wall time the table gives (the notebook's
stack, :mod:`concgui.notebook.stack`, draws the same way).

With few tasks the rows are one per task, so that "one after another" reads as a staircase; with
many, one per worker, as in the live timeline.  Exports (PNG or SVG) lay the whole stack out anew,
offscreen, at the image's width, so text stays at reading size whatever the panel's width.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence

from PySide6 import QtCore, QtGui, QtWidgets

from ...engine.baseline import baselines, experiment_text, experiments
from ...engine.ideal import ideal_legend
from ...engine.live import RunState
from ...engine.records import RunResult
from ...engine.task_rows import MAX_TASK_ROWS, per_task_possible
from .. import theme
from ..image_export import ExportTarget, export_dialog
from .stack_header import StackHeader, header_table
from .stack_timeline import StackTimeline, run_end
from .timeline.texts import blocked_cause, transfer_parts

ROW_MIN, ROW_MAX, ROW_EXPORT = 8, 44, 26  # a row's height (px): at least, at most on screen, in an export
AXIS_EACH_UPTO = 4  # up to this many timelines each has its time axis's ticks; more, only the lowest one
ROWS_CAPPED = 16  # rows beyond this many do not make a timeline taller
LABEL_GAP = 2  # px kept above and under a mark's label in a timeline of few rows
EXPORT_MAX_LOGICAL = 1400  # an export is laid out at most this wide (px), then scaled to the image's width
#: the shared axis shows at most this share of the longest run's work as start-up before 0 (a 4 s process
#: pool start-up would squeeze 0.3 s of work into a corner); the shade's label says how long it really was
STARTUP_SHOWN = 0.25


class CompareStack(QtWidgets.QWidget):
    """The Compare tab's timelines: ``set_results(results)``, the baseline first.

    ``export_handler`` (optional) replaces the file dialog of each timeline's "Export image…"
    entry (every entry exports the whole stack); it receives this widget.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None, dark: bool | None = None) -> None:
        super().__init__(parent)
        self.export_handler: Callable[[QtWidgets.QWidget], object] | None = None
        self._dark = dark
        self._results: list[RunResult] = []
        self._syncing = False
        self._refit = QtCore.QTimer(self, singleShot=True, interval=0)  # titles re-wrapped: heights, once a turn
        self._row_px = 0.0  # a fixed row height (an export's), else what the panel's height gives
        self._refit.timeout.connect(self._fit_heights)
        self.timelines: list[StackTimeline] = []

        self.rows_box = QtWidgets.QComboBox()
        self.rows_box.addItem("one row per task", True)
        self.rows_box.addItem("one row per worker", False)
        self.rows_box.setToolTip(f"A row per task (runs of up to {MAX_TASK_ROWS} tasks): tasks one after another "
                                 "make a staircase, tasks at the same time a stack; the strip under a task is what its "
                                 "thread did while it ran.\nA row per worker: what each thread or process ran, "
                                 "as in the main timeline, with the X-ray strips.")
        self.rows_box.activated.connect(lambda _i: self._redraw())
        self.whole_button = QtWidgets.QPushButton("Whole runs")
        self.whole_button.setToolTip("Show every run whole again (or double-click a timeline). "
                                     "Zooming or panning one timeline moves them all.")
        self.whole_button.clicked.connect(self.show_whole_runs)
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(QtWidgets.QLabel("Rows:"))
        bar.addWidget(self.rows_box)
        bar.addStretch(1)
        bar.addWidget(self.whole_button)

        self.header = StackHeader(dark=dark)
        self.header.scene().contextMenu = [self._export_action(self.header)]
        self._body = QtWidgets.QWidget()
        self._column = QtWidgets.QVBoxLayout(self._body)
        self._column.setContentsMargins(0, 0, 0, 0)
        self._column.setSpacing(0)
        self._column.addStretch(0)
        self.scroll = QtWidgets.QScrollArea()
        self.scroll.setWidget(self._body)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.viewport().installEventFilter(self)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.header)
        layout.addWidget(self.scroll, 1)
        self._show_header()

    # --- public API ------------------------------------------------------------------
    def set_results(self, results: Sequence[RunResult], per_task: bool | None = None) -> None:
        """One timeline per result, the first the baseline; ``per_task`` None: a row per task when all are small."""
        self._results = list(results)
        possible = per_task_possible(self._results)
        item = self.rows_box.model().item(0)
        item.setEnabled(possible)
        if per_task is None:
            per_task = possible
        self.rows_box.setCurrentIndex(0 if per_task and possible else 1)
        self.rows_box.setEnabled(possible)
        self._redraw()

    def results(self) -> list[RunResult]:
        return list(self._results)

    def per_task(self) -> bool:
        return bool(self.rows_box.currentData()) and per_task_possible(self._results)

    def x_range(self) -> tuple[float, float]:
        """The time span shown (shared by every timeline)."""
        return tuple(self.timelines[0].getViewBox().viewRange()[0]) if self.timelines else (0.0, 1.0)

    def show_whole_runs(self) -> None:
        """Every run whole: the shared time axis from 0 to the longest run's end."""
        if not self.timelines:
            return
        for v in self.timelines:
            v.set_follow(False)  # a finished run: "follow" would fit each view to its own run
        end = max(run_end(r) for r in self._results) or 1.0
        start = -min(max(r.startup_seconds for r in self._results), STARTUP_SHOWN * end)  # start-up, before 0
        self.timelines[0].getViewBox().setXRange(start, end, padding=0.02)

    def set_dark(self, dark: bool | None) -> None:
        self._dark = dark
        self.header.set_dark(dark)
        for v in self.timelines:
            v.set_dark(dark)
        self._show_header()

    def flush_pending(self) -> None:
        for v in self.timelines:
            v.flush_pending()

    @contextlib.contextmanager
    def export_parts(self, width: int) -> Iterator[list[ExportTarget]]:
        """The stack laid out anew, offscreen, about ``width`` px wide: its header and timelines, top to bottom.

        An image of the panel itself would scale its text with the image (a 480 px panel as a
        1,600 px image: 30 pt labels); laid out at the image's width, text stays at reading size.
        """
        logical = max(600, min(int(width), EXPORT_MAX_LOGICAL))
        copy = CompareStack(dark=self._dark)
        copy.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        try:
            copy.resize(logical, 800)
            copy.show()
            copy.set_results(self._results, per_task=self.per_task())
            QtWidgets.QApplication.processEvents()
            copy._row_px = ROW_EXPORT
            for _ in range(2):  # the second pass with the titles wrapped at this width
                copy._fit_heights()
                copy.resize(logical, copy.natural_height())
                QtWidgets.QApplication.processEvents()
            copy.set_x_range(*self.x_range())
            copy.flush_pending()
            yield [copy.header.panel, *copy.timelines]
        finally:
            copy.close()
            copy.deleteLater()

    def natural_height(self) -> int:
        """The height (px) that gives each row an export's height: toolbar, header and every timeline."""
        rows = sum(self._overhead(v) + self._plot_rows(v, ROW_EXPORT) * ROW_EXPORT for v in self.timelines)
        bar = self.layout().itemAt(0).sizeHint().height()
        return bar + self.header.height() + rows + 4

    def set_x_range(self, x0: float, x1: float) -> None:
        if self.timelines:
            for v in self.timelines:
                v.set_follow(False)
            self.timelines[0].getViewBox().setXRange(x0, x1, padding=0.0)

    # --- drawing ---------------------------------------------------------------------
    def _redraw(self) -> None:
        results = self._results
        while len(self.timelines) > len(results):
            v = self.timelines.pop()
            self._column.removeWidget(v)
            v.close()
            v.deleteLater()
        while len(self.timelines) < len(results):
            self._add_timeline()
        per_task = self.per_task()
        last = len(results) - 1
        label = "seconds since each run's work started"
        if any(r.startup_seconds > 0.01 * max(r.wall_seconds, 1e-9) for r in results):
            label += " (a pool's start-up before 0)"
        for v in self.timelines[1:]:  # unlinked while each fits its own run: one range change each, not n
            v.setXLink(None)
        bases, several = baselines(results), len(experiments(results)) > 1
        for i, (v, r) in enumerate(zip(self.timelines, results, strict=True)):
            # times under each timeline while there is room; under the last only when there are many
            v.show_run(r, bases[i], per_task, bottom_axis=i == last or last < AXIS_EACH_UPTO,
                       axis_label=label if i == last else None,
                       experiment=experiment_text(r.spec) if several else None)
        for v in self.timelines[1:]:
            v.setXLink(self.timelines[0])
        self._sync_left_axes()
        self._show_header()  # first: its height is the timelines' room
        self._fit_heights()
        self.show_whole_runs()
        self._show_header()  # again: its legend names what the timelines drew

    def _add_timeline(self) -> None:
        v = StackTimeline(dark=self._dark)
        v.export_handler = lambda _w: self._export()
        v.sigLeftAxisWidthChanged.connect(lambda _w: self._sync_left_axes())
        v.sigTitleHeightChanged.connect(self._refit.start)
        # a double-click (or "View all") asks a view to follow its own run: show every run whole instead
        v.sigFollowChanged.connect(lambda on: on and QtCore.QTimer.singleShot(0, self.show_whole_runs))
        self._column.insertWidget(len(self.timelines), v)
        self.timelines.append(v)

    def _sync_left_axes(self) -> None:
        """One width for every timeline's lane labels, so one time is at one x in all of them."""
        if self._syncing or not self.timelines:
            return
        self._syncing = True
        try:
            for v in self.timelines:
                v.set_left_axis_min(0.0)
            widest = max(v.left_axis_width() for v in self.timelines)
            for v in self.timelines:
                v.set_left_axis_min(widest)
        finally:
            self._syncing = False

    @staticmethod
    def _overhead(v: StackTimeline) -> int:
        """A timeline's height outside its rows: title, time axis (the last one's), margins."""
        plot = v.getPlotItem()
        axis = plot.getAxis("bottom")
        return math.ceil(plot.titleLabel.maximumHeight() + (axis.height() if axis.isVisible() else 0) + 10)

    def _fit_heights(self) -> None:
        """One row height for every timeline, so a task's bar is as thick in each: what the panel's height
        gives, between :data:`ROW_MIN` (below it, the panel scrolls) and :data:`ROW_MAX` px (an export:
        :data:`ROW_EXPORT`); each timeline is its title and time axis plus its rows."""
        if not self.timelines:
            return
        parts = [(self._overhead(v), min(max(1, v.rows()), ROWS_CAPPED)) for v in self.timelines]
        room = self.height() - self.layout().itemAt(0).sizeHint().height() - self.header.height()  # not yet laid out
        row = self._row_px
        if not row:  # the rows' share of the room, once the timelines too short for their labels took that height
            labels = [v.label_height() + 2 * LABEL_GAP for v in self.timelines]
            row = (room - sum(o for o, _ in parts)) / sum(r for _, r in parts)
            for _ in range(len(parts)):
                short = [r * max(row, ROW_MIN) < px for (_, r), px in zip(parts, labels, strict=True)]
                rows = sum(r for (_, r), s in zip(parts, short, strict=True) if not s)
                fixed = sum(px for px, s in zip(labels, short, strict=True) if s)
                new = (room - sum(o for o, _ in parts) - fixed) / max(rows, 1)
                if abs(new - row) < 0.01 or not rows:
                    break
                row = new
        row = min(ROW_MAX, max(ROW_MIN, row))
        for v, (extra, _) in zip(self.timelines, parts, strict=True):
            rows = self._plot_rows(v, row)
            v.set_min_rows(rows if rows > v.rows() else 0.0)  # blank rows under a short run's: its labels' room
            v.setFixedHeight(int(extra + rows * row))

    @staticmethod
    def _plot_rows(v: StackTimeline, row: float) -> float:
        """How many rows of ``row`` px a timeline's plot spans: its rows (at most :data:`ROWS_CAPPED`), or more
        when they are too few for its marks' labels (a one-row run's "wall 500.7 ms · baseline")."""
        return max(min(max(1, v.rows()), ROWS_CAPPED), (v.label_height() + 2 * LABEL_GAP) / row)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.scroll.viewport() and event.type() == QtCore.QEvent.Type.Resize:
            self._refit.start()  # the panel (or the header above the timelines) changed size
        return super().eventFilter(watched, event)

    def _show_header(self) -> None:
        results = self._results
        if not results:
            self.header.set_parts([("<b>One timeline per executor</b>", "One timeline per executor")], [],
                                  "Press Compare (Ctrl+Shift+R) to run the experiment on every checked executor, "
                                  "or open several runs together from the History tab: each gets its timeline "
                                  "here, on one time axis.")
            return
        several = len(experiments(results))
        what = (experiment_text(results[0].spec) if several == 1 else
                f"{several} experiments, each run set against the first of its own")
        rows = "one row per task" if self.per_task() else "one row per worker"
        head = [("<b>Tasks over time, one timeline per executor</b>", "Tasks over time, one timeline per executor"),
                (what, what), (rows, rows)]
        self.header.set_parts(head, self._legend(), header_table(results, self._dark))

    def _legend(self) -> list[tuple[str, str]]:
        """Swatches for what the timelines show (states, start-up, CPU fill, X-ray strips) and the two marks."""
        colors = theme.plot_colors(self._dark)
        counts: dict[str, int] = {}
        fill = strips = startup = False
        moved: dict[str, float | None] = {}  # the kinds of transfer segment drawn (no totals across runs)
        zeros: list[tuple[str, str]] = []  # each "nothing is copied" once
        for v, r in zip(self.timelines, self._results, strict=False):
            moved.update(dict.fromkeys(v.transfer_totals()))
            if not v.has_transfer():
                zeros += [p for p in transfer_parts(r.spec, {}, r.environment) if p not in zeros]
            for name, n in v.bar_counts().items():
                counts[name] = counts.get(name, 0) + n
            xray = v.xray_counts()
            fill |= xray.pop("cpu_fill") > 0
            strips |= any(xray.values())
            startup |= r.startup_seconds > 0.01 * max(r.wall_seconds, 1e-9)
        parts = [(theme.swatch(theme.STATE_COLORS[name], label), "■ " + label)
                 for name, label in theme.STATE_LABELS.items() if counts.get(name)]
        if startup:
            text = "start-up, before the work"
            parts.append((theme.swatch(theme.STARTUP_COLOR, text), "■ " + text))
        if fill:
            text = "a bar's filled part: its CPU time"
            parts.append((theme.swatch(theme.CPU_FILL_COLOR, text, "▄"), "▄ " + text))
        parts += transfer_parts({}, moved) + zeros  # the segments' swatches, then the zeros
        if strips:
            cause = blocked_cause(RunState.from_result(self._results[0]))
            parts.append(("strip under each row, its thread:", "strip under each row, its thread:"))
            for name, label in theme.THREAD_STATE_LABELS.items():
                text = f"blocked ({cause})" if name == "blocked" else label
                parts.append((theme.swatch(theme.THREAD_STATE_COLORS[name], text), "■ " + text))
        parts.append((theme.swatch(colors["foreground"], "wall time", "┃"), "┃ wall time"))
        drawn = any(v.marks()["ideal"] is not None for v in self.timelines)
        for k, text in enumerate(ideal_legend(self._results, drawn)):
            parts.append((theme.swatch(colors["muted"], text, "╎"), "╎ " + text) if drawn and k == 0 else (text, text))
        return parts

    # --- export ----------------------------------------------------------------------
    def _export_action(self, owner: QtWidgets.QWidget) -> QtGui.QAction:
        action = QtGui.QAction("Export image…", owner)
        action.triggered.connect(self._export)
        return action

    def _export(self) -> None:
        """The whole stack, through the window's export when it set one, else a file dialog."""
        if self.export_handler is not None:
            self.export_handler(self)
        else:
            export_dialog(self, "compare-timelines")

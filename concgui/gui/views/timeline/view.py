"""The live task timeline: a row per worker, a bar per task, coloured by its state.

It draws from a :class:`~concgui.engine.live.RunState` and nothing else, so a live run and a run
reopened from history look the same.  Where each bar goes is :mod:`.layout`'s job (Qt-free numpy);
this widget owns the graphics items.  Each state colour is one :class:`~.bars.Bars` item, so
drawing stays cheap for 100,000 tasks; during a run the finished bars go into chunks that are built
once and never touched again, so each refresh only builds what changed: the new chunk, the running
bars (which grow to "now") and the queue row (:mod:`.queue_area`).  While a run goes the view
follows it (:mod:`.follow`) until the person zooms or pans.

The GIL X-ray: each finished bar is filled from its bottom to its CPU share (one more bar item, in
chunks like the bars), and under each lane a thin strip (:mod:`.strips`) shows what the lane's thread
was doing, interval by interval, as the probe measured it: on a core, waiting for one, or blocked.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ....engine.live import RunState
from ....engine.present import count
from ....engine.records import RunResult, TaskRecord
from ... import theme
from ...image_export import install_export_menu
from ..chart import ThemedPlot
from .backdrop import Backdrop
from .bars import BarItems
from .follow import next_x_range
from .layout import FINAL_CODES, OK, RUNNING, TRANSFER_KINDS, TimelineLayout
from .queue_area import QueueArea
from .strips import ThreadStrips
from .texts import SHARED_MEMORY, TITLE, legend, task_text

EMPTY_TEXT = "Run an experiment: every task appears here as a bar\non the row of the worker that ran it."
MANY_LANES = 16  # beyond this many rows the mouse also zooms and pans vertically
HOVER_PIXELS = 4  # how near (in pixels) a tiny bar counts as hovered
#: changed tasks a live refresh draws at most: a burst is drawn over a few frames, each a short
#: turn of the event loop, instead of in one long one
SYNC_BUDGET = 2000
STRIP_PIXELS = 6  # the X-ray strip's narrowest column: narrower probe intervals are averaged to this width
LEGEND_EVERY = 0.2  # seconds between two updates of the legend's live counts (its text is laid out anew)
RIGHT_MARGIN = 12  # px right of the plot (the charts below have the same)


class TimelineView(ThemedPlot):
    """Live timeline of a run's tasks: ``set_state(state)``, then ``refresh()`` from a timer.

    ``export_handler`` (optional) replaces the file dialog of the
    "Export image…" context-menu entry; it receives this widget.
    """

    sigFollowChanged = QtCore.Signal(bool)
    #: the left axis got a new width (px); a chart stacked below matches it so times line up
    sigLeftAxisWidthChanged = QtCore.Signal(float)

    def __init__(self, parent: QtWidgets.QWidget | None = None, dark: bool | None = None) -> None:
        super().__init__(parent)
        self.export_handler: Callable[[pg.PlotWidget], object] | None = None
        self._dark = dark
        self._state: RunState | None = None
        self._tasks_ref: list[TaskRecord] | None = None
        self._changes = -1
        self._was_finished = False
        self._follow = True
        self._now = 0.0
        self._lag = 0.0
        self._min_w = 0.0  # a screen pixel in seconds when the bars were laid out: the narrowest drawn
        self._rescale_at_end = False  # bars laid out at another scale wait for the run's end
        self._left_axis_min = 0.0
        self._legend_at = 0.0  # time.monotonic() of the last legend update
        self._queue_area = QueueArea(self._pixel_width, self._update_axes)
        self._reset(0)

        plot = self.getPlotItem()
        plot.setLabel("bottom", "seconds since run start")
        self.getAxis("bottom").enableAutoSIPrefix(False)
        plot.hideButtons()
        plot.layout.setContentsMargins(4, 4, RIGHT_MARGIN, 4)
        vb = self.getViewBox()
        vb.invertY(True)
        vb.setMouseEnabled(x=True, y=False)
        vb.setDefaultPadding(0.0)
        self.getAxis("left").setStyle(tickLength=0)

        self._backdrop = Backdrop()
        self._now_line = pg.InfiniteLine(angle=90, movable=False)
        self._now_line.setZValue(20)
        self._now_line.hide()
        self._now_label = pg.InfLineLabel(self._now_line, "now", position=0.02, anchors=[(0, 0), (0, 0)])
        self._placeholder = pg.TextItem(EMPTY_TEXT, anchor=(0.5, 0.5))
        self._placeholder.setPos(0.5, 0.5)
        self._bars = BarItems(plot, lambda idx: self._layout.rects(idx, self._now, self._min_w))
        # every finished task's fill in one colour, whatever its state: one open chunk, as the bars
        self._fills = BarItems(plot, lambda idx: self._layout.fill_rects(idx, self._now, self._min_w),
                               brush=theme.with_alpha(theme.CPU_FILL_COLOR, theme.CPU_FILL_ALPHA), z=5)
        # the transfer segments ("sent": a task's argument in, "returned": its result out), made for a run with any
        self._transfer: dict[str, BarItems] | None = None
        self._strips = ThreadStrips(plot)
        for item in (*self._backdrop.items, self._queue_area.item, self._now_line, self._placeholder):
            plot.addItem(item, ignoreBounds=True)

        self._zoom_timer = QtCore.QTimer(self, singleShot=True, interval=120)
        self._zoom_timer.timeout.connect(self._on_zoom_settled)
        vb.sigXRangeChanged.connect(self._on_x_range_changed)
        vb.sigYRangeChanged.connect(self._update_grid)
        vb.sigYRangeChanged.connect(self._apply_ticks)
        vb.sigResized.connect(self._apply_ticks)
        vb.sigRangeChangedManually.connect(self._on_manual_range)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        vb.menu.viewAll.triggered.connect(lambda: self.set_follow(True))
        self._export_action = install_export_menu(self, "timeline")
        self.setToolTip("")
        self._ready = True
        self._apply_theme()
        self._show_empty()

    # --- public API ------------------------------------------------------------------
    def set_state(self, state: RunState | None) -> None:
        """Draw ``state`` (live or finished) from now on; None clears the view."""
        self._state = state
        self._zoom_timer.stop()  # a relayout the last state was waiting for
        self._tasks_ref = None
        self._changes = -1
        self._was_finished = False
        self._follow = True
        self._lag = 0.0
        if state is None:
            self._reset(0)
            self._bars.clear()
            self._fills.clear()
            self._drop_transfer()
            self._strips.clear()
            self._show_empty()
            return
        self.refresh()

    def set_message(self, text: str) -> None:
        """No run to draw, and ``text`` in its place (a run that failed before any task started)."""
        self.set_state(None)
        self._placeholder.setText(text)

    def set_result(self, result: RunResult | None) -> None:
        """Convenience: draw a finished result."""
        self.set_state(None if result is None else RunState.from_result(result))

    def state(self) -> RunState | None:
        return self._state

    def refresh(self) -> None:
        """Bring the picture up to date; nearly free when nothing moved."""
        state = self._state
        if state is None:
            return
        finished = state.finished
        if state.changes == self._changes and finished and self._was_finished:
            return
        moved = state.changes != self._changes or self._log_pos < len(state.changed)
        self._changes = state.changes
        self._now = self._clock(state)
        if state.tasks is not self._tasks_ref or len(state.tasks) != self._layout.n:
            self._full_sync()
        elif moved:
            self._incremental_sync()
        self._sync_strips()
        self._now = self._clock(state)
        if finished and not self._was_finished:
            self._settle()
        if not finished:
            self._update_running()
            # the queue (it sorts every start) and the legend (laid out anew) each at their own slow pace,
            # never both in one refresh: in a flood each is a slice of the window's time
            if not self._update_queue() and time.monotonic() - self._legend_at >= LEGEND_EVERY:
                self._update_legend()
            self._now_line.setPos(self._now)
        self._now_line.setVisible(not finished)
        self._apply_follow()

    def _clock(self, state: RunState) -> float:
        """The run's "now" in its own time.

        ``state.now()`` counts from when this process heard of the run, a little
        after the engine's clock started; the lag is learnt from the latest
        timestamps seen, so running bars never end before they began and the
        "now" line never trails them.
        """
        if state.finished:  # state.now() would scan every record for the last end
            return max(self._layout.max_time, float(state.work_start or 0.0))
        t = state.now()
        self._lag = max(self._lag, self._layout.max_time - t)
        return t + self._lag

    def set_follow(self, on: bool) -> None:
        """Keep the whole run (or its last minute) in view; turned off by zooming or panning."""
        if on != self._follow:
            self._follow = on
            self.sigFollowChanged.emit(on)
        if on:
            self._apply_follow()

    def following(self) -> bool:
        return self._follow

    def set_dark(self, dark: bool | None) -> None:
        """Force a light (False) or dark (True) look, or follow the system (None)."""
        self._dark = dark
        self._apply_theme()

    def set_left_axis_min(self, width: float) -> None:
        """Keep the left axis at least ``width`` px wide (the chart below needs as much)."""
        self._left_axis_min = width
        self._update_axes()

    def set_right_inset(self, px: int) -> None:
        """End the plot ``px`` further left: where the chart below ends (left of its tabs), so one time
        has one x in both and their linked spans show the same seconds per pixel."""
        plot = self.getPlotItem()
        left, top, _, bottom = plot.layout.getContentsMargins()
        plot.layout.setContentsMargins(left, top, RIGHT_MARGIN + px, bottom)

    def left_axis_width(self) -> float:
        return float(self.getAxis("left").width())

    def bar_counts(self) -> dict[str, int]:
        """Task bars drawn per state (for tests and the status bar)."""
        out = self._bars.counts()
        out["waiting"] = self.waiting_now() if self._queue_area.item.isVisible() else 0
        return out

    def waiting_now(self) -> int:
        """Tasks in the queue now: submitted, not started yet."""
        return self._layout.waiting()

    def lane_labels(self) -> list[str]:
        """The y-axis rows from top to bottom (the queue row first when shown)."""
        return [label for _, label in self._ticks]

    def graphics_item_count(self) -> int:
        """How many graphics items draw the tasks (stays small for any number of tasks)."""
        return self._bars.item_count()

    def xray_counts(self) -> dict[str, int]:
        """Rectangles the X-ray draws: per thread state in the strips, and "cpu_fill" (for tests)."""
        out = self._strips.counts()
        out["cpu_fill"] = sum(len(item.opts["x0"]) for item in self._fills.items())
        return out

    def transfer_rects(self, kind: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x0, x1, y0, height) of every transfer segment drawn (of ``kind``, "sent" or "returned", if given),
        merged ones as one (for tests)."""
        items = [item for k, bars in (self._transfer or {}).items() if kind in (None, k) for item in bars.items()]
        x0 = [np.asarray(item.opts["x0"], dtype=float) for item in items]
        w = [np.asarray(item.opts["width"], dtype=float) for item in items]
        y0 = [np.asarray(item.opts["y0"], dtype=float) for item in items]
        h = [np.asarray(item.opts["height"], dtype=float) for item in items]
        cat = (lambda v: np.concatenate(v) if v else np.zeros(0))
        return cat(x0), cat(x0) + cat(w), cat(y0), cat(h)

    def has_transfer(self) -> bool:
        """Whether some task's argument or result took time to move (its segments drawn, the legend names them)."""
        return self._layout.has_transfer

    def transfer_totals(self) -> dict[str, float]:
        """Seconds the arguments ("sent") and results ("returned") took to move, each added up, where any did."""
        return self._layout.transfer_totals()

    def transfer_item_count(self) -> int:
        """Graphics items drawing transfer segments (0 for a run that copied nothing)."""
        return sum(bars.item_count() for bars in (self._transfer or {}).values())

    def xray_item_count(self) -> int:
        """Graphics items of the X-ray: the fills and the strips (a few for any run)."""
        return self._fills.item_count() + self._strips.item_count()

    def hover_text_at(self, x: float, y: float, tolerance: float | None = None) -> str | None:
        """The tooltip for view coordinates (x seconds, y rows), or None over empty space."""
        if self._state is None or self._layout.n == 0:
            return None
        if tolerance is None:
            tolerance = self.getViewBox().viewPixelSize()[0] * HOVER_PIXELS
        if y < 0:
            return self._queue_area.text_at(x) if self._queue_area.item.isVisible() and -1 < y < 0 else None
        hits = self._layout.tasks_at(x, y, tolerance, self._now)
        if hits.size == 0:
            return None
        i = int(hits[0])
        text = task_text(i, self._state.tasks[i], self._now, self._state)
        start, end = self._layout.start[hits], self._layout.end_now(self._now)[hits]
        short = (end - start) < tolerance
        if short.sum() < 2:  # a bar of its own: its story alone
            return text
        first, last = start[short].min(), end[short].max()
        return (f"{count(int(short.sum()), 'task')} ran here, {first:.4f}–{last:.4f} s: each shorter than a "
                f"pixel at this zoom, drawn as one block (zoom in to tell them apart). The nearest:\n{text}")

    def task_bar_center(self, index: int) -> tuple[float, float] | None:
        """View coordinates of task ``index``'s bar middle (for tests and "show task")."""
        return self._layout.bar_center(index, self._now)

    def flush_pending(self) -> None:
        """Run a pending zoom rebuild now (before an export; tests, benchmarks)."""
        if self._zoom_timer.isActive():
            self._zoom_timer.stop()
            self._on_zoom_settled()

    # --- data ------------------------------------------------------------------------
    def _reset(self, n: int) -> None:
        """Empty columns for ``n`` tasks: a new run (or none)."""
        self._layout = TimelineLayout(n)
        self._log_pos = 0  # how far into the state's log of changed tasks this view has drawn
        self._ticks: list[tuple[float, str]] = []
        self._tick_stride = 0
        self._queue_area.reset()
        self._work_start = 0.0

    def _full_sync(self) -> None:
        """Rebuild every column and item from the state (new run, reopened run, run end)."""
        state = self._state
        assert state is not None
        tasks = state.tasks
        self._reset(len(tasks))
        # threads, asyncio and sequential copy nothing by construction: their floods skip reading the zeros
        spec = state.spec or {}
        self._layout.copies_data = not spec.get("executor") or theme.executor_kind(spec) not in SHARED_MEMORY
        self._tasks_ref = tasks
        self._log_pos = len(state.changed)
        self._was_finished = state.finished
        self._layout.add_lanes(state.lanes)
        # a live run's records are those its log names, the rest not started: draw them from the log
        replay = state.logged_from_start and not state.finished
        if replay:
            self._log_pos = 0
        else:
            self._layout.load(tasks, state.finished)
        self._lag = 0.0
        self._now = self._clock(state)
        self._work_start = float(state.work_start or 0.0)
        self._rebuild_items()
        if replay:
            self._incremental_sync()
        self._update_queue(force=True)
        self._update_startup()
        self._update_legend()
        self._placeholder.setVisible(False)

    def _incremental_sync(self) -> None:
        """Apply only the records that changed since the last refresh.

        RunState logs every task whose record it replaced (and never replaces
        a final one in place), so the work is in proportion to what happened
        since the last look; the changed records are handled as arrays, a lane
        at a time.
        """
        state = self._state
        assert state is not None
        layout = self._layout
        lanes_changed = layout.add_lanes(state.lanes)
        if self._work_start != float(state.work_start or 0.0):
            self._work_start = float(state.work_start or 0.0)
            self._update_startup()
        log, pos = state.changed, self._log_pos
        end = len(log)
        if not state.finished:  # a burst is drawn a budget at a time: the log names each worker's tasks
            end = min(end, pos + SYNC_BUDGET)  # in the order they ran, so a cut anywhere keeps its rows
        changed = np.array(log[pos:end], dtype=np.int64)
        self._log_pos = end
        # each task once, in order; not np.unique: its first call imports numpy.ma, a pause mid-run
        if changed.size:
            named = np.zeros(layout.n, dtype=bool)
            named[changed] = True
            # ... and not yet drawn final: a record is read as it is now, so a task may have been drawn
            # finished from its start's entry while its end's entry waited beyond a burst's cut
            changed = np.flatnonzero(named & (layout.status < OK))
        if changed.size == 0:
            if lanes_changed:
                self._update_axes()
            return
        recs = [state.tasks[i] for i in changed.tolist()]
        codes, st, en, ln = layout.columns(recs)
        layout.set_cpu(changed, recs)
        grew = layout.apply(changed, codes, st, en, ln)
        had_transfer = layout.has_transfer
        layout.set_transfer(changed, recs)
        if grew:  # a lane got more sub-rows: every bar in it moves, so rebuild (rare: it doubles)
            self._rebuild_items()
        else:
            drawable = np.isfinite(st) & (ln >= 0) & np.isfinite(en)
            for code in FINAL_CODES:
                idx = changed[drawable & (codes == code)]
                if idx.size:
                    self._bars.append(code, idx)
            final = changed[drawable & (codes >= OK)]
            if final.size:
                self._fills.append(OK, final)
                moved = layout.transfer_tasks(final)
                if moved.size:
                    for bars in self._transfer_items():
                        bars.append(OK, moved)
        if lanes_changed or grew:
            self._update_axes()
        if lanes_changed or had_transfer != layout.has_transfer:
            self._update_legend()

    def _settle(self) -> None:
        """The run ended: each lane fits its rows exactly; queue, axes and legend take their final form."""
        self._was_finished = True
        self._work_start = float(self._state.work_start or 0.0) if self._state is not None else 0.0
        if self._layout.fit_rows():  # rows move
            self._rebuild_items()
        else:
            self._update_running()
            if self._rescale_at_end:  # bars drawn at an earlier scale: laid out anew in a turn of its own
                self._zoom_timer.start()
        self._update_queue(force=True)
        self._update_startup()
        self._update_axes()
        self._update_legend()

    # --- items -----------------------------------------------------------------------
    def _rebuild_items(self) -> None:
        """One bar item per state holding every drawable task (the fast path)."""
        self._bars.clear()
        self._fills.clear()
        self._drop_transfer()
        self._min_w, self._rescale_at_end = self._pixel_width(), False
        finals = []
        for code in FINAL_CODES:
            idx = self._layout.drawable(code)
            if idx.size:
                self._bars.fill(code, idx)
                finals.append(idx)
        if finals:
            done = np.concatenate(finals)
            self._fills.fill(OK, done)
            moved = self._layout.transfer_tasks(done)
            if moved.size:
                for bars in self._transfer_items():
                    bars.fill(OK, moved)
        if self._state is not None:  # the strips at this zoom's span
            self._strips.clear()
            self._sync_strips()
        self._update_running()
        self._update_axes()

    def _transfer_items(self) -> list[BarItems]:
        """The transfer segments' items, "sent" and "returned", made on first use: a run that copied nothing
        has none to paint."""
        if self._transfer is None:
            self._transfer = {kind: BarItems(self.getPlotItem(),
                                             lambda idx, kind=kind: self._layout.transfer_rects(idx, self._min_w, kind),
                                             brush=theme.TRANSFER_COLORS[kind], z=-1)
                              for kind in TRANSFER_KINDS}
        return list(self._transfer.values())

    def _drop_transfer(self) -> None:
        """No transfer segments: their items leave the plot (made again for a run that has some)."""
        for bars in (self._transfer or {}).values():
            bars.remove()
        self._transfer = None

    def _sync_strips(self) -> None:
        """Draw the thread states that arrived since the last refresh (all of them for a new list)."""
        state = self._state
        assert state is not None
        had = self._strips.item_count()
        self._strips.sync(state.thread_states, self._layout.lane_of, STRIP_PIXELS * self._min_w, state.finished)
        if not had and self._strips.item_count():
            self._update_legend()  # the strips' swatches

    def _update_running(self) -> None:
        self._bars.show_running(self._layout.drawable(RUNNING))

    def _pixel_width(self) -> float:
        """One screen pixel in seconds: the narrowest a bar is drawn, so none vanishes."""
        vb = self.getViewBox()
        if vb.width() > 10:
            return float(vb.viewPixelSize()[0])
        return max(self._now, 1e-3) / 1500.0

    def _update_grid(self, *_: Any) -> None:
        self._backdrop.update_grid(self.getViewBox(), self.getAxis("bottom"))

    def _on_x_range_changed(self, *_: Any) -> None:
        self._update_grid()
        self._place_startup_label()
        px = self._pixel_width()
        if self._min_w > 0 and not (self._min_w / 1.6 < px < self._min_w * 1.6):
            if self._follow and self._state is not None and not self._state.finished:
                # a live view that moved by itself: bars to come take the new scale, those drawn are
                # redrawn once, when the run ends (laying out every bar mid-flood would pause the window)
                self._min_w, self._rescale_at_end = px, True
            else:
                self._zoom_timer.start()

    def _on_zoom_settled(self) -> None:
        if self.plotItem is not None and self._state is not None and self._layout.n:  # None once closed
            self._rebuild_items()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self._zoom_timer.stop()
        super().closeEvent(event)

    # --- queue, start-up, axes, legend -------------------------------------------------
    def _update_queue(self, force: bool = False) -> bool:
        """The queue row brought up to date; True if laid out whole."""
        state = self._state
        assert state is not None
        return self._queue_area.update(self._layout.start, self._work_start, self._now, state.finished,
                                       self._layout.max_time, force)

    def _update_startup(self) -> None:
        self._backdrop.show_startup(self._work_start, self._now)
        self._place_startup_label()

    def _place_startup_label(self) -> None:
        self._backdrop.place_label(self._work_start, self._pixel_width(), self._y_extent()[0])

    def _update_axes(self) -> None:
        ticks: list[tuple[float, str]] = []
        if self._queue_area.shown:
            ticks.append((-0.5, "queue"))
        ticks += [(i + 0.5, label) for i, label in enumerate(self._layout.labels)]
        self._ticks = ticks
        self._tick_stride = 0
        axis = self.getAxis("left")
        font = axis.style.get("tickFont") or self.font()
        widest = max((QtGui.QFontMetrics(font).horizontalAdvance(label) for _, label in ticks), default=20)
        width = float(max(widest + 14, self._left_axis_min))
        if width != axis.width():
            axis.setWidth(width)  # pyqtgraph only widens an axis after a paint that clipped labels
            # laid out now, not by a posted request after the next repaint: the first lanes of a run
            # then cost one repaint of each chart, not three
            self.getPlotItem().layout.activate()
            self.sigLeftAxisWidthChanged.emit(width)
        rows = len(self._layout.labels) + self._queue_area.shown
        vb = self.getViewBox()
        vb.setMouseEnabled(x=True, y=rows > MANY_LANES)
        top, bottom = self._y_extent()
        vb.setLimits(yMin=top - 0.5, yMax=bottom + 0.5)
        if self._follow or rows <= MANY_LANES:
            vb.setYRange(top, bottom, padding=0.0)
        self._apply_ticks()

    def _apply_ticks(self, *_: Any) -> None:
        """Lane labels on the y axis, every k-th one when the lanes are thinner than a line of text."""
        axis = self.getAxis("left")
        vb = self.getViewBox()
        _, (y0, y1) = vb.viewRange()
        lane_px = vb.height() / max(abs(y1 - y0), 1e-9) if vb.height() > 0 else 100.0
        font = axis.style.get("tickFont") or self.font()
        stride = max(1, math.ceil((QtGui.QFontMetrics(font).height() + 2) / max(lane_px, 1e-3)))
        if stride == self._tick_stride:
            return
        self._tick_stride = stride
        lanes = [(y, label) for y, label in self._ticks if y > 0]
        queue = [(y, label) for y, label in self._ticks if y < 0]
        first = stride - 1 if queue and stride > 1 else 0  # keep clear of the "queue" label
        shown = queue + lanes[first::stride]
        axis.setTicks([shown, []])

    def _y_extent(self) -> tuple[float, float]:
        return (-1.0 if self._queue_area.shown else 0.0), float(max(1, len(self._layout.labels)))

    def _update_legend(self) -> None:
        self._legend_at = time.monotonic()
        head, parts = [TITLE], []
        if self._state is not None:
            head, parts = legend(self._state, self._layout.counts(), self._queue_area.shown,
                                 self._backdrop.startup.isVisible(), self.xray_counts()["cpu_fill"] > 0,
                                 self._strips.item_count() > 0, self._layout.transfer_totals())
        fg = theme.plot_colors(self._dark)["foreground"]
        self._set_legend_title(self._title_width(), head, parts, fg)

    def _title_width(self) -> float:
        """The title's room: it sits over the plot, right of the lane labels."""
        return self.width() - 40.0 - self.getAxis("left").width()

    def _on_width_changed(self) -> None:
        self._update_legend()

    def _show_empty(self) -> None:
        self._placeholder.setText(EMPTY_TEXT)
        self._placeholder.setVisible(True)
        self._queue_area.item.hide()
        self._backdrop.hide_startup()
        self._now_line.hide()
        self.getAxis("left").setTicks([[], []])
        self._ticks = []
        vb = self.getViewBox()
        vb.setLimits(yMin=None, yMax=None)
        vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.0)
        self._update_legend()

    def _apply_theme(self) -> None:
        colors = theme.apply_plot_theme(self, self._dark)
        fg = colors["foreground"]
        self._now_line.setPen(pg.mkPen(fg, width=1.5, style=QtCore.Qt.PenStyle.DashLine))
        self._now_label.setColor(fg)
        dark = theme.is_dark() if self._dark is None else self._dark
        self._backdrop.apply_theme(colors, dark)
        # a lighter tint of the waiting colour: the queue is a large area, the bars are the story
        self._queue_area.item.setOpts(brush=theme.mix(theme.STATE_COLORS["waiting"], colors["background"], 0.75))
        self._placeholder.setColor(colors["muted"])
        self._update_legend()

    # --- following, mouse ----------------------------------------------------------------
    def _apply_follow(self) -> None:
        """Keep the run in view, as :mod:`.follow` says: all of it when done; while it runs, "now"."""
        if not self._follow or self._state is None or self._layout.n == 0:
            return
        vb = self.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        x_range = next_x_range(self._state, (x0, x1), self._now, self._work_start, self._layout.max_time,
                               self.waiting_now)
        if x_range is not None:
            vb.setXRange(*x_range, padding=0.01)
        top, bottom = self._y_extent()
        if not np.allclose(sorted((y0, y1)), sorted((top, bottom)), rtol=1e-6, atol=1e-6):
            vb.setYRange(top, bottom, padding=0.0)

    def _on_manual_range(self, *_: Any) -> None:
        self.set_follow(False)

    def _on_mouse_clicked(self, ev: Any) -> None:
        if ev.double() and ev.button() == QtCore.Qt.MouseButton.LeftButton:
            self.set_follow(True)
            ev.accept()

    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        vb = self.getViewBox()
        if self._state is None or not vb.sceneBoundingRect().contains(scene_pos):
            QtWidgets.QToolTip.hideText()
            return
        p = vb.mapSceneToView(scene_pos)
        text = self.hover_text_at(p.x(), p.y())
        if text:
            QtWidgets.QToolTip.showText(QtGui.QCursor.pos(), text, self)
        else:
            QtWidgets.QToolTip.hideText()

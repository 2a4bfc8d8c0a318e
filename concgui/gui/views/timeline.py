"""The live task timeline: a row per worker, a bar per task, coloured by its state.

It draws from a :class:`~concgui.engine.live.RunState` and nothing else, so a
live run and a run reopened from history look the same.  Drawing stays cheap
for 100,000 tasks because bars are never separate graphics items: each state
colour is one ``BarGraphItem`` with a single pen and brush (pyqtgraph's
``drawRects`` fast path), fed from numpy arrays.  During a run the finished
bars go into chunks that are built once and never touched again, so each
refresh only builds what changed: the new chunk, the running bars (which grow
to "now") and the queue.

Times are seconds since the run started (small numbers keep pyqtgraph's
float32 paths exact).  The rows, top to bottom:

* ``queue`` (when tasks had to wait): how many tasks have not started yet,
  as an area that shrinks as workers pick them up;
* one lane per worker, in the order the workers first ran a task.  A worker
  running several tasks at once (asyncio's event loop) gets thin sub-rows,
  one per overlapping task, like ``concgui.engine.exports.assign_tracks``.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from itertools import repeat
from operator import attrgetter
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...engine.live import NOT_STARTED, STATES, RunState
from ...engine.records import RunResult, TaskRecord
from ...engine.spec import PARAMS
from .. import theme
from ..export import install_export_menu
from .chart import ThemedPlot

WAITING, RUNNING, OK, ERROR, CANCELLED = range(5)
CODES: dict[str, int] = {s: i for i, s in enumerate(STATES)}
FINAL_CODES = (OK, ERROR, CANCELLED)
_START, _END, _STATUS, _WORKER = (attrgetter(f) for f in ("start", "end", "status", "worker"))

LANE_FILL = 0.8  # the share of a lane's height its bars fill; the rest separates lanes
LANE_PAD = (1.0 - LANE_FILL) / 2
MAX_TRACKS = 256  # sub-rows per lane at most; beyond, overlapping tasks share rows
CHUNK = 4096  # finished bars per frozen chunk during a live run
FOLLOW_WINDOW = 60.0  # while following a run longer than this, show its last 60 s
FOLLOW_STEP = 1.0  # while following, the view moves ahead of "now" by this share of what it shows (≤ 15 s)
FOLLOW_MIN_SPAN = 1.0  # seconds a live view shows at least: a run's first second takes no steps
FOLLOW_MARGIN = 0.25  # ... or, once the run's end can be told, spans it plus this share (its pace wavers early on)
MANY_LANES = 16  # beyond this many rows the mouse also zooms and pans vertically
QUEUE_POINTS = 4000  # the queue area is drawn with at most this many steps
QUEUE_EVERY = 0.2  # seconds between two redraws of a live queue (each sorts every start)
#: ... in between, its last step follows "now" while it has at most this many steps (a flood's thousands
#: would be laid out again 30 times a second for a sliver of a pixel)
QUEUE_LIVE_STEPS = 500
HOVER_PIXELS = 4  # how near (in pixels) a tiny bar counts as hovered
#: changed tasks a live refresh draws at most (~2.5 µs each): a burst is drawn over a few frames, each
#: a short turn of the event loop, instead of in one long one
SYNC_BUDGET = 2000
LEGEND_EVERY = 0.2  # seconds between two updates of the legend's live counts (its text is laid out anew)


class _Bars(pg.BarGraphItem):
    """A BarGraphItem whose shape is its bounding box.

    The stock ``shape()`` adds every rectangle to a QPainterPath, which costs
    seconds for 100,000 bars on the first click; hovering is done by the view
    with numpy instead.
    """

    def __init__(self, **opts: Any) -> None:
        super().__init__(**opts)
        self.setAcceptHoverEvents(False)

    def shape(self) -> QtGui.QPainterPath:
        path = QtGui.QPainterPath()
        path.addRect(self.boundingRect())
        return path

    def pixelPadding(self) -> float:
        """None: the bars have no outline. The stock half pixel made every boundingRect() (16 per
        repaint) work out the pixel size from the view's transform: a third of a repaint's time."""
        return 0.0

    n_tasks = 0  # tasks drawn (touching bars are merged, so rectangles may be fewer)

    def count(self) -> int:
        return self.n_tasks


def fmt_seconds(s: float | None) -> str:
    """A duration in the unit a person reads best (µs, ms or s)."""
    if s is None or not math.isfinite(s):
        return "—"
    a = abs(s)
    if a < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if a < 1.0:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.3f} s"


def merge_touching(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, h: np.ndarray,
                   gap: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Merge bars on the same row that overlap or are less than ``gap`` apart.

    At a zoom where one pixel holds many tasks, their bars are one block of
    colour anyway; drawing that block once instead of per task keeps a repaint
    of 100,000 tasks at a few thousand rectangles.  Hovering still finds the
    individual tasks, from the view's own arrays.
    """
    n = x0.size
    if n < 2:
        return x0, x1, y0, h
    order = np.lexsort((x0, y0))
    x0s, x1s, ys = x0[order], x1[order], y0[order]
    row_start = np.empty(n, dtype=bool)
    row_start[0] = True
    row_start[1:] = ys[1:] != ys[:-1]
    rank = np.cumsum(row_start) - 1
    big = float(np.nanmax(x1s) - np.nanmin(x0s)) + 1.0 + gap
    offset = (rank * big) - np.nanmin(x0s)
    reach = np.maximum.accumulate(x1s + offset) - offset  # furthest end so far, per row
    new_seg = row_start.copy()
    new_seg[1:] |= x0s[1:] > reach[:-1] + gap
    if new_seg.all():
        return x0, x1, y0, h
    starts = np.flatnonzero(new_seg)
    ends = np.append(starts[1:], n) - 1
    return x0s[starts], reach[ends], ys[starts], h[order][starts]


def _next_pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def assign_tracks_array(lane: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Sub-row per task so that overlapping tasks in one lane never share one.

    Same rule as ``engine.exports.assign_tracks`` (tasks by start, each on the
    lowest-numbered free track), but O(n log n) and vectorised for the usual
    lane where tasks never overlap.  ``end`` may be ``inf`` for running tasks;
    tasks without a start or lane get -1.
    """
    track = np.full(lane.shape, -1, dtype=np.int32)
    placed = (lane >= 0) & np.isfinite(start)
    if not placed.any():
        return track
    idx = np.nonzero(placed)[0]
    order = idx[np.lexsort((idx, start[idx], lane[idx]))]  # by lane, then start, then index
    lanes_sorted = lane[order]
    bounds = np.flatnonzero(np.diff(lanes_sorted)) + 1
    for group in np.split(order, bounds):
        s, e = start[group], end[group]
        if len(group) == 1 or np.all(s[1:] >= np.maximum.accumulate(e[:-1])):
            track[group] = 0
            continue
        busy: list[tuple[float, int]] = []
        free: list[int] = []
        n_tracks = 0
        out = np.empty(len(group), dtype=np.int32)
        for j, (sj, ej) in enumerate(zip(s.tolist(), e.tolist(), strict=True)):
            while busy and busy[0][0] <= sj:
                heapq.heappush(free, heapq.heappop(busy)[1])
            if free:
                k = heapq.heappop(free)
            else:
                k = n_tracks
                n_tracks += 1
            out[j] = k
            heapq.heappush(busy, (ej, k))
        track[group] = out
    return track


class _LaneTracks:
    """Live sub-row bookkeeping for one lane (tasks placed as their events arrive)."""

    __slots__ = ("busy", "free", "ends", "cap")

    def __init__(self) -> None:
        self.busy: list[tuple[float, int]] = []  # (end, track) of finished tasks
        self.free: list[tuple[int, float]] = []  # (track, end of its last task)
        self.ends: list[float] = []  # end of each track's latest task (inf while it runs)
        self.cap = 1

    @property
    def n(self) -> int:
        return len(self.ends)

    def place(self, start: float, end: float) -> int:
        """A track free at ``start`` (lowest first); ``end`` is inf while the task runs."""
        while self.busy and self.busy[0][0] <= start:
            e, k = heapq.heappop(self.busy)
            heapq.heappush(self.free, (k, e))
        if self.free and self.free[0][1] <= start:
            k = heapq.heappop(self.free)[0]
            self.ends[k] = end
        else:  # nothing free (or events came out of order): a new track is always safe
            k = len(self.ends)
            self.ends.append(end)
        if math.isfinite(end):
            heapq.heappush(self.busy, (end, k))
        return k

    def place_sorted(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Tracks for a batch of tasks sorted by start.

        The usual lane (a pool worker) runs one task after another: then, once
        every track is free, the whole batch goes on track 0 without a Python
        loop (a lane that once had two tasks in view at a time, when a start
        came before the previous task's end, keeps its second track).
        """
        if max(self.ends, default=-math.inf) <= starts[0]:
            if starts.size == 1 or np.all(starts[1:] >= np.maximum.accumulate(ends[:-1])):
                last = float(ends[-1])  # ends grow along a sequence of non-overlapping tasks
                self.ends[:1] = [last]
                self.busy = [(last, 0)] if math.isfinite(last) else []
                self.free = [(k, e) for k, e in enumerate(self.ends) if k]  # sorted: a valid heap
                return np.zeros(starts.size, dtype=np.int32)
        return np.array([self.place(s, e) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)],
                        dtype=np.int32)

    def release(self, track: int, end: float) -> None:
        """A task that ran on ``track`` ended at ``end``."""
        if track < len(self.ends):
            self.ends[track] = end
        heapq.heappush(self.busy, (end, track))


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
        self._max_time = 0.0
        self._min_w = 0.0  # a screen pixel in seconds when the bars were laid out: the narrowest drawn
        self._rescale_at_end = False  # bars laid out at another scale wait for the run's end
        self._left_axis_min = 0.0
        self._last_queue_update = 0.0
        self._legend_at = 0.0  # time.monotonic() of the last legend update
        self._reset_arrays(0)

        plot = self.getPlotItem()
        plot.setLabel("bottom", "seconds since run start")
        self.getAxis("bottom").enableAutoSIPrefix(False)
        plot.hideButtons()
        plot.layout.setContentsMargins(4, 4, 12, 4)
        vb = self.getViewBox()
        vb.invertY(True)
        vb.setMouseEnabled(x=True, y=False)
        vb.setDefaultPadding(0.0)
        self.getAxis("left").setStyle(tickLength=0)

        self._startup = pg.LinearRegionItem((0.0, 0.0), movable=False, pen=pg.mkPen(None))
        self._startup.setZValue(-20)
        self._startup.hide()
        self._startup_label = pg.TextItem("start-up", anchor=(0.5, 0.0))
        self._startup_label.setZValue(-19)
        self._queue = _Bars(x0=np.zeros(0), width=np.zeros(0), y0=np.zeros(0), height=np.zeros(0),
                            pen=pg.mkPen(None), brush=theme.STATE_COLORS["waiting"])
        self._queue.setZValue(-5)
        self._queue.hide()
        # pyqtgraph's own grid costs ~15 ms per repaint at 1600 x 900 (its QPicture replays
        # slowly under the view's transform); one-pixel-wide bars cost nothing, and unlike a
        # curve they come out right in SVG exports too
        self._grid = _Bars(x0=np.zeros(0), width=np.zeros(0), y0=np.zeros(0), height=np.zeros(0),
                           pen=pg.mkPen(None), brush="#DDDDDD")
        self._grid.setZValue(-30)
        self._now_line = pg.InfiniteLine(angle=90, movable=False)
        self._now_line.setZValue(20)
        self._now_line.hide()
        self._now_label = pg.InfLineLabel(self._now_line, "now", position=0.02, anchors=[(0, 0), (0, 0)])
        self._placeholder = pg.TextItem("Run an experiment: every task appears here as a bar\n"
                                        "on the row of the worker that ran it.", anchor=(0.5, 0.5))
        self._placeholder.setPos(0.5, 0.5)
        self._running_item = self._new_bars(RUNNING)
        self._sealed: dict[int, list[_Bars]] = {c: [] for c in FINAL_CODES}
        self._active: dict[int, tuple[list[np.ndarray], _Bars] | None] = dict.fromkeys(FINAL_CODES)
        for item in (self._grid, self._startup, self._startup_label, self._queue, self._now_line,
                     self._placeholder):
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
            self._reset_arrays(0)
            self._clear_items()
            self._show_empty()
            return
        self.refresh()

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
        if state.tasks is not self._tasks_ref or len(state.tasks) != self._n:
            self._full_sync()
        elif moved:
            self._incremental_sync()
        self._now = self._clock(state)
        if finished and not self._was_finished:
            self._settle()
        if not finished:
            self._update_running()
            # the queue (it sorts every start) and the legend (laid out anew) at most 5 times a second
            # each, never both in one refresh: each is a slice of the window's time in a flood
            if not self._update_queue() and time.monotonic() - self._legend_at >= LEGEND_EVERY:
                self._update_legend()
            self._now_line.setPos(self._now)
        self._now_line.setVisible(not finished)
        self._apply_follow()

    def _clock(self, state: RunState) -> float:
        """The run's "now" in its own time.

        ``state.now()`` counts from when this process heard of the run, a few
        tens of milliseconds after the engine's clock started; the lag is learnt
        from the latest timestamps seen, so running bars never end before they
        began and the "now" line never trails them.
        """
        if state.finished:  # state.now() would scan every record for the last end
            return max(self._max_time, float(state.work_start or 0.0))
        t = state.now()
        self._lag = max(self._lag, self._max_time - t)
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

    def left_axis_width(self) -> float:
        return float(self.getAxis("left").width())

    def bar_counts(self) -> dict[str, int]:
        """Task bars drawn per state (for tests and the status bar)."""
        out = dict.fromkeys(STATES, 0)
        out["running"] = self._running_item.count() if self._running_item.isVisible() else 0
        for code in FINAL_CODES:
            n = sum(item.count() for item in self._sealed[code])
            active = self._active[code]
            if active is not None:
                n += active[1].count()
            out[STATES[code]] = n
        out["waiting"] = self.waiting_now() if self._queue.isVisible() else 0
        return out

    def waiting_now(self) -> int:
        """Tasks in the queue now: submitted, not started yet."""
        return int(np.count_nonzero(self._status == WAITING))

    def lane_labels(self) -> list[str]:
        """The y-axis rows from top to bottom (the queue row first when shown)."""
        return [label for _, label in self._ticks]

    def graphics_item_count(self) -> int:
        """How many graphics items draw the tasks (stays small for any number of tasks)."""
        n = 1 + sum(len(v) for v in self._sealed.values())
        return n + sum(1 for v in self._active.values() if v is not None)

    def hover_text_at(self, x: float, y: float, tolerance: float | None = None) -> str | None:
        """The tooltip for view coordinates (x seconds, y rows), or None over empty space."""
        if self._state is None or self._n == 0:
            return None
        if tolerance is None:
            tolerance = self.getViewBox().viewPixelSize()[0] * HOVER_PIXELS
        if y < 0:
            return self._queue_text(x) if self._queue.isVisible() and -1 < y < 0 else None
        lane = int(math.floor(y))
        if lane >= len(self._lanes):
            return None
        frac = y - lane
        cap = self._lane_tracks[lane].cap
        row_h = LANE_FILL / cap
        slot = min(cap - 1, max(0, int((frac - LANE_PAD) // row_h)))
        if frac < LANE_PAD * 0.5 or frac > 1 - LANE_PAD * 0.5:
            return None
        start, end = self._start, self._end_now()
        m = (self._lane == lane) & (self._track % MAX_TRACKS == slot)
        m &= (start <= x + tolerance) & (end >= x - tolerance)
        hits = np.flatnonzero(m)
        if hits.size == 0:
            return None
        dist = np.maximum(0.0, np.maximum(start[hits] - x, x - end[hits]))
        best = hits[np.lexsort((-start[hits], dist))[0]]
        return self._task_text(int(best))

    def task_bar_center(self, index: int) -> tuple[float, float] | None:
        """View coordinates of task ``index``'s bar middle (for tests and "show task")."""
        if index >= self._n or self._lane[index] < 0 or not math.isfinite(self._start[index]):
            return None
        y0, h = self._rows(np.array([index]))
        x0 = self._start[index]
        x1 = self._end_now()[index]
        return float((x0 + x1) / 2), float(y0[0] + h[0] / 2)

    # --- data ------------------------------------------------------------------------
    def _reset_arrays(self, n: int) -> None:
        self._n = n
        self._start = np.full(n, np.nan)
        self._end = np.full(n, np.nan)
        self._status = np.zeros(n, dtype=np.int8)
        self._lane = np.full(n, -1, dtype=np.int32)
        self._track = np.full(n, -1, dtype=np.int32)
        self._log_pos = 0  # how far into the state's log of changed tasks this view has drawn
        self._lanes: list[str] = []
        self._lane_of: dict[str, int] = {}
        self._lane_tracks: list[_LaneTracks] = []
        self._ticks: list[tuple[float, str]] = []
        self._tick_stride = 0
        self._queue_shown = False
        self._queue_edges = np.zeros(2)
        self._queue_levels = np.zeros(1)
        self._queue_total = 1
        self._work_start = 0.0

    def _full_sync(self) -> None:
        """Rebuild every array and item from the state (new run, reopened run, run end)."""
        state = self._state
        assert state is not None
        tasks = state.tasks
        n = len(tasks)
        self._reset_arrays(n)
        self._tasks_ref = tasks
        self._log_pos = len(state.changed)
        self._was_finished = state.finished
        self._sync_lanes()
        # a live run's records are those its log names, the rest not started: draw them from the log
        replay = state.logged_from_start and not state.finished
        if replay:
            self._log_pos = 0
            self._max_time = 0.0
        elif n:  # C-level passes over the records (attrgetter), no Python loop
            # tasks not started yet share one record (RunState's NOT_STARTED): their rows stay as reset
            seen = np.flatnonzero(np.fromiter(map(id, tasks), dtype=np.int64, count=n) != id(NOT_STARTED))
            recs = tasks if seen.size == n else [tasks[i] for i in seen.tolist()]
            codes, st, en, ln = self._columns(recs)
            self._status[seen], self._start[seen], self._end[seen], self._lane[seen] = codes, st, en, ln
            # finished records have an end; a running task keeps its track until it ends
            ends = np.where(self._status == RUNNING, np.inf, self._end)
            ends = np.where(np.isnan(ends), np.inf, ends)
            self._track = assign_tracks_array(self._lane, self._start, ends)
            self._rebuild_lane_tracks(ends)
            finite = self._start[np.isfinite(self._start)]
            ends_known = self._end[np.isfinite(self._end)]
            self._max_time = max(float(finite.max()) if finite.size else 0.0,
                                 float(ends_known.max()) if ends_known.size else 0.0)
        else:
            self._max_time = 0.0
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

    def _rebuild_lane_tracks(self, ends: np.ndarray) -> None:
        """Per-lane live bookkeeping matching the tracks just assigned."""
        for lane, lt in enumerate(self._lane_tracks):
            m = (self._lane == lane) & (self._track >= 0)  # a task with a lane but no start has no track
            tr = self._track[m]
            if tr.size == 0:
                continue
            n_tracks = int(tr.max()) + 1
            # a finished run fills its rows exactly; a live one doubles them as tasks overlap
            finished = self._state is not None and self._state.finished
            lt.cap = min(n_tracks if finished else _next_pow2(n_tracks), MAX_TRACKS)
            e = ends[m]
            last_end = np.full(n_tracks, -np.inf)
            np.maximum.at(last_end, tr, e)
            lt.ends = last_end.tolist()
            lt.busy = [(float(v), k) for k, v in enumerate(last_end) if math.isfinite(v)]
            heapq.heapify(lt.busy)
            lt.free = []

    def _sync_lanes(self) -> bool:
        """Add lanes the state learnt about; True when the y axis changed."""
        state = self._state
        labels = state.lanes if state is not None else []
        if len(labels) == len(self._lanes):
            return False
        for label in labels[len(self._lanes):]:
            self._lane_of[label] = len(self._lanes)
            self._lanes.append(label)
            self._lane_tracks.append(_LaneTracks())
        return True

    def _incremental_sync(self) -> None:
        """Apply only the records that changed since the last refresh.

        RunState logs every task whose record it replaced (and never replaces
        a final one in place), so the work is in proportion to what happened
        since the last look; the changed records are handled as arrays, a lane
        at a time.
        """
        state = self._state
        assert state is not None
        tasks = state.tasks
        lanes_changed = self._sync_lanes()
        if self._work_start != float(state.work_start or 0.0):
            self._work_start = float(state.work_start or 0.0)
            self._update_startup()
        log, pos = state.changed, self._log_pos
        end = len(log)
        if not state.finished:  # a burst is drawn a budget at a time: the log names each worker's tasks
            end = min(end, pos + SYNC_BUDGET)  # in the order they ran, so a cut anywhere keeps its rows
        changed = np.array(log[pos:end], dtype=np.int64)
        self._log_pos = end
        # each task once, in order; not np.unique: its first call imports numpy.ma (20-30 ms, mid-run)
        if changed.size:
            named = np.zeros(self._n, dtype=bool)
            named[changed] = True
            # ... and not yet drawn final: a record is read as it is now, so a task may have been drawn
            # finished from its start's entry while its end's entry waited beyond a burst's cut
            changed = np.flatnonzero(named & (self._status < OK))
        if changed.size == 0:
            if lanes_changed:
                self._update_axes()
            return
        recs = [tasks[i] for i in changed.tolist()]
        self._apply_changes(changed, *self._columns(recs), lanes_changed)

    def _columns(self, recs: list[TaskRecord]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Status codes, starts, ends and lane numbers of records, read in C-level passes."""
        n = len(recs)
        codes = np.fromiter(map(CODES.get, map(_STATUS, recs), repeat(WAITING)), dtype=np.int8, count=n)
        st = np.array(list(map(_START, recs)), dtype=float)  # None -> nan
        en = np.array(list(map(_END, recs)), dtype=float)
        ln = np.fromiter(map(self._lane_of.get, map(_WORKER, recs), repeat(-1)), dtype=np.int32, count=n)
        return codes, st, en, ln

    def _apply_changes(self, changed: np.ndarray, codes: np.ndarray, st: np.ndarray, en: np.ndarray,
                       ln: np.ndarray, lanes_changed: bool = False) -> None:
        """Update the arrays for tasks ``changed`` and draw what is new: placed, running or finished."""
        self._status[changed], self._start[changed], self._end[changed], self._lane[changed] = codes, st, en, ln
        known = np.concatenate([v[np.isfinite(v)] for v in (st, en)] + [np.zeros(1)])
        self._max_time = max(self._max_time, float(known.max()))

        placeable = np.isfinite(st) & (ln >= 0)
        ends = np.where((codes != RUNNING) & np.isfinite(en), en, np.inf)
        old_track = self._track[changed]
        for j in np.flatnonzero(placeable & (old_track >= 0) & np.isfinite(ends)).tolist():
            self._lane_tracks[ln[j]].release(int(old_track[j]), float(ends[j]))  # a running task ended
        need = np.flatnonzero(placeable & (old_track < 0))
        grew = False
        if need.size:
            order = need[np.lexsort((st[need], ln[need]))]
            bounds = np.flatnonzero(np.diff(ln[order])) + 1
            for group in np.split(order, bounds):
                lt = self._lane_tracks[ln[group[0]]]
                self._track[changed[group]] = lt.place_sorted(st[group], ends[group])
                if lt.n > lt.cap and lt.cap < MAX_TRACKS:
                    lt.cap = min(_next_pow2(lt.n), MAX_TRACKS)
                    grew = True
        if grew:  # a lane got more sub-rows: every bar in it moves, so rebuild (rare: it doubles)
            self._rebuild_items()
        else:
            drawable = placeable & np.isfinite(en)
            for code in FINAL_CODES:
                idx = changed[drawable & (codes == code)]
                if idx.size:
                    self._append_final(code, idx)
        if lanes_changed or grew:
            self._update_axes()
        if lanes_changed:
            self._update_legend()

    def _settle(self) -> None:
        """The run ended: each lane fits its rows exactly; queue, axes and legend take their final form."""
        self._was_finished = True
        self._work_start = float(self._state.work_start or 0.0) if self._state is not None else 0.0
        refit = False
        for lt in self._lane_tracks:
            if lt.n and lt.cap != min(lt.n, MAX_TRACKS):
                lt.cap = min(lt.n, MAX_TRACKS)
                refit = True
        if refit:  # rows move
            self._rebuild_items()
        else:
            self._update_running()
            if self._rescale_at_end:  # bars drawn at an earlier scale: laid out anew in a turn of its own
                self._zoom_timer.start()
        self._update_queue(force=True)
        self._update_startup()
        self._update_axes()
        self._update_legend()

    def _end_now(self) -> np.ndarray:
        """End times with running tasks ending now (for drawing and hovering)."""
        return np.where(self._status == RUNNING, np.maximum(self._now, self._start), self._end)

    def _rows(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Top and height of the bars of tasks ``idx``."""
        lanes = self._lane[idx]
        caps = np.array([lt.cap for lt in self._lane_tracks] or [1], dtype=float)[lanes]
        row_h = LANE_FILL / caps
        slot = self._track[idx] % MAX_TRACKS
        y0 = lanes + LANE_PAD + slot * row_h
        return y0, row_h * np.where(caps > 1, 0.85, 1.0)

    # --- items -----------------------------------------------------------------------
    def _new_bars(self, code: int) -> _Bars:
        item = _Bars(x0=np.zeros(0), width=np.zeros(0), y0=np.zeros(0), height=np.zeros(0),
                     pen=pg.mkPen(None), brush=theme.STATE_COLORS[STATES[code]])
        item.setZValue(10 if code == RUNNING else 0)
        self.getPlotItem().addItem(item)
        return item

    def _set_bars(self, item: _Bars, idx: np.ndarray) -> None:
        item.n_tasks = int(idx.size)
        if idx.size == 0:
            item.setOpts(x0=np.zeros(0), width=np.zeros(0), y0=np.zeros(0), height=np.zeros(0))
            return
        px = self._min_w
        x0 = self._start[idx]
        x1 = np.where(self._status[idx] == RUNNING, np.maximum(self._now, x0), self._end[idx])
        x1 = np.maximum(x1, x0 + px)
        # a one-pixel gap at the end of every bar wide enough to spare it, so that
        # back-to-back tasks stay countable; narrower bars merge into blocks
        x1 = np.where(x1 - x0 >= 4 * px, x1 - px, x1)
        y0, h = self._rows(idx)
        x0, x1, y0, h = merge_touching(x0, x1, y0, h, px * 0.5)
        item.setOpts(x0=x0, width=x1 - x0, y0=y0, height=h)

    def _drawable(self, code: int) -> np.ndarray:
        m = (self._status == code) & np.isfinite(self._start) & (self._lane >= 0)
        if code != RUNNING:
            m &= np.isfinite(self._end)
        return np.flatnonzero(m)

    def _clear_items(self) -> None:
        plot = self.getPlotItem()
        for code in FINAL_CODES:
            for item in self._sealed[code]:
                plot.removeItem(item)
            self._sealed[code] = []
            active = self._active[code]
            if active is not None:
                plot.removeItem(active[1])
            self._active[code] = None
        self._set_bars(self._running_item, np.zeros(0, dtype=np.int64))

    def _rebuild_items(self) -> None:
        """One bar item per state holding every drawable task (the fast path)."""
        self._clear_items()
        self._min_w, self._rescale_at_end = self._pixel_width(), False
        for code in FINAL_CODES:
            idx = self._drawable(code)
            if idx.size:
                item = self._new_bars(code)
                self._set_bars(item, idx)
                self._sealed[code].append(item)
        self._update_running()
        self._update_axes()

    def _append_final(self, code: int, idx: np.ndarray) -> None:
        """Add newly finished tasks to the state's open chunk; a full chunk is frozen."""
        active = self._active[code]
        if active is None or sum(a.size for a in active[0]) >= CHUNK:
            if active is not None:
                self._sealed[code].append(active[1])
            active = ([], self._new_bars(code))
            self._active[code] = active
        active[0].append(np.asarray(idx, dtype=np.int64))
        self._set_bars(active[1], np.concatenate(active[0]))

    def _update_running(self) -> None:
        idx = np.flatnonzero(self._status == RUNNING)
        idx = idx[np.isfinite(self._start[idx]) & (self._lane[idx] >= 0)]
        self._set_bars(self._running_item, idx)
        self._running_item.setVisible(idx.size > 0)

    def _pixel_width(self) -> float:
        """One screen pixel in seconds: the narrowest a bar is drawn, so none vanishes."""
        vb = self.getViewBox()
        if vb.width() > 10:
            return float(vb.viewPixelSize()[0])
        return max(self._now, 1e-3) / 1500.0

    def _update_grid(self, *_: Any) -> None:
        """Faint vertical lines at the bottom axis's major ticks."""
        vb = self.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        if not (math.isfinite(x0) and math.isfinite(x1)) or x1 <= x0:
            return
        levels = self.getAxis("bottom").tickValues(x0, x1, max(vb.width(), 1.0))
        if not levels:
            return
        xs = np.asarray(levels[0][1], dtype=float)
        xs = xs[(xs >= x0) & (xs <= x1)]
        top, bottom = min(y0, y1), max(y0, y1)
        px = (x1 - x0) / max(vb.width(), 1.0)
        self._grid.setOpts(x0=xs - px / 2, width=np.full(xs.size, px), y0=np.full(xs.size, top),
                           height=np.full(xs.size, bottom - top))

    def _on_x_range_changed(self, *_: Any) -> None:
        self._update_grid()
        self._place_startup_label()
        px = self._pixel_width()
        if self._min_w > 0 and not (self._min_w / 1.6 < px < self._min_w * 1.6):
            if self._follow and self._state is not None and not self._state.finished:
                # a live view that moved by itself: bars to come take the new scale, those drawn are
                # redrawn once, when the run ends (rebuilding 40,000 bars mid-flood was a 15 ms pause)
                self._min_w, self._rescale_at_end = px, True
            else:
                self._zoom_timer.start()

    def _on_zoom_settled(self) -> None:
        if self.plotItem is not None and self._state is not None and self._n:  # None once closed
            self._rebuild_items()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self._zoom_timer.stop()
        super().closeEvent(event)

    def flush_pending(self) -> None:
        """Run a pending zoom rebuild now (before an export; tests, benchmarks)."""
        if self._zoom_timer.isActive():
            self._zoom_timer.stop()
            self._on_zoom_settled()

    # --- queue, start-up, axes, legend -------------------------------------------------
    def _update_queue(self, force: bool = False) -> bool:
        """The queue row: how many tasks had not started yet, over time; True if redrawn whole."""
        now = time.monotonic()
        if not force and now - self._last_queue_update < QUEUE_EVERY:
            if self._queue_levels.size <= QUEUE_LIVE_STEPS:
                self._extend_queue_to_now()
            return False
        self._last_queue_update = now
        state = self._state
        n = self._n
        if state is None or n == 0:
            self._set_queue_visible(False)
            return True
        ws = self._work_start
        starts = np.sort(self._start[np.isfinite(self._start)], kind="stable")  # nearly sorted: ~15× faster
        before = int(np.searchsorted(starts, ws, side="left"))
        starts = starts[before:]
        end_x = self._now if not state.finished else max(self._max_time, ws)
        levels = n - before - np.arange(starts.size + 1)
        edges = np.concatenate(([ws], starts, [max(end_x, starts[-1] if starts.size else ws)]))
        never = n - before - starts.size
        longest = float(starts[-1] - ws) if starts.size else 0.0
        if never and not state.finished:
            longest = max(longest, end_x - ws)
        span = max(end_x, 1e-9)
        show = longest > max(0.005, 0.03 * span) or (never > 0 and state.finished and never == n)
        self._set_queue_visible(show)
        if not show:
            return True
        if levels.size > QUEUE_POINTS:  # a monotone staircase: keep evenly spaced steps
            keep = np.linspace(0, levels.size - 1, QUEUE_POINTS).astype(int)
            keep = keep[np.diff(keep, prepend=-1) > 0]  # not np.unique: see _incremental_sync
            levels = levels[keep]
            edges = np.concatenate((edges[keep], edges[-1:]))
        self._queue_levels, self._queue_edges = levels, edges
        self._queue_total = n
        self._set_queue_bars()
        return True

    def _extend_queue_to_now(self) -> None:
        if self._queue.isVisible() and self._state is not None and not self._state.finished:
            edges = self._queue_edges.copy()
            edges[-1] = max(self._now, edges[-2])
            self._queue_edges = edges
            self._set_queue_bars()

    def _set_queue_bars(self) -> None:
        """The staircase as bars growing up from the queue row's floor.

        Each step reaches a pixel into the next, lower one: the queue only
        shrinks, so the outline is unchanged, and no seams show when an export
        antialiases the edges.
        """
        edges, levels = self._queue_edges, self._queue_levels
        height = LANE_FILL * levels / self._queue_total
        width = np.diff(edges)
        width[:-1] += self._pixel_width()
        self._queue.setOpts(x0=edges[:-1], width=width, y0=-LANE_PAD - height, height=height)

    def _set_queue_visible(self, show: bool) -> None:
        self._queue.setVisible(show)
        if show != self._queue_shown:
            self._queue_shown = show
            self._update_axes()

    def _queue_text(self, x: float) -> str | None:
        edges, levels = self._queue_edges, self._queue_levels
        if x < edges[0] or x > edges[-1]:
            return None
        k = min(len(levels) - 1, max(0, int(np.searchsorted(edges, x, side="right")) - 1))
        return (f"At {x:.3f} s, {int(levels[k])} of {self._queue_total} tasks were waiting in the queue\n"
                "(submitted, not yet picked up by a worker).")

    def _update_startup(self) -> None:
        ws = self._work_start
        span = max(self._now, ws, 1e-9)
        show = ws > 0 and ws > 0.01 * span
        self._startup.setRegion((0.0, ws))
        self._startup.setVisible(show)
        self._place_startup_label()

    def _place_startup_label(self) -> None:
        """"start-up" across the top of the shaded region, when the region is wide enough for it."""
        label = self._startup_label
        px = self._pixel_width()
        room = self._work_start / px if px > 0 else 0.0
        if not self._startup.isVisible() or room < label.boundingRect().width() + 8:
            label.hide()  # the legend still names the shade
            return
        label.setPos(self._work_start / 2, self._y_extent()[0])
        label.show()

    def _update_axes(self) -> None:
        ticks: list[tuple[float, str]] = []
        if self._queue_shown:
            ticks.append((-0.5, "queue"))
        ticks += [(i + 0.5, label) for i, label in enumerate(self._lanes)]
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
        rows = len(self._lanes) + self._queue_shown
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
        return (-1.0 if self._queue_shown else 0.0), float(max(1, len(self._lanes)))

    def _update_legend(self) -> None:
        self._legend_at = time.monotonic()
        state = self._state
        colors = theme.plot_colors(self._dark)
        if state is None:
            self._set_title(theme.fit_title(self._title_width(), [("<b>Tasks over time</b>", "Tasks over time")],
                                            [], colors["foreground"]))
            return
        per_code = np.bincount(self._status, minlength=len(STATES)) if self._n else np.zeros(len(STATES), int)
        counts = {name: int(per_code[k]) for k, name in enumerate(STATES)}
        parts: list[tuple[str, str]] = []
        for name in STATES:
            label = theme.STATE_LABELS[name]
            if name == "waiting" and self._queue_shown and state.finished and not counts[name]:
                text = label
            elif counts[name] or (name == "waiting" and self._queue_shown) or (name == "ok" and not state.finished):
                text = f"{label} ({counts[name]})"
            else:
                continue
            parts.append((theme.swatch(theme.STATE_COLORS[name], text), "■ " + text))
        if self._startup.isVisible():
            parts.append((theme.swatch(theme.STARTUP_COLOR, "start-up"), "■ start-up"))
        spec = state.spec or {}
        what = f'{spec.get("tasks", self._n)} × {spec.get("workload", "?")} on {spec.get("executor", "?")}'
        head = [("<b>Tasks over time</b>", "Tasks over time"), (what, what),
                ("one row per worker", "one row per worker")]
        self._set_title(theme.fit_title(self._title_width(), head, parts, colors["foreground"]))

    def _title_width(self) -> float:
        return self.width() - 40.0

    def _on_width_changed(self) -> None:
        self._update_legend()

    def _show_empty(self) -> None:
        self._placeholder.setVisible(True)
        self._queue.hide()
        self._startup.hide()
        self._startup_label.hide()
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
        self._startup.setBrush(theme.with_alpha(theme.STARTUP_COLOR, 60 if dark else 55))
        self._startup_label.setColor(colors["muted"])
        # a lighter tint of the waiting colour: the queue is a large area, the bars are the story
        self._queue.setOpts(brush=theme.mix(theme.STATE_COLORS["waiting"], colors["background"], 0.75))
        self._placeholder.setColor(colors["muted"])
        self._grid.setOpts(brush=theme.mix(colors["grid"], colors["background"], 0.13))
        self._update_legend()

    # --- following, mouse ----------------------------------------------------------------
    def _apply_follow(self) -> None:
        """Keep the run in view: all of it when done; while it runs, its last minute and "now".

        While a run goes, the view moves in steps instead of every frame: each move re-lays both
        linked charts' axes and items (and every few moves rebuilds the bars for the new zoom),
        which cost about a fifth of a core at 30 frames a second, taken from the very run being
        measured.  When it can tell how far the run will get (:meth:`_foreseen_end`), the view
        spans that at once and then holds still; otherwise each step doubles it.  A flood of
        100,000 tasks moved it about 20 times before, each move a pause of 50 ms or more.
        """
        if not self._follow or self._state is None or self._n == 0:
            return
        vb = self.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        if self._state.finished:
            lo, end = 0.0, max(self._max_time, self._work_start, 1e-3)
            vb.setXRange(lo, end, padding=0.01)
        else:
            now = max(self._now, 1e-3)
            lo = max(0.0, now - FOLLOW_WINDOW)
            width = max(x1 - x0, 1e-9)
            end = self._foreseen_end(now, lo)
            if end is not None:
                span = max(3.0 * (end - lo), FOLLOW_MIN_SPAN) + 0.05  # the most the view may show
                if not (x0 <= lo + 0.02 * width and end + 0.01 * width <= x1 <= lo + span):
                    grow = x1 - lo if end + 0.01 * width > x1 else 0.0  # by half at least: a pace still
                    # settling moves the view a few times at most
                    vb.setXRange(lo, lo + max((1.0 + FOLLOW_MARGIN) * (end - lo), 1.5 * grow, FOLLOW_MIN_SPAN),
                                 padding=0.01)
            elif not (x0 <= lo + 0.02 * width and now + 0.01 * width <= x1 <= now + FOLLOW_STEP * 1.5 * width):
                ahead = min(FOLLOW_STEP * (now - lo), FOLLOW_WINDOW / 4)
                vb.setXRange(lo, max(now + ahead, lo + FOLLOW_MIN_SPAN), padding=0.01)
        top, bottom = self._y_extent()
        if not np.allclose(sorted((y0, y1)), sorted((top, bottom)), rtol=1e-6, atol=1e-6):
            vb.setYRange(top, bottom, padding=0.0)

    def _foreseen_end(self, now: float, lo: float) -> float | None:
        """How far a live run will get: its end, once the pace of finished tasks tells it (within the
        view's minute); else its first tasks' end, for workloads whose tasks last a set time; else None.

        The pace counts from 2 % of the tasks done, and only while some still wait: tasks all in flight
        at once (threads taking turns on the GIL) end when they end, not at a pace.
        """
        state = self._state
        if state.done >= max(1, state.total // 50) and self.waiting_now() > 0:
            eta = state.eta()
            if eta is not None and now + eta - lo <= FOLLOW_WINDOW:
                return now + eta
        duration = state.spec.get("duration")
        if state.spec.get("workload") in PARAMS["duration"].workloads and duration:
            first = self._work_start + float(duration) * (1.0 - float(state.spec.get("jitter") or 0.0))
            if now < first:
                return first
        return None

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

    def _task_text(self, i: int) -> str:
        assert self._state is not None
        t = self._state.tasks[i]
        label = theme.STATE_LABELS.get(t.status, t.status)
        lines = [f"Task {i} · {label}",
                 f"worker: {t.worker or '—'}   pid {t.pid or '—'} · thread id {t.thread_id or '—'}"]
        if t.status == "running":
            end = self._now
            lines.append(f"start {t.start:.3f} s · running for {fmt_seconds(end - (t.start or 0.0))} so far")
        else:
            lines.append(f"start {t.start:.3f} s · end {t.end:.3f} s · duration {fmt_seconds(t.duration)}")
            if t.duration > 0:
                share = 100.0 * t.cpu_seconds / t.duration
                lines.append(f"CPU time {fmt_seconds(t.cpu_seconds)} ({share:.0f} % of its duration"
                             f"{': it mostly waited' if share < 20 else ''})")
            else:
                lines.append(f"CPU time {fmt_seconds(t.cpu_seconds)}")
        if t.submitted is not None and t.start is not None:
            lines.append(f"submitted {t.submitted:.3f} s · waited {fmt_seconds(t.start - t.submitted)} in the queue")
        if t.error:
            lines.append(f"{t.error.get('type', 'Error')}: {t.error.get('message', '')}")
        return "\n".join(lines)


# --- benchmark ------------------------------------------------------------------------------
def synthetic_state(n_tasks: int = 100_000, workers: int = 8, seed: int = 1) -> RunState:
    """A finished run of ``n_tasks`` back-to-back tasks on ``workers`` processes (for benchmarks)."""
    rng = np.random.default_rng(seed)
    durations = rng.exponential(1e-3, n_tasks) + 2e-5
    lane = np.arange(n_tasks) % workers
    starts = np.empty(n_tasks)
    ends = np.empty(n_tasks)
    clock = np.full(workers, 0.05)
    for w in range(workers):  # vectorised per worker: its tasks run back to back
        sel = lane == w
        d = durations[sel] + 5e-5
        e = clock[w] + np.cumsum(d)
        starts[sel], ends[sel] = e - d + 5e-5, e
    tasks = [TaskRecord(i, f"process {lane[i] + 1} (pid {1000 + lane[i]})", 1000 + int(lane[i]), 1,
                        0.05, float(starts[i]), float(ends[i]), float(durations[i]) * 0.9,
                        "error" if i % 997 == 0 else "ok", None)
             for i in range(n_tasks)]
    result = RunResult(spec={"workload": "noop", "executor": "process-pool", "tasks": n_tasks,
                             "workers": workers},
                       environment={}, startup_seconds=0.05, wall_seconds=float(ends.max()) - 0.05,
                       workers=workers, tasks=tasks)
    return RunState.from_result(result)


def measure_repaint(n_tasks: int = 100_000, size: tuple[int, int] = (1600, 900), repeats: int = 9) -> dict:
    """Build a timeline of ``n_tasks`` finished tasks offscreen and time its repaints (ms).

    ``build_ms``: ``set_state`` (arrays, tracks, items) plus the first paint;
    ``repaint_ms_*``: a full ``grab()`` of the widget (the scene, every bar);
    ``viewport_repaint_ms_median``: a synchronous ``viewport().repaint()``.
    """
    from ..report import ensure_app

    ensure_app()
    state = synthetic_state(n_tasks)
    view = TimelineView(dark=False)
    view.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    view.resize(*size)
    view.show()
    QtWidgets.QApplication.processEvents()
    t0 = time.perf_counter()
    view.set_state(state)
    view.flush_pending()
    view.grab()
    build_ms = (time.perf_counter() - t0) * 1e3
    QtWidgets.QApplication.processEvents()
    view.flush_pending()
    grabs, repaints = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        view.grab()
        grabs.append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        view.viewport().repaint()
        repaints.append((time.perf_counter() - t) * 1e3)
    t = time.perf_counter()
    view.refresh()
    refresh_ms = (time.perf_counter() - t) * 1e3
    t = time.perf_counter()
    for k in range(100):
        view.hover_text_at(view._max_time * k / 100, 3.5)
    hover_ms = (time.perf_counter() - t) * 1e3 / 100
    items = view.graphics_item_count()
    view.close()
    view.deleteLater()
    QtWidgets.QApplication.processEvents()
    return {"n_tasks": n_tasks, "size": list(size), "build_ms": round(build_ms, 1),
            "repaint_ms_median": round(float(np.median(grabs)), 1), "repaint_ms_max": round(max(grabs), 1),
            "viewport_repaint_ms_median": round(float(np.median(repaints)), 1),
            "refresh_finished_ms": round(refresh_ms, 3), "hover_ms": round(hover_ms, 2), "bar_items": items}

"""Compare as small multiples: one timeline per executor, stacked on one shared time axis.

The picture every course draws for concurrency and parallelism: the same tasks one after another
(a staircase), overlapping on one core, side by side on several (a stack), each on the same clock.
Each run is drawn by a :class:`~.timeline.TimelineView` (the live timeline's cheap bar items, its
X-ray strips and tooltips), so the stack costs no more per task than the live view; the views are
linked on x (zooming or panning one moves all), and each marks its wall time (solid) and its
ideal, the baseline's wall time shared by its workers (faint, dashed).  Time is seconds since each
run's work started, a pool's start-up shaded before 0, so a wall mark sits at the wall time the
table gives (the notebook's stack, :mod:`concgui.notebook.stack`, draws the same way).  Above them a header says
what ran, what the marks mean and one line per executor: wall, speedup, concurrency, parallelism.

With few tasks the rows are one per task, so that "one after another" reads as a staircase; with
many, one per worker, as in the live timeline.  Exports (PNG or SVG) lay the whole stack out anew,
offscreen, at the image's width, so text stays at reading size whatever the panel's width.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...engine.live import RunState
from ...engine.metrics import COMPARE_COLUMNS, metric
from ...engine.present import seconds
from ...engine.records import RunResult, ThreadStates
from ...engine.spec import executor_label
from .. import theme
from ..image_export import ExportTarget, export_dialog
from .compare_chart import ideal_wall, speed_text, workers_text
from .timeline import TimelineView
from .timeline.texts import blocked_cause, transfer_parts

MAX_TASK_ROWS = 16  # runs of at most this many tasks get a row per task (the staircase); more, a row per worker
ROW_MIN, ROW_MAX, ROW_EXPORT = 8, 44, 26  # a row's height (px): at least, at most on screen, in an export
AXIS_EACH_UPTO = 4  # up to this many timelines each has its time axis's ticks; more, only the lowest one
ROWS_CAPPED = 16  # rows beyond this many do not make a timeline taller
EXPORT_MAX_LOGICAL = 1400  # an export is laid out at most this wide (px), then scaled to the image's width
MARK_POINTS = 8.5  # the markers' labels
#: the shared axis shows at most this share of the longest run's work as start-up before 0 (a 4 s process
#: pool start-up would squeeze 0.3 s of work into a corner); the shade's label says how long it really was
STARTUP_SHOWN = 0.25
#: runs up to this many tasks place the ideal's label clear of their bars (8 × 5,000 tasks: 6 ms a pan step)
FREE_CHECK_TASKS = 5_000
_COLUMNS = {c.label: c for c in COMPARE_COLUMNS}
_TASK_LANE = re.compile(r"^worker: (task \d+)\b", re.MULTILINE)


def run_end(result: RunResult) -> float:
    """Where a run ends, in seconds since its work started: its wall time, or its last task's end (once its
    result came back: the wall time ends at the last task's end, its result may travel on)."""
    ends = [t.end + t.returned_seconds - result.startup_seconds for t in result.tasks if t.end is not None]
    return max([result.wall_seconds, *ends])


def from_work_start(result: RunResult) -> RunResult:
    """``result`` with its times counted from the end of its start-up (start-up 0: the stack shades it itself)."""
    s = result.startup_seconds
    if not s:
        return result

    def shift(t: float | None) -> float | None:
        return None if t is None else t - s

    tasks = [dataclasses.replace(t, submitted=shift(t.submitted), start=shift(t.start), end=shift(t.end))
             if t.start is not None or t.submitted is not None else t for t in result.tasks]
    states = [ThreadStates(x.t - s, x.interval, x.lanes) for x in result.thread_states]
    return dataclasses.replace(result, tasks=tasks, thread_states=states, startup_seconds=0.0)


def per_task_possible(results: Sequence[RunResult]) -> bool:
    """Whether every run is small enough for a row per task."""
    return bool(results) and all(len(r.tasks) <= MAX_TASK_ROWS for r in results)


def by_task(result: RunResult) -> tuple[RunResult, dict[str, str]]:
    """``result`` with each task that started on a row of its own ("task 3"), and each row's real worker.

    The X-ray strips (per thread) have no row to go to then and are left out; a task's fill (its CPU
    share) stays.
    """
    workers: dict[str, str] = {}
    tasks = []
    for t in result.tasks:
        if t.start is not None and t.worker:
            lane = f"task {t.index}"
            workers[lane] = t.worker
            t = dataclasses.replace(t, worker=lane)
        tasks.append(t)
    return dataclasses.replace(result, tasks=tasks, thread_states=[]), workers


class StackTimeline(TimelineView):
    """One executor's timeline in the stack: a one-line title, its wall-time mark and a faint ideal mark."""

    _stack_title: list[tuple[str, str]] = []  # (html, plain) parts; class default: the base's __init__ titles first
    #: the title took another number of lines (a new width): the stack gives the timelines new heights
    sigTitleHeightChanged = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None, dark: bool | None = None) -> None:
        super().__init__(parent, dark)
        plot = self.getPlotItem()
        plot.titleLabel.setAttr("justify", "left")
        self._workers: dict[str, str] = {}  # a task row's real worker, in a row-per-task layout
        self._starts = np.zeros(0)  # the tasks' starts, sorted: where the queue row is empty
        self._wall_words = ""  # the wall mark's label, before any ideal is folded into it
        self._startup = pg.LinearRegionItem((0.0, 0.0), movable=False, pen=pg.mkPen(None))
        self._startup.setZValue(-20)
        self._startup.hide()
        self._startup_text = pg.TextItem(anchor=(1, 0))
        self._startup_text.setZValue(-19)
        self._startup_text.hide()
        for item in (self._startup, self._startup_text):
            plot.addItem(item, ignoreBounds=True)
        self._wall = pg.InfiniteLine(angle=90, movable=False)
        self._ideal = pg.InfiniteLine(angle=90, movable=False)
        self._wall_text = pg.TextItem(anchor=(0, 0))
        self._ideal_text = pg.TextItem(anchor=(0, 1))
        for z, item in enumerate((self._ideal, self._ideal_text, self._wall, self._wall_text)):
            item.setZValue(25 + z)
            item.hide()
            plot.addItem(item, ignoreBounds=True)
        font = QtGui.QFont(self.font())
        font.setPointSizeF(MARK_POINTS)
        for text in (self._wall_text, self._ideal_text, self._startup_text):
            text.setFont(font)
        vb = self.getViewBox()
        vb.sigXRangeChanged.connect(self._place_marks)
        vb.sigYRangeChanged.connect(self._place_marks)
        vb.sigResized.connect(self._place_marks)
        self._apply_theme()

    def show_run(self, result: RunResult, baseline: RunResult, per_task: bool, bottom_axis: bool = True,
                 axis_label: str | None = None) -> None:
        """Draw ``result`` (a row per task or per worker), marked against ``baseline`` (the first run).

        ``bottom_axis``: show the time axis's ticks; ``axis_label``: and this label (the stack's lowest timeline).
        """
        shown = from_work_start(result)
        shown, self._workers = by_task(shown) if per_task else (shown, {})
        ex = executor_label(result.spec)
        kind = theme.executor_kind(result.spec)
        title = [(theme.swatch(theme.KIND_COLORS[kind], f"<b>{ex}</b>"), f"■ {ex}"),
                 (workers_text(result), workers_text(result)), (theme.KIND_LABELS[kind], theme.KIND_LABELS[kind])]
        if result.status != "ok":
            title.append((f"<b>{result.status}</b>", result.status))
        self._stack_title = title
        plot = self.getPlotItem()
        plot.setLabel("bottom", axis_label)  # shows the axis, too
        plot.showAxis("bottom", bottom_axis)
        state = RunState.from_result(shown)
        if self._workers:  # task rows in the tasks' order, not their starts': "task 1" never above "task 0"
            state.lanes.sort(key=lambda lane: int(lane.split()[1]))
        self.set_state(state)
        self._starts = np.sort(np.array([t.start for t in shown.tasks if t.start is not None], dtype=float))
        self._startup.setRegion((-result.startup_seconds, 0.0))
        self._startup.setVisible(result.startup_seconds > 0.01 * max(result.wall_seconds, 1e-9))
        self._startup_text.setText(f"start-up {seconds(result.startup_seconds, 2)}")
        self._wall.setValue(result.wall_seconds)
        speed = "baseline" if result is baseline else speed_text(baseline, result)
        self._wall_words = f"wall {seconds(result.wall_seconds, 2)} · {speed}"
        self._wall_text.setText(self._wall_words)
        ideal = None if result is baseline or result.wall_seconds <= 0 else ideal_wall(baseline, result)
        if ideal is not None:
            self._ideal.setValue(ideal)
            self._ideal_text.setText(f"ideal {seconds(ideal, 2)}")
        for item in (self._wall, self._wall_text):
            item.setVisible(result.wall_seconds > 0)
        for item in (self._ideal, self._ideal_text):
            item.setVisible(ideal is not None)
        self._update_legend()
        self._place_marks()

    def _free(self, xa: float, xb: float, y: float) -> bool:
        """No task bar (nor the queue) across ``xa``..``xb`` at row height ``y`` (checked on a large run: it
        would cost a search of every task at each zoom step)."""
        state = self.state()
        if state is None or len(state.tasks) > FREE_CHECK_TASKS:
            return True
        xs = [xa + (xb - xa) * k / 4 for k in range(5)]
        if y < 0:  # the queue row: empty where no task waits any more (every start is behind)
            return bool(np.all(np.searchsorted(self._starts, xs, side="right") == self._starts.size))
        return all(self.hover_text_at(x, y, tolerance=0.0) is None for x in xs)

    def marks(self) -> dict[str, float | None]:
        """Where the wall-time and ideal marks are (seconds on the run's clock; None when not drawn)."""
        return {"wall": self._wall.value() if self._wall.isVisible() else None,
                "ideal": self._ideal.value() if self._ideal.isVisible() else None}

    def mark_texts(self) -> tuple[str, str]:
        return self._wall_text.toPlainText(), self._ideal_text.toPlainText()

    def startup_text(self) -> str | None:
        """The start-up shade's label, when shown."""
        return self._startup_text.toPlainText() if self._startup_text.isVisible() else None

    def title_text(self) -> str:
        return " · ".join(plain for _, plain in self._stack_title)

    def rows(self) -> int:
        """Rows drawn, the queue's included."""
        return len(self.lane_labels())

    def hover_text_at(self, x: float, y: float, tolerance: float | None = None) -> str | None:
        """The task's tooltip, naming its real worker when the rows are per task."""
        text = super().hover_text_at(x, y, tolerance)
        if text and self._workers:
            text = _TASK_LANE.sub(lambda m: f"worker: {self._workers.get(m.group(1), m.group(1))}", text, count=1)
        return text

    # --- the base's hooks ------------------------------------------------------------
    def _update_legend(self) -> None:
        """A one-line title (the stack's header holds the legend), only as tall as its text."""
        fg = theme.plot_colors(self._dark)["foreground"]
        self._set_title(theme.fit_title(self.width() - 40.0, self._stack_title or [("", "")], [], fg))
        label = self.getPlotItem().titleLabel
        height = math.ceil(label.item.boundingRect().height()) + 2
        if height != label.maximumHeight():  # pyqtgraph's title row is 30 px at least: 8 timelines, 80 px saved
            label.setMinimumHeight(height)
            label.setMaximumHeight(height)
            self.getPlotItem().layout.setRowFixedHeight(0, height)
            self.sigTitleHeightChanged.emit()

    def _apply_theme(self) -> None:
        super()._apply_theme()
        if "_wall" not in self.__dict__:
            return  # the base's __init__: the marks come next
        colors = theme.plot_colors(self._dark)
        dark = theme.is_dark() if self._dark is None else self._dark
        self._startup.setBrush(theme.with_alpha(theme.STARTUP_COLOR, 60 if dark else 55))  # as the timeline's
        self._wall.setPen(pg.mkPen(colors["foreground"], width=2))
        faint = theme.with_alpha(colors["foreground"], 150)
        self._ideal.setPen(pg.mkPen(faint, width=1.5, style=QtCore.Qt.PenStyle.DashLine))
        fill = pg.mkBrush(theme.with_alpha(colors["background"], 240))  # readable over a bar
        self._startup_text.setColor(colors["muted"])
        for text, color in ((self._wall_text, colors["foreground"]), (self._ideal_text, colors["muted"])):
            text.setColor(color)
            text.fill = fill

    def _place_marks(self, *_: Any) -> None:
        """Each mark's label beside its line where it covers no bar: the ideal's first (bottom right, bottom
        left, top left, top right), then the wall's (top right, top left, bottom right, bottom left) clear of it.
        With no room for the ideal's, the wall's label says it ("… · ideal 532 ms")."""
        if "_wall" not in self.__dict__ or self.plotItem is None:
            return
        vb = self.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        view = (x0, x1, min(y0, y1), max(y0, y1))
        px = float(vb.viewPixelSize()[0]) if vb.width() > 10 else (x1 - x0) / 1000.0
        py = float(vb.viewPixelSize()[1]) if vb.height() > 10 else (view[3] - view[2]) / 100.0
        taken: tuple[float, float, float] | None = None  # the ideal's label: x from, x to, y middle
        wall_text = self._wall_words
        if self._ideal.isVisible():
            taken = self._place(self._ideal_text, float(self._ideal.value()), px, py, view,
                                ("bottom", "right"), ("bottom", "left"), ("top", "left"), ("top", "right"))
            self._ideal_text.setVisible(taken is not None)
            if taken is None:
                wall_text += f" · {self._ideal_text.toPlainText()}"
        if self._wall.isVisible():
            if self._wall_text.toPlainText() != wall_text:
                self._wall_text.setText(wall_text)
            if self._place(self._wall_text, float(self._wall.value()), px, py, view, ("top", "right"),
                           ("top", "left"), ("bottom", "right"), ("bottom", "left"), taken=taken,
                           fallback=True) is None:
                self._wall_text.hide()  # its line is out of view
        # "start-up 4.20 s" just left of 0, where the shade shows enough of itself for the words
        x0, x1 = view[0], view[1]
        shown = (min(0.0, x1) - max(self._startup.getRegion()[0], x0)) / px if px > 0 else 0.0
        fits = self._startup.isVisible() and shown >= self._startup_text.boundingRect().width() + 8
        self._startup_text.setVisible(fits)
        if fits:
            self._startup_text.setPos(-2 * px, view[2])

    def _place(self, text: pg.TextItem, x: float, px: float, py: float, view: tuple[float, float, float, float],
               *places: tuple[str, str], taken: tuple[float, float, float] | None = None,
               fallback: bool = False) -> tuple[float, float, float] | None:
        """Put ``text`` at the first of ``places`` (top or bottom, left or right of ``x``) inside the view that
        covers no bar nor ``taken`` (another label's x from, x to, y middle); returns where it went, or None
        when no place is clear (with ``fallback``: the first inside the view; None when none is)."""
        x0, x1, top, bottom = view
        rect = text.boundingRect()
        w, h = (rect.width() + 4) * px, rect.height() * py
        inside = []
        for vertical, side in places:
            xa = x if side == "right" else x - w
            if x0 <= xa and xa + w <= x1:
                inside.append((vertical, side, xa, bottom - h / 2 if vertical == "bottom" else top + h / 2))

        def clear(place: tuple[str, str, float, float]) -> bool:
            _, _, xa, y = place
            if taken is not None and abs(taken[2] - y) < h and xa < taken[1] and taken[0] < xa + w:
                return False
            return self._free(xa + 3 * px, xa + w - 3 * px, y)  # a bar ending at the line does not count

        chosen = next((c for c in inside if clear(c)), inside[0] if fallback and inside else None)
        if chosen is None:
            return None
        vertical, side, xa, y = chosen
        text.setAnchor((-0.02 if side == "right" else 1.02, 1.0 if vertical == "bottom" else 0.0))
        text.setPos(x, bottom if vertical == "bottom" else top)
        text.show()
        return xa, xa + w, y

class StackHeader(pg.GraphicsView):
    """Above the timelines: what ran, what the colours and marks mean, and a line per executor.

    A graphics view (not a label) so that an export draws it with the charts, in one image: ``panel``
    is the item exported, one text item on it, wrapped to the view's width, the view as tall as the text.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None, dark: bool | None = None) -> None:
        super().__init__(parent)
        self._dark = dark
        self._parts: tuple[list[tuple[str, str]], list[tuple[str, str]], str] = ([], [], "")
        self.panel = pg.GraphicsWidget()
        self.setCentralItem(self.panel)  # sized to the view by pyqtgraph at each resize
        self._text = QtWidgets.QGraphicsTextItem(self.panel)
        self._text.setPos(6, 4)
        font = QtGui.QFont(self.font())
        font.setPointSizeF(theme.TITLE_POINTS)
        self._text.setFont(font)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
        self.setFixedHeight(40)
        self._rewrap = QtCore.QTimer(self, singleShot=True, interval=0)
        self._rewrap.timeout.connect(self._layout_text)
        self._apply_theme()

    def set_parts(self, head: list[tuple[str, str]], legend: list[tuple[str, str]], table: str) -> None:
        """The title's parts and legend (html, plain) as :func:`theme.fit_title` takes them, and the table's HTML."""
        self._parts = (head, legend, table)
        self._layout_text()

    def text(self) -> str:
        """Everything the header says, as plain text (tests)."""
        return self._text.toPlainText()

    def _layout_text(self) -> None:
        head, legend, table = self._parts
        colors = theme.plot_colors(self._dark)
        width = max(200.0, self.width() - 12.0)
        html = theme.fit_title(width, head, legend, colors["foreground"]) if head else ""
        self._text.setDefaultTextColor(QtGui.QColor(colors["foreground"]))
        self._text.setTextWidth(width)
        self._text.setHtml(html + table)
        height = math.ceil(self._text.boundingRect().height()) + 8
        if height != self.height():
            self.setFixedHeight(height)

    def _apply_theme(self) -> None:
        self.setBackground(theme.plot_colors(self._dark)["background"])
        self._layout_text()

    def set_dark(self, dark: bool | None) -> None:
        self._dark = dark
        self._apply_theme()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)  # pyqtgraph calls it with None, too
        if event is not None and "_parts" in self.__dict__ and event.oldSize().width() != event.size().width():
            # wrapped anew in a turn of its own: a height set inside a resize event gets no resize event, and
            # the view's viewport and scene keep the old height (the last line cut, a blank band below)
            self._rewrap.start()

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() in (QtCore.QEvent.Type.PaletteChange, QtCore.QEvent.Type.ApplicationPaletteChange) \
                and "_parts" in self.__dict__:
            self._apply_theme()
        super().changeEvent(event)


def header_table(results: Sequence[RunResult], dark: bool | None = None) -> str:
    """One row per executor: wall, speedup, concurrency, parallelism (HTML; the numbers ``concgui compare`` prints).

    The workers are in each timeline's title; what the two averages mean is said under the table,
    in words, since a picture has no tooltips.
    """
    colors = theme.plot_colors(dark)
    base = results[0]
    heads = ["", "executor", "wall", "speedup", "concurrency", "parallelism"]

    def row(cells: list[str], tag: str) -> str:
        return "<tr>" + "".join(f'<{tag} align="{"left" if k < 2 else "right"}" '
                                f'style="white-space:nowrap; padding: 0px 10px 0px 0px">{c}</{tag}>'
                                for k, c in enumerate(cells)) + "</tr>"

    rows = [row(heads, "th")]
    for r in results:
        kind = theme.executor_kind(r.spec)
        rows.append(row([f'<span style="color:{theme.KIND_COLORS[kind]}">■</span>', _COLUMNS["executor"].show(r),
                         seconds(r.wall_seconds, 2), "baseline" if r is base else speed_text(base, r),
                         _COLUMNS["concurrency"].show(r), _COLUMNS["parallelism"].show(r)], "td"))
    words = (f"wall: {metric('wall_seconds').hint}; speedup: the first run's wall ÷ this wall; "
             f"concurrency: tasks in flight, on average; parallelism: cores computing, on average")
    return (f'<table cellspacing="0" cellpadding="0" style="margin-top:4px">{"".join(rows)}</table>'
            f'<span style="color:{colors["muted"]}">{words}</span>')


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
                                 "make a staircase, tasks at the same time a stack.\nA row per worker: what each "
                                 "thread or process ran, as in the main timeline, with the X-ray strips.")
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
        rows = sum(self._overhead(v) + min(v.rows(), ROWS_CAPPED) * ROW_EXPORT for v in self.timelines)
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
        for i, (v, r) in enumerate(zip(self.timelines, results, strict=True)):
            # times under each timeline while there is room; under the last only when there are many
            v.show_run(r, results[0], per_task, bottom_axis=i == last or last < AXIS_EACH_UPTO,
                       axis_label=label if i == last else None)
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
        row = self._row_px or (room - sum(o for o, _ in parts)) / sum(r for _, r in parts)
        row = min(ROW_MAX, max(ROW_MIN, row))
        for v, (extra, rows) in zip(self.timelines, parts, strict=True):
            v.setFixedHeight(int(extra + rows * row))

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
        spec = results[0].spec
        what = f"{spec.get('tasks', len(results[0].tasks))} × {spec.get('workload', '?')}"
        if spec.get("duration") is not None and spec.get("workload") in ("sleep", "cpu", "hash", "mixed"):
            what += f" ({seconds(float(spec['duration']), 2)} each)"
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
        if len(self._results) > 1:
            text = "ideal: the first run's wall ÷ workers"
            parts.append((theme.swatch(colors["muted"], text, "╎"), "╎ " + text))
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

"""One run's timeline in the Compare stack: a :class:`~.timeline.TimelineView` with a one-line title and marks.

The stack (:mod:`.compare_stack`) draws each run with the live timeline's own view, so a run costs no
more per task than the live view and keeps its X-ray strips and tooltips; this subclass adds what a
comparison needs on top.  Time is seconds since the run's work started (:func:`from_work_start`), a
pool's start-up shaded before 0, so the wall mark (solid) sits at the wall time the table gives; the
ideal (faint, dashed; :func:`concgui.engine.ideal.ideal_mark`, the rule of the wall-time bars and the
notebook) is the baseline's wall time ÷ min(workers, tasks), when the baseline finished and ran its tasks
one at a time; the baseline itself has none.
Each mark's label goes where it covers no bar.  With few tasks
(:func:`~concgui.engine.task_rows.per_task_possible`) the rows are one per task
(:func:`~concgui.engine.task_rows.by_task`), so that "one after another" reads as a staircase; each task
row keeps its X-ray strip (its worker's series over the task's span) and the tooltips still name the worker.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...engine.ideal import compared, ideal_mark, ideal_sentence
from ...engine.live import RunState
from ...engine.present import seconds
from ...engine.records import RunResult, ThreadStates
from ...engine.spec import executor_label
from ...engine.task_rows import by_task
from .. import theme
from .compare_chart import speed_text, workers_text
from .timeline import TimelineView

MARK_POINTS = 8.5  # the markers' labels
#: runs up to this many tasks place the ideal's label clear of their bars (8 × 5,000 tasks: 6 ms a pan step)
FREE_CHECK_TASKS = 5_000
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


def crowded_row(result: RunResult) -> tuple[str, int] | None:
    """The worker row that ran the most tasks at once, and how many, when one ran several (asyncio's event
    loop, a Dask worker's threads): in a row per worker they are thin sub-rows a newcomer reads as one bar."""
    spans: dict[str, list[tuple[float, float]]] = {}
    for t in result.tasks:
        if t.worker and t.start is not None and t.end is not None:
            spans.setdefault(t.worker, []).append((t.start, t.end))
    best: tuple[str, int] | None = None
    for worker, pairs in spans.items():
        if best is not None and len(pairs) <= best[1]:
            continue
        times = np.array(pairs, dtype=float)
        # +1 at each start, -1 at each end; an end before a start at the same instant (one after another)
        order = np.lexsort((np.r_[np.ones(len(times)), -np.ones(len(times))], np.r_[times[:, 0], times[:, 1]]))
        steps = np.r_[np.ones(len(times)), -np.ones(len(times))][order]
        most = int(np.cumsum(steps).max())
        if most > 1 and (best is None or most > best[1]):
            best = (worker, most)
    return best


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
        self._min_rows = 0.0  # the plot spans at least this many rows (blank below the last): room for a label
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
                 axis_label: str | None = None, experiment: str | None = None) -> None:
        """Draw ``result`` (a row per task or per worker), marked against ``baseline`` (the first run of its
        experiment: itself, if it is that run).

        ``bottom_axis``: show the time axis's ticks; ``axis_label``: and this label (the stack's lowest timeline);
        ``experiment``: what the run ran, in its title (a stack of several experiments).
        """
        shown = from_work_start(result)
        shown, self._workers = by_task(shown) if per_task else (shown, {})
        ex = executor_label(result.spec)
        kind = theme.executor_kind(result.spec)
        title = [(theme.swatch(theme.KIND_COLORS[kind], f"<b>{ex}</b>"), f"■ {ex}"),
                 (workers_text(result), workers_text(result)), (theme.KIND_LABELS[kind], theme.KIND_LABELS[kind])]
        crowded = None if per_task else crowded_row(result)
        if crowded is not None:
            text = f"{crowded[1]} tasks ran at once in its {crowded[0]} row, stacked in its height"
            title.append((text, text))
        if experiment:
            title.append((experiment, experiment))
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
        ideal = ideal_mark(baseline, result)  # what engine.ideal.ideals gives the bars and the notebook
        if ideal is not None:
            self._ideal.setValue(ideal)
            self._ideal_text.setText(f"ideal {seconds(ideal, 2)}")
        tip = ideal_sentence(baseline, result) if compared(baseline, result) else ""
        for item in (self._ideal, self._ideal_text, self._wall_text):
            item.setToolTip(tip)
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

    def label_height(self) -> float:
        """A mark label's height in pixels: the least plot height that shows it whole."""
        return float(self._wall_text.boundingRect().height())

    def set_min_rows(self, rows: float) -> None:
        """Span at least ``rows`` rows, blank below the last: a run of one or two rows keeps its rows as thick
        as the other timelines' and gets the height its marks' labels need (they were cut in half)."""
        if rows != self._min_rows:
            self._min_rows = rows
            if self.state() is not None:
                self._update_axes()

    def _y_extent(self) -> tuple[float, float]:
        top, bottom = super()._y_extent()
        return top, max(bottom, top + self._min_rows)

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

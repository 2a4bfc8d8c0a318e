"""The queue row above the lanes: how many submitted tasks had not started yet, over time.

It is the one row not made of task bars: a staircase that only goes down, laid out from every
task's start, shown when tasks had to wait long enough to see.  Laying it out sorts every start,
so while a run is live it is laid out whole at most every :data:`QUEUE_EVERY` seconds; in between,
a small one stretches its last step to "now" and a flood's is left alone (its thousands of steps
would be laid out again every frame for a sliver of a pixel).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ... import theme
from .bars import Bars
from .layout import LANE_FILL, LANE_PAD

QUEUE_POINTS = 4000  # the queue area is drawn with at most this many steps
QUEUE_EVERY = 0.2  # seconds between two layouts of a live queue (each sorts every start)
QUEUE_LIVE_STEPS = 500  # ... in between, its last step follows "now" while it has at most this many steps


class QueueArea:
    """The queue's staircase and the item that draws it (the view adds ``item`` to its plot).

    ``pixel_width()`` gives one screen pixel in seconds; ``on_shown_changed()`` is called when
    the row appears or goes, so the view can lay its axis out anew.
    """

    def __init__(self, pixel_width: Callable[[], float], on_shown_changed: Callable[[], None]) -> None:
        self.item = Bars.empty(theme.STATE_COLORS["waiting"])
        self.item.setZValue(-5)
        self.item.hide()
        self._pixel_width = pixel_width
        self._on_shown_changed = on_shown_changed
        self._laid_out_at = 0.0  # time.monotonic() of the last whole layout
        self.reset()

    def reset(self) -> None:
        """A new run: no queue row yet."""
        self.shown = False  # whether the axis has a "queue" row
        self.edges = np.zeros(2)  # step i spans edges[i]..edges[i + 1] ...
        self.levels = np.zeros(1)  # ... at levels[i] tasks waiting
        self.total = 1

    def update(self, start: np.ndarray, work_start: float, now: float, finished: bool, max_time: float,
               force: bool = False) -> bool:
        """Lay the staircase out from every task's ``start`` (nan: not yet); True if laid out whole."""
        t = time.monotonic()
        if not force and t - self._laid_out_at < QUEUE_EVERY:
            if self.levels.size <= QUEUE_LIVE_STEPS:
                self.extend_to_now(now, finished)
            return False
        self._laid_out_at = t
        n = start.size
        if n == 0:
            self._set_shown(False)
            return True
        ws = work_start
        starts = np.sort(start[np.isfinite(start)], kind="stable")  # nearly sorted already: a stable sort gains
        before = int(np.searchsorted(starts, ws, side="left"))
        starts = starts[before:]
        end_x = now if not finished else max(max_time, ws)
        levels = n - before - np.arange(starts.size + 1)
        edges = np.concatenate(([ws], starts, [max(end_x, starts[-1] if starts.size else ws)]))
        never = n - before - starts.size
        longest = float(starts[-1] - ws) if starts.size else 0.0
        if never and not finished:
            longest = max(longest, end_x - ws)
        span = max(end_x, 1e-9)
        show = longest > max(0.005, 0.03 * span) or (never > 0 and finished and never == n)
        self._set_shown(show)
        if not show:
            return True
        if levels.size > QUEUE_POINTS:  # a monotone staircase: keep evenly spaced steps
            keep = np.linspace(0, levels.size - 1, QUEUE_POINTS).astype(int)
            keep = keep[np.diff(keep, prepend=-1) > 0]  # not np.unique: its first call imports numpy.ma
            levels = levels[keep]
            edges = np.concatenate((edges[keep], edges[-1:]))
        self.levels, self.edges = levels, edges
        self.total = n
        self._set_bars()
        return True

    def extend_to_now(self, now: float, finished: bool) -> None:
        """A live queue's last step reaches ``now``."""
        if self.item.isVisible() and not finished:
            edges = self.edges.copy()
            edges[-1] = max(now, edges[-2])
            self.edges = edges
            self._set_bars()

    def text_at(self, x: float) -> str | None:
        """The tooltip over the queue row at ``x`` seconds."""
        edges, levels = self.edges, self.levels
        if x < edges[0] or x > edges[-1]:
            return None
        k = min(len(levels) - 1, max(0, int(np.searchsorted(edges, x, side="right")) - 1))
        return (f"At {x:.3f} s, {int(levels[k])} of {self.total} tasks were waiting in the queue\n"
                "(submitted, not yet picked up by a worker).")

    def _set_bars(self) -> None:
        """The staircase as bars growing up from the queue row's floor.

        Each step reaches a pixel into the next, lower one: the queue only
        shrinks, so the outline is unchanged, and no seams show when an export
        antialiases the edges.
        """
        edges, levels = self.edges, self.levels
        height = LANE_FILL * levels / self.total
        width = np.diff(edges)
        width[:-1] += self._pixel_width()
        self.item.setOpts(x0=edges[:-1], width=width, y0=-LANE_PAD - height, height=height)

    def _set_shown(self, show: bool) -> None:
        self.item.setVisible(show)
        if show != self.shown:
            self.shown = show
            self._on_shown_changed()

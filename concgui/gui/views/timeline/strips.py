"""The X-ray strips: under each worker lane's bars, what its thread was doing, interval by interval.

A strip is a thin stacked column per probe interval: on a core at the bottom, waiting for a core
above it, blocked on top, each as tall as its share of the interval.  Each state is drawn by a few
:class:`~.bars.Bars` items (one colour each, pyqtgraph's ``drawRects`` fast path), never an item per
interval; while a run is live the intervals that arrive go into an open chunk of each state, and a
full chunk is frozen, so a refresh builds only what is new.  A lane is placed by the layout's lane
number; lanes only ever append, so a strip once drawn never moves.

Intervals narrower than a few pixels (a 20 ms probe over a long run) are averaged into buckets of
``span`` seconds, weighted by their length: at that zoom each column would be a pixel of confetti,
and its average is what the eye can read.  Zooming in draws the strips anew at the finer span.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg

from ....engine.records import ThreadStates
from ... import theme
from .bars import Bars
from .layout import STRIP_HEIGHT, STRIP_TOP

STATES = ("on_core", "waiting", "blocked")  # bottom to top, as a ThreadStates lane's shares are ordered
CHUNK = 8192  # rectangles per frozen item


class ThreadStrips:
    """The strips of one run's lanes on a plot: ``sync(states, lane_of)`` draws the intervals not drawn yet."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self._plot = plot
        self._items: dict[str, list[Bars]] = {s: [] for s in STATES}  # the last of each is the open one
        self._open: dict[str, list[np.ndarray]] = {s: [] for s in STATES}  # its rows: (x0, x1, y0, h) arrays
        self._ref: Sequence[ThreadStates] | None = None  # the list read from
        self._pos = 0  # ThreadStates read so far
        #: intervals of lanes the timeline has no row for yet (the probe may hear of a thread before
        #: its first task's record arrives): drawn once the lane appears
        self._pending: list[tuple[float, float, str, tuple[float, float, float]]] = []
        self._span = 0.0  # seconds per averaged bucket; 0: each interval drawn as it is
        self._latest = -np.inf  # the latest interval end read

    def clear(self) -> None:
        for name in STATES:
            for item in self._items[name]:
                self._plot.removeItem(item)
            self._items[name], self._open[name] = [], []
        self._ref, self._pos = None, 0
        self._pending, self._span, self._latest = [], 0.0, -np.inf

    def sync(self, states: Sequence[ThreadStates], lane_of: Mapping[str, int], span: float = 0.0,
             final: bool = True) -> bool:
        """Draw ``states[n:]``, n being how many were read before; True if anything new was drawn.

        Another list (a new run, or a finished run's final series) is drawn anew from its start.
        ``span``: the narrowest column worth drawing (seconds), taken when drawing starts anew; while
        a run is live (``final`` False) a bucket is drawn once the probe has moved past it.
        """
        if states is not self._ref:
            if self._pos or self._pending or self.item_count():
                self.clear()
            self._ref = states
        new = states[self._pos:]
        if new and self._pos == 0:  # averaging only where intervals are narrower than the span
            self._span = span if span > 1.5 * new[0].interval else 0.0
        waiting = self._pending + [(s.t - s.interval, s.t, lane, shares)
                                   for s in new for lane, shares in s.lanes.items()]
        self._pos = len(states)
        if new:
            self._latest = max(self._latest, new[-1].t)
        span = self._span
        complete = np.inf if final or not span else np.floor(self._latest / span) * span  # buckets ending by it
        rows, self._pending = [], []
        for x0, t, lane, shares in waiting:
            k = lane_of.get(lane)
            if k is None or (span and np.ceil(t / span) * span > complete):
                self._pending.append((x0, t, lane, shares))
            else:
                rows.append((x0, t, k, *shares))
        if not rows:
            return False
        a = np.array(rows, dtype=float)
        if span:
            a = _average(a, span)
        x0, x1, bottom = a[:, 0], a[:, 1], a[:, 2] + STRIP_TOP + STRIP_HEIGHT
        shares = np.clip(a[:, 3:6], 0.0, 1.0)
        top = np.cumsum(shares, axis=1)
        top /= np.maximum(top[:, 2:3], 1.0)  # shares that add up to a little over 1 are scaled to fit
        below = np.zeros(len(a))
        drew = False
        for j, name in enumerate(STATES):
            h = (top[:, j] - below) * STRIP_HEIGHT
            keep = h > 0
            if keep.any():
                self._append(name, np.stack([x0[keep], x1[keep], bottom[keep] - top[keep, j] * STRIP_HEIGHT,
                                             h[keep]]))
                drew = True
            below = top[:, j]
        return drew

    def counts(self) -> dict[str, int]:
        """Rectangles drawn per state (for tests)."""
        return {name: sum(len(item.opts["x0"]) for item in self._items[name]) for name in STATES}

    def item_count(self) -> int:
        return sum(len(v) for v in self._items.values())

    def _append(self, name: str, rects: np.ndarray) -> None:
        parts = self._open[name]
        items = self._items[name]
        if not items or sum(p.shape[1] for p in parts) >= CHUNK:
            item = Bars.empty(theme.THREAD_STATE_COLORS[name])
            item.setZValue(2)
            self._plot.addItem(item)
            items.append(item)
            parts.clear()
        parts.append(rects)
        x0, x1, y0, h = np.concatenate(parts, axis=1)
        items[-1].setOpts(x0=x0, width=x1 - x0, y0=y0, height=h)
        items[-1].n_tasks = int(x0.size)


def _average(a: np.ndarray, span: float) -> np.ndarray:
    """Rows (x0, x1, lane, on, waiting, blocked) averaged per lane over buckets of ``span`` seconds."""
    bucket = np.ceil(a[:, 1] / span)
    order = np.lexsort((a[:, 0], bucket, a[:, 2]))
    a, bucket = a[order], bucket[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:, 2] != a[:-1, 2]) | (bucket[1:] != bucket[:-1])
    starts = np.flatnonzero(first)
    w = a[:, 1] - a[:, 0]
    weight = np.add.reduceat(w, starts)
    out = np.empty((starts.size, 6))
    out[:, 0] = np.minimum.reduceat(a[:, 0], starts)
    out[:, 1] = np.maximum.reduceat(a[:, 1], starts)
    out[:, 2] = a[starts, 2]
    out[:, 3:6] = np.add.reduceat(a[:, 3:6] * w[:, None], starts) / np.maximum(weight, 1e-12)[:, None]
    return out

"""The timeline's task bars as graphics items: a handful of items for any number of tasks.

Each state colour is one :class:`Bars` item with a single pen and brush (pyqtgraph's
``drawRects`` fast path) fed from numpy arrays, never an item per task; :class:`BarItems`
keeps them for a view, in chunks while a run is live.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui

from ....engine.live import STATES
from ... import theme
from .layout import FINAL_CODES, RUNNING

CHUNK = 4096  # finished bars per frozen chunk during a live run
Rects = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class Bars(pg.BarGraphItem):
    """A BarGraphItem whose shape is its bounding box and that counts the tasks it draws.

    The stock ``shape()`` adds every rectangle to a QPainterPath, a stall that grows with the
    number of bars on the first click; the view finds the hovered task with numpy instead.
    """

    def __init__(self, **opts: Any) -> None:
        super().__init__(**opts)
        self.setAcceptHoverEvents(False)

    @classmethod
    def empty(cls, brush: Any) -> Bars:
        """An item with no bars yet, in one flat colour."""
        return cls(x0=np.zeros(0), width=np.zeros(0), y0=np.zeros(0), height=np.zeros(0),
                   pen=pg.mkPen(None), brush=brush)

    def shape(self) -> QtGui.QPainterPath:
        path = QtGui.QPainterPath()
        path.addRect(self.boundingRect())
        return path

    def pixelPadding(self) -> float:
        """None: the bars have no outline.  The stock half pixel makes every boundingRect() (called
        several times per repaint) work out the pixel size from the view's transform."""
        return 0.0

    n_tasks = 0  # tasks drawn (touching bars are merged, so rectangles may be fewer)

    def count(self) -> int:
        return self.n_tasks


class BarItems:
    """The task bars on a plot: for each final state, frozen chunks and one open chunk; one item for running tasks.

    Why chunks: during a live run finished bars go into a chunk of :data:`CHUNK` tasks that is built
    once and never touched again, so a refresh only rebuilds the open chunk and the running bars.
    ``rects(idx)`` gives the (x0, x1, y0, height) of tasks ``idx``'s bars.  With ``brush`` every item has
    that one colour (the CPU-share fills: one colour over bars of any state) and sits at ``z``.
    """

    def __init__(self, plot: pg.PlotItem, rects: Callable[[np.ndarray], Rects], brush: Any = None,
                 z: float = 0) -> None:
        self._plot = plot
        self._rects = rects
        self._brush, self._z = brush, z
        self.running = self._new(RUNNING)
        self._sealed: dict[int, list[Bars]] = {c: [] for c in FINAL_CODES}
        self._active: dict[int, tuple[list[np.ndarray], Bars] | None] = dict.fromkeys(FINAL_CODES)

    def clear(self) -> None:
        """No bars at all."""
        for code in FINAL_CODES:
            for item in self._sealed[code]:
                self._plot.removeItem(item)
            self._sealed[code] = []
            active = self._active[code]
            if active is not None:
                self._plot.removeItem(active[1])
            self._active[code] = None
        self._set(self.running, np.zeros(0, dtype=np.int64))

    def remove(self) -> None:
        """Take every item off the plot, the running one too: the object is not used again."""
        self.clear()
        self._plot.removeItem(self.running)

    def fill(self, code: int, idx: np.ndarray) -> None:
        """One frozen item for tasks ``idx`` of final state ``code`` (after :meth:`clear`)."""
        item = self._new(code)
        self._set(item, idx)
        self._sealed[code].append(item)

    def append(self, code: int, idx: np.ndarray) -> None:
        """Add newly finished tasks to the state's open chunk; a full chunk is frozen."""
        active = self._active[code]
        if active is None or sum(a.size for a in active[0]) >= CHUNK:
            if active is not None:
                self._sealed[code].append(active[1])
            active = ([], self._new(code))
            self._active[code] = active
        active[0].append(np.asarray(idx, dtype=np.int64))
        self._set(active[1], np.concatenate(active[0]))

    def show_running(self, idx: np.ndarray) -> None:
        """The running tasks' bars, which grow to "now" at every refresh."""
        self._set(self.running, idx)
        self.running.setVisible(idx.size > 0)

    def counts(self) -> dict[str, int]:
        """Task bars drawn per state ("waiting" is the queue's, not counted here)."""
        out = dict.fromkeys(STATES, 0)
        out["running"] = self.running.count() if self.running.isVisible() else 0
        for code in FINAL_CODES:
            active = self._active[code]
            out[STATES[code]] = (sum(item.count() for item in self._sealed[code])
                                 + (active[1].count() if active is not None else 0))
        return out

    def items(self) -> list[Bars]:
        """Every item: the running one, the frozen chunks and the open ones."""
        out = [self.running, *(item for v in self._sealed.values() for item in v)]
        return out + [v[1] for v in self._active.values() if v is not None]

    def item_count(self) -> int:
        """Graphics items drawing tasks: a few for any number of tasks."""
        n = 1 + sum(len(v) for v in self._sealed.values())
        return n + sum(1 for v in self._active.values() if v is not None)

    def _new(self, code: int) -> Bars:
        item = Bars.empty(theme.STATE_COLORS[STATES[code]] if self._brush is None else self._brush)
        item.setZValue(10 if code == RUNNING else self._z)
        self._plot.addItem(item)
        return item

    def _set(self, item: Bars, idx: np.ndarray) -> None:
        item.n_tasks = int(idx.size)
        if idx.size == 0:
            item.setOpts(x0=np.zeros(0), width=np.zeros(0), y0=np.zeros(0), height=np.zeros(0))
            return
        x0, x1, y0, h = self._rects(idx)
        item.setOpts(x0=x0, width=x1 - x0, y0=y0, height=h)

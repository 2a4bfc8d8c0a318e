"""What lies behind the timeline's bars: the start-up shade with its label, and faint grid lines.

The shade marks the time before the first task could start (a pool's start-up), so that a person
does not read it as workers idling.  The grid is drawn as one-pixel-wide bars at the time axis's
major ticks: pyqtgraph's own grid is a QPicture replayed under the view's transform at every
repaint, slow on a large chart, while bars take the fast path and come out right in SVG exports.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from ... import theme
from .bars import Bars


class Backdrop:
    """The grid and start-up items (the view adds ``items`` to its plot, ignoring their bounds)."""

    def __init__(self) -> None:
        self.grid = Bars.empty("#DDDDDD")
        self.grid.setZValue(-30)
        self.startup = pg.LinearRegionItem((0.0, 0.0), movable=False, pen=pg.mkPen(None))
        self.startup.setZValue(-20)
        self.startup.hide()
        self.label = pg.TextItem("start-up", anchor=(0.5, 0.0))
        self.label.setZValue(-19)
        self.items = (self.grid, self.startup, self.label)

    def show_startup(self, work_start: float, now: float) -> None:
        """Shade 0..``work_start`` when it is more than a sliver of the run so far."""
        span = max(now, work_start, 1e-9)
        self.startup.setRegion((0.0, work_start))
        self.startup.setVisible(work_start > 0 and work_start > 0.01 * span)

    def place_label(self, work_start: float, px: float, top: float) -> None:
        """"start-up" across the top of the shade, when the shade is wide enough for it (``px``: a pixel in s)."""
        room = work_start / px if px > 0 else 0.0
        if not self.startup.isVisible() or room < self.label.boundingRect().width() + 8:
            self.label.hide()  # the legend still names the shade
            return
        self.label.setPos(work_start / 2, top)
        self.label.show()

    def hide_startup(self) -> None:
        self.startup.hide()
        self.label.hide()

    def update_grid(self, vb: pg.ViewBox, axis: pg.AxisItem) -> None:
        """Faint vertical lines at ``axis``'s major ticks, across ``vb``'s visible rows."""
        (x0, x1), (y0, y1) = vb.viewRange()
        if not (math.isfinite(x0) and math.isfinite(x1)) or x1 <= x0:
            return
        levels = axis.tickValues(x0, x1, max(vb.width(), 1.0))
        if not levels:
            return
        xs = np.asarray(levels[0][1], dtype=float)
        xs = xs[(xs >= x0) & (xs <= x1)]
        top, bottom = min(y0, y1), max(y0, y1)
        px = (x1 - x0) / max(vb.width(), 1.0)
        self.grid.setOpts(x0=xs - px / 2, width=np.full(xs.size, px), y0=np.full(xs.size, top),
                          height=np.full(xs.size, bottom - top))

    def apply_theme(self, colors: dict[str, str], dark: bool) -> None:
        self.startup.setBrush(theme.with_alpha(theme.STARTUP_COLOR, 60 if dark else 55))
        self.label.setColor(colors["muted"])
        self.grid.setOpts(brush=theme.mix(colors["grid"], colors["background"], 0.13))

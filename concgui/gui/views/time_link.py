"""A chart's time axis kept on the timeline's: the CPU and memory charts show the span the timeline shows.

By value, not with pyqtgraph's ``setXLink``: that link lines two views up by their pixels, so a chart whose
plot is a few pixels narrower than the timeline's (another right margin) showed a shorter span and hid the
run's end, and a chart hidden in its tab (no screen geometry) took no span at all and, its x auto-range
still on, fitted itself to its own one or two samples and pushed that sliver back into the timeline.

A finished run's span is copied whenever the timeline's changes (a zoom there zooms here); while a run
is live the chart copies it at its own refresh, a turn of the event loop apart from the timeline's, so a
moving view repaints one chart per turn. A zoom in the chart itself goes to the timeline (:meth:`push`),
which stops following the run.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg


class TimeLink:
    """``vb``'s x range kept equal to a timeline's."""

    def __init__(self, vb: pg.ViewBox) -> None:
        self.vb = vb
        self.timeline: pg.ViewBox | None = None  # the timeline followed on every change (a finished run)
        vb.enableAutoRange(x=False)  # the span comes from the timeline, never from this chart's own data

    def follow(self, timeline: pg.ViewBox | None, finished: bool) -> None:
        """Show ``timeline``'s span: now, and on each of its changes once the run ``finished``; None: let go."""
        if not finished or timeline is not self.timeline:
            self.release()
        if timeline is None:
            return
        if finished and self.timeline is None:
            self.timeline = timeline
            timeline.sigXRangeChanged.connect(self._copy)
        self._copy(timeline)

    def release(self) -> None:
        """No longer follow the timeline's changes."""
        if self.timeline is not None:
            try:
                self.timeline.sigXRangeChanged.disconnect(self._copy)
            except (RuntimeError, TypeError):  # the timeline is gone
                pass
            self.timeline = None

    def push(self, timeline: pg.PlotWidget) -> None:
        """A zoom or pan in this chart: the timeline shows the same span, and stops following the run."""
        if hasattr(timeline, "set_follow"):
            timeline.set_follow(False)
        x0, x1 = self.vb.viewRange()[0]
        if [x0, x1] != timeline.getViewBox().viewRange()[0]:
            timeline.getViewBox().setXRange(x0, x1, padding=0.0)

    def _copy(self, timeline: Any, *_: Any) -> None:
        x0, x1 = timeline.viewRange()[0]
        if [x0, x1] != self.vb.viewRange()[0]:
            self.vb.setXRange(x0, x1, padding=0.0)

"""CPU load per core: a thin line per core and a thick mean, always live.

Above :data:`LINES_UP_TO` cores (a run file may hold up to 4,096) the chart draws their range, lowest to
busiest core, as one band instead: a curve per core is one pyqtgraph item each, and adding thousands of
items froze the window for seconds (4,000 cores: 7.7 s), when so many lines could not be told apart anyway.

Between runs it shows the last 30 seconds of this machine, sampled here at
10 Hz.  Given a run (live or reopened), it shows that run's own samples on the
timeline's time axis, "seconds since run start", so the two charts line up:
CPU-bound threads keep about one core busy, processes fill all of them.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import psutil
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...engine.live import RunState
from .. import theme
from ..image_export import install_export_menu
from .chart import ThemedPlot
from .time_link import TimeLink

SAMPLE_MS = 100  # 10 Hz
WINDOW = 30.0  # seconds of history between runs
#: the most cores drawn as a line each; above it, their range (a band) and mean. Measured here (offscreen,
#: 2 shared cores, a run of one sample): the chart shows 64 lines in 0.19 s, 128 in 0.41 s, 256 in 0.75 s,
#: 4,000 in 7.7 s (each new item costs more than the last), a band of any count in 0.01-0.04 s; and 64
#: lines are already eight of each of the palette's eight colours.
LINES_UP_TO = 64


class _TimeAxis(pg.AxisItem):
    """A bottom axis that can label negative times as "seconds ago" (30, 20, 10, 0)."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.ago = True
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        strings = super().tickStrings(values, scale, spacing)
        if not self.ago:
            return strings
        return [s[1:] if s.startswith(("-", "−")) else s for s in strings]


def _run_end(state: RunState | None) -> float:
    """Where a run's time axis ends, without scanning its records (``RunState.now()`` does when finished)."""
    if state is None:
        return 1.0
    if state.result is not None:
        return float(state.result.startup_seconds + state.result.wall_seconds)
    return state.now()


class PlotNote(QtWidgets.QGraphicsTextItem):
    """A short text centred on a ViewBox's plot area, in pixels, that always fits inside it.

    It wraps to the area's width; when the wrapped lines are too tall for it, a shorter wording is
    tried, and the last one is elided to one line (the full text stays in the tooltip).
    """

    MARGIN = 6.0  # pixels kept free on each side

    def __init__(self, view: pg.ViewBox) -> None:
        super().__init__(view)
        self._texts: tuple[str, ...] = ("",)
        self.document().setDocumentMargin(0)
        option = self.document().defaultTextOption()
        option.setAlignment(QtCore.Qt.AlignmentFlag.AlignHCenter)
        self.document().setDefaultTextOption(option)
        self.setZValue(20)
        self.hide()
        view.sigResized.connect(self.fit)

    def set_texts(self, *texts: str) -> None:
        """The wordings, longest and best first."""
        if texts != self._texts:
            self._texts = texts
            self.setToolTip(texts[0])
            self.fit()

    def fit(self, *_: object) -> None:
        view = self.parentItem()
        if view is None:
            return
        rect = view.boundingRect()
        room_w = max(rect.width() - 2 * self.MARGIN, 1.0)
        room_h = max(rect.height() - 2 * self.MARGIN, 1.0)
        metrics = QtGui.QFontMetricsF(self.font())
        for text in self._texts:
            self.setTextWidth(-1)
            self.setPlainText(text)
            if self.boundingRect().width() > room_w:
                self.setTextWidth(room_w)
            if self.boundingRect().height() <= room_h:
                break
        else:  # not even the shortest fits wrapped: one elided line
            self.setTextWidth(-1)
            self.setPlainText(metrics.elidedText(self._texts[-1], QtCore.Qt.TextElideMode.ElideRight, room_w))
        box = self.boundingRect()
        self.setPos(rect.center().x() - box.width() / 2, rect.center().y() - box.height() / 2)


class CpuTimesSampler:
    """Per-core busy percent between two reads of ``psutil.cpu_times(percpu=True)``.

    Same arithmetic as ``psutil.cpu_percent(percpu=True)``, but with its own
    baseline: psutil keeps one process-wide "last call", which an in-app run's
    own sampler thread would keep resetting, cutting both series into noise.
    """

    def __init__(self) -> None:
        first = psutil.cpu_times(percpu=True)
        fields = first[0]._fields
        self._idle = [fields.index(f) for f in ("idle", "iowait") if f in fields]
        self._guest = [fields.index(f) for f in ("guest", "guest_nice") if f in fields]  # counted in user
        self._last = np.array(first, dtype=float)

    @property
    def cores(self) -> int:
        return int(self._last.shape[0])

    def sample(self) -> np.ndarray:
        """Busy percent of every core since the previous call (0-100)."""
        now = np.array(psutil.cpu_times(percpu=True), dtype=float)
        if now.shape != self._last.shape:  # a core went on- or offline
            self._last = now
            return np.zeros(now.shape[0])
        delta = np.maximum(now - self._last, 0.0)
        self._last = now
        total = delta.sum(axis=1) - delta[:, self._guest].sum(axis=1)
        busy = total - delta[:, self._idle].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            pct = np.where(total > 0, 100.0 * busy / total, 0.0)
        return np.clip(pct, 0.0, 100.0)


class CoreUsagePlot(ThemedPlot):
    """Per-core CPU load: live rolling between runs, a run's samples when given a RunState.

    ``export_handler`` (optional) replaces the file dialog of "Export image…".
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None, dark: bool | None = None,
                 sample: bool = True) -> None:
        self._axis = _TimeAxis()
        super().__init__(parent, axisItems={"bottom": self._axis})
        self.export_handler: Callable[[pg.PlotWidget], object] | None = None
        self._dark = dark
        self._state: RunState | None = None
        self._samples_ref: list | None = None
        self._n_seen = 0
        self._run_t: list[float] = []
        self._run_v: list[np.ndarray] = []
        self._run_tree: list[float] = []  # the run's own processes, percent of one core
        self._timeline: pg.PlotWidget | None = None
        self._sampler = CpuTimesSampler()  # primes the counters: the first delta is real
        self._live: deque[tuple[float, np.ndarray]] = deque(maxlen=int(WINDOW * 1000 / SAMPLE_MS) + 20)
        self._n_cores = self._sampler.cores

        plot = self.getPlotItem()
        plot.setLabel("left", "CPU busy", units="%")
        self.getAxis("left").enableAutoSIPrefix(False)
        self.getAxis("left").setTicks([[(v, str(v)) for v in (0, 25, 50, 75, 100)], []])
        plot.hideButtons()
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.layout.setContentsMargins(4, 4, 12, 4)
        vb = self.getViewBox()
        vb.setMouseEnabled(x=False, y=False)
        vb.setYRange(0, 100, padding=0.02)
        vb.setLimits(yMin=-5, yMax=105)
        self._startup = pg.LinearRegionItem((0.0, 0.0), movable=False, pen=pg.mkPen(None))
        self._startup.setZValue(-20)
        self._startup.hide()
        plot.addItem(self._startup, ignoreBounds=True)
        self._empty = PlotNote(vb)  # on the plot area itself, not at a time: a live span runs seconds ahead
        self._core_curves = [plot.plot(antialias=True) for _ in range(self._lines_for(self._n_cores))]
        # the cores' range, lowest to busiest, as one filled polygon (there are too many for a line each):
        # on the view itself, not the plot, so the plot's downsampling and clipping, which cut a curve
        # that goes out along the top edge and back along the bottom one, never apply to it
        self._band = pg.PlotDataItem(fillLevel="enclosed", antialias=True)
        self._band.setZValue(5)
        self._band.hide()
        vb.addItem(self._band)
        self._mean_curve = plot.plot(antialias=True)
        self._mean_curve.setZValue(10)
        # the run's own process tree, as a share of all cores: unlike the machine-wide lines it
        # ignores whatever else the computer is doing, so threads show ~1 core even on a busy machine
        self._tree_curve = plot.plot(antialias=True)
        self._tree_curve.setZValue(11)
        self._link = TimeLink(vb)
        vb.sigRangeChangedManually.connect(self._on_manual_range)
        install_export_menu(self, "cpu-cores")
        self._ready = True
        self._apply_theme()
        self._set_axis_mode()

        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(SAMPLE_MS)
        self._timer.timeout.connect(self._on_tick)
        if sample:
            self._timer.start()

    # --- public API ------------------------------------------------------------------
    def set_state(self, state: RunState | None) -> None:
        """Show ``state``'s CPU samples (live or finished), or None for the rolling live view."""
        self._state = state
        self._samples_ref = None
        self._n_seen = 0
        self._run_t, self._run_v, self._run_tree = [], [], []
        self._set_axis_mode()
        self.refresh()

    def set_result(self, result: Any) -> None:
        """Convenience: show a finished RunResult's samples."""
        self.set_state(None if result is None else RunState.from_result(result))

    def refresh(self) -> None:
        """Redraw a run's samples when new ones arrived (the rolling view redraws itself)."""
        state = self._state
        if state is None:
            return
        self._sync_x()
        samples = state.cpu_samples
        if samples is not self._samples_ref or len(samples) < self._n_seen:
            self._samples_ref = samples
            self._n_seen = 0
            self._run_t, self._run_v, self._run_tree = [], [], []
        if len(samples) == self._n_seen and self._run_t:
            self._update_startup()
            return
        for s in samples[self._n_seen:]:
            self._run_t.append(s.t)
            self._run_v.append(np.asarray(s.per_core, dtype=float))
            self._run_tree.append(np.nan if s.tree_percent is None else float(s.tree_percent))
        self._n_seen = len(samples)
        self._draw_run()

    def link_x(self, timeline: pg.PlotWidget | None) -> None:
        """Share the x axis with the timeline while a run is shown (not in the rolling view).

        Both left axes get the same width, so one time sits at one x in both
        charts and their ranges match exactly.
        """
        if self._timeline is not None and hasattr(self._timeline, "sigLeftAxisWidthChanged"):
            try:
                self._timeline.sigLeftAxisWidthChanged.disconnect(self._match_left_axis)
            except (RuntimeError, TypeError):
                pass
        self._timeline = timeline
        if timeline is not None and hasattr(timeline, "set_left_axis_min"):
            timeline.sigLeftAxisWidthChanged.connect(self._match_left_axis)
            timeline.set_left_axis_min(self._natural_left_width())
            self._match_left_axis(timeline.left_axis_width())
        self._set_axis_mode()

    def _natural_left_width(self) -> float:
        """What this chart's left axis needs: the rotated "CPU busy (%)" label and "100"."""
        metrics = QtGui.QFontMetrics(self.font())
        return float(metrics.height() + metrics.horizontalAdvance("100") + 24)

    def _match_left_axis(self, width: float) -> None:
        if self._alive():
            self.getAxis("left").setWidth(max(width, self._natural_left_width()))
            self.getPlotItem().layout.activate()  # now, as the timeline's: one repaint, in its final form
            self._update_title()  # its legend fits the room right of the axis

    def stop(self) -> None:
        """Stop sampling (call on close)."""
        self._timer.stop()

    def sampling(self) -> bool:
        return self._timer.isActive()

    def set_dark(self, dark: bool | None) -> None:
        """Force a light (False) or dark (True) look, or follow the system (None)."""
        self._dark = dark
        self._apply_theme()

    def live_samples(self) -> int:
        """How many rolling samples are buffered (tests)."""
        return len(self._live)

    def curve_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The mean line's (x, y) as drawn (tests)."""
        x, y = self._mean_curve.getData()
        return (np.zeros(0), np.zeros(0)) if x is None else (x, y)

    def drawn_as(self) -> str:
        """How the cores are drawn: "lines" (one per core) or "band" (their range, above :data:`LINES_UP_TO`)."""
        return "band" if self._n_cores > LINES_UP_TO else "lines"

    def band_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The band's outline (x, y) as drawn: out along the busiest core, back along the lowest (tests)."""
        x, y = self._band.getData()
        return (np.zeros(0), np.zeros(0)) if x is None or not self._band.isVisible() else (x, y)

    @staticmethod
    def _lines_for(cores: int) -> int:
        """How many per-core lines ``cores`` cores get: one each, or none when they are drawn as a band."""
        return cores if cores <= LINES_UP_TO else 0

    # --- drawing ---------------------------------------------------------------------
    def _on_tick(self) -> None:
        self._live.append((time.monotonic(), self._sampler.sample()))
        if self._state is None and self.plotItem is not None:  # None once closed
            self._draw_live()

    def _draw_live(self) -> None:
        if not self._live:
            return
        now = time.monotonic()
        t = np.fromiter((s[0] - now for s in self._live), dtype=float, count=len(self._live))
        values = np.vstack([s[1] for s in self._live])
        self._set_curves(t, values)
        self.getViewBox().setXRange(-WINDOW, 0.0, padding=0.0)

    def _draw_run(self) -> None:
        self._update_startup()
        state = self._state
        if not self._run_t:
            self._set_curves(np.zeros(0), np.zeros((0, self._n_cores)))
            self._tree_curve.hide()
            end = _run_end(state)
            if state is not None and not state.finished:
                self._empty.set_texts("waiting for the first CPU sample…", "waiting for CPU samples…")
            else:
                self._empty.set_texts("no CPU samples were recorded for this run", "no CPU samples")
            self._empty.show()
            if not self._shares_x():
                self.getViewBox().setXRange(0.0, max(end, 1e-3), padding=0.01)
            return
        self._empty.hide()
        width = max(len(v) for v in self._run_v)
        values = np.zeros((len(self._run_v), width))
        for i, v in enumerate(self._run_v):
            values[i, :len(v)] = v
        t = np.asarray(self._run_t)
        self._set_curves(t, values)
        cores = float(self._state.environment.get("cpu_count") or width) if self._state is not None else width
        tree = np.asarray(self._run_tree) / max(cores, 1.0)
        if np.isfinite(tree).any():
            self._tree_curve.setData(t, np.clip(tree, 0.0, 100.0), connect="finite", antialias=self._smooth())
            self._tree_curve.show()
        else:
            self._tree_curve.hide()
        self._update_title()
        if not self._shares_x():
            end = max(self._run_t[-1], _run_end(self._state))
            self.getViewBox().setXRange(0.0, max(end, 1e-3), padding=0.01)

    def _set_curves(self, t: np.ndarray, values: np.ndarray) -> None:
        cores = values.shape[1] if values.ndim == 2 else 0
        if cores != self._n_cores or self._lines_for(cores) != len(self._core_curves):
            self._resize_curves(cores)
        # dots mark the samples when they are few (a short run, or a sampler starved of the GIL)
        sparse = self._state is not None and len(t) < 40
        smooth = self._smooth()
        for i, curve in enumerate(self._core_curves):
            curve.setData(t, values[:, i], symbol="o" if sparse else None, symbolSize=4,
                          symbolPen=None, symbolBrush=theme.core_color(i), antialias=smooth)
        if self.drawn_as() == "lines":
            self._band.hide()
            self._band.setData([], [])
        else:  # out along the busiest core, back along the lowest: a polygon that one sample makes a bar
            low, high = values.min(axis=1), values.max(axis=1)
            self._band.setData(np.concatenate([t, t[::-1]]), np.concatenate([high, low[::-1]]),
                               symbol="o" if sparse else None, symbolSize=4, symbolPen=None,
                               symbolBrush=theme.core_color(0), antialias=smooth)
            self._band.show()
        self._mean_curve.setData(t, values.mean(axis=1) if cores else np.zeros(len(t)),
                                 symbol="o" if sparse else None, symbolSize=7, symbolPen=None,
                                 symbolBrush=theme.plot_colors(self._dark)["foreground"], antialias=smooth)

    def _smooth(self) -> bool:
        """Antialiased lines, except while a run is live: they make each of the chart's ten repaints a
        second several times dearer, time taken from the window during a flood."""
        return self._state is None or self._state.finished

    def _resize_curves(self, cores: int) -> None:
        plot = self.getPlotItem()
        lines = self._lines_for(cores)
        while len(self._core_curves) > lines:
            plot.removeItem(self._core_curves.pop())
        while len(self._core_curves) < lines:
            self._core_curves.append(plot.plot(antialias=True))
        self._n_cores = cores
        self._apply_theme()

    def _update_startup(self) -> None:
        state = self._state
        ws = float(state.work_start or 0.0) if state is not None else 0.0
        show = state is not None and ws > 0.01 * max(_run_end(state), 1e-9)  # as the timeline shades it
        self._startup.setRegion((0.0, ws))
        if show != self._startup.isVisible():
            self._startup.setVisible(show)
            self._update_title()

    def _set_axis_mode(self) -> None:
        """Rolling "seconds ago" without a run, the timeline's axis (and link) with one."""
        vb = self.getViewBox()
        run = self._state is not None
        if not run:
            self._empty.hide()
            self._tree_curve.hide()
        self._axis.ago = not run
        self.getPlotItem().setLabel("bottom", "seconds since run start" if run else "seconds ago")
        if not self._shares_x():
            self._link.release()
        self._sync_x()
        vb.setMouseEnabled(x=run, y=False)
        self._axis.picture = None
        self._axis.update()
        self._update_startup()
        self._update_title()
        if not run:
            self._draw_live()

    def _shares_x(self) -> bool:
        return self._state is not None and self._timeline is not None

    def _sync_x(self) -> None:
        """Show the timeline's time span (:mod:`.time_link`)."""
        if self._shares_x():
            self._link.follow(self._timeline.getViewBox(), self._state.finished)

    def _on_manual_range(self, *_: Any) -> None:
        if self._shares_x():
            self._link.push(self._timeline)

    def _update_title(self) -> None:
        colors = theme.plot_colors(self._dark)
        n = self._n_cores
        where = "during this run" if self._state is not None else "this machine, last 30 s"
        if self.drawn_as() == "lines":
            legend = [(theme.swatch(theme.core_color(0), f"one thin line per core ({n})", "━"),
                       f"━ one thin line per core ({n})"),
                      (theme.swatch(colors["foreground"], "mean of all cores", "▬"), "▬ mean of all cores")]
        else:  # too many for a line each: says so, read as one phrase ("4,096 cores: their range and mean")
            legend = [(theme.swatch(theme.core_color(0), f"{n:,} cores: their range"),
                       f"■ {n:,} cores: their range"),
                      (theme.swatch(colors["foreground"], "and mean", "▬"), "▬ and mean")]
        if self._state is not None and self._tree_curve.isVisible():
            text = "this run's processes"
            legend.append((theme.swatch(theme.PROCESS_TREE_COLOR, text, "╍"), "╍ " + text))
        if self._state is not None and self._startup.isVisible():
            legend.append((theme.swatch(theme.STARTUP_COLOR, "start-up"), "■ start-up"))
        head = [("<b>CPU load per core</b>", "CPU load per core"), (where, where)]
        room = self.width() - 40.0 - self.getAxis("left").width()  # the title sits right of the axis
        self._set_legend_title(room, head, legend, colors["foreground"])

    def _on_width_changed(self) -> None:
        self._update_title()

    def _apply_theme(self) -> None:
        colors = theme.apply_plot_theme(self, self._dark)
        # one pixel wide: Qt draws such lines on a fast path and strokes wider ones into shapes to fill, 60
        # times slower (64 cores of 3,000 samples: 3.0 s a repaint at 1.2 px, 0.05 s at 1), paid at every repaint
        for i, curve in enumerate(self._core_curves):
            curve.setPen(pg.mkPen(theme.with_alpha(theme.core_color(i), 200), width=1))
        dark = theme.is_dark() if self._dark is None else self._dark
        self._band.setPen(pg.mkPen(theme.with_alpha(theme.core_color(0), 200), width=1))
        self._band.setBrush(theme.with_alpha(theme.core_color(0), 110 if dark else 80))
        self._mean_curve.setPen(pg.mkPen(colors["foreground"], width=3))
        self._tree_curve.setPen(pg.mkPen(theme.PROCESS_TREE_COLOR, width=2.5, style=QtCore.Qt.PenStyle.DashLine))
        self._startup.setBrush(theme.with_alpha(theme.STARTUP_COLOR, 90 if dark else 55))
        self._empty.setDefaultTextColor(QtGui.QColor(colors["muted"]))
        self._update_title()

    def closeEvent(self, event: Any) -> None:
        self.stop()
        super().closeEvent(event)

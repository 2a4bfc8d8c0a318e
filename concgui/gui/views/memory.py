"""Memory per worker process over a run, on the timeline's time axis: the cores chart's Memory tab.

One line per worker process (the pids that ran a task) and a thick line for all of them together, in
MB, from the probe's memory series (:mod:`concgui.engine.memory`): four processes draw four
interpreters' worth, a thread pool's threads one line, the one process they share. Live during a run
(redrawn by the window's frame, as the cores chart) and for a reopened run.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets

from ...engine import memory
from ...engine.live import RunState
from .. import theme
from ..image_export import install_export_menu
from .chart import ThemedPlot
from .cores import PlotNote, _run_end
from .time_link import TimeLink

_PID = attrgetter("pid")


def _worker_pids(state: RunState) -> list[int]:
    """The processes that ran (or run) a task, in order of their first task: a live run's too (in C: some
    3 ms for 100,000 tasks, so a live chart reads them again only when a new lane appeared)."""
    pids = dict.fromkeys(map(_PID, state.tasks))
    pids.pop(0, None)  # the tasks not started yet
    return list(pids)


class MemoryPlot(ThemedPlot):
    """Each worker process's memory (USS, else RSS) in MB, and their total, over a run's time."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, dark: bool | None = None) -> None:
        super().__init__(parent)
        self.export_handler = None
        self._dark = dark
        self._state: RunState | None = None
        self._seen: tuple[int, int, int] | None = None  # (id of the series, samples, changes) last drawn
        self._timeline: pg.PlotWidget | None = None
        self._pids: list[int] = []
        self._workers: tuple[tuple[int, int, bool], list[int]] | None = None  # (lanes seen, pids) of the state
        plot = self.getPlotItem()
        plot.setLabel("left", "memory", units="MB")
        self.getAxis("left").enableAutoSIPrefix(False)
        plot.setLabel("bottom", "seconds since run start")
        plot.hideButtons()
        plot.layout.setContentsMargins(4, 4, 12, 4)
        vb = self.getViewBox()
        vb.setMouseEnabled(x=True, y=False)
        vb.setLimits(yMin=0)
        self._link = TimeLink(vb)
        vb.sigRangeChangedManually.connect(self._on_manual_range)
        self._empty = PlotNote(vb)
        self._curves: list[pg.PlotDataItem] = []
        self._total = plot.plot(antialias=True)
        self._total.setZValue(10)
        install_export_menu(self, "memory")
        self._ready = True
        self._apply_theme()
        self._draw()

    # --- public API ------------------------------------------------------------------
    def set_state(self, state: RunState | None) -> None:
        """Show ``state``'s memory series (live or finished), or nothing."""
        self._state = state
        self._seen = None
        if state is None:
            self._link.release()
        self.refresh()

    def set_result(self, result: Any) -> None:
        """Convenience: show a finished RunResult's series."""
        self.set_state(None if result is None else RunState.from_result(result))

    def link_x(self, timeline: pg.PlotWidget | None) -> None:
        """Share the timeline's time span (and its left axis's width, so one time sits at one x)."""
        if self._timeline is not None and hasattr(self._timeline, "sigLeftAxisWidthChanged"):
            try:
                self._timeline.sigLeftAxisWidthChanged.disconnect(self._match_left_axis)
            except (RuntimeError, TypeError):
                pass
        self._timeline = timeline
        if timeline is not None and hasattr(timeline, "sigLeftAxisWidthChanged"):
            timeline.sigLeftAxisWidthChanged.connect(self._match_left_axis)
            self._match_left_axis(timeline.left_axis_width())

    def refresh(self) -> None:
        """Redraw when new samples arrived (a few a second) or the run ended; else only follow the timeline."""
        state = self._state
        self._sync_x()
        key = None if state is None else (id(state.memory_samples), len(state.memory_samples), int(state.finished))
        if key != self._seen or state is None:
            self._seen = key
            self._draw()

    def series(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """What is drawn: each worker pid's (t, MB) as ``"pid N"`` and ``"total"`` (tests)."""
        out = {}
        for pid, curve in zip(self._pids, self._curves, strict=False):
            x, y = curve.getData()
            if x is not None and curve.isVisible():
                out[f"pid {pid}"] = (x, y)
        x, y = self._total.getData()
        if x is not None and self._total.isVisible():
            out["total"] = (x, y)
        return out

    # --- drawing ---------------------------------------------------------------------
    def _draw(self) -> None:
        state = self._state
        samples = state.memory_samples if state is not None else []
        pids = self._worker_pids_of(state) if state is not None and samples else []
        by_pid = memory.series(samples, pids)
        self._pids = [p for p in pids if p in by_pid]
        while len(self._curves) < len(self._pids):
            self._curves.append(self.getPlotItem().plot(antialias=True))
        sparse = len(samples) < 40
        for i, curve in enumerate(self._curves):
            if i < len(self._pids):
                t, mb = by_pid[self._pids[i]]
                curve.setData(t, mb, symbol="o" if sparse else None, symbolSize=4, symbolPen=None,
                              symbolBrush=theme.core_color(i))
                curve.setPen(pg.mkPen(theme.with_alpha(theme.core_color(i), 220), width=1.5))
                curve.setVisible(len(self._pids) > 1)  # one process: the total is its line
            else:
                curve.setData([], [])
                curve.hide()
        t, mb = memory.total_series(samples, self._pids)
        self._total.setData(t, mb, symbol="o" if sparse else None, symbolSize=6, symbolPen=None,
                            symbolBrush=theme.plot_colors(self._dark)["foreground"])
        self._total.setVisible(bool(t))
        if not t:
            if state is None:
                self._empty.set_texts("memory per worker process shows here during a run", "memory during a run")
            elif not state.finished:
                self._empty.set_texts("waiting for the first memory sample…", "waiting for memory…")
            else:
                self._empty.set_texts("no memory samples were recorded for this run", "no memory samples")
            self._empty.show()
        else:
            self._empty.hide()
            top = max(mb) * 1.15
            self.getViewBox().setYRange(0.0, max(top, 1.0), padding=0.0)
        if not self._shares_x() and state is not None:
            end = max(t[-1] if t else 0.0, _run_end(state))
            self.getViewBox().setXRange(0.0, max(end, 1e-3), padding=0.01)
        self._update_title()

    def _worker_pids_of(self, state: RunState) -> list[int]:
        """:func:`_worker_pids`, read again only when the run has a new lane (a new worker) or ended."""
        key = (id(state), len(state.lanes), state.finished)
        if self._workers is None or self._workers[0] != key:
            self._workers = key, _worker_pids(state)
        return self._workers[1]

    def _shares_x(self) -> bool:
        return self._state is not None and self._timeline is not None

    def _sync_x(self) -> None:
        """The timeline's span: linked once the run ended, copied at each refresh while it goes."""
        if not self._shares_x():
            return
        self._link.follow(self._timeline.getViewBox(), self._state.finished)

    def _on_manual_range(self, *_: Any) -> None:
        if self._shares_x():
            self._link.push(self._timeline)

    def _match_left_axis(self, width: float) -> None:
        if self._alive():
            metrics = QtGui.QFontMetrics(self.font())
            natural = float(metrics.height() + metrics.horizontalAdvance("100") + 24)
            self.getAxis("left").setWidth(max(width, natural))
            self._update_title()

    def _update_title(self) -> None:
        colors = theme.plot_colors(self._dark)
        state = self._state
        kind = (state.environment or {}).get("memory") if state is not None else None
        what = {"uss": "unique set size (USS)", "rss": "resident set size (RSS)"}.get(kind, "USS, else RSS")
        n = len(self._pids)
        legend = []
        if n > 1:
            legend.append((theme.swatch(theme.core_color(0), f"one line per worker process ({n})", "━"),
                           f"━ one line per worker process ({n})"))
            legend.append((theme.swatch(colors["foreground"], "all workers together", "▬"),
                           "▬ all workers together"))
        elif n == 1:
            text = ("the run's one process: its threads share it" if _threads(state)
                    else "the one worker process")
            legend.append((theme.swatch(colors["foreground"], text, "▬"), "▬ " + text))
        head = [("<b>Memory per worker process</b>", "Memory per worker process"), (what, what)]
        room = self.width() - 40.0 - self.getAxis("left").width()
        self._set_legend_title(room, head, legend, colors["foreground"])

    def _on_width_changed(self) -> None:
        self._update_title()

    def _apply_theme(self) -> None:
        colors = theme.apply_plot_theme(self, self._dark)
        self._total.setPen(pg.mkPen(colors["foreground"], width=3))
        self._empty.setDefaultTextColor(QtGui.QColor(colors["muted"]))
        self._update_title()


def _threads(state: RunState | None) -> bool:
    """Whether the run's tasks ran as threads (or coroutines) of one process."""
    return state is not None and theme.executor_kind(state.spec or {}) in ("threads", "asyncio", "sequential")

"""Wall time per executor for one workload: the seed notebook's story in one picture.

One bar per run, coloured by the executor's kind (grey sequential, blue
threads, vermillion processes, green asyncio).  The pool's start-up sits at
the bottom of its bar in a lighter shade, the work on top.  A dashed marker
on each bar shows the ideal: the first (baseline) run's wall time divided by
the workers that could share the tasks.  A bar that reaches its marker scaled
perfectly; CPU-bound threads stay far above theirs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...engine.records import RunResult
from .. import theme
from ..export import install_export_menu


def ideal_wall(baseline: RunResult, result: RunResult) -> float:
    """The baseline's wall time shared perfectly by ``result``'s workers."""
    tasks = len(result.tasks) or int(result.spec.get("tasks", 1) or 1)
    return baseline.wall_seconds / max(1, min(result.workers or 1, tasks))


class CompareChart(pg.PlotWidget):
    """Bar chart of wall time per executor; ``set_results(results)`` with the baseline first."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, dark: bool | None = None) -> None:
        super().__init__(parent)
        self.export_handler: Callable[[pg.PlotWidget], object] | None = None
        self._dark = dark
        self._results: list[RunResult] = []
        self._labels: list[pg.TextItem] = []
        plot = self.getPlotItem()
        plot.setLabel("left", "wall time", units="s")
        self.getAxis("left").enableAutoSIPrefix(False)
        plot.hideButtons()
        plot.layout.setContentsMargins(4, 4, 12, 4)
        vb = self.getViewBox()
        vb.setMouseEnabled(x=False, y=False)
        vb.setDefaultPadding(0.0)
        self._startup_bars = pg.BarGraphItem(x=[], height=[], width=0.7, pen=pg.mkPen(None), brush="#999999")
        self._work_bars = pg.BarGraphItem(x=[], height=[], width=0.7, pen=pg.mkPen(None), brush="#999999")
        self._ideal = pg.PlotCurveItem(connect="pairs")
        self._ideal.setZValue(10)
        for item in (self._startup_bars, self._work_bars, self._ideal):
            plot.addItem(item)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        install_export_menu(self, "compare")
        self._ready = True
        self._apply_theme()

    # --- public API ------------------------------------------------------------------
    def set_results(self, results: list[RunResult]) -> None:
        """Draw one bar per result; the first is the baseline for speed-ups and the ideal."""
        self._results = list(results)
        self._draw()

    def bar_count(self) -> int:
        """Bars drawn (tests)."""
        x = self._work_bars.opts.get("x")
        return 0 if x is None else int(np.size(x))

    def label_texts(self) -> list[str]:
        """The value labels above the bars, as plain text (tests)."""
        return [item.textItem.toPlainText() for item in self._labels]

    def set_dark(self, dark: bool | None) -> None:
        self._dark = dark
        self._apply_theme()

    def bar_text(self, i: int) -> str:
        """The tooltip of bar ``i``."""
        r = self._results[i]
        base = self._results[0]
        ex = r.spec.get("executor", "?")
        lines = [f"{ex} · {r.workers} worker{'s' if r.workers != 1 else ''} · "
                 f"{theme.KIND_LABELS.get(theme.executor_kind(ex), '')}",
                 f"wall {r.wall_seconds:.3f} s (work, after start-up)"]
        if r.startup_seconds:
            lines.append(f"start-up {r.startup_seconds:.3f} s (starting the pool)")
        if i and r.wall_seconds > 0:
            ideal = ideal_wall(base, r)
            lines.append(f"speed-up {base.wall_seconds / r.wall_seconds:.2f}× over {base.spec.get('executor')}; "
                         f"ideal {ideal:.3f} s ({base.wall_seconds / ideal:.1f}×)")
        s = r.summary or {}
        if s.get("parallelism") is not None:
            lines.append(f"cores busy on average {s.get('parallelism', 0):.2f}, "
                         f"tasks in flight {s.get('concurrency', 0):.2f}")
        return "\n".join(lines)

    # --- drawing ---------------------------------------------------------------------
    def _draw(self) -> None:
        plot = self.getPlotItem()
        for item in self._labels:
            plot.removeItem(item)
        self._labels = []
        results = self._results
        colors = theme.plot_colors(self._dark)
        n = len(results)
        if n == 0:
            for bars in (self._startup_bars, self._work_bars):
                bars.setOpts(x=np.zeros(0), y0=np.zeros(0), height=np.zeros(0), brushes=None, brush="#999999")
            self._ideal.setData([], [])
            self.getAxis("bottom").setTicks([[], []])
            self._update_title()
            return
        x = np.arange(n, dtype=float)
        startup = np.array([r.startup_seconds for r in results])
        wall = np.array([r.wall_seconds for r in results])
        kinds = [theme.executor_kind(r.spec.get("executor")) for r in results]
        solid = [QtGui.QBrush(QtGui.QColor(theme.KIND_COLORS[k])) for k in kinds]
        light = [QtGui.QBrush(theme.mix(theme.KIND_COLORS[k], colors["background"], 0.4)) for k in kinds]
        self._startup_bars.setOpts(x=x, y0=np.zeros(n), height=startup, width=0.7, brushes=light)
        self._work_bars.setOpts(x=x, y0=startup, height=wall, width=0.7, brushes=solid)
        base = results[0]
        ideal = np.array([startup[i] + ideal_wall(base, r) for i, r in enumerate(results)])
        self._ideal.setData(np.repeat(x, 2) + np.tile([-0.44, 0.44], n), np.repeat(ideal, 2))
        top = np.maximum(startup + wall, ideal)
        for i, r in enumerate(results):
            if i == 0:
                speed = "baseline"
            elif r.wall_seconds > 0:
                speed = f"{base.wall_seconds / r.wall_seconds:.1f}×"
            else:
                speed = "—"
            html = f'<div style="text-align:center"><b>{r.wall_seconds:.2f} s</b> · {speed}'
            if startup[i] > max(0.01, 0.05 * r.wall_seconds):
                html += f'<br><span style="color:{colors["muted"]}">+ {startup[i]:.2f} s start-up</span>'
            html += "</div>"
            label = pg.TextItem(html=f'<span style="color:{colors["foreground"]}">{html}</span>',
                                anchor=(0.5, 1.0))
            label.setPos(x[i], top[i])
            plot.addItem(label)
            self._labels.append(label)
        ticks = [(float(i), f"{r.spec.get('executor', '?')}\n{r.workers} worker{'s' if r.workers != 1 else ''}")
                 for i, r in enumerate(results)]
        self.getAxis("bottom").setTicks([ticks, []])
        self.getAxis("bottom").setHeight(QtGui.QFontMetrics(self.font()).height() * 2 + 14)
        vb = self.getViewBox()
        vb.setXRange(-0.6, n - 0.4, padding=0.0)
        vb.setYRange(0.0, float(top.max()) * 1.28 or 1.0, padding=0.0)
        self._update_title()

    def _update_title(self) -> None:
        colors = theme.plot_colors(self._dark)
        kinds: list[str] = []
        for r in self._results:
            k = theme.executor_kind(r.spec.get("executor"))
            if k not in kinds:
                kinds.append(k)
        parts = [theme.swatch(theme.KIND_COLORS[k], theme.KIND_LABELS[k]) for k in kinds]
        if self._results:
            parts.append(theme.swatch(colors["foreground"], "ideal: baseline ÷ workers", "╌"))
            if any(r.startup_seconds > 0.01 for r in self._results):
                parts.append(theme.swatch(theme.mix("#0072B2", colors["background"], 0.4), "lighter: pool start-up"))
        workload = self._results[0].spec.get("workload", "") if self._results else ""
        tasks = self._results[0].spec.get("tasks", "") if self._results else ""
        what = f" · {tasks} × {workload}" if workload else ""
        self.setTitle(f'<span style="color:{colors["foreground"]}"><b>Wall time per executor (lower is better)</b>'
                      f'{what}<br>{" &nbsp; ".join(parts)}</span>', size="10pt")

    def _apply_theme(self) -> None:
        colors = theme.apply_plot_theme(self, self._dark)
        self._ideal.setPen(pg.mkPen(colors["foreground"], width=2.5, style=QtCore.Qt.PenStyle.DashLine))
        self._draw()

    def changeEvent(self, event: QtCore.QEvent) -> None:
        if "_ready" in self.__dict__ and event.type() in (QtCore.QEvent.Type.PaletteChange,
                                                          QtCore.QEvent.Type.ApplicationPaletteChange):
            self._apply_theme()
        super().changeEvent(event)

    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        vb = self.getViewBox()
        if not self._results or not vb.sceneBoundingRect().contains(scene_pos):
            QtWidgets.QToolTip.hideText()
            return
        p = vb.mapSceneToView(scene_pos)
        i = int(round(p.x()))
        r = self._results[i] if 0 <= i < len(self._results) else None
        if r is None or abs(p.x() - i) > 0.35 or not 0 <= p.y() <= r.startup_seconds + r.wall_seconds:
            QtWidgets.QToolTip.hideText()
            return
        QtWidgets.QToolTip.showText(QtGui.QCursor.pos(), self.bar_text(i), self)

"""Wall time per executor for one workload: the seed notebook's story in one picture.

One bar per run, coloured by the executor's kind (grey sequential, blue
threads, vermillion processes, green asyncio), as tall as its wall time (the
work, after start-up), so a bar's top is the number above it.  A pool's
start-up sits on top in the timeline's start-up colour: a cost paid before the
work, not part of the wall time.  A dashed marker on each later run's bar shows
the ideal (:func:`concgui.engine.ideal.ideals`, the stack's and the notebook's
rule): the first (baseline) run's wall time divided by the workers that could
share the tasks, min(workers, tasks), when that first run ran its tasks one at a
time; the baseline's own bar has none.  A bar that reaches its marker scaled perfectly;
CPU-bound threads stay far above theirs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...engine.baseline import baselines, experiment_text, experiments
from ...engine.ideal import compared, ideal_legend, ideal_sentence, ideals
from ...engine.present import count, number, relative_speed, seconds
from ...engine.records import RunResult
from ...engine.spec import executor_label
from ...engine.summary import busy_machine, busy_machine_sentence, run_speedup
from .. import theme
from ..image_export import install_export_menu
from .chart import ThemedPlot


def workers_text(result: RunResult) -> str:
    """"6 workers", and how many ran tasks when fewer did ("6 workers, 3 ran tasks": a pool larger than the work).

    Only where a row of the timeline is a worker (threads, processes, sub-interpreters): asyncio's
    tasks all run on its one event loop, and a Dask worker runs several threads.
    """
    text = count(result.workers, "worker")
    if theme.executor_kind(result.spec) in ("threads", "processes", "interpreters", "sequential"):
        used = len({t.worker for t in result.tasks if t.worker and t.start is not None})
        if 0 < used < result.workers:
            text += f", {used} ran tasks"
    return text


def speed_text(baseline: RunResult, result: RunResult) -> str:
    """"3.0×" when faster than the baseline, "12× slower" when not, "—" when either did not finish."""
    return relative_speed(run_speedup(result, baseline))


LABEL_SHARE = 0.6  # a bar's label takes at most this share of the plot's height
LABEL_GAP_PX = 4.0  # between a label's top and the plot's

#: the last line of a bar's label when other programs took cores during its run (the tooltip says how many)
BUSY_MARK = "⚠ busy machine"
BUSY_COLOR = "#D55E00"  # vermillion, Okabe-Ito: read as a warning on light and dark backgrounds


class CompareChart(ThemedPlot):
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
        self._tops = np.zeros(0)  # each bar's top, where its label's bottom sits
        self._label_px = np.zeros(0)  # each label's height in pixels
        self._drawn_px: float | None = None  # the plot height the y range was fitted to
        self._ideal = pg.PlotCurveItem(connect="pairs")
        self._ideal.setZValue(10)
        for item in (self._startup_bars, self._work_bars, self._ideal):
            plot.addItem(item)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        vb.sigResized.connect(self._on_view_resized)
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
        base = baselines(self._results)[i]
        ex = executor_label(r.spec)
        lines = [f"{ex} · {workers_text(r)} · {theme.KIND_LABELS.get(theme.executor_kind(r.spec), '')}",
                 f"wall {seconds(r.wall_seconds)} (the work, after start-up: the solid bar)"]
        if r.startup_seconds:
            lines.append(f"start-up {seconds(r.startup_seconds)} (starting the pool, before the work: on top)")
        if compared(base, r):
            lines.append(f"{speed_text(base, r)} against {executor_label(base.spec)}")
            lines.append(ideal_sentence(base, r))
        s = r.summary or {}
        if s.get("parallelism") is not None:
            lines.append(f"cores busy on average {number(s.get('parallelism'))}, "
                         f"tasks in flight {number(s.get('concurrency'))}")
        if busy_machine(r):
            lines.append(f"⚠ {busy_machine_sentence(r)}")
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
            self._tops = self._label_px = np.zeros(0)
            self.getAxis("bottom").setTicks([[], []])
            self._update_title()
            return
        x = np.arange(n, dtype=float)
        startup = np.array([r.startup_seconds for r in results])
        wall = np.array([r.wall_seconds for r in results])
        kinds = [theme.executor_kind(r.spec) for r in results]
        solid = [QtGui.QBrush(QtGui.QColor(theme.KIND_COLORS[k])) for k in kinds]
        # the work from 0, so the bar's top is its wall time; the start-up on top, in the timeline's colour
        self._work_bars.setOpts(x=x, y0=np.zeros(n), height=wall, width=0.7, brushes=solid)
        self._startup_bars.setOpts(x=x, y0=wall, height=startup, width=0.7, brushes=None,
                                   brush=theme.mix(theme.STARTUP_COLOR, colors["background"], 0.55))
        bases = baselines(results)  # each run's: the first of its experiment
        # the stack's and the notebook's marks: none on a first run's own bar, none where it was not one at a time
        ideal = np.array([np.nan if v is None else v for v in ideals(results)])
        marked = np.isfinite(ideal)
        self._ideal.setData(np.repeat(x[marked], 2) + np.tile([-0.44, 0.44], int(marked.sum())),
                            np.repeat(ideal[marked], 2))
        top = np.fmax(startup + wall, ideal)
        slot = self._slot_pixels(n)
        label_font = QtGui.QFont(self.font())
        label_font.setPointSizeF(9.0)
        texts = []
        for i, r in enumerate(results):
            speed = "baseline" if r is bases[i] else speed_text(bases[i], r)
            wall_text = seconds(r.wall_seconds, 2)
            lines = [(f"<b>{wall_text}</b>", wall_text)]
            lines.append((speed, speed))
            if startup[i] > max(0.01, 0.05 * r.wall_seconds):
                text = f"+ {seconds(startup[i], 2)} start-up"
                lines.append((f'<span style="color:{colors["muted"]}">{text}</span>', text))
            if busy_machine(r):  # other programs took cores: its speedup is lower than this machine can give
                lines.append((f'<span style="color:{BUSY_COLOR}">{BUSY_MARK}</span>', BUSY_MARK))
            texts.append(lines)
        widest = max(QtGui.QFontMetrics(label_font).horizontalAdvance(plain) for lines in texts for _, plain in lines)
        points = max(6.5, min(9.0, 9.0 * (slot - 6) / max(widest, 1)))
        labels = self._fit_labels(texts, points, colors["foreground"])
        for i, label in enumerate(labels):
            label.setPos(x[i], top[i])
            plot.addItem(label)
        self._labels = labels
        self._set_ticks(results, slot)
        vb = self.getViewBox()
        vb.setXRange(-0.6, n - 0.4, padding=0.0)
        self._tops = top
        self._label_px = np.array([label.textItem.boundingRect().height() for label in labels])
        self._fit_y()
        self._update_title()

    def _fit_labels(self, texts: list[list[tuple[str, str]]], points: float, color: str) -> list[pg.TextItem]:
        """A label per bar (its lines, html and plain), at most :data:`LABEL_SHARE` of the plot's height: in a
        smaller font down to 6.5 pt, then in fewer lines (the wall and its speed always, then the busy machine's
        warning; the rest is in the bar's tooltip)."""
        plot_px = self._plot_pixels()
        keep = max(len(lines) for lines in texts)
        while True:
            labels = []
            for lines in texts:
                # the start-up's line goes before the busy machine's warning
                extra = sorted(lines[2:], key=lambda line: line[1] != BUSY_MARK)[:max(0, keep - 2)]
                body = "<br>".join(html for k, (html, plain) in enumerate(lines) if k < 2 or (html, plain) in extra)
                label = pg.TextItem(html=f'<div style="text-align:center; color:{color}; '
                                         f'font-size:{points:.1f}pt">{body}</div>', anchor=(0.5, 1.0))
                label.textItem.setTextWidth(label.textItem.boundingRect().width())  # lets the lines centre
                labels.append(label)
            tallest = max(label.textItem.boundingRect().height() for label in labels)
            room = LABEL_SHARE * plot_px if plot_px is not None else tallest
            if tallest <= room + 0.5 or (points <= 6.5 and keep <= 2):
                return labels
            if points > 6.5:
                points = max(6.5, points * room / tallest - 0.1)
            else:
                keep -= 1

    def _plot_pixels(self) -> float | None:
        """The plot area's height (px), once laid out."""
        height = self.getViewBox().height()
        return float(height) if height > 20 else None

    def _fit_y(self) -> None:
        """A y range with room above each bar for its label, whatever the plot's height: bar top ÷ the share of
        the height its label leaves (before the first layout, an estimate from the lines)."""
        if not self._tops.size:
            return
        plot_px = self._plot_pixels()
        if plot_px is None:
            top = float(self._tops.max()) * (1.22 + 0.1 * max(1, round(float(self._label_px.max()) / 14.0)))
        else:
            free = np.maximum(plot_px - self._label_px - LABEL_GAP_PX, (1.0 - LABEL_SHARE) * plot_px)
            top = float(np.max(self._tops * plot_px / free))
        self._drawn_px = plot_px
        self.getViewBox().setYRange(0.0, top or 1.0, padding=0.0)

    def _on_view_resized(self) -> None:
        """A new plot height: the labels' size and the y range follow (the labels are in pixels, the bars not)."""
        plot_px = self._plot_pixels()
        if self._results and plot_px is not None and (self._drawn_px is None or abs(plot_px - self._drawn_px) > 1):
            self._draw()

    def _slot_pixels(self, n: int) -> float:
        """Screen width of one bar's slot (an estimate before the first layout)."""
        vb = self.getViewBox()
        width = vb.width() if vb.width() > 10 else self.width() - 90.0
        return max(20.0, width / max(n, 1))

    def _set_ticks(self, results: list[RunResult], slot: float) -> None:
        """Executor names under the bars: split at hyphens and set smaller when the bars are narrow."""
        axis = self.getAxis("bottom")
        font = QtGui.QFont(self.font())
        labels = [[executor_label(r.spec), *workers_text(r).split(", ")] for r in results]

        def widest(rows: list[list[str]], f: QtGui.QFont) -> int:
            metrics = QtGui.QFontMetrics(f)
            return max((metrics.horizontalAdvance(line) for row in rows for line in row), default=0)

        if widest(labels, font) > slot - 6:  # "process-pool" -> "process-" / "pool"
            labels = [[part + "-" for part in row[0].split("-")[:-1]] + [row[0].split("-")[-1], row[1]]
                      for row in labels]
        size = font.pointSizeF()
        while size > 6.5 and widest(labels, font) > slot - 4:
            size -= 0.5
            font.setPointSizeF(size)
        axis.setStyle(tickFont=font)
        axis.setTicks([[(float(i), "\n".join(row)) for i, row in enumerate(labels)], []])
        lines = max((len(row) for row in labels), default=1)
        axis.setHeight(QtGui.QFontMetrics(font).height() * lines + 12)

    def _update_title(self) -> None:
        colors = theme.plot_colors(self._dark)
        kinds: list[str] = []
        for r in self._results:
            k = theme.executor_kind(r.spec)
            if k not in kinds:
                kinds.append(k)
        legend = [(theme.swatch(theme.KIND_COLORS[k], theme.KIND_LABELS[k]), "■ " + theme.KIND_LABELS[k])
                  for k in kinds]
        if self._results:
            drawn = self._ideal.xData is not None and len(self._ideal.xData) > 0
            for k, text in enumerate(ideal_legend(self._results, drawn)):
                legend.append((theme.swatch(colors["foreground"], text, "╌"), "╌ " + text) if drawn and k == 0
                              else (text, text))
            if any(r.startup_seconds > 0.01 for r in self._results):
                swatch = theme.mix(theme.STARTUP_COLOR, colors["background"], 0.55)
                legend.append((theme.swatch(swatch, "on top: start-up"), "■ on top: start-up"))
        head = [("<b>Wall time per executor (lower is better)</b>", "Wall time per executor (lower is better)")]
        if self._results:
            several = len(experiments(self._results))
            what = (experiment_text(self._results[0].spec) if several == 1 else
                    f"{several} experiments, each run set against the first of its own")
            head.append((what, what))
        html = theme.fit_title(self.width() - 40.0, head, legend, colors["foreground"])
        self._set_title(html)

    def _on_width_changed(self) -> None:
        self._draw()

    def _apply_theme(self) -> None:
        colors = theme.apply_plot_theme(self, self._dark)
        self._ideal.setPen(pg.mkPen(colors["foreground"], width=2.5, style=QtCore.Qt.PenStyle.DashLine))
        self._draw()

    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        vb = self.getViewBox()
        if not self._results or not vb.sceneBoundingRect().contains(scene_pos):
            QtWidgets.QToolTip.hideText()
            return
        p = vb.mapSceneToView(scene_pos)
        i = int(round(p.x()))
        r = self._results[i] if 0 <= i < len(self._results) else None
        if r is None or abs(p.x() - i) > 0.35 or not 0 <= p.y() <= r.wall_seconds + r.startup_seconds:
            QtWidgets.QToolTip.hideText()
            return
        QtWidgets.QToolTip.showText(QtGui.QCursor.pos(), self.bar_text(i), self)

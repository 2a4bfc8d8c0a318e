"""The scaling study's view: speedup and efficiency versus workers, a table, and the sweep dialog.

The speedup chart draws, per executor, the median speedup of the repeats (markers, joined),
the min..max spread as error bars and the fitted Amdahl curve (dotted); a dashed line is the
ideal (speedup = workers) and a vertical line marks this machine's cores (none when only a Dask
scheduler's cluster, whose cores are not known, was swept). The efficiency chart
draws speedup ÷ workers in per cent against a dashed 100 % line. Both are ThemedPlots, so
they follow the theme and export like every other chart; ``render_sweep_image`` and
``render_sweep_svg`` draw both without a window (``concgui sweep --png/--svg``).
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...engine.environment import cpu_count
from ...engine.executors import list_executors
from ...engine.present import count, efficiency, fraction, number, seconds, speedup
from ...engine.spec import ExperimentSpec, Param, SpecError
from ...engine.superlinear import Superlinear
from ...engine.sweep import (
    DEFAULT_REPEATS,
    EFFICIENCY_RULE,
    SPEEDUP_RULE,
    SWEEP_PARAMS,
    SweepResult,
    SweepStat,
    amdahl_speedup,
    default_max_workers,
    sweepable,
)
from .. import theme
from ..image_export import (
    check_folder,
    install_export_menu,
    render_image,
    render_svg,
    save_image_png,
    write_bytes_atomic,
)
from .chart import LINE_PX, ThemedPlot
from .form import TASK_FIELDS, ExperimentForm

LOGICAL_WIDTH = 900  # the width charts are laid out at for files; images scale that up
CHART_HEIGHT = 430
MIN_PLOT_HEIGHT = 100  # a chart's plot area, at the least: its ticks and points stay apart
AXIS_PX = 55  # the bottom axis with its label, and the margins, under a chart's plot
#: a chart this high keeps MIN_PLOT_HEIGHT under a title of up to five lines (more: hover the title)
CHART_MIN_HEIGHT = MIN_PLOT_HEIGHT + AXIS_PX + 5 * LINE_PX + 10
TABLE_MIN_HEIGHT = 110  # the table's header and three rows
SIDE_MIN_WIDTH = 460  # a chart this wide or wider may stand beside the other
STACKED, SIDE, TABS = "stacked", "side by side", "tabs"  # ScalingView.layout_mode


def series_colors(executors: list[str]) -> dict[str, str]:
    """A colour per executor: its kind's colour (as in Compare), another when two share a kind."""
    out: dict[str, str] = {}
    spare = iter(c for c in ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#8C6D31", "#9E9AC8")
                 if c not in theme.KIND_COLORS.values())
    for e in executors:
        color = theme.KIND_COLORS[theme.executor_kind(e)]
        out[e] = next(spare, "#555555") if color in out.values() else color
    return out


def workload_text(spec: dict) -> str:
    """"cpu × 8 tasks of 0.25 s": what every point ran."""
    text = f"{spec.get('workload', '?')} × {spec.get('tasks', '?')} tasks"
    if spec.get("workload") in ("sleep", "cpu", "hash", "mixed"):
        text += f" of {spec.get('duration', 0):g} s"
    return text


NOISE_MARK = "⚠"


def noise_legend(flags: list[Superlinear]) -> str:
    """The legend's words for the marked points: "above what the cores can give: noise"."""
    limits = {f.limited_by for f in flags}
    what = "the cores" if limits == {"cores"} else "the workers" if limits == {"workers"} else "workers or cores"
    return f"above what {what} can give: noise, not speed"


def _cores_text(sweep: SweepResult) -> str:
    """The cores line's label: this machine's cores, said so when a cluster was swept as well."""
    here = len(sweep.local_executors()) < len(sweep.executors)
    return count(sweep.cores, "core") + (" here" if here else "")


class _ScalingChart(ThemedPlot):
    """What both charts share: one series per executor over the worker counts, the cores line, the title."""

    title = ""
    subtitle = ""
    reference_label = ""

    def __init__(self, parent: QtWidgets.QWidget | None = None, dark: bool | None = None) -> None:
        super().__init__(parent)
        self.export_handler: Callable[[pg.PlotWidget], object] | None = None
        self._dark = dark
        self._sweep: SweepResult | None = None
        self._items: list[QtWidgets.QGraphicsItem] = []
        self.series: dict[str, tuple[list[int], list[float]]] = {}  # executor -> (workers, values) drawn
        plot = self.getPlotItem()
        plot.hideButtons()
        plot.setLabel("bottom", "workers")
        plot.layout.setContentsMargins(4, 4, 16, 4)
        vb = self.getViewBox()
        vb.setMouseEnabled(x=False, y=False)
        self._reference = pg.PlotCurveItem()
        self._cores_line = pg.InfiniteLine(angle=90, movable=False, label="",
                                           labelOpts={"position": 0.04, "anchors": [(-0.05, 1), (-0.05, 1)]})
        self._placeholder = pg.TextItem("Start a scaling study (Run ▸ Scaling study…): the same workload\n"
                                        "with 1, 2, 4, … workers; each point appears here as it finishes.",
                                        anchor=(0.5, 0.5))
        for item in (self._reference, self._cores_line, self._placeholder):
            plot.addItem(item, ignoreBounds=item is not self._reference)
        install_export_menu(self, self.title.split()[0].lower() or "scaling")
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._drawn: list[tuple[float, float, SweepStat]] = []  # (x, y) of each marker drawn, and its row
        self._noise: dict[tuple[str, int], Superlinear] = {}  # the points marked as noise
        self._ready = True
        self._apply_theme()

    def set_sweep(self, sweep: SweepResult | None) -> None:
        """Draw ``sweep`` (call again as points arrive)."""
        self._sweep = sweep
        self._draw()

    def set_dark(self, dark: bool | None) -> None:
        self._dark = dark
        self._apply_theme()

    # --- what a subclass says --------------------------------------------------------
    def _values(self, row: SweepStat) -> tuple[float, float, float] | None:
        """(median, low, high) of a row, or None when it has no value."""
        raise NotImplementedError

    def _reference_line(self, xmax: float) -> tuple[list[float], list[float]]:
        raise NotImplementedError

    def _extra(self, sweep: SweepResult, executor: str, color: str, xmax: float) -> None:
        """Anything more a series draws (the Amdahl curve)."""

    def _legend(self, sweep: SweepResult, executor: str) -> str:
        return sweep.label(executor)

    # --- drawing ---------------------------------------------------------------------
    def _add(self, item: QtWidgets.QGraphicsItem) -> None:
        self.getPlotItem().addItem(item)
        self._items.append(item)

    def _draw(self) -> None:
        plot = self.getPlotItem()
        for item in self._items:
            plot.removeItem(item)
        self._items, self.series, self._drawn, self._noise = [], {}, [], {}
        colors = theme.plot_colors(self._dark)
        sweep = self._sweep
        self._placeholder.setVisible(sweep is None or not sweep.points)
        if sweep is None:
            self._reference.setData([], [])
            self._cores_line.hide()
            self.getViewBox().setRange(xRange=(0, 4), yRange=(0, 4), padding=0.0)
            self._placeholder.setPos(2, 2)
            self._update_title([])
            return
        xmax = float(max(sweep.worker_counts))
        top = 0.0
        legend = []
        self._noise = {(f.executor, f.workers): f for f in sweep.superlinear()}
        colors_by_executor = series_colors(sweep.executors)
        for k, (executor, color) in enumerate(colors_by_executor.items()):
            rows = [(r.workers, v) for r in sweep.stats(executor) if (v := self._values(r)) is not None]
            legend.append((theme.swatch(color, self._legend(sweep, executor), "●"),
                           "● " + self._legend(sweep, executor)))
            if not rows:
                continue
            # side by side, so the spreads of two executors at one worker count do not hide each other
            x = np.array([n for n, _ in rows], dtype=float) + 0.02 * xmax * (k - (len(colors_by_executor) - 1) / 2)
            mid, low, high = (np.array([v[k] for _, v in rows]) for k in range(3))
            self.series[executor] = ([n for n, _ in rows], list(mid))
            stats = {r.workers: r for r in sweep.stats(executor)}
            self._drawn += [(float(xi), float(yi), stats[n]) for xi, yi, (n, _) in zip(x, mid, rows, strict=True)]
            top = max(top, float(high.max()))
            self._add(pg.ErrorBarItem(x=x, y=mid, top=high - mid, bottom=mid - low, beam=0.02 * xmax,
                                      pen=pg.mkPen(color, width=1.5)))
            self._add(pg.PlotDataItem(x, mid, pen=pg.mkPen(color, width=2.5), symbol="o", symbolSize=9,
                                      symbolBrush=color, symbolPen=pg.mkPen(colors["background"], width=1),
                                      antialias=True))
            for xi, hi, (n, _) in zip(x, high, rows, strict=True):
                if (executor, n) in self._noise:  # above what the point could give: marked over its spread
                    mark = pg.TextItem(NOISE_MARK, color=colors["foreground"], anchor=(0.5, 1.0))
                    mark.setPos(float(xi), float(hi))
                    self._add(mark)
                    top = max(top, float(hi) * 1.08)  # room for the mark under the frame
            self._extra(sweep, executor, color, xmax)
        rx, ry = self._reference_line(xmax)
        self._reference.setData(rx, ry)
        top = max(top, max(ry))
        if self._noise:
            words = noise_legend(list(self._noise.values()))
            legend.append((theme.swatch(colors["foreground"], html.escape(words), NOISE_MARK),
                           f"{NOISE_MARK} {words}"))
        cores = _cores_text(sweep)
        self._cores_line.setPos(sweep.cores)
        self._cores_line.label.format = cores
        self._cores_line.label.setText(cores)  # setFormat alone skips a hidden chart
        self._cores_line.setVisible(bool(sweep.local_executors()) and sweep.cores <= xmax)
        self._placeholder.setPos(xmax / 2, top / 2)
        self.getViewBox().setRange(xRange=(0, xmax * 1.04), yRange=(0, top * 1.08), padding=0.0)
        ticks = sweep.worker_counts if len(sweep.worker_counts) <= 12 else None
        self.getAxis("bottom").setTicks(None if ticks is None else [[(float(n), str(n)) for n in ticks], []])
        self._update_title(legend)

    def point_text(self, row: SweepStat) -> str:
        """The tooltip of one marker: what it is and the numbers behind it."""
        name = self._sweep.label(row.executor) if self._sweep is not None else row.executor
        lines = [f"{name} · {count(row.workers, 'worker')}",
                 f"median wall {seconds(row.median_wall)} (min {seconds(row.min_wall)}, max {seconds(row.max_wall)}; "
                 f"{count(row.runs, 'run')})"]
        if row.speedup is not None:
            lines.append(f"speedup {speedup(row.speedup)} (repeats {number(row.speedup_min)}–"
                         f"{number(row.speedup_max)}) = {SPEEDUP_RULE}")
            lines.append(f"efficiency {efficiency(row.efficiency)} = {EFFICIENCY_RULE}")
        flag = self._noise.get((row.executor, row.workers))
        if flag is not None:
            lines.append(f"{NOISE_MARK} {flag.sentence()}")
        return "\n".join(lines)

    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        vb = self.getViewBox()
        near = None
        if self._drawn and vb.sceneBoundingRect().contains(scene_pos):
            for x, y, row in self._drawn:  # within 8 pixels of a marker
                p = vb.mapViewToScene(QtCore.QPointF(x, y))
                if abs(p.x() - scene_pos.x()) <= 8 and abs(p.y() - scene_pos.y()) <= 8:
                    near = row
                    break
        if near is None:
            QtWidgets.QToolTip.hideText()
        else:
            QtWidgets.QToolTip.showText(QtGui.QCursor.pos(), self.point_text(near), self)

    def _update_title(self, series: list[tuple[str, str]]) -> None:
        colors = theme.plot_colors(self._dark)
        sweep = self._sweep
        head = [(f"<b>{self.title}</b>", self.title), (self.subtitle, self.subtitle)]
        legend = list(series)
        if sweep is not None:
            what = workload_text(sweep.spec)
            runs = f"median of {count(sweep.repeats, 'run')}, bars: min–max"
            head += [(what, what), (runs, runs)]
            if len(sweep.points) < sweep.planned:
                done = f"{len(sweep.points)} of {sweep.planned} runs done"
                head.append((f'<span style="color:{colors["muted"]}">{done}</span>', done))
            legend.append((theme.swatch(colors["foreground"], self.reference_label, "╌"), "╌ " + self.reference_label))
            if sweep.local_executors():
                cores = _cores_text(sweep) + ("" if sweep.cores <= max(sweep.worker_counts) else " (off the chart)")
                legend.append((theme.swatch(colors["muted"], cores, "│"), "│ " + cores))
        # no more lines than leave the plot MIN_PLOT_HEIGHT over its axis; where the legend stops, hovering the
        # title gives it
        self._set_legend_title(self.width() - 40.0, head, legend, colors["foreground"],
                               reserved=MIN_PLOT_HEIGHT + AXIS_PX)
        self._fit_axis_label()

    # the y axis's words: the long ones when the axis is long enough for them, else the short ones
    axis_label: tuple[str, str | None] = ("", None)
    axis_label_short: tuple[str, str | None] = ("", None)

    def _fit_axis_label(self) -> None:
        """The long y label where the plot is tall enough for it: a longer one runs into the next chart."""
        plot = self.getPlotItem()
        room = self.height() - plot.titleLabel.maximumHeight() - AXIS_PX
        text, units = self.axis_label
        metrics = QtGui.QFontMetrics(self.getAxis("left").label.font())
        if metrics.horizontalAdvance(f"{text} ({units})" if units else text) + 12 > room:
            text, units = self.axis_label_short
        axis = self.getAxis("left")
        if (axis.labelText, axis.labelUnits or None) != (text, units):
            plot.setLabel("left", text, units=units)

    def _on_width_changed(self) -> None:
        self._draw()

    def _apply_theme(self) -> None:
        colors = theme.apply_plot_theme(self, self._dark)
        self.getPlotItem().showGrid(x=True, y=True, alpha=0.12)
        self._reference.setPen(pg.mkPen(colors["foreground"], width=1.5, style=QtCore.Qt.PenStyle.DashLine))
        self._cores_line.setPen(pg.mkPen(colors["muted"], width=1.5))
        self._cores_line.label.setColor(colors["muted"])
        self._placeholder.setColor(colors["muted"])
        self._draw()


class SpeedupChart(_ScalingChart):
    """Speedup against 1 worker of the same executor, per worker count, with the ideal and Amdahl's fit."""

    title = "Speedup vs workers"
    subtitle = "higher is better"
    reference_label = "ideal: speedup = workers"
    axis_label = ("speedup (× the wall time at 1 worker)", None)
    axis_label_short = ("speedup (×)", None)

    def __init__(self, parent: QtWidgets.QWidget | None = None, dark: bool | None = None) -> None:
        super().__init__(parent, dark)
        self._fit_axis_label()

    def _values(self, row: SweepStat) -> tuple[float, float, float] | None:
        if row.speedup is None:
            return None
        return row.speedup, row.speedup_min, row.speedup_max

    def _reference_line(self, xmax: float) -> tuple[list[float], list[float]]:
        return [1.0, xmax], [1.0, xmax]

    def _extra(self, sweep: SweepResult, executor: str, color: str, xmax: float) -> None:
        s = sweep.serial_fraction(executor)
        if s is None:
            return
        n = np.linspace(1.0, xmax, 200)
        self._add(pg.PlotDataItem(n, [amdahl_speedup(s, v) for v in n],
                                  pen=pg.mkPen(color, width=1.5, style=QtCore.Qt.PenStyle.DotLine)))

    def _legend(self, sweep: SweepResult, executor: str) -> str:
        return f"{sweep.label(executor)}: serial fraction s={fraction(sweep.serial_fraction(executor))}"

    def _update_title(self, series: list[tuple[str, str]]) -> None:
        if self._sweep is not None and series:
            colors = theme.plot_colors(self._dark)
            fit = f"Amdahl fit over {self._sweep.fit_range_text()}"
            series = series + [(theme.swatch(colors["foreground"], html.escape(fit), "┈"), "┈ " + fit)]
        super()._update_title(series)


class EfficiencyChart(_ScalingChart):
    """Efficiency = speedup ÷ workers (:data:`EFFICIENCY_RULE`), in per cent, with the 100 % line."""

    title = "Efficiency vs workers"
    subtitle = "100 % = every worker fully used"
    reference_label = "100 %"
    axis_label = (f"efficiency: {EFFICIENCY_RULE}", "%")
    axis_label_short = ("efficiency", "%")

    def __init__(self, parent: QtWidgets.QWidget | None = None, dark: bool | None = None) -> None:
        super().__init__(parent, dark)
        self.getAxis("left").enableAutoSIPrefix(False)
        self._fit_axis_label()

    def _values(self, row: SweepStat) -> tuple[float, float, float] | None:
        if row.speedup is None:
            return None
        k = 100.0 / row.workers
        return row.speedup * k, row.speedup_min * k, row.speedup_max * k

    def _reference_line(self, xmax: float) -> tuple[list[float], list[float]]:
        return [0.0, xmax * 1.04], [100.0, 100.0]


TABLE_COLUMNS = ("executor", "workers", "runs", "median wall s", "min–max s", "speedup", "efficiency",
                 "serial fraction")
#: the columns whose headers show in two lines, broken at their first space: in one line they would make the
#: column wider than its numbers
TWO_LINE_HEADERS = ("median wall s", "min–max s", "serial fraction")
TABLE_HEADERS = tuple(c.replace(" ", "\n", 1) if c in TWO_LINE_HEADERS else c for c in TABLE_COLUMNS)
TABLE_HELP = ("How the tasks ran.", "Workers at this point of the study.", "Repeats measured at this point.",
              "The median of the repeats' wall times, in seconds.",
              "The fastest and slowest repeat's wall time, in seconds: the run-to-run spread.",
              f"Speedup = {SPEEDUP_RULE}: 1 worker is 1.00×.",
              f"Efficiency = {EFFICIENCY_RULE}: 100 % means each added worker helped fully.",
              "Amdahl's serial fraction s, fitted to the speedups: the share of the work that no number of "
              "workers can speed up (S(n) = 1 / (s + (1 − s) / n)).")


class ScalingView(QtWidgets.QWidget):
    """The Scaling tab: progress line, speedup chart, efficiency chart and a table of the numbers.

    Laid out for the room it has (:attr:`layout_mode`): the charts one above the other over the table
    when both keep :data:`CHART_MIN_HEIGHT`; side by side over the table when only the width allows two;
    else a tab each for the charts and the table, so that one chart at a time keeps a plot to read (the
    dock under a 1024 × 700 window's charts has about 300 px). Never shorter than one chart in its tab:
    a shorter dock scrolls.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = QtWidgets.QLabel("No scaling study yet: Run ▸ Scaling study… runs the form's experiment "
                                       "with 1, 2, 4, … workers.")
        self.status.setWordWrap(True)
        self.noise = QtWidgets.QLabel()  # speedups the cores or workers cannot give: said to be noise
        self.noise.setObjectName("scaling_noise")
        self.noise.setWordWrap(True)
        self.noise.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.noise.setVisible(False)
        self.speedup_chart = SpeedupChart()
        self.efficiency_chart = EfficiencyChart()
        self.table = QtWidgets.QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels(TABLE_HEADERS)
        for i, tip in enumerate(TABLE_HELP):
            self.table.horizontalHeaderItem(i).setToolTip(tip)
        self.table.setMinimumHeight(TABLE_MIN_HEIGHT)  # a few rows stay readable in a narrow dock
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)  # "thread-pool" on one line, never "thread-\npool"
        header = self.table.horizontalHeader()
        # every column as wide as its words ("process-pool" whole, not "th… pool"); the headers in two lines
        # where one would widen a column of short numbers: they fit the 560 px dock beside the charts
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        header.setDefaultAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        # the layouts the charts move between (see _relayout)
        self._charts = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)  # the two charts
        self._body = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)  # the charts over the table
        self._body.addWidget(self._charts)
        self._body.setStretchFactor(0, 1)
        self._pages = QtWidgets.QTabWidget()  # the compact layout: a tab per chart and one for the table
        self._pages.setDocumentMode(True)
        self._stack = QtWidgets.QStackedWidget()
        self._stack.addWidget(self._body)
        self._stack.addWidget(self._pages)
        self.layout_mode = ""
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.status)
        layout.addWidget(self.noise)
        layout.addWidget(self._stack, 1)
        self.sweep: SweepResult | None = None
        self._relayout(TABS)
        bar = self._pages.tabBar().sizeHint().height()  # with its tabs
        self._stack.setMinimumHeight(CHART_MIN_HEIGHT + bar)  # a shorter dock scrolls, never squeezes a chart
        self._stack.installEventFilter(self)

    # --- layout for the room there is ------------------------------------------------------
    @staticmethod
    def mode_for(width: int, height: int) -> str:
        """The layout for charts and table in ``width`` × ``height`` px."""
        handle = 6
        if height >= 2 * CHART_MIN_HEIGHT + TABLE_MIN_HEIGHT + 2 * handle:
            return STACKED
        if width >= 2 * SIDE_MIN_WIDTH + handle and height >= CHART_MIN_HEIGHT + TABLE_MIN_HEIGHT + handle:
            return SIDE
        return TABS

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 (Qt's name)
        if obj is self._stack and event.type() == QtCore.QEvent.Type.Resize:
            size = event.size()
            mode = self.mode_for(size.width(), size.height())
            if mode != self.layout_mode:  # after this resize is done: the charts change parents
                QtCore.QTimer.singleShot(0, self, lambda: self._relayout(self.mode_for(self._stack.width(),
                                                                                      self._stack.height())))
        return False

    def _relayout(self, mode: str) -> None:
        """Put the charts and the table where ``mode`` wants them, sized so each chart keeps its plot."""
        if mode == self.layout_mode:
            return
        self.layout_mode = mode
        charts = (self.speedup_chart, self.efficiency_chart)
        if mode == TABS:
            self._pages.clear()
            for widget, name in ((self.speedup_chart, "Speedup"), (self.efficiency_chart, "Efficiency"),
                                 (self.table, "Table")):
                self._pages.addTab(widget, name)
                widget.show()
            self._stack.setCurrentWidget(self._pages)
            return
        self._pages.clear()
        self._charts.setOrientation(QtCore.Qt.Orientation.Vertical if mode == STACKED
                                    else QtCore.Qt.Orientation.Horizontal)
        for i, chart in enumerate(charts):
            self._charts.insertWidget(i, chart)
            self._charts.setStretchFactor(i, 1)
            chart.show()
        self._body.insertWidget(1, self.table)
        self._body.setStretchFactor(1, 0)
        self.table.show()
        self._stack.setCurrentWidget(self._body)
        height = max(self._stack.height(), 1)
        table = max(TABLE_MIN_HEIGHT, min(self._table_height(), height // 4))
        self._body.setSizes([height - table, table])
        self._charts.setSizes([1, 1] if mode == SIDE else [(height - table) // 2] * 2)

    def _table_height(self) -> int:
        """The height that shows every row of the table."""
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        return self.table.horizontalHeader().height() + rows + 2 * self.table.frameWidth() + 2

    def show_chart(self, widget: QtWidgets.QWidget) -> None:
        """Bring ``widget`` (a chart or the table) into view: its tab in the compact layout."""
        if self.layout_mode == TABS and self._pages.indexOf(widget) >= 0:
            self._pages.setCurrentWidget(widget)

    def set_sweep(self, sweep: SweepResult | None, running: bool = False) -> None:
        self.sweep = sweep
        self.speedup_chart.set_sweep(sweep)
        self.efficiency_chart.set_sweep(sweep)
        self._fill_table(sweep)
        flags = [] if sweep is None else sweep.superlinear()
        self.noise.setText("\n".join(f"{NOISE_MARK} {f.sentence()}." for f in flags))
        self.noise.setVisible(bool(flags))
        if sweep is None:
            return
        failed = len(sweep.failed())
        state = "running" if running else ("done" if len(sweep.points) == sweep.planned else "stopped")
        self.status.setText(
            f"Scaling study {state}: {len(sweep.points)} of {sweep.planned} runs "
            f"({', '.join(map(sweep.label, sweep.executors))}; workers {', '.join(map(str, sweep.worker_counts))}; "
            f"{count(sweep.repeats, 'repeat')})"
            + (f" · {failed} not ok" if failed else "")
            + f". Speedup = {SPEEDUP_RULE}.")

    def _fill_table(self, sweep: SweepResult | None) -> None:
        rows = [] if sweep is None else sweep.all_stats()
        self.table.setRowCount(len(rows))
        fits = {} if sweep is None else {e: sweep.serial_fraction(e) for e in sweep.executors}
        noise = {} if sweep is None else {(f.executor, f.workers): f for f in sweep.superlinear()}
        judged = (TABLE_COLUMNS.index("speedup"), TABLE_COLUMNS.index("efficiency"))
        for i, r in enumerate(rows):
            flag = noise.get((r.executor, r.workers))
            mark = f" {NOISE_MARK}" if flag else ""
            cells = [sweep.label(r.executor), str(r.workers), str(r.runs), number(r.median_wall, 3),
                     f"{number(r.min_wall, 3)}–{number(r.max_wall, 3)}", speedup(r.speedup) + mark,
                     efficiency(r.efficiency) + mark, fraction(fits.get(r.executor))]
            for col, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
                if flag and col in judged:
                    item.setToolTip(f"{NOISE_MARK} {flag.sentence()}.")
                self.table.setItem(i, col, item)


class SweepDialog(QtWidgets.QDialog):
    """Shows the experiment the study will sweep, and lets it be changed; asks which executors, how many
    workers at most and how many repeats.

    What each task does is the window form's own fields (an :class:`ExperimentForm` showing only those),
    filled from ``base`` and checked the same way; :meth:`spec` is the experiment as edited here, with
    the rest of ``base`` (isolation, start method, …) as it was.
    """

    def __init__(self, base: ExperimentSpec, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Scaling study")
        form = QtWidgets.QFormLayout(self)
        self.intro = QtWidgets.QLabel()
        self.intro.setWordWrap(True)
        form.addRow(self.intro)
        self.experiment = ExperimentForm(self, only=TASK_FIELDS)
        self.experiment.layout().setContentsMargins(0, 0, 0, 0)
        self.experiment.set_spec(base)
        form.addRow(self.experiment)
        self.max_workers = self._spin(form, SWEEP_PARAMS["max_workers"], default_max_workers())
        self.repeats = self._spin(form, SWEEP_PARAMS["repeats"], DEFAULT_REPEATS)
        self.checks: dict[str, QtWidgets.QCheckBox] = {}
        box = QtWidgets.QGroupBox("Executors")
        grid = QtWidgets.QGridLayout(box)
        for row in list_executors():
            name = row["name"]
            if not sweepable(name):
                continue
            check = QtWidgets.QCheckBox(name)
            check.setEnabled(row["available"])
            check.setToolTip(row["description"] if row["available"] else f"Unavailable: {row['reason']}")
            check.setChecked(row["available"] and name in (base.executor, "process-pool"))
            check.toggled.connect(self._update)
            grid.addWidget(check, len(self.checks) // 2, len(self.checks) % 2)
            self.checks[name] = check
        form.addRow(box)
        note = QtWidgets.QLabel("Sequential, threads and processes are not offered: their number of workers "
                                "is fixed (one, or one per task).")
        note.setWordWrap(True)
        form.addRow(note)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.run_button = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.run_button.setText("Run")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.experiment.changed.connect(self._update)
        self._update()

    def _update(self) -> None:
        """Say what will be swept, and allow Run only for an experiment the engine takes, on some executor."""
        try:
            what = f"Runs {workload_text(self.experiment.spec().to_dict())}"
        except SpecError:
            what = "Runs the experiment below"
        self.intro.setText(f"{what} with 1, 2, 4, … workers up to the maximum, on each executor checked, each "
                           f"point repeated. This machine has {cpu_count()} cores. The other settings "
                           "(where it runs, start method, …) are the form's.")
        chosen = any(c.isChecked() and c.isEnabled() for c in self.checks.values())
        self.run_button.setEnabled(self.experiment.is_valid() and chosen)
        self.run_button.setToolTip("" if chosen else "Check at least one executor")

    def spec(self) -> ExperimentSpec:
        """The experiment to sweep, as shown (SpecError while a field is wrong)."""
        return self.experiment.spec()

    def done(self, result: int) -> None:
        self.experiment.shutdown()  # a function check still running is of no use now
        super().done(result)

    @staticmethod
    def _spin(form: QtWidgets.QFormLayout, p: Param, value: int) -> QtWidgets.QSpinBox:
        """A spin box for one of the sweep's declared fields: its label, range and help from ``p``."""
        spin = QtWidgets.QSpinBox()
        spin.setRange(int(p.minimum), int(p.maximum))
        spin.setValue(value)
        spin.setToolTip(p.help)
        form.addRow(p.label, spin)
        return spin

    def choice(self) -> tuple[list[str], int, int]:
        """(executors, max workers, repeats) as chosen."""
        names = [n for n, c in self.checks.items() if c.isChecked() and c.isEnabled()]
        return names, self.max_workers.value(), self.repeats.value()


# --- files without a window ----------------------------------------------------------------
def _charts(sweep: SweepResult) -> tuple[SpeedupChart, EfficiencyChart]:
    """Both charts, light, laid out offscreen at :data:`LOGICAL_WIDTH` (close them when done)."""
    from ..report import ensure_app

    ensure_app()
    charts = (SpeedupChart(dark=False), EfficiencyChart(dark=False))
    for c in charts:
        c.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        c.resize(LOGICAL_WIDTH, CHART_HEIGHT)
        c.set_sweep(sweep)
        c.show()
    QtWidgets.QApplication.processEvents()
    for c in charts:
        c.set_sweep(sweep)  # again at the laid-out width: the title fits it
    QtWidgets.QApplication.processEvents()
    return charts


def _close(charts: tuple[ThemedPlot, ...]) -> None:
    for c in charts:
        c.close()
        c.deleteLater()
    QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)


def render_sweep_image(sweep: SweepResult, width: int = 1600) -> QtGui.QImage:
    """The speedup chart above the efficiency chart, on white, exactly ``width`` pixels wide."""
    charts = _charts(sweep)
    try:
        return render_image(list(charts), width)
    finally:
        _close(charts)


def render_sweep_svg(sweep: SweepResult) -> bytes:
    """Both charts, one above the other, as one SVG painted by Qt's SVG generator."""
    charts = _charts(sweep)
    try:
        return render_svg(list(charts), "ConcGUI scaling study")
    finally:
        _close(charts)


def save_sweep_png(sweep: SweepResult, path: str | os.PathLike, width: int = 1600) -> None:
    """Write both charts as one PNG ``width`` pixels wide, atomically; no window needed."""
    check_folder(path)
    save_image_png(render_sweep_image(sweep, width), path)


def save_sweep_svg(sweep: SweepResult, path: str | os.PathLike) -> None:
    """Write both charts as one SVG, atomically; no window needed."""
    check_folder(path)
    write_bytes_atomic(path, render_sweep_svg(sweep))

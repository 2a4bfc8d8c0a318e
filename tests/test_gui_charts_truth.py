"""What a chart's legend says is what its picture draws (newcomer review, brief E).

The CPU chart's legend named the X-ray's colours, which only the timeline draws, and its processes line
was the X-ray's "blocked" vermillion; the "hover the title" tooltip drew every swatch black; the wall-time
chart cut its tallest bar's labels; the ideal's legend said a rule the code did not use; a one-row
timeline in the Compare stack cut its marks' labels in half.
"""

from __future__ import annotations

import os
import re

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6 import QtGui  # noqa: E402

from concgui.engine.records import CpuSample, RunResult, TaskRecord, ThreadStates  # noqa: E402
from concgui.gui import theme  # noqa: E402
from concgui.gui.views.cores import CoreUsagePlot  # noqa: E402

SWATCH = re.compile(r'<span style="color:(#[0-9a-fA-F]{6})">([^<]{1,2})</span>')


def _threads_run() -> RunResult:
    """Four CPU-bound threads on two cores, as a run records them: CPU samples with the run's own processes'
    share, X-ray thread states (the timeline draws them), a pool start-up."""
    tasks = [TaskRecord(i, f"thread {i + 1}", 10, 100 + i, 0.0, 0.1, 3.0, 0.7, "ok") for i in range(4)]
    samples = [CpuSample(0.1 * k, [90.0, 95.0], 100.0) for k in range(1, 31)]
    states = [ThreadStates(0.1 * (k + 1), 0.1, {f"thread {i + 1}": (0.25, 0.1, 0.65) for i in range(4)})
              for k in range(29)]
    return RunResult(spec={"workload": "cpu", "executor": "threads", "tasks": 4},
                     environment={"cpu_count": 2, "thread_states": "schedstat", "gil_enabled": True},
                     startup_seconds=0.1, wall_seconds=2.9, workers=4, tasks=tasks, cpu_samples=samples,
                     thread_states=states)


def _drawn_colours(plot: CoreUsagePlot) -> set[str]:
    """Every colour the CPU chart paints: its core lines, the mean, the processes line, the start-up shade."""
    pens = [c.opts["pen"] for c in [*plot._core_curves, plot._mean_curve, plot._tree_curve] if c.isVisible()]
    colours = {QtGui.QColor(p.color().rgb()).name() for p in pens}
    if plot._startup.isVisible():
        colours.add(QtGui.QColor(plot._startup.brush.color().rgb()).name())
    return colours


@pytest.fixture
def cores(qtbot):
    plot = CoreUsagePlot(dark=False, sample=False)
    qtbot.addWidget(plot)
    yield plot
    plot.stop()


# --- 1. the CPU chart's legend lists what it draws; its processes line has a colour of its own -------------------
def test_the_cpu_legend_names_only_what_the_cpu_chart_draws(cores):
    cores.resize(1400, 400)  # room for the whole legend
    cores.show()
    cores.set_result(_threads_run())
    title = cores.getPlotItem().titleLabel.text
    swatches = SWATCH.findall(title)
    assert len(swatches) == 4  # core lines, mean, the run's processes, start-up: each drawn
    assert {c.lower() for c, _ in swatches} <= _drawn_colours(cores)
    plain = cores.getPlotItem().titleLabel.item.toPlainText()
    assert "waiting for a core" not in plain and "blocked" not in plain  # the X-ray's strips are the timeline's


def test_the_processes_line_has_a_colour_no_other_meaning_uses(cores):
    cores.set_result(_threads_run())
    line = cores._tree_curve.opts["pen"].color().name().upper()
    meanings = {*theme.STATE_COLORS.values(), *theme.THREAD_STATE_COLORS.values(), *theme.KIND_COLORS.values(),
                *theme.TRANSFER_COLORS.values(), theme.STARTUP_COLOR, theme.CPU_FILL_COLOR,
                *(theme.core_color(i) for i in range(64))}
    assert line not in {c.upper() for c in meanings}
    for background in (theme.plot_colors(False)["background"], theme.plot_colors(True)["background"]):
        assert _contrast(line, background) >= 3.0  # a line that reads on a light and on a dark plot


def _contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours."""
    def luminance(c: str) -> float:
        q = QtGui.QColor(c)
        ch = [x / 255 for x in (q.red(), q.green(), q.blue())]
        lin = [x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in ch]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# --- 2. "the whole legend: hover the title" shows the swatches in their colours ---------------------------------
def test_the_whole_legend_tooltip_draws_each_swatch_in_its_colour(cores):
    cores.resize(400, 150)  # a short, narrow chart: the legend stops at "… hover the title"
    cores.show()
    cores.set_result(_threads_run())
    label = cores.getPlotItem().titleLabel
    assert theme.LEGEND_MORE in label.text
    tip = label.toolTip()
    assert QtGui.Qt.mightBeRichText(tip)  # Qt shows it as rich text, not as its tags
    doc = QtGui.QTextDocument()
    doc.setHtml(tip)
    assert doc.toPlainText().splitlines() == ["━ one thin line per core (2)", "▬ mean of all cores",
                                              "╍ this run's processes", "■ start-up"]
    swatches = SWATCH.findall(tip)
    assert len(swatches) == 4  # every entry's swatch in the colour the chart draws it in, not the tooltip's black
    assert {c.lower() for c, _ in swatches} <= _drawn_colours(cores)


# --- 3. the wall-time chart leaves room above its tallest bar for the bar's labels ------------------------------
def _seed_on_a_busy_machine() -> list[RunResult]:
    """The seed notebook as the review measured it: 3 × sleep 2 s one after another (6.00 s), in threads and in a
    pool of 6 (2.00 s), other programs using 1.2 cores: every label four or three lines."""
    def run(executor: str, workers: int, starts: list[float], startup: float) -> RunResult:
        tasks = [TaskRecord(i, f"w{i}", 10, 1, 0.0, startup + s, startup + s + 2.0, 0.0, "ok")
                 for i, s in enumerate(starts)]
        return RunResult(spec={"workload": "sleep", "executor": executor, "tasks": 3, "duration": 2.0},
                         environment={"other_programs_cores": 1.2}, startup_seconds=startup,
                         wall_seconds=max(starts) + 2.0, workers=workers, tasks=tasks)

    return [run("sequential", 1, [0.0, 2.0, 4.0], 0.005), run("threads", 3, [0.0, 0.0, 0.0], 0.002),
            run("thread-pool", 6, [0.0, 0.0, 0.0], 0.003)]


@pytest.mark.parametrize("size", [(840, 170), (840, 230), (1000, 400), (480, 200)])
def test_every_bar_label_lies_whole_inside_the_plot(qtbot, size):
    """The review's 1280 × 775 window gives the chart about 840 × 170 px: "6.00 s" was cut at the top."""
    from concgui.gui.views.compare_chart import CompareChart

    chart = CompareChart(dark=False)
    qtbot.addWidget(chart)
    chart.resize(*size)
    chart.show()
    chart.set_results(_seed_on_a_busy_machine())
    qtbot.wait(30)  # laid out: the y range is fitted to the plot's real height
    view = chart.getViewBox().sceneBoundingRect()
    texts = chart.label_texts()
    assert texts[0].startswith("6.00 s\nbaseline") and texts[1].startswith("2.00 s\n3.0×")
    for item in chart._labels:
        box = item.mapRectToScene(item.boundingRect())
        assert view.top() - 0.5 <= box.top() and box.bottom() <= view.bottom() + 0.5, (item.textItem.toPlainText(),
                                                                                       box, view)
    vb = chart.getViewBox()
    bar_px = 6.0 / vb.viewRange()[1][1] * vb.height()
    assert bar_px >= 0.3 * vb.height()  # the bars keep a good part of the height

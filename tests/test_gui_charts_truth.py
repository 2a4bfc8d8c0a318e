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

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6 import QtGui  # noqa: E402

from concgui.engine.present import seconds  # noqa: E402
from concgui.engine.records import CpuSample, RunResult, TaskRecord, ThreadStates  # noqa: E402
from concgui.gui import theme  # noqa: E402
from concgui.gui.views.cores import CoreUsagePlot  # noqa: E402

# the offscreen platform's note when a top-level window's size limits change (the stack fits its timelines)
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
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


# --- 4. the ideal: the legend states the rule the code uses, and no ideal against a first run on several workers ---
def _recorded(executor: str, workload: str, wall: float, workers: int, tasks: int, cores: int = 2) -> RunResult:
    """A run as the review's history recorded it: its wall time, workers and tasks (each task the whole wall)."""
    records = [TaskRecord(i, f"w{i % workers}", 10, 1, 0.0, 0.0, wall, 0.0, "ok") for i in range(tasks)]
    return RunResult(spec={"workload": workload, "executor": executor, "tasks": tasks}, environment={
        "cpu_count": cores}, wall_seconds=wall, workers=workers, tasks=records)


@pytest.mark.parametrize(("baseline", "run", "ideal"), [
    (("sequential", "cpu", 2.1261, 1, 4), ("threads", "cpu", 2.9562, 4, 4), 2.1261 / 4),  # 4 workers, on 2 cores
    (("sequential", "sleep", 6.0005, 1, 3), ("thread-pool", "sleep", 2.0005, 6, 3), 6.0005 / 3),  # a pool of 6
    (("asyncio", "sleep", 0.5007, 20, 20), ("threads", "sleep", 0.5359, 20, 20), None),  # 20 coroutines at once
    (("thread-pool", "counter", 0.1567, 4, 4), ("process-pool", "counter", 0.0592, 2, 4), None),  # 4 threads
    (("thread-pool", "cpu", 1.5379, 1, 4), ("process-pool", "cpu", 1.2996, 2, 4), 1.5379 / 2),  # a pool of 1
])
def test_the_ideal_is_the_first_runs_wall_over_min_workers_tasks_when_it_ran_one_at_a_time(baseline, run, ideal):
    from concgui.engine.ideal import ideal_seconds as ideal_wall
    from concgui.engine.ideal import ideal_sentence

    base, result = _recorded(*baseline), _recorded(*run)
    assert ideal_wall(base, result) == (None if ideal is None else pytest.approx(ideal))
    words = ideal_sentence(base, result)
    if ideal is None:  # the counter's 4 threads: 157 ms; "× 4 ÷ 2" made 313 ms an ideal 2 processes beat 5×
        assert words.startswith("no ideal: the first run") and "side by side" in words
    else:
        assert words.startswith(f"ideal {seconds(ideal)}: the first run's {seconds(baseline[2])} ÷ ")
        assert "cores and the GIL not counted" in words
        assert ("on these 2 cores" in words) == (min(run[3], run[4]) > 2)  # 4 threads on 2 cores: 1.06 s at best


def _compare(executors: list[str], tasks: int) -> list[RunResult]:
    """Real runs, in this process: ``tasks`` sleeps of 30 ms on each executor, the first the baseline."""
    from concgui.engine import ExperimentSpec, run_inline
    from concgui.engine.summary import summarize

    out: list[RunResult] = []
    for ex in executors:
        workers = 6 if ex == "thread-pool" else None
        r = run_inline(ExperimentSpec(workload="sleep", executor=ex, tasks=tasks, duration=0.03, workers=workers,
                                      isolation="inline"))
        r.summary = summarize(r, out[0] if out else None)
        out.append(r)
    return out


def test_the_legends_state_the_rule_the_marks_follow(qtbot):
    """A Compare as the app records it: sequential, threads and a pool of 6 for 3 tasks."""
    from concgui.engine.ideal import IDEAL_RULE
    from concgui.gui.views.compare_chart import CompareChart
    from concgui.gui.views.compare_stack import CompareStack

    results = _compare(["sequential", "threads", "thread-pool"], 3)
    assert results[2].workers == 6
    base = results[0].wall_seconds
    stack = CompareStack(dark=False)
    qtbot.addWidget(stack)
    stack.resize(1000, 700)
    stack.set_results(results)
    assert [v.marks()["ideal"] for v in stack.timelines] == [None, pytest.approx(base / 3), pytest.approx(base / 3)]
    assert IDEAL_RULE == "ideal: first run's wall ÷ min(workers, tasks)"
    assert IDEAL_RULE in " ".join(stack.header.text().split())
    assert "min of 6 workers and 3 tasks" in stack.timelines[2]._ideal_text.toolTip()
    chart = CompareChart(dark=False)
    qtbot.addWidget(chart)
    chart.resize(900, 300)
    chart.set_results(results)
    ideal_x, ideal_y = chart._ideal.getData()
    # a dash on the two later bars only: on the baseline's own it would sit at its wall time and mean nothing
    assert np.allclose(ideal_x, [0.56, 1.44, 1.56, 2.44]) and np.allclose(ideal_y[::2], [base / 3, base / 3])
    assert IDEAL_RULE in chart.plotItem.titleLabel.item.toPlainText()
    assert "÷ 3 (min of 6 workers and 3 tasks)" in chart.bar_text(2)
    assert "ideal" not in chart.bar_text(0)


def test_a_one_run_compare_draws_no_ideal_and_its_legends_state_no_rule(qtbot):
    """One sequential run, one task at a time: nothing to set it against, so no dash on its bar (the bars drew
    one at its own wall time, and the legend stated the rule) and no rule in either legend."""
    from concgui.gui.views.compare_chart import CompareChart
    from concgui.gui.views.compare_stack import CompareStack

    results = _compare(["sequential"], 3)
    chart = CompareChart(dark=False)
    qtbot.addWidget(chart)
    chart.resize(900, 300)
    chart.set_results(results)
    assert chart.bar_count() == 1
    assert chart._ideal.getData()[1] is None or len(chart._ideal.getData()[1]) == 0
    title = chart.plotItem.titleLabel.item.toPlainText()
    assert "wall time per executor" in title.lower() and "ideal" not in title
    stack = CompareStack(dark=False)
    qtbot.addWidget(stack)
    stack.resize(1000, 400)
    stack.set_results(results)
    assert stack.timelines[0].marks()["ideal"] is None
    assert "ideal" not in " ".join(stack.header.text().split())


def test_against_a_first_run_on_several_workers_no_ideal_is_drawn_and_the_legend_says_why(qtbot):
    """The asyncio lesson's Compare: asyncio first, 20 sleeps at once, then threads and a pool."""
    from concgui.engine.ideal import IDEAL_RULE, NO_IDEAL
    from concgui.gui.views.compare_chart import CompareChart
    from concgui.gui.views.compare_stack import CompareStack

    results = _compare(["asyncio", "threads", "thread-pool"], 8)
    stack = CompareStack(dark=False)
    qtbot.addWidget(stack)
    stack.resize(1000, 700)
    stack.set_results(results)
    assert [v.marks()["ideal"] for v in stack.timelines] == [None, None, None]
    assert all("ideal" not in v.mark_texts()[0] for v in stack.timelines)
    header = " ".join(stack.header.text().split())
    assert NO_IDEAL in header and IDEAL_RULE not in header
    chart = CompareChart(dark=False)
    qtbot.addWidget(chart)
    chart.resize(900, 300)
    chart.set_results(results)
    assert chart._ideal.getData()[1] is None or len(chart._ideal.getData()[1]) == 0
    title = chart.plotItem.titleLabel.item.toPlainText()
    assert NO_IDEAL in title and IDEAL_RULE not in title
    assert "no ideal: the first run (asyncio, 8 workers) ran its tasks side by side" in chart.bar_text(1)


# --- 5. the Compare stack: a one-row run's mark labels whole; many tasks in one row said so -----------------------
def _spans_run(executor: str, spans: list[tuple[str, float, float]], workers: int) -> RunResult:
    """A finished sleep run whose task ``i`` ran on ``spans[i]`` = (worker, start, end), started once submitted."""
    tasks = [TaskRecord(i, w, 10, 1, s, s, e, 0.0, "ok") for i, (w, s, e) in enumerate(spans)]  # no queue
    return RunResult(spec={"workload": "sleep", "executor": executor, "tasks": len(spans), "duration": 0.5},
                     environment={}, wall_seconds=max(e for _, _, e in spans), workers=workers, tasks=tasks)


def _label_inside(view, label) -> bool:
    box = label.mapRectToScene(label.boundingRect())
    plot = view.getViewBox().sceneBoundingRect()
    return plot.top() - 0.5 <= box.top() and box.bottom() <= plot.bottom() + 0.5


@pytest.mark.parametrize("size", [(840, 400), (840, 560), (1600, 900)])
def test_a_one_row_runs_mark_labels_lie_whole_inside_its_plot(qtbot, size):
    """The review's noop Compare: 2,000 tasks one after another on the main thread (one row), then pools: the
    first timeline's "wall 3.9 ms · baseline" was cut in half at 1280 × 775."""
    from concgui.gui.views.compare_stack import CompareStack

    n, d = 40, 1e-4  # more than a row per task allows: a row per worker; so short that no queue row is drawn
    sequential = _spans_run("sequential", [("main thread", d * i, d * i + d) for i in range(n)], 1)
    pool = _spans_run("thread-pool", [(f"thread {i % 4 + 1}", d * (i // 4), d * (i // 4) + d) for i in range(n)], 4)
    stack = CompareStack(dark=False)
    qtbot.addWidget(stack)
    stack.resize(*size)
    stack.show()
    stack.set_results([sequential, pool, pool])
    qtbot.wait(30)
    first = stack.timelines[0]
    assert first.rows() == 1 and first.mark_texts()[0] == "wall 4.0 ms · baseline"
    for view in stack.timelines:
        assert view._wall_text.isVisible() and _label_inside(view, view._wall_text), view.title_text()

    def row_px(view) -> float:  # pixels per row: a task's bar is as thick in every timeline
        (_, _), (y0, y1) = view.getViewBox().viewRange()
        return view.getViewBox().height() / abs(y1 - y0)

    assert abs(row_px(first) - row_px(stack.timelines[1])) < 2.0  # as test_gui_compare_stack allows


def test_twenty_tasks_at_once_get_a_row_each_or_the_title_says_they_share_one(qtbot):
    """The asyncio lesson: 20 coroutines sleeping at once on one event loop were one bar in one row."""
    from concgui.gui.views.compare_stack import CompareStack

    aio = _spans_run("asyncio", [("event loop", 5e-4 * i, 0.5 + 5e-4 * i) for i in range(20)], 20)
    threads = _spans_run("threads", [(f"thread {i + 1}", 5e-4 * i, 0.5 + 5e-4 * i) for i in range(20)], 20)
    stack = CompareStack(dark=False)
    qtbot.addWidget(stack)
    stack.resize(840, 400)
    stack.show()
    stack.set_results([aio, threads])
    assert stack.per_task() and stack.timelines[0].rows() == 20  # a row per task: twenty bars, side by side
    stack.set_results([aio, threads], per_task=False)  # a row per worker: the event loop's one row
    assert stack.timelines[0].rows() == 1
    assert "20 tasks ran at once in its event loop row" in stack.timelines[0].title_text()
    assert "at once" not in stack.timelines[1].title_text()  # a thread ran one task at a time


def test_a_stopped_run_is_no_faster_in_the_bars_the_header_or_its_timeline(qtbot):
    """Esc during the seed's threads: 0 of 3 sleeps done in 1.6 s was drawn "3.8×" against the loop's 6 s."""
    import dataclasses

    from concgui.gui.views.compare_chart import CompareChart
    from concgui.gui.views.stack_header import header_table

    def run(executor: str, wall: float, status: str = "ok") -> RunResult:
        return RunResult(spec={"workload": "sleep", "executor": executor, "tasks": 3, "duration": 2.0},
                         environment={"cpu_count": 2}, startup_seconds=0.0, wall_seconds=wall, workers=3,
                         tasks=[TaskRecord(0, "thread 1", 10, 100, 0.0, 0.0, wall, 0.0, status)], status=status)

    loop, stopped = run("sequential", 6.0), run("threads", 1.566, "cancelled")
    chart = CompareChart(dark=False)
    qtbot.addWidget(chart)
    chart.set_results([loop, stopped])
    label = chart.label_texts()[1]
    assert "3.8" not in label and "—" in label, label
    assert "3.8" not in header_table([loop, stopped]), "the stack's header line too"
    finished = dataclasses.replace(stopped, status="ok", tasks=[dataclasses.replace(stopped.tasks[0], status="ok")])
    chart.set_results([loop, finished])
    assert "3.8×" in chart.label_texts()[1], "a finished run keeps its speedup"

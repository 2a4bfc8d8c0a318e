"""Compare as small multiples: a timeline per executor on one time axis, its marks, header and export;
and the wall-time chart's numbers agreeing with its bars."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6 import QtGui  # noqa: E402

from concgui.engine.ideal import ideal_seconds as ideal_wall  # noqa: E402
from concgui.engine.present import seconds  # noqa: E402
from concgui.engine.records import RunResult, TaskRecord  # noqa: E402
from concgui.engine.spec import ExperimentSpec  # noqa: E402
from concgui.engine.summary import summarize  # noqa: E402
from concgui.engine.task_rows import MAX_TASK_ROWS  # noqa: E402
from concgui.gui import image_export  # noqa: E402
from concgui.gui.views.compare import CompareView  # noqa: E402
from concgui.gui.views.compare_chart import CompareChart, workers_text  # noqa: E402
from concgui.gui.views.compare_stack import CompareStack  # noqa: E402
from concgui.gui.views.stack_timeline import run_end  # noqa: E402

# the offscreen platform's note when a top-level window's size limits change (the stack fits its timelines)
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def make_run(executor: str, spans: list[tuple[str, float, float]], workers: int, startup: float = 0.0,
             workload: str = "sleep", cpu_share: float = 0.0) -> RunResult:
    """A finished run whose task ``i`` ran on ``spans[i]`` = (worker, start, end), times after start-up."""
    tasks = [TaskRecord(i, w, 100, i + 1, startup, startup + s, startup + e, (e - s) * cpu_share, "ok")
             for i, (w, s, e) in enumerate(spans)]
    spec = ExperimentSpec(workload=workload, executor=executor, tasks=len(spans), duration=2.0).to_dict()
    return RunResult(spec=spec, environment={}, startup_seconds=startup, wall_seconds=max(e for _, _, e in spans),
                     workers=workers, tasks=tasks, started_at=1_700_000_000.0)


def with_summaries(results: list[RunResult]) -> list[RunResult]:
    for r in results:
        r.summary = summarize(r, None if r is results[0] else results[0])
    return results


def seed_results() -> list[RunResult]:
    """The seed notebook as it measured: 3 × sleep 2 s one after another, in threads, in a pool of 6."""
    return with_summaries([
        make_run("sequential", [("main thread", 2.0 * i, 2.0 * i + 2.0) for i in range(3)], 1),
        make_run("threads", [(f"thread {i + 1}", 0.001 * i, 2.0 + 0.001 * i) for i in range(3)], 3),
        make_run("thread-pool", [(f"thread {i + 1}", 0.001 * i, 2.0 + 0.001 * i) for i in range(3)], 6,
                 startup=0.004),
    ])


def flood_results(n_runs: int = 8, n_tasks: int = 1000, workers: int = 4) -> list[RunResult]:
    rng = np.random.default_rng(3)
    out = []
    for k in range(n_runs):
        lanes = workers if k else 1  # the first is the sequential baseline
        d = rng.exponential(1e-3, n_tasks) + 2e-5
        clock = np.zeros(lanes)
        spans = []
        for i in range(n_tasks):
            w = i % lanes
            spans.append((f"thread {w + 1}", float(clock[w]), float(clock[w] + d[i])))
            clock[w] += d[i] + 1e-5
        out.append(make_run("thread-pool" if k else "sequential", spans, lanes, workload="noop"))
    return with_summaries(out)


@pytest.fixture
def stack(qtbot):
    s = CompareStack(dark=False)
    qtbot.addWidget(s)
    s.resize(900, 800)
    s.show()
    qtbot.waitExposed(s)
    return s


def task_rows(view) -> list[str]:
    return [label for label in view.lane_labels() if label != "queue"]


def test_the_seed_reads_as_a_staircase_and_two_stacks_on_one_time_axis(stack, qtbot):
    results = seed_results()
    stack.set_results(results)
    assert len(stack.timelines) == 3 and stack.per_task()
    assert all(task_rows(v) == ["task 0", "task 1", "task 2"] for v in stack.timelines)
    sequential, threads, pool = stack.timelines
    centres = [[v.task_bar_center(i) for i in range(3)] for v in stack.timelines]
    xs, ys = zip(*centres[0], strict=True)
    assert np.allclose(np.diff(xs), 2.0, atol=0.01) and all(np.diff(ys) > 0)  # a staircase: later, lower
    for stacked in centres[1:]:  # a stack: every task at the same time, one row each
        xs, ys = zip(*stacked, strict=True)
        assert np.ptp(xs) < 0.01 and all(np.diff(ys) > 0)
    # one shared axis showing every run whole: the 6-second run fits, and the 2-second ones share its scale
    x0, x1 = stack.x_range()
    assert -0.2 < x0 <= -0.004 and 6.0 <= x1 < 6.5  # the pool's start-up, before 0
    assert all(np.allclose(v.getViewBox().viewRange()[0], (x0, x1)) for v in stack.timelines)
    assert sequential.marks() == {"wall": pytest.approx(6.0), "ideal": None}  # the baseline: no ideal of its own
    assert threads.marks() == {"wall": pytest.approx(2.002), "ideal": pytest.approx(2.0)}  # 6 s ÷ 3 tasks
    assert pool.marks()["ideal"] == pytest.approx(2.0)  # a pool of 6 for 3 tasks: ÷ 3; its time counts from its work
    assert pool.task_bar_center(0)[0] == pytest.approx(1.0)  # start-up before 0: the bars as the wall time counts
    assert threads.mark_texts() == ("wall 2.00 s · 3.0×", "ideal 2.00 s")
    assert sequential.mark_texts()[0] == "wall 6.00 s · baseline"
    assert pool.title_text() == "■ thread-pool · 6 workers, 3 ran tasks · threads (one shared GIL)"
    # what is drawn: the one-line title, not the live timeline's legend (the stack overrides TimelineView's hook)
    shown = pool.getPlotItem().titleLabel.item.toPlainText()
    assert shown.replace("\n", " ") == pool.title_text() and "Tasks over time" not in shown
    assert pool.getAxis("bottom").labelText == "seconds since each run's work started"  # no start-up worth a word
    header = stack.header.text()
    assert "3 × sleep (2.00 s each)" in header and "one row per task" in header
    for line in ("sequential 6.00 s baseline 1.00", "threads 2.00 s 3.0× 3.00", "thread-pool 2.00 s 3.0× 3.00"):
        assert line in " ".join(header.split()), line


def test_zooming_one_timeline_moves_them_all_and_whole_runs_restores(stack, qtbot):
    stack.set_results(seed_results())
    first, _, last = stack.timelines
    last.getViewBox().setXRange(1.0, 2.5, padding=0.0)
    assert np.allclose(first.getViewBox().viewRange()[0], (1.0, 2.5))
    stack.whole_button.click()
    assert stack.x_range()[1] >= 6.0
    first.getViewBox().setXRange(0.5, 1.0, padding=0.0)
    first.set_follow(True)  # a double-click asks the view to fit its own run: the stack shows every run instead
    qtbot.waitUntil(lambda: stack.x_range()[1] >= 6.0, timeout=2000)


def test_rows_per_worker_and_lane_labels_lined_up(stack):
    results = seed_results()
    stack.set_results(results, per_task=False)
    assert not stack.per_task()
    assert [task_rows(v) for v in stack.timelines] == [["main thread"], ["thread 1", "thread 2", "thread 3"],
                                                         ["thread 1", "thread 2", "thread 3"]]
    widths = {v.left_axis_width() for v in stack.timelines}
    assert len(widths) == 1  # one time at one x in every timeline
    stack.rows_box.setCurrentIndex(0)
    stack.rows_box.activated.emit(0)
    assert stack.per_task() and task_rows(stack.timelines[0]) == ["task 0", "task 1", "task 2"]


def test_a_row_per_task_still_names_the_worker_in_the_tooltip(stack):
    stack.set_results(seed_results())
    view = stack.timelines[1]
    x, y = view.task_bar_center(2)
    text = view.hover_text_at(x, y)
    assert text.startswith("Task 2 ") and "worker: thread 3 " in text and "task 2" not in text.split("\n")[1]


def test_many_tasks_get_a_row_per_worker_and_a_timeline_each(stack):
    results = flood_results(n_runs=8, n_tasks=MAX_TASK_ROWS + 1)
    stack.set_results(results)
    assert not stack.per_task() and not stack.rows_box.isEnabled()
    assert len(stack.timelines) == 8
    assert [len(task_rows(v)) for v in stack.timelines] == [1] + [4] * 7
    axes = [v.getAxis("bottom").isVisible() for v in stack.timelines]
    assert axes == [False] * 7 + [True]  # many timelines: the time axis under the lowest only
    stack.set_results(results[:2])
    assert len(stack.timelines) == 2 and all(v.getAxis("bottom").isVisible() for v in stack.timelines)
    stack.set_results([])
    assert stack.timelines == [] and "Press Compare" in stack.header.text()


def test_the_whole_stack_exports_as_one_image_at_reading_size(stack, tmp_path):
    stack.resize(480, 700)  # a narrow panel: the export is laid out at its own width, not scaled up
    stack.set_results(seed_results())
    image = image_export.render_image(stack, 1600)
    assert image.width() == 1600 and 450 < image.height() < 1100
    # every timeline's bars are in it (the finished colour) and so is the header's executor swatch
    data = np.frombuffer(bytes(image.convertToFormat(QtGui.QImage.Format.Format_RGB32).constBits()), np.uint32)
    rows = (data.reshape(image.height(), image.width()) & 0xFFFFFF) == (QtGui.QColor("#009E73").rgb() & 0xFFFFFF)
    bands = np.flatnonzero(np.diff(rows.any(axis=1).astype(int)) == 1)
    assert len(bands) >= 9  # three timelines × three task rows, each its own band of green
    svg = image_export.render_svg(stack).decode()
    assert svg.count("<svg") == 1 and "thread-pool" in svg and "work started" in svg
    path = tmp_path / "stack.png"
    image_export.export_to_path(stack, path, 1000)
    assert QtGui.QImage(str(path)).width() == 1000
    assert stack.isVisible() and stack.timelines[0].width() < 500  # the panel itself was left as it was


def test_right_click_on_any_timeline_exports_the_whole_stack(stack):
    stack.set_results(seed_results())
    exported = []
    stack.export_handler = exported.append
    for view in (stack.timelines[2], stack.header):
        actions = view.scene().contextMenu
        assert [a.text() for a in actions] == ["Export image…"]
        actions[0].trigger()
    assert exported == [stack, stack]


def test_the_compare_tab_shows_timelines_and_wall_times(qtbot):
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(600, 700)
    results = seed_results()
    view.set_results(results)
    assert [view.tabText(i) for i in range(view.count())] == ["Timelines", "Wall times"]
    assert view.currentWidget() is view.stack and view.results() == results
    assert view.chart.bar_count() == 3 and view.table.rowCount() == 3


# --- the wall-time chart: what a bar shows is what its label says (issue 17, defect 4) ---------------------
def test_a_bar_is_its_wall_time_and_the_ideal_is_the_baselines_work_shared(qtbot):
    base = make_run("sequential", [("main thread", 1.0 * i, 1.0 * i + 1.0) for i in range(4)], 1, workload="cpu",
                    cpu_share=1.0)
    procs = make_run("process-pool", [(f"process {i % 2 + 1}", 1.0 * (i // 2), 1.0 * (i // 2) + 1.0)
                                      for i in range(4)], 2, startup=0.7, workload="cpu", cpu_share=1.0)
    pool = make_run("thread-pool", [(f"thread {i + 1}", 0.0, 4.0) for i in range(4)], 6, workload="cpu")
    results = with_summaries([base, procs, pool])
    chart = CompareChart(dark=False)
    qtbot.addWidget(chart)
    chart.resize(700, 450)
    chart.show()
    chart.set_results(results)
    work = chart._work_bars.opts
    assert np.allclose(work["y0"], 0.0) and np.allclose(work["height"], [4.0, 2.0, 4.0])  # the bar's top: its label
    assert [t.split("\n")[0] for t in chart.label_texts()] == ["4.00 s", "2.00 s", "4.00 s"]
    startup = chart._startup_bars.opts
    assert np.allclose(startup["y0"], [4.0, 2.0, 4.0]) and np.allclose(startup["height"], [0.0, 0.7, 0.0])
    ideal_x, ideal_y = chart._ideal.getData()
    assert np.allclose(ideal_x[::2], [0.56, 1.56])  # the later bars: none on the baseline's, at its own wall
    assert np.allclose(ideal_y[::2], [2.0, 1.0])  # 4 s ÷ 2 processes; 4 s ÷ 4 tasks (a pool of 6, 4 tasks)
    assert ideal_y[0] == pytest.approx(ideal_wall(base, procs))
    title = chart.plotItem.titleLabel.item.toPlainText()
    assert "on top: start-up" in title and "lighter" not in title
    swatch = QtGui.QColor(chart._startup_bars.opts["brush"])
    assert swatch.red() > swatch.blue() > swatch.green()  # the timeline's start-up pink, not a kind's colour
    ticks = [t[1] for t in chart.getAxis("bottom")._tickLevels[0]]
    assert ticks[2].split("\n")[-2:] == ["6 workers", "4 ran tasks"] or "6 workers" in ticks[2]
    assert workers_text(pool) == "6 workers, 4 ran tasks" and workers_text(procs) == "2 workers"
    assert "6 workers, 4 ran tasks" in chart.bar_text(2)


def test_a_runs_time_counts_from_its_work_so_its_wall_mark_is_its_wall_time(stack, qtbot):
    base = make_run("sequential", [("main thread", 1.0 * i, 1.0 * i + 1.0) for i in range(4)], 1)
    procs = make_run("process-pool", [(f"process {i % 2 + 1}", 1.0 * (i // 2), 1.0 * (i // 2) + 1.0)
                                      for i in range(4)], 2, startup=0.7)
    assert run_end(procs) == pytest.approx(2.0)
    stack.resize(1500, 800)  # room for the start-up shade's label
    stack.set_results(with_summaries([base, procs]), per_task=False)
    view = stack.timelines[1]
    assert view.marks() == {"wall": pytest.approx(2.0), "ideal": pytest.approx(2.0)}
    assert view.mark_texts()[0] == "wall 2.00 s · 2.0×"
    assert view.task_bar_center(3)[0] == pytest.approx(1.5)  # 1.0–2.0 s after the work began, not 1.7–2.7
    assert stack.x_range()[0] == pytest.approx(-0.7 - 0.02 * 4.7, abs=0.01)  # its start-up shaded before 0
    qtbot.waitUntil(lambda: view.startup_text() == "start-up 700.0 ms")  # once laid out at the new width
    assert stack.timelines[0].startup_text() is None
    slow = make_run("process-pool", [("process 1", 0.0, 1.0)], 1, startup=30.0)  # 30 s: a busy machine's spawn
    stack.set_results(with_summaries([base, slow]), per_task=False)
    assert stack.x_range()[0] == pytest.approx(-0.25 * 4.0 - 0.02 * 5.0, abs=0.01)  # the work keeps the room
    assert stack.timelines[1].startup_text() == "start-up 30.00 s"
    assert "start-up, before the work" in stack.header.text()
    assert stack.timelines[-1].getAxis("bottom").labelText.endswith("work started (a pool's start-up before 0)")


def test_the_benchmarks_stack_of_8_by_1000_fits_and_repaints_quickly():
    """benchmarks/gui_benchmark.py's figure (goal: 30 ms at 1600 × 900), with a loose bound for a busy machine."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "gui_benchmark.py"
    spec = importlib.util.spec_from_file_location("gui_benchmark", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    figures = bench.measure_compare_stack(n_runs=8, n_tasks=1000, size=(1600, 900), repeats=3)
    assert figures["visible_timelines"] == 8  # all eight on one screen, no scrolling
    assert figures["repaint_ms_median"] < 150 and figures["bar_items"] < 100


# --- exports and History, in the window ------------------------------------------------------------------
def test_suggested_names_say_preset_executor_chart_and_day():
    spec = ExperimentSpec(workload="sleep", executor="thread-pool", tasks=3, duration=2.0).to_dict()
    when = 1_700_000_000.0  # 2023-11-14/15, whatever the local time zone
    name = image_export.suggested_name("timeline", spec, "seed-notebook", when)
    assert name.startswith("concgui-seed-notebook-thread-pool-timeline-2023-11-1") and name.endswith(".png")
    assert image_export.suggested_name("compare-timelines", spec, None, when, "svg", executor=False) \
        .startswith("concgui-sleep-compare-timelines-2023-11-1")
    assert image_export.suggested_name("a b/c", {"workload": "x:y"}, None, when).startswith("concgui-x-y-a-b-c-")


@pytest.fixture
def window(qtbot, tmp_path):
    from gui_support import open_window

    return open_window(qtbot, tmp_path)


def test_every_chart_exports_by_right_click_and_file_menu_with_a_name_that_says_what(window, qtbot, tmp_path,
                                                                                    monkeypatch):
    asked = []

    def ask(parent, title, suggested, formats=("png", "svg")):
        asked.append((title, suggested, tuple(formats)))
        return str(tmp_path / suggested), 900

    monkeypatch.setattr(image_export, "ask_image_file", ask)
    results = seed_results()
    window.compare.set_results(results)
    window.show_result(results[1])
    charts = {"timeline": window.timeline, "cores": window.cores, "compare_stack": window.compare.stack,
              "compare_chart": window.compare.chart, "speedup_chart": window.speedup_chart,
              "efficiency_chart": window.efficiency_chart}
    for which, widget in charts.items():  # right-click ▸ Export image… on each chart
        view = widget.timelines[0] if which == "compare_stack" else widget
        [action] = view.scene().contextMenu
        action.trigger()
    titles = [a[0] for a in asked]
    assert titles[:4] == ["Export the timeline", "Export the CPU cores chart", "Export the comparison timelines",
                          "Export the wall-time comparison"] and all("_" not in t for t in titles)
    names = [a[1] for a in asked]
    assert names[0].startswith("concgui-seed-notebook-threads-timeline-2023-11-1")
    assert names[2].startswith("concgui-seed-notebook-compare-timelines-2023-11-1")
    assert names[3].startswith("concgui-seed-notebook-compare-wall-times-")
    for name in names[:4]:
        assert QtGui.QImage(str(tmp_path / name)).width() == 900, name
    # File ▸ Export chart ▸ Comparison: timelines as SVG…: the same dialog, SVG only
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    export = next(a.menu() for a in menu.actions() if a.text() == "Export chart")
    [svg] = [a for a in export.actions() if a.text() == "Comparison: timelines as SVG…"]
    svg.trigger()
    assert asked[-1][2] == ("svg",) and asked[-1][1].endswith(".svg")
    assert (tmp_path / asked[-1][1]).read_text().count("<svg") == 1


def test_several_runs_opened_together_from_history_show_side_by_side(window, qtbot):
    ids = [window.store.save(r) for r in seed_results()]
    window.history.refresh()
    window.history.select_ids(set(ids))
    assert window.history.open_button.isEnabled()
    window.history.open_button.click()
    stack = window.compare.stack
    qtbot.waitUntil(lambda: len(stack.timelines) == 3)
    assert [r.spec["executor"] for r in stack.results()] == ["sequential", "threads", "thread-pool"]
    assert stack.timelines[1].mark_texts()[0] == "wall 2.00 s · 3.0×"  # speedup against the first of them
    assert window.tabs.currentWidget() is window.compare
    assert window.result.spec["executor"] == "thread-pool"  # and the last in every view


def test_the_ideals_label_covers_no_bar(stack, qtbot):
    """A process pool of 2 for 3 tasks: the ideal (3 s) falls inside the last task's bar (2–4 s) on the bottom
    row, so its label goes where no bar is."""
    base = make_run("sequential", [("main thread", 2.0 * i, 2.0 * i + 2.0) for i in range(3)], 1)
    procs = make_run("process-pool", [(f"process {i % 2 + 1}", 2.0 * (i // 2), 2.0 * (i // 2) + 2.0)
                                      for i in range(3)], 2, startup=0.8)
    stack.set_results(with_summaries([base, procs]))
    view = stack.timelines[1]
    assert view.marks()["ideal"] == pytest.approx(3.0)
    label = view._ideal_text
    qtbot.waitUntil(lambda: label.isVisible())
    vb = view.getViewBox()
    box = vb.mapSceneToView(label.mapToScene(label.boundingRect())).boundingRect()
    xs = np.linspace(box.left(), box.right(), 7)
    ys = np.linspace(box.top(), box.bottom(), 4)[1:-1]
    assert box.width() > 0.3 and all(view.hover_text_at(x, y, 0.0) is None for x in xs for y in ys if y >= 0)


def test_with_bars_all_around_the_ideal_the_wall_label_says_it(stack, qtbot):
    """CPU-bound threads: every row busy from 0 to 3.2 s, so the ideal (0.5 s) has no clear place."""
    base = make_run("sequential", [("main thread", 0.5 * i, 0.5 * i + 0.5) for i in range(4)], 1, workload="cpu")
    threads = make_run("threads", [(f"thread {i + 1}", 0.0, 3.2) for i in range(4)], 4, workload="cpu")
    stack.set_results(with_summaries([base, threads]))
    view = stack.timelines[1]
    qtbot.waitUntil(lambda: view.mark_texts()[0] == "wall 3.20 s · 1.6× slower · ideal 500.0 ms")
    assert not view._ideal_text.isVisible() and view.marks()["ideal"] == pytest.approx(0.5)


def test_task_rows_follow_the_tasks_order_not_their_starts(stack):
    base = make_run("sequential", [("main thread", 1.0 * i, 1.0 * i + 1.0) for i in range(3)], 1)
    pool = make_run("process-pool", [("process 1", 0.02, 1.0), ("process 2", 0.0, 1.0), ("process 1", 1.0, 2.0)], 2)
    stack.set_results(with_summaries([base, pool]))
    assert task_rows(stack.timelines[1]) == ["task 0", "task 1", "task 2"]  # task 1 started first


def test_the_header_fits_its_text_after_the_panel_narrows_and_widens(stack, qtbot):
    stack.set_results(seed_results())
    header = stack.header
    heights = {}
    for width in (900, 460, 900):
        stack.resize(width, 800)
        qtbot.waitUntil(lambda w=width: header.width() == w)
        qtbot.wait(20)
        text_h = header._text.boundingRect().height()
        assert header.sceneRect().height() == header.height() >= text_h  # the whole text shown, nothing cut
        assert header.viewport().height() == header.height()  # no band of the old height under it
        assert header.sceneRect().width() == header.width()
        heights.setdefault(width, header.height())
    assert heights[460] > heights[900]  # narrower: the lines wrap, the header grows (and shrinks back)
    assert header.height() == heights[900]


@pytest.mark.parametrize("size", [(480, 600), (480, 900), (1200, 700)])
def test_every_timeline_gives_a_row_the_same_height(stack, qtbot, size):
    """A row (a task's bar) is as thick in each timeline, whatever their titles and axes take."""
    stack.resize(*size)
    stack.set_results(seed_results())
    qtbot.wait(50)

    def row_heights() -> list[float]:
        return [v.getViewBox().height() / v.rows() for v in stack.timelines]

    qtbot.waitUntil(lambda: max(row_heights()) - min(row_heights()) < 2.0)
    assert 8 <= min(row_heights()) and max(row_heights()) <= 45


def test_a_compare_of_two_experiments_sets_each_run_against_the_first_of_its_own(stack, qtbot):
    """A lesson's preset runs cpu tasks, then counter tasks: the counter runs' speedups, ideals and labels are
    against the first counter run, never against the cpu run (a "17×" of nothing, once)."""
    cpu = [make_run("thread-pool", [(f"thread {i % 2 + 1}", 0.0, 1.5) for i in range(2)], 2, workload="cpu"),
           make_run("process-pool", [(f"process {i + 1}", 0.0, 1.5) for i in range(2)], 2, workload="cpu")]
    counting = [make_run("thread-pool", [(f"thread {i + 1}", 0.0, 0.2) for i in range(2)], 2, workload="counter"),
                make_run("process-pool", [(f"process {i + 1}", 0.0, 0.1) for i in range(2)], 2, workload="counter")]
    results = cpu + counting
    for r, base in zip(results, [cpu[0], cpu[0], counting[0], counting[0]], strict=True):
        r.summary = summarize(r, None if r is base else base)
    stack.set_results(results)
    marks = [v.mark_texts()[0] for v in stack.timelines]
    assert marks == ["wall 1.50 s · baseline", "wall 1.50 s · 1.0×", "wall 200.0 ms · baseline", "wall 100.0 ms · 2.0×"]
    # both first runs ran 2 tasks side by side: their wall times are no work done one at a time, so no ideal
    assert stack.timelines[1].marks()["ideal"] is None and stack.timelines[3].marks()["ideal"] is None
    assert "2 × counter" in stack.timelines[2].title_text()  # each timeline says what it ran
    header = " ".join(stack.header.text().split())
    assert "2 experiments, each run set against the first of its own" in header
    assert "thread-pool 200.0 ms baseline" in header and "15×" not in header
    assert "no ideal where an experiment's first run was not one task at a time" in header and "min(" not in header
    chart = CompareChart(dark=False)
    qtbot.addWidget(chart)
    chart.set_results(results)
    assert [t.split("\n")[1] for t in chart.label_texts()] == ["baseline", "1.0×", "baseline", "2.0×"]
    assert "against thread-pool" in chart.bar_text(3) and "2.0×" in chart.bar_text(3)


def real_cpu_runs(executors: list[str], tasks: int = 4, duration: float = 0.08) -> list[RunResult]:
    """Real runs in this process, each with its X-ray series: ``tasks`` pure-Python tasks on each executor."""
    from concgui.engine import run_inline

    out: list[RunResult] = []
    for ex in executors:
        r = run_inline(ExperimentSpec(workload="cpu", executor=ex, tasks=tasks, duration=duration, isolation="inline"))
        assert r.status == "ok" and r.thread_states, ex
        out.append(r)
    return with_summaries(out)


def strip_rects(view) -> list[tuple[int, float, float]]:
    """The X-ray strips' rectangles of a timeline: (row, x from, x to), every state's."""
    out = []
    for items in view._strips._items.values():
        for item in items:
            x0, w, y0 = (np.asarray(item.opts[k], dtype=float) for k in ("x0", "width", "y0"))
            out += [(int(np.floor(y)), a, a + b) for a, b, y in zip(x0, w, y0, strict=True)]
    return out


def test_a_row_per_task_keeps_the_x_ray_strip_of_its_thread_over_its_task(stack):
    """The CPU-bound lesson's stack: 4 threads taking turns on the GIL; each task row's strip says so."""
    from concgui.engine import xray

    results = real_cpu_runs(["sequential", "threads"])
    stack.set_results(results)
    assert stack.per_task()
    for view, r in zip(stack.timelines, results, strict=True):
        assert task_rows(view) == [f"task {i}" for i in range(4)]
        counts = view.xray_counts()
        assert counts["on_core"] > 0, view.title_text()  # the strips are drawn on the task rows
        spans = {view._layout.lane_of[f"task {t.index}"]: (t.start - r.startup_seconds, t.end - r.startup_seconds)
                 for t in r.tasks}
        rects = strip_rects(view)
        assert {row for row, _, _ in rects} == set(spans)  # every task row has a strip, and only task rows
        for row, a, b in rects:  # each row's strip is its task's slice of its thread's series, not beyond
            assert spans[row][0] - 1e-9 <= a < b <= spans[row][1] + 1e-9, (row, a, b, spans[row])
    threads = stack.timelines[1]
    assert threads.xray_counts()["blocked"] > 0  # waiting for the one GIL
    # a task's tooltip gives its thread's seconds over its own span, as the row per worker does
    t = results[1].tasks[2]
    x, y = threads.task_bar_center(2)
    line = next(s for s in threads.hover_text_at(x, y).split("\n") if s.startswith("on a core"))
    on, waiting, blocked = xray.task_states(results[1].thread_states, t.worker, t.start, t.end)
    assert line.startswith(f"on a core {seconds(on)} · waiting {seconds(waiting)} · blocked {seconds(blocked)}")
    assert "(the GIL)" in line
    assert "strip under each row, its thread:" in " ".join(stack.header.text().split())

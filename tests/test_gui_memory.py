"""The cores chart's Memory tab: each worker process's line and the total, live and for a reopened run."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

import numpy as np  # noqa: E402

from concgui.engine import ExperimentSpec  # noqa: E402
from concgui.engine.events import MemorySampled, RunStarted, TaskStarted  # noqa: E402
from concgui.engine.live import RunState  # noqa: E402
from concgui.engine.records import OK, MemorySample, RunResult, TaskRecord  # noqa: E402
from concgui.gui.views.memory import MemoryPlot  # noqa: E402

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

SERIES = [MemorySample(0.1 * k, {99: 30_000_000, 100: 10_000_000 + k * 1_000_000, 101: 12_000_000})
          for k in range(1, 6)]


def two_processes() -> RunResult:
    tasks = [TaskRecord(i, f"process {i}", 100 + i, 200 + i, 0.0, 0.1, 0.5, 0.4, OK) for i in range(2)]
    return RunResult(spec={"workload": "cpu", "executor": "process-pool", "tasks": 2},
                     environment={"memory": "uss"}, wall_seconds=0.4, startup_seconds=0.1, workers=2, tasks=tasks,
                     memory_samples=SERIES)


def test_a_reopened_run_draws_each_worker_and_the_total(qtbot) -> None:
    plot = MemoryPlot(dark=False)
    qtbot.addWidget(plot)
    plot.resize(700, 220)
    plot.show()
    plot.set_result(two_processes())
    drawn = plot.series()
    assert set(drawn) == {"pid 100", "pid 101", "total"}  # the parent (99) ran no task
    t, mb = drawn["pid 100"]
    assert list(t) == pytest.approx([s.t for s in SERIES]) and mb[-1] == pytest.approx(15.0)
    assert drawn["total"][1] == pytest.approx(np.array([23.0, 24.0, 25.0, 26.0, 27.0]))
    assert not plot._empty.isVisible()
    assert "unique set size" in plot.getPlotItem().titleLabel.text


def test_a_live_run_grows_as_samples_arrive(qtbot) -> None:
    plot = MemoryPlot(dark=False)
    qtbot.addWidget(plot)
    plot.show()
    state = RunState()
    state.apply([RunStarted({"workload": "cpu", "executor": "thread-pool", "tasks": 2}, {}, 2, 2)])
    plot.set_state(state)
    assert plot.series() == {} and "waiting for the first memory sample" in plot._empty.toPlainText()
    state.apply([TaskStarted(0, "thread 0", 42, 7, 0.05), TaskStarted(1, "thread 1", 42, 8, 0.05)])
    for k in range(1, 4):
        state.apply([MemorySampled(MemorySample(0.25 * k, {42: 20_000_000 + k}))])
        plot.refresh()
        assert len(plot.series()["total"][0]) == k  # one process: its threads share it, one line
    assert set(plot.series()) == {"total"}


def test_the_window_shows_a_runs_memory_in_the_cores_tab(qtbot, window) -> None:
    spec = ExperimentSpec(workload="cpu", executor="thread-pool", workers=2, tasks=2, duration=0.3)
    window.form.set_spec(spec)
    with qtbot.waitSignal(window.controller.run_finished, timeout=60_000):
        window.run_button.click()
    window.chart_tabs.setCurrentWidget(window.memory)
    qtbot.wait(50)
    t, mb = window.memory.series()["total"]
    assert len(t) >= 2 and 5 <= float(np.max(mb)) <= 2000  # the engine process, in MB
    for chart in (window.memory, window.cores):  # one time at one x: the timeline's start and scale
        (x0, x1), (t0, t1) = chart.getViewBox().viewRange()[0], window.timeline.getViewBox().viewRange()[0]
        assert chart.getViewBox().sceneBoundingRect().left() == window.timeline.getViewBox().sceneBoundingRect().left()
        # the same span (a chart a few pixels narrower than the timeline once showed less, hiding the run's end)
        assert (x0, x1) == pytest.approx((t0, t1), abs=1e-6)
        assert chart.getViewBox().width() == window.timeline.getViewBox().width()  # so one time, one x

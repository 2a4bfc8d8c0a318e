"""The GIL X-ray in the timeline: thread-state strips under the lanes, CPU-share fills in the bars, the tooltip.

Runs are built by hand (records and ThreadStates), so each test knows exactly what should be drawn.
"""

from __future__ import annotations

import os

import numpy as np
import pyqtgraph as pg

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from concgui.engine.events import (  # noqa: E402
    RunStarted,
    StartupFinished,
    TaskFinished,
    TaskStarted,
    ThreadStatesSampled,
)
from concgui.engine.live import RunState  # noqa: E402
from concgui.engine.records import RunResult, TaskRecord, ThreadStates  # noqa: E402
from concgui.gui import theme  # noqa: E402
from concgui.gui.views.timeline.layout import STRIP_HEIGHT, STRIP_TOP  # noqa: E402

THREAD_SHARES = (0.25, 0.05, 0.70)  # four cpu threads on one GIL
PROCESS_SHARES = (0.5, 0.5, 0.0)  # four cpu processes on two cores


def _result(shares=THREAD_SHARES, intervals: int = 10, states: bool = True, cpu: float = 0.25) -> RunResult:
    """Two threads, two 0.5 s tasks each, using ``cpu`` of their time; ``intervals`` probe intervals of 0.1 s."""
    tasks = [TaskRecord(i, f"thread {i % 2 + 1}", 10, 100 + i % 2, 0.0, 0.5 * (i // 2), 0.5 * (i // 2 + 1),
                        cpu * 0.5, "ok") for i in range(4)]
    series = [ThreadStates(0.1 * (k + 1), 0.1, {"thread 1": shares, "thread 2": shares}) for k in range(intervals)]
    return RunResult(spec={"workload": "cpu", "executor": "thread-pool", "tasks": 4}, environment={
        "thread_states": "schedstat"}, wall_seconds=1.0, workers=2, tasks=tasks,
        thread_states=series if states else [])


def test_each_lane_gets_a_strip_of_three_states_in_their_own_colours(timeline):
    timeline.set_result(_result())
    counts = timeline.xray_counts()
    assert (counts["on_core"], counts["waiting"], counts["blocked"]) == (20, 20, 20)  # 10 intervals × 2 lanes
    items = timeline._strips._items
    colours = {name: {pg.mkBrush(item.opts["brush"]).color().name().upper() for item in items[name]} for name in items}
    assert colours == {name: {c.upper()} for name, c in theme.THREAD_STATE_COLORS.items()}
    assert len(set(theme.THREAD_STATE_COLORS.values())) == 3
    assert timeline.xray_item_count() <= 6  # one item per state (and the fills), not one per interval
    # stacked in the gap under each lane's bars, each as tall as its share
    on = items["on_core"][0].opts
    lane_of = {round(float(y)) for y in on["y0"]}
    assert lane_of == {0, 1} or lane_of == {1, 2}
    assert np.allclose(on["height"], THREAD_SHARES[0] * STRIP_HEIGHT)
    assert np.allclose(np.asarray(on["y0"]) % 1.0, STRIP_TOP + STRIP_HEIGHT * (1 - THREAD_SHARES[0]))
    blocked = items["blocked"][0].opts
    assert np.allclose(blocked["height"], THREAD_SHARES[2] * STRIP_HEIGHT)
    assert np.allclose(np.asarray(blocked["y0"]) % 1.0, STRIP_TOP)
    assert "blocked (the GIL)" in timeline.getPlotItem().titleLabel.text


def test_no_thread_states_draws_no_strip_and_no_legend_for_it(timeline):
    timeline.set_result(_result(states=False))
    counts = timeline.xray_counts()
    assert counts["on_core"] == counts["waiting"] == counts["blocked"] == 0
    assert timeline._strips.item_count() == 0
    assert "waiting for a core" not in timeline.getPlotItem().titleLabel.text
    text = timeline.hover_text_at(*timeline.task_bar_center(0))
    assert "on a core" not in text and "blocked" not in text


def test_a_lane_without_data_draws_nothing(timeline):
    result = _result()
    for s in result.thread_states:
        del s.lanes["thread 2"]
    timeline.set_result(result)
    assert timeline.xray_counts()["on_core"] == 10
    y = np.asarray(timeline._strips._items["on_core"][0].opts["y0"])
    assert np.unique(np.floor(y)).size == 1


def test_strips_grow_live_with_the_runs_thread_states(timeline):
    state = RunState()
    timeline.set_state(state)
    state.apply([RunStarted({"workload": "cpu", "executor": "thread-pool", "tasks": 3}, {}, 3, 3),
                 StartupFinished(0.0), TaskStarted(0, "thread 1", 10, 100, 0.0),
                 TaskStarted(1, "thread 2", 10, 101, 0.0)])
    seen = []
    for k in range(1, 6):
        state.now = lambda k=k: 0.1 * k
        # the probe may hear of a thread before the window has its lane: "thread 3" waits for its row
        lanes = {"thread 1": THREAD_SHARES, "thread 2": THREAD_SHARES, "thread 3": PROCESS_SHARES}
        state.apply([ThreadStatesSampled(ThreadStates(0.1 * k, 0.1, lanes))])
        timeline.refresh()
        seen.append(timeline.xray_counts()["on_core"])
    assert seen == [2, 4, 6, 8, 10]
    items = timeline._strips._items["on_core"]
    assert len(items) == 1  # appended to one open chunk, not an item per refresh
    state.apply([TaskStarted(2, "thread 3", 10, 102, 0.5)])
    timeline.refresh()
    assert timeline.xray_counts()["on_core"] == 15  # its five intervals, drawn once its row exists
    assert timeline.xray_counts()["waiting"] == 15


def test_strips_sync_only_the_new_intervals(timeline, monkeypatch):
    state = RunState()
    timeline.set_state(state)
    state.apply([RunStarted({"workload": "cpu", "executor": "thread-pool", "tasks": 1}, {}, 1, 1),
                 StartupFinished(0.0), TaskStarted(0, "thread 1", 10, 100, 0.0)])
    for k in range(1, 4):
        state.apply([ThreadStatesSampled(ThreadStates(0.1 * k, 0.1, {"thread 1": THREAD_SHARES}))])
    state.now = lambda: 0.3
    timeline.refresh()
    drawn = []
    strips = timeline._strips
    real = strips._append
    monkeypatch.setattr(strips, "_append", lambda name, rects: (drawn.append(rects.shape[1]), real(name, rects)))
    state.apply([ThreadStatesSampled(ThreadStates(0.4, 0.1, {"thread 1": THREAD_SHARES}))])
    timeline.refresh()
    assert drawn == [1, 1, 1]  # one new interval per state: nothing redrawn


def test_cpu_share_fill_follows_cpu_seconds_over_duration(timeline):
    for cpu in (0.25, 1.0):
        timeline.set_result(_result(cpu=cpu))
        fills = [item for item in timeline._fills.items() if len(item.opts["x0"])]
        heights = np.concatenate([np.asarray(item.opts["height"]) for item in fills])
        bar_h = np.concatenate([np.asarray(item.opts["height"]) for item in timeline._bars.items()
                                if len(item.opts["x0"])])
        assert timeline.xray_counts()["cpu_fill"] == 4
        assert np.allclose(heights, cpu * bar_h[0])
        # anchored at the bar's bottom
        bars = [item for item in timeline._bars.items() if len(item.opts["x0"])][0].opts
        bottoms = sorted(np.asarray(bars["y0"]) + np.asarray(bars["height"]))
        fill_bottoms = sorted(np.concatenate([np.asarray(i.opts["y0"]) + np.asarray(i.opts["height"]) for i in fills]))
        assert np.allclose(sorted(set(np.round(bottoms, 9))), sorted(set(np.round(fill_bottoms, 9))))
    assert "filled part" in timeline.getPlotItem().titleLabel.text


def test_no_cpu_time_no_fill(timeline):
    timeline.set_result(_result(cpu=0.0, states=False))
    assert timeline.xray_counts()["cpu_fill"] == 0
    assert "filled part" not in timeline.getPlotItem().titleLabel.text


def test_live_fills_are_appended_as_tasks_finish(timeline):
    state = RunState()
    timeline.set_state(state)
    state.apply([RunStarted({"workload": "cpu", "executor": "process-pool", "tasks": 3}, {}, 3, 1),
                 StartupFinished(0.0)])
    for k in range(3):
        state.now = lambda k=k: 0.1 * (k + 1)
        state.apply([TaskFinished(TaskRecord(k, "process 1", 10, 1, 0.0, 0.1 * k, 0.1 * (k + 1), 0.1, "ok"))])
        timeline.refresh()
        assert timeline.xray_counts()["cpu_fill"] >= 1
    fills = [item for item in timeline._fills.items() if len(item.opts["x0"])]
    assert len(fills) == 1  # one open chunk
    heights = np.asarray(fills[0].opts["height"])
    assert np.allclose(heights, heights[0])  # full: every task held a core all its time


def test_tooltip_gives_the_three_shares_and_the_cause(timeline):
    timeline.set_result(_result())
    text = timeline.hover_text_at(*timeline.task_bar_center(0))
    assert "on a core 125.0 ms · waiting 25.0 ms · blocked 350.0 ms (the GIL)" in text


def test_tooltip_where_only_cpu_time_is_known(timeline):
    result = _result(shares=(0.25, 0.0, 0.75))
    result.environment["thread_states"] = "cpu-time"
    timeline.set_result(result)
    text = timeline.hover_text_at(*timeline.task_bar_center(0))
    assert "on a core 125.0 ms · not on a core 375.0 ms" in text and "waiting 0" not in text


def test_thread_state_colours_are_okabe_ito_and_apart_in_lightness():
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"}
    assert set(theme.THREAD_STATE_COLORS.values()) <= okabe_ito
    from PySide6 import QtGui

    def luma(c: str) -> float:
        q = QtGui.QColor(c)
        return 0.299 * q.red() + 0.587 * q.green() + 0.114 * q.blue()

    light = sorted(luma(c) for c in theme.THREAD_STATE_COLORS.values())
    assert light[2] - light[1] > 60  # waiting (yellow) is much the lightest
    assert len(set(theme.THREAD_STATE_COLORS.values()) & set(theme.STATE_COLORS.values())) <= 1
    waiting, blocked = theme.thread_state_meanings("the GIL")
    assert waiting.startswith("waiting for a core:") and blocked.startswith("blocked:") and "the GIL" in blocked


def test_intervals_narrower_than_a_few_pixels_are_averaged(timeline):
    result = _result(intervals=0)
    result.thread_states = [ThreadStates(0.001 * (k + 1), 0.001, {"thread 1": (1.0, 0.0, 0.0) if k % 2 else
                                                                  (0.0, 0.0, 1.0)}) for k in range(1000)]
    timeline.set_result(result)
    counts = timeline.xray_counts()
    assert 0 < counts["on_core"] < 500 and counts["on_core"] == counts["blocked"]  # a column per bucket
    on = timeline._strips._items["on_core"][0].opts
    assert np.allclose(np.asarray(on["height"])[1:-1], 0.5 * STRIP_HEIGHT, atol=0.2 * STRIP_HEIGHT)
    timeline.getViewBox().setXRange(0.0, 0.05, padding=0.0)  # zoomed in: every interval again
    timeline.flush_pending()
    assert timeline.xray_counts()["on_core"] == 500

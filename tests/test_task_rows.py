"""A row per task: each row gets its worker's X-ray series over its task's span (the window's and notebook's)."""

from __future__ import annotations

import pytest

from concgui.engine import xray
from concgui.engine.records import RunResult, TaskRecord, ThreadStates
from concgui.engine.task_rows import by_task, row_states


def series(lanes: dict[str, list[tuple[float, float, float]]], interval: float = 0.1) -> list[ThreadStates]:
    """The probe's series: interval k ends at (k + 1) × ``interval``, each lane's shares listed per interval."""
    n = max(len(v) for v in lanes.values())
    return [ThreadStates(round((k + 1) * interval, 9), interval, {w: v[k] for w, v in lanes.items() if k < len(v)})
            for k in range(n)]


def test_a_rows_series_is_its_lanes_intervals_cut_to_its_span():
    on, gil = (1.0, 0.0, 0.0), (0.2, 0.0, 0.8)
    states = series({"thread 1": [on, on, gil, gil, on], "thread 2": [gil, gil, gil, on, on]})
    rows = row_states(states, [("a", "thread 1", 0.05, 0.25), ("b", "thread 2", 0.1, 0.4)])
    pieces = [(round(s.t - s.interval, 9), round(s.t, 9), s.lanes) for s in rows]
    assert pieces == [(0.05, 0.1, {"a": on}), (0.1, 0.2, {"a": on, "b": gil}),  # one interval, two rows: one entry
                      (0.2, 0.25, {"a": gil, "b": gil}), (0.25, 0.3, {"b": gil}),  # cut where row a's task ends
                      (0.3, 0.4, {"b": on})]
    assert all(p[1] <= q[0] + 1e-12 for p, q in zip(pieces, pieces[1:], strict=False))  # in order, no overlap
    # integrate over a row's span gives its lane's seconds over that span
    for row, lane, start, end in (("a", "thread 1", 0.05, 0.25), ("b", "thread 2", 0.1, 0.4)):
        assert xray.task_states(rows, row, start, end) == pytest.approx(xray.task_states(states, lane, start, end))


def test_by_task_puts_each_task_on_its_row_with_its_threads_states():
    """One thread ran three tasks one after another: each row's strip is that thread over its task only."""
    states = series({"main thread": [(1.0, 0.0, 0.0)] * 3 + [(0.0, 0.0, 1.0)] * 3})
    tasks = [TaskRecord(i, "main thread", 10, 1, 0.0, 0.2 * i, 0.2 * i + 0.2, 0.2, "ok") for i in range(3)]
    run = RunResult(spec={"workload": "cpu", "executor": "sequential", "tasks": 3}, environment={}, wall_seconds=0.6,
                    workers=1, tasks=tasks + [TaskRecord(3, "", 10, 1, 0.0, None, None, 0.0, "cancelled")],
                    thread_states=states)
    shown, workers = by_task(run)
    assert [t.worker for t in shown.tasks] == ["task 0", "task 1", "task 2", ""]
    assert workers == {"task 0": "main thread", "task 1": "main thread", "task 2": "main thread"}
    assert {lane for s in shown.thread_states for lane in s.lanes} == set(workers)
    seconds = [xray.task_states(shown.thread_states, f"task {i}", 0.2 * i, 0.2 * i + 0.2) for i in range(3)]
    assert seconds == [pytest.approx(v) for v in [(0.2, 0, 0), (0.1, 0, 0.1), (0, 0, 0.2)]]
    for s in shown.thread_states:  # no row's series outside its task
        for lane in s.lanes:
            i = int(lane.split()[1])
            assert 0.2 * i - 1e-9 <= s.t - s.interval and s.t <= 0.2 * i + 0.2 + 1e-9
    named, _ = by_task(run, lambda t: f"task {t.index} · {t.worker}")
    assert {lane for s in named.thread_states for lane in s.lanes} == {f"task {i} · main thread" for i in range(3)}
    assert by_task(RunResult(spec={}, environment={}, tasks=tasks))[0].thread_states == []  # no series: none


def test_any_span_of_a_row_integrates_to_its_lanes_seconds():
    """xray.integrate's precondition (in time order, not overlapping) holds for the rows' series, so a part of a
    row's span counts right too: a task running through [0.1, 0.2] beside one of [0.12, 0.14] on another thread
    had its piece sorted after the short one, and [0.1, 0.11] of it counted 0 s instead of 10 ms."""
    on, gil = (1.0, 0.0, 0.0), (0.2, 0.0, 0.8)
    states = series({"t1": [on, gil, on], "t2": [gil, on, on], "t3": [on, on, gil]})
    spans = [("long", "t1", 0.0, 0.3), ("short", "t2", 0.12, 0.14), ("mid", "t3", 0.05, 0.25)]
    rows = row_states(states, spans)
    for p, q in zip(rows, rows[1:], strict=False):
        assert p.t <= q.t - q.interval + 1e-12, (p, q)
    for row, lane, start, end in spans:
        for a, b in ((start, end), (0.1, 0.11), (0.1, 0.13), (0.13, 0.2), (0.06, 0.26)):
            a, b = max(a, start), min(b, end)
            assert xray.task_states(rows, row, a, b) == pytest.approx(xray.task_states(states, lane, a, b)), (row, a, b)

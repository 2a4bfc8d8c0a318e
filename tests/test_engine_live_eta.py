"""The time-left estimate of a live run (RunState.eta), on recorded runs replayed event by event."""

from __future__ import annotations

from dataclasses import replace

import pytest

from concgui.engine.events import RunStarted, StartupFinished, TaskFinished, TaskStarted
from concgui.engine.exports import load_results
from concgui.engine.live import RunState
from concgui.engine.records import RunResult
from concgui.gui.presets import resources_dir

RECORDED = resources_dir() / "help" / "runs.json"  # real runs: seed sequential, seed threads, cpu ×2


def recorded(executor: str, workload: str) -> RunResult:
    return next(r for r in load_results(RECORDED)
                if r.spec["executor"] == executor and r.spec["workload"] == workload)


def replayed(result: RunResult, at: float) -> RunState:
    """The state a window had at ``at`` seconds into ``result``: the events its tasks sent until then."""
    timed = []
    for t in result.tasks:
        if t.start is not None and t.start <= at:
            timed.append((t.start, 0, TaskStarted(t.index, t.worker, t.pid, t.thread_id, t.start)))
        if t.end is not None and t.end <= at:
            timed.append((t.end, 1, TaskFinished(t)))
    state = RunState()
    state.apply([RunStarted(result.spec, result.environment, len(result.tasks), result.workers),
                 StartupFinished(result.startup_seconds)])
    for _, _, event in sorted(timed, key=lambda x: x[:2]):
        state.apply([event])
    return state


def end_of(result: RunResult) -> float:
    return max(t.end for t in result.tasks)


def test_the_seed_run_one_after_another_counts_the_task_in_progress():
    seq = recorded("sequential", "sleep")  # 3 × sleep 2 s on the main thread: ends at 6.0 s
    state = replayed(seq, 2.9)
    assert state.done == 1
    assert state.eta(2.9) == pytest.approx(end_of(seq) - 2.9, abs=0.05)  # 3.1 s; it said 5.8 s
    for at in (2.1, 3.5, 4.5, 5.9):  # within a tenth of a second all the way, not only at 2.9 s
        assert replayed(seq, at).eta(at) == pytest.approx(end_of(seq) - at, abs=0.1), at


def test_a_pool_of_two_in_its_second_wave_counts_both_tasks_in_progress():
    pool = recorded("process-pool", "cpu")  # 4 × cpu on 2 processes: two waves of about 0.47 s
    at = 0.95  # the first wave done, the second half run
    state = replayed(pool, at)
    assert state.done == 2 and sum(t.status == "running" for t in state.tasks) == 2
    assert state.eta(at) == pytest.approx(end_of(pool) - at, abs=0.06)  # 0.26 s; finished ones alone: 0.70 s


def test_no_estimate_before_a_task_ends_nor_once_the_run_has_ended():
    threads = recorded("threads", "sleep")
    assert replayed(threads, 1.9).eta(1.9) is None  # three sleeps in flight, none done
    state = replayed(threads, 2.013)
    assert state.done == 2 and state.eta(2.013) == pytest.approx(0.003, abs=0.01)  # the third, all but done
    assert RunState.from_result(threads).eta() is None


def test_a_task_running_far_past_the_mean_counts_as_one_task_at_most():
    seq = recorded("sequential", "sleep")
    slow = replace(seq, tasks=[seq.tasks[0], replace(seq.tasks[1], end=30.0), replace(seq.tasks[2], start=30.0,
                                                                                     end=32.0)])
    at = 20.0  # the second task 18 s in, nine times the first one's 2 s: still one task left to come
    state = replayed(slow, at)
    assert state.eta(at) == pytest.approx((at - seq.startup_seconds) / 2, abs=0.01)


"""The plain sentences that say why a run took as long as it did, on real runs (recorded ones:
test_engine_why.py)."""

from __future__ import annotations

import pytest

from concgui.engine import ExperimentSpec, run
from concgui.engine.metrics import metric
from concgui.engine.records import TaskRecord
from concgui.engine.summary import busy_machine, peak_in_flight, summarize
from concgui.engine.why import explain


def inline(**kw) -> ExperimentSpec:
    return ExperimentSpec(**{"isolation": "inline", **kw})


def test_sleeping_processes_are_told_that_threads_overlap_waiting_as_well():
    result = run(inline(workload="sleep", executor="process-pool", tasks=2, duration=0.6, workers=2))
    assert_waiting_overlapped(result)


def assert_waiting_overlapped(result) -> None:
    """Sleeping tasks: told that threads or asyncio overlap waiting as well, unless starting the pool took longer
    than the work (a busy machine can make it so), which is then the story."""
    text = explain(result)
    if result.startup_seconds >= result.wall_seconds:
        assert "Start-up dominated" in text, text
    else:
        assert "Try thread-pool or asyncio next: they overlap waiting as well" in text, text
    assert "in parallel" not in text, text  # they slept side by side; no core computed


def test_cpu_bound_threads_are_told_the_gil_held_them_back_and_to_try_processes():
    result = run(inline(workload="cpu", executor="thread-pool", tasks=4, duration=0.15, workers=2))
    text = explain(result)
    if busy_machine(result) and "on the GIL" not in text:  # other programs took the cores: that is the story
        assert "other programs" in text.lower(), text
        return
    assert "on the GIL" in text, text  # measured blocked on it (or, without the X-ray, taking turns on it)
    assert "Try process-pool next: each process has its own GIL" in text, text


def test_a_run_without_thread_states_has_no_xray_numbers_or_sentence():
    result = run(inline(workload="sleep", executor="thread-pool", tasks=2, duration=0.05, workers=2))
    result.thread_states = []  # as a run from before the X-ray
    result.summary = summarize(result)
    assert [result.summary[k] for k in ("on_core_share", "waiting_share", "blocked_share")] == [None] * 3
    assert "of the time" not in explain(result)
    assert metric("blocked_share").text(result.summary) == "—"


def test_a_dask_run_names_its_workers_and_the_clock_correction():
    pytest.importorskip("distributed")
    result = run(inline(workload="sleep", executor="dask", tasks=4, duration=0.1, workers=2))
    text = explain(result)
    assert "on 2 Dask worker processes (2 threads)" in text
    assert "no clock correction was needed" in text
    assert_waiting_overlapped(result)


@pytest.mark.parametrize(("spans", "peak"), [
    ([], 0),
    ([(0, 1), (1, 2), (2, 3)], 1),  # back to back: one ends as the next starts
    ([(0, 2), (1, 3), (1.5, 1.6), (2.5, 4)], 3),
    ([(0, 1)] * 4 + [(1, 2)], 4),
])
def test_peak_in_flight_counts_the_most_tasks_running_at_one_moment(spans, peak):
    assert peak_in_flight([TaskRecord(i, start=a, end=b) for i, (a, b) in enumerate(spans)]) == peak

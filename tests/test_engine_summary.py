"""The plain sentences that say why a run took as long as it did, on real runs."""

from __future__ import annotations

import pytest

from concgui.engine import ExperimentSpec, run
from concgui.engine.metrics import metric
from concgui.engine.summary import explain, summarize


def inline(**kw) -> ExperimentSpec:
    return ExperimentSpec(**{"isolation": "inline", **kw})


def test_sleeping_processes_are_told_that_threads_overlap_waiting_as_well():
    text = explain(run(inline(workload="sleep", executor="process-pool", tasks=4, duration=0.1, workers=2)))
    assert "The processes overlapped their waiting" in text


def test_cpu_bound_threads_are_told_they_take_turns_on_the_gil():
    text = explain(run(inline(workload="cpu", executor="thread-pool", tasks=4, duration=0.15, workers=2)))
    assert "take turns on the GIL" in text


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
    assert "The processes overlapped their waiting" in text

"""The plain sentences that say why a run took as long as it did, on real runs."""

from __future__ import annotations

import pytest

from concgui.engine import ExperimentSpec, run
from concgui.engine.summary import explain


def inline(**kw) -> ExperimentSpec:
    return ExperimentSpec(**{"isolation": "inline", **kw})


def test_sleeping_processes_are_told_that_threads_overlap_waiting_as_well():
    text = explain(run(inline(workload="sleep", executor="process-pool", tasks=4, duration=0.1, workers=2)))
    assert "The processes overlapped their waiting" in text


def test_cpu_bound_threads_are_told_they_take_turns_on_the_gil():
    text = explain(run(inline(workload="cpu", executor="thread-pool", tasks=4, duration=0.15, workers=2)))
    assert "take turns on the GIL" in text


def test_a_dask_run_names_its_workers_and_the_clock_correction():
    pytest.importorskip("distributed")
    result = run(inline(workload="sleep", executor="dask", tasks=4, duration=0.1, workers=2))
    text = explain(result)
    assert "on 2 Dask worker processes (2 threads)" in text
    assert "no clock correction was needed" in text
    assert "The processes overlapped their waiting" in text

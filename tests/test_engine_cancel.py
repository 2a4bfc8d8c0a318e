"""Cancel: queued tasks are dropped, running ones stop, the run returns within 2 s and leaves nothing behind.

The ``no_leftovers`` fixture in conftest.py fails any of these that leaves a
thread or process running.
"""

from __future__ import annotations

import threading
import time

import pytest

import concgui.engine as engine
from concgui.engine import ExperimentSpec, TaskStarted

CANCEL_AFTER = 0.3
CANCEL_LIMIT = 2.0


def cancel_while_running(spec: ExperimentSpec):
    """Start ``spec``, cancel it from another thread 0.3 s after its first task started.

    Returns the result and the seconds from the cancel to ``execute()`` returning.
    """
    first_start = threading.Event()
    events = []

    def on_events(batch):
        events.extend(batch)
        if any(isinstance(e, TaskStarted) for e in batch):
            first_start.set()

    run = engine.start(spec, on_events)
    cancelled_at = []

    def canceller():
        first_start.wait(30)
        time.sleep(CANCEL_AFTER)
        cancelled_at.append(time.monotonic())
        run.cancel()

    t = threading.Thread(target=canceller, name="test-canceller")
    t.start()
    try:
        result = run.execute()
        returned_at = time.monotonic()
    finally:
        first_start.set()
        t.join()
    assert cancelled_at, "the run ended before it could be cancelled"
    return result, returned_at - cancelled_at[0], events


def long_run(executor: str, **kw) -> ExperimentSpec:
    kw = {"isolation": "inline", "workload": "sleep", "tasks": 20, "duration": 5.0, **kw}
    return ExperimentSpec(executor=executor, **kw)


@pytest.mark.parametrize(("executor", "extra"), [
    ("thread-pool", {"workers": 2}),
    ("process-pool", {"workers": 2, "start_method": "fork"}),
    ("process-pool", {"workers": 2, "start_method": "forkserver"}),
    ("threads", {}),
    ("asyncio", {}),
    ("processes", {"tasks": 3, "start_method": "fork"}),
    ("qt-thread-pool", {"workers": 2}),
    ("sequential", {"tasks": 3}),
], ids=lambda v: v if isinstance(v, str) else ",".join(f"{k}={x}" for k, x in v.items()))
def test_cancel_returns_quickly_and_marks_tasks_cancelled(executor, extra):
    result, took, _ = cancel_while_running(long_run(executor, **extra))
    assert took < CANCEL_LIMIT, f"cancel took {took:.2f} s"
    assert result.status == "cancelled"
    assert result.tasks, "every task keeps its record"
    assert all(t.status == "cancelled" for t in result.tasks), [t.status for t in result.tasks]
    assert result.summary["cancelled"] == len(result.tasks)
    assert result.wall_seconds < 5.0


def test_queued_tasks_never_start_after_a_cancel():
    result, _, _ = cancel_while_running(long_run("thread-pool", workers=2))
    started = [t for t in result.tasks if t.start is not None]
    assert len(started) <= 2, "only the two running tasks had started"
    queued = [t for t in result.tasks if t.start is None]
    assert len(queued) >= 18 and all(t.status == "cancelled" for t in queued)


@pytest.mark.parametrize("isolation", ["inline", "process"])
def test_cancel_before_execute_runs_nothing(isolation):
    run = engine.start(long_run("thread-pool", workers=2, isolation=isolation))
    run.cancel()
    t = time.monotonic()
    result = run.execute()
    assert time.monotonic() - t < CANCEL_LIMIT
    assert result.status == "cancelled"
    assert all(t.status == "cancelled" for t in result.tasks)


def test_cancel_cpu_work_in_a_process_pool_stops_cooperatively():
    spec = ExperimentSpec(executor="process-pool", workers=2, start_method="fork", workload="cpu", tasks=6,
                          duration=10.0, isolation="inline")
    result, took, _ = cancel_while_running(spec)
    assert took < CANCEL_LIMIT
    assert result.status == "cancelled"
    assert all(t.status == "cancelled" for t in result.tasks)


@pytest.mark.parametrize(("executor", "extra"), [
    ("process-pool", {"workers": 2, "start_method": "fork", "chunk_size": 4}),
    ("asyncio", {"workload": "cpu", "offload": True, "tasks": 4}),
    ("thread-pool", {"workers": 2, "workload": "hash", "tasks": 4}),
    ("threads", {"workload": "mixed", "cpu_fraction": 0.5, "tasks": 3}),
], ids=["process-pool-chunks", "asyncio-offload-cpu", "thread-pool-hash", "threads-mixed"])
def test_cancel_other_workloads_and_chunks(executor, extra):
    result, took, _ = cancel_while_running(long_run(executor, **extra))
    assert took < CANCEL_LIMIT, f"cancel took {took:.2f} s"
    assert result.status == "cancelled"
    assert all(t.status == "cancelled" for t in result.tasks), [(t.index, t.status, t.error) for t in result.tasks
                                                                if t.status != "cancelled"]


def test_cancel_file_io_removes_its_files(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result, took, _ = cancel_while_running(long_run("threads", workload="file-io", size_mb=4000, tasks=2))
    assert took < CANCEL_LIMIT
    assert result.status == "cancelled"
    assert list(tmp_path.iterdir()) == [], "the private temp dir is removed on cancel too"


def test_cancel_through_the_engine_process():
    result, took, events = cancel_while_running(long_run("thread-pool", workers=2, isolation="process"))
    assert took < CANCEL_LIMIT, f"cancel took {took:.2f} s"
    assert result.status == "cancelled"
    assert all(t.status == "cancelled" for t in result.tasks)
    assert type(events[-1]).__name__ == "RunFinished"


def test_cancel_a_process_pool_in_the_engine_process():
    result, took, _ = cancel_while_running(long_run("process-pool", workers=2, isolation="process"))
    assert took < CANCEL_LIMIT, f"cancel took {took:.2f} s"
    assert result.status == "cancelled"

"""The counter workload on real threads and processes: lost updates, a lock that keeps the count right,
and processes whose counts never meet; and the sentences that say so."""

from __future__ import annotations

import pytest

from concgui.engine import ExperimentSpec, SpecError, run
from concgui.engine.counter import KEYS, counter_figures, counts
from concgui.engine.records import RunResult, TaskRecord
from concgui.engine.why import counter_sentence, explain

#: tries of the lock-free thread run: a try loses updates only if a thread is switched out between its read
#: and its write, which the 5 ms switch interval makes likely (10 of 10 runs of 4 × 300,000 on 2 cores) but
#: a thread that finishes within one interval loses none: three tries make a false failure negligible
TRIES = 3


def counter(executor: str, increments: int, lock: bool = False, **kw) -> ExperimentSpec:
    kw.setdefault("isolation", "inline")
    return ExperimentSpec(workload="counter", executor=executor, tasks=4, increments=increments, lock=lock, **kw)


def test_threads_without_the_lock_lose_updates_and_the_sentence_says_how_many():
    for _ in range(TRIES):
        result = run(counter("threads", 500_000))
        s = result.summary
        assert result.status == "ok", result.error
        assert s["counter_expected"] == 2_000_000 and s["counter_processes"] == 1
        assert s["counter_count"] + s["counter_lost"] == 2_000_000
        if s["counter_lost"] > 0:
            break
    assert s["counter_lost"] > 0, "four threads of 500,000 read-call-write increments lost none in three tries"
    assert s["counter_count"] == max(t.value for t in result.tasks), "the count given is the highest a task saw"
    text = counter_sentence(result)
    assert f"lost at least {s['counter_lost']:,} of 2,000,000 increments" in text
    assert f"the highest count a task saw was {s['counter_count']:,}" in text
    assert "switched out" in text and "stale value" in text
    assert explain(result).startswith(text), "the command line's Why: begins with what was counted"


def test_threads_with_the_lock_count_right_and_slower():
    free = run(counter("thread-pool", 100_000, workers=4))
    locked = run(counter("thread-pool", 100_000, lock=True, workers=4), baseline=free)
    s = locked.summary
    assert locked.status == "ok", locked.error
    assert s["counter_count"] == s["counter_expected"] == 400_000 and s["counter_lost"] == 0
    assert sorted(t.value for t in locked.tasks)[-1] == 400_000
    assert s["counter_lock_slowdown"] == pytest.approx(locked.wall_seconds / free.wall_seconds)
    assert s["counter_lock_slowdown"] > 1.5, "a lock taken 400,000 times costs more than it saves"
    text = counter_sentence(locked)
    assert "counted all 400,000 increments, right" in text and "slower than without it" in text


def stopped_run(spec: ExperimentSpec) -> RunResult:
    """``spec`` really run and stopped 0.2 s after its first task started (Stop in the window)."""
    import threading
    import time

    import concgui.engine as engine
    from concgui.engine import TaskStarted

    started = threading.Event()
    handle = engine.start(spec, lambda batch: any(isinstance(e, TaskStarted) for e in batch) and started.set())

    def stop() -> None:
        started.wait(30)
        time.sleep(0.2)
        handle.cancel()

    stopper = threading.Thread(target=stop, name="test-stopper")
    stopper.start()
    try:
        return handle.execute()
    finally:
        started.set()
        stopper.join()


def test_the_locks_slowdown_needs_a_baseline_that_finished():
    """A lock-free baseline stopped after a fraction of a second is no measure of the counting without the lock:
    the locked run's time over it would be a slowdown of the stop, not of the lock."""
    free = stopped_run(counter("thread-pool", 50_000_000, workers=4))  # minutes of counting, stopped
    assert free.status == "cancelled" and 0 < free.wall_seconds < 5
    locked = run(counter("thread-pool", 100_000, lock=True, workers=4), baseline=free)
    assert locked.status == "ok", locked.error
    s = locked.summary
    assert s["counter_count"] == s["counter_expected"] == 400_000, "its own counts are still read"
    assert s["counter_lock_slowdown"] is None and s["speedup"] is None
    assert "slower than without it" not in counter_sentence(locked)


def test_each_process_counts_its_own_and_the_counts_never_meet():
    result = run(counter("process-pool", 1_000_000, workers=2, start_method="fork"))
    assert result.status == "ok", result.error
    c = counts(result)
    per_pid = {pid: sum(1 for t in result.tasks if t.pid == pid) for pid in {t.pid for t in result.tasks}}
    assert {pid: n for (pid, _), n in c.reached.items()} == {pid: n * 1_000_000 for pid, n in per_pid.items()}, \
        "each process counted only its own tasks' increments, all of them"
    s = result.summary
    assert s["counter_sum"] == s["counter_expected"] == 4_000_000 and s["counter_lost"] == 0
    assert s["counter_processes"] == len(per_pid)
    if len(per_pid) > 1:  # the pool spreads the tasks (one worker may rarely take them all)
        assert s["counter_count"] < 4_000_000, "no process's counter reached the total"
        text = counter_sentence(result)
        assert "processes share no memory" in text and "of the 4,000,000 increments (4,000,000 together)" in text


def test_a_counter_run_without_counts_has_no_figures_and_no_sentence():
    tasks = [TaskRecord(i, "thread 1", 7, 8, 0.0, 0.0, 0.1, 0.1, "ok") for i in range(2)]
    old = RunResult(spec=counter("threads", 10).to_dict(), environment={}, wall_seconds=0.1, tasks=tasks)
    assert counts(old) is None and counter_figures(old) == dict.fromkeys(KEYS)
    assert counter_sentence(old) == ""
    other = RunResult(spec=ExperimentSpec().to_dict(), environment={}, wall_seconds=0.1, tasks=tasks)
    assert counter_figures(other) == {}


def test_the_counter_fields_are_refused_out_of_range_naming_the_field():
    with pytest.raises(SpecError) as err:
        counter("threads", 0)
    assert err.value.field == "increments" and "from 1 to 1,000,000,000" in str(err.value)
    with pytest.raises(SpecError) as err:
        ExperimentSpec(workload="counter", lock="yes")
    assert err.value.field == "lock" and "true or false" in str(err.value)
    assert ExperimentSpec(workload="counter").relevant("lock")
    assert not ExperimentSpec(workload="cpu").relevant("increments")


def test_what_counter_threads_were_blocked_on():
    from concgui.engine.xray import ANY_CAUSE, blocked_cause

    assert blocked_cause({"workload": "counter", "executor": "threads"}) == "the GIL"
    assert blocked_cause({"workload": "counter", "executor": "thread-pool", "lock": True}) == "the lock or the GIL"
    assert blocked_cause({"workload": "counter", "executor": "threads", "lock": True}, gil=False) == "the lock"
    assert blocked_cause({"workload": "counter", "executor": "process-pool"}) == ANY_CAUSE

"""The X-ray covers every task from its start to its end: the first task of each worker too.

The probe's interpreter starts while the run's first tasks already run (0.05 s on a quiet machine,
seconds on a loaded one), and a worker thread or process is born between two readings. Each test
here is a real run or a real thread or process, read from the kernel's own accounting.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from concgui.engine import ExperimentSpec, run
from concgui.engine.cpu_probe import CLOCK_TICK, ThreadClocks, schedstat_works
from concgui.engine.sampler import LONGEST, THREAD_INTERVAL, CpuSampler
from concgui.engine.xray import ends_of, task_seconds

needs_schedstat = pytest.mark.skipif(not schedstat_works(), reason="this kernel keeps no per-thread schedstat")
JITTER = 0.002  # the probe stamps a reading a little before or after it reads


@pytest.mark.parametrize("executor", ["thread-pool", "process-pool"])
def test_each_tasks_shares_add_up_to_its_duration_first_tasks_too(executor):
    """on a core + waiting + blocked = the task's duration, to one sampling interval.

    The tolerance: the probe's interval holding the task's end (20 ms; longer where the probe itself
    waited for a core), plus 2 ms of stamping jitter. A task can miss at most that interval: its
    thread's last, when the thread ended in it (the pool shuts down; the kernel drops an ended thread's
    counters). Its start is covered: a thread counts from its birth, and the run from the sampler's
    start. Before that, the first task of each worker missed all the probe's start-up: 30 ms to 1.7 s.
    """
    result = run(ExperimentSpec(executor=executor, workers=4, workload="cpu", tasks=8, duration=0.1,
                                isolation="inline"))
    assert result.status == "ok", result.error
    states = result.thread_states
    ends = ends_of(states)
    first_of: dict[str, int] = {}
    for t in sorted(result.tasks, key=lambda t: t.start):
        first_of.setdefault(t.worker, t.index)
    assert len(first_of) == 4, first_of
    for t in result.tasks:
        xray = task_seconds(states, t, ends)
        assert xray is not None, f"task {t.index} ({t.worker}) has no X-ray at all"
        assert min(xray) >= 0.0, xray
        at_end = [s.interval for s in states if s.t - s.interval <= t.end <= s.t] or [0.0]
        tolerance = max(THREAD_INTERVAL, *at_end) + JITTER
        short = t.duration - sum(xray)
        first = "the first of its worker" if first_of[t.worker] == t.index else "a later one"
        assert -1e-9 <= short <= tolerance, (f"task {t.index}, {first}: {sum(xray):.4f} s of {t.duration:.4f} s "
                                             f"covered (tolerance {tolerance:.3f} s)")


def test_the_series_starts_with_the_sampler_not_with_the_probes_first_reading():
    """The run's threads are read once when the sampler starts; the stretch until the probe's first
    reading is spread over intervals of the resolution, each the same shares."""
    got: list[tuple] = []
    t0_ns = time.perf_counter_ns()
    sampler = CpuSampler(t0_ns, got.append)
    sampler.start()
    try:
        time.sleep(0.3)
    finally:
        sampler.stop()
    intervals = [payload for kind, payload in got if kind == "x"]
    assert intervals, "no X-ray interval"
    first_start = intervals[0][0] - intervals[0][1]
    assert 0.0 <= first_start <= 0.01, f"the series begins {first_start:.3f} s after the sampler started"
    assert all(i[1] <= LONGEST for i in intervals)
    for before, after in zip(intervals, intervals[1:], strict=False):  # gapless, in time order
        assert after[0] - after[1] == pytest.approx(before[0], abs=1e-9)


def test_a_threads_birth_is_read_on_the_runs_clock():
    t0_ns = time.perf_counter_ns() - 5_000_000_000  # a run that began 5 s ago
    clocks = ThreadClocks(schedstat_works(), t0_ns)
    clocks.read([os.getpid()])  # every thread known now: their births were given
    time.sleep(0.05)
    stop = threading.Event()
    born_at = (time.perf_counter_ns() - t0_ns) / 1e9
    sleeper = threading.Thread(target=stop.wait, args=(5,))
    sleeper.start()
    try:
        rows = {row[1]: row for row in clocks.read([os.getpid()])}
        again = {row[1]: row for row in clocks.read([os.getpid()])}
    finally:
        stop.set()
        sleeper.join()
        clocks.close()
    born = rows[sleeper.native_id][4]
    # the kernel truncates a start to its clock tick: born lies within one tick before the true start
    assert born_at - CLOCK_TICK - JITTER <= born <= born_at + JITTER, (born, born_at)
    assert len(rows[threading.get_native_id()]) == 4, "a thread read before has no birth again"
    assert len(again[sleeper.native_id]) == 4, "a birth is given once"


@needs_schedstat
def test_a_new_process_is_read_from_its_birth():
    """A child that computes from its first instant: the X-ray's on-core seconds of its thread are its
    whole CPU time, start-up included, though the probe looks for new processes only when one was born."""
    child_code = ("import sys, time\n"
                  "end = time.process_time() + 0.15\n"
                  "while time.process_time() < end: pass\n"
                  "print(time.process_time(), flush=True)\n"
                  "sys.stdin.read()\n")
    got: list[tuple] = []
    t0_ns = time.perf_counter_ns()
    sampler = CpuSampler(t0_ns, got.append)
    sampler.start()
    try:
        time.sleep(0.25)  # the probe runs
        child = subprocess.Popen([sys.executable, "-I", "-c", child_code], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        try:
            cpu = float(child.stdout.readline())
            time.sleep(0.1)  # readings of the child at rest, before it ends
        finally:
            told_to_end = (time.perf_counter_ns() - t0_ns) / 1e9  # its interpreter's shutdown costs CPU too
            child.stdin.close()
            child.wait(10)
            child.stdout.close()
    finally:
        sampler.stop()
    intervals = [payload for kind, payload in got if kind == "x"]
    on_core = sum(shares[0] * interval for t, interval, by_thread in intervals if t <= told_to_end
                  for (pid, _), shares in by_thread.items() if pid == child.pid)
    # a reading missed at its birth (the old 100 ms scan for new processes) lost 20 to 100 ms of it
    assert on_core == pytest.approx(cpu, abs=0.005), (on_core, cpu)  # measured: within 0.1 ms

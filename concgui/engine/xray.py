"""The GIL X-ray's numbers: what each worker lane's thread did, per interval, per task and per run.

The CPU probe samples, per thread, the share of each interval spent on a core, runnable but
waiting for one, and blocked (:class:`~concgui.engine.records.ThreadStates`). This module turns
those series into what people read: arrays to draw, seconds per task, shares per run, and the
cause of "blocked" where the engine knows it. Everything is derived after the fact from the
series, so nothing here costs a system call on a task's hot path.

Qt-free and numpy-free: the command line and the engine process, which summarize runs, start
without numpy.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from .records import RunResult, TaskRecord, ThreadStates
from .spec import EXECUTOR_KINDS, PROCESS_EXECUTORS, in_processes

#: executors whose workers are threads of one process, sharing one GIL
THREAD_EXECUTORS = ("sequential", "threads", "thread-pool", "asyncio", "qt-thread-pool")
#: what "blocked" can be when the engine cannot say which
ANY_CAUSE = "the GIL, a lock, sleep or I/O"
SHARE_KEYS = ("on_core", "waiting", "blocked")


def integrate(states: Sequence[ThreadStates], lane: str, start: float, end: float,
              ends: Sequence[float] | None = None) -> tuple[float, float, float, float]:
    """Seconds on a core, waiting and blocked of ``lane`` over [start, end], and the seconds covered.

    Each interval's shares are weighted by its overlap with the span; ``states`` are in time order
    and do not overlap (as the probe writes them), so the intervals that matter are found by
    bisection: a task's numbers cost O(log n) however long the run. ``ends``, the states' ``t``
    listed once (:func:`ends_of`), makes that bisection cheaper for a caller that asks per task.
    """
    on = waiting = blocked = covered = 0.0
    if end <= start:
        return on, waiting, blocked, covered
    # the first interval ending after the span starts
    first_index = bisect_right(states, start, key=_end_of) if ends is None else bisect_right(ends, start)
    for i in range(first_index, len(states)):
        s = states[i]
        first = s.t - s.interval
        if first >= end:
            break
        shares = s.lanes.get(lane)
        if shares is None:
            continue
        overlap = min(end, s.t) - max(start, first)
        if overlap <= 0:
            continue
        on += shares[0] * overlap
        waiting += shares[1] * overlap
        blocked += shares[2] * overlap
        covered += overlap
    return on, waiting, blocked, covered


def _end_of(s: ThreadStates) -> float:
    return s.t


def ends_of(states: Sequence[ThreadStates]) -> list[float]:
    """Each interval's end, for :func:`integrate`'s ``ends``."""
    return [s.t for s in states]


def task_states(states: list[ThreadStates], lane: str, start: float, end: float) -> tuple[float, float, float]:
    """Seconds ``lane`` spent on a core, waiting for a core and blocked over [start, end].

    They add up to ``end - start`` where the probe's intervals cover the span (to the sampling
    resolution where they do not: a span before the first or after the last sample is missed).
    """
    on, waiting, blocked, _ = integrate(states, lane, start, end)
    return on, waiting, blocked


def task_seconds(states: list[ThreadStates], task: TaskRecord,
                 ends: Sequence[float] | None = None) -> tuple[float, float, float] | None:
    """A task's (on a core, waiting, blocked) seconds, or None when it never ran or no sample covers it."""
    if task.start is None or task.end is None:
        return None
    on, waiting, blocked, covered = integrate(states, task.worker, task.start, task.end, ends)
    return (on, waiting, blocked) if covered > 0 else None


def lane_seconds(result: RunResult) -> dict[str, tuple[float, float, float, float]]:
    """Each worker lane's seconds on a core, waiting and blocked during its work, and the seconds covered.

    A lane's work is from its first task's start to its last task's end, within the run's work
    (the end of start-up to the last task's end): a pool thread idling before its first task or
    after its last (waiting for work, which reads as blocked) does not dilute the picture.
    """
    states = result.thread_states
    if not states:
        return {}
    spans: dict[str, list[float]] = {}
    for t in result.tasks:
        if t.start is None or t.end is None or not t.worker:
            continue
        span = spans.get(t.worker)
        if span is None:
            spans[t.worker] = [t.start, t.end]
        else:
            span[0] = min(span[0], t.start)
            span[1] = max(span[1], t.end)
    if not spans:
        return {}
    work_start = result.startup_seconds
    work_end = max(end for _, end in spans.values())
    ends = ends_of(states)
    return {lane: integrate(states, lane, max(first, work_start), min(last, work_end), ends)
            for lane, (first, last) in spans.items()}


def lane_shares(result: RunResult) -> dict[str, tuple[float, float, float]]:
    """Each worker lane's mean shares (on a core, waiting, blocked) during its work (:func:`lane_seconds`).

    Weighted by time, so they telescope to the kernel's totals over the lane's span; lanes the
    probe never covered are left out. The calibration tests and the benchmark read these.
    """
    return {lane: (on / covered, waiting / covered, blocked / covered)
            for lane, (on, waiting, blocked, covered) in lane_seconds(result).items() if covered > 0}


def run_shares(result: RunResult) -> dict[str, float] | None:
    """Mean shares {"on_core", "waiting", "blocked"} over all worker lanes during the work, or None.

    Each lane weighs by the seconds of its work the probe covered (:func:`lane_seconds`).
    """
    totals = [sum(values) for values in zip(*lane_seconds(result).values(), strict=True)] or [0.0] * 4
    covered = totals[3]
    if covered <= 0:
        return None
    return {key: value / covered for key, value in zip(SHARE_KEYS, totals, strict=False)}


def lanes_measured(result: RunResult) -> int:
    """How many worker lanes (task workers) the probe's series have."""
    seen = {lane for s in result.thread_states for lane in s.lanes}
    return len({t.worker for t in result.tasks if t.worker in seen})


def blocked_cause(spec: dict[str, Any], gil: bool = True) -> str:
    """What "blocked" was, in words, where the engine knows it; ``gil``: the run's GIL state.

    ``cpu`` threads of one process wait for the one GIL; on a free-threaded build with the GIL
    off they do not, and the cause is unknown like anywhere else. ``counter`` threads with the
    lock wait for it as well.
    """
    workload = spec.get("workload")
    threads = on_threads(spec)
    if workload == "sleep":
        return "sleeping"
    if workload == "file-io":
        return "I/O"
    if workload == "cpu" and threads and gil:
        return "the GIL"
    if workload == "hash" and threads and gil:
        return "the GIL, between hashlib calls"
    if workload == "counter" and threads:  # pure Python like cpu; with the lock, the lock too
        if spec.get("lock"):
            return "the lock or the GIL" if gil else "the lock"
        return "the GIL" if gil else ANY_CAUSE
    return ANY_CAUSE


def on_threads(spec: dict[str, Any]) -> bool:
    """Whether a run's workers are threads of one process, sharing its GIL: those of :data:`THREAD_EXECUTORS`,
    and an executor's variant that runs in the calling process (joblib's threading backend)."""
    executor = spec.get("executor")
    kind = EXECUTOR_KINDS.get(str(executor))
    return executor in THREAD_EXECUTORS or bool(kind and kind.variant_field and not in_processes(spec))


def worker_noun(executor: str | dict[str, Any] | None) -> str:
    """What a lane of this executor (or of a run, by its spec) is: "thread", "process" or "worker"."""
    spec = executor if isinstance(executor, dict) else {"executor": executor}
    executor = spec.get("executor")
    if on_threads(spec) or executor == "interpreter-pool":
        return "thread"
    if executor in PROCESS_EXECUTORS or (executor != "dask" and in_processes(spec)):
        return "process"
    return "worker"

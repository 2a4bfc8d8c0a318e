"""Memory per worker: what each worker process held over a run, from the probe's memory series.

A process pool's workers are each an interpreter of their own, with its own memory; a thread pool's
threads share the one process they run in. The probe reads each process of the run's tree (USS where the
platform gives it, else RSS: ``environment["memory"]``); this module names the worker processes (the
pids that ran a task) and gives their peaks: per worker, and in total (the peak of their sum).
"""

from __future__ import annotations

from typing import Any

from .records import MemorySample, RunResult

MB = 1e6


def worker_pids(result: RunResult) -> list[int]:
    """The processes that ran a task, in the order they first did (a thread run: its one process)."""
    seen: dict[int, None] = {}
    for t in result.tasks:
        if t.pid and t.start is not None:
            seen.setdefault(t.pid, None)
    return list(seen)


def series(samples: list[MemorySample], pids: list[int]) -> dict[int, tuple[list[float], list[float]]]:
    """Each of ``pids`` measured in ``samples``: its (times, MB), for a chart."""
    out: dict[int, tuple[list[float], list[float]]] = {}
    for s in samples:
        for pid in pids:
            value = s.per_pid.get(pid)
            if value is not None:
                ts, mb = out.setdefault(pid, ([], []))
                ts.append(s.t)
                mb.append(value / MB)
    return out


def total_series(samples: list[MemorySample], pids: list[int]) -> tuple[list[float], list[float]]:
    """The workers' memory together at each sample that measured any of them: (times, MB)."""
    ts, mb = [], []
    for s in samples:
        values = [s.per_pid[p] for p in pids if p in s.per_pid]
        if values:
            ts.append(s.t)
            mb.append(sum(values) / MB)
    return ts, mb


def memory_figures(result: RunResult) -> dict[str, Any]:
    """The summary's memory keys: ``memory_kind`` (uss, rss or None), ``memory_processes`` (the worker
    processes measured) of ``memory_workers`` (those that ran a task: the probe misses a process that ends
    between two readings, a short task's in one-process-per-task), ``memory_per_worker_mb`` (their peaks'
    mean), ``memory_total_mb`` (the peak of their sum); None each where the run has no memory series (an old
    file, no psutil, a remote cluster)."""
    pids = worker_pids(result)
    peaks = {pid: max(mb) for pid, (_, mb) in series(result.memory_samples, pids).items()}
    total = total_series(result.memory_samples, pids)[1]
    kind = (result.environment or {}).get("memory")
    measured = bool(peaks)
    return {
        "memory_kind": kind if measured and kind in ("uss", "rss") else None,
        "memory_processes": len(peaks) if measured else None,
        "memory_workers": len(pids) if measured else None,
        "memory_per_worker_mb": sum(peaks.values()) / len(peaks) if measured else None,
        "memory_total_mb": max(total) if measured else None,
    }

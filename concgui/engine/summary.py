"""The numbers a run is judged by, and the plain words that explain them.

concurrency = sum of task times / wall: how many tasks were in flight on average.
parallelism = CPU seconds of the tasks / wall: how many cores were kept busy.
The seed notebook's lesson is the gap between the two.
"""

from __future__ import annotations

from typing import Any

from .present import count, number, seconds
from .records import CANCELLED, ERROR, RunResult
from .spec import PROCESS_EXECUTORS

RELEASES_GIL = {"sleep", "hash", "file-io"}


def summarize(result: RunResult, baseline: RunResult | None = None) -> dict[str, Any]:
    tasks = result.tasks
    wall = result.wall_seconds
    ran = [t for t in tasks if t.start is not None and t.end is not None]
    task_sum = sum(t.end - t.start for t in ran)
    cpu_sum = sum(t.cpu_seconds for t in ran)
    work_start = result.startup_seconds
    samples = [s for s in result.cpu_samples if s.t >= work_start and s.per_core]
    mean_cpu = (sum(sum(s.per_core) / len(s.per_core) for s in samples) / len(samples)) if samples else None
    effective = max(1, min(result.workers, len(tasks)))
    out: dict[str, Any] = {
        "wall_seconds": wall,
        "startup_seconds": result.startup_seconds,
        "task_seconds": task_sum,
        "cpu_seconds": cpu_sum,
        "concurrency": task_sum / wall if wall > 0 else 0.0,
        "parallelism": cpu_sum / wall if wall > 0 else 0.0,
        "peak_in_flight": peak_in_flight(ran),
        "mean_cpu_percent": mean_cpu,
        "dispatch_overhead_seconds": max(0.0, wall - task_sum / effective) / len(tasks) if tasks else 0.0,
        "tasks": len(tasks),
        "errors": sum(1 for t in tasks if t.status == ERROR),
        "cancelled": sum(1 for t in tasks if t.status == CANCELLED),
        "workers": result.workers,
        "speedup": None,
        "efficiency": None,
        "baseline": None,
    }
    if baseline is not None and wall > 0:
        out["speedup"] = baseline.wall_seconds / wall
        out["efficiency"] = out["speedup"] / effective
        out["baseline"] = baseline.spec.get("executor")
    return out


def peak_in_flight(tasks) -> int:
    edges = sorted([(t.start, 1) for t in tasks] + [(t.end, -1) for t in tasks], key=lambda e: (e[0], e[1]))
    peak = cur = 0
    for _, d in edges:
        cur += d
        peak = max(peak, cur)
    return peak


def explain(result: RunResult) -> str:
    """One or two sentences saying why the run took as long as it did."""
    s = result.summary
    spec = result.spec
    ex, wl = spec.get("executor"), spec.get("workload")
    conc, par = s.get("concurrency", 0.0), s.get("parallelism", 0.0)
    gil = result.environment.get("gil_enabled", True)
    cores = result.environment.get("cpu_count", 1)
    if result.status != "ok":
        return f"The run {result.status}: {result.error or 'stopped before every task finished'}."
    if ex == "sequential":
        return ("One task at a time: the wall time is the sum of the task times "
                f"({seconds(s['task_seconds'], 2)}). Every other executor is measured against this.")
    speedup = s.get("speedup")
    text = f"On average {number(conc, 1)} tasks were in flight and {number(par, 1)} cores were busy. "
    if ex == "dask":
        text += cluster_sentence(result.environment.get("dask") or {}, s["startup_seconds"]) + " "
    if ex == "dask" and par > 1.2:
        text += ("Each worker process has its own interpreter and GIL, so CPU work runs truly in parallel, "
                 "up to the cores of the machines the workers run on.")
    elif ex in PROCESS_EXECUTORS and par > 1.2:
        text += (f"Each process has its own interpreter and GIL, so CPU work runs truly in parallel, "
                 f"up to the {count(cores, 'core')} of this machine; starting the pool took "
                 f"{seconds(s['startup_seconds'], 2)}.")
    elif ex in (*PROCESS_EXECUTORS, "dask"):
        text += ("The processes overlapped their waiting, which threads do as well and more cheaply; "
                 "separate processes pay off when the work needs several cores.")
    elif (wl in ("cpu", "mixed", "custom") and gil and conc > 1.3 * max(par, 0.01) and par < 1.3
          and (speedup is None or speedup < 1.3)):
        text += ("Pure-Python threads take turns on the GIL: many tasks are in flight "
                 "but only about one core computes, so CPU-bound threads do not speed up.")
    elif ex == "asyncio" and wl == "sleep":
        text += ("asyncio.sleep hands control back to the event loop, so one thread waits on all "
                 "the coroutines at once: concurrency without threads.")
    elif ex == "asyncio" and not spec.get("offload"):
        text += ("Blocking work runs on the event loop itself, so coroutines cannot overlap; "
                 "asyncio helps only when tasks await (asyncio.sleep, sockets) or are offloaded.")
    elif wl in RELEASES_GIL or wl == "mixed":
        what = {"sleep": "Sleeping", "hash": "hashlib", "file-io": "File I/O", "mixed": "The sleeping part"}[wl]
        text += (f"{what} releases the GIL, so while one task waits or runs C code the others proceed: "
                 "tasks overlap even in threads.")
    elif not gil:
        text += "This interpreter runs without the GIL, so threads can compute in parallel."
    return text.strip()


def cluster_sentence(dask: dict[str, Any], startup: float) -> str:
    """Where a Dask run ran and how its clocks were lined up, in a sentence."""
    workers = dask.get("workers", [])
    threads = sum(w.get("nthreads", 1) for w in workers)
    hosts = sorted({w.get("host", "?") for w in workers})
    text = (f"The tasks ran on {count(len(workers), 'Dask worker process')} ({count(threads, 'thread')}) on "
            f"{', '.join(hosts)}; connecting and preparing them took {seconds(startup, 2)}. ")
    moved = [w for w in workers if not w.get("same_clock")]
    if not moved:
        return text + "Every worker shares this machine's clock, so no clock correction was needed."
    shown = ", ".join(f"{w['host']} {w['clock_offset_ms']:+.2f} ms (± {w['clock_uncertainty_ms']:.2f})"
                      for w in moved[:3])
    return text + f"Clock offsets measured at the start and corrected: {shown}."

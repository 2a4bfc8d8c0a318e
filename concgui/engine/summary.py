"""The numbers a run is judged by, and the plain words that explain them.

concurrency = sum of task times / wall: how many tasks were in flight on average.
parallelism = CPU seconds of the tasks / wall: how many cores were kept busy.
The seed notebook's lesson is the gap between the two.
"""

from __future__ import annotations

from typing import Any

from .present import count, number, percent, seconds
from .records import CANCELLED, ERROR, RunResult
from .spec import PROCESS_EXECUTORS
from .xray import SHARE_KEYS, blocked_cause, lanes_measured, run_shares, worker_noun

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
    shares = run_shares(result)  # what the worker threads did, from the X-ray's series
    out.update({f"{key}_share": shares[key] if shares else None for key in SHARE_KEYS})
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


def explain(result: RunResult, load_line: bool = True) -> str:
    """One or two sentences saying why the run took as long as it did; with ``load_line``, then the line
    saying what other programs took meanwhile, where they took enough to matter (the window shows that line
    on its own)."""
    text = why_run(result)
    line = busy_machine_sentence(result) if load_line else ""
    return f"{text} {line}" if line else text


#: cores that other programs and the hypervisor together may take before a result says so
BUSY_CORES = 0.1


def foreign_cores(result: RunResult) -> float | None:
    """Cores other programs and the hypervisor (steal) took during the work, together; None if not measured
    (a run from before ConcGUI measured it, or without the CPU probe)."""
    env = result.environment or {}
    other, steal = env.get("other_programs_cores"), env.get("steal_cores")
    if other is None and steal is None:
        return None
    return (other or 0.0) + (steal or 0.0)


def busy_machine(result: RunResult) -> bool:
    """Whether other programs and the hypervisor took more than :data:`BUSY_CORES` during the work."""
    load = foreign_cores(result)
    return load is not None and load > BUSY_CORES


def busy_machine_sentence(result: RunResult) -> str:
    """"Other programs used 0.3 cores during this run: speedups are lower than this machine can give." for a
    finished run on a busy machine (naming the hypervisor's steal where it took its part); "" otherwise."""
    if result.status != "ok" or not busy_machine(result):
        return ""
    env = result.environment
    other, steal = env.get("other_programs_cores") or 0.0, env.get("steal_cores") or 0.0
    parts = []
    if other >= 0.05 or steal < 0.05:
        parts.append(f"other programs used {number(other, 1, 'cores')}")
    if steal >= 0.05:
        parts.append(f"the hypervisor took {number(steal, 1, 'cores')} (steal)")
    if result.spec.get("executor") == "sequential":
        effect = "its times may be longer, and speedups against it higher, than this machine can give"
    else:
        effect = "speedups are lower than this machine can give"
    text = " and ".join(parts)
    return f"{text[0].upper()}{text[1:]} during this run: {effect}."


def why_run(result: RunResult) -> str:
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
        return with_xray("One task at a time: the wall time is the sum of the task times "
                         f"({seconds(s['task_seconds'], 2)}). Every other executor is measured against this.", result)
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
    return with_xray(text.strip(), result)


def with_xray(text: str, result: RunResult) -> str:
    """``text`` and, where the run has the X-ray's series, the sentence saying what the workers did."""
    line = xray_sentence(result)
    return f"{text} {line}" if line else text


#: why a lane was blocked, after a colon, for the causes the engine knows ({noun}: thread, process)
BLOCKED_WHY = {
    "the GIL": "only the one holding it runs Python code, and the others wait their turn",
    "sleeping": "a sleeping {noun} needs no core",
    "I/O": "waiting for the disk needs no core",
    "the GIL, between hashlib calls": "hashlib lets go of it while it hashes and takes it back between blocks",
}


def xray_sentence(result: RunResult) -> str:
    """What the worker lanes did, from the measured shares, in one sentence ("" without the series).

    Names the state that dominated: blocked (and on what, where the engine knows), waiting for a
    core (and why: more workers than cores, or other work), or on a core.
    """
    s = result.summary or {}
    shares = {k: s.get(f"{k}_share") for k in SHARE_KEYS} if "on_core_share" in s else run_shares(result)
    if not shares or any(shares[k] is None for k in SHARE_KEYS):
        return ""
    spec, env = result.spec, result.environment
    on, waiting, blocked = (shares[k] for k in SHARE_KEYS)
    noun = worker_noun(spec.get("executor"))
    n = lanes_measured(result)
    who, were = (f"The {noun}", "was") if n == 1 else (f"The {count(n, noun)}", "were")
    gil = env.get("gil_enabled", True)
    if env.get("thread_states") == "cpu-time":  # no run-queue times: blocked holds the waiting too
        return (f"{who} {were} off a core {percent(100 * (1 - on))} of the time (blocked or waiting for one: "
                "this system does not tell the two apart).")
    if blocked >= 0.25 and blocked >= waiting:
        cause = blocked_cause(spec, gil)
        where = {"sleeping": "sleeping", "I/O": "on I/O"}.get(cause, f"on {cause}")
        why = BLOCKED_WHY.get(cause, "") if n > 1 or cause != "the GIL" else ""
        return f"{who} {were} blocked {percent(100 * blocked)} of the time {where}" + (
            f": {why.format(noun=noun)}." if why else ".")
    if waiting >= 0.25:
        cores = env.get("cpu_count")
        if cores and n > cores:
            why = f"there {'is' if cores == 1 else 'are'} only {count(cores, 'core')}"
        else:
            why = "other work kept the cores busy"
        return f"{who} waited for a core {percent(100 * waiting)} of the time: {why}."
    if on >= 0.75:
        why = ": without the GIL, threads compute in parallel" if noun == "thread" and not gil and n > 1 else ""
        return f"{who} {were} on a core {percent(100 * on)} of the time{why}."
    return (f"{who} {were} on a core {percent(100 * on)}, waiting for a core {percent(100 * waiting)} "
            f"and blocked {percent(100 * blocked)} of the time.")


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

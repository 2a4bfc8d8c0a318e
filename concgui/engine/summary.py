"""The numbers a run is judged by; :mod:`.why` turns them into plain words.

concurrency = sum of task times / wall: how many tasks were in flight on average.
parallelism = CPU seconds of the tasks / wall: how many cores were kept busy.
The seed notebook's lesson is the gap between the two.  The one sentence kept here,
:func:`busy_machine_sentence`, is the caption of the busy-machine figure that the
Compare table and chart show beside each run.
"""

from __future__ import annotations

from typing import Any

from .counter import counter_figures
from .memory import memory_figures
from .present import number
from .records import CANCELLED, ERROR, RunResult
from .transfer import transfer_figures
from .xray import SHARE_KEYS, run_shares


def summarize(result: RunResult, baseline: RunResult | None = None) -> dict[str, Any]:
    """The run's numbers (wall, concurrency, parallelism, the X-ray's shares...), with its speedup and
    efficiency against ``baseline`` when one is given."""
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
        "ran": len(ran),  # tasks that started and ended, errors too
        "lanes": len({t.worker for t in ran if t.worker}),  # the workers that ran them
        "errors": sum(1 for t in tasks if t.status == ERROR),
        "cancelled": sum(1 for t in tasks if t.status == CANCELLED),
        "workers": result.workers,
        "speedup": None,
        "efficiency": None,
        "baseline": None,
    }
    shares = run_shares(result)  # what the worker threads did, from the X-ray's series
    out.update({f"{key}_share": shares[key] if shares else None for key in SHARE_KEYS})
    out.update(counter_figures(result, baseline))  # the counter workload's counts: lost, or never met
    if baseline is not None and wall > 0:
        out["speedup"] = baseline.wall_seconds / wall
        out["efficiency"] = out["speedup"] / effective
        out["baseline"] = baseline.spec.get("executor")
    out.update(memory_figures(result))  # memory per worker process and in total, from the probe's series
    out.update(transfer_figures(result))  # time the tasks' arguments and results spent travelling
    return out


def peak_in_flight(tasks) -> int:
    """The most tasks running at one moment (a task ending as another starts is not counted with it)."""
    starts, ends = sorted(t.start for t in tasks), sorted(t.end for t in tasks)  # plain floats sort fast
    peak = running = j = 0
    for start in starts:
        while j < len(ends) and ends[j] <= start:  # every task that ended by this start
            running -= 1
            j += 1
        running += 1
        peak = max(peak, running)
    return peak


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

"""The numbers a run is judged by; :mod:`.why` turns them into plain words.

concurrency = sum of task times / wall: how many tasks were in flight on average.
parallelism = CPU seconds of the tasks / wall: how many cores were kept busy.
The seed notebook's lesson is the gap between the two. A task's CPU seconds count within its own span
(:func:`cpu_in_span`), so parallelism never exceeds concurrency. A speedup is only a finished run's
(:func:`run_speedup`), and the X-ray's shares only a run the probe read often enough (:func:`xray_shares`).
The one sentence kept here, :func:`busy_machine_sentence`, is the caption of the busy-machine figure that the
Compare table and chart show beside each run.
"""

from __future__ import annotations

from typing import Any

from .counter import counter_figures
from .memory import memory_figures
from .present import number
from .records import CANCELLED, ERROR, OK, RunResult, TaskRecord
from .transfer import transfer_figures
from .xray import SHARE_KEYS, run_shares

#: the probe's intervals (20 ms each, sampler.THREAD_INTERVAL) the work must overlap before the X-ray's shares
#: say what the work did: the first and last interval also hold what the threads did before and after it
#: (waiting for work, reading as blocked), which in a run of one or two intervals is most of what they hold
MIN_XRAY_INTERVALS = 5


def cpu_in_span(task: TaskRecord) -> float:
    """The task's CPU seconds, at most its own span (end - start).

    A worker reads a task's CPU time as its thread's CPU time since the previous task's end, so it also
    holds the pool's hand-over between the two (a few microseconds). Beside a task of milliseconds that
    is nothing; beside a no-op of a microsecond it is several times the task, and summed it made a loop of
    no-ops read 0.89 cores computing while 0.13 tasks were in flight. One thread cannot compute for
    longer than the span it ran in, so that is where the count stops.
    """
    return min(task.cpu_seconds, task.end - task.start)


def run_speedup(result: RunResult, baseline: RunResult | None) -> float | None:
    """``baseline``'s wall time over ``result``'s, where both finished (status ok); None otherwise.

    A stopped or failed run's wall time is the time until it stopped, not the time its tasks needed:
    three sleeps stopped after 1.6 s are not 3.8× faster than the loop that slept 6 s.
    """
    if baseline is None or result.status != OK or baseline.status != OK or result.wall_seconds <= 0:
        return None
    return baseline.wall_seconds / result.wall_seconds


def xray_shares(result: RunResult) -> dict[str, float] | None:
    """The X-ray's mean shares (:func:`.xray.run_shares`) where the probe's intervals overlap the work at
    least :data:`MIN_XRAY_INTERVALS` times; None otherwise (no series, or a run too short to sample)."""
    shares = run_shares(result)
    if shares is None:
        return None
    ends = [t.end for t in result.tasks if t.start is not None and t.end is not None]
    start, end = result.startup_seconds, max(ends)
    covering = sum(1 for s in result.thread_states if s.t > start and s.t - s.interval < end)
    return shares if covering >= MIN_XRAY_INTERVALS else None


def summarize(result: RunResult, baseline: RunResult | None = None) -> dict[str, Any]:
    """The run's numbers (wall, concurrency, parallelism, the X-ray's shares...), with its speedup and
    efficiency against ``baseline`` where both finished (:func:`run_speedup`)."""
    tasks = result.tasks
    wall = result.wall_seconds
    ran = [t for t in tasks if t.start is not None and t.end is not None]
    task_sum = sum(t.end - t.start for t in ran)
    cpu_sum = sum(map(cpu_in_span, ran))
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
    shares = xray_shares(result)  # what the worker threads did, from the X-ray's series
    out.update({f"{key}_share": shares[key] if shares else None for key in SHARE_KEYS})
    out.update(counter_figures(result, baseline))  # the counter workload's counts: lost, or never met
    speedup = run_speedup(result, baseline)
    if speedup is not None:  # only between finished runs
        out.update(speedup=speedup, efficiency=speedup / effective, baseline=baseline.spec.get("executor"))
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


def own_cores(result: RunResult) -> float:
    """The cores the run's own work wanted, on average: those it computed on (parallelism) and, where the
    X-ray tells it, those its workers waited for (the waiting share, once per worker lane)."""
    s = result.summary or {}
    if "parallelism" in s:
        computing = s["parallelism"] or 0.0
        waiting = (s.get("waiting_share") or 0.0) * (s.get("lanes") or 0)
    else:  # a run being summarised, or an old file's: from its records (no X-ray)
        ran = [t for t in result.tasks if t.start is not None and t.end is not None]
        wall = result.wall_seconds
        computing, waiting = (sum(map(cpu_in_span, ran)) / wall if wall > 0 else 0.0), 0.0
    return computing + waiting


def busy_machine(result: RunResult) -> bool:
    """Whether other programs and the hypervisor took cores this run wanted: more than :data:`BUSY_CORES`,
    and with the run's own demand (:func:`own_cores`) more than the machine's cores, less that margin.

    Sleeping needs no core: three sleeps side by side reach their 3× while other programs use 1.3 of two
    cores, and are not told that speedups are lower than this machine can give. A run whose machine's
    size was not recorded is judged by the others' load alone.
    """
    load = foreign_cores(result)
    if load is None or load <= BUSY_CORES:
        return False
    cores = (result.environment or {}).get("cpu_count")
    return not cores or own_cores(result) + load > cores - BUSY_CORES


def busy_machine_sentence(result: RunResult) -> str:
    """"Other programs used 0.3 cores during this run: speedups are lower than this machine can give." for a
    finished run on a busy machine (:func:`busy_machine`), naming the hypervisor's steal where it took its part;
    "" otherwise."""
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

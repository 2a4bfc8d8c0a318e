"""Recorded results for the "why" tests: runs laid out as their executors lay them out, with the numbers
measured for each case on a 2-core machine."""

from __future__ import annotations

from concgui.engine.records import OK, RunResult, TaskRecord, ThreadStates
from concgui.engine.spec import PROCESS_EXECUTORS
from concgui.engine.summary import summarize


def recorded(executor: str, workload: str, *, tasks: int, workers: int, duration: float, cpu: float,
             startup: float = 0.0, gap: float = 0.0, shares: tuple[float, float, float] | None = None,
             cores: int = 2, gil: bool = True, other: float | None = None, baseline: RunResult | None = None,
             spec: dict | None = None) -> RunResult:
    """A finished run: ``workers`` lanes, each running its tasks one after another ``gap`` seconds apart
    (the dispatch) from the end of ``startup``; every task ``duration`` long with ``cpu`` CPU seconds; the
    X-ray's ``shares`` (on a core, waiting, blocked) on every lane; ``other``: cores other programs took."""
    noun = "process" if executor in PROCESS_EXECUTORS else "thread"
    records = []
    for i in range(tasks):
        lane, turn = i % workers, i // workers
        start = startup + gap + turn * (duration + gap)
        records.append(TaskRecord(i, f"{noun} {lane}", 100 + lane, 200 + lane, startup, start, start + duration,
                                  cpu, OK))
    end = max(t.end for t in records)
    states = []
    if shares is not None:
        step = (end - startup) / 25
        lanes = {t.worker: shares for t in records}
        states = [ThreadStates(startup + (k + 1) * step, step, dict(lanes)) for k in range(25)]
    env = {"cpu_count": cores, "gil_enabled": gil, "thread_states": "schedstat"}
    if other is not None:
        env.update(other_programs_cores=other, steal_cores=0.0)
    result = RunResult(spec={"workload": workload, "executor": executor, "tasks": tasks, **(spec or {})},
                       environment=env, startup_seconds=startup, wall_seconds=end - startup, workers=workers,
                       tasks=records, thread_states=states)
    result.summary = summarize(result, baseline)
    return result


def sequential(workload: str = "cpu", tasks: int = 4, duration: float = 0.155, cpu: float = 0.152,
               shares=(0.96, 0.03, 0.01), **kw) -> RunResult:
    return recorded("sequential", workload, tasks=tasks, workers=1, duration=duration, cpu=cpu, startup=0.005,
                    shares=shares, **kw)


def threads_on_cpu(**kw) -> RunResult:
    """4 pure-Python tasks on a 4-thread pool: 3.7 in flight, 0.9 cores computing, blocked 65 % on the GIL."""
    return recorded("thread-pool", "cpu", **{**dict(tasks=4, workers=4, duration=0.84, cpu=0.2, startup=0.006,
                                                     gap=0.07, shares=(0.23, 0.12, 0.65)), **kw})


def processes_on_cpu(**kw) -> RunResult:
    """4 pure-Python tasks on a 2-process pool: about 1.9 cores computing, on a core 96 % of the time."""
    return recorded("process-pool", "cpu", **{**dict(tasks=4, workers=2, duration=0.155, cpu=0.152, startup=0.2,
                                                      gap=0.003, shares=(0.96, 0.02, 0.02)), **kw})

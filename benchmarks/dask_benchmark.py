"""The Dask executor's figures, measured side by side with the thread pool in one run.

    .venv/bin/python benchmarks/dask_benchmark.py [--quick]

Prints one JSON object per figure, as benchmarks/benchmark.py does (which calls
:func:`dask_figures` for its ``dask`` section).
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from concgui.engine import ExperimentSpec, run  # noqa: E402


def dask_figures(report: Callable[..., None], repeats: int = 3, noop_tasks: int = 2000) -> None:
    """Per-task overhead on noop against the thread pool, LocalCluster start-up, 2 × 2 sleep concurrency.

    Every Dask run starts its own LocalCluster on loopback (2 worker processes × 2 threads),
    as a person's run does; runs are interleaved so a noisy moment hits both executors alike.
    """
    try:
        import distributed  # noqa: F401
    except ImportError:
        report("dask_available", 0, "", "the dask extra installed", False)
        return
    dask = dict(executor="dask", workers=2, threads_per_worker=2)
    pool, on_dask, startup, conc = [], [], [], []
    for _ in range(repeats):
        pool.append(run(ExperimentSpec(workload="noop", executor="thread-pool", workers=4, tasks=noop_tasks)))
        on_dask.append(run(ExperimentSpec(workload="noop", tasks=noop_tasks, **dask)))
        sleep = run(ExperimentSpec(workload="sleep", tasks=16, duration=0.5, **dask))
        startup.append(sleep.startup_seconds)
        conc.append(sleep.summary["concurrency"])
    bad = [r.error for r in pool + on_dask if r.status != "ok"]
    if bad:
        report("dask_runs_ok", 0, "", "every run ok", False, errors=bad[:3])
        return
    per_pool = statistics.median(r.wall_seconds for r in pool) / noop_tasks
    per_dask = statistics.median(r.wall_seconds for r in on_dask) / noop_tasks
    report("dask_noop_us_per_task", 1e6 * per_dask, "µs", "", None, tasks=noop_tasks,
           note="LocalCluster 2 workers x 2 threads; wall of the work / tasks, start-up excluded")
    report("thread_pool_noop_us_per_task", 1e6 * per_pool, "µs", "", None, tasks=noop_tasks)
    report("dask_vs_thread_pool_overhead_ratio", per_dask / per_pool, "x", "", None,
           note="what a trip through the scheduler costs per task, against a thread pool in the engine process")
    report("dask_local_cluster_startup", statistics.median(startup), "s", "", None,
           spread=[round(min(startup), 3), round(max(startup), 3)],
           note="LocalCluster of 2 worker processes started, connected, clocks checked, workers prepared")
    c = statistics.median(conc)
    report("dask_sleep_2x2_concurrency", c, "tasks", ">= 3.6", c >= 3.6,
           note="16 x 0.5 s sleep on 2 workers x 2 threads")


def main() -> int:
    quick = "--quick" in sys.argv

    def report(figure, value, unit="", goal="", ok=None, **extra) -> None:
        print(json.dumps({"figure": figure, "value": round(value, 4) if isinstance(value, float) else value,
                          "unit": unit, "goal": goal, "pass": ok, **extra}), flush=True)

    dask_figures(report, repeats=1 if quick else 3, noop_tasks=500 if quick else 2000)
    return 0


if __name__ == "__main__":
    sys.exit(main())

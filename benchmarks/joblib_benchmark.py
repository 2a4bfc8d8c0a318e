"""joblib's and multiprocessing.Pool's figures (issue 19), beside the process pool's.

    .venv/bin/python benchmarks/joblib_benchmark.py [--repeats N] [--json PATH]

Prints one JSON object per figure ({"figure", "value", "unit", "goal", "pass", ...}):

- per-task overhead: ``noop`` × 20,000 on 2 workers, wall time over tasks, for joblib-loky with auto
  batching, joblib-loky with batch_size=1, mp-pool and process-pool (each executor's default chunking);
- loky's start-up cold (its first run in a process) against reused (the next run);
- ``cpu`` 8 × 0.25 s: speedup at 2 workers over 1 for loky and mp-pool (goal ≥ 1.8 on an idle 2-core machine),
  and for the process pool beside them, as the reference for what the host allowed in that run.

Runs are inline (in this process), so a second loky run can reuse the first's workers, and interleaved
and repeated (the median is kept), so a noisy moment on a shared machine hits every executor alike.
``joblib_figures(report)`` is what another benchmark script can call with its own ``report``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from concgui.engine import ExperimentSpec, RunResult, run  # noqa: E402
from concgui.engine.executors.joblib_backend import release_workers  # noqa: E402

NOOP_TASKS = 20_000
GOAL_SPEEDUP_2 = 1.8
OVERHEAD = {  # figure name -> the spec's executor fields
    "joblib_loky_auto": {"executor": "joblib", "backend": "loky"},
    "joblib_loky_batch_1": {"executor": "joblib", "backend": "loky", "batch_size": 1},
    "mp_pool": {"executor": "mp-pool"},
    "process_pool": {"executor": "process-pool"},
}


def _run(**kw) -> RunResult:
    result = run(ExperimentSpec(isolation="inline", **kw))
    if result.status != "ok":
        raise RuntimeError(f"{kw}: {result.status}: {result.error}")
    return result


def joblib_figures(report: Callable[..., None], repeats: int = 3) -> None:
    """Every figure of the issue, each the median of ``repeats`` interleaved runs."""
    walls: dict[str, list[float]] = {name: [] for name in OVERHEAD}
    batches: dict[str, list] = {}
    for _ in range(repeats):
        for name, fields in OVERHEAD.items():
            r = _run(workload="noop", tasks=NOOP_TASKS, workers=2, **fields)
            walls[name].append(r.wall_seconds)
            batches[name] = (r.environment.get("joblib") or {}).get("batches")
    for name in OVERHEAD:
        wall = statistics.median(walls[name])
        report(f"noop_overhead_per_task_{name}", wall / NOOP_TASKS * 1e6, "µs", "", None,
               wall_seconds=round(wall, 3), tasks=NOOP_TASKS, batches=batches[name])

    cold, warm = [], []
    for _ in range(repeats):
        release_workers()  # the next run starts loky's workers; the one after reuses them
        cold.append(_run(workload="noop", tasks=8, workers=2, executor="joblib").startup_seconds)
        warm.append(_run(workload="noop", tasks=8, workers=2, executor="joblib").startup_seconds)
    report("loky_startup_cold", statistics.median(cold), "s", "", None, runs=[round(c, 3) for c in cold])
    report("loky_startup_reused", statistics.median(warm), "s", "near zero", statistics.median(warm) < 0.1,
           runs=[round(w, 3) for w in warm])

    # interleaved with the process pool, the reference both are held to, so a slow moment hits all three
    speedups = {"joblib_loky": {"executor": "joblib"}, "mp_pool": {"executor": "mp-pool"},
                "process_pool": {"executor": "process-pool"}}
    one: dict[str, list[float]] = {name: [] for name in speedups}
    two: dict[str, list[float]] = {name: [] for name in speedups}
    for _ in range(repeats):
        for name, fields in speedups.items():
            one[name].append(_run(workload="cpu", tasks=8, duration=0.25, workers=1, **fields).wall_seconds)
            two[name].append(_run(workload="cpu", tasks=8, duration=0.25, workers=2, **fields).wall_seconds)
    for name in speedups:
        speedup = statistics.median(one[name]) / statistics.median(two[name])
        goal = name != "process_pool"  # the reference: what this host allows, no goal of its own
        report(f"cpu_speedup_2_workers_{name}", speedup, "x", f">= {GOAL_SPEEDUP_2}" if goal else "reference",
               speedup >= GOAL_SPEEDUP_2 if goal else None,
               wall_1=round(statistics.median(one[name]), 3), wall_2=round(statistics.median(two[name]), 3))
    release_workers()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", metavar="PATH", help="also write every figure here")
    args = parser.parse_args()
    figures: list[dict] = []

    def report(figure: str, value: float, unit: str = "", goal: str = "", ok: bool | None = None, **extra) -> None:
        row = {"figure": figure, "value": round(value, 4), "unit": unit, "goal": goal, "pass": ok, **extra}
        figures.append(row)
        print(json.dumps(row), flush=True)

    joblib_figures(report, args.repeats)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0 if all(f["pass"] is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())

"""What moving a task's data costs (issue 20): transfer seconds per MB, executor by executor, side by side.

    .venv/bin/python benchmarks/transfer_benchmark.py [--repeats N] [--mb MB] [--json PATH]

Prints one JSON object per figure ({"figure", "value", "unit", "goal", "pass", ...}): for each executor,
the seconds per MB a task's argument took to reach it (``sent``) and its result to come back
(``returned``), as the records measure them (see ``concgui/engine/transfer.py``): the median over the
tasks whose copy travelled (joblib and Dask send one copy per message, shared by the tasks in it, which
count 0), then the median over the repeats.  Executors: process-pool under fork, forkserver and spawn,
mp-pool, joblib's loky (batch_size 1: a copy per task), Dask's LocalCluster when distributed is installed,
and the thread pool, whose transfer is 0 by construction.

``startup_by_method``: a process pool's start-up (``startup_seconds``: until its workers are ready) under
fork, forkserver and spawn side by side, the median of the repeats of 2 workers and no data; its value is
the slowest method's median over fork's, and it carries the sentence a Compare of those runs shows.

Each run is 8 noop tasks on 2 workers with ``--mb`` MB in and out, in an engine process of its own (the
app's way: there fork is used as asked; each figure says which method ran); the executors take turns
within each repeat, so a noisy moment on a shared machine hits them alike.
``transfer_figures(report)`` is what ``benchmarks/benchmark.py`` calls with its own ``report``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from concgui.engine import ExperimentSpec, RunResult, run  # noqa: E402

TASKS, WORKERS = 8, 2
CASES: dict[str, dict] = {  # figure name -> the spec's executor fields
    "thread_pool": {"executor": "thread-pool"},
    "process_pool_fork": {"executor": "process-pool", "start_method": "fork"},
    "process_pool_forkserver": {"executor": "process-pool", "start_method": "forkserver"},
    "process_pool_spawn": {"executor": "process-pool", "start_method": "spawn"},
    "mp_pool": {"executor": "mp-pool"},
    "joblib_loky": {"executor": "joblib", "backend": "loky", "batch_size": 1},
    "dask_local": {"executor": "dask"},
}


def _per_mb(result: RunResult, key: str, mb: float) -> float:
    """The median seconds per MB over the tasks whose copy travelled (0 when none did)."""
    times = [getattr(t, f"{key}_seconds") for t in result.tasks if t.status == "ok"]
    moved = [x for x in times if x > 0]
    return statistics.median(moved) / mb if moved else 0.0


def transfer_figures(report: Callable[..., None], repeats: int = 3, mb: float = 20.0) -> None:
    """Report each executor's sent and returned seconds per MB, with its start method and the runs' shares."""
    size = int(mb * 1e6)
    cases = {k: v for k, v in CASES.items() if k != "dask_local" or importlib.util.find_spec("distributed")}
    runs: dict[str, list[RunResult]] = {k: [] for k in cases}
    for _ in range(repeats):
        for name, fields in cases.items():
            spec = ExperimentSpec(workload="noop", tasks=TASKS, workers=WORKERS, arg_bytes=size, result_bytes=size,
                                  **fields)
            runs[name].append(run(spec))
    for name, results in runs.items():
        failed = [r.error for r in results if r.status != "ok"]
        if failed:
            report(f"transfer_{name}_failed", len(failed), "runs", "0", False, error=failed[0])
            continue
        last = results[-1]
        method = last.summary.get("start_method")
        for key in ("sent", "returned"):
            per = [_per_mb(r, key, mb) for r in results]
            share = statistics.median(r.summary[f"{key}_share"] for r in results)
            report(f"transfer_{name}_{key}_ms_per_mb", 1e3 * statistics.median(per), "ms/MB", "", None,
                   per_repeat=[round(1e3 * x, 3) for x in per], share_of_workers_time=round(share, 3),
                   start_method=method, mb=mb)
        if name == "thread_pool":
            zero = all(t.sent_seconds == 0 == t.returned_seconds for r in results for t in r.tasks)
            report("transfer_thread_pool_is_zero", int(zero), "", "1: threads copy nothing", zero)


STARTUP_METHODS = ("fork", "forkserver", "spawn")


def startup_figures(report: Callable[..., None], repeats: int = 3) -> None:
    """Report a process pool's start-up under each start method, median of ``repeats``, side by side."""
    from concgui.engine.why_compare import start_method_sentence

    runs: dict[str, list[RunResult]] = {m: [] for m in STARTUP_METHODS}
    for _ in range(repeats):
        for method in STARTUP_METHODS:  # in turns, as the transfer runs
            runs[method].append(run(ExperimentSpec(workload="noop", executor="process-pool", start_method=method,
                                                   tasks=WORKERS, workers=WORKERS)))
    failed = [r.error for rs in runs.values() for r in rs if r.status != "ok"]
    if failed:
        report("startup_by_method_failed", len(failed), "runs", "0", False, error=failed[0])
        return
    median = {m: statistics.median(r.startup_seconds for r in rs) for m, rs in runs.items()}
    slowest = max(STARTUP_METHODS[1:], key=median.__getitem__)
    report("startup_by_method", median[slowest] / median["fork"], "x fork", "", None,
           median_ms={m: round(1e3 * v, 1) for m, v in median.items()},
           per_repeat_ms={m: [round(1e3 * r.startup_seconds, 1) for r in rs] for m, rs in runs.items()},
           used={m: sorted({r.environment.get("start_method") for r in rs}) for m, rs in runs.items()},
           compare=start_method_sentence([r for rs in runs.values() for r in rs]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mb", type=float, default=20.0, help="megabytes in and out of each task")
    parser.add_argument("--json", metavar="PATH", help="also write every figure to this file")
    args = parser.parse_args()
    figures: list[dict] = []

    def report(figure: str, value: float, unit: str = "", goal: str = "", ok: bool | None = None, **extra) -> None:
        row = {"figure": figure, "value": round(value, 4) if isinstance(value, float) else value, "unit": unit,
               "goal": goal, "pass": ok, **extra}
        figures.append(row)
        print(json.dumps(row), flush=True)

    transfer_figures(report, args.repeats, args.mb)
    startup_figures(report, args.repeats)
    if args.json:
        Path(args.json).write_text(json.dumps({"figures": figures}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

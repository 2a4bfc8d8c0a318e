"""The scaling study's figures: a cpu sweep on process-pool (goals) and on thread-pool (contrast).

    .venv/bin/python benchmarks/sweep_benchmark.py [--repeats N] [--json PATH]

Prints one JSON object per figure ({"figure", "value", "unit", "goal", "pass", ...}).
``sweep_figures(report)`` is what benchmarks/benchmark.py calls with its own ``report``. Both
executors run in one sweep, interleaved, so a noisy moment on the shared machine hits both.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from concgui.engine import ExperimentSpec, run  # noqa: E402
from concgui.engine.sweep import plan_sweep, run_sweep  # noqa: E402

#: 8 tasks of 0.25 s of pure-Python arithmetic, in the engine process (the app's default)
SPEC = ExperimentSpec(workload="cpu", tasks=8, duration=0.25)
GOAL_SPEEDUP_2, GOAL_SERIAL = 1.8, 0.1


def sweep_figures(report: Callable[..., None], repeats: int = 3) -> None:
    """cpu on process-pool and thread-pool, workers 1, 2, 4, ``repeats`` times each point.

    One short unrecorded run goes first: on this VM the first seconds of CPU work after a quiet
    spell ran up to 1.8× slower (3.85 s against 2.17 s for the same 1-worker point).
    """
    run(SPEC.with_(executor="process-pool", workers=2, tasks=4))
    with _Noise() as noise:
        sweep = run_sweep(plan_sweep(SPEC, ["process-pool", "thread-pool"], 4, repeats))
    load = noise.figures
    failed = sweep.failed()
    if failed:
        report("sweep_failed_points", len(failed), "runs", "0", False,
               first=f"{failed[0].executor} × {failed[0].workers}: {failed[0].status} {failed[0].error}")
    for executor in sweep.executors:
        stats = {r.workers: r for r in sweep.stats(executor)}
        key = executor.replace("-", "_")
        for n in (2, 4):
            r = stats.get(n)
            if r is None or r.speedup is None:
                report(f"sweep_cpu_{key}_speedup_{n}_workers", 0.0, "×", "", False, detail="no successful run")
                continue
            goal = f"≥ {GOAL_SPEEDUP_2}" if executor == "process-pool" and n == 2 else ""
            report(f"sweep_cpu_{key}_speedup_{n}_workers", r.speedup, "×", goal,
                   r.speedup >= GOAL_SPEEDUP_2 if goal else None,
                   spread=[round(r.speedup_min, 3), round(r.speedup_max, 3)], efficiency=round(r.efficiency, 3),
                   median_wall_s=round(r.median_wall, 3), runs=r.runs, **load)
        s = sweep.serial_fraction(executor)
        goal = f"< {GOAL_SERIAL}" if executor == "process-pool" else ""
        report(f"sweep_cpu_{key}_serial_fraction", -1.0 if s is None else s, "", goal,
               (s is not None and s < GOAL_SERIAL) if goal else None, cores=sweep.cores,
               fitted_over=f"1 < workers ≤ {sweep.cores}",
               walls_1_worker_s=round(sweep.base_wall(executor) or 0.0, 3), **load)


class _Noise:
    """Cores other programs (and the host, as steal) kept busy while the block ran: the shared machine's noise.

    Our own CPU is this process plus every descendant, sampled every 0.1 s (pool workers are
    children of a forkserver, so the kernel's accounting of reaped children misses them).
    """

    def __enter__(self) -> _Noise:
        self._seen: dict[tuple[int, float], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._start = (time.monotonic(), psutil.cpu_times(), self._own())
        self._thread.start()
        return self

    def _own(self) -> float:
        t = psutil.Process().cpu_times()
        return t.user + t.system

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.1):
            for p in me.children(recursive=True):
                try:
                    with p.oneshot():
                        t = p.cpu_times()
                        self._seen[(p.pid, p.create_time())] = t.user + t.system
                except psutil.Error:
                    pass

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        wall0, cpu0, own0 = self._start
        wall, cpu = time.monotonic() - wall0, psutil.cpu_times()
        busy = sum(getattr(cpu, k, 0.0) - getattr(cpu0, k, 0.0) for k in ("user", "nice", "system", "irq", "softirq"))
        own = self._own() - own0 + sum(self._seen.values())
        self.figures = {"other_programs_cores": round(max(0.0, busy - own) / wall, 2),
                        "steal_cores": round((getattr(cpu, "steal", 0.0) - getattr(cpu0, "steal", 0.0)) / wall, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per point (default 3)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to this file")
    args = parser.parse_args()
    figures: list[dict] = []

    def report(figure: str, value: float, unit: str = "", goal: str = "", ok: bool | None = None, **extra) -> None:
        row = {"figure": figure, "value": round(value, 4) if isinstance(value, float) else value, "unit": unit,
               "goal": goal, "pass": ok, **extra}
        figures.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)

    sweep_figures(report, args.repeats)
    if args.json:
        Path(args.json).write_text(json.dumps({"figures": figures}, indent=1, ensure_ascii=False))
    return 0 if all(f["pass"] is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())

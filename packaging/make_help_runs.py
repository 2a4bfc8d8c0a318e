"""Record the runs the Help page "Concurrency and parallelism" draws its pictures from.

    .venv/bin/python packaging/make_help_runs.py

Runs four real experiments with the engine (no window) and writes them to
``resources/help/runs.json`` in the ``concgui compare --json`` format.  The
page draws their timelines when it opens, with the window's own timeline and
cores charts, so the pictures always look like the window does now; only the
measurements are recorded.  Run it again on a quiet machine with at least two
cores when the run file format changes; it refuses to write runs that do not
show the lessons (a busy machine, one core).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from concgui.engine import ExperimentSpec, run  # noqa: E402 - after the path is set
from concgui.engine.exports import save_results  # noqa: E402

OUT = ROOT / "resources" / "help" / "runs.json"
#: the runs, in the order the page shows them: the seed's lesson, then the GIL's
SPECS = (
    ExperimentSpec(workload="sleep", tasks=3, duration=2.0, executor="sequential"),
    ExperimentSpec(workload="sleep", tasks=3, duration=2.0, executor="threads"),
    ExperimentSpec(workload="cpu", tasks=4, duration=0.5, executor="threads"),
    ExperimentSpec(workload="cpu", tasks=4, duration=0.5, executor="process-pool", workers=2),
)
#: what the file need not tell about the machine it was made on
PRIVATE = ("executable", "pid")


def problems(results: list) -> list[str]:
    """Why these runs would not show the page's lessons (a busy machine, one core); empty when they do."""
    seq, threads, cpu_threads, procs = results
    found = []
    if seq.wall_seconds / threads.wall_seconds < 2.7:
        found.append(f"three sleeping threads were only {seq.wall_seconds / threads.wall_seconds:.1f}× faster")
    if cpu_threads.summary["parallelism"] > 1.2:
        found.append(f"CPU-bound threads computed on {cpu_threads.summary['parallelism']:.2f} cores")
    if procs.summary["parallelism"] < 1.6:
        found.append(f"two processes computed on only {procs.summary['parallelism']:.2f} cores")
    return found


def main() -> int:
    results = []
    for spec in SPECS:
        result = run(spec)
        if result.status != "ok":
            print(f"{spec.executor}: {result.status} {result.error or ''}", file=sys.stderr)
            return 1
        for key in PRIVATE:
            result.environment.pop(key, None)
        results.append(result)
        print(f"{spec.workload} on {spec.executor}: {result.wall_seconds:.2f} s, "
              f"parallelism {result.summary['parallelism']:.2f}")
    found = problems(results)
    if found:
        print("not written: " + "; ".join(found) + ". Is the machine busy? Run it again when it is quiet.",
              file=sys.stderr)
        return 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    save_results(OUT, results)
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size / 1e3:,.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

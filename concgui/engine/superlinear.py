"""Speedups a scaling study cannot have measured: flagged as noise, with the run-to-run spread.

In a strong-scaling sweep (the same work shared by more workers) n workers cannot go more than n
times faster, and CPU-bound work cannot go faster than the cores it shares either: its limit is
min(workers, cores)×. A median speedup above the limit is noise, and nearly always the same
noise: every speedup of an executor divides its 1-worker median wall, so a baseline slowed by
other programs lifts the whole series. The window and the command line say so beside the number
instead of showing "efficiency 117 %" as if it were real.

Which workloads are judged: ``cpu`` and ``hash`` against min(workers, cores) (a Dask scheduler's
cluster, whose cores are not known, against its workers); ``sleep`` and ``mixed`` against the
workers (waits overlap at most n ways); the rest not at all (a file's page cache or a custom
function's own caches can make more workers really faster, and a no-op measures only overhead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .present import count, number, seconds, speedup

if TYPE_CHECKING:
    from .sweep import SweepResult

CPU_WORKLOADS = ("cpu", "hash")
WAIT_WORKLOADS = ("sleep", "mixed")
#: how far above the limit a median may be before it is flagged: what still shows as 100 %
TOLERANCE = 0.005


@dataclass(frozen=True)
class Superlinear:
    """One (executor, workers) whose median speedup is above what its workers or cores can give."""

    executor: str
    workers: int
    speedup: float  # the median of the repeats
    limit: float  # min(workers, cores) for CPU work, the workers otherwise
    limited_by: str  # "cores" or "workers"
    cores: int | None  # None: a Dask scheduler's cluster, whose cores are not known
    runs: int  # successful repeats behind the median
    spread: float | None  # ± half the repeats' min..max speedup; None with one run
    base_low: float | None  # the 1-worker baseline's walls, min and max
    base_high: float | None
    name: str = ""  # the executor as people name it ("joblib (loky)"); the executor's name when empty

    def short(self) -> str:
        """A few words for a table cell or a chart's mark: "above 2 cores"."""
        return f"above {self._limit_text()}"

    def sentence(self) -> str:
        """What the number is and why it is noise, with the spread that says how noisy the runs were."""
        on = f" on {count(self.cores, 'core')}" if self.cores is not None else ""
        head = (f"{self.name or self.executor}: {speedup(self.speedup)} with {count(self.workers, 'worker')}{on} is "
                f"above what {self._limit_text()} can give ({speedup(self.limit, 0)} at most)")
        if self.spread is None:
            spread = "one run per point, so no run-to-run spread was measured"
        else:
            spread = f"run-to-run spread ±{number(self.spread)}× ({count(self.runs, 'repeat')})"
        base = ""
        if self.base_low is not None and self.base_high is not None:
            low, high = seconds(self.base_low, 2), seconds(self.base_high, 2)
            base = f" (its walls {low}–{high})" if high != low else f" ({low})"
        return (f"{head}: {spread}; the 1-worker baseline{base} was probably slowed by other programs, so read "
                "it as noise, not speed")

    def _limit_text(self) -> str:
        if self.limited_by == "cores" and self.cores is not None:
            return count(self.cores, "core")
        return count(int(self.limit), "worker")


def speedup_limit(workload: str, workers: int, cores: int | None) -> tuple[float, str] | None:
    """(the most a point can speed up, "cores" or "workers"), or None for a workload not judged."""
    if workload in CPU_WORKLOADS:
        if cores is not None and cores <= workers:
            return float(cores), "cores"
        return float(workers), "workers"
    if workload in WAIT_WORKLOADS:
        return float(workers), "workers"
    return None


def superlinear_points(sweep: SweepResult) -> list[Superlinear]:
    """Every (executor, workers) of ``sweep`` whose median speedup is above its limit, in the table's order."""
    workload = str(sweep.spec.get("workload", ""))
    flags = []
    for row in sweep.all_stats():
        if row.speedup is None or row.workers <= 1:
            continue
        # a Dask cluster's workers keep their own threads: the point's real worker threads are its workers
        threads = max([p.threads or p.workers for p in sweep.points if p.executor == row.executor
                       and p.workers == row.workers and p.status == "ok"], default=row.workers)
        cores = sweep.cores_of(row.executor)
        limit = speedup_limit(workload, max(row.workers, threads), cores)
        if limit is None or row.speedup <= limit[0] * (1.0 + TOLERANCE):
            continue
        spread = (row.speedup_max - row.speedup_min) / 2 if row.runs > 1 and row.speedup_min is not None else None
        base = sweep.ok_walls(row.executor, 1)
        flags.append(Superlinear(row.executor, row.workers, row.speedup, limit[0], limit[1], cores, row.runs,
                                 spread, min(base, default=None), max(base, default=None), sweep.label(row.executor)))
    return flags

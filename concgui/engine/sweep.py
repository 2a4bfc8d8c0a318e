"""A scaling study ("sweep"): one workload run with 1, 2, 4, … workers on each chosen executor.

Every point is a real run through the engine's normal path (:func:`concgui.engine.start`),
repeated ``repeats`` times. The points run interleaved — for each repeat, for each worker
count, for each executor — so a burst of machine noise hits every series alike.

Numbers (strong scaling: the same work shared by more workers):

* *wall* is the run's wall time, pool start-up excluded (as everywhere in ConcGUI);
* *speedup* at n workers = median wall at 1 worker of the **same** executor ÷ median wall at n,
  so 1 worker is exactly 1×; its spread runs from that 1-worker median ÷ the slowest repeat at n
  to ÷ the fastest (each run's own speedup, ÷ its wall, is in the CSV);
* *efficiency* = speedup ÷ n;
* the *serial fraction* s is Amdahl's law, S(n) = 1 / (s + (1 − s) / n), fitted by least
  squares through the origin of 1/S − 1/n = s·(1 − 1/n) over the points with 1 < n ≤ cores,
  clamped to [0, 1]. Beyond the core count the limit is the hardware, not the code's serial
  part, so those points are left out of the fit (``None`` when no point is left).

The cores are this machine's, except for Dask with a scheduler address: its workers are another
cluster's, whose cores a sweep does not learn (every run names its number of workers, so each
sees only the workers it used). There :meth:`SweepResult.cores_of` is None: no cores line, and
the fit takes every point with more than one worker. On Dask a "worker" is a worker process;
its LocalCluster's ``threads_per_worker`` must be 1 so that workers are threads, as in the
other pools (a cluster's workers keep their own threads: each point records the run's real
worker threads as ``threads``).

A median speedup above what the workers or cores can give (superlinear) is noise, flagged with
the run-to-run spread by :mod:`.superlinear` (:meth:`SweepResult.superlinear`).

Only successful runs count; a run that failed, was cancelled or had a task raise is kept as a
point with that status and its error, and the sweep goes on.
"""

from __future__ import annotations

import csv
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .environment import cpu_count
from .exports import read_json, save_json, write_atomic
from .records import ERROR
from .spec import (
    EXECUTOR_KINDS,
    EXECUTORS,
    MAX_WORKERS,
    ExperimentSpec,
    Param,
    SpecError,
    check_value,
    executor_label,
)
from .superlinear import Superlinear, superlinear_points
from .validate import (
    MAX_CORES,
    MAX_EPOCH,
    OPTIONAL_TEXT,
    SECONDS,
    TEXT,
    Field,
    check,
    check_fields,
    check_list,
    check_spec,
    number_field,
    whole_field,
)

SWEEP_FORMAT = "concgui-sweep"
SWEEP_VERSION = 1
MAX_REPEATS = 100
#: what a point's speedup is, in the words every table, chart, tooltip and help page shows after
#: "speedup = " (:meth:`SweepResult.stats` computes it so): one sentence, so none of them can say another rule
SPEEDUP_RULE = "the same executor's median wall at 1 worker ÷ this point's median wall"
#: what a point's efficiency is, shown after "efficiency = " (or "efficiency: ")
EFFICIENCY_RULE = "speedup ÷ workers"
#: the sweep's own fields, declared as the spec's are: the dialog and the command line read them here
SWEEP_PARAMS: dict[str, Param] = {
    p.name: p
    for p in (
        Param("max_workers", "Max workers", int, "Workers go 1, 2, 4, … up to this (and this number itself). "
              "By default twice the cores, to show what happens past them.", "workers", 1, MAX_WORKERS),
        Param("repeats", "Repeats", int, "Runs per point: the chart shows their median and min–max.",
              "", 1, MAX_REPEATS),
    )
}
DEFAULT_REPEATS = 3


#: at most this many executors and worker counts in a sweep file (a sweep plans far fewer)
MAX_SWEEP_SERIES = 64
#: a sweep file's fields, checked as a run's are (:mod:`.validate`): the same words, each named by where it sits
SWEEP_FIELDS: dict[str, Field] = {
    "repeats": whole_field(1, MAX_REPEATS),
    "cores": whole_field(1, MAX_CORES),
    "started_at": number_field(0, MAX_EPOCH),
}
POINT_FIELDS: dict[str, Field] = {
    "executor": TEXT,
    "workers": whole_field(1, MAX_WORKERS),
    "repeat": whole_field(0, MAX_REPEATS),
    "wall_seconds": (SECONDS[0], True),
    "startup_seconds": (SECONDS[0], True),
    "status": (Param("status", "status", str, "", choices=("ok", ERROR, "failed", "cancelled")), False),
    "error": OPTIONAL_TEXT,
    "threads": whole_field(0, MAX_WORKERS * 1024, nullable=True),
}


def check_sweep_dict(d: dict[str, Any]) -> None:
    """Every value of a sweep file that is read back, or a SpecError (a ValueError) naming the first bad one
    (``points[3].workers: -5 is out of range; allowed: …``): a loaded sweep never makes a view raise."""
    for key in ("spec", "executors", "worker_counts", "repeats", "cores", "points"):
        if key not in d:
            raise SpecError(key, "is missing")
    check_spec(d["spec"])
    for key, kind in SWEEP_FIELDS.items():
        if key in d:
            check(key, d[key], kind)
    for key, kind in (("executors", TEXT), ("worker_counts", POINT_FIELDS["workers"])):
        check_list(key, d[key], MAX_SWEEP_SERIES, key.replace("_", " "))
        for i, value in enumerate(d[key]):
            check(f"{key}[{i}]", value, kind)
    points = d["points"]
    check_list("points", points, MAX_REPEATS * MAX_SWEEP_SERIES**2, "points")
    for i, p in enumerate(points):
        check_fields(f"points[{i}]", p, POINT_FIELDS, ("executor", "workers", "repeat", "status"))


def default_max_workers(cores: int | None = None) -> int:
    """Twice the cores: past them, a sweep shows the pools stop gaining."""
    return min(MAX_WORKERS, 2 * (cores or cpu_count()))
#: ``speedup`` is the run's own (the 1-worker median ÷ its wall); ``speedup_median`` is its point's speedup,
#: the 1-worker median ÷ ``median_wall_seconds`` (the name kept for the scripts that read these files)
CSV_COLUMNS = ("executor", "workers", "threads", "repeat", "status", "wall_seconds", "startup_seconds", "speedup",
               "median_wall_seconds", "speedup_median", "speedup_min", "speedup_max", "efficiency",
               "serial_fraction", "cores", "error")


def worker_counts(max_workers: int) -> list[int]:
    """1, 2, 4, … up to ``max_workers``, plus ``max_workers`` itself when it is not a power of two."""
    check_value(SWEEP_PARAMS["max_workers"], max_workers)
    max_workers = int(max_workers)  # 3.0 from JSON: worker counts are whole numbers
    counts, n = [], 1
    while n <= max_workers:
        counts.append(n)
        n *= 2
    if counts[-1] != max_workers:
        counts.append(max_workers)
    return counts


def sweepable(executor: str) -> bool:
    """Whether ``executor`` takes a worker count, so it can be swept."""
    return EXECUTOR_KINDS[executor].takes_workers


def check_executors(executors: list[str]) -> list[str]:
    """The executors, without repeats, or a SpecError naming ``executors`` and what is allowed."""
    from .executors import get_executor

    names = list(dict.fromkeys(n.strip() for n in executors if n.strip()))
    allowed = [n for n in EXECUTORS if sweepable(n)]
    if not names:
        raise SpecError("executors", f"is empty; allowed: one or more of {', '.join(allowed)}")
    unknown = [n for n in names if n not in EXECUTORS]
    if unknown:
        raise SpecError("executors", f"{', '.join(map(repr, unknown))} unknown; allowed: {', '.join(allowed)}")
    fixed = [n for n in names if not sweepable(n)]
    if fixed:
        raise SpecError("executors", f"{', '.join(fixed)} cannot be swept: the number of workers is not "
                                     f"settable there (one at a time, or one per task); allowed: "
                                     f"{', '.join(allowed)}")
    for n in names:
        try:
            ok, reason = get_executor(n).availability()
        except Exception as exc:  # noqa: BLE001 - an odd platform is a reason, not a crash
            ok, reason = False, f"{type(exc).__name__}: {exc}"
        if not ok:
            raise SpecError("executors", f"{n} is not available here: {reason}")
    return names


@dataclass(frozen=True)
class PlannedPoint:
    """One run of the sweep, in the order it runs."""

    repeat: int
    workers: int
    executor: str
    spec: ExperimentSpec


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: what :func:`run_sweep` (or the window's SweepController) runs, in order."""

    base: ExperimentSpec
    executors: list[str]  # without repeats
    worker_counts: list[int]
    repeats: int
    points: list[PlannedPoint]

    def new_result(self) -> SweepResult:
        """An empty SweepResult of this plan, for the points to be added to."""
        return SweepResult(self.base.to_dict(), list(self.executors), list(self.worker_counts), self.repeats)


def plan_sweep(base: ExperimentSpec, executors: list[str], max_workers: int, repeats: int) -> SweepPlan:
    """Validate and order the runs. Raises SpecError naming the field, before anything runs."""
    counts = worker_counts(max_workers)
    check_value(SWEEP_PARAMS["repeats"], repeats)
    repeats = int(repeats)
    names = check_executors(executors)
    if "dask" in names and not base.scheduler and base.threads_per_worker != 1:
        raise SpecError("threads_per_worker", f"is {base.threads_per_worker}; a scaling study varies the worker "
                                              "processes; set threads per worker to 1 so that each Dask worker is "
                                              "one thread, as in the other pools")
    points = [PlannedPoint(r, n, e, base.with_(executor=e, workers=n))  # validates each spec, too
              for r in range(repeats) for n in counts for e in names]
    return SweepPlan(base, names, counts, repeats, points)


@dataclass
class SweepPoint:
    """What one run of the sweep measured."""

    executor: str
    workers: int
    repeat: int
    wall_seconds: float | None
    startup_seconds: float | None
    status: str  # "ok"; "error" (a task raised), "failed" (the run did) or "cancelled"
    error: str | None = None
    threads: int | None = None  # the run's real worker threads (RunResult.workers): a Dask cluster's may differ


@dataclass(frozen=True)
class SweepStat:
    """The repeats of one (executor, workers), summed up; speedups against 1 worker of the same executor."""

    executor: str
    workers: int
    runs: int  # successful repeats
    median_wall: float
    min_wall: float
    max_wall: float
    speedup: float | None  # median wall at 1 worker ÷ median_wall
    speedup_min: float | None  # … ÷ max_wall
    speedup_max: float | None  # … ÷ min_wall
    efficiency: float | None  # speedup ÷ workers


def fit_serial_fraction(speedups: dict[int, float], cores: int | None) -> float | None:
    """Amdahl's serial fraction from {workers: speedup}, fitted over 1 < n ≤ cores (every n > 1 when the
    cores are not known); None with no such point."""
    xs, ys = [], []
    for n, s in speedups.items():
        if 1 < n <= (cores or n) and s and s > 0:
            xs.append(1.0 - 1.0 / n)
            ys.append(1.0 / s - 1.0 / n)
    if not xs:
        return None
    fit = sum(x * y for x, y in zip(xs, ys, strict=True)) / sum(x * x for x in xs)
    return min(1.0, max(0.0, fit))


def amdahl_speedup(serial_fraction: float, workers: float) -> float:
    """S(n) = 1 / (s + (1 − s) / n)."""
    return 1.0 / (serial_fraction + (1.0 - serial_fraction) / workers)


@dataclass
class SweepResult:
    """A sweep's plan and every point measured so far; the statistics are derived from the points."""

    spec: dict[str, Any]
    executors: list[str]
    worker_counts: list[int]
    repeats: int
    cores: int = field(default_factory=cpu_count)
    started_at: float = field(default_factory=time.time)
    points: list[SweepPoint] = field(default_factory=list)
    _cache: Any = field(default=None, init=False, repr=False, compare=False)
    _cache_key: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def planned(self) -> int:
        return self.repeats * len(self.worker_counts) * len(self.executors)

    def label(self, executor: str) -> str:
        """``executor`` as people name it in this sweep: with the base spec's variant ("joblib (loky)")."""
        return executor_label({**self.spec, "executor": executor})

    def ok_walls(self, executor: str, workers: int) -> list[float]:
        return [p.wall_seconds for p in self.points if p.executor == executor and p.workers == workers
                and p.status == "ok" and p.wall_seconds is not None and p.wall_seconds > 0]

    def cores_of(self, executor: str) -> int | None:
        """The cores ``executor``'s workers ran on: this machine's, or None for a Dask scheduler's cluster."""
        return None if executor == "dask" and self.spec.get("scheduler") else self.cores

    def local_executors(self) -> list[str]:
        """The executors whose workers ran on this machine (where the cores line means something)."""
        return [e for e in self.executors if self.cores_of(e) is not None]

    def fit_range_text(self) -> str:
        """Which points Amdahl's fit took, in words: "1 < workers ≤ 2 cores", or more for a cluster."""
        local = f"1 < workers ≤ {self.cores} cores"
        if len(self.local_executors()) == len(self.executors):
            return local
        cluster = "workers > 1 (the Dask cluster's cores are not known here)"
        return f"{local}; dask on its scheduler: {cluster}" if self.local_executors() else cluster

    def base_wall(self, executor: str) -> float | None:
        """Median wall at 1 worker of ``executor``: every speedup of that executor is against it."""
        return self._derived()[0].get(executor)

    def stats(self, executor: str) -> list[SweepStat]:
        """One row per worker count with at least one successful run, in worker order."""
        return list(self._derived()[1].get(executor, []))

    def all_stats(self) -> list[SweepStat]:
        return [row for e in self.executors for row in self.stats(e)]

    def serial_fraction(self, executor: str) -> float | None:
        """Amdahl's serial fraction of ``executor`` (see the module's docstring), or None."""
        return self._derived()[2].get(executor)

    def _derived(self) -> tuple[dict[str, float | None], dict[str, list[SweepStat]], dict[str, float | None]]:
        """(base walls, stats, serial fractions) by executor, computed once for the points there are.

        A chart's redraw, the table and a file ask for them many times; they are computed again
        only when a point was added (points are only ever appended) or the plan changed.
        """
        key = (len(self.points), tuple(self.executors), tuple(self.worker_counts), self.cores,
               self.spec.get("scheduler"))
        if self._cache_key != key:
            bases, stats, fits = {}, {}, {}
            for e in self.executors:
                walls = self.ok_walls(e, 1)
                bases[e] = base = statistics.median(walls) if walls else None
                stats[e] = rows = self._stats(e, base)
                fits[e] = fit_serial_fraction({r.workers: r.speedup for r in rows if r.speedup}, self.cores_of(e))
            self._cache, self._cache_key = (bases, stats, fits), key
        return self._cache

    def _stats(self, executor: str, base: float | None) -> list[SweepStat]:
        rows = []
        for n in self.worker_counts:
            walls = self.ok_walls(executor, n)
            if not walls:
                continue
            median = statistics.median(walls)
            # of the medians, not the median of each repeat's speedup: with an even number of repeats
            # those differ, and 1 worker would not be 1× (2 repeats: 1.04×, "104 %" efficiency)
            speedup = base / median if base else None
            rows.append(SweepStat(executor, n, len(walls), median, min(walls), max(walls), speedup,
                                  base / max(walls) if base else None, base / min(walls) if base else None,
                                  None if speedup is None else speedup / n))
        return rows

    def failed(self) -> list[SweepPoint]:
        return [p for p in self.points if p.status != "ok"]

    def superlinear(self) -> list[Superlinear]:
        """The points whose median speedup is above what their workers or cores can give: noise (see
        :mod:`.superlinear`)."""
        return superlinear_points(self)

    # --- files -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the plan and the points, plus the derived numbers for other readers."""
        return {
            "format": SWEEP_FORMAT, "version": SWEEP_VERSION, "spec": self.spec, "executors": self.executors,
            "worker_counts": self.worker_counts, "repeats": self.repeats, "cores": self.cores,
            "started_at": self.started_at, "points": [asdict(p) for p in self.points],
            "stats": [asdict(s) for s in self.all_stats()],
            "serial_fractions": {e: self.serial_fraction(e) for e in self.executors},
            "fit_cores": {e: self.cores_of(e) for e in self.executors},  # None: every point > 1 worker
            "superlinear": [{**asdict(f), "sentence": f.sentence()} for f in self.superlinear()],
        }

    @classmethod
    def from_dict(cls, d: Any) -> SweepResult:
        """Read :meth:`to_dict`'s form back (the derived numbers are recomputed); ValueError naming the field."""
        if not isinstance(d, dict) or d.get("format") != SWEEP_FORMAT:
            raise ValueError(f"format: not a ConcGUI sweep (expected {SWEEP_FORMAT!r})")
        version = d.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= SWEEP_VERSION:
            raise ValueError(f"version: {version!r} is not a sweep format this ConcGUI reads (up to {SWEEP_VERSION})")
        check_sweep_dict(d)
        points = [SweepPoint(p["executor"], int(p["workers"]), int(p["repeat"]),
                             _opt_float(p.get("wall_seconds")), _opt_float(p.get("startup_seconds")), p["status"],
                             p.get("error"), _opt_int(p.get("threads")))
                  for p in d["points"]]
        return cls(spec=dict(d["spec"]), executors=list(d["executors"]),
                   worker_counts=[int(n) for n in d["worker_counts"]], repeats=int(d["repeats"]),
                   cores=int(d["cores"]), started_at=float(d.get("started_at", 0.0)), points=points)

    def csv_rows(self) -> list[list[Any]]:
        """One row per run (:data:`CSV_COLUMNS`), with its (executor, workers) statistics repeated on it."""
        stats = {(s.executor, s.workers): s for s in self.all_stats()}
        fits = {e: self.serial_fraction(e) for e in self.executors}
        rows = []
        for p in self.points:
            s = stats.get((p.executor, p.workers))
            base = self.base_wall(p.executor)
            speedup = base / p.wall_seconds if base and p.status == "ok" and p.wall_seconds else None
            rows.append([p.executor, p.workers, p.threads, p.repeat, p.status, p.wall_seconds, p.startup_seconds,
                         speedup,
                         s and s.median_wall, s and s.speedup, s and s.speedup_min, s and s.speedup_max,
                         s and s.efficiency, fits.get(p.executor), self.cores_of(p.executor), p.error or ""])
        return rows


def _opt_float(v: Any) -> float | None:
    return None if v is None else float(v)


def _opt_int(v: Any) -> int | None:
    return None if v is None else int(v)


def save_sweep_json(path: str | os.PathLike, sweep: SweepResult) -> None:
    save_json(path, sweep.to_dict())


def load_sweep_json(path: str | os.PathLike) -> SweepResult:
    """A sweep back from its JSON file; ValueError starting with the file's name if it is not one."""
    data = read_json(path, "ConcGUI sweep file")  # too large, not JSON, nested too deeply: one line naming it
    try:
        return SweepResult.from_dict(data)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{Path(path).name}: {exc}") from None


def save_sweep_csv(path: str | os.PathLike, sweep: SweepResult) -> None:
    """One row per run with the derived columns (see :meth:`SweepResult.csv_rows`); empty cells for none."""
    def write(f) -> None:
        w = csv.writer(f)
        w.writerow(CSV_COLUMNS)
        w.writerows([["" if v is None else v for v in row] for row in sweep.csv_rows()])

    write_atomic(path, write)


def point_from(planned: PlannedPoint, result: Any = None, error: str | None = None) -> SweepPoint:
    """A sweep point from a run's result, or from the error that kept it from finishing."""
    if result is None:
        return SweepPoint(planned.executor, planned.workers, planned.repeat, None, None, "failed", error)
    status, error = result.status, result.error
    failed = [t for t in result.tasks if t.status == ERROR]
    if status == "ok" and failed:  # the time of tasks that raised says nothing about scaling
        status = ERROR
        error = f"{len(failed)} task(s) raised; first: {failed[0].error['type']}: {failed[0].error['message']}"
    return SweepPoint(planned.executor, planned.workers, planned.repeat, result.wall_seconds,
                      result.startup_seconds, status, error, result.workers)


def run_sweep(plan: SweepPlan | ExperimentSpec, executors: list[str] | None = None, max_workers: int | None = None,
              repeats: int | None = None, *, on_point: Callable[[SweepPoint, SweepResult], None] | None = None,
              cancel: threading.Event | None = None,
              start: Callable[[ExperimentSpec], Any] | None = None) -> SweepResult:
    """Run the whole sweep of ``plan`` (from :func:`plan_sweep`, which validated it) and return it; blocks.

    ``run_sweep(spec, executors, max_workers, repeats)`` plans it here: bad input raises SpecError
    before anything runs.

    ``start(spec)`` makes a run object with ``execute()`` and ``cancel()`` (default
    :func:`concgui.engine.start`, which honours the spec's isolation). ``on_point`` is called after
    every run, on this thread. Setting ``cancel`` stops the current run and skips the rest.
    """
    if start is None:
        from . import start
    if not isinstance(plan, SweepPlan):
        plan = plan_sweep(plan, executors or [], max_workers, repeats)
    sweep = plan.new_result()
    cancel = cancel or threading.Event()
    for planned in plan.points:
        if cancel.is_set():
            break
        point = _run_point(planned, start, cancel)
        sweep.points.append(point)
        if on_point is not None:
            on_point(point, sweep)
    return sweep


def _run_point(planned: PlannedPoint, start: Callable[[ExperimentSpec], Any], cancel: threading.Event) -> SweepPoint:
    done = threading.Event()
    try:
        run = start(planned.spec)
    except (SpecError, OSError, RuntimeError) as exc:
        return point_from(planned, error=f"{type(exc).__name__}: {exc}")

    def watch() -> None:  # a Stop reaches the running run, not only the next point
        while not done.wait(0.05):
            if cancel.is_set():
                run.cancel()
                return

    watcher = threading.Thread(target=watch, name="concgui-sweep-cancel", daemon=True)
    watcher.start()
    try:
        return point_from(planned, run.execute())
    except (SpecError, OSError, RuntimeError) as exc:  # refused or the engine failed: a failed point
        return point_from(planned, error=f"{type(exc).__name__}: {exc}")
    finally:
        done.set()
        watcher.join()

"""The summary's numbers as people read them: label, how to show the value, a short hint, a definition.

One table for the command line, the window's summary panel and the report
image, so the three never describe a number differently; how each value is
written (seconds, ×, per cent) comes from :mod:`concgui.engine.present`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from .present import MISSING, count, efficiency, number, percent, seconds, speedup
from .spec import PARAMS, ExperimentSpec, applies, executor_label
from .summary import BUSY_CORES, busy_machine, foreign_cores

if TYPE_CHECKING:
    from .records import RunResult


def _num(places: int, unit: str = "") -> Callable[[Any], str]:
    return lambda v: number(v, places, unit)


@dataclass(frozen=True)
class Metric:
    """One number of :func:`concgui.engine.summary.summarize`'s dict."""

    key: str
    label: str
    show: Callable[[Any], str]
    hint: str  # a few words, for compact places (the report image, the CLI)
    help: str  # the definition, for tooltips
    in_report: bool = True
    #: left out where the run has no value (a speedup without a baseline, shares without X-ray data)
    optional: bool = False

    def text(self, summary: Mapping[str, Any], show: Callable[[Any], str] | None = None) -> str:
        """The value as :attr:`show` (or ``show``: a table's bare number) writes it, with what it needs beside
        it: a speedup's baseline, the processes a memory figure covers where not all (:func:`measured_note`)."""
        value = summary.get(self.key)
        text = (show or self.show)(value)
        if self.key == "speedup" and value is not None and summary.get("baseline"):
            text += f" vs {summary['baseline']}"
        if self.key.startswith("memory_") and value is not None and (note := measured_note(summary)):
            text += f" ({note})"
        return text


def measured_note(summary: Mapping[str, Any]) -> str:
    """ "3 of 4 processes measured" where the memory probe missed some of the run's worker processes (they
    ended between two readings), so its memory figures cover the others only; "" where it measured all."""
    measured, workers = summary.get("memory_processes"), summary.get("memory_workers")
    return f"{measured} of {workers} processes measured" if measured and workers and measured < workers else ""


#: said in the memory figures' definitions: a figure may cover some of the workers only
_PARTIAL = (" Where the probe missed a worker process that ended between two readings, the figure covers the "
            "others and says so (\"3 of 4 processes measured\").")


METRICS: tuple[Metric, ...] = (
    Metric("wall_seconds", "Wall time", seconds, "start-up excluded",
           "From the moment the workers were ready to the last task's end, as a clock on the wall sees it "
           "(a process pool's start-up is not included; see Start-up)."),
    Metric("task_seconds", "Sum of task times", seconds, "one worker alone",
           "Every task's own duration, added up: what one worker alone would need."),
    Metric("concurrency", "Concurrency", _num(2, "tasks"), "avg. tasks in flight",
           "Sum of task times / wall time: how many tasks were in flight (started, not finished) on average."),
    Metric("parallelism", "Parallelism", _num(2, "cores"), "avg. cores computing",
           "CPU seconds of the tasks / wall time: how many cores were busy computing on average. "
           "Below concurrency means tasks waited (for I/O, or for the GIL)."),
    Metric("speedup", "Speedup", speedup, "baseline wall ÷ wall",
           "Baseline wall time / this wall time. Compare runs the baseline (sequential) first.", optional=True),
    Metric("efficiency", "Efficiency", efficiency, "speedup ÷ workers",
           "Speedup / workers (counting no more workers than tasks): 100 % means every worker was as "
           "useful as the baseline's one.", optional=True),
    Metric("peak_in_flight", "Peak running", lambda v: MISSING if v is None else count(v, "task"), "most at once",
           "The most tasks inside their function at the same moment (tasks queued in the pool do not count): "
           "tasks shorter than a thread switch rarely overlap, so a flood of them peaks at 1 or 2.",
           in_report=False),
    Metric("mean_cpu_percent", "Mean CPU", percent, "all cores, machine-wide",
           "Mean use of all cores during the run, from psutil samples (the whole machine)."),
    Metric("on_core_share", "On a core", efficiency, "worker threads, mean",
           "Share of the time the worker threads ran on a core, from the kernel's per-thread accounting "
           "(each worker from its first task's start to its last task's end).", optional=True),
    Metric("waiting_share", "Waiting for a core", efficiency, "runnable, no free core",
           "Share of the time the worker threads were ready to run but every core was taken: more busy "
           "threads than cores (0 where the system does not report it).", optional=True),
    Metric("blocked_share", "Blocked", efficiency, "GIL, lock, sleep or I/O",
           "Share of the time the worker threads could not run: waiting for the GIL, a lock, a sleep or I/O "
           "(the explanation says which, where the workload tells).", optional=True),
    Metric("startup_seconds", "Start-up", seconds, "starting the pool",
           "Time spent starting a process pool's workers before the work began (threads and one-per-task "
           "processes start inside the wall time)."),
    Metric("dispatch_overhead_seconds", "Overhead per task", seconds, "estimate",
           "(Wall − task time / workers) / tasks: an estimate of what handing out one task cost beyond its "
           "work (0 when tasks themselves include the waiting, e.g. for the GIL).", in_report=False),
    Metric("sent_share", "Sending data", efficiency, "args, of workers' time",
           "Share of the workers' time (the workers that ran tasks × the wall time) spent getting the tasks' "
           "arguments (Argument size): pickling, the pipe, unpickling. Threads share memory: 0 for them.",
           optional=True),
    Metric("returned_share", "Returning data", efficiency, "results, of workers' time",
           "Share of the workers' time spent bringing the tasks' results (Result size) back to the run: "
           "pickling, the pipe, unpickling. Threads share memory: 0 for them.", optional=True),
    Metric("memory_per_worker_mb", "Memory per worker", _num(1, "MB"), "peak, each process",
           "Each worker process's peak memory over the run, averaged over the workers: its unique set size (USS, "
           "what it alone holds) where the system tells it, else its resident set size (RSS). A thread pool's "
           "threads share one process, so this is that process. Forked workers share their parent's pages until "
           "they write them: their USS is only what they changed." + _PARTIAL, optional=True),
    Metric("memory_total_mb", "Memory in total", _num(1, "MB"), "all workers together, peak",
           "The peak of all worker processes' memory together (USS, else RSS): four processes hold four "
           "interpreters, while a thread pool's threads share the memory of its one process." + _PARTIAL,
           optional=True),
    Metric("errors", "Errors", _num(0), "tasks that raised", "Tasks that raised an exception.",
           in_report=False),
    Metric("cancelled", "Cancelled", _num(0), "stopped or never started",
           "Tasks stopped or never started because the run was stopped.", in_report=False),
)


def metric(key: str) -> Metric:
    """The :data:`METRICS` entry of ``key``."""
    return next(m for m in METRICS if m.key == key)


@dataclass(frozen=True)
class Column:
    """One column of the comparison table: the window's Compare tab and ``concgui compare`` both print
    :data:`COMPARE_COLUMNS`, so the two tables cannot disagree.

    A column of seconds shows plain numbers under a header that names the unit ("wall s"): down a
    column a person compares digits, which one unit keeps lined up.
    """

    label: str
    help: str  # the definition, for the header's tooltip
    show: Callable[[RunResult], str]  # the cell's text for one run (its summary holds the baseline's speedup)
    numeric: bool = True  # right-aligned

    @classmethod
    def of(cls, key: str, label: str, show: Callable[[Any], str]) -> Column:
        """A column of a summary number: its definition from :data:`METRICS`."""
        return cls(label, metric(key).help, lambda r: show((r.summary or {}).get(key)))

    @classmethod
    def noted(cls, key: str, label: str, show: Callable[[Any], str]) -> Column:
        """A column of a summary number as :meth:`Metric.text` writes it, with ``show``'s bare number: its
        caveat then reads in the table as in the summary ("41.3 (3 of 4 processes measured)")."""
        return cls(label, metric(key).help, lambda r: metric(key).text(r.summary or {}, show))


#: the fields that say how an executor ran (beside its workers, a column of their own), each value in the
#: words every name of a run uses (:func:`run_label`): the Compare table, its sentences, a lesson's answer and
#: a preset's note
HOW_WORDS: dict[str, Callable[[Any], str]] = {
    "chunk_size": lambda v: f"chunks of {v:,}",
    "start_method": str,
    "batch_size": lambda v: f"batches of {v:,}" if isinstance(v, int) else f"{v} batches",  # "auto batches"
    "pre_dispatch": lambda v: f"pre-dispatch {v}",
    "offload": lambda v: "offload" if v else "no offload",
    "lock": lambda v: "lock" if v else "no lock",
}
_SPEC_DEFAULTS = {f.name: f.default for f in fields(ExperimentSpec)}
#: what each of :data:`HOW_WORDS`' fields is when a spec leaves it empty: ExperimentSpec's default, else what
#: its form field says an empty value means (joblib's auto batches and 2*n_jobs, this platform's start method)
HOW_DEFAULTS: dict[str, Any] = {
    key: PARAMS[key].empty_text if _SPEC_DEFAULTS[key] is None else _SPEC_DEFAULTS[key] for key in HOW_WORDS}


def how_value(spec: Mapping[str, Any], key: str, environment: Mapping[str, Any] | None = None) -> Any:
    """The value of how-field ``key`` a run ran with: its spec's, else the default (:data:`HOW_DEFAULTS`; for
    the start method, the one ``environment``, the run's, recorded where it did)."""
    value = spec.get(key)
    if value not in (None, ""):
        return value
    if key == "start_method" and (environment or {}).get("start_method"):
        return environment["start_method"]
    return HOW_DEFAULTS[key]


def run_label(spec: Mapping[str, Any], extra: Sequence[str] = (), keys: Iterable[str] | None = None,
              environment: Mapping[str, Any] | None = None) -> str:
    """A run's name, the one way every view names it: its executor, then in brackets ``extra`` (a caller's
    own words: "2 workers", a lesson's "counter") and how it ran where that is not the default:
    "process-pool (chunks of 100)", "thread-pool (lock)", "joblib (loky, 2 workers, batches of 8)".

    Two runs of one executor that differ in such a field (a lesson's chunk sizes, the counter with and
    without its lock) then read apart in a Compare table, whose rows cannot see each other: at most one
    of them has the default. ``keys``: the how-fields to name whatever their value instead (a Compare's
    sentences name what differs between its runs, "chunks of 1" beside "chunks of 100").
    """
    label = executor_label(spec)
    executor, workload = str(spec.get("executor")), str(spec.get("workload"))
    chosen = [key for key in HOW_WORDS if applies(key, workload, executor)
              and how_value(spec, key, environment) != HOW_DEFAULTS[key]] if keys is None else list(keys)
    how = [*extra, *(HOW_WORDS[key](how_value(spec, key, environment)) for key in chosen)]
    if not how:
        return label
    if label.endswith(")"):
        return f"{label[:-1]}, {', '.join(how)})"
    return f"{label} ({', '.join(how)})"


COMPARE_COLUMNS: tuple[Column, ...] = (
    Column("executor", "How the tasks ran, with what differs from the executor's defaults (chunk size, start "
           "method, the counter's lock...); the first row is the baseline the others' speedup is measured against.",
           lambda r: run_label(r.spec or {}, environment=r.environment), numeric=False),
    Column("workers", "Workers that shared the tasks (on Dask: the cluster's worker threads).",
           lambda r: f"{r.workers:,}"),
    Column.of("wall_seconds", "wall s", lambda v: number(v, 3)),
    Column.of("speedup", "speedup", speedup),
    Column.of("efficiency", "efficiency", efficiency),
    Column.of("concurrency", "concurrency", number),
    Column.of("parallelism", "parallelism", number),
    Column.of("startup_seconds", "start-up s", lambda v: number(v, 3)),
    Column.noted("memory_per_worker_mb", "MB/worker", lambda v: number(v, 1)),
    Column.noted("memory_total_mb", "MB total", lambda v: number(v, 1)),
    Column("other load", f"Cores that other programs and the hypervisor (steal) took during the work, on average. "
           f"⚠ where they took more than {BUSY_CORES:g} cores and, with the cores this run computed on or waited "
           f"for, filled the machine: a busy machine, so this run's speedup is lower than this machine can give "
           f"(a run that sleeps needs no core, and is not marked). — where not measured (a run from an older "
           f"ConcGUI).",
           lambda r: ("⚠ " if busy_machine(r) else "") + number(foreign_cores(r), 2)),
)

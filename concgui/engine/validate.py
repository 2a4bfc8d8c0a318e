"""One schema check for a run, at every door: a file opened, a history row read or written, the engine's output.

Each value is checked the way the spec checks its own fields (:func:`.spec.check_value`, so the
words are the same), named by where it sits::

    tasks[12].thread_id: 1180591620717411303424 is out of range; allowed: a whole number from 0 to …
    summary.speedup: 'fast' is not allowed; allowed: a number from …

The limits are what the window can draw: at most :data:`MAX_CORES` values per CPU sample, the
spec's :data:`~.spec.MAX_TASKS` tasks, times within :data:`MAX_SECONDS`, start dates before the year
3000. A run that passes never makes a view raise, and the history stores only runs that pass.

The task records (up to a million) are checked a column at a time: the set of a column's types,
its minimum and maximum are computed in C, so the check costs a fraction of reading the JSON; only
a column that fails is walked, to name its first bad value.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable, Iterable, Mapping
from itertools import chain
from operator import attrgetter
from typing import Any

from .records import (
    CANCELLED,
    ERROR,
    OK,
    RESULT_VERSION,
    RUNNING,
    WAITING,
    CpuSample,
    MemorySample,
    RunResult,
    TaskRecord,
    ThreadStates,
)
from .spec import MAX_TASKS, PARAMS, Param, SpecError, check_value
from .xray import SHARE_KEYS

#: per-core values in one CPU sample: the most logical CPUs a platform plausibly has (Linux's NR_CPUS
#: tops out at 8192; the largest machines sold have a few thousand)
MAX_CORES = 4096
#: seconds a run, a task or a sample time may reach (about three years)
MAX_SECONDS = 100_000_000
#: the latest start a run may claim: 1 January 3000, epoch seconds
MAX_EPOCH = 32_503_680_000
MAX_PID = 2**32 - 1
MAX_THREAD_ID = 2**64 - 1
#: bytes a process's memory may reach in a memory sample (a pebibyte: far beyond any machine's)
MAX_MEMORY = 2**50
#: the kinds of memory a run's memory series may hold (``environment["memory"]``)
MEMORY_KINDS = ("uss", "rss", "none")
#: a summary's numbers: finite, and far beyond anything a run measures
MAX_NUMBER = 1e15
RUN_STATUSES = (OK, CANCELLED, "failed", RUNNING, "interrupted")
TASK_STATUSES = (OK, ERROR, CANCELLED, RUNNING, WAITING)

_short = reprlib.Repr()
_short.maxstring, _short.maxother, _short.maxlist, _short.maxdict, _short.maxlevel = 60, 60, 4, 4, 2


def _p(name: str, kind: type, low: float | None = None, high: float | None = None,
       choices: tuple[str, ...] = ()) -> Param:
    return Param(name, name, kind, "", minimum=low, maximum=high, choices=choices)


#: a field's declaration: the Param its values are checked by, and whether null is allowed
Field = tuple[Param, bool]
TEXT: Field = (_p("text", str), False)
OPTIONAL_TEXT: Field = (_p("text", str), True)
FLAG: Field = (_p("flag", bool), False)


def number_field(low: float, high: float, nullable: bool = False) -> Field:
    return _p("number", float, low, high), nullable


def whole_field(low: int, high: int, nullable: bool = False) -> Field:
    return _p("whole", int, low, high), nullable


SECONDS = number_field(0, MAX_SECONDS)
TIME = number_field(-MAX_SECONDS, MAX_SECONDS)
CORES = number_field(0, MAX_CORES, nullable=True)
SUMMARY_NUMBER = number_field(-MAX_NUMBER, MAX_NUMBER, nullable=True)

RUN_FIELDS: dict[str, Field] = {
    "status": (_p("status", str, choices=RUN_STATUSES), False),
    "error": OPTIONAL_TEXT,
    "started_at": number_field(0, MAX_EPOCH),
    "startup_seconds": SECONDS,
    "wall_seconds": SECONDS,
    "workers": whole_field(0, MAX_TASKS),
}
TASK_FIELDS: dict[str, Field] = {
    "worker": TEXT,
    "pid": whole_field(0, MAX_PID),
    "thread_id": whole_field(0, MAX_THREAD_ID),
    "submitted": (TIME[0], True),
    "start": (TIME[0], True),
    "end": (TIME[0], True),
    "cpu_seconds": SECONDS,
    "status": (_p("status", str, choices=TASK_STATUSES), False),
    "sent_seconds": SECONDS,
    "returned_seconds": SECONDS,
    "value": whole_field(-(2**63), 2**63 - 1, nullable=True),
}
#: the summary's known values (others, a newer ConcGUI's, may be any JSON scalar)
SUMMARY_FIELDS: dict[str, Field] = {
    **dict.fromkeys(("wall_seconds", "startup_seconds", "task_seconds", "cpu_seconds", "concurrency",
                     "parallelism", "peak_in_flight", "mean_cpu_percent", "dispatch_overhead_seconds", "tasks",
                     "ran", "lanes", "errors", "cancelled", "workers", "speedup", "efficiency",
                     *(f"{key}_share" for key in SHARE_KEYS)), SUMMARY_NUMBER),
    "baseline": OPTIONAL_TEXT,
    **dict.fromkeys(("sent_seconds", "returned_seconds", "sent_share", "returned_share"), SUMMARY_NUMBER),
    "start_method": OPTIONAL_TEXT,
    **dict.fromkeys(("memory_processes", "memory_workers", "memory_per_worker_mb", "memory_total_mb"),
                    SUMMARY_NUMBER),
    "memory_kind": OPTIONAL_TEXT,
}
#: what the views read from a run's environment; every key is optional (old files lack most)
ENVIRONMENT_FIELDS: dict[str, Field] = {
    **dict.fromkeys(("python_version", "implementation", "executable", "platform", "machine"), TEXT),
    **dict.fromkeys(("gil_enabled", "free_threaded_build", "psutil"), FLAG),
    **dict.fromkeys(("start_method", "start_method_note", "thread_states"), OPTIONAL_TEXT),
    "cpu_count": whole_field(1, MAX_CORES),
    "pid": whole_field(0, MAX_PID, nullable=True),
    "memory": (_p("memory", str, choices=MEMORY_KINDS), True),
    **dict.fromkeys(("other_programs_cores", "steal_cores", "concgui_helpers_cores"), CORES),
}
CALIBRATION_FIELDS: dict[str, Field] = {
    **dict.fromkeys(("cpu_iterations_per_second", "hash_bytes_per_second", "task_cpu_seconds",
                     "expected_task_cpu_seconds", "gap"), number_field(0, MAX_NUMBER, nullable=True)),
    "measured_at": number_field(0, MAX_EPOCH, nullable=True),
    "gap_tasks": whole_field(0, MAX_TASKS, nullable=True),
}
DASK_FIELDS: dict[str, Field] = {"scheduler": OPTIONAL_TEXT, "dashboard": OPTIONAL_TEXT,
                                 "connect_seconds": number_field(0, MAX_SECONDS, nullable=True)}
DASK_WORKER_FIELDS: dict[str, Field] = {
    "address": TEXT, "host": TEXT, "pid": whole_field(0, MAX_PID), "nthreads": whole_field(1, MAX_TASKS),
    "same_clock": FLAG, "clock_offset_ms": number_field(-MAX_NUMBER, MAX_NUMBER),
    "clock_uncertainty_ms": number_field(0, MAX_NUMBER),
}
SHARE = number_field(0, 1)
INDEX = whole_field(0, MAX_TASKS - 1)
PID = whole_field(0, MAX_PID)
MEMORY_BYTES = whole_field(0, MAX_MEMORY)


# --- one value ---------------------------------------------------------------------------------
def refuse(where: str, value: Any, allowed: str, how: str = "is not allowed") -> SpecError:
    """The spec's error, for a value of a run: ``where: value is not allowed; allowed: …``, on one line."""
    return SpecError(where, f"{_short.repr(value)} {how}; allowed: {allowed}")


def check(where: str, value: Any, field: Field) -> None:
    """Refuse ``value`` unless ``field`` allows it, with the spec's words naming ``where``.

    Only a scalar reaches :func:`.spec.check_value` (whose message holds the value's whole repr); a list
    or an object is refused here, shortened, so a message stays one short line whatever the file held.
    """
    p, nullable = field
    if value is None and nullable:
        return
    allowed = p.allowed() + (" or null" if nullable else "")
    if value is None:
        raise SpecError(where, f"is missing; allowed: {allowed}")
    if not isinstance(value, (str, int, float)):
        raise refuse(where, value, allowed)
    try:
        check_value(p, value)
    except SpecError:
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if p.kind in (int, float) and numeric and (p.kind is float or not isinstance(value, float)
                                                   or value.is_integer()):
            raise refuse(where, value, allowed, "is out of range") from None
        text = p.kind is str and not isinstance(value, str)
        raise refuse(where, value, allowed, "is not text" if text else "is not allowed") from None


def check_fields(where: str, obj: Any, fields: Mapping[str, Field], required: Iterable[str] = ()) -> None:
    """Check an object's known keys (unknown ones are a newer ConcGUI's and are not read)."""
    if type(obj) is not dict:
        raise refuse(where, obj, "an object")
    for key in required:
        if key not in obj:
            raise SpecError(f"{where}.{key}", "is missing")
    for key, field in fields.items():
        if key in obj:
            check(f"{where}.{key}", obj[key], field)


def check_list(where: str, value: Any, most: int, of: str) -> None:
    if type(value) is not list:
        raise refuse(where, value, f"a list of {of}")
    if len(value) > most:
        raise SpecError(where, f"holds {len(value):,} {of}; allowed: at most {most:,}")


# --- a column of values, in C ------------------------------------------------------------------
_KINDS: dict[type, frozenset[type]] = {int: frozenset({int}), float: frozenset({int, float}),
                                       str: frozenset({str}), bool: frozenset({bool})}


def column_ok(values: list, field: Field) -> bool:
    """Whether every value passes, judged from the column's type set, extremes and sum (NaN spoils a sum)."""
    p, nullable = field
    kinds = set(map(type, values))
    if nullable and type(None) in kinds:
        kinds.discard(type(None))
        values = [v for v in values if v is not None]
    if not kinds <= _KINDS[p.kind]:
        return False
    if p.choices:
        return set(values) <= set(p.choices)
    if p.kind in (int, float) and values:
        total = sum(values)
        return total == total and p.minimum <= min(values) and max(values) <= p.maximum
    return True


def check_column(where: Callable[[int], str], values: list, field: Field) -> None:
    """Check a column; only when it fails is it walked, to name its first bad value (``where(i)``)."""
    if not column_ok(values, field):
        for i, v in enumerate(values):
            check(where(i), v, field)


# --- a run -------------------------------------------------------------------------------------
def run_from_dict(d: Any) -> RunResult:
    """A run from its JSON form, every field checked; a :class:`SpecError` (a ValueError) names the first bad one."""
    if type(d) is not dict:
        raise refuse("run", d, "a JSON object")
    version = d.get("version")
    if type(version) is not int or not 1 <= version <= RESULT_VERSION:
        raise SpecError("version", f"{_short.repr(version)} is not a result format this ConcGUI reads "
                                   f"(it reads up to {RESULT_VERSION})")
    for key in ("spec", "environment", "tasks", "wall_seconds"):
        if key not in d:
            raise SpecError(key, "is missing")
    check_fields("spec", d["spec"], {})
    check_fields("environment", d["environment"], {})
    if "summary" in d:
        check_fields("summary", d["summary"], {})
    tasks = d["tasks"]
    check_list("tasks", tasks, MAX_TASKS, "tasks")
    if not set(map(type, tasks)) <= {dict}:
        i = next(i for i, t in enumerate(tasks) if type(t) is not dict)
        raise refuse(f"tasks[{i}]", tasks[i], "an object")
    samples, states = d.get("cpu_samples", []), d.get("thread_states", [])
    check_list("cpu_samples", samples, MAX_SECONDS, "samples")
    check_list("thread_states", states, MAX_SECONDS, "intervals")
    for i, sample in enumerate(samples):
        check_fields(f"cpu_samples[{i}]", sample, {}, ("t", "per_core"))
        check_list(f"cpu_samples[{i}].per_core", sample["per_core"], MAX_CORES, "per-core values")
    for i, state in enumerate(states):
        check_fields(f"thread_states[{i}]", state, {}, ("t", "interval", "lanes"))
        check_fields(f"thread_states[{i}].lanes", state["lanes"], {})
        for lane, shares in state["lanes"].items():
            if type(shares) is not list or len(shares) != 3:
                raise refuse(f"thread_states[{i}].lanes[{_short.repr(lane)}]", shares, "a list of three shares")
    memory = d.get("memory_samples", [])
    check_list("memory_samples", memory, MAX_SECONDS, "samples")
    for i, sample in enumerate(memory):
        check_fields(f"memory_samples[{i}]", sample, {}, ("t", "per_pid"))
        check_fields(f"memory_samples[{i}].per_pid", sample["per_pid"], {})
        for pid in sample["per_pid"]:
            if not (pid.isascii() and pid.isdigit()) or len(pid) > 10:
                raise refuse(f"memory_samples[{i}].per_pid", pid, "process ids (whole numbers as text) as keys")
    result = RunResult.from_dict(d)
    check_run(result)
    return result


def check_run(r: RunResult, positional: bool = True) -> None:
    """Check every value of a run (however it was made): what the history stores, what a view draws.

    ``positional=False`` for a run read back from the history, which may lack the tasks it never
    finished (see :func:`check_tasks`)."""
    if type(r.version) is not int or not 1 <= r.version <= RESULT_VERSION:
        raise SpecError("version", f"{_short.repr(r.version)} is not a result format this ConcGUI reads "
                                   f"(it reads up to {RESULT_VERSION})")
    check_spec(r.spec)
    check_environment(r.environment)
    for key, field in RUN_FIELDS.items():
        check(key, getattr(r, key), field)
    check_summary(r.summary)
    check_tasks(r.tasks, positional)
    check_samples(r.cpu_samples)
    check_thread_states(r.thread_states)
    check_memory_samples(r.memory_samples)


def check_spec(spec: Any) -> None:
    """A run's spec, field by field as :class:`~.spec.ExperimentSpec` checks each (its rules across fields
    are not applied: a run made on another platform, or before a rule, is still shown). Unknown fields are
    a newer ConcGUI's; nothing reads them."""
    if type(spec) is not dict:
        raise refuse("spec", spec, "an object")
    for key, value in spec.items():
        p = PARAMS.get(key)
        if p is not None:
            check(f"spec.{key}", value, (p, p.optional))


def check_environment(env: Any) -> None:
    check_fields("environment", env, ENVIRONMENT_FIELDS)
    if "calibration" in env:
        check_fields("environment.calibration", env["calibration"], CALIBRATION_FIELDS)
    if "dask" in env and env["dask"] is not None:
        dask = env["dask"]
        check_fields("environment.dask", dask, DASK_FIELDS)
        workers = dask.get("workers", [])
        check_list("environment.dask.workers", workers, MAX_TASKS, "workers")
        for i, w in enumerate(workers):
            check_fields(f"environment.dask.workers[{i}]", w, DASK_WORKER_FIELDS)


def check_summary(summary: Any) -> None:
    """The summary's values: numbers (or null) the views show, text where it names something."""
    check_fields("summary", summary, SUMMARY_FIELDS)
    for key, value in summary.items():
        if key not in SUMMARY_FIELDS and not isinstance(value, str | bool):
            check(f"summary.{key}", value, SUMMARY_NUMBER)


def check_tasks(tasks: list[TaskRecord], positional: bool = True) -> None:
    """Task records, a column at a time (see the module's docstring). Each index is its position in a run;
    with ``positional=False`` (a batch of a run, the tasks an interrupted run kept) they only increase."""
    if type(tasks) is not list or len(tasks) > MAX_TASKS:
        check_list("tasks", tasks, MAX_TASKS, "tasks")
    indices = list(map(attrgetter("index"), tasks))
    if positional:
        if not set(map(type, indices)) <= {int} or indices != list(range(len(tasks))):
            i = next(i for i, n in enumerate(indices) if n != i or type(n) is not int)
            raise refuse(f"tasks[{i}].index", indices[i], f"{i}, its position in the list")
    else:
        check_column(lambda i: f"tasks[{i}].index", indices, INDEX)
        if any(map(int.__ge__, indices, indices[1:])):
            i = next(i for i in range(1, len(indices)) if indices[i] <= indices[i - 1])
            raise refuse(f"tasks[{i}].index", indices[i], f"more than {indices[i - 1]}, the index before it")
    _check_task_values(tasks, indices)


def check_streamed_tasks(tasks: list[TaskRecord], count: int) -> None:
    """Task records as the engine streams them (in the order they ended, any index): each index one of
    the run's ``count`` tasks, every other value as :func:`check_tasks` checks it."""
    check_list("tasks", tasks, MAX_TASKS, "tasks")
    indices = list(map(attrgetter("index"), tasks))
    check_column(lambda i: f"tasks[{_short.repr(indices[i])}].index", indices, whole_field(0, max(0, count - 1)))
    _check_task_values(tasks, indices)


def _check_task_values(tasks: list[TaskRecord], indices: list[int]) -> None:
    for key, field in TASK_FIELDS.items():  # named by index: a batch's first record is not tasks[0]
        check_column(lambda i, key=key: f"tasks[{indices[i]}].{key}", list(map(attrgetter(key), tasks)), field)
    for t in tasks:
        if t.error is not None:
            check_error(f"tasks[{t.index}].error", t.error)


def check_error(where: str, error: Any) -> None:
    """A task's error: its type and message (and traceback) as text."""
    check_fields(where, error, {}, ("type", "message"))
    for key, value in error.items():
        check(f"{where}.{key}", value, TEXT)


def check_samples(samples: list[CpuSample]) -> None:
    check_list("cpu_samples", samples, MAX_SECONDS, "samples")
    check_column(lambda i: f"cpu_samples[{i}].t", [s.t for s in samples], TIME)
    check_column(lambda i: f"cpu_samples[{i}].tree_percent", [s.tree_percent for s in samples],
                 number_field(0, 100 * MAX_CORES, nullable=True))
    per_core = number_field(0, 100)
    for i, s in enumerate(samples):
        if type(s.per_core) is not list or len(s.per_core) > MAX_CORES:
            check_list(f"cpu_samples[{i}].per_core", s.per_core, MAX_CORES, "per-core values")
    if not column_ok(list(chain.from_iterable(s.per_core for s in samples)), per_core):
        for i, s in enumerate(samples):
            check_column(lambda k, i=i: f"cpu_samples[{i}].per_core[{k}]", s.per_core, per_core)


def check_thread_states(states: list[ThreadStates]) -> None:
    """Each interval's lanes: a name and three shares of 0..1; all the shares are checked as one column."""
    check_list("thread_states", states, MAX_SECONDS, "intervals")
    check_column(lambda i: f"thread_states[{i}].t", [s.t for s in states], TIME)
    check_column(lambda i: f"thread_states[{i}].interval", [s.interval for s in states], SECONDS)
    for i, s in enumerate(states):
        check_fields(f"thread_states[{i}].lanes", s.lanes, {})
        for lane, shares in s.lanes.items():
            if type(lane) is not str or type(shares) is not tuple or len(shares) != 3:
                raise refuse(f"thread_states[{i}].lanes[{_short.repr(lane)}]", shares, "three shares, by a name")
    shares = list(chain.from_iterable(chain.from_iterable(s.lanes.values() for s in states)))
    if not column_ok(shares, SHARE):
        for i, s in enumerate(states):
            for lane, values in s.lanes.items():
                where = f"thread_states[{i}].lanes[{_short.repr(lane)}]"
                check_column(lambda k, where=where: f"{where}[{k}]", list(values), SHARE)


def check_memory_samples(samples: list[MemorySample]) -> None:
    """Each memory sample: a time, and whole bytes by pid; all the pids, then all the bytes, checked as a column."""
    check_list("memory_samples", samples, MAX_SECONDS, "samples")
    check_column(lambda i: f"memory_samples[{i}].t", [s.t for s in samples], TIME)
    for i, s in enumerate(samples):
        if type(s.per_pid) is not dict:
            raise refuse(f"memory_samples[{i}].per_pid", s.per_pid, "an object of bytes by process id")
    for what, field, of in (("pid", PID, dict.keys), ("bytes", MEMORY_BYTES, dict.values)):
        if not column_ok(list(chain.from_iterable(of(s.per_pid) for s in samples)), field):
            for i, s in enumerate(samples):
                for pid, value in s.per_pid.items():
                    check(f"memory_samples[{i}].per_pid[{_short.repr(pid)}]" + ("" if what == "bytes" else " (pid)"),
                          value if what == "bytes" else pid, field)

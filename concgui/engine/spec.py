"""The experiment spec: one validated value that describes a run.

Every parameter is declared once, in :data:`PARAMS`, with its name, type,
range, unit and help text.  Validation, the command line and the window's
form are all built from that table, so they cannot disagree.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from .environment import cpu_count

#: the built-in workloads, each with what it does (the form's picker, --help and the notebook say it)
WORKLOAD_HELP = {
    "sleep": "time.sleep: waits without using the CPU, and releases the GIL meanwhile.",
    "cpu": "Pure-Python arithmetic for the duration (measured on this machine): holds the GIL.",
    "hash": "sha256 over 1 MiB buffers for about the duration: C code that releases the GIL.",
    "file-io": "Writes, fsyncs and reads back a temporary file: mostly waits for the disk.",
    "mixed": "Computes for the CPU fraction of the duration and sleeps the rest.",
    "noop": "Returns at once: what remains is the executor's own cost per task.",
    "counter": "Adds 1 to its process's one counter many times (read, call, write back), with or without a "
               "lock: threads without it lose updates; processes each count their own.",
    "custom": "Calls your function, with the task index if it takes one argument.",
}
WORKLOADS = tuple(WORKLOAD_HELP)
START_METHODS = ("fork", "forkserver", "spawn")
#: joblib's backends, each with what it does (the form's picker says it)
JOBLIB_BACKEND_HELP = {
    "loky": "joblib's default: worker processes (loky) kept alive between calls and reused; a GIL each.",
    "threading": "A pool of threads in this process: nothing to start, one GIL shared by all.",
    "multiprocessing": "A multiprocessing.Pool started for the call and ended after it; a GIL per process.",
}
JOBLIB_BACKENDS = tuple(JOBLIB_BACKEND_HELP)
#: joblib's pre_dispatch: "all", a whole number of tasks, or a multiple of n_jobs ("2*n_jobs", its default)
PRE_DISPATCH = re.compile(r"^\s*(all|[1-9]\d*|([1-9]\d*(\.\d+)?\s*\*\s*)?n_jobs)\s*$")
#: what an empty start method means: never fork (unsafe once threads run), as Python 3.14 chooses
DEFAULT_START_METHOD = "forkserver" if sys.platform.startswith("linux") else "spawn"
ISOLATIONS = ("process", "inline")
MAX_TASKS = 1_000_000
MAX_WORKERS = 1024
MAX_TIMEOUT = 86_400.0  # a day
#: the most an argument or a result may hold whatever the machine (a run checks its memory too: MEMORY_RULE);
#: 2 GiB - 1, the most a form's number box holds
MAX_TRANSFER_BYTES = 2**31 - 1
#: how much memory an argument and a result may take, checked when a run starts (transfer.check_memory)
MEMORY_RULE = ("At most what this machine's memory allows: the argument × (1 + 3 × workers) plus the result × "
               "3 × workers (Dask keeps every result: × tasks) must fit in half the memory available when the "
               "run starts, since the parent keeps the argument and each worker may hold a copy, one being read "
               "and one in flight.")
MAX_INCREMENTS = 1_000_000_000  # the counter workload's, per task: under a minute each without the lock
#: ProcessPoolExecutor on Windows waits on its workers' handles with WaitForMultipleObjects (63 at most);
#: so does multiprocessing.Pool
WINDOWS_MAX_PROCESS_WORKERS = 61
WINDOWS_LIMITED = ("process-pool", "mp-pool")


#: editors a text field may want: a front end picks its widget from this, never from a field's name
Editor = Literal["text", "interpreter", "function", "file"]


class SpecError(ValueError):
    """A spec field holds a value that is not allowed; the message names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Param:
    """What a spec field is: its type, range, unit and help, for every front end."""

    name: str
    label: str
    kind: type
    help: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False
    #: workloads for which the field matters (empty: all of them)
    workloads: tuple[str, ...] = ()
    #: executors for which the field matters (empty: all of them); executors' own fields are
    #: filled in from :data:`EXECUTOR_KINDS`, where each executor declares them
    executors: tuple[str, ...] = ()
    #: the editor a front end should give it where type and choices do not say: an interpreter to
    #: run, a function to call, a file to read; plain text otherwise
    editor: Editor = "text"
    #: the grey hint in an empty text field
    placeholder: str = ""
    #: what the minimum means, shown instead of the number ("none" for a timeout of 0)
    minimum_text: str = ""
    #: for a file editor, the files to offer first, as "PEM files (*.pem *.crt *.key)"
    file_types: str = ""
    #: what an empty optional value means, shown beside "default" (a start method's platform default)
    empty_text: str = ""
    #: display words for choices whose value is terse (isolation's "inline": "inside this app")
    choice_labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    #: what each choice means, for a tooltip or a line beside the picker
    choice_help: Mapping[str, str] = field(default_factory=dict, hash=False)

    def allowed(self) -> str:
        """Describe the allowed values in words, for error messages."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind is bool:
            return "true or false"
        if self.kind is str:
            return "text" + (" or empty for the default" if self.optional else "")
        noun = "a whole number" if self.kind is int else "a number"
        text = f"{noun} from {_fmt(self.minimum)} to {_fmt(self.maximum)}"
        return text + (" or empty for the default" if self.optional else "")


def _fmt(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else f"{value:,}"


_TIMED = ("sleep", "cpu", "hash", "mixed")
#: a Dask scheduler's address: tcp:// or tls://, a host and a port
SCHEDULER_ADDRESS = re.compile(r"^(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")
TLS_FILES = ("tls_ca", "tls_cert", "tls_key")
PEM_FILES = "PEM files (*.pem *.crt *.key)"
DASK_TEXT = ("scheduler", *TLS_FILES)


def _cores(tasks: int, cores: int) -> int:
    return cores


def _thread_pool(tasks: int, cores: int) -> int:
    return min(32, cores + 4)


def _process_pool(tasks: int, cores: int) -> int:
    return min(cores, WINDOWS_MAX_PROCESS_WORKERS) if sys.platform == "win32" else cores


def _all_tasks(tasks: int, cores: int) -> int:
    return tasks


@dataclass(frozen=True)
class ExecutorKind:
    """What one executor takes from the spec, declared once.

    The spec's fields ask here which executors they apply to, and the form, the command
    line, the sweep and the summary ask the spec: none of them repeats a rule.
    """

    name: str
    #: how many workers an empty ``workers`` means, from (tasks, cores); None: the executor takes no count
    auto_workers: Callable[[int, int], int] | None = None
    #: the same rule in words, for help text
    auto_words: str = ""
    #: one thread or process per task: as many workers as tasks, nothing to choose
    one_per_task: bool = False
    #: the executor-only fields it takes (start_method, chunk_size, …)
    fields: tuple[str, ...] = ()
    #: a field whose address hands the worker count to a cluster that decides it (Dask: scheduler)
    cluster_field: str = ""
    #: a field that gives each worker process this many threads where it starts them (Dask's LocalCluster)
    threads_field: str = ""
    #: a choice field that names a variant of it, said with its name ("joblib (threading)")
    variant_field: str = ""
    #: whether its tasks run in worker processes it starts (never in the calling process), per
    #: ``variant_field``'s choice where it has one
    in_processes: bool | Mapping[str, bool] = False

    @property
    def takes_workers(self) -> bool:
        """Whether the ``workers`` field means something for it (and a sweep can vary it)."""
        return self.auto_workers is not None


_DASK_FIELDS = ("threads_per_worker", "scheduler", *TLS_FILES, "dashboard")
EXECUTOR_KINDS: dict[str, ExecutorKind] = {
    k.name: k
    for k in (
        ExecutorKind("sequential"),
        ExecutorKind("threads", one_per_task=True),
        ExecutorKind("thread-pool", _thread_pool, "min(32, cores + 4), as ThreadPoolExecutor"),
        ExecutorKind("process-pool", _process_pool, "the machine's cores, as ProcessPoolExecutor",
                     fields=("start_method", "chunk_size"), in_processes=True),
        ExecutorKind("processes", one_per_task=True, fields=("start_method",), in_processes=True),
        ExecutorKind("mp-pool", _process_pool, "the machine's cores, as multiprocessing.Pool",
                     fields=("start_method", "chunk_size"), in_processes=True),
        ExecutorKind("joblib", _cores, "all cores, as joblib's n_jobs=-1",
                     fields=("backend", "batch_size", "pre_dispatch"), variant_field="backend",
                     in_processes={"loky": True, "multiprocessing": True, "threading": False}),
        ExecutorKind("asyncio", _all_tasks, "all tasks at once", fields=("offload",)),
        ExecutorKind("qt-thread-pool", _cores, "the machine's cores, as QThread.idealThreadCount()"),
        ExecutorKind("interpreter-pool", _thread_pool, "min(32, cores + 4), as InterpreterPoolExecutor"),
        ExecutorKind("dask", _cores, "one worker process per core on a LocalCluster; with a scheduler "
                     "address, all of its workers", fields=_DASK_FIELDS, cluster_field="scheduler",
                     threads_field="threads_per_worker", in_processes=True),
    )
}
EXECUTORS = tuple(EXECUTOR_KINDS)


def _taking(field: str) -> tuple[str, ...]:
    """The executors that declare ``field`` as theirs."""
    return tuple(k.name for k in EXECUTOR_KINDS.values() if field in k.fields)


def _workers_help() -> str:
    rules = "; ".join(f"{k.name}: {k.auto_words}" for k in EXECUTOR_KINDS.values() if k.takes_workers)
    return ("How many workers run tasks at once. Empty: the executor's own default "
            f"({rules}). On Dask the workers are worker processes, each with 'Threads per worker' threads.")


def _declared(p: Param) -> Param:
    """A field that executors declare (``workers``, ``start_method``, …) applies to those executors only."""
    owners = tuple(k.name for k in EXECUTOR_KINDS.values()
                   if p.name in k.fields or (p.name == "workers" and k.takes_workers))
    return replace(p, executors=owners) if owners else p


PARAMS: dict[str, Param] = {
    p.name: _declared(p)
    for p in (
        Param("workload", "Workload", str, "What each task does.", choices=WORKLOADS, choice_help=WORKLOAD_HELP),
        Param("executor", "Executor", str, "How the tasks are run.", choices=EXECUTORS),
        Param("tasks", "Tasks", int, "How many tasks to run.", "tasks", 1, MAX_TASKS),
        Param(
            "workers", "Workers", int,
            _workers_help(), "workers", 1, MAX_WORKERS, optional=True,
        ),
        Param(
            "duration", "Duration", float, "How long one task works or sleeps, in seconds.",
            "s", 0.0, 3600.0, workloads=_TIMED,
        ),
        Param(
            "size_mb", "Size", float, "Megabytes each task writes, fsyncs and reads back.",
            "MB", 0.001, 4096.0, workloads=("file-io",),
        ),
        Param(
            "cpu_fraction", "CPU fraction", float,
            "Share of each task spent computing; the rest sleeps.",
            "", 0.0, 1.0, workloads=("mixed",),
        ),
        Param(
            "increments", "Increments", int,
            "How many times each task adds 1 to its process's counter. Threads lose updates without the lock "
            "once a task outlasts the 5 ms switch interval: about 300,000 and more.",
            "increments", 1, MAX_INCREMENTS, workloads=("counter",),
        ),
        Param(
            "lock", "Lock", bool,
            "Take the process's lock around each read-add-write of the counter: the count is right, and slower.",
            workloads=("counter",),
        ),
        Param(
            "function", "Function", str,
            "Your function, as module:function or path/to/file.py:function. "
            "It is called with the task index if it takes one argument.",
            workloads=("custom",), editor="function", placeholder="module:function or file.py:function",
        ),
        Param(
            "jitter", "Jitter", float,
            "Spread of task sizes: 0 makes all tasks equal, 1 lets them vary from 0 to 2x.",
            "", 0.0, 1.0,
        ),
        Param("seed", "Seed", int, "Seed for the jitter and the argument's bytes, so a run can be repeated.",
              "", 0, 2**31 - 1),
        Param(
            "arg_bytes", "Argument size", int,
            "Bytes of data every task is handed: made once per run from the seed, and copied (pickled) to "
            "each task that runs in another process, which threads never need. A custom function is called "
            "as before and does not receive it: the copy is what is measured. 0: none. " + MEMORY_RULE,
            "bytes", 0, MAX_TRANSFER_BYTES,
        ),
        Param(
            "result_bytes", "Result size", int,
            "Bytes of data each task makes and gives back: copied (pickled) back from another process, "
            "shared by threads. 0: none. " + MEMORY_RULE,
            "bytes", 0, MAX_TRANSFER_BYTES,
        ),
        Param(
            "start_method", "Start method", str,
            "How worker processes are started. Empty: forkserver on Linux, spawn elsewhere.",
            choices=START_METHODS, optional=True, empty_text=DEFAULT_START_METHOD,
        ),
        Param(
            "chunk_size", "Chunk size", int,
            "Tasks sent to a worker process in one message (the chunksize of ProcessPoolExecutor.map "
            "and multiprocessing.Pool.map).",
            "tasks", 1, 100_000,
        ),
        Param(
            "backend", "Backend", str, "joblib: what runs the tasks (Parallel's backend).",
            choices=JOBLIB_BACKENDS, choice_help=JOBLIB_BACKEND_HELP,
        ),
        Param(
            "batch_size", "Batch size", int,
            "joblib: tasks sent to a worker as one batch, run there back to back. Empty: auto, joblib's "
            "default: it starts at 1 and doubles the batch while batches take under 0.2 s (the threading "
            "backend keeps 1).", "tasks", 1, 100_000, optional=True, empty_text="auto",
        ),
        Param(
            "pre_dispatch", "Pre-dispatch", str,
            "joblib: how many tasks it takes from the list before results come back (more are taken as "
            "they do): a number, all, or a multiple of n_jobs such as 3*n_jobs. Empty: 2*n_jobs, joblib's "
            "default.", optional=True, placeholder="2*n_jobs", empty_text="2*n_jobs",
        ),
        Param(
            "offload", "Offload blocking work", bool,
            "asyncio: run blocking workloads with asyncio.to_thread instead of on the loop.",
        ),
        Param(
            "threads_per_worker", "Threads per worker", int,
            "Dask: threads in each worker process of the embedded LocalCluster (a scheduler's "
            "workers keep their own).", "threads", 1, 256,
        ),
        Param(
            "scheduler", "Scheduler", str,
            "Dask: the address of a running scheduler, tcp://host:8786 or tls://host:8786. "
            "Empty: a LocalCluster on this machine (loopback only) is started for the run.",
            optional=True, placeholder="empty: a LocalCluster here · tcp://host:8786",
        ),
        Param("tls_ca", "TLS CA file", str, "Dask, tls:// only: the CA certificate file (PEM).",
              optional=True, editor="file", placeholder="PEM file", file_types=PEM_FILES),
        Param("tls_cert", "TLS certificate", str, "Dask, tls:// only: this client's certificate file (PEM).",
              optional=True, editor="file", placeholder="PEM file", file_types=PEM_FILES),
        Param("tls_key", "TLS key", str, "Dask, tls:// only: this client's private key file (PEM).",
              optional=True, editor="file", placeholder="PEM file", file_types=PEM_FILES),
        Param(
            "dashboard", "Dashboard", bool,
            "Dask: open the LocalCluster's dashboard on port 8787 (off: no dashboard port is opened).",
        ),
        Param(
            "timeout", "Timeout", float,
            "End the run when it has taken this long, in seconds (0: no limit). Worker processes are "
            "killed; a thread task that does not stop cannot be killed and is reported as abandoned.",
            "s", 0.0, MAX_TIMEOUT, minimum_text="none",
        ),
        Param(
            "isolation", "Runs in", str,
            "process: a separate engine process (the window stays smooth, numbers are clean); "
            "inline: inside the calling process.",
            choices=ISOLATIONS,
            choice_labels={"process": "a separate engine process", "inline": "inside this app"},
            choice_help={
                "process": "Recommended: the window stays smooth and the numbers are not disturbed by drawing.",
                "inline": "Threads that compute here take the GIL from the window, which then stutters.",
            },
        ),
        Param(
            "python", "Python", str,
            "Interpreter that runs the engine process (for example a free-threaded "
            "python3.13t). Empty: this one.",
            optional=True, editor="interpreter", placeholder="this one",
        ),
    )
}
#: executors that start worker processes with multiprocessing: those that take a start method
PROCESS_EXECUTORS = PARAMS["start_method"].executors


@dataclass(frozen=True)
class ExperimentSpec:
    """One experiment: which workload, run how, how many times."""

    workload: str = "sleep"
    executor: str = "sequential"
    tasks: int = 3
    workers: int | None = None
    duration: float = 2.0
    size_mb: float = 4.0
    cpu_fraction: float = 0.5
    function: str = ""
    increments: int = 1_000_000
    lock: bool = False
    jitter: float = 0.0
    seed: int = 0
    arg_bytes: int = 0
    result_bytes: int = 0
    start_method: str | None = None
    chunk_size: int = 1
    backend: str = "loky"
    batch_size: int | None = None
    pre_dispatch: str | None = None
    offload: bool = False
    threads_per_worker: int = 1
    scheduler: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    dashboard: bool = False
    timeout: float = 0.0
    isolation: str = "process"
    python: str | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            p, value = PARAMS[f.name], getattr(self, f.name)
            check_value(p, value)
            if p.kind is int and isinstance(value, float):  # 3.0 from JSON: range() needs an int
                object.__setattr__(self, f.name, int(value))
            if f.name in (*DASK_TEXT, "pre_dispatch") and value is not None:  # " tls://..." is not empty
                object.__setattr__(self, f.name, value.strip() or None)
        if self.workload == "custom" and not self.function.strip():
            raise SpecError("function", "is empty; give module:function or path/to/file.py:function")
        if self.workload == "custom" and ":" not in self.function:
            raise SpecError(
                "function", f"{self.function!r} has no ':'; give module:function or file.py:function"
            )
        check_dask(self)
        check_pre_dispatch(self.pre_dispatch)
        check_platform(self)

    # --- conversions -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExperimentSpec:
        """Build a spec from JSON data, naming any unknown field."""
        if not isinstance(data, dict):
            raise SpecError("spec", f"must be an object, not {type(data).__name__}")
        unknown = sorted(set(data) - set(PARAMS))
        if unknown:
            raise SpecError(unknown[0], f"is not a spec field; allowed: {', '.join(PARAMS)}")
        return cls(**data)

    def with_(self, **changes: Any) -> ExperimentSpec:
        return replace(self, **changes)

    # --- derived values ----------------------------------------------------------
    def auto_workers(self, cores: int | None = None) -> int | None:
        """What an empty ``workers`` means for this spec (see :func:`auto_workers`)."""
        kind = EXECUTOR_KINDS[self.executor]
        cluster = getattr(self, kind.cluster_field) if kind.cluster_field else None
        return auto_workers(self.executor, self.tasks, cluster, cores)

    def worker_threads(self, cores: int | None = None) -> int:
        """Threads that run tasks at once: a run's lanes, what a result's ``workers`` counts.

        The ``workers`` field's value or its default, except where the field counts worker
        processes of several threads (Dask): those it starts have ``threads_field`` threads each,
        and a cluster's workers' threads are learnt only once connected (until then one each).
        """
        kind = EXECUTOR_KINDS[self.executor]
        if kind.one_per_task or not kind.takes_workers:
            return self.auto_workers(cores) or 1
        chosen = self.workers or self.auto_workers(cores) or 1
        on_cluster = bool(kind.cluster_field and getattr(self, kind.cluster_field))
        if kind.threads_field and not on_cluster:
            return chosen * getattr(self, kind.threads_field)
        return chosen

    def effective_start_method(self) -> str:
        return self.start_method or DEFAULT_START_METHOD

    def relevant(self, name: str) -> bool:
        """Whether a field matters for this spec's workload and executor."""
        return applies(name, self.workload, self.executor)

    def in_processes(self) -> bool:
        """Whether its tasks run in worker processes the executor starts (see :func:`in_processes`)."""
        return in_processes(self.to_dict())


#: every field's default, for a stored spec that lacks a field added since
_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(ExperimentSpec)}


def executor_label(spec: Mapping[str, Any]) -> str:
    """A run's executor as people name it: its name, with its variant where it has one ("joblib (threading)").

    ``spec``: a spec's fields as a dict (a stored result's ``spec``); a field it lacks has its default.
    """
    name = str(spec.get("executor") or "?")
    kind = EXECUTOR_KINDS.get(name)
    if kind is None or not kind.variant_field:
        return name
    return f"{name} ({spec.get(kind.variant_field) or _DEFAULTS[kind.variant_field]})"


def in_processes(spec: Mapping[str, Any]) -> bool:
    """Whether a run's tasks run in worker processes its executor starts, never in the calling process."""
    kind = EXECUTOR_KINDS.get(str(spec.get("executor")))
    if kind is None or isinstance(kind.in_processes, bool):
        return bool(kind and kind.in_processes)
    return kind.in_processes.get(spec.get(kind.variant_field) or _DEFAULTS[kind.variant_field], False)


def auto_workers(executor: str, tasks: int, cluster: str | None = None, cores: int | None = None) -> int | None:
    """What an empty ``workers`` means for ``executor``, in the field's own unit (Dask: worker
    processes); None when ``cluster`` (the kind's ``cluster_field``, a scheduler address) decides.

    A function of the fields it reads, so a form can say it while another field is still wrong.
    """
    kind = EXECUTOR_KINDS[executor]
    if kind.one_per_task:
        return tasks
    if kind.auto_workers is None:
        return 1
    if kind.cluster_field and cluster:
        return None
    return kind.auto_workers(tasks, cores or cpu_count())


def applies(name: str, workload: str, executor: str) -> bool:
    """Whether field ``name`` matters for ``workload`` on ``executor`` (no valid spec needed)."""
    p = PARAMS[name]
    return (not p.workloads or workload in p.workloads) and (not p.executors or executor in p.executors)



def check_dask(spec: ExperimentSpec) -> None:
    """A scheduler address is tcp:// or tls://host:port; tls:// needs all three files, tcp:// none."""
    address = spec.scheduler or ""
    if address and not SCHEDULER_ADDRESS.match(address):
        raise SpecError("scheduler", f"{address!r} is not a scheduler address; allowed: tcp://host:port or "
                                     "tls://host:port, or empty for a LocalCluster on this machine")
    if address and not 0 < int(address.rsplit(":", 1)[1]) < 65536:
        raise SpecError("scheduler", f"{address!r} has a port out of range; allowed: 1 to 65535")
    tls = address.startswith("tls://")
    for name in TLS_FILES:
        given = bool(getattr(spec, name))
        if tls and not given:
            raise SpecError(name, "is missing; a tls:// scheduler needs the CA, certificate and key files")
        if given and not tls:
            raise SpecError(name, "is only used with a tls:// scheduler address; leave it empty")


def check_pre_dispatch(value: str | None) -> None:
    """joblib's pre_dispatch: empty, all, a whole number, or a multiple of n_jobs of at least 1."""
    if value is not None and not PRE_DISPATCH.match(value):
        raise SpecError("pre_dispatch", f"{value!r} is not allowed; allowed: all, a whole number such as 8, a "
                                        "multiple of n_jobs such as 3*n_jobs, or empty for 2*n_jobs")


def check_platform(spec: ExperimentSpec, platform: str = sys.platform) -> None:
    """Refuse what ``platform`` cannot do, naming the field (``platform`` as in ``sys.platform``)."""
    if platform == "win32":
        if spec.start_method and spec.start_method != "spawn":
            raise SpecError("start_method", f"{spec.start_method!r} is not available on Windows; use spawn")
        if spec.executor in WINDOWS_LIMITED and spec.workers and spec.workers > WINDOWS_MAX_PROCESS_WORKERS:
            raise SpecError("workers", f"{spec.workers} is over the limit of a process pool on Windows; "
                                       f"allowed: 1 to {WINDOWS_MAX_PROCESS_WORKERS}")


def check_value(p: Param, value: Any) -> None:
    """Refuse ``value`` for ``p`` with a :class:`SpecError` that names the field and what is allowed."""
    if value is None:
        if p.optional:
            return
        raise SpecError(p.name, f"is missing; allowed: {p.allowed()}")
    if p.kind is bool:
        if not isinstance(value, bool):
            raise SpecError(p.name, f"{value!r} is not allowed; allowed: {p.allowed()}")
        return
    if p.kind is str:
        if not isinstance(value, str):
            raise SpecError(p.name, f"{value!r} is not text; allowed: {p.allowed()}")
        if p.choices and value not in p.choices:
            raise SpecError(p.name, f"{value!r} is not allowed; allowed: {p.allowed()}")
        return
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not numeric or (p.kind is int and isinstance(value, float) and not value.is_integer()):
        raise SpecError(p.name, f"{value!r} is not allowed; allowed: {p.allowed()}")
    # no float() of an int here: 10**400 would raise OverflowError instead of SpecError
    if (isinstance(value, float) and math.isnan(value)) or not (p.minimum <= value <= p.maximum):
        raise SpecError(p.name, f"{value!r} is out of range; allowed: {p.allowed()}")


def parse_value(name: str, text: str) -> Any:
    """Turn text typed by a person (command line, form) into a field value."""
    p = PARAMS[name]
    text = text.strip()
    if text == "" and p.optional:
        return None
    try:
        if p.kind is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if p.kind is int:
            value = float(text.replace("_", ""))
            if not value.is_integer():
                raise ValueError
            return int(value)
        if p.kind is float:
            return float(text)
    except ValueError:
        raise SpecError(name, f"{text!r} is not {p.allowed()}") from None
    return text

"""What a run produced: one record per task, the CPU and memory samples and the result.

Times are seconds from the run's start, measured with ``perf_counter_ns``,
which is system-wide on Linux and Windows, so records from worker processes
line up with the parent's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import starmap
from operator import itemgetter
from typing import Any

RESULT_VERSION = 1

OK, ERROR, CANCELLED, RUNNING, WAITING = "ok", "error", "cancelled", "running", "waiting"
#: a run's status in a file written while it went (a killed command line leaves one): it never ended
INTERRUPTED = "interrupted"


@dataclass(slots=True)
class TaskRecord:
    """One task: where it ran, when, for how long and how it ended."""

    index: int
    worker: str = ""
    pid: int = 0
    thread_id: int = 0
    submitted: float | None = None
    start: float | None = None
    end: float | None = None
    cpu_seconds: float = 0.0
    status: str = WAITING
    error: dict[str, str] | None = None
    #: seconds the task's argument took to reach it (serialising, the queue or pipe, deserialising); the
    #: span ends at ``start``. 0 where nothing was copied (threads, asyncio, sequential, fork's inheritance)
    sent_seconds: float = 0.0
    #: seconds its result took to come back to the run (serialising, the pipe, deserialising); begins at ``end``
    returned_seconds: float = 0.0
    #: a small whole number the task's work returned (the shared-counter workload's count), else None
    value: int | None = None

    @property
    def duration(self) -> float:
        if self.start is None or self.end is None:
            return 0.0
        return self.end - self.start

    @property
    def back(self) -> float | None:
        """When the run had the task's result: its end plus the time the result took to come back."""
        return None if self.end is None else self.end + self.returned_seconds

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "worker": self.worker,
            "pid": self.pid,
            "thread_id": self.thread_id,
            "submitted": self.submitted,
            "start": self.start,
            "end": self.end,
            "cpu_seconds": self.cpu_seconds,
            "status": self.status,
            "error": self.error,
            "sent_seconds": self.sent_seconds,
            "returned_seconds": self.returned_seconds,
            "value": self.value,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TaskRecord:
        """A record from its JSON object, its missing fields at their defaults (values are checked by
        :mod:`.validate`)."""
        _need_object("a task record", d)
        return cls(**{k: d.get(k, getattr(_DEFAULT, k)) for k in _FIELDS})

    def to_row(self) -> list:
        """The fields in declaration order: the compact form the live stream uses."""
        return [self.index, self.worker, self.pid, self.thread_id, self.submitted, self.start, self.end,
                self.cpu_seconds, self.status, self.error, self.sent_seconds, self.returned_seconds, self.value]


_FIELDS = TaskRecord.__slots__
_DEFAULT = TaskRecord(0)
#: the record of every task that has not started: one shared object, never changed (its index is not the
#: task's: use its position in the list), so announcing 100,000 tasks costs no 100,000 objects
NOT_STARTED = TaskRecord(-1)


@dataclass(slots=True)
class CpuSample:
    """Per-core CPU percent at time ``t``, plus the run's process tree CPU."""

    t: float
    per_core: list[float]
    tree_percent: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"t": self.t, "per_core": self.per_core, "tree_percent": self.tree_percent}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CpuSample:
        _need_object("a CPU sample", d)
        return cls(d["t"], _need_list("per_core", d["per_core"]), d.get("tree_percent"))


@dataclass(slots=True)
class ThreadStates:
    """What each worker lane's thread did over one probe interval ending at ``t`` (the run's clock).

    ``lanes`` maps a lane (a task record's ``worker``) to its shares of the interval, each 0..1:
    (on a core, runnable but waiting for a core, blocked). Blocked is the rest: the GIL, a lock,
    a sleep or I/O. Where the kernel gives only CPU time (no schedstat), waiting is 0 and blocked
    holds everything that was not on a core; ``RunResult.environment["thread_states"]`` says which.
    """

    t: float
    interval: float
    lanes: dict[str, tuple[float, float, float]]

    def to_dict(self) -> dict[str, Any]:
        return {"t": self.t, "interval": self.interval, "lanes": {k: list(v) for k, v in self.lanes.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ThreadStates:
        _need_object("thread states", d)
        _need_object("lanes", d["lanes"])
        return cls(d["t"], d["interval"], {k: (v[0], v[1], v[2]) for k, v in d["lanes"].items()})


@dataclass(slots=True)
class MemorySample:
    """Each process of the run's tree and its memory in bytes at time ``t`` (the run's clock).

    Unique set size where the platform gives it (what the process would give back if it ended), else
    resident set size; ``RunResult.environment["memory"]`` says which ("uss" or "rss"). A thread run has
    one process: its threads share its memory. JSON keys are the pids as text.
    """

    t: float
    per_pid: dict[int, int]

    def to_dict(self) -> dict[str, Any]:
        return {"t": self.t, "per_pid": {str(pid): v for pid, v in self.per_pid.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MemorySample:
        _need_object("a memory sample", d)
        _need_object("per_pid", d["per_pid"])
        return cls(d["t"], {int(pid): v for pid, v in d["per_pid"].items()})


@dataclass
class RunResult:
    """Everything a finished (or failed, or cancelled) run measured."""

    spec: dict[str, Any]
    environment: dict[str, Any]
    status: str = OK  # ok | cancelled | failed | interrupted
    error: str | None = None
    started_at: float = 0.0  # epoch seconds, for people
    startup_seconds: float = 0.0  # pool start-up, before the first task
    wall_seconds: float = 0.0  # from the end of start-up to the last task's end
    workers: int = 1
    tasks: list[TaskRecord] = field(default_factory=list)
    cpu_samples: list[CpuSample] = field(default_factory=list)
    thread_states: list[ThreadStates] = field(default_factory=list)
    #: each process's memory over the run (the probe's, every :data:`.sampler.MEMORY_INTERVAL`)
    memory_samples: list[MemorySample] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    version: int = RESULT_VERSION

    def to_dict(self, tasks: bool = True) -> dict[str, Any]:
        """The JSON result; ``tasks=False`` leaves the (possibly 100,000) task records out."""
        return {
            "version": self.version,
            "spec": self.spec,
            "environment": self.environment,
            "status": self.status,
            "error": self.error,
            "started_at": self.started_at,
            "startup_seconds": self.startup_seconds,
            "wall_seconds": self.wall_seconds,
            "workers": self.workers,
            "summary": self.summary,
            "tasks": [t.to_dict() for t in self.tasks] if tasks else [],
            "cpu_samples": [s.to_dict() for s in self.cpu_samples],
            "thread_states": [s.to_dict() for s in self.thread_states],
            "memory_samples": [s.to_dict() for s in self.memory_samples],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunResult:
        """The run of a JSON object, built as it is: a file, the history and the engine's stream go through
        :func:`concgui.engine.validate.run_from_dict`, which checks every value."""
        _need_object("a run", d)
        version = d.get("version")
        if not isinstance(version, int) or version > RESULT_VERSION:
            raise ValueError(
                f"version: {version!r} is not a result format this ConcGUI reads "
                f"(it reads up to {RESULT_VERSION})"
            )
        return cls(
            spec=dict(d["spec"]),
            environment=dict(d["environment"]),
            status=d.get("status", OK),
            error=d.get("error"),
            started_at=d.get("started_at", 0.0),
            startup_seconds=d.get("startup_seconds", 0.0),
            wall_seconds=d["wall_seconds"],
            workers=d.get("workers", 1),
            summary=dict(d.get("summary", {})),
            tasks=_records(d["tasks"]),
            cpu_samples=[CpuSample.from_dict(s) for s in d.get("cpu_samples", [])],
            thread_states=[ThreadStates.from_dict(s) for s in d.get("thread_states", [])],  # none in old files
            memory_samples=[MemorySample.from_dict(s) for s in d.get("memory_samples", [])],  # nor these
            version=version,
        )


_ROW = itemgetter(*_FIELDS)
#: the fields of a record before sent_seconds, returned_seconds and value were added (files from before)
_OLD_ROW = itemgetter(*_FIELDS[:_FIELDS.index("sent_seconds")])


def last_back(tasks: list[TaskRecord], default: float) -> float:
    """When the run had its last result (:attr:`TaskRecord.back`); ``default`` before any task ended."""
    return max((t.back for t in tasks if t.end is not None), default=default)


def wall_seconds(tasks: list[TaskRecord], work_start: float, default: float | None = None) -> float:
    """The run's wall time: from the work's start until its last result was back (not merely computed), so
    a result still being copied home counts; ``default`` (else ``work_start``) ends it when none ended."""
    return max(0.0, last_back(tasks, work_start if default is None else default) - work_start)


def _records(tasks: list[dict[str, Any]]) -> list[TaskRecord]:
    """Records from task objects: at C speed when each has every field (or every field an older file
    has), else one by one with defaults."""
    for row in (_ROW, _OLD_ROW):
        try:
            return list(starmap(TaskRecord, map(row, tasks)))
        except (KeyError, TypeError):
            pass
    return [TaskRecord.from_dict(t) for t in tasks]


def _need_object(what: str, d: Any) -> None:
    """A TypeError (which every reader of records catches) for what is not a JSON object."""
    if not isinstance(d, dict):
        raise TypeError(f"{what} must be a JSON object, not {type(d).__name__}")


def _need_list(what: str, v: Any) -> list:
    if not isinstance(v, list):
        raise TypeError(f"{what} must be a list, not {type(v).__name__}")
    return list(v)

"""Live events a run emits, in the order a consumer sees them per task.

Consumers (the command line, the window) receive lists of events, batched
every few tens of milliseconds, so 100,000 tasks do not mean 200,000 calls.
Within a batch a worker's tasks come in the order they ran: the finished
ones as they finished, then the ones still running (``TaskStarted``), so a
consumer may take a large batch a part at a time.
Every event turns into a JSON object and back, which is how the separate
engine process streams them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .records import CpuSample, MemorySample, RunResult, TaskRecord, ThreadStates
from .validate import run_from_dict


@dataclass(slots=True)
class RunStarted:
    spec: dict[str, Any]
    environment: dict[str, Any]
    tasks: int
    workers: int


@dataclass(slots=True)
class StartupFinished:
    """The pool is up; the work (and the wall clock) starts at ``t``.

    ``detail``: what the start-up found, e.g. ``{"workers": 4, "dask": {...}}`` for a Dask cluster.
    """

    t: float
    detail: dict[str, Any] | None = None


@dataclass(slots=True)
class TaskStarted:
    index: int
    worker: str
    pid: int
    thread_id: int
    start: float


@dataclass(slots=True)
class TaskFinished:
    record: TaskRecord


@dataclass(slots=True)
class CpuSampled:
    sample: CpuSample


@dataclass(slots=True)
class ThreadStatesSampled:
    """The worker lanes' states over the probe's last interval (the X-ray)."""

    states: ThreadStates


@dataclass(slots=True)
class MemorySampled:
    """Each process's memory at the probe's last memory reading."""

    sample: MemorySample


@dataclass(slots=True)
class RunFinished:
    result: RunResult


Event = (RunStarted | StartupFinished | TaskStarted | TaskFinished | CpuSampled | ThreadStatesSampled | MemorySampled
         | RunFinished)
EventSink = Callable[[list[Event]], None]


def event_to_json(e: Event) -> dict[str, Any]:
    """A JSON-ready dict with a ``type`` key."""
    if isinstance(e, TaskStarted):
        return {"type": "task_started", "index": e.index, "worker": e.worker, "pid": e.pid,
                "thread_id": e.thread_id, "start": e.start}
    if isinstance(e, TaskFinished):
        return {"type": "task_finished", "record": e.record.to_row()}
    if isinstance(e, CpuSampled):
        return {"type": "cpu", "sample": e.sample.to_dict()}
    if isinstance(e, ThreadStatesSampled):
        return {"type": "thread_states", "states": e.states.to_dict()}
    if isinstance(e, MemorySampled):
        return {"type": "memory", "sample": e.sample.to_dict()}
    if isinstance(e, StartupFinished):
        return {"type": "startup_finished", "t": e.t, "detail": e.detail}
    if isinstance(e, RunStarted):
        return {"type": "run_started", "spec": e.spec, "environment": e.environment,
                "tasks": e.tasks, "workers": e.workers}
    if isinstance(e, RunFinished):
        return {"type": "run_finished", "result": e.result.to_dict()}
    raise TypeError(f"not an event: {e!r}")


def event_from_json(d: dict[str, Any]) -> Event:
    kind = d.get("type")
    if kind == "task_started":
        return TaskStarted(d["index"], d["worker"], d["pid"], d["thread_id"], d["start"])
    if kind == "task_finished":
        r = d["record"]
        return TaskFinished(TaskRecord(*r) if isinstance(r, list) else TaskRecord.from_dict(r))
    if kind == "cpu":
        return CpuSampled(CpuSample.from_dict(d["sample"]))
    if kind == "thread_states":
        return ThreadStatesSampled(ThreadStates.from_dict(d["states"]))
    if kind == "memory":
        return MemorySampled(MemorySample.from_dict(d["sample"]))
    if kind == "startup_finished":
        return StartupFinished(d["t"], d.get("detail"))
    if kind == "run_started":
        return RunStarted(d["spec"], d["environment"], d["tasks"], d["workers"])
    if kind == "run_finished":
        return RunFinished(run_from_dict(d["result"]))  # the engine's output: checked as a file is
    raise ValueError(f"unknown event type {kind!r}")

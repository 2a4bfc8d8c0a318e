"""The Qt-free experiment engine: specs, workloads, executors, records and events.

Typical use from a notebook::

    from concgui.engine import ExperimentSpec, run
    result = run(ExperimentSpec(workload="sleep", executor="threads", tasks=3, duration=2))
    print(result.wall_seconds, result.summary["concurrency"])
"""

import threading

from .events import Event, RunFinished, RunStarted, TaskFinished, TaskStarted
from .executors import get_executor, list_executors
from .records import CpuSample, RunResult, TaskRecord, ThreadStates
from .runner import Run, run_inline
from .spec import PARAMS, ExperimentSpec, SpecError

__all__ = [
    "PARAMS", "CpuSample", "Event", "ExperimentSpec", "Run", "RunFinished", "RunResult", "RunStarted",
    "SpecError", "TaskFinished", "TaskRecord", "TaskStarted", "ThreadStates", "get_executor", "list_executors",
    "run", "run_inline", "start",
]


def start(spec: ExperimentSpec, on_events=None, baseline: RunResult | None = None,
          host_idle: threading.Event | None = None):
    """A run of ``spec`` where its ``isolation`` says: call ``.execute()``, maybe ``.cancel()``.

    ``host_idle`` (a ``threading.Event``, for an engine process only) is set while the consumer's own
    thread is free: the reader of the stream then parses between that thread's busy turns.
    """
    if spec.isolation == "process":
        from .isolation import EngineProcess

        return EngineProcess(spec, on_events, baseline, host_idle)
    return Run(spec, on_events, baseline)


def run(spec: ExperimentSpec, on_events=None, baseline: RunResult | None = None) -> RunResult:
    """Run ``spec`` to the end and return its result (the notebook entry point)."""
    return start(spec, on_events, baseline).execute()

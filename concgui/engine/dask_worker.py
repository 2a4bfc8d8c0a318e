"""What runs inside each Dask worker process for a ConcGUI run.

The parent prepares every worker once per run (:func:`start_run`, through
``Client.run``): the worker gets its own copy of the run's clock origin,
corrected for its host's clock offset, a local cancel flag and the same
:class:`~concgui.engine.worker.WorkerContext` every other executor uses.
Tasks then call :func:`run_task`, which returns the task's record as its
result.  Starts are not sent one by one: each thread's current start sits in
a slot, and a small thread publishes the new ones every 50 ms as one Dask
event, so a noop task costs no extra message.

Only the standard library and ConcGUI's engine are imported at module level;
this module is imported by the workers, never by the window.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

from .transfer import Payload
from .worker import WorkerContext, _ignore, execute, watch_parent
from .workloads import Job, load_function

PUBLISH_INTERVAL = 0.05
IMPORT_TIMEOUT = 10.0


class _WorkerRun:
    """One run's state in this worker process."""

    def __init__(self, t0_ns: int, pid: int, job: Job, topic: str, worker: Any) -> None:
        self.cancel = threading.Event()
        self.running: dict[int, tuple] = {}  # thread id -> start tuple of its current task
        self.pid = pid  # what its records give as their pid: the real one, or an alias the parent chose
        started = self.running.__setitem__
        if pid != os.getpid():
            def started(tid: int, t: tuple) -> None:
                self.running[tid] = (t[0], pid, *t[2:])
        self.ctx = WorkerContext(t0_ns, self.cancel, job, started, _ignore)
        self.done = threading.Event()
        self._topic, self._worker = topic, worker
        threading.Thread(target=self._publish, name="concgui-dask-starts", daemon=True).start()

    def _publish(self) -> None:
        """Send the starts not yet sent, every :data:`PUBLISH_INTERVAL` seconds, until the run ends."""
        sent: dict[int, tuple] = {}
        while not self.done.wait(PUBLISH_INTERVAL):
            now = self.running.copy()
            new = [list(t) for tid, t in now.items() if sent.get(tid) is not t]
            sent = now
            if new:
                try:
                    self._worker.log_event(self._topic, new)
                except Exception:  # noqa: BLE001 - the worker is closing: starts are only a live view
                    return


_runs: dict[str, _WorkerRun] = {}


def identify(dask_worker: Any = None) -> dict[str, Any]:
    """Who this worker is: host, pid, boot id (same boot id and host: same monotonic clock), threads."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "boot_id": boot_id(),
            "nthreads": getattr(getattr(dask_worker, "state", dask_worker), "nthreads", 1)}


def boot_id() -> str:
    """This machine's boot id (Linux), or "" where there is none to read."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return ""


def clock() -> int:
    """This host's ``perf_counter_ns``, for the parent's clock-offset probe."""
    return time.perf_counter_ns()


def start_run(run_id: str, t0_by_address: dict[str, int], pid_by_address: dict[str, int], job: Job, topic: str,
              parent_pid: int | None, dask_worker: Any = None) -> str:
    """Prepare this worker for ``run_id``; "" when ready, else why it cannot run the tasks.

    ``t0_by_address``: the run's clock origin in each worker's clock; ``pid_by_address``: the pid
    each worker's records give (an alias where two hosts' workers share a pid).
    ``parent_pid``: the process that started this worker (an embedded LocalCluster); the
    worker exits soon after it dies, so no worker outlives the app.
    """
    if job.workload == "custom":
        try:
            load_function(job.function, IMPORT_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which names the field
            return str(exc)
    address = dask_worker.address
    _runs[run_id] = _WorkerRun(t0_by_address[address], pid_by_address[address], job, topic, dask_worker)
    if parent_pid:
        watch_parent(parent_pid)
    return ""


def run_task(index: int, size: float, run_id: str, arg: Payload | None = None) -> tuple:
    """One task, recorded by the same wrapper as every executor's; the record is the result."""
    state = _runs.get(run_id)
    if state is None:
        raise RuntimeError(f"this Dask worker ({os.getpid()}) was not prepared for run {run_id}")
    rec = execute(state.ctx, index, size, arg)
    return rec if rec[1] == state.pid else (rec[0], state.pid, *rec[2:])


def cancel_run(run_id: str) -> None:
    """Ask the run's running tasks to stop (built-in workloads look at the flag often)."""
    state = _runs.get(run_id)
    if state is not None:
        state.cancel.set()


def end_run(run_id: str) -> None:
    """Forget the run; its start publisher ends."""
    state = _runs.pop(run_id, None)
    if state is not None:
        state.cancel.set()
        state.done.set()

"""The wrapper every task runs in, in every executor.

It timestamps the task, measures its thread CPU time, catches anything it
raises (``SystemExit`` and ``KeyboardInterrupt`` included: they end the task,
not the program) and reports start and finish to the parent.  A record is a
plain tuple here because this is the hot path: 100,000 tasks go through it.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

from . import lifetime
from .records import CANCELLED, ERROR, OK
from .transfer import RESULT_FOLLOWS, Payload, make_result, sent_seconds
from .workloads import Cancelled, Job, perform, prepare

# (index, pid, thread_id, start, end, cpu_seconds, status, error, sent_seconds, returned, value):
# TaskRecord's fields without worker and submitted, which the parent adds. ``returned`` is 0.0, or the
# task's result as it travels (see :mod:`.transfer`), which the parent turns into seconds.
RecordTuple = tuple


class WorkerContext:
    """How a worker reports to its run.

    ``started(thread_id, start_tuple)`` and ``finished(record_tuple)`` are
    plain (ideally C-level) callables; ``work(index, size)`` is the workload,
    bound once per run by :func:`bind_work`.
    """

    __slots__ = ("t0_ns", "cancel", "started", "finished", "job", "work", "result_bytes")

    def __init__(self, t0_ns: int, cancel: Any, job: Job,
                 started: Callable[[int, tuple], None], finished: Callable[[tuple], None]) -> None:
        self.t0_ns = t0_ns
        self.cancel = cancel  # threading.Event or multiprocessing.Event
        self.job = job
        self.started = started
        self.finished = finished
        self.work = bind_work(job, cancel)
        self.result_bytes = job.result_bytes  # each task makes a result this big, which travels back


def bind_work(job: Job, cancel: Any) -> Callable[[int, float], int | None]:
    """The workload as one call; refuses to start once the run is cancelled.

    What it returns becomes the task record's ``value``: a whole number (the counter workload's count) or
    None, never anything else (a custom function's return value is not passed on).

    Binding prepares this process for the workload (:func:`~concgui.engine.workloads.prepare`):
    it happens where a worker starts, never inside a task.
    """
    prepare(job)
    is_set, wait = cancel.is_set, cancel.wait
    if job.workload == "noop":  # the dispatch-overhead probe: nothing at all

        def work(index: int, size: float) -> None:
            pass
    else:

        def work(index: int, size: float) -> int | None:
            return perform(job, index, size, is_set, wait)

    return work


def execute(ctx: WorkerContext, index: int, size: float, arg: Payload | None = None) -> RecordTuple:
    """Run task ``index`` and return its record.  The hot path: keep it lean.

    ``arg``: the run's argument (``arg_bytes``), as it reached this worker; its travel is the record's
    ``sent_seconds``, counted from the end of the previous task on this thread at the earliest (see
    :mod:`.transfer`).  With ``result_bytes`` the task makes a result that travels back in the record.

    A task's CPU time is read once, at its end, as the thread's CPU time since
    the end of the previous task on the same thread in this run (or since this
    task's start, for a thread's first task).  It therefore includes the pool's
    few microseconds of hand-over work, and saves a system call per task.
    """
    t0 = ctx.t0_ns
    if ctx.cancel.is_set():  # dropped before it began: no start, no lane
        rec = (index, _pid, 0, None, None, 0.0, CANCELLED, None, 0.0, 0.0, None)
        ctx.finished(rec)
        return rec
    # [run's t0, thread id, CPU clock at the last task's end, perf_counter_ns at the last task's end]
    mark = getattr(_thread, "mark", None)
    if mark is None or mark[0] != t0:  # first task of this run on this thread
        mark = _thread.mark = [t0, threading.get_native_id(), thread_time(), 0]
    tid = mark[1]
    sent = 0.0 if arg is None else sent_seconds(arg, mark[3])
    start = (perf_counter_ns() - t0) / 1e9
    ctx.started(tid, (index, _pid, tid, start))
    status = OK
    error = value = None
    result = 0.0
    try:
        value = ctx.work(index, size)
        if ctx.result_bytes:
            result = make_result(ctx.result_bytes)
    except Cancelled:
        status = CANCELLED
    except BaseException as exc:  # noqa: BLE001 - a task's fault is data, not our crash
        status, error = ERROR, describe_error(exc)
    end_ns = perf_counter_ns()
    cpu = thread_time()
    rec = (index, _pid, tid, start, (end_ns - t0) / 1e9, cpu - mark[2], status, error, sent, result, value)
    mark[2] = cpu
    if arg is not None:  # only an argument's travel is counted from here
        mark[3] = end_ns
    ctx.finished(rec)
    return rec


def begin(ctx: WorkerContext, index: int) -> tuple:
    """The first half of :func:`execute`, for tasks that are coroutines (asyncio)."""
    tid = threading.get_native_id()
    start = (perf_counter_ns() - ctx.t0_ns) / 1e9
    ctx.started(tid, (index, _pid, tid, start))
    return tid, start


def finish(ctx: WorkerContext, index: int, begun: tuple, status: str, error: dict | None,
           cpu: float) -> RecordTuple:
    """The second half of :func:`execute`; ``cpu`` is the coroutine's own CPU time.

    Coroutines share their thread, so the caller adds up the CPU of its own
    steps: the thread's clock over the task's whole life would count the
    other coroutines' work too.
    """
    tid, start = begun
    rec = (index, _pid, tid, start, (perf_counter_ns() - ctx.t0_ns) / 1e9, cpu, status, error, 0.0, 0.0, None)
    ctx.finished(rec)
    return rec


# The hot path avoids system calls: the pid is cached (and refreshed after a
# fork), the thread id and CPU mark live in a thread-local.
perf_counter_ns, thread_time = time.perf_counter_ns, time.thread_time
_pid = os.getpid()
_thread = threading.local()


def _after_fork() -> None:
    global _pid
    _pid = os.getpid()
    _thread.mark = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def describe_error(exc: BaseException) -> dict[str, str]:
    """A task's exception as plain text: it must cross processes and JSON, whatever it holds.

    Never raises: an exception whose ``__str__`` itself raises still gets a record.
    """
    try:
        message = str(exc)
    except BaseException as inner:  # noqa: BLE001 - a broken __str__ must not lose the task
        message = f"<the exception's message could not be made: {type(inner).__name__}>"
    try:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except BaseException:  # noqa: BLE001
        text = "".join(traceback.format_tb(exc.__traceback__)) + f"{type(exc).__name__}: {message}\n"
    return {"type": type(exc).__name__, "message": message, "traceback": text}


def thread_context(t0_ns: int, cancel: threading.Event, job: Job, sink: deque,
                   running: dict) -> WorkerContext:
    """A context for workers in this process.

    Finishes go onto ``sink``.  A start only overwrites the thread's slot in
    ``running`` (keyed by thread id), which the pump reads every few tens of milliseconds: a task
    too short to be seen running costs nothing more than its finish.
    """
    return WorkerContext(t0_ns, cancel, job, running.__setitem__, sink.append)


# --- worker processes -----------------------------------------------------------------
_process_ctx: WorkerContext | None = None
_ready: Any = None  # the pool's count of prepared workers (a multiprocessing Value), see warm_up


def init_process(t0_ns: int, cancel: Any, job: Job, reports: Any, parent_pid: int,
                 environ: dict[str, str] | None = None, ready: Any = None, report_finish: bool = False) -> None:
    """Process initializer: remember the context; exit if the parent goes away.

    Starts (and, for one process per task, finishes) go to the ``reports``
    queue as ``("s", tuple)`` / ``("f", tuple)``; a pool returns finishes as results.
    Everything the job needs once per process is prepared here, before any task: the custom
    function's import, the hash buffer (see :func:`~concgui.engine.workloads.prepare`).
    ``environ``: the parent's environment, for workers started another way than the
    fork that was asked for (see ``choose_start_method``), so tasks see what fork shows.
    ``ready``: a shared counter of the pool's workers that finished this, for :func:`warm_up`.
    First of all the worker ties its life to its parent's and leads a process group of its own, which the
    run's end kills (see :mod:`.lifetime`): before the job's preparation, which may hold the GIL for long.
    """
    global _process_ctx, _ready
    lifetime.die_with_parent(parent_pid)
    lifetime.start_own_group()
    if environ is not None:
        os.environ.clear()
        os.environ.update(environ)
    put = reports.put
    finished = (lambda r: put(("f", _without_result(r)))) if report_finish else _ignore
    _process_ctx = WorkerContext(t0_ns, cancel, job, lambda _tid, t: put(("s", t)), finished)  # prepares the job
    # A queue starts its feeder thread on its first put: here, not in the first task's start report,
    # where starting a thread on a busy machine took milliseconds of the task. The run ignores ("p", pid).
    put(("p", _pid))
    watch_parent(parent_pid)
    if ready is not None:
        with ready.get_lock():
            ready.value += 1
        _ready = ready


def _without_result(rec: RecordTuple) -> RecordTuple:
    """A finish report without the task's result: ``returned`` is RESULT_FOLLOWS, by its own way.

    The reports queue is shared by every worker, so a message on it must never be large: one cut short (a
    worker ended while it wrote) would leave the reader waiting for the rest forever.  The result goes with
    the pool's copy of the record, or through a pipe of the task's own (one process per task).
    """
    return rec if rec[9].__class__ is float else (*rec[:9], RESULT_FOLLOWS, rec[10])


def run_in_process(index: int, size: float, arg: Payload | None = None) -> RecordTuple:
    """One task in a pool's worker process; its record (with the task's result) is the pool's result."""
    return execute(_process_ctx, index, size, arg)


def process_main(init_args: tuple, index: int, size: float, arg: Payload | None = None,
                 results: Any = None) -> None:
    """Entry point of a one-task ``multiprocessing.Process``; ``results``: the write end of the task's own
    pipe, which its record goes back through when it has a result (see :func:`_without_result`)."""
    init_process(*init_args, report_finish=True)
    rec = execute(_process_ctx, index, size, arg)
    if results is not None:
        if rec[9].__class__ is not float:
            results.send(rec)
        results.close()


def run_standalone(t0_ns: int, job: Job, index: int, size: float, arg: Payload | None = None) -> RecordTuple:
    """For executors with no shared queue or flag (interpreter pools): the result is the report."""
    return execute(WorkerContext(t0_ns, threading.Event(), job, _ignore, _ignore), index, size, arg)


def warm_up(delay: float, workers: int = 0, patience: float = 60.0) -> int:
    """Keeps a pool worker busy so the pool starts all its workers, and until ``workers`` are prepared.

    One warm-up per worker: each holds its worker until every worker's initializer (the custom
    function's import, say: 0.3 s, or 3 s on a busy machine) has finished, so none is left preparing
    once the work's clock starts. Gives up after ``patience`` seconds or when the run is cancelled.
    """
    time.sleep(delay)
    ready, ctx = _ready, _process_ctx
    if ready is not None and ctx is not None:
        deadline = time.monotonic() + patience
        while ready.value < workers and time.monotonic() < deadline and not ctx.cancel.is_set():
            time.sleep(0.005)
    return os.getpid()


def _ignore(*_: Any) -> None:
    pass


def watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    """Exit this process soon after ``parent_pid`` dies, so no worker outlives the app.

    A thread, so it waits while a task holds the GIL: on Linux the kernel's watch
    (:func:`.lifetime.die_with_parent`) comes first; this one remains for other systems, and for a worker
    whose forkserver was not set to die with the engine.
    """

    def loop() -> None:
        while True:
            time.sleep(interval)
            if not _alive(parent_pid):
                os._exit(70)

    threading.Thread(target=loop, name="concgui-parent-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (under forkserver our parent is not the app, so ask by pid)."""
    if os.name == "posix":
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        import psutil

        return psutil.pid_exists(pid)
    except ImportError:  # without psutil on Windows we cannot tell; assume alive
        return True

"""joblib: ``Parallel(n_jobs)(delayed(task)(i) for i in ...)`` on its loky, threading or multiprocessing backend.

Every task runs in the recording wrapper.  What joblib adds is observed through its own backend API (a
subclass of each backend, whose ``configure`` and ``submit`` joblib calls) and measured:

- Batches: each batch joblib submits is recorded, its tasks marked submitted then; the result keeps the
  sizes auto-batching chose (run-length pairs in task order), and the run's why says them.
- loky's reuse: loky keeps its worker processes between calls.  The start-up is a joblib call that
  prepares every worker (loky starts them, or reuses those of an earlier run in this process), then a
  second, empty call: what a call on reused workers costs.  Both figures go in the result.  A run in an
  engine process of its own (isolation "process": the app's, the notebook's and the Python API's default)
  always starts new workers: reuse across runs shows only with isolation inline, and the run's why says so.
- Results stream as they finish (``return_as="generator_unordered"``).  joblib refuses generators on its
  multiprocessing backend, so there each worker reports its own finishes, as a one-per-task process does.

Stop takes no more tasks and then: kills loky's workers (loky's ``shutdown(kill_workers=True)``: the next
run starts new ones), terminates the multiprocessing pool (its batches then fail through joblib's own
callback, so the call returns), and lets threads see the run's cancel flag.  A worker that dies is reported
as a process pool's is: loky raises ``TerminatedWorkerError`` with the exit codes; a dead multiprocessing
worker is seen by its exit code, since ``multiprocessing.Pool`` never returns its tasks.

joblib is imported only when a joblib run is about to start (it takes a quarter of a second), before its clock.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .. import lifetime
from ..present import count, plural, seconds
from ..transfer import Payload
from ..worker import WorkerContext, execute, init_process, run_in_process, watch_parent
from .base import STOP_GRACE, Executor
from .mp_pool import WorkerWatch, lost_worker, wait_ready
from .processes import STARTUP_TIMEOUT, _context, describe_exit

POLL = 0.05  # seconds between looks at Stop and at the workers while the call runs
#: the exit codes in loky's TerminatedWorkerError: "... The exit codes of the workers are {SIGKILL(-9)}"
EXIT_CODES = re.compile(r"exit codes of the workers are \{([^}]*)\}")


class Joblib(Executor):
    name = "joblib"
    title = "joblib.Parallel"
    description = ("joblib.Parallel, as scikit-learn's n_jobs: loky's reusable worker processes by default, "
                   "or its threading or multiprocessing backend; tasks go out in batches it sizes itself.")

    def availability(self) -> tuple[bool, str]:
        if importlib.util.find_spec("joblib") is None:
            if getattr(sys, "frozen", False):
                return False, "this installed ConcGUI does not include joblib"
            return False, "needs the package joblib: pip install joblib"
        return True, ""

    def check(self, spec) -> None:
        """Import joblib now, before the run's clock starts: its import (a quarter of a second) is no pool's
        start-up."""
        _backends()

    def run(self, ctl) -> None:
        call = _Call(ctl)
        if ctl.spec.backend == "loky" and not call.sequential:
            _loky_caller().submit(call.run)  # loky starts its workers on the calling thread: see _loky_caller
        else:
            threading.Thread(target=call.run, name="concgui-joblib", daemon=True).start()
        try:
            while not call.done.wait(POLL):
                if ctl.cancel.is_set():
                    call.stop()
                    break
                if call.watch is not None and (died := call.watch.deaths()) and not call.pool_ended():
                    call.died = died
                    call.stop()
                    break
        finally:
            ctl.stopped.set()
            call.done.wait(STOP_GRACE if ctl.cancel.is_set() else STOP_GRACE + 5.0)
            ctl.environment["joblib"] = call.figures()
        call.settle()


class _Call:
    """One run's joblib calls, made on a thread of their own; the executor's thread watches and stops them."""

    def __init__(self, ctl) -> None:
        self.ctl = ctl
        self.spec = ctl.spec
        self.backend_name = ctl.spec.backend
        self.n_jobs = ctl.workers
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.died = ""  # how a multiprocessing worker died, when one did
        self.watch: WorkerWatch | None = None  # the multiprocessing pool's workers
        self.backend: Any = None  # the backend of the call that runs now
        self.batches: list[tuple[int, int]] = []  # (first task, size) of every batch submitted
        self.received: set[int] = set()  # tasks whose result came back
        self.startup: dict[str, Any] = {}
        self.sequential = self.n_jobs == 1  # joblib then runs the tasks itself, in the calling thread
        self._channel: _Channel | None = None

    # --- on the helper thread ---------------------------------------------------------------------
    def run(self) -> None:
        if self.ctl.cancel.is_set():  # stopped while an earlier run's loky call still held the thread
            self.done.set()
            return
        try:
            from joblib import Parallel

            make = {"loky": self._loky, "threading": self._threading, "multiprocessing": self._multiprocessing}
            backend, task, packet, gate = make["threading" if self.sequential else self.backend_name]()
            streams = self.backend_name != "multiprocessing" or self.sequential
            parallel = Parallel(n_jobs=self.n_jobs, backend=backend,
                                return_as="generator_unordered" if streams else "list",
                                batch_size=self.spec.batch_size or "auto",
                                pre_dispatch=self.spec.pre_dispatch or "2 * n_jobs")
            results = parallel(self._tasks(task, packet, gate))
            if self.backend_name == "threading" or self.sequential:
                for _ in results:  # each task handed its record to the run itself
                    pass
            else:  # loky: each task's record, as its batch comes back; multiprocessing: all of them at the end,
                # for a report its worker had not sent yet when joblib terminated the pool (the run keeps the first)
                for rec in results:
                    self.received.add(rec[0])
                    self.ctl.record_finished(rec)
        except BaseException as exc:  # noqa: BLE001 - judged by settle(), on the executor's thread
            self.error = exc
        finally:
            self.done.set()

    def _tasks(self, task: Callable, packet: tuple, gate: Callable[[], bool]) -> Iterator[tuple]:
        """The calls joblib takes, lazily: none once the run is cancelled; ``gate`` ends the start-up."""
        if not gate():
            return
        if self.ctl.work_start is None:
            self.ctl.startup_done()
        cancel, arg = self.ctl.cancel, self.ctl.argument
        for i, size in enumerate(self.ctl.sizes):
            if cancel.is_set():
                return
            yield task, (*packet, i, size, arg), {}

    def dispatched(self, indices: list[int]) -> None:
        """A batch was submitted (joblib's dispatch thread or a result callback calls this)."""
        if indices:
            self.batches.append((indices[0], len(indices)))
            mark = self.ctl.mark_submitted
            for i in indices:
                mark(i)

    def _threading(self) -> tuple[Any, Callable, tuple, Callable[[], bool]]:
        """Threads of this process (also joblib's own way with n_jobs=1: in the calling thread)."""
        return (_backends()["threading"](self) if not self.sequential else "sequential", execute,
                (self.ctl.worker_context(),), lambda: True)

    def _multiprocessing(self) -> tuple[Any, Callable, tuple, Callable[[], bool]]:
        ctl = self.ctl
        ctx, _cancel, init_args = _context(ctl)  # the run's start method, queue and cancel flag, as the pools'
        ready = init_args[-1]
        began = time.perf_counter()
        backend = _backends()["multiprocessing"](self, ctx, (*init_args, True))  # True: report finishes
        self.watch = WorkerWatch(lambda: getattr(getattr(backend, "pool", None), "_pool", None))

        def gate() -> bool:  # joblib asks for the first task once it has made the pool
            if not wait_ready(ctl, ready, self.n_jobs, self.watch):
                return False
            self.startup = {"pool_seconds": time.perf_counter() - began, "worker_pids": sorted(self.watch.seen)}
            return True

        return backend, run_in_process, (), gate

    def _loky(self) -> tuple[Any, Callable, tuple, Callable[[], bool]]:
        """Start (or reuse) loky's workers, prepared for this run, before the work's clock starts."""
        from joblib import Parallel, delayed

        ctl, n = self.ctl, self.n_jobs
        channel = self._channel = _Channel.get()
        run_no = channel.open_run(ctl.sink.append, n)
        packet = (run_no, ctl.t0_ns, ctl.job)
        began = time.perf_counter()
        loky = _backends()["loky"]
        first = Parallel(n_jobs=n, backend=loky(self, channel, observe=False), batch_size=1, pre_dispatch="all")
        pids = sorted(set(first(delayed(loky_warm_up)(packet, STARTUP_TIMEOUT) for _ in range(n))))
        first_seconds = time.perf_counter() - began
        again = time.perf_counter()
        Parallel(n_jobs=n, backend=loky(self, channel, observe=False), batch_size=1)(
            delayed(os.getpid)() for _ in range(n))
        reused = bool(channel.last_pids) and set(pids) <= channel.last_pids
        channel.last_pids = set(pids)
        # an engine process serves one run: its workers are never there for another run to reuse
        self.startup = {"first_call_seconds": first_seconds, "reused_call_seconds": time.perf_counter() - again,
                        "reused_from_earlier_run": reused, "worker_pids": pids,
                        "engine_process": self.spec.isolation == "process"}
        return loky(self, channel), loky_task, (packet,), lambda: not ctl.cancel.is_set()

    # --- on the executor's thread -----------------------------------------------------------------
    def pool_ended(self) -> bool:
        """Whether joblib has ended the multiprocessing pool itself (its workers' exits are then no deaths)."""
        return bool(getattr(self.backend, "ended", False))

    def stop(self) -> None:
        """Stop now: no more tasks are taken (the task list sees the cancel); end what runs."""
        backend = self.backend
        if self.backend_name == "loky" and backend is not None and getattr(backend, "executor", None) is not None:
            backend.executor.shutdown(wait=False, kill_workers=True)
            if self._channel is not None:
                self._channel.discard()  # a killed worker may hold the channel's locks
        elif self.backend_name == "multiprocessing" and backend is not None and hasattr(backend, "fail_pending"):
            backend.fail_pending(RuntimeError("the run was stopped" if not self.died else
                                              f"a worker process {self.died}"))

    def settle(self) -> None:
        """Raise what the run must report: a worker that died, or joblib's own error."""
        ctl, exc = self.ctl, self.error
        if self._channel is not None:
            self._channel.close_run()
        if self.died:
            raise lost_worker(ctl, self.watch, self.died)
        if exc is None or ctl.cancel.is_set():
            return
        if type(exc).__name__ == "TerminatedWorkerError":
            if self._channel is not None:
                self._channel.discard()
            found = EXIT_CODES.search(str(exc))
            codes = [int(c) for c in re.findall(r"\((-?\d+)\)", found.group(1))] if found else []
            deaths = ", ".join(sorted({describe_exit(c) for c in codes})) or "exit status unknown"
            lost = sorted({i for first, size in self.batches for i in range(first, first + size)} - self.received)
            for i in lost:
                ctl.record_failed(i, exc)
            raise RuntimeError(f"a worker process died ({deaths}); {count(len(lost), 'task')} "
                               f"{plural(len(lost), 'was', 'were')} lost with it (loky's TerminatedWorkerError)")
        raise exc

    def figures(self) -> dict[str, Any]:
        """What joblib did, for the result: its backend and workers, the start-up, the batch sizes."""
        import joblib

        sizes = [size for _, size in sorted(self.batches)]
        return {
            "version": joblib.__version__,
            "backend": "sequential" if self.sequential else self.backend_name,
            "n_jobs": self.n_jobs,
            "batch_size": self.spec.batch_size or "auto",
            "pre_dispatch": self.spec.pre_dispatch or "2 * n_jobs",
            "batches": [[size, len(list(group))] for size, group in itertools.groupby(sizes)],
            **self.startup,
        }


def _backends() -> dict[str, type]:
    """joblib's backends with what ConcGUI adds (made once, when joblib is first imported)."""
    global _BACKENDS
    if _BACKENDS is None:
        _BACKENDS = _make_backends()
    return _BACKENDS


_BACKENDS: dict[str, type] | None = None


def _make_backends() -> dict[str, type]:
    from joblib._parallel_backends import LokyBackend, MultiprocessingBackend, ThreadingBackend

    class Observed:
        """Records each batch joblib submits (a ``BatchedCalls``: its ``items`` are (func, args, kwargs))."""

        def __init__(self, call: _Call, observe: bool = True, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.call, self.observe = call, observe  # observe: the run's tasks, not the start-up's calls
            call.backend = self

        def submit(self, func, callback=None):
            if self.observe:  # a task's arguments end with (index, size, the run's argument)
                self.call.dispatched([args[-3] for _, args, _ in getattr(func, "items", ())])
            return super().submit(func, callback=callback)

    class Loky(Observed, LokyBackend):
        """loky's reusable executor; its workers' initializer hands them the channel (the same each run)."""

        def __init__(self, call: _Call, channel: _Channel, observe: bool = True) -> None:
            super().__init__(call, observe, initializer=loky_init, initargs=channel.initargs)
            self.channel = channel
            self.executor: Any = None

        def configure(self, *args: Any, **kwargs: Any) -> int:
            n = super().configure(*args, **kwargs)
            self.executor = self.channel.executor = self._workers  # loky's executor, to kill its workers on Stop
            return n

    class Threading(Observed, ThreadingBackend):
        def __init__(self, call: _Call) -> None:
            super().__init__(call)

    class Multiprocessing(Observed, MultiprocessingBackend):
        """A ``multiprocessing.Pool`` of the run's start method and initializer; Stop can end its call."""

        def __init__(self, call: _Call, context: Any, initargs: tuple) -> None:
            super().__init__(call)
            self.context, self.initargs = context, initargs
            self.pool: Any = None
            self.ended = False  # set before the pool is terminated: its workers' exits are then expected
            self.pending: dict[int, Callable] = {}
            self._keys = itertools.count()

        def configure(self, n_jobs: int = 1, parallel: Any = None, **kwargs: Any) -> int:
            kwargs.update(context=self.context, initializer=init_process, initargs=self.initargs)
            n = super().configure(n_jobs, parallel, **kwargs)
            self.pool = self._pool
            return n

        def submit(self, func, callback=None):
            key = next(self._keys)
            self.pending[key] = callback

            def done(out: Any) -> None:
                if isinstance(out, list):  # the batch's records, with the tasks' results: the run has them now
                    for rec in out:
                        self.call.ctl.record_finished(rec)
                if (cb := self.pending.pop(key, None)) is not None:
                    cb(out)

            return super().submit(func, callback=done)

        def terminate(self) -> None:
            self.ended = self.ended or self.pool is not None
            super().terminate()

        def fail_pending(self, exc: BaseException) -> None:
            """Terminate the pool, then fail every batch it held: joblib's call then returns (raising ``exc``)."""
            self.terminate()
            for key in list(self.pending):
                if (cb := self.pending.pop(key, None)) is not None:
                    cb(exc)

        def abort_everything(self, ensure_ready: bool = True) -> None:
            super().abort_everything(ensure_ready=False)  # never a new pool for a call that ended

    return {"loky": Loky, "threading": Threading, "multiprocessing": Multiprocessing}


# --- loky's workers, across runs --------------------------------------------------------------------
class _Channel:
    """The line from loky's workers to this process: a queue of reports, an event that ends the warm-up.

    loky reuses its executor only while its initializer's arguments are the same objects, so one channel
    serves every run of this process until its workers are killed (one of them may then hold its locks,
    and a new one is made).  A reader thread hands each report to the run it names.
    """

    _current: _Channel | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        from joblib.externals.loky.backend.context import get_context

        ctx = get_context("loky")
        self.reports = ctx.Queue()
        self.go = ctx.Event()  # the run's workers are all prepared: each warm-up task may end
        self.initargs = (self.reports, self.go, os.getpid())
        self.last_pids: set[int] = set()
        self._sinks: dict[int, Callable[[tuple], None]] = {}
        self._ready: set[int] = set()  # the workers prepared for the current run
        self._workers = 0
        self._runs = itertools.count(1)
        self._open = True
        self.executor: Any = None  # loky's executor whose workers have this channel
        self.reader = threading.Thread(target=self._read, name="concgui-loky-reports", daemon=True)
        self.reader.start()

    @classmethod
    def get(cls) -> _Channel:
        with cls._lock:
            if cls._current is None or not cls._current._open:
                cls._current = cls()
            return cls._current

    def open_run(self, sink: Callable[[tuple], None], workers: int) -> int:
        """A number for a new run, whose start reports go to ``sink`` as ("s", start tuple); ``go`` is set
        once ``workers`` different workers are prepared for it."""
        run_no = next(self._runs)
        self.go.clear()
        self._ready, self._workers = set(), workers
        self._sinks = {run_no: sink}  # one run at a time: an older run's late reports are dropped
        return run_no

    def close_run(self) -> None:
        self._sinks = {}

    def discard(self) -> None:
        """Used no more: the next run makes a new channel (and so loky new workers)."""
        self._open = False

    def _read(self) -> None:
        while self._open:
            try:
                kind, *rest = self.reports.get(timeout=0.5)
            except queue.Empty:
                continue
            except (OSError, EOFError, ValueError):
                return
            if kind == "s" and (sink := self._sinks.get(rest[0])) is not None:
                sink(("s", rest[1]))
            elif kind == "r" and rest[0] in self._sinks:
                self._ready.add(rest[1])
                if len(self._ready) >= self._workers:
                    self.go.set()


_caller: ThreadPoolExecutor | None = None


def _loky_caller() -> ThreadPoolExecutor:
    """The one thread every loky call of this process is made from, for as long as loky's workers live.

    loky starts its workers on the thread that submits, and on Linux a worker set to die with its parent
    (:func:`~concgui.engine.lifetime.die_with_parent`, in :func:`loky_init`) dies when that *thread* ends:
    a thread per run would take the workers the next run is to reuse with it.
    """
    global _caller
    with _Channel._lock:
        if _caller is None:
            _caller = ThreadPoolExecutor(1, thread_name_prefix="concgui-loky-calls")
        return _caller


def release_workers(timeout: float = 5.0) -> None:
    """End loky's reusable workers and this process's channel to them now (a process that ends does so itself).

    For a host that must leave no process running between runs: the tests check that after each one.
    """
    global _caller
    with _Channel._lock:
        channel, _Channel._current = _Channel._current, None
        caller, _caller = _caller, None
    if channel is not None:
        channel.discard()
        if channel.executor is not None:
            channel.executor.shutdown(wait=True, kill_workers=True)
        channel.reader.join(timeout)
    if caller is not None:
        caller.shutdown(wait=True)


# What each loky worker keeps: the channel (set once, by its initializer) and the current run's context.
_worker_channel: tuple | None = None
_worker_runs: dict[int, WorkerContext] = {}


def loky_init(reports: Any, go: Any, parent_pid: int) -> None:
    """A loky worker's initializer, once per worker for as long as loky keeps it.

    The worker dies with its parent: by the kernel's watch where there is one (Linux), which holds even
    while a task holds the GIL, else by a thread's.  It stays in its parent's process group: unlike a
    pool's worker it outlives the run, whose end kills a worker's group.
    """
    global _worker_channel
    lifetime.die_with_parent(parent_pid)
    _worker_channel = (reports, go)
    reports.put(("p", os.getpid()))  # starts the queue's feeder thread now, not in a task's start report
    watch_parent(parent_pid)


def _run_context(packet: tuple) -> WorkerContext:
    """The context of the run ``packet`` names, made (and the job prepared) on its first task here."""
    ctx = _worker_runs.get(packet[0])
    if ctx is None:
        run_no, t0_ns, job = packet
        put = _worker_channel[0].put
        # loky's workers are killed on Stop, so the flag a task looks at is never set
        ctx = WorkerContext(t0_ns, threading.Event(), job, lambda _tid, t: put(("s", run_no, t)), _ignore)
        _worker_runs.clear()
        _worker_runs[run_no] = ctx
    return ctx


def loky_task(packet: tuple, index: int, size: float, arg: Payload | None = None) -> tuple:
    """One task in a loky worker: the recording wrapper, with the run's context."""
    return execute(_worker_runs.get(packet[0]) or _run_context(packet), index, size, arg)


def loky_warm_up(packet: tuple, patience: float) -> int:
    """Prepare this worker for the run, then hold it until every worker is: one warm-up per worker."""
    _run_context(packet)
    reports, go = _worker_channel
    reports.put(("r", packet[0], os.getpid()))
    go.wait(patience)
    return os.getpid()


def _ignore(*_: Any) -> None:
    pass


# --- the run's why ------------------------------------------------------------------------------------
def joblib_sentence(info: dict[str, Any]) -> str:
    """What joblib did that other executors do not, from a result's ``environment["joblib"]``: its start-up
    (loky's reuse) and the batch sizes it chose.

    A cold loky start in an engine process (``engine_process``: isolation "process", the app's way) says that
    such runs never show reuse across runs, and where it does show: each has a process, so workers, of its
    own."""
    parts = []
    backend = info.get("backend")
    if backend == "sequential":
        parts.append("With n_jobs=1 joblib ran the tasks itself, one after another in the calling thread.")
    if "first_call_seconds" in info:
        workers = count(len(info.get("worker_pids") or ()), "worker process", "worker processes")
        again = seconds(info.get("reused_call_seconds"))
        if info.get("reused_from_earlier_run"):
            parts.append(f"loky reused the {workers} an earlier run in this process had started: start-up took "
                         f"{seconds(info['first_call_seconds'])}, and another call {again}.")
        else:
            fresh = (", but a run in an engine process of its own (the app's way) always gets fresh workers: "
                     "reuse across runs shows only with isolation inline, where runs share a process (in the "
                     "app, the notebook or the Python API)" if info.get("engine_process") else "")
            parts.append(f"loky started {workers} in {seconds(info['first_call_seconds'])}; it keeps them for "
                         f"the next call, which started in {again}{fresh}.")
    batches = info.get("batches") or []
    total = sum(n for _, n in batches)
    if total and backend != "sequential":
        tasks = sum(size * n for size, n in batches)
        runs = [f"{n:,} of {size:,}" for size, n in batches]
        shown = ", ".join(runs[:6]) + (f" and {len(runs) - 6} more sizes" if len(runs) > 6 else "")
        how = "auto-batching chose" if info.get("batch_size") == "auto" else "batch_size set"
        parts.append(f"joblib sent the {count(tasks, 'task')} in {count(total, 'batch', 'batches')} ({how}: "
                     f"{shown}); a batch runs back to back on one worker.")
    return " ".join(parts)

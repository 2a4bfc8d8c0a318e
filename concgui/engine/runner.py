"""Runs one experiment in this process and streams its events.

The executor runs the tasks; every worker pushes plain tuples onto a sink;
one pump thread drains the sinks every 25 ms, turns the tuples into records
and hands the consumer one batch of events.  The numbers come from the
records' own timestamps, never from when a consumer happened to look.
"""

from __future__ import annotations

import gc
import queue
import random
import sys
import threading
import time
from collections import deque
from dataclasses import replace
from typing import Any

from . import calibration
from .environment import environment
from .events import (
    CpuSampled,
    Event,
    EventSink,
    MemorySampled,
    RunFinished,
    RunStarted,
    StartupFinished,
    TaskFinished,
    TaskStarted,
    ThreadStatesSampled,
)
from .executors import get_executor
from .executors.base import STOP_GRACE
from .executors.processes import choose_start_method
from .host_load import HostLoad
from .import_check import check_import
from .records import (
    CANCELLED,
    ERROR,
    NOT_STARTED,
    OK,
    RUNNING,
    WAITING,
    CpuSample,
    RunResult,
    TaskRecord,
    ThreadStates,
    wall_seconds,
)
from .sampler import CpuSampler, expected_memory, expected_source, lane_states
from .spec import PROCESS_EXECUTORS, ExperimentSpec, SpecError
from .summary import summarize
from .transfer import Payload, check_memory, make_argument, once_per_message, returned_seconds
from .worker import WorkerContext, describe_error, thread_context
from .workloads import FunctionError, Job, load_function

PUMP_INTERVAL = 0.025
#: tasks settled by the run's end (20,000 dropped by a Stop, say) reach the consumer in batches of this
#: size, so no single batch (or JSON line from the engine process) takes a window long to take in
LATE_BATCH = 500
IMPORT_TIMEOUT = 10.0  # seconds a custom function's module may take to import in the parent
#: seconds after a cancel (or timeout) before a run whose executor has not returned is finished
#: without it: its tasks run on the calling thread (sequential, asyncio), which cannot be interrupted
ABANDON_AFTER = STOP_GRACE + 0.5
#: the same for executors that stop their workers themselves (bounded), as a last resort
ABANDON_AFTER_POOLS = STOP_GRACE + 8.0


def task_sizes(spec: ExperimentSpec) -> list[float]:
    """Each task's size (seconds or MB), spread by ``jitter`` reproducibly from ``seed``."""
    base = spec.size_mb if spec.workload == "file-io" else spec.duration
    if spec.jitter == 0:
        return [base] * spec.tasks
    rng = random.Random(spec.seed)
    return [base * (1.0 + spec.jitter * (2.0 * rng.random() - 1.0)) for _ in range(spec.tasks)]


#: the modules of custom functions (a reference's part before its ``:``) this process has imported
_imported: set[str] = set()


def check_function(spec: ExperimentSpec, import_watched: bool = False) -> None:
    """Refuse a custom function whose module does not import within :data:`IMPORT_TIMEOUT` seconds.

    An import that waits forever must not hang the run before it starts, and a thread cannot give up on
    an import that holds the GIL: so a module this process has not imported yet is first imported in a
    fresh interpreter that is killed at the deadline (:func:`~concgui.engine.import_check.check_import`),
    unless ``import_watched``: another process (the engine's parent) kills this one at the deadline.
    ConcGUI's own check, not the run's: it happens before the run's clock starts.
    """
    if spec.workload != "custom" or import_watched:
        return
    module = spec.function.strip().rpartition(":")[0]
    if module not in _imported and module not in sys.modules:
        try:
            check_import(spec.function, IMPORT_TIMEOUT)
        except FunctionError as exc:
            raise SpecError("function", str(exc)) from None


#: the workloads whose task length comes from this machine's calibration (:mod:`.calibration`)
CALIBRATED = ("cpu", "hash", "mixed")


def make_job(spec: ExperimentSpec, import_watched: bool = False, checked: bool = False) -> Job:
    """Resolve everything a worker needs once, in the parent, so bad input fails early.

    A custom function's module is imported here (after :func:`check_function`, unless ``checked``: the
    caller did it): :meth:`Run.execute` times this, and the import is the run's start-up, never a task's.
    The calibrated workloads' factors are read here too (:meth:`Run.execute` has them measured before).
    """
    if not checked:
        check_function(spec, import_watched)
    if spec.workload == "custom":
        try:
            load_function(spec.function, IMPORT_TIMEOUT)
        except FunctionError as exc:
            raise SpecError("function", str(exc)) from None
        _imported.add(spec.function.strip().rpartition(":")[0])
    f: dict[str, float] = {}
    if spec.workload in CALIBRATED:
        f = calibration.factors()
    return Job(
        workload=spec.workload,
        function=spec.function,
        cpu_fraction=spec.cpu_fraction,
        cpu_iterations_per_second=f.get("cpu_iterations_per_second", 1.0),
        hash_bytes_per_second=f.get("hash_bytes_per_second", 1.0),
        result_bytes=spec.result_bytes,
        increments=spec.increments,
        lock=spec.lock,
        run_key=random.SystemRandom().getrandbits(62) + 1,  # never 0, a fresh counter's
    )


class RunControl:
    """The parent's side of one run, handed to the executor."""

    def __init__(self, spec: ExperimentSpec, job: Job, workers: int, on_events: EventSink | None,
                 t0_ns: int | None = None) -> None:
        self.spec = spec
        self.job = job
        self.workers = workers
        self.sizes = task_sizes(spec)
        self.cancel = threading.Event()
        self.sink: deque = deque()  # ("f"|"s"|"c"|"x"|"m"|"w", payload) from this process
        self.thread_states: list[ThreadStates] = []  # the X-ray, lane by lane, as the drains named it
        self.finishes: deque = deque()  # record tuples of tasks run in this process
        self.running: dict[int, tuple] = {}  # thread id -> start tuple of its current task
        self.queues: list[Any] = []  # multiprocessing queues of ("s"|"f", tuple) reports; ("p", pid): prepared, ignored
        #: the run's clock's origin (``perf_counter_ns``): now, or given (before the custom function's import)
        self.t0_ns = time.perf_counter_ns() if t0_ns is None else t0_ns
        self.work_start: float | None = None
        self.host_load = HostLoad()  # what other programs and the hypervisor take meanwhile: see Run.execute
        self.submitted: list[float | None] = [None] * spec.tasks
        self.records = [NOT_STARTED] * spec.tasks  # a task's own record is made when it starts or ends
        self.all_done = threading.Event()
        self.stopped = threading.Event()  # the executor has returned
        self._finished = 0
        self.environment: dict[str, Any] = {}  # stored with the result; an executor may add what it found
        self.process_names: dict[int, str] = {}  # pid -> lane name, for workers an executor knows more about
        self._lanes: dict[tuple[int, int], str] = {}
        self._lane_counts: dict[str, int] = {}
        self._on_events = on_events
        self.consumer_error: str | None = None
        self.start_method = spec.effective_start_method()  # may be switched: see choose_start_method
        self.worker_environ: dict[str, str] | None = None  # given to workers when fork was switched
        self.timed_out = False
        #: how the executor had to end its worker processes at a stop ("2 worker processes ignored SIGTERM
        #: and were killed (SIGKILL)"); "" when they ended by themselves
        self.stop_note = ""
        #: the run's argument (``arg_bytes``), made once and handed to every task; None for 0 bytes. A process
        #: per task reads it as it starts (streamed): see :mod:`.transfer`
        self.argument: Payload | None = make_argument(spec.arg_bytes, spec.seed, streamed=spec.executor == "processes")
        #: the finish reports of tasks whose result is still on its way, by index: see _finish
        self.awaiting: dict[int, tuple] = {}
        #: each arrived result's (pid, sent_ns, arrived_ns), by index: its time is settled at the run's end
        self.result_stamps: dict[int, tuple[int, int, int]] = {}
        self._main_pid = 0
        self._main_tid = threading.get_native_id()
        if spec.tasks == 0:
            self.all_done.set()

    # --- used by executors -------------------------------------------------------
    def now(self) -> float:
        return (time.perf_counter_ns() - self.t0_ns) / 1e9

    def worker_context(self, overlapping: bool = False) -> WorkerContext:
        """A context for workers in this process.

        ``overlapping``: several tasks share a thread (coroutines), so each start
        is queued as an event instead of taking the thread's one running slot.
        """
        ctx = thread_context(self.t0_ns, self.cancel, self.job, self.finishes, self.running)
        if overlapping:
            append = self.sink.append
            ctx.started = lambda _tid, t: append(("s", t))
        return ctx

    def mark_submitted(self, index: int) -> None:
        self.submitted[index] = (time.perf_counter_ns() - self.t0_ns) / 1e9

    def startup_done(self, detail: dict[str, Any] | None = None) -> None:
        """The workers are ready: the work, and its wall clock, start now.

        ``detail``: what the start-up found (a cluster's workers, say), passed on with the event.
        """
        self.host_load.start(detail)  # before the wall clock starts: its cost is start-up's
        self.work_start = self.now()
        self.sink.append(("w", (self.work_start, detail)))

    def record_finished(self, rec: tuple) -> None:
        self.sink.append(("f", rec))

    def record_failed(self, index: int, exc: BaseException) -> None:
        """A task that ended without its own record (worker died, result unpicklable...)."""
        self.sink.append(("f", (index, 0, 0, None, self.now(), 0.0, ERROR, describe_error(exc), 0.0, 0.0, None)))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every task finished or the run was cancelled; True if all finished."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.all_done.wait(0.05):
            if self.cancel.is_set() or (deadline is not None and time.monotonic() > deadline):
                return False
        return True

    # --- the pump ----------------------------------------------------------------
    def drain(self) -> None:
        """Turn everything the workers reported into records and one batch of events.

        Only the pump thread calls this while a run goes (and the run thread
        once more after the pump stopped), so records need no lock.
        """
        items = []
        pop = self.sink.popleft
        try:
            while True:
                items.append(pop())
        except IndexError:
            pass
        for q in self.queues:
            try:
                while True:
                    items.append(q.get_nowait())
            except (queue.Empty, OSError, EOFError, ValueError):
                pass
        started: dict[int, TaskRecord] = {}
        head: list[Event] = [StartupFinished(*p) for kind, p in items if kind == "w"]  # before any task event
        events: list[Event] = []
        # what runs now is read before the finishes: a task that ends in between is then final before its
        # start is looked at, and the task its worker took up next waits for the next batch
        running = self.running.copy().values()
        finish = self._finish
        pop = self.finishes.popleft
        try:
            while True:  # the hot loop: one record per task run in this process
                r = finish(pop())
                if r is not None:
                    events.append(TaskFinished(r))
        except IndexError:
            pass
        for kind, payload in items:  # starts first: a failure report must not hide a start in this batch
            if kind == "s":
                self._start(payload, started)
        for kind, payload in items:
            if kind == "f":
                r = finish(payload)
                if r is not None:
                    started.pop(r.index, None)
                    events.append(TaskFinished(r))
            elif kind == "c":
                events.append(CpuSampled(payload))
            elif kind == "m":
                events.append(MemorySampled(payload))
        for t in running:
            self._start(t, started)
        for kind, payload in items:  # after the starts: a thread whose first task began by now has its lane
            if kind == "x" and (states := lane_states(payload, self._lanes)) is not None:
                self.thread_states.append(states)
                events.append(ThreadStatesSampled(states))
        # the tasks still running go last: every worker's tasks then appear in the order they ran, so a
        # consumer may take a batch a part at a time (a starved pump's holds 10,000 tasks)
        events[:0] = head
        events += [TaskStarted(r.index, r.worker, r.pid, r.thread_id, r.start) for r in started.values()]
        if self._finished >= len(self.records):
            self.all_done.set()
        if events and self._on_events is not None:
            self.deliver(events)

    def deliver(self, events: list[Event]) -> None:
        """Hand a batch to the consumer; a consumer that raises is cut off, never the run."""
        try:
            self._on_events(events)
        except Exception as exc:  # noqa: BLE001 - the consumer's bug must not stop the measurement
            self._on_events = None
            self.consumer_error = f"the live event consumer failed and was disconnected: {type(exc).__name__}: {exc}"
            print(f"concgui: {self.consumer_error}", file=sys.stderr)

    def _finish(self, rec: tuple) -> TaskRecord | None:
        """Make a finished task's record; None if the task was already final."""
        index, pid, tid, start, end, cpu, status, error, sent, returned, value = rec
        old = self.records[index]
        if old.status != WAITING and old.status != RUNNING:
            return None  # e.g. a late report from a worker that was written off
        if returned:  # 0.0 but for a task with a result (result_bytes): the result as it arrived, or word of it
            if returned.__class__ is float:  # RESULT_FOLLOWS: final when its result comes by its own way (see
                self.awaiting[index] = rec  # worker._without_result), or at the run's end without it
                return None
            if pid and returned.arrived_ns:
                self.result_stamps[index] = (pid, returned.sent_ns, returned.arrived_ns)
            returned = returned_seconds(returned)  # the seconds it travelled (a chunk's: see settle_returns)
            self.awaiting.pop(index, None)
        if not pid:  # ended without its worker's report (the worker died): keep what its start told
            worker, pid, tid, start = old.worker or "lost worker", old.pid, old.thread_id, old.start
        elif start is None:  # dropped by a cancel before it began: no lane, no times
            worker = ""
        else:
            worker = self._lanes.get((pid, tid)) or self._lane(pid, tid)
        r = self.records[index] = TaskRecord(index, worker, pid, tid, self.submitted[index], start, end, cpu,
                                             status, error, sent, returned, value)
        self._finished += 1
        return r

    def settle_returns(self) -> None:
        """Results that came back together in one message count its time once (:func:`once_per_message`)."""
        for index, seconds in once_per_message(self.result_stamps).items():
            self.records[index] = replace(self.records[index], returned_seconds=seconds)

    def _start(self, t: tuple, started: dict[int, TaskRecord]) -> None:
        index, pid, tid, start = t
        if self.records[index].status == WAITING:
            worker = self._lanes.get((pid, tid)) or self._lane(pid, tid)
            r = self.records[index] = TaskRecord(index, worker, pid, tid, self.submitted[index], start, None, 0.0,
                                                 RUNNING)
            started[index] = r

    def _lane(self, pid: int, tid: int) -> str:
        key = (pid, tid)
        label = self._lanes.get(key)
        if label is None:
            if pid in self.process_names:
                kind = self.process_names[pid]
            elif pid != self._main_pid:
                kind = "process"
            elif tid == self._main_tid:
                kind = "event loop" if self.spec.executor == "asyncio" else "main thread"
            else:
                kind = "thread"
            n = self._lane_counts[kind] = self._lane_counts.get(kind, 0) + 1
            if kind == "process":
                label = f"process {n} (pid {pid})"
            elif pid in self.process_names:
                label = f"{kind} · thread {n}"
            elif kind in ("main thread", "event loop"):
                label = kind
            else:
                label = f"thread {n}"
            self._lanes[key] = label
        return label


class Run:
    """One experiment in this process: ``execute()`` blocks, ``cancel()`` may come from any thread.

    A run ends when its executor returns.  If it has not returned soon after a cancel or the
    timeout (a task that ignores the cancel holds the calling thread: sequential, asyncio), the
    pump finishes the run without it: the task is reported abandoned, the consumer gets
    ``RunFinished`` and :attr:`abandoned` is True; ``execute()`` returns that same result if the
    task ever lets it.
    """

    #: whether the event consumer is ConcGUI's own stream writer, which holds no lock a forked
    #: child needs (the engine process sets it); any other consumer is code we do not know
    fork_safe_consumer = False
    #: whether another process gives up on a custom function's import at its deadline, killing this one
    #: (the engine process's parent does): see :func:`check_function`
    import_watched = False
    #: nanoseconds the custom function's import took before :meth:`execute` (the engine process imports it
    #: under its parent's watch): the run's start-up, as the import :meth:`execute` does itself
    import_ns = 0

    def __init__(self, spec: ExperimentSpec, on_events: EventSink | None = None,
                 baseline: RunResult | None = None) -> None:
        self.spec = spec
        self.on_events = on_events
        self.baseline = baseline
        self.abandoned = False
        self.result_ready = threading.Event()
        self._cancel = threading.Event()
        self._control: RunControl | None = None
        self._lock = threading.Lock()
        self._result: RunResult | None = None
        self._froze_gc = False

    def cancel(self) -> None:
        self._cancel.set()
        if self._control is not None:
            self._control.cancel.set()

    def execute(self) -> RunResult:
        import os

        spec = self.spec
        executor = get_executor(spec.executor)
        ok, reason = executor.availability()
        if not ok:
            raise SpecError("executor", f"{spec.executor} is not available here: {reason}")
        executor.check(spec)
        check_function(spec, self.import_watched)  # ConcGUI's check in a fresh interpreter: not the run's time
        # The custom function's import (and the calibrated workloads' factors) is the run's start-up: a module
        # that takes 0.3 s to import is 0.3 s of start-up (as in a worker that imports it itself), not a run
        # that seems to start at once. ConcGUI's own set-up that follows (the environment's first reading,
        # lazy imports: 0.01-0.4 s in a fresh engine process) is not: the clock's origin is set back by the
        # import alone
        if spec.workload in CALIBRATED:
            calibration.factors()  # measured on this machine's first such run (1-2 s): ConcGUI's, not the run's
        begun = time.perf_counter_ns()
        job = make_job(spec, checked=True)
        loading_ns = time.perf_counter_ns() - begun + self.import_ns
        env = environment(spec)
        env["thread_states"] = expected_source()  # settled by the probe's own report at the end
        env["memory"] = expected_memory()  # what the live memory chart's title names; settled at the end too
        workers = spec.worker_threads()
        check_memory(spec, workers)  # before the argument is made: the machine must be able to hold its copies
        ctl = RunControl(spec, job, workers, self.on_events, time.perf_counter_ns() - loading_ns)
        ctl._main_pid = os.getpid()
        ctl.environment = env
        if spec.executor in PROCESS_EXECUTORS:
            # a consumer may say it holds no lock a forked child needs (``fork_safe``: the command line's recorder)
            safe = self.fork_safe_consumer or getattr(self.on_events, "fork_safe", False)
            ctl.start_method, note = choose_start_method(spec, foreign_consumer=self.on_events is not None and not safe)
            if note:
                env["start_method"], env["start_method_note"] = ctl.start_method, note
                ctl.worker_environ = dict(os.environ)  # what a forked worker would have seen
        self._control = ctl
        if self._cancel.is_set():
            ctl.cancel.set()
        started_at = time.time() - ctl.now()  # when the run's clock started
        if self.on_events:
            ctl.deliver([RunStarted(spec.to_dict(), env, spec.tasks, workers)])
        sampler = CpuSampler(ctl.t0_ns, ctl.sink.append)
        sampler.start()
        # the CPU probe is ConcGUI's process, outside the run's tree: not one of the other programs
        ctl.host_load = HostLoad(host_pids(self.fork_safe_consumer), sampler.pid)
        ctl.host_load.start()  # startup_done starts it again when the work starts
        stop_pump = threading.Event()
        deadline = time.monotonic() + spec.timeout if spec.timeout else None
        patience = ABANDON_AFTER if executor.on_calling_thread else ABANDON_AFTER_POOLS
        # While the run goes, what the process holds (the task records, mostly: they form no cycles and
        # die by reference counting) leaves the cycle collector's sight after each drain, so collections
        # walk only what the last 25 ms made, not every record so far, whose cost would grow a task's
        # overhead with the run's length. _conclude gives everything back. A host process that
        # freezes objects itself (gc.freeze) is left alone.
        self._froze_gc = gc.get_freeze_count() == 0

        def pump() -> None:
            cancelled_at = None
            while not stop_pump.wait(PUMP_INTERVAL):
                ctl.drain()
                ctl.host_load.sampling(sampler.samples)
                if self._froze_gc:
                    gc.freeze()
                if deadline is not None and not ctl.timed_out and time.monotonic() > deadline:
                    ctl.timed_out = True
                    ctl.cancel.set()
                if ctl.cancel.is_set():
                    cancelled_at = cancelled_at or time.monotonic()
                    if time.monotonic() - cancelled_at > patience and not ctl.stopped.is_set():
                        self.abandoned = True  # before RunFinished reaches the consumer
                        self._conclude(ctl, sampler, env, started_at, "cancelled", None, ctl.now())
                        return

        pump_thread = threading.Thread(target=pump, name="concgui-pump", daemon=True)
        pump_thread.start()
        status, error = OK, None
        try:
            try:
                executor.run(ctl)
            except Exception as exc:  # noqa: BLE001 - the run fails, the program does not
                status, error = "failed", f"{type(exc).__name__}: {exc}"
            finally:
                end_time = ctl.now()
                ctl.stopped.set()
                stop_pump.set()
                pump_thread.join()
            return self._conclude(ctl, sampler, env, started_at, status, error, end_time)
        finally:
            sampler.stop()
            if self._froze_gc:  # _conclude did, unless building the result failed
                gc.unfreeze()
            for q in ctl.queues:
                q.close()
                q.cancel_join_thread()

    def _conclude(self, ctl: RunControl, sampler: CpuSampler, env: dict, started_at: float, status: str,
                  error: str | None, end_time: float) -> RunResult:
        """Settle every record and build the result, once (the executor's thread or the pump)."""
        with self._lock:
            if self._result is not None:
                return self._result
            ctl.host_load.stop()
            sampler.stop()
            ctl.drain()
            spec = self.spec
            if ctl.cancel.is_set() and status == OK:
                status = "cancelled"
                if ctl.stop_note and not ctl.timed_out:  # a stop asked for: say how it had to end the workers
                    error = f"stopped as asked; {ctl.stop_note}"
            ended_late = []  # every task gets one TaskFinished, those the run's end settled too
            for rec in list(ctl.awaiting.values()):  # finished, but their results never came: without them
                if (r := ctl._finish((*rec[:9], 0.0, rec[10]))) is not None:
                    ended_late.append(TaskFinished(r))
            ctl.awaiting.clear()
            ctl.settle_returns()
            stopped = abandoned = 0
            for i, r in enumerate(ctl.records):
                if r.status in (WAITING, RUNNING):
                    if r is NOT_STARTED:
                        r = ctl.records[i] = TaskRecord(i)
                    r.submitted = ctl.submitted[i]
                    if r.status == RUNNING:
                        r.end = end_time
                        if r.pid and r.pid != ctl._main_pid:
                            stopped += 1
                            how = f" ({ctl.stop_note})" if ctl.stop_note else ""
                            r.error = {"type": "Stopped", "message": "still running when the run ended; "
                                       f"its worker process was stopped{how}", "traceback": ""}
                        else:
                            abandoned += 1
                            r.error = {"type": "Abandoned", "message": "still running when the run ended; "
                                       "a Python thread cannot be killed, so it was left to finish on its own "
                                       "and its outcome is ignored", "traceback": ""}
                    r.status = CANCELLED
                    ended_late.append(TaskFinished(r))
            if ctl.timed_out:
                status = "failed"
                error = (f"timed out: the run passed its {spec.timeout:g} s timeout"
                         + (f"; {stopped} running task(s) had their worker process stopped" if stopped else "")
                         + (f" ({ctl.stop_note})" if ctl.stop_note else "")
                         + (f"; {abandoned} thread task(s) could not be stopped and were abandoned"
                            if abandoned else "")
                         + (f" ({error})" if error else ""))
            for k in range(0, len(ended_late), LATE_BATCH):  # small batches: a consumer stays responsive
                if ctl._on_events is not None:
                    ctl.deliver(ended_late[k:k + LATE_BATCH])
            work_start = ctl.work_start if ctl.work_start is not None else 0.0
            env["thread_states"] = sampler.source  # where the X-ray's readings came from
            env["memory"] = sampler.memory_kind  # what the memory series holds: uss, rss or none
            result = RunResult(
                spec=spec.to_dict(),
                environment=env,
                status=status,
                error=error,
                started_at=started_at,
                startup_seconds=work_start,
                wall_seconds=wall_seconds(ctl.records, work_start, end_time),
                workers=ctl.workers,
                tasks=ctl.records,
                cpu_samples=sampler.samples,
                thread_states=ctl.thread_states,
                memory_samples=sampler.memory,
            )
            env.update(ctl.host_load.figures(result.cpu_samples, work_start, result.wall_seconds + work_start))
            env.update(calibration.gap_figures(result, ctl.sizes))  # the tasks' CPU time against their calibration
            if ctl.consumer_error:
                result.error = ctl.consumer_error
            result.summary = summarize(result, self.baseline)
            self._result = result
            if self._froze_gc:
                gc.unfreeze()
            if ctl._on_events is not None:
                ctl.deliver([RunFinished(result)])
            self.result_ready.set()
            return result


def host_pids(in_engine_process: bool) -> list[int]:
    """The window (or command line) that started this engine process: ConcGUI, outside the run's tree, whose
    CPU is no other program's."""
    import os

    return [os.getppid()] if in_engine_process and os.getppid() > 1 else []


def run_inline(spec: ExperimentSpec, on_events: EventSink | None = None,
               baseline: RunResult | None = None) -> RunResult:
    """Run ``spec`` in this process and return its result."""
    return Run(spec, on_events, baseline).execute()


__all__ = ["Run", "RunControl", "run_inline", "task_sizes", "CpuSample"]

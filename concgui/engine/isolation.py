"""Running an experiment in a separate engine process, and the JSON-lines protocol.

Why: threads that compute in the window's own process steal the GIL from
the UI (its timers fire late, it stutters) and drawing steals it from
the experiment.  The engine process is ``python -m concgui.engine`` (or the
frozen app's executable with the argument ``engine``) and may be another
interpreter, such as a free-threaded build; its CPU probe is still started with this
interpreter, which has psutil (:data:`.sampler.PROBE_ENV`).

Protocol: the parent writes the spec as one JSON line on stdin, then may
write ``cancel``; closing stdin (the parent died) also cancels.  The engine
writes each batch of events as JSON lines on its original stdout, which is
kept for the protocol alone: fd 1 is pointed at stderr, so whatever tasks
print cannot corrupt it.  A line is ``{"events": [...], "finished": [...]}``:
finished tasks, nearly all of a busy line, travel as bare record rows after
the line's other events (half the bytes, and a third of the work to read), at
most 500 to a line.  A consumer gets each line as a batch of its own: a
worker's tasks come in the order they ran (see :mod:`.events`), so a batch
may be cut anywhere.  Lines with a ``type`` and no events are the protocol's
own: ``hello`` (the engine runs: its start deadline is met), ``importing`` and
``imported`` (a custom function's import, which the parent kills at its deadline),
``stopping`` (a cancel was heard), ``spec_error`` and ``engine_error``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import deque
from functools import partial
from pathlib import Path

from . import lifetime, runner, sampler, validate
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
    event_from_json,
    event_to_json,
)
from .executors import load_plugin, plugin_modules
from .executors.processes import describe_exit
from .import_check import timeout_message
from .records import CANCELLED, RUNNING, RunResult, TaskRecord, wall_seconds
from .runner import ABANDON_AFTER_POOLS, IMPORT_TIMEOUT, Run
from .spec import ExperimentSpec, SpecError
from .summary import summarize
from .workloads import FunctionError, load_function

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
#: seconds the engine gets to answer a Stop (it says "stopping" at once, if a thread of it can run); one
#: that does not (a task holds its GIL) is killed, with everything it started
CANCEL_GRACE = 2.0
#: seconds an engine that answered a Stop gets to end: its own last resort is ABANDON_AFTER_POOLS
STOP_BOUND = ABANDON_AFTER_POOLS + 5.0
#: seconds a started engine process gets to say it runs (a cold interpreter on a busy machine takes seconds;
#: a --python that is not one, a script that sleeps, never says it)
START_TIMEOUT = 20.0
#: seconds past a run's timeout (when it has one, and it is shorter) that an engine gets to say it runs
START_SLACK = 5.0
#: seconds past the import deadline after which the parent kills an engine whose custom import has not ended
#: (its own check gives up in time unless the import holds the GIL, which stops that check too)
IMPORT_SLACK = 0.5
#: the variable that tells the engine process which pid started it (see serve)
PARENT_ENV = "CONCGUI_ENGINE_PARENT"
#: seconds the reader pauses after each line of events: the engine sends a line per 25 ms normally, but
#: 20,000 tasks settled at once come as 40 lines in a burst
READ_PAUSE = 0.001
#: at most this long the reader (or another helper thread of the host) waits for the host's thread to be
#: free (``host_idle``) before its next piece of work
HOST_WAIT = 0.02
ROWS_PER_LINE = 500  # finished tasks per line of the stream (about 35 KB, parsed holding the GIL: kept short)
#: seconds past a run's timeout after which the parent kills an engine that has not ended by itself
#: (the engine ends the run at its timeout; this only guards against an engine that is stuck)
TIMEOUT_SLACK = 15.0


def engine_command(python: str | None = None) -> list[str]:
    """The command line that starts an engine process, naming the executors that register from outside
    the engine (``name=module``): it imports one when the run asks for it."""
    if python:
        command = [python, "-m", "concgui.engine"]
    elif getattr(sys, "frozen", False):
        command = [sys.executable, "engine"]
    else:
        command = [sys.executable, "-m", "concgui.engine"]
    return command + [f"{name}={module}" for name, module in plugin_modules().items()]


def parse_registered(args: list[str]) -> dict[str, str]:
    """The ``name=module`` arguments of :func:`engine_command`, as a dict."""
    return dict(arg.split("=", 1) for arg in args if "=" in arg)


class EngineProcess:
    """A run in a child engine process, with the same face as :class:`Run`.

    The engine leads a process group of its own; whatever it started (workers, a forkserver, what its
    tasks forked) is killed with the group once the engine has ended, or when it is killed: at a deadline
    (its start, a custom function's import, the run's timeout) or after a Stop it did not answer.
    """

    def __init__(self, spec: ExperimentSpec, on_events: EventSink | None = None,
                 baseline: RunResult | None = None, host_idle: threading.Event | None = None) -> None:
        self.spec = spec
        self.on_events = on_events
        self.baseline = baseline
        #: set while the consumer's thread (a window's) is free; cleared for each turn it draws in. The
        #: GIL has no priorities: parsing a line meanwhile made that thread wait for it after each call
        #: it made into Qt, so the reader parses between the turns (waiting at most ``HOST_WAIT``)
        self.host_idle = host_idle
        self.stderr_tail: deque[str] = deque(maxlen=40)
        self._proc: subprocess.Popen | None = None
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        #: why the parent killed the engine ("" while it has not): a deadline's or a Stop's sentence
        self._killed_because = ""
        self._heard = threading.Event()  # the engine said it runs
        self._stopping = threading.Event()  # it answered a Stop
        self._import_timer: threading.Timer | None = None
        self._run_started: RunStarted | None = None

    def cancel(self) -> None:
        """Ask the engine to stop; it is killed if it does not answer within :data:`CANCEL_GRACE` s, or
        has not ended within :data:`STOP_BOUND` s of its answer."""
        self._cancelled.set()
        with self._lock:
            proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        try:
            proc.stdin.write(b"cancel\n")
            proc.stdin.flush()
        except (OSError, ValueError):
            pass
        threading.Thread(target=self._enforce_cancel, args=(proc,), daemon=True,
                         name="concgui-engine-stop").start()

    def _enforce_cancel(self, proc: subprocess.Popen) -> None:
        if not self._stopping.wait(CANCEL_GRACE) and proc.poll() is None:
            self._kill(proc, f"the engine process did not answer the Stop within {CANCEL_GRACE:g} s (a task "
                             "holding the GIL stops every thread of its process) and was killed, with its workers")
            return
        try:
            proc.wait(STOP_BOUND)
        except subprocess.TimeoutExpired:
            self._kill(proc, f"the engine process did not end within {STOP_BOUND:g} s of the Stop and was killed, "
                             "with its workers")

    def _kill(self, proc: subprocess.Popen, why: str) -> None:
        """End the engine and everything in its group, saying why (the first reason stays)."""
        if proc.poll() is None:
            with self._lock:
                self._killed_because = self._killed_because or why
            lifetime.kill_group(proc.pid)
            try:
                proc.kill()
            except OSError:
                pass

    def execute(self) -> RunResult:
        env = dict(os.environ)
        if self.spec.python:  # another interpreter finds this package by path
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        env[PARENT_ENV] = str(os.getpid())
        probe = sampler.probe_command()
        if probe is not None:  # the CPU probe runs with this interpreter, whichever runs the engine (it has psutil)
            env[sampler.PROBE_ENV] = json.dumps(probe)
        try:
            proc = subprocess.Popen(
                engine_command(self.spec.python), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env=env, **lifetime.own_group(),
            )
        except OSError as exc:
            raise SpecError("python", f"cannot start {self.spec.python or sys.executable}: {exc}") from None
        try:  # the spec goes first: cancel() can only write "cancel" once _proc is published
            proc.stdin.write(json.dumps(self.spec.to_dict()).encode() + b"\n")
            proc.stdin.flush()
        except OSError:
            pass  # it exited at once (not a Python that can run us): reported below with its stderr
        with self._lock:
            self._proc = proc
        stderr_reader = threading.Thread(target=self._read_stderr, args=(proc,), daemon=True,
                                         name="concgui-engine-stderr")
        stderr_reader.start()
        # once the engine has ended, what it left (a task's forked child holding its pipes) goes too
        threading.Thread(target=self._reap_group, args=(proc,), daemon=True, name="concgui-engine-group").start()
        # a run with a timeout is not kept waiting much past it by an engine that never starts
        start_limit = min(START_TIMEOUT, self.spec.timeout + START_SLACK) if self.spec.timeout else START_TIMEOUT
        timers = [threading.Timer(start_limit, self._check_started, args=(proc, start_limit))]
        if self.spec.timeout:
            timers.append(threading.Timer(
                self.spec.timeout + TIMEOUT_SLACK, self._kill,
                args=(proc, f"it was still running {TIMEOUT_SLACK:g} s after the run's {self.spec.timeout:g} s "
                            "timeout and was killed")))
        for t in timers:
            t.name, t.daemon = "concgui-engine-deadline", True
            t.start()
        try:
            if self._cancelled.is_set():
                self.cancel()
            result, problem = self._read_events(proc)
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                self._kill(proc, "it did not end 5 s after its output did and was killed")
                proc.wait()
            lifetime.kill_group(proc.pid)
            proc.stdout.close()
            stderr_reader.join(2)
            for t in [*timers, self._import_timer]:
                if t is not None:
                    t.cancel()
        why = self._killed_because
        if why.startswith(repr(self.spec.function) + ": importing"):  # the import's deadline passed
            raise SpecError("function", why)
        if problem and problem.get("type") == "spec_error":
            field = str(problem.get("field") or "spec")
            raise SpecError(field, str(problem.get("message", "")).split(": ", 1)[-1])
        if result is None and self._cancelled.is_set() and why:
            return self._stopped_result(why)  # a Stop the user asked for, which had to kill the engine
        if result is None:
            if why:
                detail = why
            elif self._refused:
                detail = f"it sent a value ConcGUI refuses: {self._refused}"
            elif problem and problem.get("message"):
                detail = str(problem["message"])
            else:
                detail = describe_exit(proc.returncode)
            tail = "\n".join(self.stderr_tail)
            raise RuntimeError(f"the engine process failed ({detail})"
                               + (f"; its last output:\n{tail}" if tail else "; it printed nothing"))
        return result

    def _check_started(self, proc: subprocess.Popen, limit: float) -> None:
        if not self._heard.is_set():
            self._kill(proc, f"it did not start within {limit:g} s (is "
                             f"{self.spec.python or sys.executable} a Python that runs ConcGUI's engine?) and "
                             "was killed, with every process it started")

    def _reap_group(self, proc: subprocess.Popen) -> None:
        lifetime.wait_unreaped(proc.pid)
        lifetime.kill_group(proc.pid)

    def _on_message(self, proc: subprocess.Popen, msg: dict) -> bool:
        """A line of the engine's that is not events: True if it was one of the protocol's own."""
        kind = msg.get("type")
        if kind == "hello":
            self._heard.set()
        elif kind == "stopping":
            self._stopping.set()
        elif kind == "importing":
            limit = float(msg.get("timeout") or IMPORT_TIMEOUT)
            why = timeout_message(self.spec.function, limit)
            self._import_timer = threading.Timer(limit + IMPORT_SLACK, self._kill, args=(proc, why))
            self._import_timer.name, self._import_timer.daemon = "concgui-engine-import", True
            self._import_timer.start()
        elif kind == "imported":
            if self._import_timer is not None:
                self._import_timer.cancel()
        else:
            return False
        return True

    def _stopped_result(self, why: str) -> RunResult:
        """The run as far as it came, for a Stop that had to kill the engine: cancelled, saying how."""
        started = self._run_started
        records = self._records
        result = RunResult(
            spec=started.spec if started else self.spec.to_dict(), environment=started.environment if started else {},
            status="cancelled", error=f"stopped as asked; {why}", started_at=self._started_at,
            workers=started.workers if started else 0,
            tasks=[records.get(i) or TaskRecord(i, status=CANCELLED) for i in range(self.spec.tasks)])
        result.startup_seconds = self._work_start or 0.0
        result.wall_seconds = wall_seconds(result.tasks, result.startup_seconds)
        result.summary = summarize(result, self.baseline)
        return result

    def _read_events(self, proc: subprocess.Popen) -> tuple[RunResult | None, dict | None]:
        result, problem = None, None
        records: dict[int, TaskRecord] = {}  # every task's final record, from its TaskFinished
        self._records, self._started_at, self._work_start = records, time.time(), None
        self._refused = ""  # the first value of the engine's output that the schema check refused
        for line in proc.stdout:
            try:
                msg = json.loads(line)
                if not isinstance(msg, dict):
                    raise TypeError(f"a JSON {type(msg).__name__}, not an object")
                if "events" not in msg:
                    if not self._on_message(proc, msg):
                        problem = msg
                    continue
                events = [event_from_json(e) for e in msg["events"]]
                finished = [TaskRecord(*row) for row in msg.get("finished", ())]
                # a door like a file's: nothing the window draws or the history keeps comes unchecked
                check_stream(events, finished, self.spec.tasks)
            except SpecError as exc:  # a value the schema check refuses (the run's end is checked whole)
                self._refused = self._refused or str(exc)
                self.stderr_tail.append(f"engine output refused ({exc}): {line[:200]!r}")
                continue
            except (ValueError, KeyError, TypeError) as exc:
                self.stderr_tail.append(f"unreadable engine output ({exc}): {line[:200]!r}")
                continue
            self._heard.set()
            for r in finished:
                records[r.index] = r
            for e in events:
                if isinstance(e, TaskFinished):
                    records[e.record.index] = e.record
                elif isinstance(e, RunStarted):
                    self._run_started = e
                elif isinstance(e, StartupFinished):
                    self._work_start = e.t
                elif isinstance(e, RunFinished):
                    result = e.result
                    # the engine does not send 100,000 records twice: they came one by one
                    result.tasks = [records.get(i) or TaskRecord(i, status=CANCELLED)
                                    for i in range(int(result.spec.get("tasks", 0)))]
                    if self._refused:  # its tasks that were refused did not reach it: not a run to trust
                        result.status = "failed"
                        result.error = f"the engine process sent a value ConcGUI refuses: {self._refused}"
                    if self.baseline is not None:  # after the status: a failed run has no speedup
                        result.summary = summarize(result, self.baseline)
            # a line's events, then its rows: a batch of its own, so that a window takes a burst
            # (20,000 tasks behind a starved pump) a few hundred tasks at a time
            self._hand_on(events + list(map(TaskFinished, finished)))
            time.sleep(READ_PAUSE)  # hand the GIL over between lines: a burst of them must not starve a window
            if self.host_idle is not None:
                self.host_idle.wait(HOST_WAIT)
        return result, problem

    def _hand_on(self, events: list[Event]) -> None:
        if self.on_events is not None and events:
            try:
                self.on_events(events)
            except Exception as exc:  # noqa: BLE001 - as in-process runs: cut the consumer off, keep measuring
                self.on_events = None
                self.stderr_tail.append(f"the live event consumer failed and was disconnected: {exc!r}")

    def _read_stderr(self, proc: subprocess.Popen) -> None:
        try:
            for line in proc.stderr:
                text = line.decode(errors="replace").rstrip()
                if "resource_tracker" not in text:  # multiprocessing's tracker, cleaning up after killed workers
                    self.stderr_tail.append(text)
        finally:
            proc.stderr.close()  # here, not in execute(): a leftover grandchild may hold it open


def serve(stdin=None, modules: dict[str, str] | None = None) -> int:
    """The engine process: read a spec, run it, stream its events. Returns the exit code.

    ``modules`` names the executors registered outside the engine (see :func:`engine_command`).
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us through stdin
    own_process = stdin is None  # a real engine process, not a test calling serve() in-process
    parent = os.environ.pop(PARENT_ENV, "")  # not for the processes this one starts
    if own_process and parent.isdigit():
        lifetime.die_with_parent(int(parent))  # even while a task holds the GIL (see lifetime)
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # whatever tasks print goes to stderr, never into the protocol
    sys.stdout = sys.stderr
    if stdin is None:
        # The protocol reads its own copy of fd 0, and fd 0 becomes /dev/null.  Reading
        # sys.stdin in _watch_stdin would hold its lock while blocked, and a worker forked
        # meanwhile deadlocks closing sys.stdin (multiprocessing's _close_stdin).
        stdin = os.fdopen(os.dup(0), "rb")
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
    if own_process and hasattr(os, "register_at_fork"):
        # a forked child (a worker, a task's own fork) keeps no end of the protocol's pipes: the parent reads
        # until they close, and a task's child that sleeps a minute kept it reading for that minute
        os.register_at_fork(after_in_child=partial(_blind, [out.fileno(), stdin.fileno()]))
    write_lock = threading.Lock()

    def send(*objs: dict) -> None:
        with write_lock:
            out.writelines(json.dumps(obj, separators=(",", ":")) + "\n" for obj in objs)
            out.flush()

    try:
        send({"type": "hello", "pid": os.getpid()})  # it runs: the parent's start deadline is met
        line = stdin.readline()
        spec = ExperimentSpec.from_dict(json.loads(line))
        if modules and spec.executor in modules:  # another interpreter may find no metadata to read
            load_plugin(spec.executor, modules)
        run = Run(spec, lambda events: send(*_encode_lines(events)))
        run.fork_safe_consumer = True  # send() writes to a file of its own, never to sys.stdout
        if spec.workload == "custom":  # imported under the parent's watch, which kills us at the deadline
            send({"type": "importing", "timeout": runner.IMPORT_TIMEOUT})
            begun = time.perf_counter_ns()
            try:
                load_function(spec.function, runner.IMPORT_TIMEOUT)
            except FunctionError as exc:
                raise SpecError("function", str(exc)) from None
            run.import_ns = time.perf_counter_ns() - begun  # the run's start-up
            send({"type": "imported"})
            run.import_watched = True
        threading.Thread(target=_watch_stdin, args=(stdin, run, send), daemon=True, name="concgui-stdin").start()
        if own_process:
            threading.Thread(target=_exit_if_abandoned, args=(run, out, write_lock), daemon=True,
                             name="concgui-exit-guard").start()
        result = run.execute()
        if own_process and any(t.error and t.error.get("type") == "Abandoned" for t in result.tasks):
            _exit_now(out, write_lock)  # threads that cannot be stopped must not keep this process alive
        return 0
    except SpecError as exc:
        send({"type": "spec_error", "field": exc.field, "message": str(exc)})
        return 2
    except (ValueError, TypeError) as exc:
        send({"type": "spec_error", "field": "spec", "message": f"spec: {exc}"})
        return 2
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, then exit 1
        import traceback

        send({"type": "engine_error", "message": f"{type(exc).__name__}: {exc}",
              "traceback": traceback.format_exc()})
        return 1
    finally:
        out.flush()


def _encode_lines(events: list[Event]) -> list[dict]:
    """The lines of the stream for one batch, in its order: events, finished tasks as rows, events.

    The batch's other events up to its last finished task (its start-up, CPU samples) lead its first
    line, the rest (the tasks still running) follow its rows on a line of their own. That keeps the
    order of a batch made by ``Run.drain``, where no task event comes between its finished tasks; a
    batch of another shape would have its task events moved ahead of its rows. At most
    ``ROWS_PER_LINE`` rows to a line: the reader parses a line holding the GIL, and a batch of 10,000
    tasks (a starved pump's) as one 900 KB line kept a window in that process waiting for all of it.
    ``RunFinished`` goes last, on a line of its own, without its task records: they came one by one.
    """
    end = next((k for k, e in enumerate(events) if type(e) is RunFinished), len(events))
    body = events[:end]
    split = max((k for k, e in enumerate(body) if type(e) is TaskFinished), default=end - 1) + 1
    rows = [e.record.to_row() for e in body if type(e) is TaskFinished]
    lines = [{"events": [event_to_json(e) for e in body[:split] if type(e) is not TaskFinished],
              "finished": rows[:ROWS_PER_LINE]}]
    lines += [{"events": [], "finished": rows[k:k + ROWS_PER_LINE]}
              for k in range(ROWS_PER_LINE, len(rows), ROWS_PER_LINE)]
    if split < end:
        lines.append({"events": [event_to_json(e) for e in body[split:]]})
    if end < len(events):
        lines.append({"events": [{"type": "run_finished", "result": events[end].result.to_dict(tasks=False)}]
                      + [event_to_json(e) for e in events[end + 1:]]})
    return [line for line in lines if line["events"] or line.get("finished")]


def check_stream(events: list[Event], finished: list[TaskRecord], tasks: int) -> None:
    """A line of the engine's output, checked by :mod:`.validate` as a file is (a run's end is checked
    whole by :func:`.events.event_from_json`): a SpecError names the first value that is wrong."""
    records, started = list(finished), []
    for e in events:
        kind = type(e)
        if kind is TaskFinished:
            records.append(e.record)
        elif kind is TaskStarted:
            started.append(e)
        elif kind is CpuSampled:
            validate.check_samples([e.sample])
        elif kind is ThreadStatesSampled:
            validate.check_thread_states([e.states])
        elif kind is MemorySampled:
            validate.check_memory_samples([e.sample])
        elif kind is StartupFinished:
            validate.check("startup_finished.t", e.t, validate.SECONDS)
            if e.detail is not None:  # what the start-up found: its workers, a Dask cluster's as a run keeps them
                validate.check_fields("startup_finished.detail", e.detail, {"workers": validate.RUN_FIELDS["workers"]})
                validate.check_environment({"dask": e.detail.get("dask")})
        elif kind is RunStarted:
            validate.check_spec(e.spec)
            validate.check_environment(e.environment)
            validate.check("run_started.tasks", e.tasks, validate.whole_field(0, tasks))
            validate.check("run_started.workers", e.workers, validate.RUN_FIELDS["workers"])
    validate.check_streamed_tasks(records, tasks)
    if started:  # as records: the same columns, the same words
        validate.check_streamed_tasks([TaskRecord(e.index, e.worker, e.pid, e.thread_id, start=e.start, status=RUNNING)
                                       for e in started], tasks)


def _exit_if_abandoned(run: Run, out, write_lock: threading.Lock) -> None:
    """End the engine once a run was finished without its executor (its calling thread is stuck)."""
    run.result_ready.wait()
    if run.abandoned:
        _exit_now(out, write_lock)


def _exit_now(out, write_lock: threading.Lock) -> None:
    """Flush the protocol and leave at once: abandoned threads would block a normal exit forever."""
    with write_lock:
        out.flush()
    sys.stderr.flush()
    os._exit(0)


def _watch_stdin(stdin, run: Run, send) -> None:
    """``cancel`` (answered with ``stopping``) or end of input (the parent is gone) stops the run."""
    for line in stdin:
        if line.strip() == b"cancel":
            run.cancel()
            send({"type": "stopping"})
    run.cancel()


def _blind(fds: list[int]) -> None:
    """In a forked child: point ``fds`` at /dev/null, so it holds no end of the pipes they were."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in fds:
        try:
            os.dup2(devnull, fd)
        except OSError:
            pass
    os.close(devnull)

"""Processes: ``ProcessPoolExecutor`` and one ``multiprocessing.Process`` per task.

Every pool gets an explicit start method.  Workers report starts (and, one
per task, finishes) through a multiprocessing queue, die with their parent so
they never outlive it (see :mod:`..lifetime`), and are terminated when a run is
cancelled; whatever they started goes with them at the run's end.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
import time
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial

from .. import lifetime
from ..present import count, plural
from ..worker import init_process, process_main, run_in_process, warm_up
from .base import STOP_GRACE, Executor

WARM_UP_DELAY = 0.05
TERMINATE_GRACE = 0.5  # seconds workers get to end after SIGTERM before SIGKILL
STARTUP_TIMEOUT = 60.0  # seconds a pool's worker processes get to start before the run fails


# --- fork and threads ---------------------------------------------------------------------
def foreign_threads() -> list[str]:
    """Threads of this process that ConcGUI did not start, by name.

    ConcGUI's own helpers (named ``concgui-...``), the calling thread and the main thread
    do not count; every other Python thread does, and so does every thread Python did not
    start at all (Qt's, a BLAS library's), found in the operating system's list.
    """
    me, main = threading.current_thread(), threading.main_thread()
    names, known = [], set()
    for t in threading.enumerate():
        known.add(t.native_id)
        if t is not me and t is not main and not t.name.startswith("concgui-"):
            names.append(t.name)
    task_dir = "/proc/self/task"
    if os.path.isdir(task_dir):
        for tid in os.listdir(task_dir):
            if int(tid) not in known:
                try:
                    with open(f"{task_dir}/{tid}/comm", encoding="utf-8", errors="replace") as f:
                        comm = f.read().strip()
                except OSError:
                    continue  # it ended meanwhile
                names.append(f"{comm!r} (not a Python thread)")
    else:
        try:
            import psutil

            extra = psutil.Process().num_threads() - len(known)
        except Exception:  # noqa: BLE001 - without psutil only Python threads are seen
            extra = 0
        names += ["a thread Python did not start"] * max(0, extra)
    return names


def choose_start_method(spec, foreign_consumer: bool = False) -> tuple[str, str]:
    """The start method to use for ``spec`` here, and why it differs from the asked one ("" if not).

    ``fork`` copies the whole process, including every lock another thread holds at that
    instant; a child that needs one (to flush ``sys.stdout``, say) waits forever.  ConcGUI's
    own helper threads never hold such a lock, so fork is used where they are the only
    threads (the engine process).  Anywhere else (the window, with Qt's threads; a test runner;
    an event consumer that prints, running on the pump thread) forkserver is used instead, and
    its workers get this process's environment, as forked ones would have.
    """
    method = spec.effective_start_method()
    if method != "fork":
        return method, ""
    reasons = ["the run's event consumer, called on ConcGUI's pump thread"] if foreign_consumer else []
    reasons += foreign_threads()
    if not reasons:
        return method, ""
    other = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    shown = ", ".join(reasons[:4]) + (f" and {len(reasons) - 4} more" if len(reasons) > 4 else "")
    return other, (f"fork was asked for, but this process runs code ConcGUI did not start ({shown}); a forked "
                   f"worker could deadlock on a lock held there at the fork, so {other} was used. The engine "
                   "process (isolation 'process') runs only ConcGUI's own threads and uses fork as asked.")


def _context(ctl):
    ctx = multiprocessing.get_context(ctl.start_method)
    if ctl.start_method == "forkserver":
        _preload_worker()
    reports = ctx.Queue()
    ctl.queues.append(reports)
    cancel = ctx.Event()
    threading.Thread(target=_forward_cancel, args=(ctl, cancel), daemon=True,
                     name="concgui-cancel-forward").start()
    ready = ctx.Value("i", 0)  # workers whose initializer (their one-time preparation) has finished
    init_args = (ctl.t0_ns, cancel, ctl.job, reports, os.getpid(), ctl.worker_environ, ready)
    return ctx, cancel, init_args


def _preload_worker() -> None:
    """Have the forkserver import the task wrapper before it forks workers, keeping what the host asked.

    The workers then start with it loaded, and their pure-Python loop runs at the engine's own speed;
    workers that each imported it after the fork ran the same cpu task slower. It takes effect where
    the server is not running yet.

    Started from the main thread (the engine's, a script's), the server also dies with this process
    (:mod:`..forkserver_lifetime`), and its workers with it; started from another thread, which may end
    long before this process, it must not, and its workers rely on their own watch.
    """
    from multiprocessing import forkserver

    guard = "concgui.engine.forkserver_lifetime"
    wanted = list(getattr(getattr(forkserver, "_forkserver", None), "_preload_modules", None) or ["__main__"])
    wanted = [m for m in wanted if m != guard]
    wanted += [m for m in ("concgui.engine.worker",) if m not in wanted]
    if threading.current_thread() is threading.main_thread():
        wanted.append(guard)
    forkserver.set_forkserver_preload(wanted)


def _forward_cancel(ctl, cancel) -> None:
    """Mirror the run's cancel flag into the processes' flag; ends with the run."""
    while not ctl.all_done.is_set() and not ctl.stopped.is_set():
        if ctl.cancel.wait(0.05):
            cancel.set()
            return


class ProcessPool(Executor):
    name = "process-pool"
    title = "ProcessPoolExecutor"
    description = "concurrent.futures.ProcessPoolExecutor: separate processes, each with its own GIL."

    def run(self, ctl) -> None:
        ctx, cancel, init_args = _context(ctl)
        pool = ProcessPoolExecutor(ctl.workers, mp_context=ctx, initializer=init_process, initargs=init_args)
        try:
            # Start and prepare every worker (init_process) before the clock of the work starts: start-up
            # is reported apart, and no task pays for a worker's one-time preparation.
            warm_ups = [pool.submit(warm_up, WARM_UP_DELAY, ctl.workers, STARTUP_TIMEOUT) for _ in range(ctl.workers)]
            if not _started(ctl, warm_ups):
                return  # cancelled (or timed out) while the workers started
            ctl.startup_done()
            if ctl.spec.chunk_size > 1:
                self._map(ctl, pool)
            else:
                arg = ctl.argument
                for i, size in enumerate(ctl.sizes):
                    if i % 256 == 0 and ctl.cancel.is_set():
                        break
                    ctl.mark_submitted(i)
                    pool.submit(run_in_process, i, size, arg).add_done_callback(partial(_collect, ctl, i))
            ctl.wait()
        finally:
            ctl.stopped.set()
            finished = ctl.all_done.is_set()
            if not finished:
                cancel.set()
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            ctl.stop_note = how_stopped(_stop_processes(processes, STOP_GRACE if not finished else 5.0))
        failed = [r for r in ctl.records if r.error and r.error.get("type") == "BrokenProcessPool"]
        if failed:
            codes = {p.exitcode for p in processes if p.exitcode not in (0, None)}
            codes = codes - {-15} or codes  # the pool terminates the others once one died
            deaths = sorted(describe_exit(c) for c in codes)
            raise RuntimeError(f"a worker process died ({', '.join(deaths) or 'exit status unknown'}); "
                               f"{len(failed)} task(s) were lost with it")

    def _map(self, ctl, pool) -> None:
        """Chunked submission; results come back in order on a helper thread."""
        n = len(ctl.sizes)
        for i in range(n):
            ctl.mark_submitted(i)
        results = pool.map(run_in_process, range(n), ctl.sizes, itertools.repeat(ctl.argument, n),
                           chunksize=ctl.spec.chunk_size)

        def consume() -> None:
            i = 0
            try:
                for rec in results:
                    ctl.record_finished(rec)
                    i += 1
            except BaseException as exc:  # noqa: BLE001
                if _stopped_by_us(ctl, exc):
                    return  # the run's end marks what did not finish as cancelled, as _collect does
                for j in range(i, n):
                    ctl.record_failed(j, exc)

        threading.Thread(target=consume, name="concgui-map-results", daemon=True).start()


def _started(ctl, futures) -> bool:
    """Wait for the warm-up tasks; False if the run was cancelled meanwhile.

    Bounded: workers that never start (a child stuck at birth) fail the run after
    :data:`STARTUP_TIMEOUT` seconds instead of hanging it.
    """
    deadline = time.monotonic() + STARTUP_TIMEOUT
    for f in futures:
        while True:
            try:
                f.result(timeout=0.05)
                break
            except TimeoutError:
                if ctl.cancel.is_set():
                    return False
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the worker processes did not start within {STARTUP_TIMEOUT:g} s "
                                       f"(start method {ctl.start_method})") from None
    return True


def _stopped_by_us(ctl, exc: BaseException) -> bool:
    """Whether ``exc`` is the run's own stop: a future the stop cancelled, or a worker it terminated."""
    if isinstance(exc, CancelledError):
        return True
    return isinstance(exc, BrokenProcessPool) and ctl.cancel.is_set() and ctl.stopped.is_set()


def _collect(ctl, index: int, future) -> None:
    try:
        ctl.record_finished(future.result())
    except BaseException as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
        if not _stopped_by_us(ctl, exc):  # else the run's end reports the task as cancelled
            ctl.record_failed(index, exc)


def describe_exit(code: int) -> str:
    """'killed by signal 9 (SIGKILL)' or 'exited with code 3'."""
    if code < 0:
        import signal

        try:
            return f"killed by signal {-code} ({signal.Signals(-code).name})"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


def _stop_processes(processes, grace: float) -> tuple[int, int]:
    """Give processes ``grace`` seconds to end, then SIGTERM, then SIGKILL; always reap.

    Then every process each one started is killed too: a worker leads a process group of its own
    (:func:`~concgui.engine.lifetime.start_own_group`), which what its tasks started stays in, even
    once the worker itself has ended.  Returns (how many were terminated, how many of those had to be
    killed): a stop reports how it ended the workers.
    """
    deadline = time.monotonic() + grace
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
    late = [p for p in processes if p.is_alive()]
    for p in late:
        p.terminate()
    deadline = time.monotonic() + TERMINATE_GRACE
    for p in late:
        p.join(max(0.0, deadline - time.monotonic()))
    stubborn = [p for p in late if p.is_alive()]
    for p in stubborn:
        p.kill()
    for p in stubborn:
        p.join(1.0)
    for p in processes:
        if p.pid:
            lifetime.kill_group(p.pid)
    return len(late), len(stubborn)


def how_stopped(ends: tuple[int, int]) -> str:
    """'2 worker processes ignored SIGTERM and were killed (SIGKILL)', from :func:`_stop_processes`'s count."""
    terminated, killed = ends
    parts = []
    if terminated > killed:
        n = terminated - killed
        parts.append(f"{count(n, 'worker process', 'worker processes')} still running {plural(n, 'was', 'were')} "
                     "ended with SIGTERM")
    if killed:
        parts.append(f"{count(killed, 'worker process', 'worker processes')} ignored SIGTERM and "
                     f"{plural(killed, 'was', 'were')} killed (SIGKILL)")
    return "; ".join(parts)


class ResultPipes:
    """A pipe per task for its record with its result (``result_bytes``), read by one thread.

    Only the task's process holds a pipe's write end, so a process that ends while it writes leaves the reader
    an end of file, never a wait for the rest: the run's shared reports queue carries no results for that reason.
    """

    def __init__(self, ctl, ctx) -> None:
        self.ctl, self.ctx = ctl, ctx
        self.readers: list = []
        self.lock = threading.Lock()
        self.closing = False
        self.thread = threading.Thread(target=self._read, name="concgui-result-pipes", daemon=True)
        self.thread.start()

    def new(self):
        """A new pipe's write end, for the next task's process."""
        reader, writer = self.ctx.Pipe(duplex=False)
        with self.lock:
            self.readers.append(reader)
        return writer

    def _read(self) -> None:
        from multiprocessing.connection import wait

        while True:
            with self.lock:
                readers = list(self.readers)
            if not readers:
                if self.closing:
                    return
                time.sleep(0.02)
                continue
            for reader in wait(readers, timeout=0.05):
                try:
                    self.ctl.record_finished(reader.recv())
                except (EOFError, OSError):  # written and closed, or its process ended: done with it
                    with self.lock:
                        self.readers.remove(reader)
                    reader.close()

    def finish(self, timeout: float = 2.0) -> None:
        """Read what the ended processes wrote, for at most ``timeout`` seconds; then close every pipe."""
        self.closing = True
        self.thread.join(timeout)
        with self.lock:
            for reader in self.readers:
                reader.close()
            self.readers.clear()


class Processes(Executor):
    name = "processes"
    title = "Processes (one per task)"
    description = "multiprocessing.Process per task: pays a process start for every task."

    def run(self, ctl) -> None:
        ctx, cancel, init_args = _context(ctl)
        pipes = ResultPipes(ctl, ctx) if ctl.job.result_bytes else None
        ctl.startup_done()
        procs: dict[int, multiprocessing.process.BaseProcess] = {}
        try:
            for i, size in enumerate(ctl.sizes):
                if ctl.cancel.is_set():
                    break
                results = pipes.new() if pipes is not None else None
                p = ctx.Process(target=process_main, args=(init_args, i, size, ctl.argument, results),
                                name=f"concgui-task-{i}")
                ctl.mark_submitted(i)
                p.start()
                if results is not None:
                    results.close()  # the task's process holds the only write end now
                procs[i] = p
            while any(p.is_alive() for p in procs.values()) and not ctl.cancel.is_set():
                time.sleep(0.02)
        finally:
            ctl.stopped.set()
            if ctl.cancel.is_set():
                cancel.set()
            ctl.stop_note = how_stopped(_stop_processes(list(procs.values()),
                                                        STOP_GRACE if ctl.cancel.is_set() else 5.0))
            if pipes is not None:
                pipes.finish()
        # A process that ended without reporting: its exit code is the task's error.  Reports that
        # are still in the queue reach the records within a pump interval or two; wait for them first.
        exited = [i for i, p in procs.items() if p.exitcode is not None]
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline and any(ctl.records[i].status in ("waiting", "running") for i in exited):
            time.sleep(0.02)
        deaths = []
        for i in exited:
            if ctl.records[i].status in ("waiting", "running") and not ctl.cancel.is_set():
                why = describe_exit(procs[i].exitcode)
                ctl.record_failed(i, RuntimeError(f"worker process {why} without reporting its task"))
                deaths.append(f"task {i}: {why}")
        if deaths:
            raise RuntimeError(f"{len(deaths)} worker process(es) died: {'; '.join(deaths[:5])}")

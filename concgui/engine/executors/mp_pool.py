"""``multiprocessing.Pool``: the classic pool most tutorials start with.

Tasks go out map-style, ``chunk_size`` to a message (the chunks ``map``'s ``chunksize`` makes, the process
pool's field, sent with ``imap_unordered`` so each chunk's records come back as it ends).  Workers run the
process pool's initializer (:func:`~concgui.engine.worker.init_process`: they never outlive their parent and
prepare the job), under the run's start method, and report each start and each finish at once: tasks come
back as they finish, not a chunk at a time.  A task's result (``result_bytes``) comes back with its chunk's
records instead, the way the pool returns results (see :mod:`concgui.engine.transfer`).  Stop is
``Pool.terminate()``.

A worker that dies is replaced by the pool, but the tasks it held are never returned (``map`` would
wait for them forever), so the run ends there and says how the worker died, as a process pool's does.
"""

from __future__ import annotations

import multiprocessing
import threading
import time

from ..present import count, plural
from ..worker import init_process, run_in_process
from .base import Executor
from .processes import STARTUP_TIMEOUT, _context, _stop_processes, describe_exit

POLL = 0.05  # seconds between looks at Stop and at the workers while the tasks run
#: seconds ``Pool.terminate()`` gets before its result handler is unblocked (see :func:`terminate`)
TERMINATE_WAIT = 2.0


def _run_chunk(chunk: list[tuple]) -> list[tuple]:
    """One chunk's tasks, each (index, size, the run's argument), one after another: what ``map`` sends in a
    message; their records, with their results, come back as one."""
    return [run_in_process(*item) for item in chunk]



class WorkerWatch:
    """A pool's worker processes, every one it ever started: tells a worker that died from one still there.

    ``Pool`` forgets a worker once it has reaped it (and starts another), so the processes are
    collected as they are seen; none ends by itself before the pool is closed.
    """

    def __init__(self, current) -> None:
        self._current = current  # a callable returning the pool's processes now
        self.seen: dict[int, multiprocessing.process.BaseProcess] = {}
        self.dead: dict[int, int] = {}  # pid -> exit code of the workers found dead (before any were ended)
        self.look()

    def look(self) -> list[multiprocessing.process.BaseProcess]:
        """Collect the pool's processes; returns those that have died."""
        for p in self._current() or ():
            if p.pid is not None:
                self.seen.setdefault(p.pid, p)
        return [p for p in self.seen.values() if p.exitcode is not None]

    def deaths(self) -> str:
        """How the workers that died died ("killed by signal 9 (SIGKILL)"), or "": the first ones found are kept."""
        if not self.dead:
            self.dead = {p.pid: p.exitcode for p in self.look()}
        return ", ".join(sorted({describe_exit(code) for code in self.dead.values()}))

    def processes(self) -> list[multiprocessing.process.BaseProcess]:
        self.look()
        return list(self.seen.values())


def wait_ready(ctl, ready, workers: int, watch: WorkerWatch) -> bool:
    """Wait until ``workers`` initializers have finished; False if the run was cancelled meanwhile.

    Fails the run, naming the cause, when a worker dies while starting or none start in time.
    """
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while ready.value < workers:
        if ctl.cancel.wait(0.01):
            return False
        if died := watch.deaths():
            raise RuntimeError(f"a worker process died while starting ({died})")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker processes did not start within {STARTUP_TIMEOUT:g} s "
                               f"(start method {ctl.start_method})")
    return True


def lost_worker(ctl, watch: WorkerWatch, died: str) -> RuntimeError:
    """Fail the tasks that were running on a worker that died, and say so for the run."""
    time.sleep(0.1)  # the dead worker's last start report reaches the records within a pump interval
    lost = [r.index for r in ctl.records if r.status == "running" and r.pid in watch.dead]
    for i in lost:
        ctl.record_failed(i, RuntimeError(f"its worker process was {died}"))
    were = plural(len(lost), "was", "were")
    return RuntimeError(f"a worker process died ({died}); {count(len(lost), 'task')} {were} lost with it. "
                        "multiprocessing.Pool starts another worker but never returns a dead one's tasks, so the "
                        "run was ended")


def terminate(pool, watch: WorkerWatch) -> None:
    """``pool.terminate()``, which cannot hang the run.

    A worker stopped while it writes a large result (``result_bytes``) leaves half a message in the pool's
    result pipe, and the pool's result handler waits for the rest for ever, so ``terminate()``, which joins
    it, never returned (1 Stop in about 12 of 40 tasks × 30 MB). Once every worker is gone, nothing but
    this process can write to that pipe: closing its own write end gives the handler end-of-file, and it
    exits as after any broken pipe.
    """
    ender = threading.Thread(target=pool.terminate, name="concgui-mp-terminate", daemon=True)
    ender.start()
    ender.join(TERMINATE_WAIT)
    if ender.is_alive():
        _stop_processes(watch.processes(), 0.0)  # terminate() has signalled them: reaped, or killed now
        pool._outqueue._writer.close()  # the last write end: the handler's read ends
        ender.join(TERMINATE_WAIT)


class ResultConsumer(threading.Thread):
    """Hands the run every record the pool returns, as its chunk comes back: each worker reported the finish
    already, but a task's result (``result_bytes``) travels with this copy (see ``worker._without_result``),
    and this copy is the one a report lost in a stopped queue is not. Ends with the results or the run."""

    def __init__(self, ctl, results) -> None:
        super().__init__(name="concgui-mp-results", daemon=True)
        self.ctl, self.results = ctl, results
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        while True:
            try:
                chunk = self.results.next(timeout=POLL)
            except StopIteration:
                return
            except multiprocessing.TimeoutError:
                if self.ctl.stopped.is_set() or self.ctl.cancel.is_set():
                    return
                continue
            except BaseException as exc:  # noqa: BLE001 - raised by the executor's thread
                self.error = exc
                return
            for rec in chunk:
                self.ctl.record_finished(rec)


class MultiprocessingPool(Executor):
    name = "mp-pool"
    title = "multiprocessing.Pool"
    description = ("multiprocessing.Pool, map-style: chunks of tasks to worker processes, each with its own "
                   "GIL; the pool most tutorials start with.")

    def run(self, ctl) -> None:
        ctx, cancel, init_args = _context(ctl)
        ready = init_args[-1]
        began = time.monotonic()
        # True: each worker reports each finish as it happens, so tasks stream back however large the chunks
        pool = ctx.Pool(ctl.workers, initializer=init_process, initargs=(*init_args, True))
        watch = WorkerWatch(lambda: getattr(pool, "_pool", None))
        died = ""
        try:
            if not wait_ready(ctl, ready, ctl.workers, watch):
                return
            ctl.environment["mp_pool"] = {"startup_seconds": time.monotonic() - began,
                                          "worker_pids": sorted(watch.seen)}
            ctl.startup_done()
            for i in range(len(ctl.sizes)):
                ctl.mark_submitted(i)
            arg = ctl.argument  # pickled with each chunk: one copy per message
            # the chunks map would make, sent as map does; each chunk's records come back as it ends
            items, k = [(i, size, arg) for i, size in enumerate(ctl.sizes)], ctl.spec.chunk_size
            results = pool.imap_unordered(_run_chunk, [items[j:j + k] for j in range(0, len(items), k)])
            consumer = ResultConsumer(ctl, results)
            while consumer.is_alive():
                consumer.join(POLL)
                if ctl.cancel.is_set() or (died := watch.deaths()):
                    break
            if consumer.error is not None and not ctl.cancel.is_set() and not died:
                raise consumer.error  # what went wrong outside the tasks; a task's fault is its record
        finally:
            ctl.stopped.set()
            if ctl.cancel.is_set() or died:
                cancel.set()
                terminate(pool, watch)  # Stop: the running tasks' workers end now; queued tasks are dropped
            else:
                pool.close()
            _stop_processes(watch.processes(), 5.0)
            pool.join()
        if died:
            raise lost_worker(ctl, watch, died)

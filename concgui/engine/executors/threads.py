"""Threads: one ``threading.Thread`` per task, and ``ThreadPoolExecutor``."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from ..worker import execute
from .base import STOP_GRACE, Executor, join_all


class Threads(Executor):
    name = "threads"
    title = "Threads (one per task)"
    description = "threading.Thread per task, started together and joined, as in the seed's second cell."

    def run(self, ctl) -> None:
        ctx, arg = ctl.worker_context(), ctl.argument
        ctl.startup_done()
        threads = []
        for i, size in enumerate(ctl.sizes):
            if ctl.cancel.is_set():
                break
            t = threading.Thread(target=execute, args=(ctx, i, size, arg), name=f"concgui-task-{i}", daemon=True)
            ctl.mark_submitted(i)
            t.start()
            threads.append(t)
        finished = ctl.wait()
        join_all(threads, None if finished else STOP_GRACE)


class ThreadPool(Executor):
    name = "thread-pool"
    title = "ThreadPoolExecutor"
    description = "concurrent.futures.ThreadPoolExecutor, as in the seed's third cell."

    def run(self, ctl) -> None:
        ctx, arg = ctl.worker_context(), ctl.argument
        pool = ThreadPoolExecutor(ctl.workers, thread_name_prefix="concgui-pool")
        try:
            ctl.startup_done()
            submit, mark, cancel = pool.submit, ctl.mark_submitted, ctl.cancel
            for i, size in enumerate(ctl.sizes):
                if i % 1024 == 0 and cancel.is_set():
                    break
                mark(i)
                submit(execute, ctx, i, size, arg)
            ctl.wait()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            join_all(list(pool._threads), None if ctl.all_done.is_set() else STOP_GRACE)

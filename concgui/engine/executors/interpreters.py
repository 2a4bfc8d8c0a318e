"""InterpreterPoolExecutor (Python 3.14+): threads, each with its own interpreter and GIL."""

from __future__ import annotations

import concurrent.futures
import sys
from functools import partial

from ..worker import run_standalone
from .base import STOP_GRACE, Executor, join_all
from .processes import _collect


class InterpreterPool(Executor):
    name = "interpreter-pool"
    title = "InterpreterPoolExecutor"
    description = "concurrent.futures.InterpreterPoolExecutor: one sub-interpreter per worker thread."

    def availability(self) -> tuple[bool, str]:
        if not hasattr(concurrent.futures, "InterpreterPoolExecutor"):
            return False, f"needs Python 3.14 or newer (this is {sys.version.split()[0]})"
        return True, ""

    def run(self, ctl) -> None:
        pool = concurrent.futures.InterpreterPoolExecutor(ctl.workers)
        try:
            ctl.startup_done()
            for i, size in enumerate(ctl.sizes):
                if i % 256 == 0 and ctl.cancel.is_set():
                    break
                ctl.mark_submitted(i)
                fut = pool.submit(run_standalone, ctl.t0_ns, ctl.job, i, size, ctl.argument)
                fut.add_done_callback(partial(_collect, ctl, i))
            ctl.wait()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            join_all(list(getattr(pool, "_threads", ())), None if ctl.all_done.is_set() else STOP_GRACE)

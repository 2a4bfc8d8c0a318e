"""QThreadPool with QRunnable: Qt's own pool, QtCore only, imported only when chosen."""

from __future__ import annotations

import importlib.util

from ..worker import execute
from .base import STOP_GRACE, Executor


class QtThreadPool(Executor):
    name = "qt-thread-pool"
    title = "QThreadPool"
    description = "Qt's QThreadPool running QRunnables: threads made by Qt, the same GIL."

    def availability(self) -> tuple[bool, str]:
        if importlib.util.find_spec("PySide6") is None:
            return False, "PySide6 is not installed for this Python"
        return True, ""

    def default_workers(self, cores: int) -> int:
        return cores  # QThread.idealThreadCount()

    def run(self, ctl) -> None:
        from PySide6.QtCore import QRunnable, QThreadPool

        class Task(QRunnable):
            def __init__(self, ctx, index: int, size: float) -> None:
                super().__init__()
                self.args = (ctx, index, size)

            def run(self) -> None:
                execute(*self.args)

        ctx = ctl.worker_context()
        pool = QThreadPool()
        pool.setMaxThreadCount(ctl.workers)
        ctl.startup_done()
        try:
            for i, size in enumerate(ctl.sizes):
                if i % 1024 == 0 and ctl.cancel.is_set():
                    break
                ctl.mark_submitted(i)
                pool.start(Task(ctx, i, size))
            ctl.wait()
        finally:
            pool.clear()  # drops queued runnables at once
            if not pool.waitForDone(-1 if ctl.all_done.is_set() else int(STOP_GRACE * 1000)):
                _abandoned.append(pool)  # its destructor would wait for a stuck task forever


_abandoned: list = []  # pools whose tasks would not stop: kept, so deleting them does not block

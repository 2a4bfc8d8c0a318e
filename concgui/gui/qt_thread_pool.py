"""The ``qt-thread-pool`` executor: tasks as QRunnables on a QThreadPool.

It lives in the Qt layer so that the engine package holds no Qt code at all; importing this module
registers it with the engine (QtCore only, no widgets, so an engine process can import it too).
"""

from __future__ import annotations

from PySide6.QtCore import QRunnable, QThreadPool

from ..engine.executors import qt_pool, register
from ..engine.executors.base import STOP_GRACE
from ..engine.worker import execute


class _Task(QRunnable):
    def __init__(self, ctx, index: int, size: float, arg) -> None:
        super().__init__()
        self.args = (ctx, index, size, arg)

    def run(self) -> None:
        execute(*self.args)


class QtThreadPool(qt_pool.QtThreadPool):
    """The engine's stand-in, made runnable."""

    def availability(self) -> tuple[bool, str]:
        return True, ""

    def run(self, ctl) -> None:
        run_on_qthreadpool(ctl)


def run_on_qthreadpool(ctl) -> None:
    """Run every task of ``ctl`` on a QThreadPool of ``ctl.workers`` threads."""
    ctx, arg = ctl.worker_context(), ctl.argument  # the run's argument: shared, never copied
    pool = QThreadPool()
    pool.setMaxThreadCount(ctl.workers)
    ctl.startup_done()
    try:
        for i, size in enumerate(ctl.sizes):
            if i % 1024 == 0 and ctl.cancel.is_set():
                break
            ctl.mark_submitted(i)
            pool.start(_Task(ctx, i, size, arg))
        ctl.wait()
    finally:
        pool.clear()  # drops queued runnables at once
        if not pool.waitForDone(-1 if ctl.all_done.is_set() else int(STOP_GRACE * 1000)):
            _abandoned.append(pool)  # its destructor would wait for a stuck task forever


_abandoned: list = []  # pools whose tasks would not stop: kept, so deleting them does not block

register(QtThreadPool())

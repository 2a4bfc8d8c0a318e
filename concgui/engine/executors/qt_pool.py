"""QThreadPool with QRunnable: Qt's own pool, the same GIL — as the engine knows it.

The engine holds no Qt code: this is the executor's name and description only, unavailable until
the Qt layer registers the real one (:mod:`concgui.gui.qt_thread_pool`, through
:func:`concgui.engine.executors.register`), which an engine process started afterwards imports too.
"""

from __future__ import annotations

from .base import Executor


class QtThreadPool(Executor):
    name = "qt-thread-pool"
    title = "QThreadPool"
    description = "Qt's QThreadPool running QRunnables: threads made by Qt, the same GIL."

    def availability(self) -> tuple[bool, str]:
        return False, "needs ConcGUI's Qt layer (PySide6): import concgui.gui.qt_thread_pool to register it"

    def run(self, ctl) -> None:
        raise RuntimeError(self.availability()[1])

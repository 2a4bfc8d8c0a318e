"""QThreadPool with QRunnable: Qt's own pool, the same GIL.

The engine holds no Qt code: running this executor imports its QtCore half from the Qt layer
(:mod:`concgui.gui.qt_thread_pool`), only when it is chosen.
"""

from __future__ import annotations

import importlib
import importlib.util

from .base import Executor


class QtThreadPool(Executor):
    name = "qt-thread-pool"
    title = "QThreadPool"
    description = "Qt's QThreadPool running QRunnables: threads made by Qt, the same GIL."

    def availability(self) -> tuple[bool, str]:
        if importlib.util.find_spec("PySide6") is None:
            return False, "PySide6 is not installed for this Python"
        return True, ""

    def run(self, ctl) -> None:
        importlib.import_module("concgui.gui.qt_thread_pool").run_on_qthreadpool(ctl)

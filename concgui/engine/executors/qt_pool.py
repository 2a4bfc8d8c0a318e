"""QThreadPool with QRunnable: Qt's own pool, the same GIL — as the engine knows it.

The engine holds no Qt code: this is the executor's name and description only, in place until the
Qt layer's real one registers itself (see :mod:`.plugins`).
"""

from __future__ import annotations

import importlib.util

from .base import Executor
from .plugins import load_plugin


class QtThreadPool(Executor):
    name = "qt-thread-pool"
    title = "QThreadPool"
    description = "Qt's QThreadPool running QRunnables: threads made by Qt, the same GIL."

    def availability(self) -> tuple[bool, str]:
        if importlib.util.find_spec("PySide6") is None:
            return False, "PySide6 is not installed for this Python"
        return True, ""

    def run(self, ctl) -> None:
        """Load the Qt layer's executor (it registers itself in this one's place) and run on it."""
        load_plugin(self.name).run(ctl)

"""The PySide6 window: forms, live views, history and export, over the Qt-free engine."""

from . import qt_thread_pool  # noqa: F401 - registers the QThreadPool executor with the engine

"""Opening a run file off the UI thread, with a progress dialog and Cancel.

A run file may hold a million tasks (200 MB of JSON): reading, parsing and checking it takes
seconds. :func:`load_with_progress` does that on a thread of its own while the window keeps
drawing; parsing calls back between objects (:func:`concgui.engine.exports.read_json`), so the
window gets the GIL every few milliseconds even while the JSON is parsed. A dialog shows how far
it is once it takes longer than a moment; Cancel returns at once (the thread stops at its next
step and its objects are dropped). The dialog is window-modal: nothing else starts meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QProgressDialog, QWidget

from ..engine.exports import LoadCancelled, Progress, load_results

#: a load that takes less than this shows no dialog
SHOW_AFTER_MS = 400
#: how often the dialog reads the thread's progress (and whether it is done)
POLL_MS = 30
_STEPS = 1000


def load_with_progress(parent: QWidget, path: str | Path, load: Callable[[str | Path, Progress], Any] = load_results,
                       show_after_ms: int = SHOW_AFTER_MS) -> Any:
    """``load(path, progress)`` on a thread, the window answering meanwhile; its value, or what it raised.

    :class:`~concgui.engine.exports.LoadCancelled` when the person pressed Cancel. The thread touches no
    Qt object: it leaves its progress in a variable that a timer here reads, so a cancelled load that
    finishes later has nothing of Qt's to reach.
    """
    cancel, done = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {"fraction": 0.0}
    dialog = QProgressDialog(f"Opening {Path(path).name}…", "Cancel", 0, _STEPS, parent)
    dialog.setObjectName("loadingDialog")
    dialog.setWindowTitle("Open run file")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(show_after_ms)
    dialog.setAutoReset(False)
    dialog.setAutoClose(False)
    dialog.setValue(0)
    loop = QEventLoop(dialog)
    timer = QTimer(dialog)
    timer.setInterval(POLL_MS)

    def tick() -> None:
        if dialog.wasCanceled():  # Cancel pressed, or the dialog's cancel() called
            cancel.set()
        dialog.setValue(round(outcome["fraction"] * _STEPS))
        if done.is_set() or cancel.is_set():
            loop.quit()

    timer.timeout.connect(tick)
    dialog.canceled.connect(cancel.set)
    dialog.canceled.connect(loop.quit)

    def progress(fraction: float) -> None:
        if cancel.is_set():
            raise LoadCancelled()
        outcome["fraction"] = fraction

    def work() -> None:
        try:
            outcome["value"] = load(path, progress)
        except BaseException as exc:  # noqa: BLE001 - handed to the UI thread, which raises it
            outcome["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=work, name="concgui-open-run-file", daemon=True)
    thread.start()
    timer.start()
    if not done.wait(POLL_MS / 1000):  # a small file: done before any dialog or loop is needed
        loop.exec()
    timer.stop()
    cancelled = cancel.is_set()
    dialog.canceled.disconnect()  # closing a progress dialog emits canceled: not the person's Cancel
    dialog.close()
    dialog.deleteLater()
    if cancelled:
        raise LoadCancelled(f"opening {Path(path).name} was cancelled")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]

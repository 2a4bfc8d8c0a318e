"""Writes runs to the history database on its own thread.

A 100,000-task run sends thousands of finished tasks every quarter second;
writing them on the GUI thread stalled the window for all that time.  Here
the window only queues work; a writer thread with its own SQLite connection
(WAL lets the window keep reading meanwhile) does it, and reports back
through a deque the window drains from a timer.

A finished run the history cannot take is written to a run file at once, here, off the window's
thread (:mod:`concgui.kept_runs`), so a message can name the file it is in; with ``keep_copies``
(a temporary history standing in for one that cannot be used) every finished run is.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from pathlib import Path

from ..engine import RunResult, TaskRecord
from ..engine.isolation import HOST_WAIT  # the longest wait for the window between two chunks
from ..history import HistoryError, HistoryStore
from ..kept_runs import keep

#: task rows per transaction when a big batch arrives (a flood's quarter second; 20,000 tasks cancelled at
#: once), with a millisecond's pause after each: the writer holds the GIL for one chunk at a time, so a
#: window drawing meanwhile waits at most that long (chunks of 1,000 left it longer pauses than 200)
ADD_CHUNK = 200
CHUNK_PAUSE = 0.001  # seconds between two chunks of one batch
#: the longest a run's closing waits for the window to end its own turn at the run's end (the Summary, the
#: views: some 50 ms for 100,000 tasks). Begun at once, the closing's check of every record took turns at
#: the GIL with that turn, and the window froze for 100-250 ms; it never waits longer than this
FINISH_WAIT = 1.0


class HistoryWriter:
    """The one writer of running and finished runs; tokens name runs until their row exists."""

    def __init__(self, path: str | Path, host_idle: threading.Event | None = None,
                 keep_copies: Path | None = None) -> None:
        #: set while the window's thread is free (see RunController.host_idle): chunks go between its turns
        self.host_idle = host_idle
        #: the folder every finished run is also written to as a run file (a temporary history), or None
        self.keep_copies = keep_copies
        #: ("saved", token, run_id), ("error", token, message), or ("unsaved", token, message) for a run
        #: whose finish could not be written; before either of the last two, ("kept", token, (file or None,
        #: why the folders before it, or every folder, could not take it)) for a run written to a file
        self.outcomes: deque = deque()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, args=(path,), name="concgui-history-writer", daemon=True)
        self._thread.start()

    def begin(self, token: int, spec: dict, environment: dict, started_at: float, pid: int) -> None:
        """Write the run's row before its first task."""
        self._queue.put(("begin", token, (spec, environment, started_at, pid)))

    def add(self, token: int, records: list[TaskRecord]) -> None:
        self._queue.put(("add", token, records))

    def finish(self, token: int, result: RunResult) -> None:
        """Close the run with its result (or save it whole if it was never begun)."""
        self._queue.put(("finish", token, result))

    def close(self, timeout: float = 5.0) -> bool:
        """Write what is queued, then stop; False if that took longer than ``timeout``."""
        self._queue.put(("stop", 0, None))
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self, path: str | Path) -> None:
        try:
            store = HistoryStore(path, check_pages=False)  # the window checked its pages as it opened it
        except Exception as exc:  # noqa: BLE001 - reported to the window, which keeps its results
            message = f"cannot open the history: {exc}"
            self.outcomes.append(("error", 0, message))
            while True:  # every run finished from now on is reported unsaved, so the window keeps it
                kind, token, _payload = self._queue.get()
                if kind == "stop":
                    return
                if kind == "finish":
                    self._keep(token, _payload)
                    self.outcomes.append(("unsaved", token, message))
        ids: dict[int, int] = {}
        try:
            while True:
                kind, token, payload = self._queue.get()
                if kind == "stop":
                    return
                try:
                    if kind == "begin":
                        ids[token] = store.begin_run(*payload)
                    elif kind == "add" and token in ids:
                        for k in range(0, len(payload), ADD_CHUNK):  # paced: the window's thread needs the GIL
                            store.add_tasks(ids[token], payload[k:k + ADD_CHUNK])
                            if k + ADD_CHUNK < len(payload):  # between chunks, not after the last
                                time.sleep(CHUNK_PAUSE)
                                if self.host_idle is not None:
                                    self.host_idle.wait(HOST_WAIT)
                    elif kind == "finish":
                        if self.host_idle is not None:
                            self.host_idle.wait(FINISH_WAIT)
                        run_id = ids.pop(token, None)
                        if run_id is None:
                            run_id = store.save(payload)
                        else:
                            store.finish_run(run_id, payload)
                        if self.keep_copies is not None:
                            self._keep(token, payload, self.keep_copies)
                        self.outcomes.append(("saved", token, run_id))
                except Exception as exc:  # noqa: BLE001 - reported; the run stays on screen
                    message = str(exc) if isinstance(exc, HistoryError) else f"{type(exc).__name__}: {exc}"
                    # a run that could not be closed is "unsaved": kept in a file, and offered for saving
                    if kind == "finish":
                        self._keep(token, payload, self.keep_copies)
                    self.outcomes.append(("unsaved" if kind == "finish" else "error", token, message))
                # let go of the run before waiting: holding it until the next item came made this thread
                # free its 100,000 records, holding the GIL, just as the window's next run began
                payload = None
        finally:
            store.close()

    def _keep(self, token: int, result: RunResult, first: Path | None = None) -> None:
        """Write ``result`` to a run file and report where (or why nowhere)."""
        try:
            path, tried = keep(result, first)
        except OSError as exc:
            self.outcomes.append(("kept", token, (None, str(exc))))
        else:
            self.outcomes.append(("kept", token, (path, "; ".join(tried))))

"""A command-line run kept as it goes: in the run history, and in the files it was asked to write.

A run started from a terminal is a run like one started in the window, so it goes to the same
history (the window's History lists it), written as the window writes its own: the run's row
before its first task, its finished tasks in batches, its end last.  Its ``--json`` and ``--csv``
files are written as it goes too, each time whole and atomically replaced, marked
``interrupted`` until the run ends: a killed ``concgui run`` leaves a readable file with every
task that had finished, and a history row the window shows as interrupted.

All the writing happens on one thread of its own (SQLite connections belong to the thread that
made them), never on the thread that delivers the run's events.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..engine import RunResult, TaskRecord
from ..engine.events import Event, RunStarted, TaskFinished
from ..engine.exports import save_csv, save_result
from ..engine.live import RunState
from ..engine.records import CANCELLED, INTERRUPTED, NOT_STARTED, RUNNING, WAITING, wall_seconds
from ..engine.summary import summarize
from ..history import HistoryError, HistoryStore

FLUSH_SECONDS = 0.25  # as the window: a killed command line loses at most this much of its finished tasks
#: a rewrite of the whole files takes at most this share of the time (a 100,000-task file takes about a
#: second to write: it is then rewritten every ten)
WRITE_SHARE = 0.1
END_WAIT = 15.0  # seconds the end waits for the history (its busy timeout is 5 s a write)


def check_folders(*paths: str | None) -> None:
    """An OSError, before anything runs, for an output file whose folder does not exist."""
    for path in filter(None, paths):
        folder = Path(path).absolute().parent
        if not folder.is_dir():
            raise OSError(f"folder {str(folder)!r} does not exist")


class RunRecorder:
    """Consumes a run's events (pass it as ``on_events``) and keeps the run as it goes; :meth:`end` closes it.

    ``history``: write to the run history (the data directory's, as the window); ``json_path`` and
    ``csv_path``: the files to rewrite as the run goes; ``then``: another consumer of the events.
    """

    def __init__(self, json_path: str | None = None, csv_path: str | None = None, history: bool = True,
                 then: Callable[[list[Event]], None] | None = None) -> None:
        self.json_path, self.csv_path, self.history, self.then = json_path, csv_path, history, then
        #: it takes no lock a forked worker needs (the runner keeps fork for an inline run), unless ``then`` prints
        self.fork_safe = then is None
        #: what went wrong with the history or the files, one line each, for the caller to print
        self.notes: list[str] = []
        self._state = RunState()
        self._lock = threading.Lock()  # the state: applied on the events' thread, read on the writer's
        self._finished: list[TaskRecord] = []  # finished since the history last took them
        self._changed = False  # since the files were last written
        self._started_at = 0.0
        self._ended: RunResult | None = None
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None

    # --- the events' thread ----------------------------------------------------
    def __call__(self, events: list[Event]) -> None:
        with self._lock:
            self._state.apply(events)
            self._finished += [e.record for e in events if type(e) is TaskFinished]
            self._changed = True
            if self._thread is None and any(type(e) is RunStarted for e in events):
                self._started_at = time.time()
                self._thread = threading.Thread(target=self._loop, name="concgui-cli-recorder", daemon=True)
                self._thread.start()
        if self.then is not None:
            self.then(events)

    # --- the caller's thread ---------------------------------------------------
    def end(self, result: RunResult | None, error: str | None = None) -> RunResult | None:
        """Close the run with ``result``, or, when it failed (``error``), with what it had done, marked
        failed; returns the result the history and files were closed with (None: it never started)."""
        with self._lock:
            thread = self._thread
            if thread is None:
                return result
            if result is None:
                result = self._snapshot("failed", error)
                result.summary = summarize(result)
            self._ended, self._stop = result, True
        self._wake.set()
        thread.join(END_WAIT)
        if thread.is_alive():
            self.notes.append(f"the run history did not take the run's end within {END_WAIT:g} s")
        return result

    # --- the writer's thread ---------------------------------------------------
    def _loop(self) -> None:
        store = self._open_history()
        run_id = None
        if store is not None:
            with self._lock:
                spec, env = self._state.spec, self._state.environment
            # this process's pid: while it lives, the window lists the run as running here, not interrupted
            run_id = self._history(store.begin_run, spec, env, self._started_at, os.getpid()) or None
        interval = FLUSH_SECONDS
        try:
            while True:
                self._wake.wait(interval)
                with self._lock:
                    stop, batch, self._finished, result = self._stop, self._finished, [], self._ended
                    partial = None
                    if not stop and self._changed and (self.json_path or self.csv_path):
                        partial, self._changed = self._snapshot(INTERRUPTED, None), False
                if stop:
                    if run_id is not None:
                        self._history(store.finish_run, run_id, result)
                    elif store is not None and result is not None:  # its row could not be begun: saved whole
                        self._history(store.save, result)
                    return
                if run_id is not None and batch and self._history(store.add_tasks, run_id, batch) is False:
                    run_id = None  # saved whole at the end, if the history takes it by then
                if partial is not None:
                    t0 = time.monotonic()
                    partial.summary = summarize(partial)
                    self._write(partial)
                    interval = max(FLUSH_SECONDS, (time.monotonic() - t0) / WRITE_SHARE)
        finally:
            if store is not None:
                store.close()

    def _open_history(self) -> HistoryStore | None:
        if not self.history:
            return None
        try:
            return HistoryStore(check_pages=False)
        except HistoryError as exc:
            self.notes.append(f"this run is not in the run history: {exc}")
            return None

    def _history(self, write: Callable[..., Any], *args: Any) -> Any:
        """One write to the history; on failure a note, and False (the run goes on without it)."""
        try:
            return write(*args)
        except Exception as exc:  # noqa: BLE001 - the history never stops a run: it says what it missed
            self.notes.append(f"this run is not (wholly) in the run history: {exc}")
            return False

    def _write(self, partial: RunResult) -> None:
        for path, save in ((self.json_path, save_result), (self.csv_path, save_csv)):
            if path:
                try:
                    save(path, partial)
                except OSError as exc:
                    note = f"could not write {path} as the run went: {exc}"
                    if note not in self.notes:
                        self.notes.append(note)

    def _snapshot(self, status: str, error: str | None) -> RunResult:
        """The run so far (under the lock; its summary is the caller's): finished tasks as they ended, the
        others waiting or running."""
        state = self._state
        tasks = [TaskRecord(i) if t is NOT_STARTED else t for i, t in enumerate(state.tasks)]
        if status != INTERRUPTED:  # it failed: what had not finished never will
            tasks = [t if t.status not in (WAITING, RUNNING) else
                     TaskRecord(i, t.worker, t.pid, t.thread_id, t.submitted, t.start, None, t.cpu_seconds, CANCELLED)
                     for i, t in enumerate(tasks)]
        work_start = state.work_start or 0.0
        result = RunResult(spec=state.spec, environment=state.environment, status=status, error=error,
                           started_at=self._started_at, startup_seconds=work_start,
                           wall_seconds=wall_seconds(tasks, work_start),
                           workers=state.workers, tasks=tasks, cpu_samples=list(state.cpu_samples),
                           thread_states=list(state.thread_states), memory_samples=list(state.memory_samples))
        if status == INTERRUPTED:
            ended = sum(t.end is not None for t in tasks)
            result.error = (f"written while the run went, {ended} of {len(tasks)} tasks finished: still marked "
                            f"interrupted, it tells that the command line (pid {os.getpid()}) ended before the run")
        return result


def print_notes(recorder: RunRecorder) -> None:
    for note in recorder.notes:
        print(f"concgui: {note}", file=sys.stderr)

"""Every run the window sees, kept: written to the history as it goes, never lost when it cannot be.

The window hands the keeper each run's events and its end.  A run's row is
written before its first task, its finished tasks in batches (a killed app
loses at most ``HISTORY_FLUSH_SECONDS`` of them), all on the history
writer's thread.  A finished run is held until the writer says it is
written; one the history could not take is written to a run file at once
(:mod:`concgui.kept_runs`: ``unsaved-runs/`` in the data dir, else the
temporary folder), offered for saving, and named by the file it is in.

When the history cannot be used at all (read-only, locked by another
program, a full disk), the session writes to a temporary history that
starts as a read-only copy of the past runs, and every run it makes is
also written to a run file in the folder its notice names.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from ..engine import RunResult, TaskRecord
from ..engine.events import TaskFinished
from ..engine.live import RunState
from ..engine.present import count, plural
from ..history import FILE_NAME, HistoryError, HistoryStore, default_path
from ..kept_runs import UNSAVED_FOLDER, keep, usable_folder
from .history_writer import HistoryWriter

__all__ = ["UNSAVED_FOLDER", "RunKeeper", "SessionHistory", "open_history"]

HISTORY_FLUSH_SECONDS = 0.25  # a killed app loses at most this much of a run's finished tasks
#: seconds the window's own history connection waits for another writer: it must never freeze the window
GUI_BUSY_TIMEOUT = 0.25
#: the largest history copied so its past runs show when it cannot be written (a copy of 30 MB takes 0.05 s)
PAST_COPY_LIMIT = 512 * 2**20
log = logging.getLogger("concgui")


class SessionHistory(HistoryStore):
    """A temporary history standing in for ``original``, which cannot be used this session.

    Runs up to ``past_through`` are a copy of the original's, shown read-only: deleting one is
    refused, since the original would keep it.  Every run the session makes is also kept as a
    run file in ``keep_folder`` (see :class:`RunKeeper`).
    """

    def __init__(self, path: Path, original: Path, keep_folder: Path | None) -> None:
        super().__init__(path, busy_timeout=GUI_BUSY_TIMEOUT)
        self.original = original
        self.keep_folder = keep_folder
        self.past_through = 0 if self.notice else (self._conn.execute("SELECT MAX(id) FROM runs").fetchone()[0] or 0)

    def delete(self, run_id: int) -> None:
        if run_id <= self.past_through:
            raise HistoryError(f"run {run_id} is in the run history {self.original}, which this session cannot "
                               "change: past runs are shown from a read-only copy")
        super().delete(run_id)


def open_history(path: str | None) -> tuple[HistoryStore, str | None]:
    """The window's connection to the run history, or a stand-in for this session when it cannot be used; and why."""
    try:
        return HistoryStore(path, busy_timeout=GUI_BUSY_TIMEOUT), None
    except HistoryError as exc:
        reason = str(exc)
    log.warning("history unusable: %s", reason)
    original = Path(path) if path is not None else default_path()
    folder = usable_folder()
    try:
        temporary = Path(tempfile.mkdtemp(prefix="concgui-history-")) / FILE_NAME
        why_not = _copy_past_runs(original, temporary)
        store: HistoryStore = SessionHistory(temporary, original, folder)
    except (OSError, HistoryError):
        store = HistoryStore(":memory:")
        return store, (f"The run history cannot be used: {reason}. This session's runs stay in memory; "
                       + _kept_sentence(folder))
    if store.notice:  # the copy is damaged: set aside in the temporary folder, nothing to say of the original
        store.notice, why_not = None, "a copy of it could not be read"
    if store.past_through:
        n = len(store.list_runs())
        shown = f"Its {count(n, 'past run')} {plural(n, 'is', 'are')} shown from a read-only copy. "
    elif why_not:
        shown = f"Its past runs cannot be shown ({why_not}). "
    else:
        shown = ""
    return store, (f"The run history cannot be used: {reason}. {shown}This session's runs go to a temporary "
                   f"history ({temporary}); " + _kept_sentence(folder))


def _kept_sentence(folder: Path | None) -> str:
    if folder is None:
        return ("no folder takes run files either (the data and temporary folders are full or read-only): save "
                "the runs you want to keep as JSON (File ▸ Save run as JSON).")
    return f"each is also written, as it ends, to a run file in {folder}, which File ▸ Open opens."


def _copy_past_runs(original: Path, target: Path) -> str | None:
    """Copy the history ``original`` into ``target`` through a read-only connection (SQLite's backup), so
    its runs can be shown; None, or why not."""
    try:
        size = original.stat().st_size
    except OSError as exc:
        return None if isinstance(exc, FileNotFoundError) else str(exc.strerror or exc)
    if size > PAST_COPY_LIMIT or size > shutil.disk_usage(target.parent).free // 2:
        return f"at {size / 2**20:,.0f} MB it is too big to copy"
    why = ""
    # read-only, with its locks; then as a file no one writes (a lock held for good, a full disk's empty -shm)
    for query in ("mode=ro", "mode=ro&immutable=1"):
        deadline = time.monotonic() + GUI_BUSY_TIMEOUT

        def give_up_when_late(status: int, _remaining: int, _pages: int, deadline: float = deadline) -> None:
            # sqlite3's backup retries a locked file for ever: this ends it
            if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and time.monotonic() > deadline:
                raise TimeoutError(f"it stayed locked for {GUI_BUSY_TIMEOUT:g} s")

        try:
            source = sqlite3.connect(f"{original.absolute().as_uri()}?{query}", uri=True, timeout=GUI_BUSY_TIMEOUT)
            try:
                copy = sqlite3.connect(target)
                try:
                    source.backup(copy, progress=give_up_when_late, sleep=0.02)
                finally:
                    copy.close()
            finally:
                source.close()
            return None
        except (sqlite3.Error, TimeoutError) as exc:
            why = str(exc)
            target.unlink(missing_ok=True)
    return f"it cannot be read: {why}"


class _NoWriter:
    """Stands in for the history writer when the history lives in memory: every run is kept in a file."""

    def __init__(self) -> None:
        self.outcomes: deque = deque()

    def begin(self, *_args) -> None:
        pass

    def add(self, *_args) -> None:
        pass

    def finish(self, token: int, result: RunResult) -> None:
        try:
            path, tried = keep(result)
            self.outcomes.append(("kept", token, (path, "; ".join(tried))))
        except OSError as exc:
            self.outcomes.append(("kept", token, (None, str(exc))))
        self.outcomes.append(("unsaved", token, "the run history is not available in this session"))

    def close(self, timeout: float = 0.0) -> bool:
        return True


@dataclass
class Outcomes:
    """What the history writer reported since the last look."""

    saved: bool = False  # a run was written: the history list is out of date
    unsaved: list[tuple[RunResult, str]] = field(default_factory=list)  # runs it could not take, and why
    errors: list[str] = field(default_factory=list)  # other writes that failed
    #: sentences saying a run went to a file elsewhere than the folder the history's notice named
    kept_elsewhere: list[str] = field(default_factory=list)


class RunKeeper:
    """Queues the current run for the history and holds every finished run until it is safe."""

    def __init__(self, store: HistoryStore, host_idle: threading.Event | None = None) -> None:
        # writes go to the writer's own connection and thread, which may wait for a lock; the window's
        # connection (``store``) only reads
        in_memory = str(store.path) == ":memory:"
        #: the folder a stand-in history's notice named for this session's run files, else None
        self.keep_folder = store.keep_folder if isinstance(store, SessionHistory) else None
        self.writer = _NoWriter() if in_memory else HistoryWriter(store.path, host_idle, self.keep_folder)
        #: finished runs the history could not take: offered for saving, kept in files
        self.unsaved_results: list[RunResult] = []
        self.started_at = 0.0  # time.time() when the current run's first events came
        self._finishing: dict[int, RunResult] = {}  # token -> run queued for the history, not yet written
        self._kept: dict[int, tuple[Path | None, str]] = {}  # token -> its run file (or None) and the why
        self._files: dict[int, Path] = {}  # id() of an unsaved result -> the run file it was written to
        self._token: int | None = None  # the current run's, once its row is queued
        self._tokens = 0
        self._pending: list[TaskRecord] = []  # finished tasks not yet queued
        self._last_flush = 0.0

    def on_events(self, state: RunState, events: list) -> None:
        """A batch of the current run's events: its row is queued before its first task."""
        if self._token is None and state.spec:
            self._tokens += 1
            self._token = self._tokens
            self.started_at = time.time()
            self.writer.begin(self._token, state.spec, state.environment, self.started_at,
                              os.getpid())  # the recording process: a second window lists the run as running
        self._pending += [e.record for e in events if type(e) is TaskFinished]

    def flush(self, force: bool = False) -> None:
        """Queue finished tasks in batches, so a crash loses at most the last quarter second."""
        now = time.monotonic()
        if self._token is None or not self._pending or (
                not force and now - self._last_flush < HISTORY_FLUSH_SECONDS):
            return
        batch, self._pending, self._last_flush = self._pending, [], now
        self.writer.add(self._token, batch)

    def end(self, result: RunResult | None) -> None:
        """The current run ended with ``result`` (None: it failed before it had anything to keep)."""
        self.flush(force=True)
        token, self._token = self._token, None
        if result is None:
            return
        if token is None:  # it ended before its first events: saved whole
            self._tokens += 1
            token = self._tokens
        self._finishing[token] = result
        self.writer.finish(token, result)

    def take_outcomes(self) -> Outcomes:
        """The writer's reports since the last call; a run it could not write joins ``unsaved_results``."""
        out = Outcomes()
        while self.writer.outcomes:
            kind, token, detail = self.writer.outcomes.popleft()
            if kind == "kept":
                self._kept[token] = detail
            elif kind == "saved":
                self._finishing.pop(token, None)
                out.saved = True
                if token in self._kept:  # a stand-in history's run file
                    path, why = self._kept.pop(token)
                    if path is None:
                        out.kept_elsewhere.append(f"This run is only in the temporary history: it could not be "
                                                  f"written to a run file ({why}).")
                    elif path.parent != self.keep_folder:
                        out.kept_elsewhere.append(f"This run was written to {path}, not to {self.keep_folder}, "
                                                  f"which could not take it: {why}.")
            elif kind == "unsaved":
                result = self._finishing.pop(token, None)
                path, why = self._kept.pop(token, (None, ""))
                if result is not None:
                    self.unsaved_results.append(result)
                    if path is not None:
                        self._files[id(result)] = path
                    log.warning("a finished run was not written to the history: %s; kept in %s", detail,
                                path or f"no file ({why})")
                    out.unsaved.append((result, detail))
            else:
                out.errors.append(detail)
        return out

    def kept_at(self, result: RunResult) -> Path | None:
        """The run file an unsaved run was written to, or None (no folder took it)."""
        return self._files.get(id(result))

    def saved_elsewhere(self, result: RunResult) -> None:
        """``result`` was saved where the person chose: it is no longer unsaved, and its kept copy goes."""
        if result in self.unsaved_results:
            self.unsaved_results.remove(result)
        path = self._files.pop(id(result), None)
        if path is not None:
            path.unlink(missing_ok=True)

    def close(self, timeout: float = 5.0) -> list[Path]:
        """Write what is queued (within ``timeout``: a stuck disk must not keep the app from closing), then
        write every run the history did not take and no file holds yet; returns the files of every such run."""
        self.flush(force=True)
        self.writer.close(timeout)
        self.take_outcomes()
        files = [self._files[id(r)] for r in self.unsaved_results if id(r) in self._files]
        for result in [r for r in self.unsaved_results if id(r) not in self._files] + list(self._finishing.values()):
            try:
                path, _tried = keep(result, self.keep_folder)
            except OSError as exc:
                log.error("could not keep a run the history could not take: %s", exc)
                print(f"concgui: a run the history could not take is lost: {exc}", flush=True)
                continue
            files.append(path)
            log.warning("a run the history could not take was written to %s", path)
            print(f"concgui: a run the history could not take was written to {path}", flush=True)
        self.unsaved_results, self._finishing, self._files = [], {}, {}
        return files

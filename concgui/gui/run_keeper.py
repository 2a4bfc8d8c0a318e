"""Every run the window sees, kept: written to the history as it goes, never lost when it cannot be.

The window hands the keeper each run's events and its end.  A run's row is
written before its first task, its finished tasks in batches (a killed app
loses at most ``HISTORY_FLUSH_SECONDS`` of them), all on the history
writer's thread.  A finished run is held until the writer says it is
written; one the history could not take is kept, offered for saving, and
written to a JSON file in the user data dir when the window closes.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from ..engine import RunResult, TaskRecord
from ..engine.events import TaskFinished
from ..engine.exports import save_result
from ..engine.live import RunState
from ..engine.paths import user_data_dir
from ..history_store import FILE_NAME, HistoryError, HistoryStore
from .history_writer import HistoryWriter

HISTORY_FLUSH_SECONDS = 0.25  # a killed app loses at most this much of a run's finished tasks
#: seconds the window's own history connection waits for another writer: it must never freeze the window
GUI_BUSY_TIMEOUT = 0.25
UNSAVED_FOLDER = "unsaved-runs"  # under the data dir: finished runs the history could not take, at close
log = logging.getLogger("concgui")


def open_history(path: str | None) -> tuple[HistoryStore, str | None]:
    """The window's connection to the run history, or a temporary one when it cannot be used; and why."""
    try:
        return HistoryStore(path, busy_timeout=GUI_BUSY_TIMEOUT), None
    except HistoryError as exc:
        reason = str(exc)
    log.warning("history unusable: %s", reason)
    try:
        temporary = Path(tempfile.mkdtemp(prefix="concgui-history-")) / FILE_NAME
        store = HistoryStore(temporary, busy_timeout=GUI_BUSY_TIMEOUT)
        where = f"a temporary history ({temporary}), which is not kept"
    except (OSError, HistoryError):
        store, where = HistoryStore(":memory:"), "memory only"
    return store, (f"The run history cannot be used: {reason}. This session's runs go to {where}; "
                   "save the ones you want to keep as JSON (File ▸ Save run as JSON).")


class _NoWriter:
    """Stands in for the history writer when the history lives in memory: every run stays unsaved."""

    def __init__(self) -> None:
        self.outcomes: deque = deque()

    def begin(self, *_args) -> None:
        pass

    def add(self, *_args) -> None:
        pass

    def finish(self, token: int, _result: RunResult) -> None:
        self.outcomes.append(("unsaved", token, "the run history is not available in this session"))

    def close(self, timeout: float = 0.0) -> bool:
        return True


@dataclass
class Outcomes:
    """What the history writer reported since the last look."""

    saved: bool = False  # a run was written: the history list is out of date
    unsaved: list[tuple[RunResult, str]] = field(default_factory=list)  # runs it could not take, and why
    errors: list[str] = field(default_factory=list)  # other writes that failed


class RunKeeper:
    """Queues the current run for the history and holds every finished run until it is safe."""

    def __init__(self, store: HistoryStore, host_idle: threading.Event | None = None) -> None:
        # writes go to the writer's own connection and thread, which may wait for a lock; the window's
        # connection (``store``) only reads
        in_memory = str(store.path) == ":memory:"
        self.writer = _NoWriter() if in_memory else HistoryWriter(store.path, host_idle)
        #: finished runs the history could not take: offered for saving, written to files at close
        self.unsaved_results: list[RunResult] = []
        self.started_at = 0.0  # time.time() when the current run's first events came
        self._finishing: dict[int, RunResult] = {}  # token -> run queued for the history, not yet written
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
                              state.environment.get("pid", 0))
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
            if kind == "saved":
                self._finishing.pop(token, None)
                out.saved = True
            elif kind == "unsaved":
                result = self._finishing.pop(token, None)
                if result is not None:
                    self.unsaved_results.append(result)
                    log.warning("a finished run was not written to the history: %s", detail)
                    out.unsaved.append((result, detail))
            else:
                out.errors.append(detail)
        return out

    def saved_elsewhere(self, result: RunResult) -> None:
        """``result`` was saved to a file: it is no longer unsaved."""
        if result in self.unsaved_results:
            self.unsaved_results.remove(result)

    def close(self, timeout: float = 5.0) -> list[Path]:
        """Write what is queued (within ``timeout``: a stuck disk must not keep the app from closing), then
        write every run the history did not take to a JSON file; returns those files."""
        self.flush(force=True)
        self.writer.close(timeout)
        self.take_outcomes()
        runs = self.unsaved_results + list(self._finishing.values())
        written: list[Path] = []
        for n, result in enumerate(runs):
            name = f"run-{time.strftime('%Y%m%d-%H%M%S', time.localtime(result.started_at))}-{n + 1}.json"
            for folder in (user_data_dir() / UNSAVED_FOLDER, Path(tempfile.gettempdir()) / "concgui-unsaved-runs"):
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                    save_result(folder / name, result)
                except OSError as exc:
                    log.error("could not keep an unsaved run in %s: %s", folder, exc)
                    continue
                written.append(folder / name)
                log.warning("a run the history could not take was written to %s", folder / name)
                print(f"concgui: a run the history could not take was written to {folder / name}", flush=True)
                break
        self.unsaved_results, self._finishing = [], {}
        return written

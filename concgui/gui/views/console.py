"""The console pane: the seed notebook's printed lines, live, for any run.

``Task 0 started`` / ``Task 0 finished`` per task, then ``All tasks done`` and
``Time to finish the tasks: 2.002 seconds``, exactly as the notebook prints
them.  Events arrive in batches and each batch becomes one append.  Only
the last few thousand lines are kept, and a batch adds at most a few hundred
(saying how many it skipped), so 100,000 tasks do not stall the window.
"""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from ...engine.events import Event, RunFinished, RunStarted, StartupFinished, TaskFinished, TaskStarted
from ...engine.records import CANCELLED, ERROR, RunResult, TaskRecord

MAX_LINES = 5000
#: lines one batch may add; beyond this (over ~15,000 lines a second at 30 batches a second)
#: nobody can read them, and at ~8 µs a line Qt's layout would cost the window its smoothness
MAX_BATCH_LINES = 500


def finished_line(record: TaskRecord) -> str:
    """How the notebook would report a task's end."""
    if record.status == ERROR:
        err = record.error or {}
        lines = (err.get("message") or "").strip().splitlines()
        kind = err.get("type") or "Error"
        return f"Task {record.index} error: {kind}: {lines[0]}" if lines else f"Task {record.index} error: {kind}"
    if record.status == CANCELLED:
        return f"Task {record.index} cancelled"
    return f"Task {record.index} finished"


def run_end_lines(result: RunResult) -> list[str]:
    """The closing lines: 'All tasks done' and the total time (or why the run stopped)."""
    if result.status == "ok":
        head = "All tasks done"
    elif result.status == "cancelled":
        head = "Run cancelled"
    else:
        head = f"Run failed: {result.error}" if result.error else "Run failed"
    return [head, f"Time to finish the tasks: {result.wall_seconds:.3f} seconds"]


class ConsolePane(QPlainTextEdit):
    """Read-only, monospace text that echoes a run as the seed notebook printed it."""

    def __init__(self, parent: QWidget | None = None, max_lines: int = MAX_LINES,
                 max_batch_lines: int = MAX_BATCH_LINES) -> None:
        super().__init__(parent)
        self.setObjectName("console")
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)  # an undo stack of every append would only grow
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setMaximumBlockCount(max_lines)
        self.setPlaceholderText("Task lines appear here while a run is going, as the seed notebook prints them.")
        self._max_batch = max(2, min(max_lines, max_batch_lines))
        self._running: set[int] = set()  # tasks whose 'started' line is out and 'finished' is not

    def on_events(self, events: list[Event]) -> None:
        """Append the lines for one batch of events with a single append."""
        lines: list[str] = []
        for e in events:
            if isinstance(e, TaskStarted):
                if e.index not in self._running:
                    self._running.add(e.index)
                    lines.append(f"Task {e.index} started")
            elif isinstance(e, TaskFinished):
                r = e.record
                if r.index in self._running:
                    self._running.discard(r.index)
                elif r.start is not None:  # too short to be seen running: its start is still news
                    lines.append(f"Task {r.index} started")
                lines.append(finished_line(r))
            elif isinstance(e, RunStarted):
                self._running.clear()
                spec = e.spec
                lines.append(f"— {spec.get('workload')} × {e.tasks} on {spec.get('executor')}, "
                             f"{e.workers} worker{'s' if e.workers != 1 else ''} —")
            elif isinstance(e, StartupFinished):
                if e.t >= 0.01:
                    lines.append(f"(start-up took {e.t:.3f} seconds)")
            elif isinstance(e, RunFinished):
                self._running.clear()
                lines.extend(run_end_lines(e.result))
        self._append(lines)

    def write(self, text: str) -> None:
        """A status line of the window's own (e.g. 'Stopping…')."""
        self._append([text])

    def clear(self) -> None:
        super().clear()
        self._running.clear()

    def show_result(self, result: RunResult) -> None:
        """The lines a finished (e.g. reopened) run would have printed, in start order."""
        self.clear()
        events: list[Event] = [RunStarted(result.spec, result.environment, len(result.tasks), result.workers)]
        if result.startup_seconds:
            events.append(StartupFinished(result.startup_seconds))
        # a start line for every task, in time order, then its end at its end time
        edges = []
        for t in result.tasks:
            if t.start is not None:
                edges.append((t.start, 0, t))
            edges.append((t.end if t.end is not None else float("inf"), 1, t))
        edges.sort(key=lambda e: (e[0], e[1], e[2].index))
        for _when, kind, t in edges:
            if kind == 0:
                events.append(TaskStarted(t.index, t.worker, t.pid, t.thread_id, t.start))
            else:
                events.append(TaskFinished(t))
        events.append(RunFinished(result))
        self.on_events(events)

    def _append(self, lines: list[str]) -> None:
        if not lines:
            return
        if len(lines) > self._max_batch:  # keep the newest: the end of a run is what matters
            skipped = len(lines) - self._max_batch + 1
            lines = [f"… {skipped:,} lines not shown …"] + lines[-(self._max_batch - 1):]
        self.appendPlainText("\n".join(lines))

"""The console pane: the seed notebook's printed lines, live, for any run.

``Task 0 started`` / ``Task 0 finished`` per task, then ``All tasks done`` and
``Time to finish the tasks: 2.002 seconds``, exactly as the notebook prints
them, and then why the run took that long (:func:`~concgui.engine.why.explain`).
Events arrive in batches and each batch becomes one append.  Only
the last few thousand lines are kept, and a batch adds at most a few hundred
(saying how many it skipped), so 100,000 tasks do not stall the window.
"""

from __future__ import annotations

import textwrap

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QTextOption
from PySide6.QtWidgets import QPlainTextEdit, QStyle, QWidget

from ...engine.echo import EchoLines
from ...engine.events import Event, RunFinished, RunStarted, StartupFinished, TaskFinished, TaskStarted
from ...engine.present import count
from ...engine.records import RunResult
from ...engine.why import explain

MAX_LINES = 5000
#: lines one batch may add; beyond this (6,000 lines a second at 30 batches a second) nobody can
#: read them, and Qt's layout of every line would cost the window its smoothness
MAX_BATCH_LINES = 200
#: the why after a run is wrapped at this many characters, its lines after the first indented; the pane
#: wraps what is still wider than itself
WHY_WIDTH = 100


def why_lines(result: RunResult, width: int = WHY_WIDTH) -> list[str]:
    """"Why: ..." after a run: each line of :func:`explain` (a counter's count, the explanation, its notes)
    wrapped to ``width`` characters (at most :data:`WHY_WIDTH`), every line after the first indented."""
    out: list[str] = []
    for k, part in enumerate(explain(result).split("\n")):
        out += textwrap.wrap(part if k else f"Why: {part}", min(width, WHY_WIDTH), initial_indent="     " if k else "",
                             subsequent_indent="     ", break_on_hyphens=False)  # "process-pool" is one name
    return out


class ConsolePane(QPlainTextEdit):
    """Read-only, monospace text that echoes a run as the seed notebook printed it."""

    def __init__(self, parent: QWidget | None = None, max_lines: int = MAX_LINES,
                 max_batch_lines: int = MAX_BATCH_LINES) -> None:
        super().__init__(parent)
        self.setObjectName("console")
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)  # an undo stack of every append would only grow
        # a line wider than the pane wraps: unwrapped, a Compare's long sentence scrolled the pane to its end
        # and left the start of every other line off-screen (task lines are short: still one a line)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)  # a long path breaks too
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setMaximumBlockCount(max_lines)
        self.setPlaceholderText("Task lines appear here while a run is going, as the seed notebook prints them.")
        self._max_batch = max(2, min(max_lines, max_batch_lines))
        self._echo = EchoLines()

    def on_events(self, events: list[Event]) -> None:
        """Append the lines for one batch of events with a single append.

        A flood (thousands of tasks in one batch) is not turned into thousands of lines only to
        drop most of them: task events beyond what one append shows are counted, not formatted.
        """
        keep = max(1, (self._max_batch - 8) // 2)  # a task event makes up to two lines: they all fit
        if len(events) <= keep:
            self._append(self._echo.lines(events))
        else:
            head, tail = events[:-keep], events[-keep:]
            kept = [e for e in head if not isinstance(e, (TaskStarted, TaskFinished))]  # run start, start-up...
            skipped = f"… {count(len(head) - len(kept), 'task event')} not shown …"
            self._append([*self._echo.lines(kept), skipped, *self._echo.lines(tail)])
        for e in events:
            if isinstance(e, RunFinished):
                self._append(why_lines(e.result, self.columns()))

    def columns(self) -> int:
        """How many characters of the pane's font fit one line of it (a 100-character why line in a
        70-character pane would wrap again into ragged pieces), never under 40.

        A Console tab never shown yet has no width of its own: it will have its tab page's, the width of
        the first widget around it that was laid out; :data:`WHY_WIDTH` when none was.
        """
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        if self.testAttribute(Qt.WidgetAttribute.WA_Resized):
            # the scroll bar's room kept: the lines written may be what makes it appear and narrow the pane
            room = self.viewport().width() - (0 if self.verticalScrollBar().isVisible() else bar)
        else:
            around = self.parentWidget()
            while around is not None and not around.testAttribute(Qt.WidgetAttribute.WA_Resized):
                around = around.parentWidget()
            if around is None:
                return WHY_WIDTH
            room = around.width() - 2 * self.frameWidth() - bar
        room -= 2 * self.document().documentMargin() + 2
        return max(40, int(room // max(1.0, self.fontMetrics().horizontalAdvance("m"))))

    def write(self, text: str) -> None:
        """A status line of the window's own (e.g. 'Stopping…')."""
        self._append([text])

    def clear(self) -> None:
        super().clear()
        self._echo.reset()

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
            lines = [f"… {count(skipped, 'line')} not shown …"] + lines[-(self._max_batch - 1):]
        self.appendPlainText("\n".join(lines))

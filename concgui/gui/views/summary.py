"""The numbers a run is judged by, each with its unit and a definition on hover.

concurrency = sum of task times / wall: tasks in flight on average.
parallelism = CPU seconds / wall: cores busy on average.
The gap between the two is the seed notebook's lesson, so both stand side
by side, with one or two plain sentences (:func:`explain`) saying why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from ...engine.live import RunState
from ...engine.records import RunResult
from ...engine.summary import explain, summarize

PLACEHOLDER = "Run an experiment (Ctrl+R) or open one from the history to see its numbers here."


def format_seconds(value: float | None) -> str:
    """Seconds in the unit that reads best: 2.002 s, 13.4 ms, 9.1 µs."""
    if value is None:
        return "—"
    if value == 0:
        return "0 s"
    if abs(value) >= 1:
        return f"{value:.3f} s"
    if abs(value) >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.1f} µs"


def _num(fmt: str) -> Callable[[Any], str]:
    return lambda v: "—" if v is None else fmt.format(v)


# key in summarize()'s dict, label, how to show it, what it means
ROWS: tuple[tuple[str, str, Callable[[Any], str], str], ...] = (
    ("wall_seconds", "Wall time", format_seconds,
     "From the moment the workers were ready to the last task's end, as a clock on the wall sees it "
     "(a process pool's start-up is not included; see Start-up)."),
    ("task_seconds", "Sum of task times", format_seconds,
     "Every task's own duration, added up: what one worker alone would need."),
    ("concurrency", "Concurrency", _num("{:.2f} in flight"),
     "Sum of task times / wall time: how many tasks were in flight (started, not finished) on average."),
    ("parallelism", "Parallelism", _num("{:.2f} cores"),
     "CPU seconds of the tasks / wall time: how many cores were busy computing on average. "
     "Below concurrency means tasks waited (for I/O, or for the GIL)."),
    ("speedup", "Speedup", _num("{:.2f}×"),
     "Baseline wall time / this wall time. Compare runs the baseline (sequential) first."),
    ("efficiency", "Efficiency", lambda v: "—" if v is None else f"{v * 100:.0f} %",
     "Speedup / workers (counting no more workers than tasks): 100 % means every worker was as "
     "useful as the baseline's one."),
    ("peak_in_flight", "Peak in flight", _num("{:,} tasks"),
     "The most tasks that were running at the same moment."),
    ("mean_cpu_percent", "Mean CPU", _num("{:.0f} %"),
     "Mean use of all cores during the run, from psutil samples (the whole machine)."),
    ("startup_seconds", "Start-up", format_seconds,
     "Time spent starting a process pool's workers before the work began (threads and one-per-task "
     "processes start inside the wall time)."),
    ("dispatch_overhead_seconds", "Overhead per task", format_seconds,
     "(Wall − task time / workers) / tasks: an estimate of what handing out one task cost beyond its "
     "work (0 when tasks themselves include the waiting, e.g. for the GIL)."),
    ("errors", "Errors", _num("{:,}"), "Tasks that raised an exception."),
    ("cancelled", "Cancelled", _num("{:,}"), "Tasks stopped or never started because the run was stopped."),
)


class SummaryPanel(QWidget):
    """A run's numbers in a compact grid, and the plain-words explanation below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summaryPanel")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        self._title = QLabel(self)
        self._title.setObjectName("summary_title")
        font = self._title.font()
        font.setBold(True)
        self._title.setFont(font)
        self._title.setWordWrap(True)
        outer.addWidget(self._title)

        self._grid_frame = QFrame(self)
        grid = QGridLayout(self._grid_frame)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        self._values: dict[str, QLabel] = {}
        half = (len(ROWS) + 1) // 2
        for i, (key, label, _fmt, tip) in enumerate(ROWS):
            row, col = i % half, (i // half) * 2
            name = QLabel(label + ":", self._grid_frame)
            name.setToolTip(tip)
            value = QLabel("—", self._grid_frame)
            value.setObjectName(f"summary_{key}")
            value.setToolTip(tip)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(name, row, col)
            grid.addWidget(value, row, col + 1)
            self._values[key] = value
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        outer.addWidget(self._grid_frame)

        self._explanation = QLabel(self)
        self._explanation.setObjectName("summary_explanation")
        self._explanation.setWordWrap(True)
        self._explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self._explanation)
        outer.addStretch(1)
        self.set_result(None)

    def set_result(self, result: RunResult | None) -> None:
        """Show a finished run's numbers, or the placeholder for None."""
        if result is None:
            self._title.setText("")
            self._grid_frame.setVisible(False)
            self._explanation.setText(PLACEHOLDER)
            return
        if not result.summary:  # a run file from elsewhere may lack it
            result.summary = summarize(result)
        s = result.summary
        spec = result.spec
        self._title.setText(f"{spec.get('workload')} × {len(result.tasks):,} on {spec.get('executor')}, "
                            f"{result.workers} worker{'s' if result.workers != 1 else ''} — {result.status}")
        for key, _label, fmt, _tip in ROWS:
            text = fmt(s.get(key))
            if key == "speedup" and s.get("speedup") is not None and s.get("baseline"):
                text += f" vs {s['baseline']}"
            self._values[key].setText(text)
        self._grid_frame.setVisible(True)
        try:
            self._explanation.setText(explain(result))
        except (KeyError, TypeError, ValueError):  # an old or partial summary: numbers only
            self._explanation.setText("")

    def set_running(self, state: RunState) -> None:
        """Progress while a run is going: tasks done, errors, estimated time left."""
        if state.finished and state.result is not None:
            self.set_result(state.result)
            return
        spec = state.spec
        self._title.setText(f"{spec.get('workload')} × {state.total:,} on {spec.get('executor')} — running")
        self._grid_frame.setVisible(False)
        eta = state.eta()
        text = f"{state.done:,} of {state.total:,} tasks done"
        if state.errors:
            text += f", {state.errors:,} error{'s' if state.errors != 1 else ''}"
        if eta is not None:
            text += f", about {format_seconds(eta)} left"
        self._explanation.setText(text + ".")

    def value_text(self, key: str) -> str:
        """The shown text of one number (for tests and the report image)."""
        return self._values[key].text()

    def explanation(self) -> str:
        return self._explanation.text()

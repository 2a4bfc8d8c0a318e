"""The numbers a run is judged by, each with its unit and a definition on hover.

concurrency = sum of task times / wall: tasks in flight on average.
parallelism = CPU seconds / wall: cores busy on average.
The gap between the two is the seed notebook's lesson, so both stand side
by side, with two or three plain sentences built from the run's numbers
(:func:`~concgui.engine.why.explain`) saying why, and after a Compare the
sentences saying which executor won and why (:func:`~concgui.engine.why_compare.compare_why`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from ...engine.live import RunState
from ...engine.metrics import METRICS
from ...engine.present import count, seconds
from ...engine.records import RunResult
from ...engine.spec import executor_label
from ...engine.summary import busy_machine_sentence, summarize
from ...engine.why import counter_sentence, explain
from ...engine.why_compare import compare_why

PLACEHOLDER = "Run an experiment (Ctrl+R) or open one from the history to see its numbers here."


#: kept for callers that import it from here
ROWS = METRICS


class SummaryPanel(QWidget):
    """A run's numbers in a compact grid, and the plain-words explanation below."""

    #: the person asked for the concepts page, at this section ("top", "speedup", ...)
    help_requested = Signal(str)

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
        half = (len(METRICS) + 1) // 2
        for i, m in enumerate(METRICS):
            row, col = i % half, (i // half) * 2
            name = QLabel(m.label + ":", self._grid_frame)
            name.setToolTip(m.help)
            value = QLabel("—", self._grid_frame)
            value.setObjectName(f"summary_{m.key}")
            value.setToolTip(m.help)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(name, row, col)
            grid.addWidget(value, row, col + 1)
            self._values[m.key] = value
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        outer.addWidget(self._grid_frame)

        #: one line for a counter run: the updates its threads lost, or its processes' counts that never meet
        self._counter = QLabel(self)
        self._counter.setObjectName("summary_counter")
        self._counter.setWordWrap(True)
        self._counter.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._counter.setToolTip("The counter workload: every task adds 1 to its process's counter many times. "
                                 "Threads share one counter; each process has its own.")
        self._counter.setVisible(False)
        outer.addWidget(self._counter)

        self._explanation = QLabel(self)
        self._explanation.setObjectName("summary_explanation")
        self._explanation.setWordWrap(True)
        self._explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self._explanation)
        #: one line, apart from the explanation, when other programs took cores during the run
        self._busy = QLabel(self)
        self._busy.setObjectName("summary_busy")
        self._busy.setWordWrap(True)
        self._busy.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._busy.setToolTip("What other programs and the hypervisor (steal time) took from this machine's "
                              "cores while the run worked: the run's own processes are not counted.")
        self._busy.setVisible(False)
        outer.addWidget(self._busy)
        #: after a Compare: which executor won and why
        self._comparison = QLabel(self)
        self._comparison.setObjectName("summary_comparison")
        self._comparison.setWordWrap(True)
        self._comparison.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._comparison.setVisible(False)
        outer.addWidget(self._comparison)
        #: to the Help page that explains every number above, in full words
        self.help_link = QLabel('<a href="top">What these numbers mean</a> (Help ▸ Concurrency and parallelism, F1)',
                                self)
        self.help_link.setObjectName("summary_help_link")
        self.help_link.linkActivated.connect(self.help_requested)
        outer.addWidget(self.help_link)
        outer.addStretch(1)
        self.set_result(None)

    def set_result(self, result: RunResult | None) -> None:
        """Show a finished run's numbers, or the placeholder for None (either ends a Compare's text)."""
        self._busy.setText("")
        self._busy.setVisible(False)
        self._counter.setText("")
        self._counter.setVisible(False)
        self.set_comparison([])
        if result is None:
            self._title.setText("")
            self._grid_frame.setVisible(False)
            self._explanation.setText(PLACEHOLDER)
            return
        if not result.summary:  # a run file from elsewhere may lack it
            result.summary = summarize(result)
        s = result.summary
        spec = result.spec
        self._title.setText(f"{spec.get('workload')} × {len(result.tasks):,} on {executor_label(spec)}, "
                            f"{count(result.workers, 'worker')} — {result.status}")
        for m in METRICS:
            self._values[m.key].setText(m.text(s))
        self._grid_frame.setVisible(True)
        try:
            self._explanation.setText(explain(result, load_line=False, counter_line=False))
            counted = counter_sentence(result) if result.status == "ok" else ""
        except (KeyError, TypeError, ValueError):  # an old or partial summary: numbers only
            self._explanation.setText("")
            counted = ""
        self._counter.setText(counted)
        self._counter.setVisible(bool(counted))
        busy = busy_machine_sentence(result)
        self._busy.setText(f"⚠ {busy}" if busy else "")
        self._busy.setVisible(bool(busy))

    def set_comparison(self, results: list[RunResult]) -> None:
        """Below the last run's numbers, say which executor of a Compare (``results``, baseline first) won
        and why; fewer than two results clear it."""
        text = compare_why(results)
        self._comparison.setText(f"Compare: {text}" if text else "")
        self._comparison.setVisible(bool(text))

    def set_running(self, state: RunState) -> None:
        """Progress while a run is going: tasks done, errors, estimated time left."""
        if state.finished and state.result is not None:
            self.set_result(state.result)
            return
        spec = state.spec
        self._title.setText(f"{spec.get('workload')} × {state.total:,} on {executor_label(spec)} — running")
        self._grid_frame.setVisible(False)
        self._busy.setText("")
        self._busy.setVisible(False)
        self._counter.setText("")
        self._counter.setVisible(False)
        self.set_comparison([])
        eta = state.eta()
        text = f"{state.done:,} of {state.total:,} tasks done"
        if state.errors:
            text += f", {count(state.errors, 'error')}"
        if eta is not None:
            text += f", about {seconds(eta, 1)} left"
        self._explanation.setText(text + ".")

    def value_text(self, key: str) -> str:
        """The shown text of one number (for tests and the report image)."""
        return self._values[key].text()

    def explanation(self) -> str:
        return self._explanation.text()

    def comparison_text(self) -> str:
        """The Compare's sentences ("" when the panel shows a single run)."""
        return self._comparison.text()

    def counter_text(self) -> str:
        """The counter run's line ("" for another workload)."""
        return self._counter.text()

    def busy_text(self) -> str:
        """The busy-machine line ("" when the machine was quiet enough, or for a run that did not finish)."""
        return self._busy.text()

"""The comparison: the executors to compare (the experiment dock's checkboxes) and the Compare tab.

The tab shows the runs two ways: "Timelines", one timeline per executor on one time axis
(:mod:`.compare_stack`: the picture of what ran when), and "Wall times", the bar chart of wall
times over the table of numbers, whose columns are :data:`concgui.engine.metrics.COMPARE_COLUMNS`,
the ones ``concgui compare`` prints.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QWidget,
)

from ...engine import list_executors
from ...engine.metrics import COMPARE_COLUMNS
from ...engine.records import RunResult
from ...engine.summary import busy_machine_sentence
from .compare_chart import CompareChart
from .compare_stack import CompareStack

#: checked until the person chooses: the seed notebook's four
DEFAULT_CHECKED = ("sequential", "threads", "thread-pool", "process-pool")


class ExecutorChecks(QGroupBox):
    """A checkbox per executor (those unavailable here greyed, saying why) and the Compare button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Compare executors", parent)
        grid = QGridLayout(self)
        self.checks: dict[str, QCheckBox] = {}
        for n, row in enumerate(list_executors()):
            box = QCheckBox(row["name"])
            box.setEnabled(row["available"])
            box.setToolTip(row["description"] if row["available"] else f"Unavailable: {row['reason']}")
            box.setChecked(row["name"] in DEFAULT_CHECKED)
            self.checks[row["name"]] = box
            grid.addWidget(box, n // 2, n % 2)
        self.button = QPushButton("Compare")
        self.button.setToolTip("Run the same workload on every checked executor, one after another; "
                               "the first is the baseline")
        grid.addWidget(self.button, (len(self.checks) + 1) // 2, 0, 1, 2)

    def chosen(self) -> list[str]:
        """The executors checked (and available), in the list's order: the first is the baseline."""
        return [n for n, box in self.checks.items() if box.isChecked() and box.isEnabled()]

    def choose(self, names: set[str]) -> None:
        for n, box in self.checks.items():
            box.setChecked(n in names)


class CompareView(QTabWidget):
    """The Compare tab: ``stack`` (a timeline per executor) in one tab; ``chart`` (wall time per executor)
    above ``table`` (a row per run) in the other."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDocumentMode(True)
        self.stack = CompareStack()
        self.chart = CompareChart()
        self.table = QTableWidget(0, len(COMPARE_COLUMNS))
        self.table.setHorizontalHeaderLabels([c.label for c in COMPARE_COLUMNS])
        for i, c in enumerate(COMPARE_COLUMNS):
            self.table.horizontalHeaderItem(i).setToolTip(c.help)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.walls = QSplitter(Qt.Orientation.Vertical)
        self.walls.addWidget(self.chart)
        self.walls.addWidget(self.table)
        self.walls.setStretchFactor(0, 3)
        self.addTab(self.stack, "Timelines")
        self.setTabToolTip(0, "One timeline per executor, on one time axis: what ran when")
        self.addTab(self.walls, "Wall times")
        self.setTabToolTip(1, "Wall time per executor against its ideal, and every number in a table")

    def results(self) -> list[RunResult]:
        """The runs shown, the baseline first."""
        return self.stack.results()

    def set_results(self, results: list[RunResult]) -> None:
        """Show runs of one workload, the baseline first."""
        self.stack.set_results(results)
        self.chart.set_results(results)
        self.table.setRowCount(len(results))
        for row, r in enumerate(results):
            busy = busy_machine_sentence(r)  # the row's tooltip on a busy machine: how busy, and what it means
            for col, c in enumerate(COMPARE_COLUMNS):
                item = QTableWidgetItem(c.show(r))
                if c.numeric:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if busy:
                    item.setToolTip(f"⚠ {busy}")
                self.table.setItem(row, col, item)

"""The Console pane at the width a 1024 px window gives it: every line starts in view, long ones wrap."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from concgui.engine.events import RunStarted, TaskFinished, TaskStarted
from concgui.engine.records import OK, TaskRecord
from concgui.gui.views.console import ConsolePane

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

# as long as a Compare's sentence in the window (hundreds of characters on one line)
COMPARE = "Compare: " + "process-pool was 2.65× faster than thread-pool, its 4 processes computing at once; " * 6


def test_a_long_compare_line_wraps_and_leaves_every_line_in_view(qtbot):
    console = ConsolePane()
    qtbot.addWidget(console)
    console.resize(560, 300)  # the Results dock of a 1024 x 700 window
    console.show()
    console.on_events([RunStarted({"workload": "cpu", "executor": "threads"}, {}, 2, 2),
                       TaskStarted(0, "t", 1, 1, 0.0),
                       TaskFinished(TaskRecord(0, "t", 1, 1, 0.0, 0.0, 0.1, 0.0, OK))])
    console.write(COMPARE)
    QApplication.processEvents()
    bar = console.horizontalScrollBar()
    assert bar.value() == 0, f"scrolled {bar.value()} px right: the starts of the other lines are off-screen"
    assert bar.maximum() == 0, "a line wider than the pane: it should wrap, not scroll"
    doc = console.document()
    last = doc.findBlockByNumber(doc.blockCount() - 1)
    assert last.text() == COMPARE and last.layout().lineCount() > 3  # wrapped to the pane's width
    task = doc.findBlockByNumber(1)
    assert task.text() == "Task 0 started" and task.layout().lineCount() == 1  # short lines stay one a line
    assert console.cursorRect(console.textCursor()).left() >= 0

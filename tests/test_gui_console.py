"""The Console pane at the width a 1024 px window gives it: every line starts in view, long ones wrap."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from concgui.engine.events import RunStarted, TaskFinished, TaskStarted
from concgui.engine.records import OK, TaskRecord
from concgui.gui.views.console import WHY_WIDTH, ConsolePane

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


def test_the_why_is_wrapped_to_a_narrow_pane_so_no_line_wraps_twice(qtbot):
    from concgui.engine import ExperimentSpec, run_inline
    from concgui.engine.events import RunFinished

    console = ConsolePane()
    qtbot.addWidget(console)
    console.resize(520, 300)
    console.show()
    QApplication.processEvents()
    result = run_inline(ExperimentSpec(workload="sleep", executor="threads", tasks=3, duration=0.02,
                                       isolation="inline"))
    console.on_events([RunFinished(result)])
    doc = console.document()
    why = [doc.findBlockByNumber(i) for i in range(doc.blockCount())]
    why = why[next(i for i, b in enumerate(why) if b.text().startswith("Why: ")):]
    assert len(why) > 1
    wrapped = [b.text() for b in why if b.layout().lineCount() > 1]
    assert not wrapped, f"lines wider than the pane, wrapped again into ragged pieces: {wrapped}"
    hidden = ConsolePane()  # a Console tab never shown yet: no width to go by, the usual 100 characters
    qtbot.addWidget(hidden)
    hidden.on_events([RunFinished(result)])
    lines = hidden.toPlainText().splitlines()
    assert max(len(line) for line in lines) > 80 and all(len(line) <= WHY_WIDTH for line in lines)


def test_a_console_tab_never_shown_wraps_the_why_to_the_width_it_will_have(qtbot):
    from PySide6.QtWidgets import QTabWidget, QWidget

    from concgui.engine import ExperimentSpec, run_inline
    from concgui.engine.events import RunFinished

    tabs = QTabWidget()  # the Results dock: the run ends while another tab is in front
    qtbot.addWidget(tabs)
    tabs.addTab(QWidget(), "Compare")
    console = ConsolePane()
    tabs.addTab(console, "Console")
    tabs.resize(560, 300)
    tabs.show()
    QApplication.processEvents()
    result = run_inline(ExperimentSpec(workload="sleep", executor="threads", tasks=3, duration=0.02,
                                       isolation="inline"))
    console.on_events([RunFinished(result)])
    tabs.setCurrentWidget(console)
    QApplication.processEvents()
    doc = console.document()
    wrapped = [doc.findBlockByNumber(i).text() for i in range(doc.blockCount())
               if doc.findBlockByNumber(i).layout().lineCount() > 1]
    assert not wrapped, f"wrapped again into ragged pieces: {wrapped}"


def test_the_whys_notes_start_lines_of_their_own(qtbot):
    """A run's notes (a busy machine, calibration drift) follow its explanation, each on its own line."""
    import dataclasses

    from concgui.gui.views import help_page
    from concgui.gui.views.console import why_lines

    procs = next(r for r in help_page.recorded_runs() if r.spec["executor"] == "process-pool")
    busy = dataclasses.replace(procs, environment={**procs.environment, "other_programs_cores": 2.0,
                                                    "steal_cores": 0.0, "cpu_count": 2})
    lines = why_lines(busy, 70)
    assert lines[0].startswith("Why: ") and all(len(line) <= 70 for line in lines)
    notes = [line for line in lines if line.lstrip().startswith("Note:")]
    assert notes and notes[-1].startswith("     Note: Other programs used 2.0 cores"), lines

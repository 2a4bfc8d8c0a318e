"""The window at the sizes people have: the charts keep room to draw, and a finished run is in view."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from concgui.engine import ExperimentSpec
from concgui.gui.window_layout import WIDE

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def settle(qtbot) -> None:
    for _ in range(3):
        QApplication.processEvents()
        qtbot.wait(20)


def plot_area(chart) -> tuple[float, float]:
    rect = chart.getViewBox().sceneBoundingRect()
    return rect.width(), rect.height()


@pytest.mark.parametrize("size", [(1024, 700), (1280, 720), (1920, 1080)])
def test_charts_keep_room_and_show_the_whole_run(qtbot, window, size):
    window.resize(*size)
    settle(qtbot)
    right = size[0] >= WIDE
    area = window.dockWidgetArea(window.results_placement._dock)
    assert area == (Qt.DockWidgetArea.RightDockWidgetArea if right else Qt.DockWidgetArea.BottomDockWidgetArea)
    spec = ExperimentSpec(workload="sleep", executor="thread-pool", workers=2, tasks=4, duration=0.05)
    window.form.set_spec(spec)
    with qtbot.waitSignal(window.controller.run_finished, timeout=30_000) as blocker:
        window.run_button.click()
    settle(qtbot)
    result = blocker.args[0]
    for chart, least in ((window.timeline, (450, 130)), (window.cores, (450, 60))):
        w, h = plot_area(chart)
        assert w >= least[0] and h >= least[1], f"{type(chart).__name__} plot area {w:.0f} × {h:.0f} at {size}"
    (x0, x1), _ = window.timeline.getViewBox().viewRange()
    end = max(t.end for t in result.tasks)
    assert x0 <= 0.0 + 1e-6 and x1 >= end, f"view {x0:.3f}–{x1:.3f} s hides part of the run (ends {end:.3f} s)"


def test_a_dock_the_person_moved_stays_where_they_put_it(qtbot, window):
    dock = window.results_placement._dock
    window.resize(1920, 1080)
    settle(qtbot)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)  # as a drag would
    settle(qtbot)
    window.resize(1024, 700)
    settle(qtbot)
    assert window.dockWidgetArea(dock) == Qt.DockWidgetArea.LeftDockWidgetArea


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_every_history_column_is_in_view(qtbot, window, size):
    window.resize(*size)
    settle(qtbot)
    spec = ExperimentSpec(workload="sleep", executor="threads", tasks=2, duration=0.02)
    window.form.set_spec(spec)
    with qtbot.waitSignal(window.controller.run_finished, timeout=30_000):
        window.run_button.click()
    window.tabs.setCurrentWidget(window.history)
    settle(qtbot)
    table = window.history.table
    header = table.horizontalHeader()
    assert header.length() <= table.viewport().width(), (
        f"the columns need {header.length()} px, the table shows {table.viewport().width()} at {size}")


# --- the room a Compare takes, given back --------------------------------------------------------------------
QUICK = ExperimentSpec(workload="sleep", executor="thread-pool", workers=2, tasks=4, duration=0.02, isolation="inline")


def compare(qtbot, window) -> None:
    with qtbot.waitSignal(window.controller.sequence_finished, timeout=30_000):
        window.run_sequence([QUICK.with_(executor="sequential"), QUICK])
    settle(qtbot)


def run_once(qtbot, window) -> None:
    window.form.set_spec(QUICK)
    with qtbot.waitSignal(window.controller.run_finished, timeout=30_000):
        window.run_button.click()
    settle(qtbot)


def drag_separator(qtbot, window, dy: int) -> None:
    """Drag the line between the charts and the Results dock ``dy`` px down, as a person does."""
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    dock = window.results_placement._dock
    x, y = dock.geometry().center().x(), dock.geometry().top() - 3
    QTest.mouseMove(window, QPoint(x, y))
    QTest.mousePress(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, y))
    for step in (dy // 3, 2 * dy // 3, dy):
        QTest.mouseMove(window, QPoint(x, y + step))
        settle(qtbot)  # the window moves its separator on a timer of its own
    QTest.mouseRelease(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, y + dy))
    settle(qtbot)


@pytest.mark.parametrize("size", [(1024, 700), (1280, 720)])
def test_a_single_run_after_a_compare_gets_the_room_back(qtbot, window, size):
    window.resize(*size)
    settle(qtbot)
    dock = window.results_placement._dock
    before = dock.height()
    compare(qtbot, window)
    assert dock.height() > before + 100, "a Compare's stack of timelines gets the room"
    run_once(qtbot, window)
    assert abs(dock.height() - before) <= 4, f"dock {dock.height()} px after a single run, {before} before the Compare"
    w, h = plot_area(window.timeline)
    assert h >= 130, f"the timeline's plot is {h:.0f} px high after the Compare"
    _, h = plot_area(window.cores)
    assert h >= 60, f"the CPU chart's plot is {h:.0f} px high: its 100/75/50/25/0 ticks overlap"


def test_a_dock_the_person_sized_keeps_their_size(qtbot, window):
    window.resize(1280, 1000)
    settle(qtbot)
    dock = window.results_placement._dock
    first = dock.height()
    compare(qtbot, window)
    drag_separator(qtbot, window, 60)  # the person makes the dock 60 px shorter than the Compare made it
    chosen = dock.height()
    assert first + 100 < chosen
    run_once(qtbot, window)
    assert dock.height() == chosen, "a run took back the size the person chose"
    drag_separator(qtbot, window, -120)  # taller than a Compare's share
    taller = dock.height()
    compare(qtbot, window)
    assert dock.height() == taller, "a Compare shrank the dock the person had made taller"
    run_once(qtbot, window)
    assert dock.height() == taller

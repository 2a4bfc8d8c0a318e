"""The Scaling tab at the sizes laptops give the window: both charts keep a plot to read, the table its words."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QStyle

from concgui.engine.sweep import SweepPoint, SweepResult, save_sweep_json
from concgui.gui.views.scaling import MIN_PLOT_HEIGHT

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support (propagateSizeHints|raise)")


def settle(qtbot) -> None:
    for _ in range(4):
        QApplication.processEvents()
        qtbot.wait(20)


def study() -> SweepResult:
    """thread-pool no faster (slower at 2 workers), process-pool scaling to 2 cores: 1, 2, 4 workers, 2 repeats."""
    sweep = SweepResult({"workload": "cpu", "tasks": 4, "duration": 0.25}, ["thread-pool", "process-pool"],
                        [1, 2, 4], 2, cores=2)
    for r, k in enumerate((1.0, 1.05)):
        for n, pool, threads in ((1, 1.0, 1.5), (2, 1.6, 1.68), (4, 1.7, 1.45)):
            sweep.points.append(SweepPoint("thread-pool", n, r, threads * k, 0.0, "ok"))
            sweep.points.append(SweepPoint("process-pool", n, r, 1.5 / pool * k, 0.2, "ok"))
    return sweep


def charts_in_view(qtbot, view) -> list:
    """Each chart as the person sees it: the tab of a chart in the compact layout brought to the front."""
    shown = []
    for chart in (view.speedup_chart, view.efficiency_chart):
        view.show_chart(chart)
        settle(qtbot)
        assert chart.isVisible()
        shown.append((chart, chart.getViewBox().sceneBoundingRect().height(),
                      chart.getAxis("left").label.boundingRect().width()))
    return shown


def assert_readable(qtbot, window, size) -> None:
    view = window.scaling
    for chart, plot, label in charts_in_view(qtbot, view):
        name = type(chart).__name__
        assert plot >= MIN_PLOT_HEIGHT, f"{name}: plot {plot:.0f} px high at {size} ({view.layout_mode})"
        assert label <= plot + 2, f"{name}: the y label ({label:.0f} px) runs past its {plot:.0f} px axis"
    table = view.table
    fm = QFontMetrics(table.font())
    margin = table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1  # Qt's, a side
    for row in range(table.rowCount()):
        text = table.item(row, 0).text()
        need = fm.horizontalAdvance(text) + 2 * margin  # narrower, Qt elides it: "th… pool"
        assert table.columnWidth(0) >= need, f"executor column {table.columnWidth(0)} px cuts {text!r} ({need})"
        assert table.rowHeight(row) < 2 * fm.height() + 6, f"{text!r} wraps onto two lines"
    viewport = table.viewport().width()
    assert table.horizontalHeader().length() <= viewport, f"columns {table.horizontalHeader().length()} > {viewport}"


@pytest.mark.parametrize("size", [(1024, 700), (1280, 775), (1600, 1000)])
def test_both_scaling_charts_keep_a_plot_at_laptop_sizes(qtbot, window, tmp_path, size):
    path = tmp_path / "study.json"
    save_sweep_json(path, study())
    window.resize(*size)
    settle(qtbot)
    assert window.open_sweep_file(str(path)) is not None
    settle(qtbot)
    assert_readable(qtbot, window, size)
    if window.results_placement.lent:  # after the next run's start, in the dock's usual share: it scrolls
        window.results_placement.give_back()
        settle(qtbot)
        assert_readable(qtbot, window, size)

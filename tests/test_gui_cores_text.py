"""The cores chart's waiting text fits the plot at any width (issue 17, defect 8).

Live, the chart shares the timeline's span, which starts at 0 and runs seconds ahead of the run; a
text centred on the run's first instant sat on the left edge and lost its first words ("rst CPU
sample…"). Each test lays the chart out for real and checks the text's painted rectangle.
"""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6 import QtCore  # noqa: E402

from concgui.engine.events import RunStarted  # noqa: E402
from concgui.engine.live import RunState  # noqa: E402
from concgui.engine.records import RunResult  # noqa: E402
from concgui.gui.views.cores import CoreUsagePlot  # noqa: E402


def _text_inside_view(plot: CoreUsagePlot) -> tuple[QtCore.QRectF, QtCore.QRectF]:
    """(the empty-state text's painted rectangle, the plot area's), both in scene coordinates."""
    item = plot._empty
    assert item.isVisible() and item.toPlainText()
    return item.sceneBoundingRect(), plot.getViewBox().sceneBoundingRect()


def _contains(outer: QtCore.QRectF, inner: QtCore.QRectF) -> bool:
    return (inner.left() >= outer.left() - 0.5 and inner.right() <= outer.right() + 0.5
            and inner.top() >= outer.top() - 0.5 and inner.bottom() <= outer.bottom() + 0.5)


@pytest.mark.parametrize("width", [260, 420, 800, 1600])
def test_waiting_text_lies_inside_the_plot_while_sharing_a_live_timelines_span(qtbot, timeline, width):
    plot = CoreUsagePlot(dark=False, sample=False)
    qtbot.addWidget(plot)
    timeline.resize(width, 300)
    plot.resize(width, 220)
    plot.show()
    plot.link_x(timeline)
    state = RunState()
    state.apply([RunStarted({"workload": "cpu", "executor": "threads", "tasks": 4}, {}, 4, 4)])
    timeline.set_state(state)
    plot.set_state(state)
    timeline.getViewBox().setXRange(0.0, 10.0, padding=0)  # a live timeline's span runs ahead of the run
    plot.refresh()
    qtbot.wait(20)
    text, view = _text_inside_view(plot)
    assert "waiting for the first CPU sample" in plot._empty.toPlainText()
    assert _contains(view, text), (text, view)
    plot.stop()


@pytest.mark.parametrize("width", [220, 360, 1200])
def test_no_samples_text_of_a_finished_run_lies_inside_the_plot(qtbot, width):
    plot = CoreUsagePlot(dark=False, sample=False)
    qtbot.addWidget(plot)
    plot.resize(width, 160)
    plot.show()
    plot.set_result(RunResult(spec={"workload": "cpu", "tasks": 1}, environment={}, wall_seconds=3.0))
    qtbot.wait(20)
    text, view = _text_inside_view(plot)
    assert "no CPU samples" in plot._empty.toPlainText()
    assert _contains(view, text), (text, view)
    plot.resize(width + 300, 160)  # it follows the plot when the window grows
    qtbot.wait(20)
    text, view = _text_inside_view(plot)
    assert _contains(view, text), (text, view)
    assert abs(text.center().x() - view.center().x()) < 2  # centred on the plot, not on a time
    plot.stop()

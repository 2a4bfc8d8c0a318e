"""The charts that share the timeline's time axis follow it, and nothing else moves it."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from concgui.engine import ExperimentSpec

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def settle(qtbot) -> None:
    for _ in range(3):
        QApplication.processEvents()
        qtbot.wait(20)


def test_the_hidden_memory_chart_never_moves_the_timeline(qtbot, window):
    """The Memory tab hidden behind the CPU chart, its redraws once fitted the x range to its own one or two
    samples and pushed that sliver of time into the linked timeline and CPU chart."""
    window.resize(1024, 700)
    settle(qtbot)
    assert not window.memory.isVisible()
    spec = ExperimentSpec(workload="sleep", executor="thread-pool", workers=2, tasks=4, duration=0.05)
    window.form.set_spec(spec)
    with qtbot.waitSignal(window.controller.run_finished, timeout=30_000) as blocker:
        window.run_button.click()
    settle(qtbot)
    end = max(t.end for t in blocker.args[0].tasks)
    for _ in range(3):
        window.memory._draw()  # as each new memory sample and the run's end redraw it
        settle(qtbot)
        for chart in (window.timeline, window.cores):
            (x0, x1), _ = chart.getViewBox().viewRange()
            assert x0 <= 1e-6 and x1 >= end, f"{type(chart).__name__} shows {x0:.3f}–{x1:.3f} s (run ends {end:.3f} s)"

"""A run that fails before any task starts: the views say so instead of drawing an empty run."""

from __future__ import annotations

import pytest

from concgui.engine import ExperimentSpec

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def test_a_run_that_never_started_says_why_in_the_timeline(qtbot, window):
    spec = ExperimentSpec(workload="custom", function="nosuchmod:fn", executor="thread-pool", tasks=4)
    with qtbot.waitSignal(window.controller.run_failed, timeout=30_000) as blocker:
        window.controller.start(spec)  # the engine's own check refuses it, as after a stale form
    assert "nosuchmod" in blocker.args[0]
    text = window.timeline._placeholder.textItem.toPlainText()
    assert window.timeline._placeholder.isVisible()
    assert text.startswith("The run did not start") and "nosuchmod" in text
    assert "?" not in window.timeline.getPlotItem().titleLabel.text, "no '0 × ? on ?' title"
    assert window.cores._state is None, "the cores chart went back to the machine's live load"

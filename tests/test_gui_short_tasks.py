"""Tasks shorter than a pixel: drawn as blocks, and the hover says how many a block holds."""

from __future__ import annotations

import numpy as np
import pytest

from concgui.engine import ExperimentSpec, run_inline
from concgui.engine.live import RunState

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def test_a_block_of_sub_pixel_tasks_says_how_many_it_holds(timeline):
    result = run_inline(ExperimentSpec(workload="noop", executor="thread-pool", workers=2, tasks=3000,
                                       isolation="inline"))
    timeline.set_state(RunState.from_result(result))
    px = timeline.getViewBox().viewPixelSize()[0]
    ran = [t for t in result.tasks if t.end - t.start < px]
    assert len(ran) > 100, "noop tasks are shorter than a pixel at the whole run's zoom"
    # the densest pixel of task 0's lane: where most of its tasks started
    worker = result.tasks[0].worker
    starts = np.array(sorted(t.start for t in result.tasks if t.worker == worker))
    dense = starts[np.argmax(np.searchsorted(starts, starts + px) - np.arange(starts.size))]
    y = timeline.task_bar_center(0)[1]
    text = timeline.hover_text_at(dense + px / 2, y)
    assert text is not None and " tasks ran here" in text, text
    held = int(text.split(" tasks ran here")[0].replace(",", ""))
    assert held >= 2
    assert "Task " in text, "the nearest task's own story follows"


def test_a_bar_of_its_own_gets_its_story_alone(timeline):
    result = run_inline(ExperimentSpec(workload="sleep", executor="thread-pool", workers=2, tasks=4, duration=0.05,
                                       isolation="inline"))
    timeline.set_state(RunState.from_result(result))
    text = timeline.hover_text_at(*timeline.task_bar_center(0))
    assert text.startswith("Task 0 "), text

"""The words under the seed's pictures say what the timeline draws: one after another is one row, not a staircase.

The main timeline has one row per worker, so a sequential run's three sleeps lie end to end in one row;
only Compare ▸ Timelines, with a row per task, draws them as a staircase.
"""

from __future__ import annotations

import re

from concgui.engine.live import RunState
from concgui.gui.lessons_data import lesson
from concgui.gui.views.help_page import FIGURES, page_html, recorded_runs


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.;])\s+", text) if s]


def says_staircase_only_of_rows_per_task(text: str) -> bool:
    return all("row per task" in s for s in sentences(text) if "staircase" in s)


def test_the_sleep_figures_caption_describes_the_one_row_the_sequential_run_is_drawn_in():
    runs = recorded_runs()
    sequential, threads = (runs[i] for i in FIGURES["sleep"][0])
    assert sequential.spec["executor"] == "sequential" and threads.spec["executor"] == "threads"
    assert RunState.from_result(sequential).lanes == ["main thread"]  # what the figure draws: one row of bars
    assert len(RunState.from_result(threads).lanes) == 3
    page = page_html({"sleep": None}, runs)
    caption = re.search(r'<img src="help:sleep"><br><i>(.*?)</i>', page, re.S).group(1)
    assert "end to end in the main thread&#x27;s one row, 6.0 s in all" in caption
    assert "end together, at 2.0 s" in caption
    assert says_staircase_only_of_rows_per_task(caption), caption


def test_lesson_ones_watch_text_says_what_the_main_timeline_draws():
    watch = lesson("seed").watch
    assert "end to end in the main thread's one row" in watch
    assert says_staircase_only_of_rows_per_task(watch), watch

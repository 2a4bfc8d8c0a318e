"""A run file may carry a summary that lacks keys a newer ConcGUI adds: the words are still made."""

from __future__ import annotations

import dataclasses

import pytest

from concgui.engine.exports import load_results
from concgui.engine.summary import summarize
from concgui.engine.why import explain
from concgui.gui.presets import resources_dir


@pytest.mark.parametrize("dropped", ["ran", "lanes"])
def test_a_summary_without_one_of_the_counts_is_counted_again(dropped):
    """Found by the property test: a file with "lanes" but no "ran" raised KeyError in every consumer."""
    run = load_results(resources_dir() / "help" / "runs.json")[0]
    run = dataclasses.replace(run, summary=summarize(run))  # today's summary: it counts "ran" and "lanes"
    partial = dataclasses.replace(run, summary={k: v for k, v in run.summary.items() if k != dropped})
    assert explain(partial) == explain(run)

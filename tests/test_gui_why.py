"""The "why" where people read it: the Summary panel (a run's and a Compare's) and the console."""

from __future__ import annotations

import pytest
from why_support import processes_on_cpu, recorded, sequential, threads_on_cpu

from concgui.engine.events import RunFinished, RunStarted
from concgui.engine.live import RunState
from concgui.engine.why import why_run
from concgui.engine.why_compare import compare_why
from concgui.gui.views.console import WHY_WIDTH, ConsolePane
from concgui.gui.views.summary import SummaryPanel


def test_the_summary_shows_a_runs_why_and_after_a_compare_which_executor_won(qtbot):
    panel = SummaryPanel()
    qtbot.addWidget(panel)
    base = sequential()
    results = [base, threads_on_cpu(baseline=base), processes_on_cpu(baseline=base)]
    panel.set_result(results[1])
    assert panel.explanation() == why_run(results[1])
    assert "Try process-pool next" in panel.explanation()
    assert panel.comparison_text() == ""
    panel.set_comparison(results)
    assert panel.comparison_text() == f"Compare: {compare_why(results)}"
    assert panel.comparison_text().startswith("Compare: process-pool was fastest")
    panel.set_result(results[2])  # another run shown (reopened from the history, say): the Compare's words go
    assert panel.comparison_text() == ""
    panel.set_comparison(results)
    state = RunState()
    state.apply([RunStarted(base.spec, {}, 4, 1)])
    panel.set_running(state)  # a new run starts
    assert panel.comparison_text() == ""
    panel.set_comparison(results[:1])  # one run is no comparison
    assert panel.comparison_text() == ""


def test_the_summary_of_a_busy_process_pool_says_nothing_about_waiting_tasks(qtbot):
    """Issue 17, defect 5, as the window shows it: the explanation and the busy-machine line apart."""
    panel = SummaryPanel()
    qtbot.addWidget(panel)
    panel.set_result(recorded("process-pool", "cpu", tasks=4, workers=2, duration=0.77, cpu=0.5, startup=0.09,
                              gap=0.003, other=0.69))
    assert "overlapped their waiting" not in panel.explanation() and "wait" not in panel.explanation()
    assert "in parallel" in panel.explanation()
    assert panel.busy_text().startswith("⚠ Other programs used 0.7 cores")


def test_the_console_ends_a_run_with_its_why_wrapped(qtbot):
    console = ConsolePane()
    qtbot.addWidget(console)
    result = threads_on_cpu()
    console.show_result(result)
    lines = console.toPlainText().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("Why: "))
    assert lines[first - 1].startswith("Time to finish the tasks:")
    why = lines[first:]
    assert " ".join(line.strip() for line in why) == f"Why: {why_run(result)}"
    assert all(len(line) <= WHY_WIDTH for line in why) and len(why) > 1
    assert all(line.startswith("     ") for line in why[1:])
    console.on_events([RunFinished(processes_on_cpu())])  # a live run's end: the why follows at once
    assert "the tasks ran in parallel" in console.toPlainText().split("Why: ")[-1].replace("\n     ", " ")


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_a_compare_in_the_window_says_which_executor_won_in_the_summary_and_console(qtbot, window):
    from concgui.engine import ExperimentSpec

    spec = ExperimentSpec(workload="sleep", executor="sequential", tasks=3, duration=0.05)
    with qtbot.waitSignal(window.controller.sequence_finished, timeout=60_000) as blocker:
        window.run_sequence([spec, spec.with_(executor="threads")])
    results = blocker.args[0]
    qtbot.waitUntil(lambda: window.summary.comparison_text() != "", timeout=5_000)
    assert window.summary.comparison_text() == f"Compare: {compare_why(results)}"
    assert "threads" in window.summary.comparison_text()
    assert f"Compare: {compare_why(results)}" in window.console.toPlainText().replace("\n", " ")


def test_the_summary_gives_a_counter_run_one_line_of_what_it_counted(qtbot):
    """The counter's line stands apart from the why (which the command line begins with it instead)."""
    from concgui.engine import ExperimentSpec, run
    from concgui.engine.why import counter_sentence

    panel = SummaryPanel()
    qtbot.addWidget(panel)
    result = run(ExperimentSpec(workload="counter", executor="processes", tasks=2, increments=1000,
                                start_method="fork", isolation="inline"))
    panel.set_result(result)
    assert panel.counter_text() == counter_sentence(result) and "processes share no memory" in panel.counter_text()
    assert panel.explanation() == why_run(result)
    panel.set_result(sequential())  # another workload: no counter line
    assert panel.counter_text() == ""

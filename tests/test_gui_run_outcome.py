"""The progress bar's words for an ended run, and a failed run's partial result, without a window."""

from __future__ import annotations

import time

from concgui.engine import ExperimentSpec, RunResult, TaskRecord
from concgui.engine.events import RunStarted, StartupFinished, TaskFinished, TaskStarted
from concgui.engine.live import RunState
from concgui.engine.records import CANCELLED, ERROR, INTERRUPTED, OK, RUNNING
from concgui.gui.run_outcome import PROGRESS_FORMAT, outcome, partial_result

SPEC = ExperimentSpec(workload="noop", executor="thread-pool", tasks=20, workers=2).to_dict()


def _result(status: str, *statuses: str) -> RunResult:
    tasks = [TaskRecord(i, "w0", 1, 1, 0.0, 0.1 * i, 0.1 * i + 0.05, 0.0, s) for i, s in enumerate(statuses)]
    return RunResult(spec=SPEC, environment={}, status=status, tasks=tasks)


def test_a_run_whose_every_task_finished_keeps_the_live_format():
    assert outcome(_result(OK, *[OK] * 20)) == (PROGRESS_FORMAT, 20, 20)
    assert PROGRESS_FORMAT == "%v / %m tasks"


def test_a_stopped_run_counts_what_finished_failed_and_was_cancelled():
    result = _result("cancelled", *[OK] * 1057, *[ERROR] * 2, *[CANCELLED] * 143)
    assert outcome(result) == ("1,057 done, 2 failed, 143 cancelled", 1059, 1202)


def test_an_interrupted_run_counts_against_the_tasks_it_was_to_run():
    assert outcome(_result(INTERRUPTED, *[OK] * 5)) == ("Interrupted: 5 done, 15 not finished", 5, 20)
    # a run the history never closed, with no process recording it any more, is interrupted too
    assert outcome(_result(RUNNING, *[OK] * 5)) == ("Interrupted: 5 done, 15 not finished", 5, 20)


def test_a_run_another_process_still_records_is_still_running():
    text, value, maximum = outcome(_result(RUNNING, *[OK] * 5, ERROR), elsewhere=123)
    assert text == "Still running in process 123: 5 done so far, 1 failed, 14 not finished"
    assert (value, maximum) == (6, 20)


def test_an_empty_run_keeps_a_bar_of_one():
    assert outcome(_result("failed")) == (PROGRESS_FORMAT, 0, 1)


def _running_state() -> RunState:
    """A run of 3 tasks: the first done, the second running, the third waiting."""
    state = RunState()
    state.apply([RunStarted(SPEC | {"tasks": 3}, {"python": "3"}, 3, 2), StartupFinished(0.1),
                 TaskStarted(0, "w0", 11, 21, 0.2),
                 TaskFinished(TaskRecord(0, "w0", 11, 21, 0.1, 0.2, 0.5, 0.3, OK)),
                 TaskStarted(1, "w1", 12, 22, 0.3)])
    return state


def test_a_failed_runs_partial_result_closes_its_open_tasks(monkeypatch):
    state = _running_state()
    monkeypatch.setattr(state, "now", lambda: 0.9)
    result = partial_result(state, "the engine died", started_at=1234.5)
    assert result is not None
    assert (result.status, result.error, result.started_at) == ("failed", "the engine died", 1234.5)
    assert result.spec["tasks"] == 3 and result.workers == 2 and result.startup_seconds == 0.1
    done, lost, waiting = result.tasks
    assert done == state.tasks[0] and done.status == OK
    assert (lost.index, lost.worker, lost.start, lost.end, lost.status) == (1, "w1", 0.3, 0.9, CANCELLED)
    assert lost.error == {"type": "Lost", "message": "still running when the run failed", "traceback": ""}
    assert (waiting.index, waiting.start, waiting.end, waiting.status, waiting.error) == (2, None, None,
                                                                                        CANCELLED, None)
    assert abs(result.wall_seconds - 0.8) < 1e-9  # from the work's start (0.1) to the lost task's end (0.9)
    assert result.summary  # summarised like any ended run
    assert outcome(result) == ("1 done, 2 cancelled", 1, 3)


def test_no_partial_result_for_a_run_that_never_started_or_already_ended():
    assert partial_result(None, "no engine") is None
    assert partial_result(RunState(), "no spec") is None
    ended = RunState.from_result(_result(OK, OK))
    assert partial_result(ended, "too late") is None


def test_a_partial_result_without_a_start_time_is_dated_now():
    before = time.time()
    result = partial_result(_running_state(), "the engine died")
    assert result is not None and before <= result.started_at <= time.time()

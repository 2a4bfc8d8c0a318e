"""Issue 16: a run's why is at most three sentences, and what else it says follows as notes, one a line.

A process pool on a busy machine whose CPU times had drifted from the calibration once gave six sentences in one
paragraph: the explanation, the calibration's two and the busy machine's, run together. The runs here are laid
out as their executors lay them out (why_support.recorded), with the figures measured on a 2-core machine.
"""

from __future__ import annotations

import re
import time

import pytest
from why_support import processes_on_cpu, recorded, sequential, threads_on_cpu

from concgui.cli.tables import format_summary
from concgui.engine.calibration import calibration_gap_sentence
from concgui.engine.records import RunResult
from concgui.engine.summary import busy_machine_sentence, summarize
from concgui.engine.transfer import transfer_sentence
from concgui.engine.why import NOTE, counter_sentence, explain, why_notes, why_run, why_sentences


def sentences(text: str) -> list[str]:
    """``text`` cut after every full stop, question or exclamation mark that a space follows."""
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def drifted(result: RunResult, gap: float = 1.9) -> RunResult:
    """``result`` with the calibration entry a run records, its tasks' CPU time ``gap`` times the one calibrated
    three days earlier."""
    result.environment["calibration"] = {
        "cpu_iterations_per_second": 1e7, "measured_at": time.time() - 3 * 86400, "gap_tasks": 4,
        "task_cpu_seconds": 0.08 * gap, "expected_task_cpu_seconds": 0.08, "gap": gap}
    return result


def busy_drifted_processes() -> RunResult:
    """Issue 17's busy process pool (other programs took 0.69 of 2 cores) with a calibration 1.9× off."""
    return drifted(recorded("process-pool", "cpu", tasks=4, workers=2, duration=0.77, cpu=0.5, startup=0.09,
                            gap=0.003, shares=(0.65, 0.33, 0.02), other=0.69, baseline=sequential()))


def test_a_run_with_calibration_drift_on_a_busy_machine_explains_in_three_sentences_then_gives_the_notes():
    result = busy_drifted_processes()
    drift, busy = calibration_gap_sentence(result), busy_machine_sentence(result)
    assert drift and busy, "both notes are due"
    assert len(sentences(f"{why_sentences(result)} {drift} {busy}")) == 6, "the one paragraph it used to be"

    lines = explain(result).split("\n")
    assert lines == [why_sentences(result), NOTE + drift, NOTE + busy]
    explanation = sentences(lines[0])
    assert len(explanation) == 3
    assert explanation[0].startswith("On average 2.0 tasks were in flight") and "in parallel" in explanation[0]
    assert explanation[1] == "The 2 processes waited for a core 33 % of the time: other programs kept the cores busy."
    assert explanation[2] == "Measure again when the machine is quieter to see what it can do."
    assert lines[1].startswith("Note: Each task was calibrated to take 80.0 ms of CPU but took 152.0 ms")
    assert lines[2] == ("Note: Other programs used 0.7 cores during this run: speedups are lower than this machine "
                        "can give.")

    # the Summary shows why_run, and the busy machine's line on its own; the command line prints explain's lines
    assert why_run(result) == "\n".join(lines[:2]) and why_notes(result, load_line=False) == [lines[1]]
    assert format_summary(result).split("\n")[-3:] == [f"Why: {lines[0]}", lines[1], lines[2]]


def test_a_run_with_nothing_to_note_is_its_explanation_alone():
    result = threads_on_cpu(baseline=sequential())
    assert why_notes(result) == [] and explain(result) == why_run(result) == why_sentences(result)
    assert "\n" not in explain(result) and len(sentences(explain(result))) == 3


def test_a_counter_run_begins_with_its_count_on_a_line_of_its_own():
    result = recorded("thread-pool", "counter", tasks=4, workers=4, duration=1.3, cpu=0.65, startup=0.005,
                      shares=(0.25, 0.56, 0.19), spec={"increments": 500_000, "lock": True, "chunk_size": 1})
    for t in result.tasks:  # threads of one process; the count each task saw at its end: none lost
        t.pid, t.value = 100, 500_000 * (t.index + 1)
    result.summary = summarize(result)
    counted = counter_sentence(result)
    assert counted.startswith("The 4 threads counted all 2,000,000 increments")
    first, explanation = explain(result).split("\n")
    assert first == counted and explanation == why_sentences(result)
    assert len(sentences(explanation)) <= 3, explanation  # "More cores would not help this count" was two
    assert "More cores would not help this count, as processes would each add to a counter of their own" \
        in explanation


def joblib_run() -> RunResult:
    result = processes_on_cpu(baseline=sequential())
    result.spec["executor"] = "joblib"
    result.environment["joblib"] = {"backend": "loky", "first_call_seconds": 0.8, "reused_call_seconds": 0.01,
                                    "worker_pids": [1, 2], "batches": [(1, 4)], "batch_size": "auto"}
    return result


def dask_run() -> RunResult:
    result = processes_on_cpu(baseline=sequential())
    result.spec["executor"] = "dask"
    result.environment["dask"] = {"workers": [{"host": "127.0.0.1", "nthreads": 1, "same_clock": True}] * 2}
    return result


def data_run() -> RunResult:
    return recorded("thread-pool", "cpu", tasks=4, workers=2, duration=0.3, cpu=0.15, gap=0.002,
                    shares=(0.45, 0.05, 0.5), spec={"arg_bytes": 20_000_000})


@pytest.mark.parametrize(("make", "note"), [
    (joblib_run, "Note: loky started 2 worker processes in 800.0 ms"),
    (dask_run, "Note: The tasks ran on 2 Dask worker processes (2 threads) on 127.0.0.1"),
    (data_run, "Note: Handing every task its 20 MB argument cost nothing: the 2 threads share the parent's memory"),
], ids=["joblib", "dask", "data"])
def test_what_an_executor_did_or_its_data_cost_is_a_note_after_at_most_three_sentences(make, note):
    """joblib's reuse and batches, a Dask cluster's hosts and clocks, and what moving data cost were sentences
    inside the explanation (joblib's three, Dask's two): now each is a note, and a calibration's comes after."""
    result = drifted(make())
    lines = why_run(result).split("\n")
    assert len(sentences(lines[0])) <= 3, lines[0]
    assert lines[1].startswith(note), lines
    assert lines[2] == NOTE + calibration_gap_sentence(result) and len(lines) == 3
    assert all(line.startswith(NOTE) for line in lines[1:]) and NOTE not in lines[0]
    if make is data_run:
        assert lines[1] == NOTE + transfer_sentence(result)


def test_a_run_that_did_not_finish_has_its_failure_and_no_notes():
    result = drifted(busy_drifted_processes())
    result.status, result.error = "failed", "the engine process died"
    assert why_notes(result) == []
    assert explain(result) == why_run(result) == "The run failed: the engine process died. 4 of 4 tasks finished, " \
        "so its numbers describe those only."

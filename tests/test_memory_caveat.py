"""A memory figure that covers some of the worker processes says so wherever it is shown: the summary, the Compare
table's MB/worker and MB total, the Compare's sentence and the share-copy lesson's answer.

The probe reads every process's memory a few times a second; a worker that ran one short task and ended between
two readings has no figure, and the run's memory is that of the others. Runs here are laid out as their executors
lay them out (why_support.recorded), with the probe's readings: every process measured, or one of four missed.
"""

from __future__ import annotations

import dataclasses

from why_support import processes_on_cpu, recorded

from concgui.engine.metrics import COMPARE_COLUMNS, metric
from concgui.engine.records import MemorySample
from concgui.engine.summary import summarize
from concgui.engine.why_compare import compare_why, memory_sentence
from concgui.gui.lessons_data import _memory_paragraph

MB = 1_000_000
COLUMNS = {c.label: c for c in COMPARE_COLUMNS}
NOTE = "(3 of 4 processes measured)"


def measured(result, pids: list[int], mb: float):
    """``result`` with two probe readings of ``pids`` at ``mb`` MB each (and its parent, 99, which ran no task)."""
    readings = {pid: int(mb * MB) for pid in (99, *pids)}
    result = dataclasses.replace(result, memory_samples=[MemorySample(0.1, readings), MemorySample(0.2, readings)],
                                 environment={**result.environment, "memory": "uss"})
    result.summary = summarize(result)
    return result


def four_processes(pids: list[int]):
    """4 pure-Python tasks on a 4-process pool (pids 100 to 103), the probe having read ``pids``, 12.4 MB each."""
    return measured(processes_on_cpu(tasks=4, workers=4), pids, 12.4)


def thread_pool():
    """The same tasks in 4 threads of one process (pid 100), 30 MB."""
    return measured(recorded("thread-pool", "cpu", tasks=4, workers=4, duration=0.6, cpu=0.15), [100], 30.0)


def test_the_compare_tables_memory_columns_say_when_a_process_was_missed():
    missed, every = four_processes([100, 101, 102]), four_processes([100, 101, 102, 103])
    assert (missed.summary["memory_processes"], missed.summary["memory_workers"]) == (3, 4)
    assert COLUMNS["MB/worker"].show(missed) == f"12.4 {NOTE}"
    assert COLUMNS["MB total"].show(missed) == f"37.2 {NOTE}"
    assert COLUMNS["MB/worker"].show(every) == "12.4" and COLUMNS["MB total"].show(every) == "49.6"
    assert NOTE[1:-1] in metric("memory_total_mb").text(missed.summary), "the summary says it the same way"
    assert "3 of 4 processes measured" in COLUMNS["MB total"].help, "the header's definition explains it"


def test_the_compares_memory_sentence_says_the_figures_cover_the_measured_processes():
    threads = thread_pool()
    text = memory_sentence([threads, four_processes([100, 101, 102])])
    assert f"process-pool's 4 processes held 4 interpreters: 37.2 MB in total, 12.4 MB each {NOTE}" in text, text
    assert "thread-pool's 4 threads shared one process of 30.0 MB" in text
    every = memory_sentence([threads, four_processes([100, 101, 102, 103])])
    assert "49.6 MB in total, 12.4 MB each;" in every and "measured" not in every
    assert NOTE in compare_why([threads, four_processes([100, 101, 102])])


def test_the_lessons_memory_paragraph_says_so_too():
    text = _memory_paragraph(thread_pool(), four_processes([100, 101, 102]))
    assert f"the process pool's 4 worker processes held 12 MB each at most, 37 MB together {NOTE}:" in text, text
    assert "measured)" not in _memory_paragraph(thread_pool(), four_processes([100, 101, 102, 103]))

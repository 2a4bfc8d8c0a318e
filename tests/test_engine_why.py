"""The plain-language "why" of a run and of a Compare, on recorded results.

Each result is laid out as its executor lays it out, with the numbers measured for that case on a
2-core machine (threads on ``cpu`` blocked about 65 % on the GIL, processes on ``cpu`` on a core about
96 %, a spawn pool's 0.2 s start-up before 12 ms of work, a thread pool's 30 µs per no-op task...), so
each test checks the key claim its text must make, and the claims it must not make.
"""

from __future__ import annotations

import pytest
from why_support import processes_on_cpu, recorded, sequential, threads_on_cpu

from concgui.engine.present import seconds
from concgui.engine.records import CANCELLED
from concgui.engine.summary import busy_machine_sentence, summarize
from concgui.engine.why import diagnose, explain, why_run, xray_sentence
from concgui.engine.why_compare import compare_why


# --- the six cases of the issue --------------------------------------------------------------------
def test_threads_on_cpu_are_told_the_gil_blocked_them_and_to_try_processes():
    base = sequential()
    text = why_run(threads_on_cpu(baseline=base))
    assert "3.7 tasks were in flight (concurrency) but only 0.9 cores computed at once" in text
    assert "concurrency without parallelism" in text
    assert "The 4 threads were blocked 65 % of the time on the GIL" in text
    assert "Try process-pool next: each process has its own GIL" in text
    assert "slower than sequential" in text  # 0.91 s against 0.62 s
    assert text.count(". ") <= 3  # two or three sentences, not a page

    old = threads_on_cpu(shares=None)  # a run file from before the X-ray: the claim comes from the numbers
    assert "take turns on the GIL" in why_run(old) and "Try process-pool next" in why_run(old)
    one_core = threads_on_cpu(cores=1)  # no process pool computes faster on one core: do not suggest it
    assert "With 1 core" in why_run(one_core) and "Try process-pool" not in why_run(one_core)
    free = threads_on_cpu(gil=False, shares=(0.9, 0.05, 0.05), cpu=0.8)  # free-threaded: no GIL to blame
    assert "on the GIL" not in why_run(free) and "without the GIL" in why_run(free)


def test_processes_on_cpu_are_told_they_ran_in_parallel_on_the_cores():
    result = processes_on_cpu(baseline=sequential())
    text = why_run(result)
    assert "1.9 of the 2 cores computed at once (parallelism): the tasks ran in parallel" in text
    assert "2.0× as fast as sequential" in text
    assert ("Each process has its own interpreter and GIL, so the 2 processes computed side by side, on a core "
            "96 % of the time.") in text
    assert "close to all 2 cores" in text
    assert "wait" not in text.lower() and "blocked" not in text  # they did neither
    assert diagnose(result).kind == "parallel"


def test_hash_in_threads_is_told_hashlib_releases_the_gil():
    text = why_run(recorded("thread-pool", "hash", tasks=4, workers=2, duration=0.24, cpu=0.17, startup=0.01,
                            gap=0.005, shares=(0.79, 0.2, 0.01)))
    assert "the tasks ran in parallel" in text
    assert "hashlib releases the GIL while it works, so the 2 threads computed side by side" in text
    assert "Try process-pool" not in text and "blocked" not in text


def test_sleep_is_told_the_tasks_overlapped_their_waiting_and_where_it_is_cheaper():
    base = sequential("sleep", duration=0.1, cpu=0.00002, shares=(0.003, 0.003, 0.994))
    pool = recorded("thread-pool", "sleep", tasks=4, workers=4, duration=0.1, cpu=0.00004, startup=0.002,
                    gap=0.0015, shares=(0.003, 0.003, 0.994), baseline=base)
    text = why_run(pool)
    assert "3.9 tasks were in flight (concurrency) but almost no core computed" in text
    assert "The 4 threads were blocked 99 % of the time sleeping: sleeping releases the GIL" in text
    assert "Try asyncio next: it waits on all of them from one thread." in text
    assert "GIL" not in text.split("sleeping releases the GIL")[1]  # no GIL blamed for holding them back

    fewer = recorded("thread-pool", "sleep", tasks=4, workers=2, duration=0.1, cpu=0.00004, gap=0.0015,
                     shares=(0.003, 0.003, 0.994))
    assert "Try more workers (now 2) or asyncio" in why_run(fewer)
    processes = recorded("process-pool", "sleep", tasks=4, workers=2, duration=0.1, cpu=0.0004, startup=0.08,
                         gap=0.001, shares=(0.003, 0.002, 0.995))
    text = why_run(processes)
    assert "The 2 processes were blocked 100 % of the time sleeping: a sleeping process needs no core." in text
    assert "Try thread-pool or asyncio next: they overlap waiting as well" in text and "80.0 ms of start-up" in text
    coroutines = recorded("asyncio", "sleep", tasks=4, workers=4, duration=0.1, cpu=0.00001, shares=None)
    assert "asyncio waits on all of them from one thread" in why_run(coroutines)
    assert "Sleeping releases the GIL" in why_run(recorded("threads", "sleep", tasks=3, workers=3, duration=0.2,
                                                           cpu=0.0, shares=None))  # without the X-ray


def test_a_run_dominated_by_start_up_says_so_with_the_speed_counting_it():
    base = sequential(tasks=2, duration=0.0116, cpu=0.0113)
    result = recorded("process-pool", "cpu", tasks=2, workers=2, duration=0.0116, cpu=0.0113, startup=0.209,
                      gap=0.0005, shares=(0.42, 0.01, 0.57), baseline=base, spec={"start_method": "spawn"})
    text = why_run(result)
    assert "Start-up dominated: starting the processes took 209.0 ms" in text
    assert "1.9× as fast as sequential" in text  # the speedup column's number, without start-up ...
    assert "counting it, the run was 9.5× slower than sequential" in text  # ... and what the person waited
    assert "Give each process more work, or reuse the pool" in text
    assert "blocked" not in text  # the workers' idle waiting for work is not the story


def test_a_noop_flood_names_the_per_task_overhead_and_batching():
    threads = recorded("thread-pool", "noop", tasks=5000, workers=4, duration=4e-7, cpu=6e-6, startup=0.004,
                       gap=0.00012)
    s = threads.summary
    cost = seconds(s["dispatch_overhead_seconds"])
    assert cost == "30.0 µs"
    text = why_run(threads)
    assert "The tasks did not overlap" in text
    assert "cost about 30.0 µs more: with 5,000 tasks, that per-task overhead, not the work, set the wall time" in text
    assert "Batch small tasks into fewer, larger ones: the per-task overhead of 30.0 µs outweighs the 0.4 µs" in text

    processes = recorded("process-pool", "noop", tasks=5000, workers=2, duration=1.3e-5, cpu=1.3e-5, startup=0.07,
                         gap=0.0002, spec={"chunk_size": 1}, shares=(0.2, 0.2, 0.6))
    text = why_run(processes)
    assert "a larger chunk size (now 1) sends many in one message" in text and "per-task overhead of" in text
    assert "sleep" not in text and "GIL" not in text


# --- issue 17, defect 5: process-pool on cpu, on a busy machine ------------------------------------
def test_processes_on_cpu_on_a_busy_machine_are_not_told_they_waited_for_anything_but_a_core():
    busy = recorded("process-pool", "cpu", tasks=4, workers=2, duration=0.77, cpu=0.5, startup=0.09, gap=0.003,
                    shares=(0.65, 0.33, 0.02), other=0.69)
    text = explain(busy)
    for wrong in ("overlapped their waiting", "threads do", "sleep", "blocked"):
        assert wrong not in text
    assert "the tasks ran in parallel" in text
    assert "The 2 processes waited for a core 33 % of the time: other programs kept the cores busy." in text
    assert "Measure again when the machine is quieter" in text
    assert text.endswith(busy_machine_sentence(busy)) and "Other programs used 0.7 cores" in text

    busy.thread_states = []  # the same run without the X-ray: still no waiting claimed
    busy.summary = summarize(busy)
    assert "wait" not in explain(busy).lower() and "in parallel" in explain(busy)

    crowded = recorded("process-pool", "cpu", tasks=4, workers=4, duration=0.3, cpu=0.155, startup=0.09,
                       shares=(0.52, 0.46, 0.02))  # quiet, but 4 processes on 2 cores
    text = why_run(crowded)
    assert "The 4 processes waited for a core 46 % of the time: there are only 2 cores." in text
    assert "Try workers = 2: more workers than cores cannot help CPU work." in text


# --- runs that did not finish --------------------------------------------------------------------------
def test_a_failed_run_says_what_happened_and_claims_nothing_else():
    result = processes_on_cpu()
    result.status, result.error = "failed", "the engine process died (killed by SIGKILL)\nTraceback ..."
    for t in result.tasks[2:]:
        t.start = t.end = None
        t.status = CANCELLED
    result.summary = summarize(result)
    text = why_run(result)
    assert text == ("The run failed: the engine process died (killed by SIGKILL). 2 of 4 tasks finished, so its "
                    "numbers describe those only.")
    result.status, result.error = "cancelled", None
    assert why_run(result).startswith("The run was stopped before every task finished. 2 of 4 tasks finished")
    for t in result.tasks:
        t.status = CANCELLED
    assert "No task finished" in why_run(result)


def test_an_old_result_without_a_summary_is_explained_from_its_records():
    result = threads_on_cpu()
    result.summary = {}
    assert "on the GIL" in why_run(result)


# --- the X-ray's own sentence ------------------------------------------------------------------------
def test_the_xray_sentence_says_other_programs_only_when_they_took_cores():
    quiet = processes_on_cpu(shares=(0.6, 0.38, 0.02))
    assert xray_sentence(quiet).endswith("other work kept the cores busy.")
    busy = processes_on_cpu(shares=(0.6, 0.38, 0.02), other=0.5)
    assert xray_sentence(busy).endswith("other programs kept the cores busy.")


# --- a Compare -------------------------------------------------------------------------------------------
def test_a_cpu_compare_says_processes_won_by_computing_in_parallel_and_threads_lost_to_the_gil():
    base = sequential()
    results = [base, threads_on_cpu(baseline=base), processes_on_cpu(baseline=base)]
    text = compare_why(results)
    assert text.startswith("process-pool was fastest: 316.0 ms, 2.0× as fast as sequential.")
    assert ("It computed on 1.9 cores at once, while thread-pool kept 3.7 tasks in flight but computed on 0.9 "
            "cores, its threads blocked on the GIL 65 % of the time.") in text
    assert text.count(". ") <= 2


def test_a_sleep_compare_says_the_waiting_overlapped():
    base = sequential("sleep", tasks=3, duration=2.0, cpu=0.0001, shares=(0.0, 0.0, 1.0))
    threads = recorded("threads", "sleep", tasks=3, workers=3, duration=2.0, cpu=0.0001, gap=0.002,
                       shares=(0.0, 0.0, 1.0), baseline=base)
    processes = recorded("process-pool", "sleep", tasks=3, workers=3, duration=2.0, cpu=0.0002, startup=0.1,
                         gap=0.01, shares=(0.0, 0.0, 1.0), baseline=base)
    text = compare_why([base, threads, processes])  # 2.002 s and 2.010 s: a tie, not a win
    assert text.startswith("threads and process-pool tied within 3 %, at 2.00 s to 2.01 s, 3.0× as fast as "
                           "sequential.")
    assert "Both overlapped 3.0 waiting tasks at once" in text
    assert text.endswith("Try asyncio next: it waits on all of them from one thread.")


def test_a_compare_says_when_start_up_changes_the_order_and_when_the_machine_was_busy():
    base = sequential("sleep", tasks=4, duration=0.1, cpu=0.00002)
    threads = recorded("thread-pool", "sleep", tasks=4, workers=4, duration=0.1, cpu=0.00004, startup=0.002,
                       gap=0.005, baseline=base)
    processes = recorded("process-pool", "sleep", tasks=4, workers=4, duration=0.1, cpu=0.0004, startup=0.15,
                         gap=0.001, baseline=base)
    text = compare_why([base, threads, processes])
    assert text.startswith("process-pool was fastest")
    assert "Counting start-up, thread-pool finished first: process-pool spent 150.0 ms starting" in text

    busy = processes_on_cpu(baseline=base, other=0.7)  # computing on both cores while others took 0.7
    assert compare_why([sequential(), busy]).endswith("Other programs took up to 0.7 cores during these runs: "
                                                      "speedups are lower than this machine can give.")


def test_a_compare_names_runs_that_did_not_finish_and_needs_two_runs():
    base = sequential()
    threads, processes = threads_on_cpu(baseline=base), processes_on_cpu(baseline=base)
    processes.status = "failed"
    assert compare_why([base, threads, processes]).endswith("Process-pool failed, so it is not ranked.")
    assert compare_why([base, processes]) == "Only the baseline, sequential, finished: process-pool failed."
    base.status = "cancelled"
    assert compare_why([base, threads]) == ("The baseline, sequential, cancelled: there is nothing to measure the "
                                            "others against.")
    assert compare_why([threads]) == "" and compare_why([]) == ""


def test_an_executor_that_ran_twice_is_named_with_its_workers():
    base = sequential()
    two, four = processes_on_cpu(baseline=base), processes_on_cpu(baseline=base, workers=4)
    text = compare_why([base, two, four])
    assert "process-pool (2 workers)" in text and "process-pool (4 workers)" in text


@pytest.mark.parametrize("kind", ["threads", "processes"])
def test_the_text_never_comes_from_the_executor_alone(kind):
    """The same executor on work that waits and on work that computes gets opposite advice."""
    make = threads_on_cpu if kind == "threads" else processes_on_cpu
    computing = why_run(make())
    executor = "thread-pool" if kind == "threads" else "process-pool"
    waiting = why_run(recorded(executor, "sleep", tasks=4, workers=4, duration=0.84, cpu=0.0001, gap=0.07,
                               shares=(0.0, 0.01, 0.99)))
    assert "sleeping" in waiting and "sleeping" not in computing
    if kind == "threads":
        assert "Try process-pool" in computing and "Try asyncio" in waiting
    else:
        assert "in parallel" in computing and "blocked" not in computing
        assert "in parallel" not in waiting and "Try thread-pool or asyncio" in waiting


def test_a_compare_whose_winner_has_no_advice_is_two_sentences():
    base = sequential("hash", duration=0.24, cpu=0.23)
    hashing = recorded("thread-pool", "hash", tasks=4, workers=2, duration=0.24, cpu=0.17, startup=0.01, gap=0.005,
                       shares=(0.79, 0.2, 0.01), baseline=base)
    text = compare_why([base, hashing])
    assert text == ("thread-pool was fastest: 490.0 ms, 2.0× as fast as sequential. It computed on 1.4 cores at "
                    "once, while sequential ran one task at a time.")

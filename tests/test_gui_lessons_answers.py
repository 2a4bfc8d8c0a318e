"""The answers of the hash, waiting and dispatch lessons, one test per branch of each.

The runs are the app's recorded ones (help_page.recorded_runs: three sleeps of 2 s in a loop and in threads, four
pure-Python tasks of 0.5 s in four threads and in two processes) renamed to the executors a lesson compares, or,
for the dispatch lesson's 2,000 no-ops, laid out as their executors lay them out (why_support.recorded). Each test
asserts the key claim of its text and that the figures it quotes are the run's own.
"""

from __future__ import annotations

import dataclasses

import pytest
from why_support import recorded

from concgui.engine.present import relative_speed
from concgui.engine.records import RunResult
from concgui.gui.lessons_data import GAIN, PARALLEL, cores, faster, in_flight, lesson, t
from concgui.gui.views import help_page


def named(r: RunResult, executor: str, workers: int | None = None, **environment) -> RunResult:
    """``r`` as if ``executor`` had run it, with ``workers`` and ``environment`` changed where given."""
    return dataclasses.replace(r, spec={**r.spec, "executor": executor}, workers=workers or r.workers,
                               environment={**r.environment, **environment})


def parallelism_of(r: RunResult) -> float:
    return r.summary["parallelism"]


@pytest.fixture(scope="module")
def recorded_runs() -> dict[str, RunResult]:
    seq_sleep, threads_sleep, threads_cpu, procs_cpu = help_page.recorded_runs()
    return {"sleep loop": seq_sleep, "sleep threads": threads_sleep, "cpu threads": threads_cpu,
            "cpu processes": procs_cpu}


# --- lesson 3: hashlib in threads ------------------------------------------------------------------------
def test_hash_threads_that_computed_in_parallel_and_were_faster_confirm_the_lesson(recorded_runs):
    """Threads as fast as the two processes were (1.92 cores, 2.6× the loop): hashlib let go of the GIL."""
    seq = named(recorded_runs["cpu threads"], "sequential")
    threads, pool = (named(recorded_runs["cpu processes"], x) for x in ("threads", "thread-pool"))
    answer = lesson("hash").answer([seq, threads, pool])
    assert answer.confirmed
    assert (f"Sequential took {t(seq.wall_seconds)}. Threads took {t(threads.wall_seconds)} "
            f"({faster(seq, threads)})") in answer.text
    assert faster(seq, threads) == "2.6× faster" and cores(threads) == "1.92 cores"
    assert f"This time threads computed in parallel: {cores(threads)} on average" in answer.text
    assert "lets go of the GIL" in answer.text and "Measured" not in answer.text


def test_hash_threads_that_stayed_on_one_core_are_told_what_was_measured(recorded_runs):
    seq = named(recorded_runs["cpu threads"], "sequential")
    threads = recorded_runs["cpu threads"]  # 0.95 cores, as long as the loop
    answer = lesson("hash").answer([seq, threads, named(threads, "thread-pool")])
    assert not answer.confirmed
    assert parallelism_of(threads) < PARALLEL
    assert (f"Measured: the threads were about as fast as sequential, computing on {cores(threads)} on average "
            "though hashlib releases the GIL and this machine has 2 cores.") in answer.text
    assert cores(threads) == "0.95 cores" and "computed in parallel" not in answer.text


def test_hash_threads_side_by_side_but_no_faster_are_not_said_to_lack_cores(recorded_runs):
    """1.92 cores busy and no faster than the loop: the answer says they computed side by side, not that they
    computed on too few cores "though hashlib releases the GIL"."""
    procs = recorded_runs["cpu processes"]
    seq, threads, pool = (named(procs, x) for x in ("sequential", "threads", "thread-pool"))
    answer = lesson("hash").answer([seq, threads, pool])
    assert not answer.confirmed and seq.wall_seconds / threads.wall_seconds < GAIN
    assert (f"Measured: the threads computed on {cores(threads)} on average, as hashlib releases the GIL, yet they "
            "were about as fast as sequential") in answer.text
    assert "though hashlib releases the GIL" not in answer.text and "This time threads" not in answer.text


def test_hash_on_one_core_says_no_threads_can_compute_at_once_there(recorded_runs):
    runs = [named(recorded_runs["cpu threads"], x, cpu_count=1) for x in ("sequential", "threads", "thread-pool")]
    answer = lesson("hash").answer(runs)
    assert not answer.confirmed
    assert "This machine has one core, so even code that releases the GIL cannot compute in two threads" \
        in answer.text
    assert "Measured: the threads" not in answer.text


# --- lesson 4: asyncio against threads ---------------------------------------------------------------------
def test_waiting_asyncio_that_overlapped_confirms_it_and_a_one_worker_pool_took_rounds(recorded_runs):
    """asyncio as long as one wait (the threads' recorded 2.01 s); a pool of one worker as long as the loop
    (6.00 s): three rounds of 2 s."""
    threads = recorded_runs["sleep threads"]
    aio = named(threads, "asyncio")
    pool = named(recorded_runs["sleep loop"], "thread-pool", workers=1)
    answer = lesson("waiting").answer([aio, threads, pool])
    assert answer.confirmed
    assert (f"3 waits of {t(2.0)}: asyncio took {t(aio.wall_seconds)} in one thread, 3 threads took "
            f"{t(threads.wall_seconds)}, and the thread pool of 1 worker took {t(pool.wall_seconds)}.") in answer.text
    assert f"One event loop overlapped the waits ({in_flight(aio)} in flight on average)" in answer.text
    assert in_flight(aio) == "3.0 tasks"
    assert "ran at most 1 at once, one per worker, so the 3 waits took about 3 rounds" in answer.text
    assert pool.wall_seconds == pytest.approx(3 * 2.0, rel=0.01), "the recorded pool took its three rounds"
    assert f"(parallelism at most {cores(threads)})" in answer.text and "Measured" not in answer.text


def test_waiting_asyncio_held_up_is_told_what_it_needed_and_a_pool_of_enough_workers_had_no_rounds(recorded_runs):
    threads = recorded_runs["sleep threads"]
    aio = named(recorded_runs["sleep loop"], "asyncio")  # 6.00 s: the three waits one after another
    pool = named(threads, "thread-pool")
    answer = lesson("waiting").answer([aio, threads, pool])
    assert not answer.confirmed
    assert (f"Measured: asyncio needed {t(aio.wall_seconds)}, more than one wait of {t(2.0)} plus a little; the "
            "event loop was held up.") in answer.text
    assert t(aio.wall_seconds) == "6.00 s" and "One event loop overlapped" not in answer.text
    assert "The thread pool had 3 workers, enough for every wait at once." in answer.text
    assert "rounds" not in answer.text


# --- lesson 5: what handing out a task costs -------------------------------------------------------------------
def noop(executor: str, workers: int, gap: float, startup: float = 0.0, **spec) -> RunResult:
    """2,000 no-ops, ``gap`` seconds apart on each of ``workers`` lanes: the executor's cost per task."""
    return recorded(executor, "noop", tasks=2000, workers=workers, duration=1e-6, cpu=1e-6, gap=gap,
                    startup=startup, spec=spec)


def dispatch_runs(loop_gap: float = 1e-6, chunked_gap: float = 2e-5) -> list[RunResult]:
    """The lesson's five runs: about 2 µs a task in the loop, 15 µs in the thread pool, 50 µs in threads,
    200 µs in the process pool, 10 µs in chunks of 100, as measured on a 2-core machine (unless changed)."""
    return [noop("sequential", 1, loop_gap), noop("threads", 4, 2e-4), noop("thread-pool", 4, 6e-5),
            noop("process-pool", 2, 4e-4, 0.1), noop("process-pool", 2, chunked_gap, 0.1, chunk_size=100)]


def per_task(r: RunResult) -> str:
    return t(r.wall_seconds / len(r.tasks))


def test_dispatch_with_the_loop_cheapest_and_chunks_cutting_the_cost_confirms_the_lesson():
    seq, threads, pool, procs, chunked = runs = dispatch_runs()
    answer = lesson("dispatch").answer(runs)
    assert answer.confirmed
    assert (f"costs per task: sequential {per_task(seq)}; threads {per_task(threads)}; thread-pool {per_task(pool)}; "
            f"process-pool {per_task(procs)}; process-pool (chunks of 100) {per_task(chunked)}.") in answer.text
    dearest = procs.wall_seconds / seq.wall_seconds
    assert f"Cheapest: sequential; dearest: process-pool, about {relative_speed(dearest)} the cost" in answer.text
    cut = procs.wall_seconds / chunked.wall_seconds
    assert (f"chunks of 100 cut the process pool's cost per task from {per_task(procs)} to {per_task(chunked)} "
            f"({relative_speed(cut)} lower)") in answer.text
    assert f"Starting the process pool took {t(procs.startup_seconds)} more" in answer.text
    assert f"at {per_task(procs)} a task, process-pool needs tasks of milliseconds" in answer.text
    assert "Measured" not in answer.text


@pytest.mark.parametrize(("chunked_gap", "said"), [(3.3e-4, "cut the process pool's cost per task only from"),
                                                   (4.2e-4, "did not cut the process pool's cost per task")])
def test_dispatch_chunks_that_saved_little_or_nothing_say_so_with_both_costs(chunked_gap, said):
    """Chunks 1.2× cheaper are not "not cheaper"; chunks dearer are not "cut"."""
    runs = dispatch_runs(chunked_gap=chunked_gap)
    procs, chunked = runs[3], runs[4]
    answer = lesson("dispatch").answer(runs)
    assert not answer.confirmed
    assert f"Measured: chunks of 100 {said}" in answer.text
    assert per_task(procs) in answer.text and per_task(chunked) in answer.text
    assert "one message carries many tasks" not in answer.text


def test_dispatch_with_an_executor_cheaper_than_the_loop_is_told_what_was_measured():
    """A loop slowed to 300 µs a task (by other programs, say): every executor beat it, the chunked pool's
    10 µs most. The answer says so, and its advice still names an executor, not the loop."""
    runs = dispatch_runs(loop_gap=3e-4)
    seq, procs, chunked = runs[0], runs[3], runs[4]
    answer = lesson("dispatch").answer(runs)
    assert not answer.confirmed
    assert "Cheapest: process-pool (chunks of 100); dearest: sequential" in answer.text
    assert (f"Measured: process-pool (chunks of 100) was cheaper per task ({per_task(chunked)}) than running the "
            f"tasks in a plain loop ({per_task(seq)})") in answer.text
    assert f"at {per_task(procs)} a task, process-pool needs tasks of milliseconds" in answer.text
    assert "sequential needs tasks" not in answer.text


def test_each_runs_explanation_keeps_its_notes_on_lines_of_their_own():
    import dataclasses

    from concgui.gui.lessons_data import LESSONS
    from concgui.gui.views import help_page
    from concgui.gui.views.lessons import answer_html

    runs = help_page.recorded_runs()[2:4]  # real runs: cpu × 4 in threads, in 2 processes
    busy = [dataclasses.replace(r, environment={**r.environment, "other_programs_cores": 2.0, "steal_cores": 0.0,
                                                "cpu_count": 2}) for r in runs]
    text = answer_html(LESSONS[1].answer(busy), busy)
    assert "<br>Note: Other programs used 2.0 cores" in text, text

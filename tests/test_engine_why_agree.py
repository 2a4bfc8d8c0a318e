"""Numbers and sentences that agree with what was measured: the newcomer review's defects, each on the runs
that showed it (recorded with the review's figures, or run here where a real run shows it in a second)."""

from __future__ import annotations

import pytest
from why_support import recorded, sequential

from concgui.engine import ExperimentSpec, metrics, run, summary, why_compare
from concgui.engine.metrics import COMPARE_COLUMNS, metric
from concgui.engine.present import MISSING, relative_speed, speedup
from concgui.engine.records import CANCELLED, OK, ThreadStates
from concgui.engine.summary import busy_machine, busy_machine_sentence, summarize
from concgui.engine.why import diagnose, failed_text, why_run
from concgui.engine.why_compare import compare_why, memory_sentence


def stopped(result, finished: int, running: int = 1, status: str = "cancelled"):
    """``result`` stopped after its first ``finished`` tasks, the next ``running`` stopped while they ran (their
    spans cut at half their length), the rest never started."""
    for t in result.tasks[finished:]:
        t.status = CANCELLED
        if t.index < finished + running:
            t.end = t.start + (t.end - t.start) / 2
        else:
            t.start = t.end = None
    result.status = status
    ends = [t.end for t in result.tasks if t.end is not None]
    result.wall_seconds = max(ends) - result.startup_seconds if ends else 0.0
    return result


# --- 1: a stopped run has no speedup ------------------------------------------------------------------------
def test_a_stopped_run_has_no_speedup_or_efficiency():
    """The seed notebook's Compare stopped in threads: 0 of 3 sleeps finished after 1.57 s, which read 3.83× and
    128 % against the sequential 6.0 s."""
    base = sequential("sleep", tasks=3, duration=2.0, cpu=0.0001, shares=(0.0, 0.0, 1.0))
    threads = recorded("threads", "sleep", tasks=3, workers=3, duration=3.13, cpu=0.0001, shares=(0.0, 0.0, 1.0))
    stopped(threads, 0, 3)
    s = summarize(threads, base)
    assert threads.wall_seconds == pytest.approx(1.565) and base.wall_seconds / threads.wall_seconds > 3.8
    assert s["speedup"] is None and s["efficiency"] is None and s["baseline"] is None
    assert metric("speedup").text(s) == MISSING and metric("efficiency").text(s) == MISSING
    assert summary.run_speedup(threads, base) is None and relative_speed(summary.run_speedup(threads, base)) == MISSING
    threads.summary = s
    assert [c.show(threads) for c in COMPARE_COLUMNS if c.label in ("speedup", "efficiency")] == [MISSING] * 2
    assert "3.8" not in compare_why([base, threads])
    failed = recorded("threads", "sleep", tasks=3, workers=3, duration=2.0, cpu=0.0001)
    failed.status = "failed"  # every task ended, yet the run failed: not a result to rank either
    assert summarize(failed, base)["speedup"] is None
    done = recorded("threads", "sleep", tasks=3, workers=3, duration=2.0, cpu=0.0001)
    assert summarize(done, base)["speedup"] == pytest.approx(3.0, abs=0.01)  # a finished run keeps its speedup
    base.status = "cancelled"  # nor is a stopped baseline a measure for anyone
    assert summarize(done, base)["speedup"] is None


# --- 2: a busy machine only where the run wanted the cores others took ---------------------------------------
def test_sleeping_runs_are_not_told_other_programs_slowed_them():
    """The review's seed Compare: three sleeps side by side at the ideal 3.00×, while other programs used 1.3 of
    the 2 cores; sleeping needs no core, so nothing was taken from the run."""
    base = sequential("sleep", tasks=3, duration=2.0, cpu=0.0001, shares=(0.0, 0.0, 1.0), other=1.2)
    threads = recorded("threads", "sleep", tasks=3, workers=3, duration=2.0, cpu=0.0001, shares=(0.0, 0.0, 1.0),
                       other=1.3, baseline=base)
    for r in (base, threads):
        assert not busy_machine(r) and busy_machine_sentence(r) == ""
        assert not COMPARE_COLUMNS[-1].show(r).startswith("⚠")
    assert "Other programs" not in compare_why([base, threads])


def test_a_run_that_wanted_the_cores_others_took_is_told_so():
    # 2 processes computing on 2 cores, waiting for one 33 % of the time, while other programs took 0.7 cores
    crowded = recorded("process-pool", "cpu", tasks=4, workers=2, duration=0.77, cpu=0.5, startup=0.09,
                       gap=0.003, shares=(0.65, 0.33, 0.02), other=0.69)
    assert busy_machine(crowded) and "Other programs used 0.7 cores" in busy_machine_sentence(crowded)
    # without the X-ray: 1.3 cores computing and 0.7 taken by others fill the machine
    crowded.thread_states = []
    crowded.summary = summarize(crowded)
    assert busy_machine(crowded)
    # one task at a time on a 2-core machine: the other core was free for the 0.5 others took
    alone = sequential("cpu", tasks=4, duration=0.5, cpu=0.49, shares=(0.97, 0.02, 0.01), other=0.5)
    assert not busy_machine(alone) and busy_machine_sentence(alone) == ""
    # ... but on one core, it was not
    assert busy_machine(sequential("cpu", tasks=4, duration=0.5, cpu=0.3, shares=(0.6, 0.38, 0.02), other=0.5,
                                   cores=1))


# --- 3: a tie is a tie --------------------------------------------------------------------------------------
def test_runs_within_the_tolerance_are_a_tie_not_a_winner():
    """thread-pool 2.000505 s against threads 2.000830 s named thread-pool fastest and threads first with
    start-up: both from 0.02 % of noise."""
    base = sequential("sleep", tasks=3, duration=2.0, cpu=0.0001, shares=(0.0, 0.0, 1.0))
    threads = recorded("threads", "sleep", tasks=3, workers=3, duration=2.0, cpu=0.0001, gap=0.00083,
                       startup=0.002, shares=(0.0, 0.0, 1.0), baseline=base)
    pool = recorded("thread-pool", "sleep", tasks=3, workers=6, duration=2.0, cpu=0.0001, gap=0.000505,
                    startup=0.003, shares=(0.0, 0.0, 1.0), baseline=base)
    text = compare_why([base, threads, pool])
    assert text.startswith("threads and thread-pool tied at 2.00 s, 3.0× as fast as sequential."), text
    assert "fastest" not in text and "finished first" not in text
    assert "Both overlapped 3.0 waiting tasks at once, while sequential ran one task at a time." in text
    assert 0.01 <= why_compare.TIE <= 0.05
    # beyond the tolerance the faster one wins
    slower = recorded("threads", "sleep", tasks=3, workers=3, duration=2.0, cpu=0.0001,
                      gap=2.0 * (why_compare.TIE + 0.01), shares=(0.0, 0.0, 1.0), baseline=base)
    assert compare_why([base, slower, pool]).startswith("thread-pool was fastest: 2.00 s")
    # a tie with the baseline: nothing beat it
    same = recorded("threads", "sleep", tasks=3, workers=1, duration=2.0, cpu=0.0001, shares=(0.0, 0.0, 1.0),
                    baseline=base)
    assert compare_why([base, same]).startswith("sequential and threads tied at 6.0"), compare_why([base, same])


def test_start_up_changes_the_order_only_beyond_the_tolerance():
    """process-pool's work was 4 % shorter, its start-up 5 ms longer: counting start-up the two finished within
    1 % of each other, which is no order."""
    base = sequential("sleep", tasks=4, duration=0.1, cpu=0.00002)
    threads = recorded("thread-pool", "sleep", tasks=4, workers=4, duration=0.1, cpu=0.00004, startup=0.001,
                       gap=0.004, baseline=base)
    processes = recorded("process-pool", "sleep", tasks=4, workers=4, duration=0.1, cpu=0.0004, startup=0.006,
                         baseline=base)
    text = compare_why([base, threads, processes])
    assert text.startswith("process-pool was fastest") and "Counting start-up" not in text, text


# --- 4: the next step follows from the workload and the measured shares ---------------------------------------
def test_hash_in_one_thread_is_told_threads_suffice():
    """hashlib releases the GIL: threads hash on every core, without a process each."""
    text = why_run(sequential("hash", duration=0.24, cpu=0.23, shares=(0.95, 0.04, 0.01)))
    assert "Try process-pool" not in text and "own GIL" not in text
    assert "Try thread-pool next: hashlib releases the GIL while it hashes, so threads" in text, text
    on_the_loop = recorded("asyncio", "hash", tasks=4, workers=1, duration=0.24, cpu=0.23, shares=None)  # one by one
    reason = diagnose(on_the_loop)
    assert reason.kind == "loop" and reason.next.startswith("Turn on offload: hashlib releases the GIL"), reason


def test_counter_threads_are_not_sent_to_processes_that_would_not_share_the_counter():
    for lock in (False, True):
        run_ = counter_run("thread-pool", lock=lock, lost=0 if lock else 953_657, shares=(0.3, 0.18, 0.52))
        reason = diagnose(run_)
        assert "Try process-pool" not in reason.next, reason.next
        assert "counter" in reason.next and "process" in reason.next, reason.next
    lone = counter_run("sequential", lock=False, lost=0, shares=(0.97, 0.02, 0.01))
    assert "Try process-pool" not in why_run(lone)


# --- 5: a stopped run's sentence says what its sums count -------------------------------------------------------
def test_a_stopped_run_says_its_numbers_count_the_stopped_task_too():
    """2 of 10 sleeps finished and the third was stopped after 0.82 s: the sum of task times counts it, and so
    must the sentence."""
    run_ = stopped(recorded("sequential", "sleep", tasks=10, workers=1, duration=2.0, cpu=0.0001), 2)
    s = summarize(run_)
    assert s["task_seconds"] == pytest.approx(5.0) and s["ran"] == 3
    text = failed_text(run_)
    assert "2 of 10 tasks finished and 1 was stopped while it ran" in text, text
    assert "describe those 3" in text, text
    stopped_none = stopped(recorded("threads", "sleep", tasks=3, workers=3, duration=2.0, cpu=0.0001), 0, 3)
    assert "No task finished" in failed_text(stopped_none) and "3 were stopped while they ran" in \
        failed_text(stopped_none)


# --- 6: tiny tasks: parallelism within concurrency, the sequential sentence, too few X-ray intervals -----------
@pytest.mark.parametrize("executor", ["sequential", "thread-pool"])
def test_tiny_tasks_never_compute_on_more_cores_than_tasks_in_flight(executor):
    """The dispatch lesson's no-ops: sequential read concurrency 0.13 and parallelism 0.89, as each task's CPU
    time counted the executor's hand-over before it began."""
    result = run(ExperimentSpec(workload="noop", executor=executor, tasks=2000, isolation="inline"))
    s = result.summary
    assert result.status == OK
    assert s["parallelism"] <= s["concurrency"] + 1e-9, s
    assert s["cpu_seconds"] <= s["task_seconds"] + 1e-12


def test_the_sequential_sentence_says_the_wall_is_the_sum_only_where_it_is():
    flood = recorded("sequential", "noop", tasks=2000, workers=1, duration=2.5e-7, cpu=2.5e-7, gap=1.7e-6)
    text = why_run(flood)
    assert "the wall time is the sum of the task times" not in text, text
    assert "the tasks' own times add up to 500.0 µs of the 3.9 ms wall time" in text, text
    assert "between the tasks" in text
    assert "the wall time is the sum of the task times (620.0 ms)" in why_run(sequential())


def test_xray_shares_of_a_run_shorter_than_a_few_intervals_are_no_finding():
    """4 ms of no-ops inside one 20 ms probe interval read "blocked 92 % on the GIL, a lock…": the interval's
    shares are mostly what the thread did before and after the work."""
    flood = recorded("sequential", "noop", tasks=2000, workers=1, duration=2.5e-7, cpu=2.5e-7, gap=1.7e-6)
    flood.thread_states = [ThreadStates(flood.startup_seconds + 0.02, 0.02, {"thread 0": (0.08, 0.0, 0.92)})]
    flood.summary = summarize(flood)
    assert flood.summary["blocked_share"] is None
    assert "92 %" not in why_run(flood) and "blocked" not in why_run(flood)
    long_enough = sequential()  # 620 ms under 25 intervals
    assert long_enough.summary["on_core_share"] == pytest.approx(0.96)


# --- 7: the Compare table tells runs apart -----------------------------------------------------------------------
def test_the_executor_column_names_the_field_that_differs():
    one = recorded("process-pool", "noop", tasks=2000, workers=2, duration=1e-5, cpu=1e-5, spec={"chunk_size": 1})
    hundred = recorded("process-pool", "noop", tasks=2000, workers=2, duration=1e-5, cpu=1e-5,
                       spec={"chunk_size": 100})
    column = COMPARE_COLUMNS[0]
    assert column.show(one) == "process-pool" and column.show(hundred) == "process-pool (chunks of 100)"
    assert metrics.run_label({"executor": "thread-pool", "workload": "counter", "lock": True}) == "thread-pool (lock)"
    assert metrics.run_label({"executor": "process-pool", "workload": "cpu", "start_method": "spawn"}) == \
        "process-pool (spawn)"
    assert metrics.run_label({"executor": "joblib", "backend": "loky", "batch_size": 8}) == \
        "joblib (loky, batches of 8)"
    assert metrics.run_label({"executor": "thread-pool", "workload": "cpu", "chunk_size": 100}) == "thread-pool"
    # and the Compare's sentences name each by what differs, where an executor ran twice
    names = why_compare._names([sequential("noop"), one, hundred])
    assert sorted(names.values()) == ["process-pool (chunks of 1)", "process-pool (chunks of 100)", "sequential"]


# --- 8: a counter Compare leads with the count ---------------------------------------------------------------
def counter_run(executor: str, *, lock: bool, lost: int, processes: int = 1, wall: float = 0.15,
                shares=(0.3, 0.18, 0.52), startup: float = 0.005, baseline=None):
    """4 tasks of 500,000 increments; ``lost`` of them missing from the count; in ``processes`` processes."""
    workers = 1 if executor == "sequential" else (2 if processes > 1 else 4)
    result = recorded(executor, "counter", tasks=4, workers=workers, duration=wall if workers == 4 else wall / 2,
                      cpu=wall / 2, startup=startup, shares=shares,
                      spec={"increments": 500_000, "lock": lock, "chunk_size": 1})
    for k, t in enumerate(result.tasks):
        t.pid = 100 + (k % processes)
        per = 4 // processes
        t.value = 500_000 * (k // processes + 1) - (lost * (k // processes + 1)) // per
    result.summary = summarize(result, baseline)
    return result


def test_a_counter_compare_leads_with_the_count_and_names_each_thread_pool_run():
    free = counter_run("thread-pool", lock=False, lost=953_657, wall=0.157)
    locked = counter_run("thread-pool", lock=True, lost=0, wall=1.301, shares=(0.25, 0.56, 0.19), baseline=free)
    procs = counter_run("process-pool", lock=False, lost=0, processes=2, wall=0.0592, startup=0.386,
                        shares=(0.67, 0.2, 0.13), baseline=free)
    assert free.summary["counter_lost"] == 953_657 and procs.summary["counter_processes"] == 2
    text = compare_why([free, locked, procs])
    first = text.split(". ")[0]
    assert "thread-pool with the lock" in first and "thread-pool without the lock" in first, text
    assert "953,657" in first and "fastest" not in first
    assert "process-pool was fastest" not in text
    assert "Counting start-up, thread-pool finished" not in text  # not a bare "thread-pool"
    assert "It took 1.30 s, 8.3× slower than thread-pool without the lock" in text, text

    both_right = compare_why([counter_run("thread-pool", lock=True, lost=0, wall=1.3),
                              counter_run("sequential", lock=False, lost=0, wall=0.5)])
    assert both_right.startswith("Every run counted all 2,000,000 increments. sequential was fastest"), both_right
    procs.status = "failed"
    assert compare_why([free, locked, procs]).endswith("Process-pool failed, so it is not ranked.")


def test_runs_that_did_not_finish_are_said_in_the_plural_where_several_did_not():
    base = sequential()
    threads = recorded("threads", "cpu", tasks=4, workers=4, duration=0.3, cpu=0.1, baseline=base)
    pool = stopped(recorded("thread-pool", "cpu", tasks=4, workers=2, duration=0.3, cpu=0.1, baseline=base), 1)
    procs = recorded("process-pool", "cpu", tasks=4, workers=2, duration=0.155, cpu=0.152, baseline=base)
    procs.status = "failed"
    assert compare_why([base, threads, pool]).endswith("Thread-pool cancelled, so it is not ranked.")
    assert compare_why([base, threads, pool, procs]).endswith(
        "Thread-pool cancelled; process-pool failed, so they are not ranked.")
    counters = [counter_run("thread-pool", lock=False, lost=10, wall=0.157),
                counter_run("thread-pool", lock=True, lost=0, wall=1.3), counter_run("threads", lock=False, lost=0),
                counter_run("process-pool", lock=False, lost=0, processes=2)]
    counters[2].status = counters[3].status = "failed"  # a counter Compare, which leads with the count
    assert compare_why(counters).endswith(
        "Threads failed; process-pool failed, so they are not ranked."), compare_why(counters)


# --- 9: small words ---------------------------------------------------------------------------------------------
def test_possessives_rounding_and_below_one_speedups_read_right():
    base = sequential()
    threads = recorded("threads", "cpu", tasks=4, workers=4, duration=0.3, cpu=0.1, shares=(0.3, 0.1, 0.6),
                       baseline=base)
    procs = recorded("process-pool", "cpu", tasks=4, workers=2, duration=0.155, cpu=0.152, startup=0.2,
                     shares=(0.96, 0.02, 0.02), baseline=base)
    threads.summary.update(memory_total_mb=19.5, memory_per_worker_mb=19.5, memory_processes=1)
    procs.summary.update(memory_total_mb=9.2, memory_per_worker_mb=4.6, memory_processes=2)
    text = memory_sentence([base, threads, procs])
    assert "threads's" not in text and "threads' 4 threads shared one process" in text, text
    assert "9.2 MB in total, 4.6 MB each" in text, text
    # one wording for a speedup below 1, in the summary's formatter and the labels' alike
    assert speedup(0.72) == "1.39× slower" and relative_speed(0.72) == "1.4× slower"
    assert speedup(1.0) == "1.00×" and speedup(0.999) == "1.00×" and speedup(3.83) == "3.83×"
    assert metric("speedup").text({"speedup": 0.72, "baseline": "sequential"}) == "1.39× slower vs sequential"

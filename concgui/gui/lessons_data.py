"""The guided lessons: a question, the preset comparison that answers it, and the answer from its numbers.

Qt-free: a lesson names a shipped preset (``resources/presets.json``) and which of
its runs to make; :func:`Lesson.answer` turns the results that came back into a few
sentences that quote the measured figures.  Where the numbers contradict the
expected lesson (a busy machine, one core, a Python without the GIL) the answer
says what was measured instead of the textbook result: a lesson that lies once
teaches nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..engine.metrics import measured_note, run_label
from ..engine.present import count, number, percent, relative_speed, seconds, speedup
from ..engine.records import RunResult
from ..engine.spec import ExperimentSpec
from ..engine.summary import busy_machine_sentence
from ..engine.why_compare import TIE

#: a speedup below this is "no faster"; above it, a real gain
GAIN = 1.3
#: cores busy on average above which a run computed in parallel (more than one core's worth)
PARALLEL = 1.2


@dataclass(frozen=True)
class Answer:
    """What a lesson's run showed: ``confirmed`` when the numbers gave the expected lesson; not ``finished``
    when the comparison was stopped or failed before every run ended (then it says only that)."""

    confirmed: bool
    paragraphs: tuple[str, ...]
    finished: bool = True

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True)
class Lesson:
    """One guided experiment: ``preset``'s runs on ``executors`` (all of them when empty)."""

    key: str
    title: str
    question: str
    watch: str  # what to look at while it runs
    preset: str
    explain: Callable[[dict[str, RunResult]], Answer]
    concept: str  # the section of Help ▸ Concurrency and parallelism that explains it
    executors: tuple[str, ...] = ()

    def specs(self, preset_specs: Sequence[ExperimentSpec], duration_scale: float = 1.0) -> list[ExperimentSpec]:
        """The preset's specs this lesson runs, durations times ``duration_scale`` (tests run them short)."""
        chosen = [s for s in preset_specs if not self.executors or s.executor in self.executors]
        if duration_scale != 1.0:
            chosen = [s.with_(duration=s.duration * duration_scale) for s in chosen]
        return chosen

    def answer(self, results: Sequence[RunResult], planned: int | None = None) -> Answer:
        """The answer from ``results``; says so plainly when a run failed or some did not run."""
        bad = [r for r in results if r.status != "ok"]
        if bad or not results or (planned is not None and len(results) < planned):
            what = "; ".join(f"{label(r)}: {r.status}" + (f" ({r.error})" if r.error else "") for r in bad)
            done = len(results) - len(bad)
            missing = "" if planned is None else f" {done} of {planned} runs finished."
            return Answer(False, (f"The comparison did not finish{': ' + what if what else ''}.{missing} "
                                  "Press the button to run it again.",), finished=False)
        try:
            answer = self.explain({label(r): r for r in results})
        except KeyError as exc:  # an executor unavailable here (the preset lists it, this machine skipped it)
            return Answer(False, (f"This machine could not run {exc.args[0]}, which this lesson needs.",),
                          finished=False)
        busy = [(r, line) for r in results if (line := busy_machine_sentence(r))]
        if busy and not any(line in answer.text for _, line in busy):  # the figures are a busy machine's: say so
            r, line = busy[0]
            answer = Answer(answer.confirmed, (*answer.paragraphs, f"Note, about the {label(r)} run: {line}"))
        return answer


# --- how the answers quote numbers ----------------------------------------------------------------
def label(r: RunResult) -> str:
    """The run's name in an answer, as the Compare table names it (:func:`~concgui.engine.metrics.run_label`):
    its executor and how it ran where that is not the default ("process-pool (chunks of 100)"); a counter run's
    says so ("thread-pool (counter, lock)"), as a lesson may run the same executor on other work too."""
    spec = r.spec or {}
    return run_label(spec, ("counter",) if spec.get("workload") == "counter" else ())


def t(value: float) -> str:
    """A time in an answer: two decimals in seconds, milliseconds or microseconds below a second."""
    return seconds(value, 2)


def ratio(baseline: RunResult, r: RunResult) -> float:
    return baseline.wall_seconds / r.wall_seconds if r.wall_seconds > 0 else math.inf


def faster(baseline: RunResult, r: RunResult) -> str:
    """"3.0× faster", "about as fast" or "1.4× slower": ``r`` against ``baseline``. About as fast within
    :data:`~concgui.engine.why_compare.TIE` either way, the Compare's own tie, so a lesson's answer and the
    Compare's text beside it never call one pair of runs a tie and a win; just past it, two decimals ("1.04×
    faster"), as one would read "1.0× faster"."""
    s = ratio(baseline, r)
    if 1 / (1 + TIE) <= s <= 1 + TIE:
        return "about as fast"
    text = relative_speed(s)
    if text in ("1.0×", "1.0× slower"):
        text = speedup(s, 2)
    return text if text.endswith("slower") else f"{text} faster"


def against(baseline: RunResult, r: RunResult) -> str:
    """:func:`faster` with what it is against, for a sentence: "about as fast as sequential",
    "2.6× faster than sequential", "1.4× slower than sequential"."""
    text, name = faster(baseline, r), label(baseline)
    return f"{text} as {name}" if text == "about as fast" else f"{text} than {name}"


def cores(r: RunResult) -> str:
    return number(r.summary.get("parallelism"), 2, "cores")


def parallelism(r: RunResult) -> float:
    return r.summary.get("parallelism") or 0.0


def in_flight(r: RunResult) -> str:
    return number(r.summary.get("concurrency"), 1, "tasks")


def machine_cores(r: RunResult) -> int:
    return int(r.environment.get("cpu_count") or 1)


def busy_note(*runs: RunResult) -> str:
    """The first run's busy-machine sentence, or a plain "run it again" when the machine looked quiet."""
    for r in runs:
        line = busy_machine_sentence(r)
        if line:
            return line
    return "Nothing else measured explains it; run the lesson again, and close other busy programs."


def workers_of(r: RunResult) -> str:
    return count(r.workers, "worker")


# --- each lesson's answer --------------------------------------------------------------------------
def _seed(runs: dict[str, RunResult]) -> Answer:
    seq, threads, pool = runs["sequential"], runs["threads"], runs["thread-pool"]
    n = len(seq.tasks)
    each = seq.spec.get("duration", 0.0)
    first = (f"Sequential took {t(seq.wall_seconds)}: {count(n, 'sleep')} of {t(each)}, one after another. "
             f"Threads took {t(threads.wall_seconds)} ({faster(seq, threads)}) and the thread pool "
             f"{t(pool.wall_seconds)} ({faster(seq, pool)}).")
    best = max(ratio(seq, threads), ratio(seq, pool))
    if best >= max(GAIN, 0.7 * n):  # n sleeps that overlap: about n times faster
        why = (f"Why: the {n} sleeps overlapped. On average {in_flight(threads)} were in flight at once "
               f"(concurrency), yet only {cores(threads)} computed (parallelism): a sleeping thread needs no core, "
               "and time.sleep lets go of the GIL, so the other threads carry on. That is concurrency without "
               "parallelism — it works just as well on a machine with one core.")
        return Answer(True, (first, why))
    why = (f"Measured: the threads were only {relative_speed(best)} faster, where {n} overlapping sleeps should "
           f"give about {n}×. {busy_note(threads, pool, seq)}")
    return Answer(False, (first, why))


def _cpu(runs: dict[str, RunResult]) -> Answer:
    seq, threads, pool, procs = runs["sequential"], runs["threads"], runs["thread-pool"], runs["process-pool"]
    first = (f"Sequential took {t(seq.wall_seconds)}. Threads took {t(threads.wall_seconds)} ({faster(seq, threads)}), "
             f"the thread pool of {workers_of(pool)} {t(pool.wall_seconds)} ({faster(seq, pool)}), and the process "
             f"pool of {workers_of(procs)} {t(procs.wall_seconds)} ({faster(seq, procs)}; starting its processes "
             f"took {t(procs.startup_seconds)} more).")
    gil = threads.environment.get("gil_enabled", True)
    best_thread = max(ratio(seq, threads), ratio(seq, pool))
    if best_thread < GAIN and gil:
        on_threads = (f"Threads did not help: on average {cores(threads)} computed, though {in_flight(threads)} "
                      "were in flight. Python code runs only in the thread that holds the GIL (the global "
                      "interpreter lock), so the threads took turns on one core.")
        if best_thread < 0.95:
            on_threads += " They were even slower than the loop: handing the GIL from thread to thread costs time."
        thread_ok = True
    elif not gil:
        on_threads = (f"This Python runs without the GIL (a free-threaded build), so threads computed on "
                      f"{cores(threads)} at once: {relative_speed(best_thread)} faster. With the GIL they would "
                      "take turns.")
        thread_ok = False
    else:
        on_threads = (f"Measured: threads were {relative_speed(best_thread)} faster, which the GIL should not "
                      f"allow for pure-Python work (parallelism {cores(threads)}). The sequential run may have been "
                      f"slowed by other work. {busy_note(seq, threads)}")
        thread_ok = False
    gain = ratio(seq, procs)
    if gain >= GAIN and parallelism(procs) >= PARALLEL:
        on_procs = (f"The process pool computed on {cores(procs)} at once (parallelism): each process has its own "
                    "interpreter and its own GIL, so CPU-bound Python runs in parallel — at the price of starting "
                    "the processes and sending them the work.")
        procs_ok = True
    elif machine_cores(procs) < 2:
        on_procs = ("This machine has one core, so the processes could not compute at the same time either: "
                    f"the process pool was {against(seq, procs)}.")
        procs_ok = False
    else:
        on_procs = (f"Measured: the process pool was {against(seq, procs)}, computing on only {cores(procs)} on "
                    f"average though this machine has {count(machine_cores(procs), 'core')}. {busy_note(procs, seq)}")
        procs_ok = False
    return Answer(thread_ok and procs_ok, (first, on_threads, on_procs))


def _hash(runs: dict[str, RunResult]) -> Answer:
    seq, threads, pool = runs["sequential"], runs["threads"], runs["thread-pool"]
    first = (f"Sequential took {t(seq.wall_seconds)}. Threads took {t(threads.wall_seconds)} ({faster(seq, threads)}) "
             f"and the thread pool of {workers_of(pool)} {t(pool.wall_seconds)} ({faster(seq, pool)}).")
    best = max((threads, pool), key=lambda r: ratio(seq, r))
    gain = ratio(seq, best)
    if gain >= GAIN and parallelism(best) >= PARALLEL:
        why = (f"This time threads computed in parallel: {cores(best)} on average. hashlib's C code lets go of the "
               "GIL while it hashes a large buffer, so the other threads run meanwhile. Threads speed up CPU work "
               "when that work is C code that releases the GIL (hashlib, zlib, NumPy), not pure Python — compare "
               "lesson 2.")
        return Answer(True, (first, why))
    if machine_cores(best) < 2:
        why = ("This machine has one core, so even code that releases the GIL cannot compute in two threads at "
               "once; on two or more cores the threads would be faster here.")
    elif parallelism(best) >= PARALLEL:  # side by side, and yet not faster: not "though hashlib releases the GIL"
        why = (f"Measured: the threads computed on {cores(best)} on average, as hashlib releases the GIL, yet they "
               f"were {against(seq, best)}, where computing side by side should make them faster. "
               f"{busy_note(best, seq)}")
    else:
        why = (f"Measured: the threads were {against(seq, best)}, computing on {cores(best)} on average though "
               f"hashlib releases the GIL and this machine has {count(machine_cores(best), 'core')}. "
               f"{busy_note(best, seq)}")
    return Answer(False, (first, why))


def _waiting(runs: dict[str, RunResult]) -> Answer:
    aio, threads, pool = runs["asyncio"], runs["threads"], runs["thread-pool"]
    n = len(aio.tasks)
    each = aio.spec.get("duration", 0.0)
    rounds = math.ceil(n / max(1, pool.workers))
    first = (f"{count(n, 'wait')} of {t(each)}: asyncio took {t(aio.wall_seconds)} in one thread, "
             f"{count(threads.workers, 'thread')} took {t(threads.wall_seconds)}, and the thread pool of "
             f"{workers_of(pool)} took {t(pool.wall_seconds)}.")
    paragraphs = [first]
    aio_ok = aio.wall_seconds <= 1.5 * each + 0.1
    if aio_ok:
        paragraphs.append(
            f"One event loop overlapped the waits ({in_flight(aio)} in flight on average) without a thread each: "
            "while a coroutine awaits asyncio.sleep, the loop runs the others. For waiting (network, timers) "
            "asyncio gives the concurrency of many threads with one.")
    else:
        paragraphs.append(f"Measured: asyncio needed {t(aio.wall_seconds)}, more than one wait of {t(each)} plus "
                          f"a little; the event loop was held up. {busy_note(aio)}")
    peak = pool.summary.get("peak_in_flight")
    if rounds > 1:
        paragraphs.append(
            f"The thread pool ran at most {peak if peak is not None else pool.workers} at once, one per worker, so "
            f"the {n} waits took about {rounds} rounds. Its limit is its workers, not the cores: waiting needs "
            f"no core (parallelism at most {cores(max(runs.values(), key=parallelism))}). Waiting is concurrency, "
            "not parallelism.")
    else:
        paragraphs.append(f"The thread pool had {workers_of(pool)}, enough for every wait at once.")
    return Answer(aio_ok, tuple(paragraphs))


def _dispatch(runs: dict[str, RunResult]) -> Answer:
    per = {name: r.wall_seconds / max(1, len(r.tasks)) for name, r in runs.items()}
    n = len(next(iter(runs.values())).tasks)
    listed = "; ".join(f"{name} {t(cost)}" for name, cost in per.items())
    first = f"Each of the {n:,} tasks does nothing, so the time is what the executor costs per task: {listed}."
    cheap, dear = min(per, key=per.get), max(per, key=per.get)
    dearest_executor = max((name for name in per if name != "sequential"), key=per.get, default=dear)
    second = (f"Cheapest: {cheap}; dearest: {dear}, about {relative_speed(per[dear] / per[cheap])} the cost of "
              f"the cheapest. "
              "A thread pool hands a task to a thread already running; threads start a new thread per task; a "
              "process pool sends every task to another process and its result back.")
    paragraphs = [first, second]
    procs = runs.get("process-pool")
    chunked = next((r for name, r in runs.items() if name.startswith("process-pool (")), None)
    confirmed = cheap == "sequential"
    if procs is not None and chunked is not None:
        cut = per["process-pool"] / per[label(chunked)] if per[label(chunked)] > 0 else math.inf
        size, one, chunks = chunked.spec.get("chunk_size"), t(per["process-pool"]), t(per[label(chunked)])
        if cut >= GAIN:
            paragraphs.append(f"Sending the tasks in chunks of {size} cut the process pool's cost per task from "
                              f"{one} to {chunks} ({relative_speed(cut)} lower): one message carries many tasks.")
        else:  # a little cheaper, or not at all: say which, with both costs
            did = (f"cut the process pool's cost per task only from {one} to {chunks}" if cut > 1 + TIE else
                   f"did not cut the process pool's cost per task: {one} without chunks, {chunks} with them")
            paragraphs.append(f"Measured: chunks of {size} {did}, where one message for many tasks usually cuts it "
                              "several times.")
            confirmed = False
    if procs is not None:
        paragraphs.append(f"Starting the process pool took {t(procs.startup_seconds)} more, not counted above.")
    paragraphs.append(f"An executor pays off only when each task takes much longer than it costs: at "
                      f"{t(per[dearest_executor])} a task, {dearest_executor} needs tasks of milliseconds, not "
                      "microseconds.")
    if cheap != "sequential":
        paragraphs.append(f"Measured: {cheap} was cheaper per task ({t(per[cheap])}) than running the tasks in a "
                          f"plain loop ({t(per['sequential'])}), which costs nothing to hand out. "
                          f"{busy_note(runs['sequential'])}")
    return Answer(confirmed, tuple(paragraphs))


def _counter_paragraphs(free: RunResult, locked: RunResult, procs: RunResult) -> tuple[bool, list[str]]:
    """What the three counter runs counted: lost updates in threads, the lock's price, processes' own counts."""
    fs, ls, ps = free.summary, locked.summary, procs.summary
    expected, lost = fs.get("counter_expected") or 0, fs.get("counter_lost") or 0
    n, each = len(free.tasks), int(free.spec.get("increments") or 0)
    head = f"The counter: {count(n, 'task')} each added 1 to a counter {each:,} times, {expected:,} in all. "
    if lost > 0:
        out = [head + (f"In the thread pool, without a lock, it ended at {fs.get('counter_count'):,}: {lost:,} updates "
                       "were lost. The threads share one counter: one read it, was switched out before writing it "
                       "back, and then wrote a stale value over the increments the others had made meanwhile.")]
        ok = True
    else:
        out = [head + ("Measured: this time the thread pool lost no update: no thread was switched out between its "
                       "read and its write. Run it again, or give each task more increments.")]
        ok = False
    slower = relative_speed(free.wall_seconds / locked.wall_seconds) if locked.wall_seconds > 0 else "?"
    if ls.get("counter_count") == ls.get("counter_expected") and not ls.get("counter_lost"):
        out.append(f"With the lock every increment counted ({ls.get('counter_count'):,}), and the run took "
                   f"{t(locked.wall_seconds)} instead of {t(free.wall_seconds)} ({slower}): one thread at a time may "
                   "read, add and write back, and taking the lock for every increment costs.")
    else:
        out.append(f"Measured: with the lock the count was {ls.get('counter_count')}, not "
                   f"{ls.get('counter_expected')}.")
        ok = False
    counters = ps.get("counter_processes") or 0
    if counters > 1 and (ps.get("counter_count") or 0) < (ps.get("counter_expected") or 0):
        low, high = ps.get("counter_lowest"), ps.get("counter_count")
        counted = f"{high:,} each" if low == high else f"from {low:,} to {high:,}"
        out.append(f"The process pool's {counters} processes counted {counted}, {ps.get('counter_sum'):,} together: "
                   "each process has its own copy of the counter (processes share no memory), so none lost an "
                   "update, and none reached the total either. To add them up, the results must be sent back.")
    else:
        out.append(f"Measured: the process pool ran every task in {count(counters, 'process')}, so its one counter "
                   "reached the total; with tasks in two processes each would count only its own.")
        ok = False
    return ok, out


def _transfer_paragraph(threads: RunResult, procs: RunResult) -> tuple[bool, str]:
    """What moving each task's argument and result cost the process pool, and the thread pool."""
    def moved(r: RunResult) -> float:
        return sum(getattr(x, "sent_seconds", 0.0) + getattr(x, "returned_seconds", 0.0) for x in r.tasks)

    size = int(procs.spec.get("arg_bytes") or 0)
    p_moved, t_moved = moved(procs), moved(threads)
    p_work = procs.summary.get("task_seconds") or 0.0
    share = p_moved / (p_moved + p_work) if p_moved + p_work > 0 else 0.0
    head = (f"The data: each of the {count(len(procs.tasks), 'task')} was handed {number(size / 1e6, 0, 'MB')}. "
            f"The process pool spent {t(p_moved)} sending it to its processes and the results back (pickled, "
            f"through a pipe, unpickled: {percent(100 * share)} of its tasks' time), the thread pool {t(t_moved)}")
    if p_moved > 0 and t_moved == 0:
        return True, head + (": its threads read the parent's bytes where they are. Threads share memory; processes "
                             "copy everything they get and give back.")
    return False, head + ". Measured: that is not the usual difference (the process pool pays for every copy)."


def _memory_paragraph(threads: RunResult, procs: RunResult) -> str:
    """Memory per worker process against the thread pool's one process, where the probe measured it."""
    ps, ts = procs.summary, threads.summary
    if ps.get("memory_per_worker_mb") is None or ts.get("memory_total_mb") is None:
        return "Memory per worker was not measured here (it needs psutil and a run on this machine)."
    kind = "unique" if ps.get("memory_kind") == "uss" else "resident"
    n = ps.get("memory_workers") or ps.get("memory_processes") or 0  # every worker process, measured or not
    note = measured_note(ps)  # the figures cover the measured ones only: say so where that is not all
    return (f"Memory ({kind} set size): the process pool's {count(n, 'worker process', 'worker processes')} held "
            f"{number(ps['memory_per_worker_mb'], 0, 'MB')} each at most, {number(ps.get('memory_total_mb'), 0, 'MB')} "
            f"together{f' ({note})' if note else ''}: each is an interpreter of its own, with its own copy of what it "
            f"was sent. The thread pool's {count(threads.workers, 'thread')} shared their one process's "
            f"{number(ts['memory_total_mb'], 0, 'MB')}.")


def _share_copy(runs: dict[str, RunResult]) -> Answer:
    free, locked = runs["thread-pool (counter)"], runs["thread-pool (counter, lock)"]
    procs = runs["process-pool (counter)"]
    ok, paragraphs = _counter_paragraphs(free, locked, procs)
    data_threads, data_procs = runs.get("thread-pool"), runs.get("process-pool")
    if data_threads is not None and data_procs is not None:  # the data-transfer pair of the preset
        moved, text = _transfer_paragraph(data_threads, data_procs)
        paragraphs.append(text)
        paragraphs.append(_memory_paragraph(data_threads, data_procs))
        ok = ok and moved
    else:
        paragraphs.append(_memory_paragraph(free, procs))
    return Answer(ok, tuple(paragraphs))


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "seed", "Waiting together: the seed notebook",
        "Three jobs each wait 2 seconds, as a download waits for the network. One after another they take 6 s. "
        "Will three threads finish sooner, even on a computer with one core? Will a thread pool?",
        "Watch the timeline: one bar per task, one row per worker. One after another, the three bars lie end to "
        "end in the main thread's one row while the queue steps down; in threads each has its own row and they "
        "stand side by side in time. Then Compare ▸ Timelines, a row per task, shows one after another as a "
        "staircase.",
        "seed-notebook", _seed, "concurrency"),
    Lesson(
        "cpu", "Computing: threads against processes",
        "Now each of four jobs computes for 0.5 s (pure-Python arithmetic) instead of waiting. Will threads make "
        "them faster? Will processes?",
        "Watch the CPU cores chart under the timeline: how many cores are busy in each run? And the strip under "
        "each worker's row: blue is on a core, vermillion blocked (here, waiting for the GIL).",
        "cpu-threads-vs-processes", _cpu, "gil"),
    Lesson(
        "hash", "C code that lets go of the GIL",
        "The same four jobs, but the computing happens inside hashlib's sha256 (C code) instead of Python. "
        "Do threads help now?",
        "Compare the cores chart with lesson 2's: the same threads, a different kind of work.",
        "gil-releasing-hash", _hash, "gil"),
    Lesson(
        "waiting", "Waiting: asyncio against threads",
        "Twenty jobs each wait 0.5 s. One asyncio event loop (one thread), twenty threads, or a thread pool: "
        "which finishes first?",
        "Watch the number of rows in the timeline: one row per worker thread.",
        "asyncio-vs-threads-io", _waiting, "threads-processes"),
    Lesson(
        "dispatch", "What handing out a task costs",
        "2,000 jobs that do nothing at all. How long does each executor take just to hand them out?",
        "Watch the Compare tab when it ends: the wall time here is nothing but the executor's own cost.",
        "dispatch-overhead", _dispatch, "threads-processes",
        ("sequential", "thread-pool", "threads", "process-pool")),
    Lesson(
        "share-copy", "Threads share, processes copy",
        "Four tasks each add 1 to a counter 500,000 times; eight tasks each get 20 MB of data. Do threads see one "
        "counter and processes each their own? What does handing the data over cost a process pool, and a thread "
        "pool? And what does each worker cost in memory?",
        "Watch the Summary's counter line after each counter run, and the timeline of the process pool: each task's "
        "bar begins with the data sent to it. The memory chart shows what each worker process holds.",
        "threads-share-processes-copy", _share_copy, "threads-processes"),
)


_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                 "twelve")


def how_many_lessons(lessons: Sequence[Lesson] | None = None) -> str:
    """How many lessons there are, as a word ("six"; digits past twelve): the menu and the help page say it,
    so that adding a lesson cannot leave them counting the old number."""
    n = len(LESSONS if lessons is None else lessons)
    return _NUMBER_WORDS[n] if n < len(_NUMBER_WORDS) else f"{n:,}"


def lesson(key: str) -> Lesson:
    """The lesson called ``key``."""
    return next(x for x in LESSONS if x.key == key)


"""Why a run took as long as it did, in plain words from its numbers.

Each run's explanation says, in at most three sentences (issue 16): what overlapped (concurrency), what ran
at the same time (parallelism), what held the run back (the X-ray's blocked and waiting shares, start-up,
dispatch overhead per task, other programs on the machine) and what to try next, chosen from that hold-back.
What else a reader should know follows it as notes, one a line, each beginning "Note: ": what moving the
tasks' data cost, what joblib or a Dask cluster did, a calibration the run's CPU times drifted from, and
what other programs took meanwhile (:func:`explain` puts the lines together; :func:`why_notes` gives the notes).
The executor's name never decides a claim alone: a process pool is told its tasks waited only when they
were measured blocked (or, without the X-ray, when its workload sleeps or waits for the disk), and a
thread pool is told about the GIL only when its threads were measured blocked on it or its parallelism
stayed near one core while many tasks were in flight.

:mod:`.summary` computes the numbers; this module only reads them. Why one executor of a Compare beat the
others is :mod:`.why_compare`'s, which builds on this module's diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .calibration import calibration_gap_sentence
from .counter import counter_figures
from .executors.joblib_backend import joblib_sentence
from .present import count, number, percent, plural, relative_speed, seconds
from .records import ERROR, OK, RunResult
from .spec import PROCESS_EXECUTORS, in_processes
from .summary import BUSY_CORES, busy_machine, busy_machine_sentence, foreign_cores, summarize, xray_shares
from .transfer import transfer_sentence
from .xray import (
    SHARE_KEYS,
    THREAD_EXECUTORS,
    blocked_cause,
    lanes_measured,
    on_threads,
    worker_noun,
)

#: what releases the GIL in each workload that does, as a sentence's subject
RELEASER = {"sleep": "Sleeping", "hash": "hashlib", "file-io": "File I/O", "mixed": "The sleeping part"}
#: workloads whose computing releases the GIL (C code): threads compute side by side without a process each
GIL_RELEASING = ("hash",)
#: workloads whose tasks mostly wait (for a timer, for the disk) rather than compute
WAITING_WORKLOADS = ("sleep", "file-io")
#: workloads that never wait: a blocked share there is the GIL, a queue or a lock, not the task's waiting
NEVER_WAIT = ("cpu", "hash", "noop", "counter")

#: parallelism from which the tasks ran in parallel (as shown, to one decimal)
PARALLEL = 1.2
#: concurrency from which the tasks overlapped
OVERLAP = 1.3
#: a loop's wall time is the sum of its task times within this share; beyond it, the rest went between the tasks
#: (a loop of no-ops spends most of its wall time starting each and recording its end)
SUM_IS_WALL = 0.05
#: a state (blocked, waiting for a core) from this share of the time on is what the run's story is about
DOMINANT = 0.25
#: start-up above this share of start-up + work dominated the run ...
STARTUP_DOMINATES = 0.5
#: ... when it is long enough to matter at all (a thread pool's few milliseconds never are)
MIN_STARTUP = 0.02
#: a run of at least this many tasks whose per-task overhead outweighs the work is a flood of small tasks
FLOOD = 10
#: near all cores: parallelism from this share of the cores on used what the machine has
ALL_CORES = 0.75
#: what begins each note after a run's explanation, on a line of its own
NOTE = "Note: "


@dataclass(frozen=True)
class Measured:
    """The numbers a run's words are built from, read once from its result and summary."""

    executor: str
    workload: str
    noun: str  # what a worker is: thread, process or worker
    ran: int  # tasks that started and ended
    workers: int
    lanes: int  # workers that ran tasks
    cores: int
    gil: bool
    wall: float
    startup: float
    task_seconds: float
    cpu_seconds: float
    concurrency: float
    parallelism: float
    overhead: float  # dispatch overhead per task
    speedup: float | None
    baseline: str | None
    shares: tuple[float, float, float] | None  # on a core, waiting for one, blocked; None without the X-ray
    split: bool  # whether waiting and blocked are told apart (False where the kernel gives only CPU time)
    foreign: float | None  # cores other programs and the hypervisor took
    busy: bool
    chunk_size: int | None
    cause: str  # what "blocked" was, where the engine knows (xray.blocked_cause)
    on_threads: bool = False  # the workers are threads of one process (xray.on_threads)

    @property
    def per_task(self) -> float:
        """Mean seconds of one task's own work."""
        return self.task_seconds / self.ran if self.ran else 0.0

    @property
    def startup_share(self) -> float:
        total = self.startup + self.wall
        return self.startup / total if total > 0 else 0.0

    @property
    def threads(self) -> bool:
        """Whether the workers are threads of one process, sharing one GIL (where the GIL is on)."""
        return (self.on_threads or self.executor in THREAD_EXECUTORS) and self.executor != "sequential"

    @property
    def cpu_work(self) -> bool:
        """Whether the tasks wanted a core most of their time: on one or runnable (X-ray), else by CPU time."""
        if self.workload in ("cpu", "counter"):  # pure-Python arithmetic
            return True
        if self.workload == "noop":  # nothing to compute: its CPU time is the executor's own handling
            return False
        if self.shares and self.split:
            return self.shares[0] + self.shares[1] >= 0.5
        return self.task_seconds > 0 and self.cpu_seconds / self.task_seconds >= 0.5

    @property
    def waited(self) -> bool:
        """Whether the tasks mostly waited (slept, read, awaited) rather than computed, as measured."""
        if self.workload in NEVER_WAIT:
            return False
        if self.shares and self.split:
            return self.shares[2] >= 0.5 and not self.cause.startswith("the GIL")
        if self.workload in WAITING_WORKLOADS:
            return True
        return self.task_seconds > 0 and self.cpu_seconds / self.task_seconds < 0.3


def measure(result: RunResult) -> Measured:
    """The numbers of ``result`` that its words use (its summary, or one made now for an old file)."""
    s = result.summary if result.summary and "task_seconds" in result.summary else summarize(result)
    spec, env = result.spec, result.environment or {}
    if s.get("ran") is not None and s.get("lanes") is not None:  # counted by summarize: two passes over
        ran, lanes = s["ran"], s["lanes"]  # 100,000 records the window's turn need not make
    else:  # a summary from before it counted them
        done = [t for t in result.tasks if t.start is not None and t.end is not None]
        ran, lanes = len(done), len({t.worker for t in done if t.worker})
    shares = tuple(s.get(f"{k}_share") for k in SHARE_KEYS) if "on_core_share" in s else None
    if shares is None:
        measured = xray_shares(result)
        shares = tuple(measured[k] for k in SHARE_KEYS) if measured else None
    if shares is not None and any(v is None for v in shares):
        shares = None
    workers = int(result.workers or 1)
    gil = env.get("gil_enabled", True) is not False
    return Measured(
        executor=spec.get("executor") or "?", workload=spec.get("workload") or "?",
        noun=worker_noun(spec), ran=ran, workers=workers,
        lanes=lanes or max(1, min(workers, ran)), cores=int(env.get("cpu_count") or 1),
        gil=gil,
        wall=s.get("wall_seconds", result.wall_seconds) or 0.0,
        startup=s.get("startup_seconds", result.startup_seconds) or 0.0,
        task_seconds=s.get("task_seconds") or 0.0, cpu_seconds=s.get("cpu_seconds") or 0.0,
        concurrency=s.get("concurrency") or 0.0, parallelism=s.get("parallelism") or 0.0,
        overhead=s.get("dispatch_overhead_seconds") or 0.0,
        speedup=s.get("speedup"), baseline=s.get("baseline"),
        shares=shares, split=env.get("thread_states") != "cpu-time",
        foreign=foreign_cores(result), busy=busy_machine(result),
        chunk_size=spec.get("chunk_size") if spec.get("executor") == "process-pool" else None,
        cause=blocked_cause(spec, gil), on_threads=on_threads(spec),
    )


@dataclass(frozen=True)
class Reason:
    """What held a run back (or let it go fast), in the forms the texts need."""

    kind: str  # serial, startup, dispatch, loop, gil, cores, busy, waits, parallel, other
    held: str  # the sentence saying it ("" when there is nothing to say)
    did: str  # what the executor did, as a verb phrase after its name (for the Compare text)
    next: str  # what to try next ("" when nothing would help)


def in_parallel(parallelism: float) -> bool:
    """Whether the tasks ran in parallel: parallelism, as the sentence shows it, of at least :data:`PARALLEL`."""
    return round(parallelism, 1) >= PARALLEL


def mean_text(x: float) -> str:
    """A mean count of tasks or cores: one decimal, two below 0.1 (so 0.04 does not read "0.0")."""
    return number(x, 2 if abs(x) < 0.1 else 1)


def _uncap(text: str) -> str:
    """``text`` with its first letter small, for use after a colon ("File I/O" -> "file I/O")."""
    return text[:1].lower() + text[1:]


def _pct(share: float) -> str:
    return percent(100 * share)


def speed_against(speedup: float, baseline: str) -> str:
    """ "3.1× as fast as sequential" or "2.0× slower than sequential"."""
    text = relative_speed(speedup)
    return f"{text} than {baseline}" if text.endswith("slower") else f"{text} as fast as {baseline}"


def overlap_sentence(m: Measured) -> str:
    """What overlapped (concurrency) and what ran at the same time (parallelism), and the speed against
    the baseline, in one sentence."""
    conc, par = m.concurrency, m.parallelism
    shown = round(par, 1)
    if m.executor == "sequential":
        if m.task_seconds >= (1 - SUM_IS_WALL) * m.wall:
            return (f"One task at a time: the wall time is the sum of the task times ({seconds(m.task_seconds, 2)}), "
                    "the baseline every other executor is measured against.")
        rest = m.wall - m.task_seconds
        return (f"One task at a time: the tasks' own times add up to {seconds(m.task_seconds, 2)} of the "
                f"{seconds(m.wall, 2)} wall time; the other {seconds(rest, 2)} ({_pct(rest / m.wall)}) went between "
                "the tasks, on starting each one and recording its end.")
    if in_parallel(par):
        text = (f"On average {mean_text(conc)} tasks were in flight (concurrency) and {mean_text(par)} of the "
                f"{count(m.cores, 'core')} computed at once (parallelism): the tasks ran in parallel")
    elif conc >= OVERLAP:
        computed = "almost no core computed" if par < 0.05 else f"only {mean_text(par)} cores computed at once"
        little = "little parallelism" if shown > 1.0 else "concurrency without parallelism"
        text = f"On average {mean_text(conc)} tasks were in flight (concurrency) but {computed} (parallelism): {little}"
    else:
        overlapped = "did not overlap" if conc < 1.05 else "hardly overlapped"
        text = (f"The tasks {overlapped} (concurrency {mean_text(conc)}), and {mean_text(par)} cores computed on "
                "average (parallelism)")
    if m.speedup and m.baseline and m.baseline != m.executor:
        text += f"; {speed_against(m.speedup, m.baseline)}"
    return text + "."


def diagnose(result: RunResult, m: Measured | None = None) -> Reason:
    """What held the run back, chosen from its measured numbers, with what to try next.

    Counter threads are told what keeps their count right: the lesson of that workload is the count,
    and neither more cores nor processes (which would each count on their own) make it right.
    """
    m = m or measure(result)
    reason = _diagnose(result, m)
    if m.workload == "counter" and (m.threads or m.executor == "sequential"):
        reason = replace(reason, next=_counter_next(result, m))
    return reason


def _diagnose(result: RunResult, m: Measured) -> Reason:
    state = dominant_state(m.shares, m.split) if m.shares else None
    many = plural(2, m.noun)
    if m.executor == "sequential":
        return _serial(result, m)
    if m.startup >= MIN_STARTUP and m.startup_share >= STARTUP_DOMINATES:
        overall = ""
        if m.speedup and m.baseline and m.baseline != m.executor:  # the speedup leaves start-up out: say both
            counted = m.speedup * m.wall / (m.startup + m.wall)
            overall = f"; counting it, the run was {speed_against(counted, m.baseline)}"
        return Reason(
            "startup",
            f"Start-up dominated: starting the {many} took {seconds(m.startup, 2)}, {_pct(m.startup_share)} of "
            f"the run, and the {count(m.ran, 'task')} then took {seconds(m.wall, 2)}{overall}.",
            f"spent {seconds(m.startup, 2)} starting its {many}, more than its {seconds(m.wall, 2)} of work",
            f"Give each {m.noun} more work, or reuse the pool for many batches: start-up is paid once per pool, "
            "not per task.")
    if m.ran >= FLOOD and m.overhead > m.per_task and m.overhead * m.ran >= 0.5 * m.wall:
        return _dispatch(m)
    if m.executor == "asyncio" and not result.spec.get("offload") and m.workload not in ("sleep",) \
            and m.concurrency < OVERLAP:
        return Reason(
            "loop",
            "Each task's blocking work ran on the event loop itself, so the coroutines could not overlap.",
            "ran its blocking tasks one at a time on the event loop",
            _loop_next(m))
    if m.threads and m.gil and m.lanes > 1 and _gil_bound(m, state):
        return _gil(result, m, state)
    if state == "waiting":
        return _waiting(result, m)
    if m.waited:
        return _waits(result, m, state)
    if m.busy and m.cpu_work and m.parallelism < ALL_CORES * m.cores:
        return Reason("busy", "", f"lost {number(m.foreign, 1, 'cores')} to other programs",
                      "Measure again when the machine is quieter to see what it can do.")
    if state is None and m.cpu_work and m.workers > m.cores and m.parallelism >= ALL_CORES * m.cores:
        return Reason(
            "cores",
            f"The {count(m.workers, m.noun)} shared {count(m.cores, 'core')}: the cores, not the workers, "
            "set the pace.",
            f"kept {count(m.cores, 'core')} busy with {count(m.workers, m.noun)}",
            f"Try workers = {m.cores}: more workers than cores cannot help CPU work.")
    if in_parallel(m.parallelism):
        return _parallel(result, m, state)
    return Reason("other", xray_sentence(result),
                  f"kept {mean_text(m.concurrency)} tasks in flight on {mean_text(m.parallelism)} cores", "")


def _loop_next(m: Measured) -> str:
    """What to try for blocking work that ran on the event loop: offload where it waits or releases the GIL
    (threads then run it side by side), processes for CPU work that holds the GIL."""
    if not m.cpu_work:
        return "Turn on offload: asyncio.to_thread lets blocking work wait off the loop."
    if m.workload in GIL_RELEASING:
        return (f"Turn on offload: {RELEASER[m.workload]} releases the GIL, so in asyncio.to_thread's threads it "
                "runs off the loop, side by side.")
    return "Try process-pool for CPU work: each process has its own GIL."


def _gil_bound(m: Measured, state: str | None) -> bool:
    """Whether threads were held back by the GIL: measured blocked on it, or (without the X-ray's split)
    many tasks in flight while about one core computed, on work that holds the GIL."""
    if state is not None and m.split:  # blocked on it for a good share, even where other programs added waiting
        return m.shares[2] >= DOMINANT and m.cause.startswith("the GIL")
    holds = m.workload == "cpu" or (m.workload in ("mixed", "custom") and m.parallelism >= 0.5)
    return (holds and m.concurrency >= OVERLAP * max(m.parallelism, 0.01) and m.parallelism < OVERLAP
            and (m.speedup is None or m.speedup < OVERLAP))


def _serial(result: RunResult, m: Measured) -> Reason:
    if m.workload == "noop":
        return Reason("serial", f"Each task's own work took {seconds(m.per_task)} on average: with nothing to "
                      "compute, another executor can only add its own cost per task.", "ran one task at a time", "")
    held = xray_sentence(result)
    if not held and m.task_seconds > 0:
        held = f"The tasks computed for {_pct(min(1.0, m.cpu_seconds / m.task_seconds))} of their time."
    if m.cpu_work and m.cores > 1:
        nxt = _all_cores(m)
    elif m.waited:
        nxt = "Try thread-pool or asyncio next: tasks that wait overlap even under the GIL."
    else:
        nxt = ""
    return Reason("serial", held, "ran one task at a time", nxt)


def _all_cores(m: Measured) -> str:
    """What lets this workload's CPU work use every core: threads where its code releases the GIL while it
    computes (hashlib), else processes, each with a GIL of its own."""
    cores = count(m.cores, "core")
    if m.workload in GIL_RELEASING and m.gil:
        return (f"Try thread-pool next: {_uncap(RELEASER[m.workload])} releases the GIL while it hashes, so threads "
                f"can use all {cores} without a process each.")
    return f"Try process-pool next: each process has its own GIL, so CPU work can use all {cores}."


def _counter_next(result: RunResult, m: Measured) -> str:
    """What to try on the counter: the lock, where threads share one counter; never processes, which would not
    share it at all."""
    if m.executor == "sequential":
        return "Try thread-pool next: its threads share this one counter, and without the lock they lose updates."
    if (result.spec or {}).get("lock"):
        return ("More cores would not help this count, as processes would each add to a counter of their own: to "
                "count on every core, let each task count on its own and add up the counts the tasks return.")
    return ("Turn on the lock, so that no thread writes back a stale count; processes would not share the counter "
            "at all: each would count on its own.")


def _dispatch(m: Measured) -> Reason:
    cost, work = seconds(m.overhead), seconds(m.per_task)
    held = (f"Each task's own work took {work} on average, but handing it to a {m.noun} and collecting its "
            f"result cost about {cost} more: with {count(m.ran, 'task')}, that per-task overhead, not the work, "
            "set the wall time.")
    if m.chunk_size is not None:
        nxt = (f"Batch small tasks: a larger chunk size (now {m.chunk_size}) sends many in one message, as the "
               f"per-task overhead of {cost} outweighs the {work} of work.")
    else:
        nxt = (f"Batch small tasks into fewer, larger ones: the per-task overhead of {cost} outweighs the {work} "
               "of work.")
    return Reason("dispatch", held, f"paid about {cost} per task to hand out {work} of work", nxt)


def _gil(result: RunResult, m: Measured, state: str | None) -> Reason:
    if state is not None and m.split:
        held = blocked_sentence(result, m.shares[2])
        did = (f"kept {mean_text(m.concurrency)} tasks in flight but computed on {mean_text(m.parallelism)} cores, its "
               f"threads blocked on the GIL {_pct(m.shares[2])} of the time")
    else:
        held = ("Pure-Python threads take turns on the GIL: many tasks were in flight, but only about one core "
                "computed, so CPU-bound threads do not speed up.")
        did = (f"kept {mean_text(m.concurrency)} tasks in flight but computed on {mean_text(m.parallelism)} cores, its "
               "threads taking turns on the GIL")
    if m.cores > 1:  # measured taking turns on the GIL: processes, even for hashlib (turns between its calls)
        nxt = (f"Try process-pool next: each process has its own GIL, so CPU work can use all "
               f"{count(m.cores, 'core')}.")
    else:
        nxt = "With 1 core, no executor computes faster than one task at a time; threads pay off for work that waits."
    return Reason("gil", held, did, nxt)


def _waiting(result: RunResult, m: Measured) -> Reason:
    """The workers were ready to run but waited for a core: too many of them, or other programs."""
    held = xray_sentence(result)
    waiting = _pct(m.shares[1])
    if m.lanes > m.cores and m.cpu_work:
        return Reason("cores", held, f"had {count(m.lanes, m.noun)} wait for {count(m.cores, 'core')} "
                      f"{waiting} of the time",
                      f"Try workers = {m.cores}: more workers than cores cannot help CPU work.")
    if m.busy:
        return Reason("busy", held, f"waited for a core {waiting} of the time, as other programs took "
                      f"{number(m.foreign, 1, 'cores')}",
                      "Measure again when the machine is quieter to see what it can do.")
    return Reason("cores", held, f"waited for a core {waiting} of the time", "")


def _waits(result: RunResult, m: Measured, state: str | None) -> Reason:
    """The tasks waited (a timer, the disk): they overlap without needing cores."""
    if state == "blocked" and m.threads and m.gil and m.workload in RELEASER:  # why threads overlap at all
        held = blocked_sentence(result, m.shares[2], f"{_uncap(RELEASER[m.workload])} releases the GIL, so while "
                                                     "one waits the others proceed")
    elif state == "blocked":
        held = blocked_sentence(result, m.shares[2])
    elif m.workload in RELEASER:
        held = (f"{RELEASER[m.workload]} releases the GIL, so while one task waits the others proceed: "
                "tasks overlap however few cores there are.")
    else:
        held = (f"The tasks computed for only {_pct(m.cpu_seconds / m.task_seconds)} of their time: waiting "
                "needs no core, so they overlapped.")
    did = f"overlapped {mean_text(m.concurrency)} waiting tasks at once"
    if m.executor in (*PROCESS_EXECUTORS, "dask") or m.noun == "process":
        start = f" or the {seconds(m.startup, 2)} of start-up" if m.startup >= MIN_STARTUP else ""
        nxt = (f"Try thread-pool or asyncio next: they overlap waiting as well, without a process per "
               f"worker{start}.")
    elif m.executor == "asyncio":
        nxt = "asyncio waits on all of them from one thread: many more tasks at once would cost it almost nothing."
    elif m.workers < m.ran:
        nxt = (f"Try more workers (now {m.workers}) or asyncio: waiting needs no core, so every task could wait "
               "at once.")
    elif m.workload == "sleep":
        nxt = "Try asyncio next: it waits on all of them from one thread."
    else:
        nxt = ""
    return Reason("waits", held, did, nxt)


def _parallel(result: RunResult, m: Measured, state: str | None) -> Reason:
    """The tasks computed side by side: say what let them, and whether more workers could help."""
    n = count(m.lanes, m.noun)
    if m.noun == "process":
        held = f"Each process has its own interpreter and GIL, so the {n} computed side by side"
    elif m.noun == "thread" and not m.gil:
        held = f"This interpreter runs without the GIL, so the {n} computed side by side"
    elif m.executor == "interpreter-pool":
        held = f"Each interpreter has its own GIL, so the {n} computed side by side"
    elif m.noun == "thread" and m.workload in RELEASER:
        held = f"{RELEASER[m.workload]} releases the GIL while it works, so the {n} computed side by side"
    elif m.noun == "thread":
        held = f"The tasks' code releases the GIL, so the {n} computed side by side"
    else:
        held = f"The {n} computed side by side"
    if state is not None and m.split:
        held += f", on a core {_pct(m.shares[0])} of the time"
    did = f"computed on {mean_text(m.parallelism)} cores at once"
    if m.parallelism >= ALL_CORES * m.cores:
        nxt = (f"That is close to all {count(m.cores, 'core')} of this machine: more workers cannot make CPU "
               "work faster here.")
    elif m.workers < m.cores and m.cpu_work:
        nxt = f"Try workers = {m.cores}: {mean_text(m.cores - m.parallelism)} of the cores stayed idle."
    else:
        nxt = ""
    return Reason("parallel", held + ".", did, nxt)


def failed_text(result: RunResult) -> str:
    """What a run that did not finish did, without claims its partial numbers cannot carry.

    Its numbers (:func:`.summary.summarize`) count every task that ran: those that finished, those that
    raised and those stopped while they ran (up to their stop), so the sentence names all three.
    """
    total = len(result.tasks)
    ran = [t for t in result.tasks if t.start is not None and t.end is not None]
    done = sum(1 for t in ran if t.status == OK)
    raised = sum(1 for t in ran if t.status == ERROR)
    cut = len(ran) - done - raised  # stopped while they ran
    if result.status == "cancelled":
        head = "The run was stopped before every task finished"
    else:
        reason = (result.error or "").strip().splitlines()
        head = f"The run {result.status}: {reason[0]}" if reason else f"The run {result.status}"
    others = [f"{raised:,} raised"] if raised else []
    if cut:
        others.append(f"{cut:,} {plural(cut, 'was', 'were')} stopped while {plural(cut, 'it', 'they')} ran")
    if not done:
        said = f" ({' and '.join(others)})" if others else ""
        return f"{head.rstrip('.')}. No task finished{said}, so there is no time to explain."
    finished = f"{done:,} of {count(total, 'task')} finished" + "".join(
        f"{',' if k < len(others) - 1 else ' and'} {part}" for k, part in enumerate(others))
    what = (f"{plural(len(ran), 'that one', 'those')} only" if not others else
            f"those {len(ran):,}" + (f", the stopped {plural(cut, 'one up to its', 'ones up to their')} stop"
                                     if cut else ""))
    return f"{head.rstrip('.')}. {finished}, so its numbers describe {what}."


def why_sentences(result: RunResult) -> str:
    """The explanation, at most three sentences: what overlapped and what ran at the same time, what held the
    run back, and what to try next; for a run that did not finish, what it did (:func:`failed_text`)."""
    if result.status != OK:
        return failed_text(result)
    m = measure(result)
    reason = diagnose(result, m)
    return " ".join(p for p in (overlap_sentence(m), reason.held, reason.next) if p)


def why_notes(result: RunResult, load_line: bool = True) -> list[str]:
    """The notes after the explanation, each a line beginning :data:`NOTE`: where a Dask run ran, what joblib
    did, what moving the tasks' data cost, a calibration its CPU times drifted from and, with ``load_line``,
    what other programs took (:func:`.summary.busy_machine_sentence`); none for a run that did not finish."""
    if result.status != OK:
        return []
    env = result.environment or {}
    executor = (result.spec or {}).get("executor")
    notes = [
        cluster_sentence(env["dask"], result.startup_seconds) if executor == "dask" and env.get("dask") else "",
        joblib_sentence(env["joblib"]) if executor == "joblib" and env.get("joblib") else "",
        transfer_sentence(result),
        calibration_gap_sentence(result),
        busy_machine_sentence(result) if load_line else "",
    ]
    return [NOTE + n for n in notes if n]


def why_run(result: RunResult) -> str:
    """Why the run took as long as it did: :func:`why_sentences`, then the notes but the busy machine's, each
    on a line of its own (:func:`why_notes`)."""
    return "\n".join([why_sentences(result), *why_notes(result, load_line=False)])


def explain(result: RunResult, load_line: bool = True, counter_line: bool = True) -> str:
    """A run's why as the command line and the console print it, one part a line: with ``counter_line``, first
    what a counter run counted (:func:`counter_sentence`); then :func:`why_run`; with ``load_line``, last the
    note saying what other programs took meanwhile, where they took enough to matter. The window's Summary
    shows those two lines on their own."""
    counted = counter_sentence(result) if counter_line and result.status == OK else ""
    return "\n".join(p for p in (counted, why_sentences(result), *why_notes(result, load_line)) if p)


#: the summary's counter figures the sentence reads; a file that lacks one is counted again from its records
COUNTER_KEYS = ("counter_expected", "counter_count", "counter_lost", "counter_processes", "counter_lowest")


def counter_sentence(result: RunResult) -> str:
    """What a counter run counted, in a sentence ("" for another workload): the updates threads lost and
    why, the lock that kept the count right and what it cost, or the per-process counts that never meet."""
    # only the counter's figures: a whole summarize() of a 100,000-task run took the window 0.3 s, twice,
    # to learn that a run of another workload has none
    kept = result.summary or {}
    s = kept if all(kept.get(k) is not None for k in COUNTER_KEYS) else counter_figures(result)
    expected = s.get("counter_expected")
    if expected is None:
        return ""
    reached, lost, counters = s["counter_count"], s["counter_lost"], s["counter_processes"]
    spec = result.spec or {}
    if counters > 1:
        noun = "interpreter" if spec.get("executor") == "interpreter-pool" else "process"
        many = plural(counters, noun)
        if s["counter_lowest"] == reached:
            head = f"Each of the {counters} {many} counted its own {reached:,}"
        else:
            head = f"The {counters} {many} counted their own {s['counter_lowest']:,} to {reached:,}"
        text = (f"{head} of the {expected:,} increments ({s['counter_sum']:,} together): {plural(counters, noun)} "
                "share no memory, so each had a counter of its own and none reached the total")
        if lost:
            text += f"; within them, threads lost {lost:,}, writing back stale values"
        return text + "."
    if in_processes(spec) and not lost:
        return (f"One process ran every task, so its counter reached all {expected:,} increments: processes share "
                "no memory, so a task in another process would have counted on a counter of its own.")
    threads = len({(t.pid, t.thread_id) for t in result.tasks if t.start is not None})
    if threads <= 1:
        return (f"One thread made all {expected:,} increments, one after another, and the counter reached "
                f"{reached:,}: with no other thread between a read and its write, none was lost.")
    who = f"The {count(threads, 'thread')}"
    if lost:
        # at least: the highest count a task saw is known, not the last one written (a stale write may
        # have set the counter back after it)
        return (f"{who} lost at least {lost:,} of {expected:,} increments (the highest count a task saw was "
                f"{reached:,}): each read the counter, was switched out, and wrote back a stale value over the "
                "others' increments.")
    if spec.get("lock"):
        slowdown = s.get("counter_lock_slowdown")
        cost = (f", and the run was {_slower(slowdown)} without it" if slowdown else
                f", at {seconds(result.wall_seconds / expected)} per increment" if expected else "")
        return (f"{who} counted all {expected:,} increments, right: the lock let one thread at a time read, add "
                f"and write back{cost}.")
    return (f"{who} lost none of the {expected:,} increments this time: no thread was switched out between "
            "reading the counter and writing it back. With more increments per task, updates are lost.")


def _slower(slowdown: float) -> str:
    """ "3.1× slower than" for a time 3.1 times as long; "about as fast as" near 1."""
    return f"{relative_speed(1 / slowdown)} than" if slowdown >= 1.05 else "about as fast as"


# --- the X-ray's sentence and a Dask cluster's ------------------------------------------------------------
#: why a lane was blocked, after a colon, for the causes the engine knows ({noun}: thread, process)
BLOCKED_WHY = {
    "the GIL": "only the one holding it runs Python code, and the others wait their turn",
    "sleeping": "a sleeping {noun} needs no core",
    "I/O": "waiting for the disk needs no core",
    "the GIL, between hashlib calls": "hashlib lets go of it while it hashes and takes it back between blocks",
    "the lock or the GIL": "one {noun} at a time may hold the lock, and the others wait for it or for the GIL",
    "the lock": "one {noun} at a time may hold the lock, and the others wait for it",
}


def dominant_state(shares: tuple[float, float, float], split: bool = True) -> str:
    """Which of the X-ray's states tells the run's story: "blocked", "waiting" (for a core), "on_core",
    "mixed" or, where the system does not tell waiting from blocked, "off" (a core)."""
    on, waiting, blocked = shares
    if not split:
        return "off"
    if blocked >= DOMINANT and blocked >= waiting:
        return "blocked"
    if waiting >= DOMINANT:
        return "waiting"
    return "on_core" if on >= 0.75 else "mixed"


def _lanes(result: RunResult) -> tuple[str, int, str, str]:
    """(noun, how many lanes, "The 4 threads" / "The thread", "were" / "was") for the X-ray's sentences."""
    noun = worker_noun(result.spec)
    n = lanes_measured(result)
    who, were = (f"The {noun}", "was") if n == 1 else (f"The {count(n, noun)}", "were")
    return noun, n, who, were


def blocked_sentence(result: RunResult, blocked: float, why: str | None = None) -> str:
    """"The 4 threads were blocked 74 % of the time on the GIL: ..." with the cause where the engine knows it,
    and after the colon ``why`` or what that cause means (:data:`BLOCKED_WHY`)."""
    noun, n, who, were = _lanes(result)
    cause = blocked_cause(result.spec, (result.environment or {}).get("gil_enabled", True))
    where = {"sleeping": "sleeping", "I/O": "on I/O"}.get(cause, f"on {cause}")
    if why is None:
        why = BLOCKED_WHY.get(cause, "") if n > 1 or cause != "the GIL" else ""
    return f"{who} {were} blocked {_pct(blocked)} of the time {where}" + (f": {why.format(noun=noun)}." if why else ".")


def xray_sentence(result: RunResult) -> str:
    """What the worker lanes did, from the measured shares, in one sentence ("" without the series).

    Names the state that dominated: blocked (and on what, where the engine knows), waiting for a
    core (and why: more workers than cores, other programs, or other work), or on a core.
    """
    s = result.summary or {}
    shares = {k: s.get(f"{k}_share") for k in SHARE_KEYS} if "on_core_share" in s else xray_shares(result)
    if not shares or any(shares[k] is None for k in SHARE_KEYS):
        return ""
    env = result.environment or {}
    on, waiting, blocked = (shares[k] for k in SHARE_KEYS)
    noun, n, who, were = _lanes(result)
    gil = env.get("gil_enabled", True)
    state = dominant_state((on, waiting, blocked), env.get("thread_states") != "cpu-time")
    if state == "off":  # no run-queue times: blocked holds the waiting too
        return (f"{who} {were} off a core {_pct(1 - on)} of the time (blocked or waiting for one: "
                "this system does not tell the two apart).")
    if state == "blocked":
        return blocked_sentence(result, blocked)
    if state == "waiting":
        cores = env.get("cpu_count")
        load = foreign_cores(result)
        busy = load is not None and load > BUSY_CORES  # how much they took, the busy-machine line says
        if cores and n > cores:
            why = f"there {'is' if cores == 1 else 'are'} only {count(cores, 'core')}" + (
                ", and other programs kept them busy too" if busy else "")
        else:
            why = "other programs kept the cores busy" if busy else "other work kept the cores busy"
        return f"{who} waited for a core {_pct(waiting)} of the time: {why}."
    if state == "on_core":
        why = ": without the GIL, threads compute in parallel" if noun == "thread" and not gil and n > 1 else ""
        return f"{who} {were} on a core {_pct(on)} of the time{why}."
    return (f"{who} {were} on a core {_pct(on)}, waiting for a core {_pct(waiting)} "
            f"and blocked {_pct(blocked)} of the time.")


def cluster_sentence(dask: dict[str, Any], startup: float) -> str:
    """Where a Dask run ran and how its clocks were lined up, in a sentence."""
    workers = dask.get("workers", [])
    threads = sum(w.get("nthreads", 1) for w in workers)
    hosts = sorted({w.get("host", "?") for w in workers})
    text = (f"The tasks ran on {count(len(workers), 'Dask worker process')} ({count(threads, 'thread')}) on "
            f"{', '.join(hosts)}; connecting and preparing them took {seconds(startup, 2)}. ")
    moved = [w for w in workers if not w.get("same_clock")]
    if not moved:
        return text + "Every worker shares this machine's clock, so no clock correction was needed."
    shown = ", ".join(f"{w['host']} {w['clock_offset_ms']:+.2f} ms (± {w['clock_uncertainty_ms']:.2f})"
                      for w in moved[:3])
    return text + f"Clock offsets measured at the start and corrected: {shown}."

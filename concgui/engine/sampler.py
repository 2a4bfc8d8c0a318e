"""Per-core CPU load every 100 ms during a run, the run's process-tree CPU, and the X-ray.

The sampling runs in a small process of its own.  A sampler thread inside
the run's process would need that process's GIL, which CPU-bound threads
hold: it took one sample a second instead of ten, exactly in the runs whose
CPU picture matters most.  The sampler process stamps each sample with the
run's clock (``perf_counter_ns`` is system-wide) and streams JSON lines; it
exits when its input closes, so it never outlives the run.  psutil is
optional: without it there are simply no samples.  The probe reads another
process's ``/proc`` and needs nothing of the run's interpreter, so an engine
process started under ``--python`` is handed the probe command of the app's own
interpreter (:data:`PROBE_ENV`, set by :mod:`.isolation`): a run under an
interpreter without psutil (Debian's python3.11, a free-threaded 3.13t) still
gets its CPU samples and its X-ray.

The X-ray: every 20 ms the probe also reads each thread's cumulative time on
a core and runnable waiting for one (see :mod:`concgui.engine.cpu_probe`).
Two readings of a thread make its shares of the interval between them: on a
core, waiting for a core, and blocked (the rest: the GIL, a lock, a sleep or
I/O); the kernel credits a wait for a core when it ends, so intervals are
handed on 0.2 s late, once such a wait is back where it was
(:class:`ThreadSharer`).  :func:`lane_states` names the threads by the lanes
of the tasks they ran; a thread that has not run a task yet is left out of
that interval.

Nothing a run does is left before the first interval.  The probe's interpreter
takes 0.05 s to start on a quiet machine and seconds on a loaded one, while the
first tasks already run; so :meth:`CpuSampler.start` reads the run's threads
once itself, before it starts the probe, and the probe's first readings count
from there.  A thread born later counts from its birth, which the probe reads
from the kernel, not from the first reading that saw it.  The stretch until
the probe's first reading is one measurement, spread over intervals of the
X-ray's resolution (:func:`spread`), as every view and export expects.

Memory: every :data:`MEMORY_INTERVAL` the probe also reads each process's unique set size (else its
resident set size), which costs the kernel a walk of the process's mappings, so it is read far less
often than the X-ray (see :class:`concgui.engine.cpu_probe.Memory`).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable

from .records import CpuSample, MemorySample, ThreadStates

try:
    import psutil
except ImportError:  # pragma: no cover - exercised by the no-psutil test
    psutil = None

INTERVAL = 0.1
#: the X-ray's resolution: each thread's state is read this often
THREAD_INTERVAL = 0.02
#: an interval longer than this (the probe's start-up) is spread over intervals of the resolution
LONGEST = 0.1
#: each process's memory is read this often (or less, within :data:`.cpu_probe.MEMORY_BUDGET`): a USS reading
#: costs the probe about 0.4–0.6 ms a process (0 turns it off)
MEMORY_INTERVAL = 0.25
#: a thread's start is known to one clock tick (the kernel truncates it to 1/100 s)
BORN_TICK = 0.01
#: how long the sampler holds an interval back: a wait the kernel credits late is put where it was
HOLD = 0.2

#: the variable that hands an engine process the probe's command line (a JSON list): the app's interpreter,
#: which has psutil, where the engine runs under another that may not (see :func:`probe_command`)
PROBE_ENV = "CONCGUI_PROBE_COMMAND"

#: one interval's shares by thread: (t, interval, {(pid, tid): (on_core, waiting, blocked)})
ThreadShares = tuple[float, float, dict[tuple[int, int], tuple[float, float, float]]]


class ThreadSharer:
    """Each thread's shares of each interval between the probe's readings, handed on ``hold`` seconds late.

    On a core = Δon / Δt, waiting = Δwait / Δt, blocked = the rest. But the kernel credits a thread's
    wait for a core when the wait ends (when it gets a core), and its time on a core at scheduler
    ticks; and the probe stamps a reading a little before or after it reads. So an interval may read
    less than the thread did in it, and a later one more than its length: here, under load, a process
    read as idle for seven intervals, then as eight intervals' worth in one. What does not fit goes back
    into the intervals before it that have room (newest first, waiting before on-core: the wait came
    just before the thread ran), up to ``hold`` seconds back, which is why intervals are handed on that
    late; only what still does not fit is carried into the next interval. (Carrying forward alone read
    such a wait as blocked for good: an always-runnable thread has no room to take it later.) So the
    shares add up to 1 and, summed over intervals, to the kernel's totals.

    A reading is ``[pid, tid, on_ns, wait_ns]``, and ``born`` (seconds on the run's clock) after them
    when the probe reads the thread for the first time: a thread born since the last readings counts
    whole from its birth; one born earlier (a process the probe found late) counts the part of its
    times its life in this interval makes, as if it had spent them evenly. A thread first read
    without ``born`` has no interval yet. ``step``: the X-ray's resolution, for :func:`spread`.
    """

    def __init__(self, hold: float = HOLD, step: float = THREAD_INTERVAL) -> None:
        self.hold, self.step = hold, step
        self.counted: dict[tuple[int, int], tuple[float, float]] = {}  # per thread: the ns given out so far
        self.prev_t: float | None = None
        #: intervals not handed on yet: (t, interval, {thread: [on_ns, wait_ns]}, {thread: born within it})
        self.held: deque[tuple[float, float, dict[tuple[int, int], list[float]], dict[tuple[int, int], float]]] = (
            deque())

    def add(self, t: float, readings: list[list]) -> list[ThreadShares]:
        """Take the readings at ``t``; the intervals now ``hold`` seconds old or older, in time order."""
        prev_t = self.prev_t
        self.prev_t = t
        if prev_t is None or t <= prev_t:  # a baseline
            self.counted = {(r[0], r[1]): (r[2], r[3]) for r in readings}
            return []
        out = self._release(t - self.hold)  # out of reach: nothing goes back that far
        span = (t - prev_t) * 1e9
        counted, now, placed, births = self.counted, {}, {}, {}
        for r in readings:
            key, on, wait = (r[0], r[1]), r[2], r[3]
            c = counted.get(key)
            if c is None:
                if len(r) < 5:
                    now[key] = (on, wait)
                    continue
                born = r[4]
                before = 0.0 if born + BORN_TICK >= prev_t else (prev_t - born) / (t - born)
                c = (on * before, wait * before)
                if prev_t < born < t:
                    births[key] = born
            o, w = max(0.0, on - c[0]), max(0.0, wait - c[1])  # not given out yet
            here_o = min(span, o)
            here_w = min(span - here_o, w)
            left_w, left_o = self._place_back(key, w - here_w, o - here_o)
            now[key] = (c[0] + o - left_o, c[1] + w - left_w)  # what is left is carried
            placed[key] = [here_o, here_w]
        self.counted = now
        self.held.append((t, t - prev_t, placed, births))
        return out + self._release(t - self.hold)

    def flush(self) -> list[ThreadShares]:
        """Every interval still held (the readings have ended)."""
        return self._release(math.inf)

    def _place_back(self, key: tuple[int, int], wait: float, on: float) -> tuple[float, float]:
        """Put ``wait`` and ``on`` nanoseconds into the held intervals' room for ``key``; what did not fit."""
        if wait <= 0 and on <= 0:
            return 0.0, 0.0
        for t, interval, placed, births in reversed(self.held):
            v = placed.get(key)
            if v is None:
                break  # the thread was not read then: nothing of it goes further back
            born = births.get(key)
            room = (t - born if born is not None else interval) * 1e9 - v[0] - v[1]
            if room > 0:
                dw = min(room, wait)
                do = min(room - dw, on)
                v[0], v[1], wait, on = v[0] + do, v[1] + dw, wait - dw, on - do
            if (wait <= 0 and on <= 0) or born is not None:
                break
        return wait, on

    def _release(self, until: float) -> list[ThreadShares]:
        out: list[ThreadShares] = []
        held = self.held
        while held and held[0][0] <= until:
            t, interval, placed, births = held.popleft()
            span = interval * 1e9
            if placed:
                shares = {key: (o / span, w / span, max(0.0, 1.0 - (o + w) / span)) for key, (o, w) in placed.items()}
                out += spread((t, interval, shares), self.step, births=births)
        return out


def spread(shares: ThreadShares, step: float = THREAD_INTERVAL, longest: float = LONGEST,
           births: dict[tuple[int, int], float] | None = None) -> list[ThreadShares]:
    """An interval longer than ``longest`` as equal intervals of about ``step``, each with its shares.

    Only the probe's start-up (or a probe starved for long) makes one; the views and exports then
    still see intervals of about the X-ray's resolution, and a task's seconds stay what they were.
    A thread born within it (``births``, from :class:`ThreadSharer`) is spread over its own life:
    absent before its birth, its times evenly after it (a worker born late in the probe's start-up
    would otherwise show the time before its birth as blocked, in its first task).
    """
    t, interval, by_thread = shares
    if interval <= longest or step <= 0:
        return [shares]
    n = math.ceil(interval / step - 1e-9)
    piece = interval / n
    births = births or {}
    pieces = []
    for k in range(n):
        end = t - (n - 1 - k) * piece
        lanes = {}
        for key, v in by_thread.items():
            born = births.get(key)
            if born is None:
                lanes[key] = v
            elif born < end:
                alive = min(1.0, (end - born) / piece) * interval / (t - born)  # its life's share, scaled
                on = min(1.0, v[0] * alive)
                waiting = min(1.0 - on, v[1] * alive)
                lanes[key] = (on, waiting, 1.0 - on - waiting)
        if lanes:
            pieces.append((end, piece, lanes))
    return pieces


def lane_states(shares: ThreadShares, lanes: dict[tuple[int, int], str]) -> ThreadStates | None:
    """One interval's shares by lane, for the threads known as lanes (by pid and native thread id).

    None if no thread of the interval ran a task yet.
    """
    t, interval, by_thread = shares
    named = {lanes[k]: v for k, v in by_thread.items() if k in lanes}
    return ThreadStates(t, interval, named) if named else None


def sampler_command() -> list[str]:
    """The probe with this interpreter, as a plain script: importing the engine package would delay the
    first sample."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "sampler"]
    return [sys.executable, "-I", os.path.join(os.path.dirname(os.path.abspath(__file__)), "cpu_probe.py")]


def probe_command() -> list[str] | None:
    """How this process starts the probe: the command handed down in :data:`PROBE_ENV` (the app's
    interpreter, which has psutil), else this interpreter's if it has psutil, else None (no probe)."""
    given = os.environ.get(PROBE_ENV)
    if given:
        try:
            command = json.loads(given)
        except ValueError:
            command = None
        if isinstance(command, list) and command and all(isinstance(a, str) for a in command):
            return command
    return sampler_command() if psutil is not None else None


def expected_source() -> str:
    """Where the probe will read the threads' states: known before it starts, so that a live view
    labels them right ("cpu-time" has no waiting for a core); the probe's own report settles it."""
    if probe_command() is None or not THREAD_INTERVAL:
        return "none"
    from .cpu_probe import schedstat_works

    return "schedstat" if schedstat_works() else "cpu-time"


def expected_memory() -> str:
    """What the probe's memory readings will be ("uss", "rss" or "none"), known before it starts, so that a
    live view names them; the probe's own report settles it."""
    if probe_command() is None or not MEMORY_INTERVAL:
        return "none"
    if psutil is None:  # the probe runs with another interpreter's psutil, which gives USS wherever it runs
        return "uss"
    from .cpu_probe import Memory

    return Memory().kind


class CpuSampler:
    """Runs the sampler process until ``stop()``.

    CPU samples go to ``emit`` as ``("c", sample)``, the threads' shares of each X-ray interval as
    ``("x", shares)`` (:data:`ThreadShares`), memory readings as ``("m", sample)``; ``thread_interval``
    (``memory_interval``) 0 turns the X-ray (the memory series) off, None takes :data:`THREAD_INTERVAL`
    (:data:`MEMORY_INTERVAL`) as it is then (the benchmark sets them to 0 to weigh their cost).
    :attr:`source` says where the thread readings came from: "schedstat", "cpu-time" or "none";
    :attr:`memory_kind` what the memory readings are: "uss", "rss" or "none".
    """

    def __init__(self, t0_ns: int, emit: Callable[[tuple], None], interval: float = INTERVAL,
                 thread_interval: float | None = None, memory_interval: float | None = None) -> None:
        self.t0_ns = t0_ns
        self.emit = emit
        self.interval = interval
        self.thread_interval = THREAD_INTERVAL if thread_interval is None else thread_interval
        self.memory_interval = MEMORY_INTERVAL if memory_interval is None else memory_interval
        self.samples: list[CpuSample] = []
        self.memory: list[MemorySample] = []
        self.source = "none"
        self.memory_kind = "none"
        self._proc: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        #: the run's threads as read before the probe started: its first readings count from them
        self._baseline: tuple[float | None, list[list]] = (None, [])

    def start(self) -> None:
        command = probe_command()
        if command is None:
            return
        if self.thread_interval:
            self._baseline = self._read_threads()
        try:
            self._proc = subprocess.Popen(
                [*command, str(os.getpid()), str(self.t0_ns), str(self.interval),
                 str(self.thread_interval), str(self.memory_interval)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError:
            return  # no samples, nothing else lost
        self._reader = threading.Thread(target=self._read, name="concgui-cpu-sampler", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int | None:
        """The probe process's pid (None before it started, or without a probe: no psutil to run it with)."""
        return self._proc.pid if self._proc is not None else None

    def _read_threads(self) -> tuple[float | None, list[list]]:
        """This process's tree's threads, read once here (some 0.3 ms): (t on the run's clock, readings).

        From schedstat it needs no psutil (an engine under another interpreter may have none); the
        fallback's per-thread CPU times do, and without psutil there is no early reading.
        """
        from .cpu_probe import ThreadClocks, descendants, schedstat_works

        schedstat = schedstat_works()
        if not schedstat and psutil is None:
            return None, []
        clocks = ThreadClocks(schedstat)
        errors = (OSError,) if psutil is None else (OSError, psutil.Error)
        try:
            me = os.getpid()
            pids = [me, *(descendants(me, cheap=True) or [])]
            t = (time.perf_counter_ns() - self.t0_ns) / 1e9
            return t, clocks.read(pids)
        except errors:
            return None, []
        finally:
            clocks.close()

    def _read(self) -> None:
        sharer = ThreadSharer(step=self.thread_interval)
        if self._baseline[0] is not None:
            sharer.add(*self._baseline)
        for line in self._proc.stdout:
            try:
                d = json.loads(line)
                if type(d) is dict:
                    if "th" in d:
                        for shares in sharer.add(*d["th"]):
                            self.emit(("x", shares))
                    elif "mem" in d:
                        t, readings = d["mem"]
                        memory = MemorySample(t, {pid: value for pid, value in readings})
                        self.memory.append(memory)
                        self.emit(("m", memory))
                    else:
                        self.source = d.get("source", self.source)
                        self.memory_kind = d.get("memory", self.memory_kind)
                    continue
                t, per_core, tree = d
            except (ValueError, TypeError):
                continue
            sample = CpuSample(t, per_core, tree)
            self.samples.append(sample)
            self.emit(("c", sample))
        for shares in sharer.flush():  # the probe has ended: the intervals held back go too
            self.emit(("x", shares))

    def stop(self) -> None:
        """End the sampler process (closing its input) and reap it."""
        proc = self._proc
        if proc is None:
            return
        try:
            proc.stdin.close()
            proc.wait(2)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        self._reader.join(2)
        proc.stdout.close()

"""The CPU probe process: per-core load, a process tree's CPU and its threads' states, as JSON lines.

Started by :class:`concgui.engine.sampler.CpuSampler` as a plain script (no
package import, so the first sample comes soon), or as ``concgui sampler``
in the frozen app.  Arguments: the pid whose tree to measure, the run's
``perf_counter_ns`` origin, the interval, optionally the thread interval
(the X-ray's; 0 or absent: no thread readings) and the memory interval (0 or
absent: no memory readings).  It exits when its stdin closes.  Standard library
and psutil only (psutil needed by the probe itself, not by the process that starts it: the engine under
another interpreter without psutil reads its threads' schedstat through :class:`ThreadClocks` and
:func:`descendants` alone, and starts the probe with the app's interpreter).  Lines, ``t`` on the run's clock:

- ``{"source": "schedstat" | "cpu-time"}`` first: where the thread readings come from;
- ``[t, per_core_percents, tree_percent]`` every interval;
- ``{"th": [t, [[pid, tid, on_ns, wait_ns(, born)], ...]]}`` every thread interval: each thread of the
  tree (this process's excluded), its cumulative nanoseconds on a core and runnable waiting for one.
  From ``/proc/<pid>/task/<tid>/schedstat`` (fields 1 and 2), read through a descriptor kept open
  per thread (one ``pread`` a reading); without schedstat (not Linux, or :data:`FALLBACK_ENV` set)
  from psutil's per-thread CPU time, and ``wait_ns`` is 0.  A thread read for the first time also
  carries ``born``: when it started, on the run's clock, to one clock tick (see :func:`thread_born`),
  so its cumulative times count from its start, not from a first reading that only sets a baseline.
  The tree's processes are looked for again on every thread interval in which the system made a
  process or thread (the newest pid in ``/proc/loadavg`` moved), so a new worker is read within one
  thread interval of its birth; else they are the ones the last CPU sample found.  The first
  thread readings are taken at once and the last when stdin closes (after the run's last task),
  so the readings span the run.  A thread that ends takes its last interval with it: the kernel
  drops its counters.  The lines of a CPU interval leave together, with its CPU sample, so the
  reader wakes once an interval.
- ``{"memory": "uss" | "rss"}`` then ``{"mem": [t, [[pid, bytes], ...]]}`` every memory interval (or less
  often, to keep within :data:`MEMORY_BUDGET`), at once and when stdin closes: each process of the tree
  (this one excluded) and its unique set size where psutil gives it, else its resident set size (see
  :class:`Memory`).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

try:
    import psutil
except ImportError:  # the engine under an interpreter without it: only the schedstat readers are used there
    psutil = None

#: whether the kernel lists each thread's children (/proc/<pid>/task/<tid>/children, Linux 3.5+)
PROC_CHILDREN = os.path.exists(f"/proc/self/task/{threading.get_native_id()}/children")
#: a process with more threads is cheaper to skip over with psutil's scan of every process
MANY_THREADS = 64
#: set (to anything) to hide schedstat from the probe, as on a kernel without it: the tests' fallback path
FALLBACK_ENV = "CONCGUI_XRAY_NO_SCHEDSTAT"


def _children_from_proc(pid: int) -> list[int] | None:
    """``pid``'s children from its threads' ``children`` files; None for a process of many threads."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []  # gone
    if len(tids) > MANY_THREADS:
        return None
    kids: list[int] = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += map(int, f.read().split())
        except OSError:
            pass  # the thread ended meanwhile
    return kids


def descendants(root: psutil.Process | int, cheap: bool = False) -> list[int] | None:
    """Pids below ``root`` (a process or its pid), parents before their children, read afresh each time
    (workers come and go).

    ``cheap``: None instead of psutil's scan of every process on the system (milliseconds), for a
    tree the kernel's ``children`` files do not list cheaply (no such files, or a process of many
    threads): the caller then keeps the list it had. Without psutil, None too.
    """
    root_pid = root if isinstance(root, int) else root.pid
    if PROC_CHILDREN:
        found, todo = [], [root_pid]
        while todo:
            kids = _children_from_proc(todo.pop(0))
            if kids is None:
                break
            found += kids
            todo += kids
        else:
            return found
    if cheap or psutil is None:
        return None
    try:
        if isinstance(root, int):
            root = psutil.Process(root)
        return [c.pid for c in root.children(recursive=True)]
    except psutil.Error:
        return []


class _Seen:
    """A process of the tree and what was counted of it: its own CPU and its reaped children's."""

    __slots__ = ("proc", "ppid", "own", "reaped")

    def __init__(self, proc: psutil.Process, ppid: int) -> None:
        self.proc, self.ppid, self.own, self.reaped = proc, ppid, 0.0, 0.0


class TreeCpu:
    """CPU seconds a process tree used between two calls, process by process.

    A process the tree did not list before was born since and counts whole. One that ends hands its
    whole life to its parent's reaped-children time when the parent reaps it: what of it was not
    counted yet is counted then, so a worker that lived between two calls counts too (a call late
    if it was reaped late: one-process-per-task runs show as a lumpy line with the right area). One
    missing from a listing while it still runs (the kernel's list is not exact while children exit)
    catches up when listed again. Parents are read before their children: a child reaped in between
    then counts a call late, not twice. (A sum over what the tree held, listed twice a second,
    showed new workers at 0 %.)
    """

    def __init__(self, root: psutil.Process, exclude: int) -> None:
        self.root, self.exclude = root, exclude
        self.seen: dict[int, _Seen] = {}
        self.owed: dict[int, float] = {}  # parent pid -> what was counted of its ended children
        self.pids: list[int] = []  # the tree's processes at the last call, parents first
        self.take()  # what the tree used before the probe started is no call's

    def take(self) -> float:
        readings: dict[int, tuple[_Seen, float, float]] = {}
        for pid in [self.root.pid, *descendants(self.root)]:  # parents first: see the class
            if pid == self.exclude or pid in readings:
                continue
            s = self.seen.get(pid)
            try:
                if s is None:
                    proc = psutil.Process(pid)
                    s = _Seen(proc, proc.ppid())
                t = s.proc.cpu_times()
            except psutil.Error:
                continue
            readings[pid] = s, t.user + t.system, getattr(t, "children_user", 0.0) + getattr(t, "children_system", 0.0)
        for pid in [pid for pid in self.seen if pid not in readings]:
            s = self.seen[pid]
            try:
                missed = s.proc.is_running() and s.proc.ppid() in readings
            except psutil.Error:
                missed = False
            if not missed:  # ended (its parent reaps it, now or later) or left the tree
                del self.seen[pid]
                self.owed[s.ppid] = self.owed.get(s.ppid, 0.0) + s.own + s.reaped
        total = 0.0
        for pid, (s, own, reaped) in readings.items():
            ended = max(0.0, reaped - s.reaped)  # the whole lives of the children it reaped since
            counted = min(ended, self.owed.get(pid, 0.0))
            self.owed[pid] = self.owed.get(pid, 0.0) - counted
            total += own - s.own + ended - counted
            s.own, s.reaped = own, reaped
            self.seen[pid] = s
        self.owed = {pid: v for pid, v in self.owed.items() if v > 0.0 and pid in self.seen}
        self.pids = list(readings)
        return max(0.0, total)


def schedstat_works() -> bool:
    """Whether this kernel keeps per-thread schedstat (and the tests did not hide it)."""
    if os.environ.get(FALLBACK_ENV):
        return False
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat", "rb") as f:
            return len(f.read().split()) >= 2
    except OSError:
        return False


#: schedstat files kept open between readings; a thread beyond these is opened and closed each time
KEEP_OPEN = 256


def _boot_offset_ns() -> int | None:
    """CLOCK_BOOTTIME minus CLOCK_MONOTONIC (the time the machine slept), or None where either is missing."""
    try:
        return time.clock_gettime_ns(time.CLOCK_BOOTTIME) - time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    except (AttributeError, OSError):
        return None


#: clock ticks a second: the unit of a thread's start time in /proc
CLOCK_TICK = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01


def thread_born(pid: int, tid: int, t0_ns: int, boot_offset_ns: int) -> float | None:
    """When thread ``tid`` of ``pid`` started, in seconds on the run's clock (``perf_counter_ns`` − ``t0_ns``).

    The kernel keeps it in ``/proc/<pid>/task/<tid>/stat`` field 22, in clock ticks since boot
    (CLOCK_BOOTTIME, truncated: the thread started within one tick after it). ``perf_counter`` is
    CLOCK_MONOTONIC on Linux, which stops while the machine sleeps; ``boot_offset_ns`` maps one to
    the other. None where the file is missing or unreadable (not Linux; the thread ended).
    """
    try:
        with open(f"/proc/{pid}/task/{tid}/stat", "rb") as f:
            ticks = int(f.read().rsplit(b")", 1)[1].split()[19])  # after the name, which may hold spaces
    except (OSError, IndexError, ValueError):
        return None
    return ticks * CLOCK_TICK - (boot_offset_ns + t0_ns) / 1e9


class ThreadClocks:
    """Each thread's cumulative on-core and waiting nanoseconds, for the processes it is given.

    Cheap, because it runs 50 times a second next to the run: a process's threads come from one
    ``listdir``, and each thread's schedstat file stays open, so a reading is a single ``pread``.
    Descriptors of threads that ended are closed on the next call. At most :data:`KEEP_OPEN` stay
    open: a run of thousands of threads (one per task) reads the rest by opening and closing, so the
    probe never runs out of descriptors (and with them of ``/proc/stat`` for the CPU sample).
    Given the run's clock origin ``t0_ns``, a thread read for the first time gets its start
    (:func:`thread_born`) as a fifth value, once.
    """

    def __init__(self, schedstat: bool, t0_ns: int | None = None) -> None:
        self.source = "schedstat" if schedstat else "cpu-time"
        self.fds: dict[tuple[int, str], int] = {}
        self.t0_ns = t0_ns or 0
        self.boot_offset_ns = _boot_offset_ns() if t0_ns is not None else None  # None: no births
        self.known: set[tuple[int, int]] = set()  # the threads read last time

    def read(self, pids: list[int]) -> list[list[int | float]]:
        """``[[pid, tid, on_ns, wait_ns], ...]`` for every thread of ``pids``, ``born`` appended where new."""
        out = self._cpu_times(pids) if self.source == "cpu-time" else self._schedstat(pids)
        known, offset, t0_ns = self.known, self.boot_offset_ns, self.t0_ns
        if offset is not None:
            for row in out:
                if (row[0], row[1]) not in known and (born := thread_born(row[0], row[1], t0_ns, offset)) is not None:
                    row.append(born)
        self.known = {(row[0], row[1]) for row in out}
        return out

    def _schedstat(self, pids: list[int]) -> list[list[int | float]]:
        out: list[list[int | float]] = []
        old, fds = self.fds, {}
        pread, split = os.pread, bytes.split
        for pid in pids:
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue  # gone
            for tid in tids:
                key = (pid, tid)
                fd = old.pop(key, None)
                try:
                    if fd is None:
                        fd = os.open(f"/proc/{pid}/task/{tid}/schedstat", os.O_RDONLY)
                    fields = split(pread(fd, 96, 0))
                    out.append([pid, int(tid), int(fields[0]), int(fields[1])])
                    if len(fds) < KEEP_OPEN:
                        fds[key], fd = fd, None
                except (OSError, IndexError, ValueError):
                    pass  # the thread ended meanwhile (or no descriptor was free: it is read next time)
                finally:
                    if fd is not None:
                        os.close(fd)
        for fd in old.values():  # threads that ended since the last call
            os.close(fd)
        self.fds = fds
        return out

    @staticmethod
    def _cpu_times(pids: list[int]) -> list[list[int | float]]:
        out: list[list[int | float]] = []
        for pid in pids:
            try:
                threads = psutil.Process(pid).threads()
            except psutil.Error:
                continue
            out += [[pid, th.id, int((th.user_time + th.system_time) * 1e9), 0] for th in threads]
        return out

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds = {}


class NewestPid:
    """Whether the system made a process or thread since the last call: the newest pid in ``/proc/loadavg``.

    One ``pread`` (about 2 µs), so the probe looks for new workers at the X-ray's rate only when
    there can be one: a listing of the tree costs some 0.2 ms. Always True where the file is missing.
    """

    def __init__(self) -> None:
        try:
            self.fd: int | None = os.open("/proc/loadavg", os.O_RDONLY)
        except OSError:
            self.fd = None
        self.last = b""

    def moved(self) -> bool:
        if self.fd is None:
            return True
        try:
            newest = os.pread(self.fd, 128, 0).rsplit(b" ", 1)[-1]
        except OSError:
            return True
        moved, self.last = newest != self.last, newest
        return moved

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class Memory:
    """Each process's memory: unique set size where psutil gives it, else resident set size.

    USS (``memory_full_info``) is what a process holds alone, what it would give back if it ended: a
    forked worker's pages still shared with its parent are not counted twice. It is costly: the kernel
    walks the process's mappings (``/proc/<pid>/smaps_rollup``), some 0.4–0.6 ms of the probe's CPU for an
    interpreter here against 0.01 ms for RSS, which is why the probe reads it every
    :data:`.sampler.MEMORY_INTERVAL`, not at the X-ray's rate, and less often still for many processes.
    """

    def __init__(self) -> None:
        self.procs: dict[int, psutil.Process] = {}
        try:
            self.kind = "uss" if getattr(psutil.Process().memory_full_info(), "uss", None) is not None else "rss"
        except (psutil.Error, OSError, NotImplementedError):
            self.kind = "rss"

    def read(self, pids: list[int]) -> list[list[int]]:
        """``[[pid, bytes], ...]`` for each of ``pids`` still there."""
        out, procs = [], {}
        uss = self.kind == "uss"
        for pid in pids:
            proc = self.procs.get(pid)
            try:
                if proc is None:
                    proc = psutil.Process(pid)
                value = proc.memory_full_info().uss if uss else proc.memory_info().rss
            except (psutil.Error, OSError):
                continue  # gone (or not ours to read)
            procs[pid] = proc
            out.append([pid, int(value)])
        self.procs = procs
        return out


def sample_forever(pid: int, t0_ns: int, interval: float, thread_interval: float = 0.0, out=None,
                   memory_interval: float = 0.0) -> None:
    """The sampler process: the lines of the module's docstring until stdin closes.

    The tree is ``pid`` and its descendants (this process excluded).  With a ``thread_interval``
    the loop ticks at that rate and takes the CPU sample every ``interval / thread_interval`` ticks
    (the memory reading every ``memory_interval`` or later: :func:`_memory_reading`); the first thread and
    memory readings are taken at once (the run began while this interpreter started).
    """
    out = out or sys.stdout
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    psutil.cpu_percent(percpu=True)  # the first call only primes the counters
    me = os.getpid()
    tree = TreeCpu(psutil.Process(pid), exclude=me)
    clocks = ThreadClocks(schedstat_works(), t0_ns) if thread_interval > 0 else None
    newest = NewestPid()
    pids = tree.pids
    tick = thread_interval if clocks else interval
    every = max(1, round(interval / tick))
    memory = Memory() if memory_interval > 0 else None
    read_t = (time.perf_counter_ns() - t0_ns) / 1e9
    if clocks:
        newest.moved()  # the tree was just listed
        out.write(json.dumps({"source": clocks.source}) + "\n")
        out.write(json.dumps({"th": [read_t, clocks.read(pids)]}) + "\n")
    mem_due = 0.0
    if memory:
        out.write(json.dumps({"memory": memory.kind}) + "\n")
        line, mem_due = _memory_reading(memory, pids, t0_ns, memory_interval)
        out.write(line + "\n")
    out.flush()
    last_t = time.perf_counter()
    due, n = last_t, 0
    try:
        while True:
            due += tick
            if stop.wait(max(0.0, due - time.perf_counter())):
                break
            n += 1
            lines = []
            try:  # a tick that fails (no descriptor free, say) is skipped: the probe goes on
                # (not a tick right after a late one: the interval would be a sliver, all jitter)
                if clocks and (time.perf_counter_ns() - t0_ns) / 1e9 - read_t >= tick / 4:
                    if newest.moved() and (found := descendants(tree.root, cheap=True)) is not None:
                        pids = [pid, *(p for p in found if p != me)]  # a new worker, read from its start
                    read_t = (time.perf_counter_ns() - t0_ns) / 1e9
                    lines.append(json.dumps({"th": [read_t, clocks.read(pids)]}))
                if n % every == 0:
                    per_core = psutil.cpu_percent(percpu=True)
                    cpu, now = tree.take(), time.perf_counter()
                    pids = tree.pids
                    percent = 100.0 * cpu / max(now - last_t, 1e-6)
                    last_t = now
                    lines.append(json.dumps([(time.perf_counter_ns() - t0_ns) / 1e9, per_core, round(percent, 1)]))
                if memory and time.perf_counter() >= mem_due:
                    line, mem_due = _memory_reading(memory, pids, t0_ns, memory_interval)
                    lines.append(line)
            except OSError:
                continue
            if lines:
                out.write("\n".join(lines) + "\n")
            if n % every == 0:  # thread readings go with the CPU sample: the run's process wakes as rarely
                out.flush()
            if due < time.perf_counter() - tick:  # starved for a while: keep the rate, not the backlog
                due = time.perf_counter()
        t = (time.perf_counter_ns() - t0_ns) / 1e9
        if clocks and t - read_t >= tick / 4:  # told to stop: the tasks have ended; a last reading covers their ends
            out.write(json.dumps({"th": [t, clocks.read(pids)]}) + "\n")
        if memory:  # the memory the workers held at the end
            out.write(_memory_reading(memory, pids, t0_ns, memory_interval)[0] + "\n")
    finally:
        if clocks:
            clocks.close()
        newest.close()
        out.flush()  # the last interval's readings


#: the share of a core the memory readings may take: a reading of many processes spaces the next one out
MEMORY_BUDGET = 0.01


def _memory_reading(memory: Memory, pids: list[int], t0_ns: int, interval: float) -> tuple[str, float]:
    """One memory reading as its line, stamped when it began, and when the next is due (``perf_counter``):
    ``interval`` on, or later where this reading's CPU time over :data:`MEMORY_BUDGET` is longer (some
    0.4–0.6 ms a process here: 17 processes are read every 1 s, not every 0.25 s)."""
    t = (time.perf_counter_ns() - t0_ns) / 1e9
    cpu = time.thread_time()
    line = json.dumps({"mem": [t, memory.read(pids)]})
    return line, time.perf_counter() + max(interval, (time.thread_time() - cpu) / MEMORY_BUDGET)


def die_with(parent: int) -> None:
    """End with the run's process, even while its tasks hold the GIL (:mod:`concgui.engine.lifetime`, read by
    path where this runs as a plain script: importing the package would delay the first sample)."""
    if __package__:
        from .lifetime import die_with_parent
    else:
        from importlib.util import module_from_spec, spec_from_file_location

        spec = spec_from_file_location("concgui_lifetime", os.path.join(os.path.dirname(__file__), "lifetime.py"))
        module = module_from_spec(spec)
        spec.loader.exec_module(module)
        die_with_parent = module.die_with_parent
    die_with_parent(parent)


def main(argv: list[str]) -> int:
    if psutil is None:
        print("concgui cpu probe: psutil is not installed for this interpreter", file=sys.stderr)
        return 1
    pid, t0_ns, interval = int(argv[0]), int(argv[1]), float(argv[2])
    die_with(pid)
    thread_interval = float(argv[3]) if len(argv) > 3 else 0.0
    memory_interval = float(argv[4]) if len(argv) > 4 else 0.0
    try:
        sample_forever(pid, t0_ns, interval, thread_interval, memory_interval=memory_interval)
    except (BrokenPipeError, KeyboardInterrupt, psutil.NoSuchProcess):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

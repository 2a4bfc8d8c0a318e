"""The CPU probe process: per-core load and a process tree's CPU, as JSON lines.

Started by :class:`concgui.engine.sampler.CpuSampler` as a plain script (no
package import, so the first sample comes soon), or as ``concgui sampler``
in the frozen app.  Arguments: the pid whose tree to measure, the run's
``perf_counter_ns`` origin, the interval.  Each line is
``[t, per_core_percents, tree_percent]``; it exits when its stdin closes.
Standard library and psutil only.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

import psutil


def _children_from_proc(pid: int) -> list[int] | None:
    """``pid``'s children from ``/proc/<pid>/task/<tid>/children`` (Linux): a few small files where
    psutil reads every process's; None where the kernel does not have them."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    kids: list[int] = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += map(int, f.read().split())
        except FileNotFoundError:  # the thread ended meanwhile, or the kernel has no such file
            if not os.path.exists(f"/proc/{pid}/task/{tid}"):
                continue
            return None
        except OSError:
            continue
    return kids


def descendants(root: psutil.Process) -> list[int]:
    """Pids of every process below ``root``, read afresh each time (workers come and go)."""
    found, todo = [], [root.pid]
    while todo:
        kids = _children_from_proc(todo.pop())
        if kids is None:  # no per-thread children files here: psutil's scan of every process
            try:
                return [c.pid for c in root.children(recursive=True)]
            except psutil.Error:
                return found
        found += kids
        todo += kids
    return found


class TreeCpu:
    """CPU seconds a process tree used between two calls, process by process.

    The tree is listed afresh at every call, so a process not listed the time before was born
    since and counts whole; one that is gone takes only its last interval with it. (A sum over
    what the tree held, listed twice a second, counted nothing for new workers until the next
    listing and lost the others' CPU when one exited.)
    """

    def __init__(self, root: psutil.Process, exclude: int) -> None:
        self.root, self.exclude = root, exclude
        self.procs: dict[int, psutil.Process] = {}
        self.last: dict[int, float] = {}
        self.listed: set[int] = set()
        self.take()  # what the tree used before the probe started is no interval's

    def take(self) -> float:
        listed = [self.root.pid, *descendants(self.root)]
        now: dict[int, float] = {}
        total = 0.0
        for pid in listed:
            if pid == self.exclude or pid in now:
                continue
            try:
                p = self.procs.get(pid) or psutil.Process(pid)
                cpu = now[pid] = sum(p.cpu_times()[:2])
            except psutil.Error:
                continue
            self.procs[pid] = p
            if pid in self.last:
                total += max(0.0, cpu - self.last[pid])
            elif pid not in self.listed:  # born since the last call
                total += cpu
        self.procs = {pid: self.procs[pid] for pid in now}
        self.last, self.listed = now, set(listed)
        return total


def sample_forever(pid: int, t0_ns: int, interval: float, out=None) -> None:
    """The sampler process: a JSON line ``[t, per_core, tree_percent]`` every ``interval`` s
    until stdin closes.  The tree is ``pid`` and its descendants (this process excluded)."""
    out = out or sys.stdout
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    psutil.cpu_percent(percpu=True)  # the first call only primes the counters
    tree = TreeCpu(psutil.Process(pid), exclude=os.getpid())
    last_t = time.perf_counter()
    while not stop.wait(interval):
        per_core = psutil.cpu_percent(percpu=True)
        cpu, t = tree.take(), time.perf_counter()
        percent = 100.0 * cpu / max(t - last_t, 1e-6)
        last_t = t
        out.write(json.dumps([(time.perf_counter_ns() - t0_ns) / 1e9, per_core, round(percent, 1)]) + "\n")
        out.flush()


def main(argv: list[str]) -> int:
    pid, t0_ns, interval = int(argv[0]), int(argv[1]), float(argv[2])
    try:
        sample_forever(pid, t0_ns, interval)
    except (BrokenPipeError, KeyboardInterrupt, psutil.NoSuchProcess):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

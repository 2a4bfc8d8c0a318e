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


def _tree_cpu(root, children: list) -> float:
    total = 0.0
    for p in [root, *children]:
        try:
            total += sum(p.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


def sample_forever(pid: int, t0_ns: int, interval: float, out=None) -> None:
    """The sampler process: a JSON line ``[t, per_core, tree_percent]`` every ``interval`` s
    until stdin closes.  The tree is ``pid`` and its descendants (this process excluded)."""
    out = out or sys.stdout
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    root = psutil.Process(pid)
    me = os.getpid()

    def children() -> list:
        try:
            return [c for c in root.children(recursive=True) if c.pid != me]
        except psutil.Error:
            return []

    psutil.cpu_percent(percpu=True)  # the first call only primes the counters
    kids, listed = children(), time.perf_counter()
    last_cpu, last_t = _tree_cpu(root, kids), listed
    while not stop.wait(interval):
        per_core = psutil.cpu_percent(percpu=True)
        t = time.perf_counter()
        if t - listed >= 0.5:
            kids, listed = children(), t
        cpu = _tree_cpu(root, kids)
        tree = max(0.0, 100.0 * (cpu - last_cpu) / max(t - last_t, 1e-6))
        last_cpu, last_t = cpu, t
        out.write(json.dumps([(time.perf_counter_ns() - t0_ns) / 1e9, per_core, round(tree, 1)]) + "\n")
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

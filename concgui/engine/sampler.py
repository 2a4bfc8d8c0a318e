"""Per-core CPU load every 100 ms during a run, and the run's process-tree CPU.

psutil is optional: without it there are simply no samples.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from .records import CpuSample

try:
    import psutil
except ImportError:  # pragma: no cover - exercised by the no-psutil test
    psutil = None

INTERVAL = 0.1


class CpuSampler:
    """A daemon thread that samples until ``stop()``; samples go to ``emit`` as ``("c", sample)``."""

    def __init__(self, t0_ns: int, emit: Callable[[tuple], None], interval: float = INTERVAL) -> None:
        self.t0_ns = t0_ns
        self.emit = emit
        self.interval = interval
        self.samples: list[CpuSample] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if psutil is None:
            return
        psutil.cpu_percent(percpu=True)  # the first call only primes the counters
        self._thread = threading.Thread(target=self._loop, name="concgui-cpu-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _tree_cpu(self, me, children: list) -> float:
        total = sum(me.cpu_times()[:2])
        for child in children:
            try:
                total += sum(child.cpu_times()[:2])
            except psutil.Error:
                pass
        return total

    def _loop(self) -> None:
        """Sample; few system calls per sample, because each one gives up the GIL, and CPU-bound
        threads in this process make every re-acquisition wait (the child list is refreshed once
        a second, not every sample)."""
        me = psutil.Process(os.getpid())
        children = me.children(recursive=True)
        listed = time.perf_counter()
        last_cpu, last_t = self._tree_cpu(me, children), listed
        while not self._stop.wait(self.interval):
            per_core = psutil.cpu_percent(percpu=True)
            t = time.perf_counter()
            if t - listed >= 1.0:
                children, listed = me.children(recursive=True), t
            cpu = self._tree_cpu(me, children)
            tree = max(0.0, 100.0 * (cpu - last_cpu) / max(t - last_t, 1e-6))
            last_cpu, last_t = cpu, t
            sample = CpuSample((time.perf_counter_ns() - self.t0_ns) / 1e9, per_core, round(tree, 1))
            self.samples.append(sample)
            self.emit(("c", sample))

"""Per-core CPU load every 100 ms during a run, and the run's process-tree CPU.

The sampling runs in a small process of its own.  A sampler thread inside
the run's process would need that process's GIL, which CPU-bound threads
hold: it took one sample a second instead of ten, exactly in the runs whose
CPU picture matters most.  The sampler process stamps each sample with the
run's clock (``perf_counter_ns`` is system-wide) and streams JSON lines; it
exits when its input closes, so it never outlives the run.  psutil is
optional: without it there are simply no samples.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable

from .records import CpuSample

try:
    import psutil
except ImportError:  # pragma: no cover - exercised by the no-psutil test
    psutil = None

INTERVAL = 0.1


def sampler_command() -> list[str]:
    """The probe runs as a plain script: importing the engine package would delay the first sample."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "sampler"]
    return [sys.executable, "-I", os.path.join(os.path.dirname(os.path.abspath(__file__)), "cpu_probe.py")]


class CpuSampler:
    """Runs the sampler process until ``stop()``; samples go to ``emit`` as ``("c", sample)``."""

    def __init__(self, t0_ns: int, emit: Callable[[tuple], None], interval: float = INTERVAL) -> None:
        self.t0_ns = t0_ns
        self.emit = emit
        self.interval = interval
        self.samples: list[CpuSample] = []
        self._proc: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        if psutil is None:
            return
        try:
            self._proc = subprocess.Popen(
                [*sampler_command(), str(os.getpid()), str(self.t0_ns), str(self.interval)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError:
            return  # no samples, nothing else lost
        self._reader = threading.Thread(target=self._read, name="concgui-cpu-sampler", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self._proc.stdout:
            try:
                t, per_core, tree = json.loads(line)
            except ValueError:
                continue
            sample = CpuSample(t, per_core, tree)
            self.samples.append(sample)
            self.emit(("c", sample))

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

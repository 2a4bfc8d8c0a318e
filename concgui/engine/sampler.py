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
import time
from collections.abc import Callable

from .records import CpuSample

try:
    import psutil
except ImportError:  # pragma: no cover - exercised by the no-psutil test
    psutil = None

INTERVAL = 0.1


def sampler_command() -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, "sampler"]
    return [sys.executable, "-m", "concgui.engine.sampler"]


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
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            filter(None, [os.path.dirname(os.path.dirname(os.path.dirname(__file__))), os.environ.get("PYTHONPATH")])))
        try:
            self._proc = subprocess.Popen(
                [*sampler_command(), str(os.getpid()), str(self.t0_ns), str(self.interval)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
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
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

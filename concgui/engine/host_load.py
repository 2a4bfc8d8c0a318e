"""What other programs and the hypervisor took from this machine while a run worked.

A speedup is measured against the cores a run could get. Another program that
computes meanwhile, or a hypervisor that gives the virtual machine's cores to
someone else (steal time), lowers it, and the run's own numbers cannot tell.
So each result records both, in cores averaged over the work's span:

- other programs: the machine's busy cores (the CPU probe's per-core samples)
  minus the run's own process tree (the probe's ``tree_percent``), minus the
  steal (psutil counts it as busy) and minus ConcGUI's own helpers that are not
  in the tree (the probe itself; the window, when the run is in an engine
  process), clamped at 0;
- steal: the ``steal`` column of ``/proc/stat``'s ``cpu`` line, read at the start
  and the end of the work; only Linux has it: elsewhere None.

Standard library (psutil optional); no Qt.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from typing import Any

try:
    import psutil
except ImportError:  # pragma: no cover - exercised where psutil is missing
    psutil = None

STAT = "/proc/stat"
#: the CPU probe's interval when a result's samples are too few to tell it
DEFAULT_INTERVAL = 0.1
STEAL_FIELD = 8  # "cpu  user nice system idle iowait irq softirq steal guest guest_nice"


def _ticks_per_second() -> float:
    try:
        return float(os.sysconf("SC_CLK_TCK"))
    except (AttributeError, ValueError, OSError):
        return 100.0


def parse_steal(text: str, ticks_per_second: float | None = None) -> float | None:
    """Seconds of steal, all CPUs together, from the text of ``/proc/stat``; None without a steal column
    (not Linux's format, or a kernel older than 2.6.11)."""
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            if len(fields) <= STEAL_FIELD:
                return None
            try:
                return int(fields[STEAL_FIELD]) / (ticks_per_second or _ticks_per_second())
            except ValueError:
                return None
    return None


def steal_seconds(path: str = STAT) -> float | None:
    """The machine's steal so far, in seconds (all CPUs together); None where ``path`` does not exist."""
    try:
        with open(path) as f:
            return parse_steal(f.read())
    except OSError:
        return None


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds the processes ``pids`` used so far (those gone or unreadable count 0)."""
    if psutil is None:
        return 0.0
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
        except (psutil.Error, ValueError):
            continue
        total += t.user + t.system
    return total


def other_programs_cores(samples: Sequence[Any], start: float, end: float) -> float | None:
    """Busy cores minus the run's tree, averaged over the samples that overlap ``start``..``end`` (the run's
    clock), not clamped; None without samples that carry the tree's CPU.

    Means are taken before subtracting: the tree's CPU of a worker that ended is counted a sample late, so
    a per-sample difference clamped at 0 would count it as foreign load once and never take it back.
    """
    timed = [s for s in samples if s.per_core and s.tree_percent is not None]
    if not timed:
        return None
    gaps = sorted(b.t - a.t for a, b in zip(timed, timed[1:], strict=False) if b.t > a.t)
    interval = gaps[len(gaps) // 2] if gaps else DEFAULT_INTERVAL
    inside = [s for s in timed if s.t > start and s.t - interval < end]
    if not inside:
        return None
    busy = sum(sum(s.per_core) for s in inside) / 100.0 / len(inside)
    tree = sum(s.tree_percent for s in inside) / 100.0 / len(inside)
    return busy - tree


def local_outside_tree(workers: Iterable[dict[str, Any]]) -> list[int]:
    """Pids of the Dask workers that run on this machine (same host, boot and clock) but not below this
    process: the probe does not count them in the run's tree."""
    if psutil is None:
        return []
    me, out = os.getpid(), []
    for w in workers:
        if not w.get("same_clock") or not w.get("pid"):
            continue
        try:
            if me not in {p.pid for p in psutil.Process(w["pid"]).parents()}:
                out.append(w["pid"])
        except (psutil.Error, ValueError):
            continue
    return out


class HostLoad:
    """Readings at the start and the end of a run's work; :meth:`figures` turns them into cores.

    ConcGUI's own processes outside the run's tree are not other programs: ``hosts`` (the window or command
    line of an engine process; a Dask cluster's local workers, see :meth:`start`), measured over the work,
    and the CPU ``probe``, measured from its first
    sample on (:meth:`sampling`): its start-up, before it samples, is no part of what the samples saw.
    ``stat``: the file with the steal column.
    """

    def __init__(self, hosts: Sequence[int] = (), probe: int | None = None, stat: str = STAT) -> None:
        self.hosts = list(hosts)
        self.probe = probe
        self.stat = stat
        self._start: tuple[float, float | None, float] | None = None
        self._end: tuple[float, float | None, float] | None = None
        self._probe_start: tuple[float, float] | None = None
        self._probe_end: tuple[float, float] | None = None

    def _reading(self) -> tuple[float, float | None, float]:
        return time.perf_counter(), steal_seconds(self.stat), cpu_seconds(self.hosts)

    def start(self, detail: dict[str, Any] | None = None) -> None:
        """Take the reading at the start of the work (again: a later call moves the start).

        ``detail``: what the start-up found; a Dask cluster's workers on this machine that this process did
        not start (a scheduler given by address) do the run's work outside its tree, so they count as
        ConcGUI's, not as other programs.
        """
        workers = ((detail or {}).get("dask") or {}).get("workers") or []
        self.hosts += [pid for pid in local_outside_tree(workers) if pid not in self.hosts]
        self._start = self._reading()

    def sampling(self, samples: Sequence[Any]) -> None:
        """Called now and then during the run (cheap): the probe's reading once its first sample came."""
        if self._probe_start is None and self.probe is not None and samples:
            self._probe_start = time.perf_counter(), cpu_seconds([self.probe])

    def stop(self) -> None:
        """Take the reading at the end of the work."""
        if self._start is not None:
            self._end = self._reading()
        if self._probe_start is not None:
            self._probe_end = time.perf_counter(), cpu_seconds([self.probe])

    def figures(self, samples: Sequence[Any], work_start: float, work_end: float) -> dict[str, float | None]:
        """``other_programs_cores``, ``steal_cores`` (None where the machine has no steal column) and
        ``concgui_helpers_cores`` (the probe, the host and local Dask workers outside the tree), each averaged
        over the work; a figure that was not measured is None."""
        steal = helpers = None
        if self._start is not None and self._end is not None:
            (t0, s0, h0), (t1, s1, h1) = self._start, self._end
            span = t1 - t0
            if span > 0:
                if s0 is not None and s1 is not None:
                    steal = max(0.0, s1 - s0) / span
                helpers = max(0.0, h1 - h0) / span
        if self._probe_start is not None and self._probe_end is not None:
            (t0, c0), (t1, c1) = self._probe_start, self._probe_end
            if t1 - t0 > 0.01:  # a reading 10 ms long says little
                helpers = (helpers or 0.0) + max(0.0, c1 - c0) / (t1 - t0)
        other = other_programs_cores(samples, work_start, work_end)
        if other is not None:
            other = max(0.0, other - (steal or 0.0) - (helpers or 0.0))
        return {
            "other_programs_cores": None if other is None else round(other, 3),
            "steal_cores": None if steal is None else round(steal, 3),
            "concgui_helpers_cores": None if helpers is None else round(helpers, 3),
        }

"""Seconds-to-work factors for the cpu and hash workloads, measured per machine, and how well they held.

A task of "0.5 s of CPU" is a fixed number of loop iterations, so that the
same task takes longer when it has to share the GIL.  The factor is measured
on first use and cached in the user data directory, keyed by machine and
interpreter (a free-threaded build loops at another speed), with when it was
measured; :func:`recalibrate` (``concgui calibrate``, Run ▸ Recalibrate) measures it again.

A factor measured on a quiet machine is wrong on a busy one (other programs share the cores'
caches, power saving lowers the clock, a host steals time) and the other way round: "0.5 s"
tasks then take 0.9 s of CPU each. So every run of a calibrated workload records the factors it
used and when they were measured (:func:`recorded`), and, once it ends, the CPU time its own
tasks took against what the factors promised (:func:`gap_figures`);
:func:`calibration_gap_sentence` says it when the two are far apart.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .paths import user_data_dir
from .present import count, number, seconds
from .workloads import hash_bytes, spin

#: the workloads whose task sizes the factors turn into work
CALIBRATED = ("cpu", "hash", "mixed")
#: a run whose tasks took this many times the CPU time they were calibrated for (or its inverse) is said
#: to have drifted: more than the GIL's own switching costs threads on a quiet machine
LARGE_GAP = 1.25
#: tasks shorter than this are not judged: per-task overhead and a coarse thread clock (Windows: 15.6 ms)
MIN_TASK_CPU = 0.02
_memo: dict[tuple[str, str], dict[str, float]] = {}  # (file, key) -> an entry measured here the file would not keep


def _key() -> str:
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    return f"{platform.node()}|{platform.machine()}|{sys.implementation.name}-{platform.python_version()}|gil={gil}"


def _path() -> Path:
    return user_data_dir() / "calibration.json"


def _measure(fn, amount: int, target: float = 0.25) -> float:
    """Units per second of ``fn``, best of a few rounds of about ``target`` seconds."""
    never = lambda: False  # noqa: E731
    t = time.perf_counter()
    fn(amount, never)
    elapsed = max(time.perf_counter() - t, 1e-6)
    amount = max(amount, int(amount * target / elapsed))
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        fn(amount, never)
        best = max(best, amount / (time.perf_counter() - t))
    return best


#: the factors a kept entry must have, each a positive number below MAX_FACTOR
FACTORS = ("cpu_iterations_per_second", "hash_bytes_per_second")
MAX_FACTOR = 1e15  # validate's MAX_NUMBER
MAX_EPOCH = 32_503_680_000  # validate's: 1 January 3000


def _read() -> dict[str, Any]:
    try:
        cache = json.loads(_path().read_text())
    except (OSError, ValueError):
        return {}
    return cache if isinstance(cache, dict) else {}


def usable(entry: Any) -> bool:
    """Whether a kept entry can be used: its factors positive numbers and its date, if any, a time (the limits
    of :data:`.validate.CALIBRATION_FIELDS`, which this module cannot import: validate's imports lead back
    here). A damaged or foreign ``calibration.json`` is measured again, not turned into every cpu task's
    TypeError."""
    if type(entry) is not dict:
        return False
    numbers = [entry.get(key) for key in FACTORS]
    if not all(type(v) in (int, float) and 0 < v < MAX_FACTOR for v in numbers):  # NaN fails both
        return False
    when = entry.get("measured_at")
    return when is None or (type(when) in (int, float) and 0 <= when <= MAX_EPOCH)


def stored() -> dict[str, float] | None:
    """This machine's and interpreter's factors as kept, without measuring; None when never measured (or
    what is kept is not :func:`usable`)."""
    entry = _read().get(_key())
    if not usable(entry):
        entry = _memo.get((str(_path()), _key()))
    return dict(entry) if usable(entry) else None


def factors(refresh: bool = False) -> dict[str, float]:
    """``cpu_iterations_per_second``, ``hash_bytes_per_second`` and ``measured_at`` (epoch seconds; absent
    in files older than it) for this machine: kept ones, or measured now (always with ``refresh``)."""
    entry = None if refresh else stored()
    if entry:
        return entry
    entry = {
        "cpu_iterations_per_second": _measure(spin, 200_000),
        "hash_bytes_per_second": _measure(hash_bytes, 8 << 20),
        "measured_at": time.time(),
    }
    cache = _read()
    cache[_key()] = entry
    path = _path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cache, indent=1))
        tmp.replace(path)
    except OSError:  # an unwritable data dir: this process keeps the entry, later ones measure again
        _memo[(str(path), _key())] = entry
    return dict(entry)


def recalibrate() -> tuple[dict[str, float] | None, dict[str, float]]:
    """Measure the factors again and keep them: (the ones before, or None, and the new ones)."""
    return stored(), factors(refresh=True)


def recorded(workload: str) -> dict[str, Any]:
    """The environment's ``calibration`` entry at a run's start: the factors its workload uses and when they
    were measured (empty for a workload that uses none)."""
    if workload not in CALIBRATED:
        return {}
    f = factors()
    return {"calibration": {k: f.get(k) for k in ("cpu_iterations_per_second", "hash_bytes_per_second",
                                                   "measured_at")}}


def expected_cpu(spec: dict[str, Any], size: float) -> float:
    """The CPU seconds the factors promise one task of ``size`` (the mixed workload's CPU part only)."""
    if spec.get("workload") == "mixed":
        return size * float(spec.get("cpu_fraction", 0.5))
    return size


def gap_figures(result: Any, sizes: Sequence[float]) -> dict[str, Any]:
    """The run's own CPU time per task against what its calibration promised, for its environment.

    ``sizes`` are the tasks' sizes (seconds, after jitter). Adds to the ``calibration`` entry:
    ``task_cpu_seconds`` (the median over tasks that ended ok), ``expected_task_cpu_seconds`` and
    ``gap``, the median of each task's CPU ÷ promised (1.0: as calibrated; 1.8: the loop ran 1.8× slower
    than when measured), over ``gap_tasks`` tasks. Nothing when there is nothing to judge.
    """
    entry = (result.environment or {}).get("calibration")
    if not isinstance(entry, dict):
        return {}
    pairs = [(t.cpu_seconds, expected_cpu(result.spec, sizes[t.index])) for t in result.tasks
             if t.status == "ok" and 0 <= t.index < len(sizes)]
    pairs = [(cpu, want) for cpu, want in pairs if want >= MIN_TASK_CPU and cpu > 0]
    if not pairs:
        return {}
    entry = dict(entry)
    entry.update(task_cpu_seconds=statistics.median(c for c, _ in pairs),
                 expected_task_cpu_seconds=statistics.median(w for _, w in pairs),
                 gap=statistics.median(c / w for c, w in pairs), gap_tasks=len(pairs))
    return {"calibration": entry}


def age_text(measured_at: float | None, now: float | None = None) -> str:
    """"3 days ago", "5 minutes ago", "just now"; "" without a date (a file older than the dates)."""
    if measured_at is None or not math.isfinite(measured_at):
        return ""
    ago = max(0.0, (time.time() if now is None else now) - measured_at)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if ago >= size:
            return f"{count(int(ago // size), unit)} ago"
    return "just now"


def calibration_gap_sentence(result: Any) -> str:
    """A sentence when the run's tasks took far more (or less) CPU time than their calibration promised,
    with what it means and how to recalibrate; "" when they agreed or nothing could be judged."""
    entry = (getattr(result, "environment", None) or {}).get("calibration")
    if not isinstance(entry, dict) or not entry.get("gap"):
        return ""
    gap = float(entry["gap"])
    if 1 / LARGE_GAP <= gap <= LARGE_GAP:
        return ""
    got, want = entry.get("task_cpu_seconds"), entry.get("expected_task_cpu_seconds")
    when = age_text(entry.get("measured_at"))
    if gap > 1:
        how, why = "slower", "other programs sharing the cores and their caches, power saving or a busy host"
    else:
        how, why = "faster", "the machine was busy or slowed then"
    return (f"Each task was calibrated to take {seconds(want)} of CPU but took {seconds(got)} (median, "
            f"{number(gap)}×): this machine did the work {how} than when ConcGUI calibrated it"
            f"{' ' + when if when else ''} ({why}), so the tasks were not the size asked. Recalibrate "
            "(Run ▸ Recalibrate CPU work, or concgui calibrate) on a quiet machine.")

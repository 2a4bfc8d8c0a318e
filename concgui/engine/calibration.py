"""Seconds-to-work factors for the cpu and hash workloads, measured once per machine.

A task of "0.5 s of CPU" is a fixed number of loop iterations, so that the
same task takes longer when it has to share the GIL.  The factor is measured
on first use and cached in the user data directory, keyed by machine and
interpreter (a free-threaded build loops at another speed).
"""

from __future__ import annotations

import json
import platform
import sys
import time

from .paths import user_data_dir
from .workloads import hash_bytes, spin


def _key() -> str:
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    return f"{platform.node()}|{platform.machine()}|{sys.implementation.name}-{platform.python_version()}|gil={gil}"


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


def factors(refresh: bool = False) -> dict[str, float]:
    """``cpu_iterations_per_second`` and ``hash_bytes_per_second`` for this machine."""
    path = user_data_dir() / "calibration.json"
    try:
        cache = json.loads(path.read_text())
    except (OSError, ValueError):
        cache = {}
    entry = cache.get(_key())
    if entry and not refresh:
        return entry
    entry = {
        "cpu_iterations_per_second": _measure(spin, 200_000),
        "hash_bytes_per_second": _measure(hash_bytes, 8 << 20),
    }
    cache[_key()] = entry
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache, indent=1))
        tmp.replace(path)
    except OSError:
        pass  # an unwritable data dir costs a re-measure next time, nothing else
    return entry

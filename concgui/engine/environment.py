"""Facts about the interpreter and machine a run measured, stored with its result."""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
from typing import Any

from . import calibration


def gil_enabled() -> bool:
    """False only on a free-threaded build running with the GIL off."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def free_threaded_build() -> bool:
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def cpu_count() -> int:
    counter = getattr(os, "process_cpu_count", None) or os.cpu_count
    return counter() or 1


def environment(spec: Any = None) -> dict[str, Any]:
    """The run's facts; for a cpu, hash or mixed run also the calibration its task sizes use (see
    :mod:`.calibration`: the run adds how far its own tasks' CPU time was from it when it ends)."""
    try:
        import psutil  # noqa: F401

        has_psutil = True
    except ImportError:
        has_psutil = False
    return {
        "python_version": platform.python_version(),
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "gil_enabled": gil_enabled(),
        "free_threaded_build": free_threaded_build(),
        "cpu_count": cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "start_method": spec.effective_start_method() if spec is not None else None,
        "pid": os.getpid(),
        "psutil": has_psutil,
        **(calibration.recorded(spec.workload) if spec is not None else {}),
    }

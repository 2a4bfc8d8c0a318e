"""A run under another interpreter (``--python``) gets its CPU samples and its X-ray, psutil or not.

The CPU probe reads the engine's ``/proc`` from a process of its own and needs nothing of the run's
interpreter: it is started with the app's own interpreter (which has psutil), so a run under one
without psutil (Debian's python3.11 here, a free-threaded 3.13t elsewhere) is measured as any other.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from concgui.engine import ExperimentSpec, run
from concgui.engine.cpu_probe import schedstat_works
from concgui.engine.xray import lane_seconds

OTHER_PYTHON = "/usr/bin/python3.11"
TASK_CPU = 0.2  # seconds of CPU each task spins for

SPIN_MODULE = f"""\
import time


def spin(index):
    end = time.thread_time() + {TASK_CPU}
    while time.thread_time() < end:
        pass
"""


def python_without_psutil() -> str:
    """:data:`OTHER_PYTHON`, if it is there, is not this interpreter and cannot import psutil."""
    if not os.access(OTHER_PYTHON, os.X_OK):
        pytest.skip(f"{OTHER_PYTHON} is not installed here")
    if os.path.realpath(OTHER_PYTHON) == os.path.realpath(sys.executable):
        pytest.skip(f"{OTHER_PYTHON} is the interpreter running the tests")
    found = subprocess.run([OTHER_PYTHON, "-I", "-c", "import psutil"], capture_output=True, timeout=30)
    if found.returncode == 0:
        pytest.skip(f"{OTHER_PYTHON} has psutil: it would sample on its own")
    return OTHER_PYTHON


def test_a_run_under_a_python_without_psutil_has_cpu_samples_and_the_xray(tmp_path: Path):
    python = python_without_psutil()
    module = tmp_path / "spin_tasks.py"
    module.write_text(SPIN_MODULE)
    result = run(ExperimentSpec(executor="threads", workload="custom", function=f"{module}:spin", tasks=2,
                                python=python))
    assert result.status == "ok", result.error
    env = result.environment
    version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, timeout=30).stdout.strip()
    assert env["python_version"] == version and env["psutil"] is False, "the engine ran under that Python"
    # the probe (this interpreter's) sampled the engine's tree and read its threads from the kernel
    assert len(result.cpu_samples) >= 2, result.cpu_samples
    assert max(s.tree_percent or 0.0 for s in result.cpu_samples) > 20.0
    assert env["thread_states"] == ("schedstat" if schedstat_works() else "cpu-time")
    assert {lane for s in result.thread_states for lane in s.lanes} == {t.worker for t in result.tasks}
    assert env["memory"] in ("uss", "rss") and result.memory_samples
    cpu = {t.worker: t.cpu_seconds for t in result.tasks}
    for lane, (on, waiting, blocked, covered) in lane_seconds(result).items():
        # the X-ray's time on a core is the thread's own CPU time, as the task measured it
        assert on == pytest.approx(cpu[lane], abs=0.03 + 0.2 * cpu[lane]), (lane, on, cpu)
        # two pure-Python threads under a GIL take turns: each is off a core a good part of its span (blocked
        # on the GIL; on a loaded host partly waiting for a core once woken to take it)
        assert (blocked + waiting) / covered >= 0.25, (lane, blocked, waiting, covered)

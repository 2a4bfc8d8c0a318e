"""A custom function's module imported first in a fresh interpreter, given up on from outside it.

Why: an import that holds the GIL (C code run at import: a long regex, an extension's set-up) stops every
thread of its process, the one that was to give up on it included: a thread's join with a 10 s timeout
returned after 19.6 s, when a 20 s import let go.  Here the import runs in a child process that leads a
process group of its own; this process only waits on it, and kills the group at the deadline.  The
deadline counts from the child's word that it begins the import, so a slow interpreter start is not
taken from the module's time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import lifetime
from .workloads import FunctionError

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
#: seconds a fresh interpreter gets to start and import ConcGUI before the import itself is timed
START_TIMEOUT = 20.0

CHECK_SCRIPT = """\
import sys
from concgui.engine.lifetime import die_with_parent
die_with_parent(int(sys.argv[2]))  # a check whose caller was killed (a window's function check) ends too
from concgui.engine.workloads import resolve_function
sys.stdout.write("importing\\n")
sys.stdout.flush()
resolve_function(sys.argv[1])
"""


def timeout_message(ref: str, timeout: float) -> str:
    """The refusal of a module whose import did not finish in time (as the in-process check words it)."""
    return (f"{ref!r}: importing it did not finish within {timeout:g} s "
            "(does the module wait for something when it is imported?)")


def check_import(ref: str, timeout: float) -> None:
    """Import ``ref``'s module in a fresh interpreter; :class:`FunctionError` if it takes over ``timeout`` s.

    Only the time is judged here: a module that fails to import, or an interpreter that cannot run the
    check (a frozen app has no ``-c``), is left to the import in this process, which says why.
    """
    if getattr(sys, "frozen", False):
        return
    env = dict(os.environ)  # the module path this process imports from, this package findable
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_ROOT), *(p for p in sys.path if p)])
    try:
        proc = subprocess.Popen([sys.executable, "-c", CHECK_SCRIPT, ref, str(os.getpid())], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                                **lifetime.own_group())
    except OSError:
        return
    begun = threading.Event()

    def read() -> None:
        if proc.stdout.readline().strip() == b"importing":
            begun.set()
        proc.stdout.read()  # until the child ends: it must not block writing

    reader = threading.Thread(target=read, name="concgui-import-check", daemon=True)
    reader.start()
    start_by = time.monotonic() + START_TIMEOUT
    try:
        while not begun.wait(0.02):
            if proc.poll() is not None or time.monotonic() > start_by:
                return  # it did not get to the import (cannot start here): the import here says why
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise FunctionError(timeout_message(ref, timeout)) from None
    finally:
        lifetime.kill_group(proc.pid)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        reader.join(2)
        proc.stdout.close()


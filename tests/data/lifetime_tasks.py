"""Tasks that test how long ConcGUI's processes live: they hold the GIL, ignore SIGTERM or fork.

Each writes a note (``<what>-<index>``, holding a pid) to the folder ``CONCGUI_TEST_OUT`` names before it
misbehaves, so a test knows it has begun and which process to watch.

``hold_gil``: ``re.fullmatch(r'(a+)+b', 'a' * n)`` backtracks through 2**n ways and never lets go of the
GIL: no other Python thread of its process runs meanwhile (a parent watch, a cancel, a pipe reader).
n = 30 takes some 30 s on the 2-core test machine (28 took 20 s on the machine that found the fault).
"""

import os
import re
import signal
import time

CHARS = int(os.environ.get("CONCGUI_GIL_CHARS", "30"))
SLEEP = 60.0  # what a forked child or a stubborn task waits, at most, if nothing ends it


def _note(name, text):
    with open(os.path.join(os.environ.get("CONCGUI_TEST_OUT", "."), name), "w") as f:
        f.write(text)


def hold_gil(index):
    """Announce this process, then hold the GIL in the regex engine for some 30 s."""
    _note(f"gil-{index}", str(os.getpid()))
    return re.fullmatch(r"(a+)+b", "a" * CHARS)


def ignore_sigterm(index):
    """Ignore SIGTERM, as some servers and libraries do, and sleep (the run's cancel is ignored too)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _note(f"stubborn-{index}", str(os.getpid()))
    time.sleep(SLEEP)


def fork_a_sleeper(index):
    """Fork a child that sleeps a minute (holding whatever this process held open), and return at once."""
    pid = os.fork()
    if pid == 0:
        try:
            time.sleep(SLEEP)
        finally:
            os._exit(0)
    _note(f"child-{index}", str(pid))

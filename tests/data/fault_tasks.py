"""Task functions that misbehave on purpose, for the fault tests (tests/test_faults_*.py).

Functions that block wait for a file named ``release`` in the folder named by
``CONCGUI_TEST_OUT`` (the ``custom_out`` fixture), so a test can let them go
at its end and leave no thread behind; they ignore the run's cancel, as
other people's code does.
"""

import ctypes
import os
import tempfile
import threading
import time

RELEASE_AFTER = 60.0  # a blocked task gives up by itself after this long, whatever happens


def _out(name: str = "") -> str:
    return os.path.join(os.environ.get("CONCGUI_TEST_OUT", tempfile.gettempdir()), name)


def _note(name: str, text: str = "") -> None:
    with open(_out(name), "w") as f:
        f.write(text)


def _blocked_until_released() -> None:
    deadline = time.monotonic() + RELEASE_AFTER
    while not os.path.exists(_out("release")) and time.monotonic() < deadline:
        time.sleep(0.02)


def block(index):
    """Never returns on its own (until the test releases it); says where it runs first."""
    _note(f"started-{index}", f"{os.getpid()} {threading.get_native_id()}")
    _blocked_until_released()


def block_on_one(index):
    """Task 1 blocks; the others return at once."""
    if index == 1:
        block(index)


def segfault_on_one(index):
    """Task 1 crashes its process as a bug in C code would (SIGSEGV)."""
    if index == 1:
        ctypes.string_at(0)


def announce_and_sleep(index):
    """Writes its pid, then sleeps 5 s (a test kills the process meanwhile)."""
    _note(f"pid-{index}", str(os.getpid()))
    time.sleep(5)


def return_unpicklable(index):
    """Returns what pickle refuses: results are not sent back, so the task is fine."""
    return threading.Lock()


class UnpicklableError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.lock = threading.Lock()  # pickle refuses the exception itself


def raise_unpicklable(index):
    raise UnpicklableError(f"task {index} holds a lock")


class BrokenStrError(Exception):
    def __str__(self):
        raise RuntimeError("even the message is broken")


def raise_broken_str(index):
    raise BrokenStrError()

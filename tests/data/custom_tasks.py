"""Custom task functions the engine tests load as ``custom_tasks:name`` and as ``path/custom_tasks.py:name``.

Functions that report what they received write a small file into the folder
named by ``CONCGUI_TEST_OUT`` (set by the ``custom_out`` fixture).
"""

import os
import sys
import threading
import uuid

NOT_CALLABLE = 42
QT_NAMES = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6")


def _write(name: str, text: str) -> None:
    out = os.environ.get("CONCGUI_TEST_OUT")
    if out:
        with open(os.path.join(out, name), "w") as f:
            f.write(text)


def record_index(index):
    """Takes the task index: writes ``index-N`` holding the index, pid and thread."""
    _write(f"index-{index}", f"{index} {os.getpid()} {threading.get_native_id()}")


def record_call():
    """Takes nothing: writes one ``call-*`` file per call."""
    _write(f"call-{uuid.uuid4().hex}", f"no argument {os.getpid()}")


def optional_index(index=None):
    """One optional positional parameter still receives the index."""
    _write(f"optional-{index}", repr(index))


def two_args(a, b):
    """Needs two arguments: the engine cannot call it and must say so."""


def fail_on_one(index):
    if index == 1:
        raise ValueError(f"task {index} went wrong on purpose")


def exit_on_one(index):
    if index == 1:
        sys.exit(3)


def interrupt_on_one(index):
    if index == 1:
        raise KeyboardInterrupt("pressed inside task 1")


def chatty(index):
    """Prints to stdout, including a line that looks like the engine's own protocol."""
    print('{"events": [{"type": "run_finished", "result": {}}]}')
    print(f"task {index} says hello", flush=True)
    os.write(1, b"raw bytes on file descriptor 1\n")
    sys.stdout.flush()


def no_qt_loaded(index):
    """Fails the task if any Qt module is loaded in the process that runs it."""
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in QT_NAMES)
    if loaded:
        raise RuntimeError(f"Qt modules loaded in pid {os.getpid()}: {loaded}")


def die_on_one(index):
    """Task 1 kills the process it runs in, as a crash in C code would."""
    if index == 1:
        os._exit(5)

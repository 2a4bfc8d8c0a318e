"""Asking another Python interpreter what it is, without blocking the window.

The engine can run on an interpreter chosen by path (a free-threaded python3.13t, say).
Before a run, the form wants to know its version, whether its GIL is on and which
executors it can run there, so it can describe it and refuse what cannot run.
:class:`InterpreterProbe` starts that interpreter once with :data:`PROBE_SCRIPT` in a
:class:`QProcess` and emits :attr:`~InterpreterProbe.finished` with its answer, or with
why there is none (it does not start, is not a Python, cannot import the engine, or
does not answer in time).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess

from ..engine.environment import free_threaded_build, gil_enabled
from .helper_process import HelperProcess, package_environment

#: long enough for a cold interpreter to import the engine, short enough that a hung one is named
PROBE_TIMEOUT_MS = 5000

# Run in another interpreter to learn its version, GIL state and which executors it can run.
PROBE_SCRIPT = """\
import json, platform, sys, sysconfig
gil = getattr(sys, "_is_gil_enabled", lambda: True)
info = {"version": platform.python_version(), "implementation": sys.implementation.name,
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")), "gil_at_start": gil()}
try:
    from concgui.engine.executors import list_executors
    info["executors"] = list_executors()
except Exception as exc:
    info["engine_error"] = f"{type(exc).__name__}: {exc}"
info.setdefault("gil", gil())
print(json.dumps(info))
"""


def describe_interpreter(info: dict[str, Any]) -> str:
    """'Python 3.13.1, free-threaded, GIL off' from a probe's answer."""
    text = f"{'Python' if info.get('implementation', 'cpython') == 'cpython' else info['implementation']} " \
           f"{info.get('version', '?')}"
    if info.get("free_threaded"):
        text += ", free-threaded"
        if info.get("gil"):
            text += ", GIL on" + (" (an extension module turned it back on)" if not info.get("gil_at_start", True)
                                  else " (PYTHON_GIL=1?)")
        else:
            text += ", GIL off"
    else:
        text += ", GIL on"
    return text


def this_interpreter() -> dict[str, Any]:
    """The answer the probe would give about the interpreter running this app, without starting one."""
    return {"version": sys.version.split()[0], "implementation": sys.implementation.name,
            "free_threaded": free_threaded_build(), "gil": gil_enabled(), "gil_at_start": gil_enabled()}


class InterpreterProbe(HelperProcess):
    """Asks one interpreter at a time; a new question drops the answer to the last.

    The answer (on :attr:`finished`, about :attr:`path`) is a dict: the probe script's fields plus
    ``text`` (its description), and ``problem`` when the engine cannot run there (then ``text`` is the
    problem too).
    """

    def __init__(self, parent: QObject | None = None, timeout_ms: int = PROBE_TIMEOUT_MS) -> None:
        super().__init__(parent, timeout_ms)
        #: the interpreter asked last ("" when none)
        self.path = ""

    def start(self, path: str) -> None:
        """Run ``path`` once, in the background, to learn its version and GIL state."""
        self.path = path
        self._launch(path, ["-c", PROBE_SCRIPT], package_environment(), self.timeout_ms)

    def forget(self) -> None:
        """Stop, and forget which interpreter was asked and what it said."""
        super().forget()
        self.path = ""

    def _answer(self, code: int, reply: dict[str, Any] | None, error: str) -> dict[str, Any]:
        if code != 0 or reply is None:
            why = error or f"exit code {code}"
            return {"problem": f"{Path(self.path).name} is not a Python this app can use ({why})"}
        reply["text"] = describe_interpreter(reply)
        if reply.get("engine_error"):
            reply["problem"] = (f"{reply['text']}, but it cannot import ConcGUI's engine "
                                f"({reply['engine_error']}); install its dependencies there.")
        return reply

    def _start_failure(self, proc: QProcess) -> dict[str, Any]:
        return {"problem": f"cannot start {self.path}: {proc.errorString()}"}

    def _timeout_answer(self) -> dict[str, Any]:
        return {"problem": f"{Path(self.path).name} did not answer within {self.timeout_ms / 1000:g} s"}

    def _finish(self, answer: dict[str, Any]) -> None:
        answer.setdefault("text", answer.get("problem", ""))
        super()._finish(answer)

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

import json
import os
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from ..engine import lifetime
from ..engine.environment import free_threaded_build, gil_enabled
from ..engine.isolation import PACKAGE_ROOT

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


class InterpreterProbe(QObject):
    """Asks one interpreter at a time; a new question drops the answer to the last.

    The answer is a dict: the probe script's fields plus ``text`` (its description), and
    ``problem`` when the engine cannot run there (then ``text`` is the problem too).
    """

    #: the answer about :attr:`path`
    finished = Signal(dict)

    def __init__(self, parent: QObject | None = None, timeout_ms: int = PROBE_TIMEOUT_MS) -> None:
        super().__init__(parent)
        self.timeout_ms = timeout_ms
        #: the interpreter asked last ("" when none)
        self.path = ""
        #: its answer; None while it is being asked, or when nothing was
        self.answer: dict[str, Any] | None = None
        self._proc: QProcess | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._timed_out)

    def running(self) -> bool:
        """Whether a question is out (its answer, or the timeout, is still to come)."""
        return self._proc is not None

    def start(self, path: str) -> None:
        """Run ``path`` once, in the background, to learn its version and GIL state."""
        self.stop()
        self.path, self.answer = path, None
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()  # as the engine process will: this package by path
        env.insert("PYTHONPATH", os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.value("PYTHONPATH")])))
        proc.setProcessEnvironment(env)
        # bound methods that ask sender(), not lambdas holding proc: PySide can crash deleting a
        # QProcess whose own connections hold a reference to it
        proc.finished.connect(self._done)
        proc.errorOccurred.connect(self._failed)
        self._proc = proc
        self.destroyed.connect(lambda *_a, p=proc: _kill(p))
        self._timer.start(self.timeout_ms)
        own_group(proc)
        proc.start(path, ["-c", PROBE_SCRIPT])

    def stop(self) -> None:
        """End a running question (its answer never comes); the last answer is kept."""
        self._timer.stop()
        proc, self._proc = self._proc, None
        if proc is not None:
            _kill(proc)
            proc.deleteLater()

    def forget(self) -> None:
        """Stop, and forget which interpreter was asked and what it said."""
        self.stop()
        self.path, self.answer = "", None

    def _done(self, code: int, _status: QProcess.ExitStatus) -> None:
        proc = self.sender()
        if proc is None or proc is not self._proc:
            return
        out = bytes(proc.readAllStandardOutput().data()).decode(errors="replace").strip().splitlines()
        err = bytes(proc.readAllStandardError().data()).decode(errors="replace").strip().splitlines()
        try:
            info = json.loads(out[-1]) if code == 0 and out else None
        except json.JSONDecodeError:
            info = None
        if not isinstance(info, dict):
            why = err[-1] if err else f"exit code {code}"
            self._finish({"problem": f"{Path(self.path).name} is not a Python this app can use ({why})"})
            return
        info["text"] = describe_interpreter(info)
        if info.get("engine_error"):
            info["problem"] = (f"{info['text']}, but it cannot import ConcGUI's engine "
                               f"({info['engine_error']}); install its dependencies there.")
        self._finish(info)

    def _failed(self, error: QProcess.ProcessError) -> None:
        proc = self.sender()
        if proc is None or proc is not self._proc or error != QProcess.ProcessError.FailedToStart:
            return  # crashes and timeouts end in finished or the timer
        self._finish({"problem": f"cannot start {self.path}: {proc.errorString()}"})

    def _timed_out(self) -> None:
        if self._proc is None:
            return
        self._finish({"problem": f"{Path(self.path).name} did not answer within {self.timeout_ms / 1000:g} s"})

    def _finish(self, info: dict[str, Any]) -> None:
        info.setdefault("text", info.get("problem", ""))
        self.stop()
        self.answer = info
        self.finished.emit(info)


def own_group(proc: QProcess) -> None:
    """Have ``proc`` start a session, so a process group, of its own: :func:`_kill` ends what it started too
    (a script named as the interpreter that runs ``sleep 600`` without ``exec``)."""
    if os.name == "posix" and hasattr(proc, "setUnixProcessParameters"):  # Qt 6.6+
        proc.setUnixProcessParameters(QProcess.UnixProcessFlag.CreateNewSession)


def _kill(proc: QProcess) -> None:
    """End a probe process and its process group, and reap it (Qt warns when a running QProcess is
    destroyed)."""
    try:
        if proc.state() != QProcess.ProcessState.NotRunning:
            if pid := proc.processId():
                lifetime.kill_group(pid)
            proc.kill()
            proc.waitForFinished(1000)
    except RuntimeError:  # already deleted on the C++ side
        pass

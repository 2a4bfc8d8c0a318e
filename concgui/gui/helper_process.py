"""One short helper process the window starts and waits for: its JSON answer, or why there is none.

The interpreter probe, the function check and Run ▸ Recalibrate each run a short Python helper in a
:class:`QProcess`, so the window never waits on it. :class:`HelperProcess` is what they share: the
process leads a process group of its own, so a stop or a timeout ends what it started too; a timer
bounds the wait; the answer is the last line of its stdout, read as JSON; and one answer, or the
reason there is none, is emitted on :attr:`~HelperProcess.finished`. A subclass says what to run
and words its answers.
"""

from __future__ import annotations

import json
import os
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from ..engine import lifetime
from ..engine.isolation import PACKAGE_ROOT


class HelperProcess(QObject):
    """One helper at a time; a new start drops the answer to the last.

    Subclasses start with :meth:`_launch` and word the answers in :meth:`_answer`,
    :meth:`_start_failure` and :meth:`_timeout_answer`.
    """

    #: the answer: a dict, with ``problem`` when there is none to give
    finished = Signal(dict)

    def __init__(self, parent: QObject | None, timeout_ms: int) -> None:
        super().__init__(parent)
        self.timeout_ms = timeout_ms
        #: the last answer; None while a helper runs, or when nothing was asked
        self.answer: dict[str, Any] | None = None
        self._proc: QProcess | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._timed_out)

    def running(self) -> bool:
        """Whether a helper is out (its answer, or the timeout, is still to come)."""
        return self._proc is not None

    def stop(self) -> None:
        """End a running helper (its answer never comes); the last answer is kept."""
        self._timer.stop()
        proc, self._proc = self._proc, None
        if proc is not None:
            _kill(proc)
            proc.deleteLater()

    def forget(self) -> None:
        """Stop, and forget the last answer."""
        self.stop()
        self.answer = None

    def _launch(self, program: str, args: list[str], env: QProcessEnvironment, timeout_ms: int) -> QProcess:
        """Stop the last helper and start ``program`` in a group of its own; it has ``timeout_ms`` to answer."""
        self.stop()
        self.answer = None
        proc = QProcess(self)
        proc.setProcessEnvironment(env)
        # bound methods that ask sender(), not lambdas holding proc: PySide can crash deleting a
        # QProcess whose own connections hold a reference to it
        proc.finished.connect(self._done)
        proc.errorOccurred.connect(self._failed)
        self._proc = proc
        self.destroyed.connect(lambda *_a, p=proc: _kill(p))
        self._timer.start(timeout_ms)
        own_group(proc)
        proc.start(program, args)
        return proc

    def _answer(self, code: int, reply: dict[str, Any] | None, error: str) -> dict[str, Any]:
        """The answer from a helper that ended with exit ``code``: ``reply`` is its last stdout line read
        as a JSON object (None when it is not one), ``error`` its last stderr line ("" when none)."""
        raise NotImplementedError

    def _start_failure(self, proc: QProcess) -> dict[str, Any]:
        """The answer when ``proc`` could not start."""
        raise NotImplementedError

    def _timeout_answer(self) -> dict[str, Any]:
        """The answer when the helper did not answer in time."""
        raise NotImplementedError

    def _done(self, code: int, _status: QProcess.ExitStatus) -> None:
        proc = self.sender()
        if proc is None or proc is not self._proc:
            return
        out = bytes(proc.readAllStandardOutput().data()).decode(errors="replace").strip().splitlines()
        err = bytes(proc.readAllStandardError().data()).decode(errors="replace").strip().splitlines()
        try:
            reply = json.loads(out[-1]) if out else None
        except json.JSONDecodeError:
            reply = None
        self._finish(self._answer(code, reply if isinstance(reply, dict) else None, err[-1] if err else ""))

    def _failed(self, error: QProcess.ProcessError) -> None:
        proc = self.sender()
        if proc is None or proc is not self._proc or error != QProcess.ProcessError.FailedToStart:
            return  # crashes and timeouts end in finished or the timer
        self._finish(self._start_failure(proc))

    def _timed_out(self) -> None:
        if self._proc is not None:
            self._finish(self._timeout_answer())

    def _finish(self, answer: dict[str, Any]) -> None:
        self.stop()
        self.answer = answer
        self.finished.emit(answer)


def package_environment() -> QProcessEnvironment:
    """This process's environment with this package first on ``PYTHONPATH``: another interpreter finds it
    by path, as the engine process does."""
    env = QProcessEnvironment.systemEnvironment()
    env.insert("PYTHONPATH", os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.value("PYTHONPATH")])))
    return env


def own_group(proc: QProcess) -> None:
    """Have ``proc`` start a session, so a process group, of its own: :func:`_kill` ends what it started too
    (a script named as the interpreter that runs ``sleep 600`` without ``exec``)."""
    if os.name == "posix" and hasattr(proc, "setUnixProcessParameters"):  # Qt 6.6+
        proc.setUnixProcessParameters(QProcess.UnixProcessFlag.CreateNewSession)


def _kill(proc: QProcess) -> None:
    """End a helper process and its process group, and reap it (Qt warns when a running QProcess is
    destroyed)."""
    try:
        if proc.state() != QProcess.ProcessState.NotRunning:
            if pid := proc.processId():
                lifetime.kill_group(pid)
            proc.kill()
            proc.waitForFinished(1000)
    except RuntimeError:  # already deleted on the C++ side
        pass

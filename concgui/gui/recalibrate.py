"""Run ▸ Recalibrate CPU work: measure again how much work a second of cpu and hash tasks is.

The factors are measured once and kept (:mod:`concgui.engine.calibration`); on a machine busier
or quieter than then, "0.5 s" tasks are not 0.5 s of CPU, and a run's Summary says so. The
measurement runs ``concgui calibrate --json`` in a :class:`QProcess`: in the window's own process
the loop would share the GIL with the drawing and read slow, and the window stays responsive for
its few seconds. It measures the interpreter the form's experiment runs on (its "Python" field),
whose factors are the ones its runs use.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal
from PySide6.QtGui import QAction

from ..engine.calibration import age_text
from ..engine.isolation import PACKAGE_ROOT
from ..engine.present import number

#: a measurement takes about 3 s; a busy machine or a cold interpreter may need far longer
TIMEOUT_MS = 60_000


def calibrate_command(python: str | None = None) -> list[str]:
    """The command line of ``concgui calibrate --json`` for ``python`` (default: this app's own)."""
    if python:
        return [python, "-m", "concgui", "calibrate", "--json"]
    if getattr(sys, "frozen", False):
        return [sys.executable, "calibrate", "--json"]
    return [sys.executable, "-m", "concgui", "calibrate", "--json"]


def change_text(answer: dict[str, Any]) -> str:
    """The status line after a recalibration: the new loop speed, and how it moved since the last one."""
    if answer.get("problem"):
        return f"Recalibration failed: {answer['problem']}"
    after, before = answer.get("after") or {}, answer.get("before") or {}
    new = after.get("cpu_iterations_per_second")
    text = f"Recalibrated: the cpu workload's loop runs {number((new or 0) / 1e6, 2)} M iterations per CPU second here"
    old = before.get("cpu_iterations_per_second")
    if old and new:
        when = age_text(before.get("measured_at"))
        text += (f" (the calibration{' of ' + when if when else ''} said {number(old / 1e6, 2)} M: "
                 f"{100.0 * (new / old - 1.0):+.0f} %)")
    return text + "; runs from now on use it."


class Recalibration(QObject):
    """One ``concgui calibrate`` process at a time; :attr:`finished` carries its JSON answer or a ``problem``."""

    finished = Signal(dict)

    def __init__(self, parent: QObject | None = None, timeout_ms: int = TIMEOUT_MS) -> None:
        super().__init__(parent)
        self._proc: QProcess | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(timeout_ms)
        self._timer.timeout.connect(self._timed_out)

    def running(self) -> bool:
        return self._proc is not None

    def start(self, python: str | None = None) -> None:
        """Measure in the background for ``python`` (None: this app's interpreter)."""
        self.stop()
        command = calibrate_command(python)
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()  # another interpreter finds this package by path
        env.insert("PYTHONPATH", os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.value("PYTHONPATH")])))
        proc.setProcessEnvironment(env)
        proc.finished.connect(self._done)  # bound methods asking sender(): see interpreter_probe
        proc.errorOccurred.connect(self._failed)
        self._proc = proc
        self._timer.start()
        proc.start(command[0], command[1:])

    def stop(self) -> None:
        """End a measurement that is going; its answer never comes."""
        self._timer.stop()
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.state() != QProcess.ProcessState.NotRunning:
                    proc.kill()
                    proc.waitForFinished(1000)
            except RuntimeError:  # already deleted on the C++ side
                pass
            proc.deleteLater()

    def _done(self, code: int, _status: QProcess.ExitStatus) -> None:
        proc = self.sender()
        if proc is None or proc is not self._proc:
            return
        out = bytes(proc.readAllStandardOutput().data()).decode(errors="replace").strip().splitlines()
        err = bytes(proc.readAllStandardError().data()).decode(errors="replace").strip().splitlines()
        try:
            answer = json.loads(out[-1]) if code == 0 and out else None
        except json.JSONDecodeError:
            answer = None
        if not isinstance(answer, dict) or not answer.get("after"):
            answer = {"problem": err[-1] if err else f"concgui calibrate ended with exit code {code}"}
        self._finish(answer)

    def _failed(self, error: QProcess.ProcessError) -> None:
        proc = self.sender()
        if proc is not None and proc is self._proc and error == QProcess.ProcessError.FailedToStart:
            self._finish({"problem": f"cannot start {proc.program()}: {proc.errorString()}"})

    def _timed_out(self) -> None:
        if self._proc is not None:
            self._finish({"problem": f"no answer within {self._timer.interval() // 1000} s"})

    def _finish(self, answer: dict[str, Any]) -> None:
        self.stop()
        self.finished.emit(answer)


def install_recalibrate(window: Any, menu: Any) -> QAction:
    """Add Run ▸ Recalibrate CPU work to ``menu`` of the main ``window`` (its controller, sweeper, form and
    status bar); refused while a run or a scaling study goes, whose work would slow the measurement."""
    worker = Recalibration(window)
    action = QAction("Recalibrate CPU &work", window)
    action.setStatusTip("Measure again how much work a second of the cpu, hash and mixed workloads is here "
                        "(about 3 s; best on a quiet machine)")

    def start() -> None:
        if window.controller.is_running() or window.sweeper.is_running() or worker.running():
            window.statusBar().showMessage("Cannot recalibrate while a run goes: its work would slow the "
                                           "measurement. Recalibrate after it ends.")
            return
        try:
            python = window.form.spec().python or None
        except Exception:  # noqa: BLE001 - a form with a bad field: measure this app's interpreter
            python = None
        action.setEnabled(False)
        window.statusBar().showMessage("Recalibrating CPU work (about 3 s; best with the machine quiet)…")
        worker.start(python)

    def done(answer: dict[str, Any]) -> None:
        action.setEnabled(True)
        window.statusBar().showMessage(change_text(answer))

    action.triggered.connect(start)
    worker.finished.connect(done)
    menu.addAction(action)
    window.recalibration = worker  # tests wait on it
    return action

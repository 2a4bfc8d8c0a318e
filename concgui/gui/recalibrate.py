"""Run ▸ Recalibrate CPU work: measure again how much work a second of cpu and hash tasks is.

The factors are measured once and kept (:mod:`concgui.engine.calibration`); on a machine busier
or quieter than then, "0.5 s" tasks are not 0.5 s of CPU, and a run's Summary says so. The
measurement runs ``concgui calibrate --json`` in a :class:`QProcess`: in the window's own process
the loop would share the GIL with the drawing and read slow, and the window stays responsive for
its few seconds. It measures the interpreter the form's experiment runs on (its "Python" field),
whose factors are the ones its runs use.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QObject, QProcess
from PySide6.QtGui import QAction

from ..engine.calibration import age_text
from ..engine.present import number
from .helper_process import HelperProcess, package_environment

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


class Recalibration(HelperProcess):
    """One ``concgui calibrate`` process at a time; :attr:`finished` carries its JSON answer or a ``problem``."""

    def __init__(self, parent: QObject | None = None, timeout_ms: int = TIMEOUT_MS) -> None:
        super().__init__(parent, timeout_ms)

    def start(self, python: str | None = None) -> None:
        """Measure in the background for ``python`` (None: this app's interpreter)."""
        command = calibrate_command(python)
        self._launch(command[0], command[1:], package_environment(), self.timeout_ms)

    def _answer(self, code: int, reply: dict[str, Any] | None, error: str) -> dict[str, Any]:
        if code != 0 or reply is None or not reply.get("after"):
            return {"problem": error or f"concgui calibrate ended with exit code {code}"}
        return reply

    def _start_failure(self, proc: QProcess) -> dict[str, Any]:
        return {"problem": f"cannot start {proc.program()}: {proc.errorString()}"}

    def _timeout_answer(self) -> dict[str, Any]:
        return {"problem": f"no answer within {self.timeout_ms // 1000} s"}


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

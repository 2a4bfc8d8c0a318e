"""Run ▸ Recalibrate CPU work measures the calibration again in a process of its own (issue 17, defect 15)."""

from __future__ import annotations

import json
import os
import re

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from concgui.engine import calibration  # noqa: E402
from concgui.gui.recalibrate import Recalibration, calibrate_command, change_text  # noqa: E402

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support (propagateSizeHints|raise)")


def run_menu_action(window, text: str):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Run")
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def test_the_run_menu_recalibrates_in_the_background_and_says_what_changed(qtbot, window, data_dir):
    before = calibration.stored()
    action = run_menu_action(window, "Recalibrate CPU work")
    with qtbot.waitSignal(window.recalibration.finished, timeout=60_000) as answer:
        action.trigger()
        assert not action.isEnabled() and "Recalibrating CPU work" in window.statusBar().currentMessage()
        assert window.isVisible()  # the window went on: the measurement is another process's
    assert answer.args[0]["before"] == before
    after = calibration.stored()
    assert after["measured_at"] > before["measured_at"] and answer.args[0]["after"] == after
    assert json.loads((data_dir / "calibration.json").read_text())
    message = window.statusBar().currentMessage()
    assert message.startswith("Recalibrated: the cpu workload's loop runs ")
    assert re.search(r"the calibration of (just now|\d+ \w+ ago) said", message), message
    assert action.isEnabled()


def test_it_is_refused_while_a_run_goes(qtbot, window, monkeypatch):
    monkeypatch.setattr(window.controller, "is_running", lambda: True)
    run_menu_action(window, "Recalibrate CPU work").trigger()
    assert not window.recalibration.running()
    assert window.statusBar().currentMessage().startswith("Cannot recalibrate while a run goes")


def test_an_interpreter_that_cannot_calibrate_is_a_problem_said_not_a_crash(qtbot, tmp_path):
    worker = Recalibration()
    with qtbot.waitSignal(worker.finished, timeout=10_000) as answer:
        worker.start(str(tmp_path / "no-such-python"))
    assert "cannot start" in answer.args[0]["problem"]
    assert change_text(answer.args[0]).startswith("Recalibration failed: cannot start")
    assert calibrate_command("/opt/py/bin/python3.13t") == ["/opt/py/bin/python3.13t", "-m", "concgui", "calibrate",
                                                            "--json"]

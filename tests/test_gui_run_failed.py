"""A run that fails before any task starts: the views say so instead of drawing an empty run."""

from __future__ import annotations

import pytest

from concgui.engine import ExperimentSpec

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def test_a_run_that_never_started_says_why_in_the_timeline(qtbot, window):
    spec = ExperimentSpec(workload="custom", function="nosuchmod:fn", executor="thread-pool", tasks=4)
    with qtbot.waitSignal(window.controller.run_failed, timeout=30_000) as blocker:
        window.controller.start(spec)  # the engine's own check refuses it, as after a stale form
    assert "nosuchmod" in blocker.args[0]
    text = window.timeline._placeholder.textItem.toPlainText()
    assert window.timeline._placeholder.isVisible()
    assert text.startswith("The run did not start") and "nosuchmod" in text
    assert "?" not in window.timeline.getPlotItem().titleLabel.text, "no '0 × ? on ?' title"
    assert window.cores._state is None, "the cores chart went back to the machine's live load"


#: the window's run controller in a process of its own: a task's os._exit there would end the test's process
INLINE_EXIT = """
import json, sys
from PySide6.QtCore import QCoreApplication, QTimer
from concgui.engine import ExperimentSpec
from concgui.gui.run_controller import RunController

app = QCoreApplication([])
controller, out = RunController(), {}
controller.run_finished.connect(lambda r: (out.update(status=r.status, errors=[t.error for t in r.tasks]), app.quit()))
controller.run_failed.connect(lambda message: (out.update(failed=message), app.quit()))
controller.start(ExperimentSpec(workload="custom", function="os:_exit", tasks=2, executor=sys.argv[1],
                                isolation="inline"))
QTimer.singleShot(30_000, app.quit)
app.exec()
print(json.dumps(out))
"""


@pytest.mark.parametrize("executor", ["threads", "sequential"])
def test_a_task_ending_the_windows_own_process_is_refused_and_reported(child_env, executor):
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", INLINE_EXIT, executor], capture_output=True, text=True,
                          env=child_env(QT_QPA_PLATFORM="offscreen"), timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip(), ("the window's process vanished", proc.returncode,
                                                          proc.stderr[-2000:])
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["status"] == "ok" and len(out["errors"]) == 2, out
    assert all(e["type"] == "ExitRefused" and "would end this process" in e["message"]
               for e in out["errors"]), out

"""Errors the app reports itself: an exception in a Qt slot, in a helper thread, or data the charts cannot draw.

pytest-qt catches exceptions in slots itself, so the app's own error reporting
is tested where it really runs: in a child process that starts the window as
the app does (``install_error_reporting``), raises on purpose, and reports
what it saw.  The app must log every error with its traceback to
``concgui.log`` in the data dir, show the first one once, in a box that does
not block, and go on running.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from conftest import subprocess_env

SCRIPT = textwrap.dedent("""\
    import json, math, os, sys, threading
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication([])
    from concgui.gui.app import install_error_reporting, log_path
    install_error_reporting()
    from concgui.engine import ExperimentSpec
    from concgui.engine.records import CpuSample, RunResult, TaskRecord
    from concgui.engine.summary import summarize
    from concgui.gui.main_window import MainWindow

    window = MainWindow(sys.argv[1])
    window.show()
    seen = {}

    def slot_raises():
        raise RuntimeError("a bug in a slot")

    def thread_raises():
        raise ValueError("a bug in a helper thread")

    def draw_nonsense():
        nan, inf = math.nan, math.inf
        tasks = [TaskRecord(0, "thread 1", 1, 2, 0.0, nan, nan, 0.0, "ok"),
                 TaskRecord(1, "thread 1", 1, 2, 0.0, 0.1, inf, 0.0, "ok"),
                 TaskRecord(2, "thread 2", 1, 3, nan, 0.5, 0.2, nan, "error", {"type": "X", "message": "m"}),
                 TaskRecord(3, "lost worker", 0, 0, 0.0, None, 0.4, 0.0, "error", {"type": "X", "message": "m"})]
        samples = [CpuSample(0.0, [1.0, 2.0]), CpuSample(nan, [1.0, 2.0, 3.0]), CpuSample(0.2, [nan], nan)]
        result = RunResult(spec=ExperimentSpec().to_dict(), environment={}, wall_seconds=nan, tasks=tasks,
                           cpu_samples=samples)
        result.summary = summarize(result)
        window.show_result(result)
        window.timeline.refresh()
        window.cores.refresh()
        seen["drawn"] = True

    def second_slot_raises():
        raise KeyError("a second bug")

    def report():
        boxes = [w for w in app.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
        seen["boxes"] = [(b.windowTitle(), b.text(), b.isModal()) for b in boxes]
        seen["still_runs"] = window.isVisible() and window.run_button.isEnabled()
        seen["log"] = str(log_path())
        print(json.dumps(seen), flush=True)
        window.close()
        app.quit()

    QTimer.singleShot(100, slot_raises)
    QTimer.singleShot(300, lambda: threading.Thread(target=thread_raises, name="helper").start())
    QTimer.singleShot(500, draw_nonsense)
    QTimer.singleShot(700, second_slot_raises)
    QTimer.singleShot(1500, report)
    sys.exit(app.exec())
    """)


@pytest.fixture(scope="module")
def app_run(tmp_path_factory):
    """One run of the script for the module's tests (it takes a few seconds)."""
    tmp_path = tmp_path_factory.mktemp("errors")
    env = subprocess_env(QT_QPA_PLATFORM="offscreen", CONCGUI_DATA_DIR=str(tmp_path / "data"),
                    XDG_CONFIG_HOME=str(tmp_path / "config"))
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "history.sqlite3")], env=env,
                         capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    return seen, out.stderr, (tmp_path / "data" / "concgui.log").read_text()


def test_an_exception_in_a_slot_is_logged_and_shown_once_never_an_abort(app_run):
    seen, stderr, log = app_run
    assert "RuntimeError: a bug in a slot" in log and "slot_raises" in log, "logged with its traceback"
    assert "KeyError: 'a second bug'" in log, "every error is logged"
    errors = [b for b in seen["boxes"] if "unexpected error" in b[0]]
    assert len(errors) == 1, "shown once"
    title, text, modal = errors[0]
    assert "RuntimeError: a bug in a slot" in text and "concgui.log" in text and not modal
    assert seen["still_runs"], "the window goes on"
    assert "Fatal" not in stderr and "Aborted" not in stderr


def test_nan_infinities_and_mismatched_samples_are_drawn_without_an_error(app_run):
    seen, _stderr, log = app_run
    assert seen.get("drawn") is True
    assert "show_result" not in log and "refresh" not in log, "drawing raised nothing"


def test_an_exception_in_any_thread_is_logged_in_the_data_dir(app_run):
    _seen, _stderr, log = app_run
    assert "unhandled exception in thread helper" in log
    assert "ValueError: a bug in a helper thread" in log and "thread_raises" in log

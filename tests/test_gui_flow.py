"""The window's flow as a person drives it: what Stop leaves in the progress bar, comparison presets and
Ctrl+R, Run while a field is wrong, and quitting during a run. Offscreen, with pytest-qt."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from concgui.engine import ExperimentSpec
from concgui.engine.records import CANCELLED, OK
from concgui.history import HistoryStore

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
LONG = ExperimentSpec(workload="sleep", executor="thread-pool", tasks=400, duration=0.05, workers=2,
                      isolation="inline")


def start_and_let_some_finish(qtbot, window, spec: ExperimentSpec, finished: int = 6) -> None:
    window.form.set_spec(spec)
    window.run_button.click()
    qtbot.waitUntil(lambda: window.controller.state is not None and window.controller.state.done >= finished,
                    timeout=15_000)


# --- defect 6: after Stop, the bar says what finished and what was cancelled ---------------------------
def test_after_stop_the_progress_bar_says_how_many_finished_and_how_many_were_cancelled(qtbot, window):
    start_and_let_some_finish(qtbot, window, LONG)
    with qtbot.waitSignal(window.controller.run_finished, timeout=10_000) as blocker:
        window.stop_button.click()
    result = blocker.args[0]
    done = sum(t.status == OK for t in result.tasks)
    cancelled = sum(t.status == CANCELLED for t in result.tasks)
    assert 0 < done < 400 and done + cancelled == 400
    assert window.progress.text() == f"{done} done, {cancelled} cancelled"
    assert window.progress.value() == done < window.progress.maximum() == 400  # not a full bar
    window.show_result(result)  # reopened later (history, a file): the same words
    assert window.progress.text() == f"{done} done, {cancelled} cancelled"
    with qtbot.waitSignal(window.controller.run_finished, timeout=15_000):  # a run that ends whole reads as before
        window.form.set_spec(LONG.with_(tasks=3))
        window.run_button.click()
    assert window.progress.text() == "3 / 3 tasks" and window.progress.value() == 3


# --- defect 10: Run stays disabled while a field holds what the spec refuses ---------------------------
def test_run_stays_disabled_and_says_why_while_a_number_is_out_of_range(qtbot, window):
    tasks = window.form.editor("tasks")
    tasks.setFocus()
    tasks.selectAll()
    QTest.keyClicks(tasks, "0")
    assert not window.run_button.isEnabled() and not window.run_action.isEnabled()
    assert not window.compare_button.isEnabled() and not window.sweep_button.isEnabled()
    assert window.statusBar().currentMessage().startswith("Cannot run: tasks: 0 is out of range; allowed:")
    QTest.keyClicks(tasks, "5")  # "05"
    assert window.run_button.isEnabled() and window.form.spec().tasks == 5


# --- defect 11: a preset meant for Compare says so, and Ctrl+R compares --------------------------------
def test_a_comparison_preset_says_so_focuses_compare_and_ctrl_r_runs_its_comparison(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.preset_box.setFocus()
    index = window.preset_box.findData("cpu-threads-vs-processes")
    window.preset_box.setCurrentIndex(index)
    window.preset_box.activated.emit(index)  # chosen from the list, as a person does
    assert window.form.spec().executor == "sequential"  # what Run alone would run
    note = window.preset_note.text()
    assert "A comparison: press Compare (Ctrl+R)" in note and "Run runs only the executor chosen above" in note
    assert "thread-pool (2 workers)" in note and "process-pool (2 workers)" in note
    qtbot.waitUntil(window.compare_button.hasFocus)
    assert window.compare_button.text() == "Compare (Ctrl+R)"
    assert window.compare_action.shortcut().toString() == "Ctrl+R" and window.run_action.shortcut().isEmpty()
    window.form.editor("tasks").setValue(2)  # the person makes it quicker: still the preset's comparison
    window.form.editor("duration").setValue(0.05)
    window.form.fields["isolation"].set_value("inline")
    with qtbot.waitSignal(window.controller.sequence_finished, timeout=60_000) as blocker:
        QTest.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    results = blocker.args[0]
    assert [(r.spec["executor"], r.spec["workers"]) for r in results] == [
        ("sequential", None), ("threads", None), ("thread-pool", 2), ("process-pool", 2)]  # the preset's runs
    assert all(r.spec["tasks"] == 2 and r.spec["duration"] == 0.05 for r in results)  # with the form's edits
    qtbot.waitUntil(lambda: window.run_button.isEnabled())
    combo = window.form.editor("executor")
    combo.setCurrentIndex(combo.findData("thread-pool"))  # one executor chosen: Run and Ctrl+R run it again
    assert window.run_action.shortcut().toString() == "Ctrl+R"
    assert window.compare_action.shortcut().toString() == "Ctrl+Shift+R"
    assert "A comparison" not in window.preset_note.text() and window.compare_button.text() == "Compare"


# --- defect 14: Ctrl+Q during a run asks once, and keeps what finished ---------------------------------
def answer_quit_box(answer: str, asked: list[str]) -> None:
    """Press ``answer`` in the quit question as soon as it shows (it is modal: the test waits inside it)."""
    def press() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, press)
            return
        asked.append(box.text())
        next(b for b in box.buttons() if b.text() == answer).click()

    QTimer.singleShot(20, press)


def test_quit_during_a_run_asks_once_and_keeps_the_finished_tasks(qtbot, window, tmp_path):
    start_and_let_some_finish(qtbot, window, LONG)
    asked: list[str] = []
    answer_quit_box("Keep running", asked)
    window.quit_action.trigger()
    assert len(asked) == 1 and asked[0].startswith("A run is going: ")
    assert window.isVisible() and window.controller.is_running()  # kept running
    finished_before = window.controller.state.done
    answer_quit_box("Stop and quit", asked)
    window.quit_action.trigger()
    assert len(asked) == 2  # once for this quit: the close that follows does not ask again
    assert not window.isVisible()
    assert not any(t.name == "concgui-gui-run" for t in threading.enumerate())  # the run was stopped
    with HistoryStore(tmp_path / "history.sqlite3") as store:
        (run,) = store.list_runs()
        kept = store.load(run["id"])
    assert run["executor"] == "thread-pool" and not run["finished"]  # shown as interrupted at the next start
    assert sum(t.status == OK for t in kept.tasks) >= finished_before > 0


def test_quit_with_nothing_running_does_not_ask(qtbot, window):
    asked: list[str] = []
    answer_quit_box("Stop and quit", asked)
    window.quit_action.trigger()
    qtbot.wait(100)
    assert asked == [] and not window.isVisible()

"""A preset's note describes the form: an edit drops the preset's description, another executor the preset.

The review loaded seed-notebook ("Three tasks that each sleep 2 s…"), set the workload to cpu, and the
panel still promised sleeps while Compare (Ctrl+R) ran CPU work; a run opened from the history left
the old preset named too.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from concgui.engine.exports import load_results
from concgui.gui.presets import resources_dir

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints",
                                       "This plugin does not support raise")


def choose_preset(window, name: str) -> None:
    """Pick ``name`` from the preset list, as a person does."""
    index = window.preset_box.findData(name)
    window.preset_box.setCurrentIndex(index)
    window.preset_box.activated.emit(index)


def assert_no_preset(window) -> None:
    panel = window.panel
    assert window.preset_box.currentText() == "Presets…" and window.preset_box.currentData() is None
    assert window.preset_note.isHidden() and window.preset_note.text() == ""
    assert panel.preset is None and panel.compare_preset is None
    assert window.compare_button.text() == "Compare"
    assert window.run_action.shortcut().toString() == "Ctrl+R"  # Ctrl+R runs the form again, not the preset
    assert window.compare_action.shortcut().toString() == "Ctrl+Shift+R"


def test_an_edited_comparison_keeps_its_runs_and_drops_its_description(qtbot, window):
    choose_preset(window, "seed-notebook")
    assert window.preset_box.currentData() == "seed-notebook" and window.panel.compare_preset is not None
    assert "Three tasks that each sleep 2 s" in window.preset_note.text() and window.preset_note.isVisibleTo(window)
    assert window.compare_action.shortcut().toString() == "Ctrl+R"

    window.form.editor("workload").setCurrentIndex(window.form.editor("workload").findData("cpu"))
    note = window.preset_note.text()
    assert "Three tasks that each sleep 2 s" not in note, "the preset's promise no longer describes the form"
    assert "Edited" in note and "A comparison: press Compare (Ctrl+R)" in note
    assert window.compare_action.shortcut().toString() == "Ctrl+R"
    workload = window.form.editor("workload")
    workload.setCurrentIndex(workload.findData("sleep"))  # edited back: the preset's own note again
    assert "Three tasks that each sleep 2 s" in window.preset_note.text() and "Edited" not in window.preset_note.text()
    workload.setCurrentIndex(workload.findData("cpu"))
    # Compare runs the preset's runs on the form's cpu experiment
    specs = window.panel.comparison(window.form.spec(), window.executor_checks.chosen())
    assert {s.workload for s in specs} == {"cpu"} and [s.executor for s in specs] == [
        "sequential", "threads", "thread-pool"]


def test_another_executor_drops_the_preset(qtbot, window):
    for edit in (lambda: QTest.keyClicks(window.form.editor("tasks"), "0"),  # 4 tasks become 40: still it
                 lambda: window.form.editor("executor").setCurrentIndex(
                     window.form.editor("executor").findData("thread-pool"))):
        choose_preset(window, "gil-releasing-hash")
        window.form.editor("tasks").setFocus()
        QTest.keyClick(window.form.editor("tasks"), Qt.Key.Key_End)
        assert window.preset_box.currentData() == "gil-releasing-hash"
        edit()
        if window.form.spec().tasks == 40:
            assert window.panel.compare_preset is not None and "Edited" in window.preset_note.text()
        else:
            assert_no_preset(window)
            assert "comparison" not in window.statusBar().currentMessage()


def test_a_change_signal_that_changes_no_field_keeps_the_preset(qtbot, window):
    choose_preset(window, "seed-notebook")
    window.form.changed.emit()  # e.g. the interpreter probe answering: the fields are as the preset set them
    assert window.preset_box.currentData() == "seed-notebook" and not window.preset_note.isHidden()
    assert window.panel.compare_preset is not None and window.compare_button.text() == "Compare (Ctrl+R)"


@pytest.mark.parametrize("which", ["sequential", "threads"])
def test_a_run_shown_from_a_file_or_the_history_drops_the_preset(qtbot, window, which):
    run = next(r for r in load_results(resources_dir() / "help" / "runs.json")
               if r.spec["executor"] == which and r.spec["workload"] == "sleep")  # the seed's own experiment
    choose_preset(window, "seed-notebook")
    window.show_result(run)
    assert_no_preset(window)
    assert window.form.spec().executor == which


@pytest.mark.parametrize("name", ["seed-notebook", "dispatch-overhead"])
def test_run_and_stop_stay_in_view_at_1024x700_whatever_the_note(qtbot, window, name):
    window.resize(1024, 700)
    choose_preset(window, name)
    for _ in range(3):
        qtbot.wait(20)
    window.panel_scroll.verticalScrollBar().setValue(0)  # back at the top, reading the preset's note
    qtbot.wait(20)
    for button in (window.run_button, window.stop_button):
        shown = button.visibleRegion().boundingRect()
        assert shown == button.rect(), f"{button.text()}: only {shown} of {button.rect()} is in view"

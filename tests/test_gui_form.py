"""The experiment form, presets, console, summary and history views, offscreen with pytest-qt."""

from __future__ import annotations

import json
import re
import stat
import sys
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from concgui.engine import ExperimentSpec, run_inline
from concgui.engine.environment import cpu_count
from concgui.engine.events import RunStarted, TaskFinished, TaskStarted
from concgui.engine.executors import get_executor, list_executors
from concgui.engine.live import RunState
from concgui.engine.records import CANCELLED, ERROR, OK, RunResult, TaskRecord
from concgui.engine.spec import PARAMS, WORKLOAD_HELP, Param, SpecError, check_value
from concgui.gui import presets as presets_mod
from concgui.gui.interpreter_probe import InterpreterProbe
from concgui.gui.presets import PresetError, get_preset, load_presets, resources_dir
from concgui.gui.views.console import ConsolePane
from concgui.gui.views.form import ExperimentForm
from concgui.gui.views.form_fields import (
    INVALID_BASE,
    FileField,
    FunctionField,
    InterpreterField,
    TextField,
    make_field,
)
from concgui.gui.views.history_view import HistoryView
from concgui.gui.views.summary import SummaryPanel
from concgui.history import HistoryStore

INLINE = {"isolation": "inline"}
# The offscreen platform warns once per shown top-level window; that says nothing about our code.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints")


@pytest.fixture
def form(qtbot):
    f = ExperimentForm()
    qtbot.addWidget(f)
    f.resize(320, 700)
    f.show()
    yield f
    f.shutdown()


def choose(combo, value) -> None:
    combo.setCurrentIndex(combo.findData(value))


def visible(form: ExperimentForm, name: str) -> bool:
    return not form.editor(name).isHidden() and not form.fields[name].row.isHidden()


# --- the form --------------------------------------------------------------------------
def test_form_has_a_widget_per_param_with_its_help(form):
    assert set(form.fields) == set(PARAMS)
    for name, p in PARAMS.items():
        editor = form.findChild(type(form.editor(name)), f"field_{name}")
        assert editor is form.editor(name)
        assert p.help in editor.toolTip()
        if form.fields[name].label is not None:
            assert form.fields[name].label.text() == p.label
    assert form.editor("duration").suffix() == " s"
    tasks = form.editor("tasks")  # the arrows' range; typed, any number reaches the spec (which says why not)
    assert (tasks.low, tasks.high) == (PARAMS["tasks"].minimum, PARAMS["tasks"].maximum)


def test_default_spec_round_trips(form):
    assert form.is_valid() and form.error() is None
    assert form.spec() == ExperimentSpec()


def test_custom_workload_without_function_is_invalid_and_says_why(form, qtbot):
    with qtbot.waitSignal(form.validity_changed) as blocker:
        choose(form.editor("workload"), "custom")
    assert blocker.args == [False]
    assert not form.is_valid()
    assert "function" in form.error() and form.error_field() == "function"
    editor = form.editor("function")
    assert editor.property("invalid") is True
    assert "function" in editor.toolTip() and "empty" in editor.toolTip()
    label = form.fields["function"].error_label
    assert not label.isHidden() and "empty" in label.text()
    with pytest.raises(Exception, match="function"):
        form.spec()
    with qtbot.waitSignal(form.validity_changed) as blocker:
        editor.setText("math:sqrt")
    assert blocker.args == [True]
    assert editor.property("invalid") is False and label.isHidden()
    assert form.spec().function == "math:sqrt"


def type_into(editor, text: str) -> None:
    """Replace what a field holds by typing, as a person does, then leave the field."""
    editor.setFocus()
    editor.selectAll()
    QTest.keyClicks(editor, text)
    editor.interpretText()  # what leaving the field does: the text becomes the value, or is put right
    editor.clearFocus()


@pytest.mark.parametrize(("name", "typed", "value"), [("tasks", "0", 0), ("workers", "-3", -3),
                                                      ("duration", "-1", -1.0), ("tasks", "2000000", 2_000_000)])
def test_a_number_out_of_range_stays_as_typed_and_the_field_says_why_in_the_specs_words(form, qtbot, name, typed,
                                                                                          value):
    choose(form.editor("executor"), "thread-pool")
    editor = form.editor(name)
    with qtbot.waitSignal(form.validity_changed) as blocker:
        type_into(editor, typed)
    assert blocker.args == [False]
    assert editor.text().replace(",", "").startswith(typed)  # not clamped, reverted or stripped of its sign
    with pytest.raises(SpecError) as refused:
        check_value(PARAMS[name], value)  # what the spec itself says of that value
    reason = str(refused.value).split(": ", 1)[1]
    assert PARAMS[name].allowed() in reason
    label = form.fields[name].error_label
    assert not label.isHidden() and label.text() == f"⚠ {PARAMS[name].label}: {reason}"
    assert editor.property("invalid") is True and form.error_field() == name
    base = editor.lineEdit().palette().color(QPalette.ColorRole.Base)
    assert base.name() == INVALID_BASE  # marked without a stylesheet border, which would hide its arrows
    with qtbot.waitSignal(form.validity_changed) as blocker:
        editor.stepUp() if value < PARAMS[name].minimum else editor.stepDown()  # the arrows lead back in
    assert blocker.args == [True] and label.isHidden()
    assert editor.lineEdit().palette().color(QPalette.ColorRole.Base) != base
    assert form.spec().to_dict()[name] in (PARAMS[name].minimum, PARAMS[name].maximum)


def test_the_arrows_keep_to_the_allowed_range_and_reach_auto_and_none(form):
    choose(form.editor("executor"), "thread-pool")
    workers = form.editor("workers")
    form.fields["workers"].set_value(1)
    workers.stepDown()
    assert workers.is_empty() and form.spec().workers is None and workers.text().startswith("auto")
    workers.stepUp()
    assert form.spec().workers == 1
    timeout = form.editor("timeout")
    assert timeout.text() == "none"
    timeout.stepUp()
    assert form.spec().timeout == pytest.approx(0.1)
    timeout.stepDown()
    assert form.spec().timeout == 0.0 and timeout.text() == "none"
    type_into(timeout, "0")  # zero typed reads as what it means once the field is left
    assert timeout.text() == "none" and form.is_valid()
    tasks = form.editor("tasks")
    form.fields["tasks"].set_value(PARAMS["tasks"].maximum)
    assert not tasks.stepEnabled() & tasks.StepEnabledFlag.StepUpEnabled


def test_a_function_the_engine_cannot_load_is_refused_while_typing_without_blocking(form, qtbot, tmp_path):
    choose(form.editor("workload"), "custom")
    edit, field = form.editor("function"), form.fields["function"]
    for ref, reason in (("nosuchmod:fn", "no module named 'nosuchmod'"),
                        (f"{tmp_path / 'nope.py'}:f", "does not exist")):
        started = time.perf_counter()
        edit.setText(ref)
        assert time.perf_counter() - started < 0.1  # the check runs in another process
        assert form.is_valid()  # not known to be wrong yet: nothing is refused on a guess
        qtbot.waitUntil(lambda: form.error_field() == "function", timeout=20_000)
        assert reason in form.error() and reason in field.error_label.text()
        assert edit.property("invalid") is True
    job = tmp_path / "job.py"
    job.write_text("def other(i):\n    pass\n")
    edit.setText(f"{job}:work")
    qtbot.waitUntil(lambda: form.error_field() == "function", timeout=20_000)
    assert "has no attribute 'work'" in form.error() and "Enter" in form.error()
    job.write_text("def work(i):\n    pass\n")  # fixed in the editor: Enter checks it again
    with qtbot.waitSignal(form.validity_changed, timeout=20_000) as blocker:
        QTest.keyClick(edit, Qt.Key.Key_Return)
    assert blocker.args == [True] and field.info.text() == "Found: it is called with the task index."


def test_a_function_read_from_a_file_is_not_imported_until_asked(form, qtbot, tmp_path):
    marker = tmp_path / "imported"
    job = tmp_path / "job.py"
    job.write_text(f"open({str(marker)!r}, 'w').close()\n\ndef work():\n    pass\n")
    form.set_spec(ExperimentSpec(workload="custom", function=f"{job}:work"), probe=False)
    field = form.fields["function"]
    qtbot.wait(field.DEBOUNCE_MS + 300)
    assert not field.check.running() and not marker.exists()
    assert "Press Enter" in field.info.text()
    QTest.keyClick(form.editor("function"), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: field.info.text() == "Found: it is called without arguments.", timeout=20_000)
    assert marker.exists() and form.is_valid()


def test_every_edit_emits_changed(form, qtbot):
    with qtbot.waitSignal(form.changed):
        form.editor("tasks").setValue(7)
    assert form.spec().tasks == 7


def test_unavailable_executors_are_shown_disabled_with_the_reason(form):
    combo = form.editor("executor")
    rows = {r["name"]: r for r in list_executors()}
    assert combo.count() == len(rows)  # never hidden
    for name, row in rows.items():
        item = combo.model().item(combo.findData(name))
        assert item.isEnabled() == row["available"]
        if not row["available"]:
            assert row["reason"] in item.toolTip() and "unavailable" in item.text()
    if rows["interpreter-pool"]["available"]:
        pytest.skip("this Python has InterpreterPoolExecutor")
    choose(combo, "interpreter-pool")  # e.g. from an old preset: shown, and refused
    assert not form.is_valid() and "3.14" in form.error()


def test_workers_auto_shows_the_executor_default(form):
    spin = form.editor("workers")
    choose(form.editor("executor"), "thread-pool")
    assert visible(form, "workers")
    assert spin.is_empty() and form.spec().workers is None
    assert spin.specialValueText() == f"auto ({min(32, cpu_count() + 4)})"  # ThreadPoolExecutor's own rule
    choose(form.editor("executor"), "asyncio")  # asyncio's default is every task at once
    form.editor("tasks").setValue(17)
    assert spin.specialValueText() == "auto (17)"
    spin.setValue(4)
    assert form.spec().workers == 4


def test_workers_auto_on_dask_counts_processes_and_says_their_threads(form):
    if not {row["name"]: row for row in list_executors()}["dask"]["available"]:
        pytest.skip("this environment has no distributed")
    spin = form.editor("workers")
    choose(form.editor("executor"), "dask")
    form.editor("threads_per_worker").setValue(3)
    n = cpu_count()  # one worker process per core
    assert spin.specialValueText() == f"auto ({n})"
    assert f"{n} worker processes × 3 threads" in spin.toolTip()
    form.editor("scheduler").setText("tcp://127.0.0.1:8786")
    assert spin.specialValueText() == "auto (all)"
    assert "all of the scheduler's workers" in spin.toolTip()
    form.editor("scheduler").setText("tls://127.0.0.1:8786")  # its TLS files not given yet: still "all"
    assert not form.is_valid() and spin.specialValueText() == "auto (all)"
    form.editor("scheduler").setText("")
    assert spin.specialValueText() == f"auto ({n})"


def test_workers_auto_keeps_its_number_while_another_field_is_wrong(form):
    choose(form.editor("executor"), "thread-pool")
    choose(form.editor("workload"), "custom")  # its function still empty: the form is invalid
    assert not form.is_valid()
    assert form.editor("workers").specialValueText() == f"auto ({min(32, cpu_count() + 4)})"


def test_irrelevant_fields_are_hidden(form):
    choose(form.editor("executor"), "sequential")
    assert not visible(form, "workers") and not visible(form, "chunk_size") and not visible(form, "size_mb")
    choose(form.editor("executor"), "process-pool")
    assert visible(form, "workers") and visible(form, "chunk_size") and visible(form, "start_method")
    choose(form.editor("workload"), "file-io")
    assert visible(form, "size_mb") and not visible(form, "duration")
    combo = form.editor("start_method")
    assert combo.itemText(0).startswith("default (") and combo.itemData(0) is None


def test_function_file_browse_fills_the_function(form, tmp_path):
    path = tmp_path / "job.py"
    path.write_text("import time\n\ndef work(i):\n    time.sleep(0.01)\n\ndef _helper(a, b):\n    pass\n")
    choose(form.editor("workload"), "custom")
    form.use_function_file(str(path))
    assert form.is_valid() and form.spec().function == f"{path}:work"


def test_another_interpreter_is_probed_without_blocking(form, qtbot):
    edit = form.editor("python")
    with qtbot.waitSignal(form.interpreter_probed, timeout=10_000) as blocker:
        edit.setText(sys.executable)
        t0 = time.perf_counter()
        edit.editingFinished.emit()
        assert time.perf_counter() - t0 < 0.2  # the probe runs in the background
    assert blocker.args[0].startswith(f"Python {sys.version.split()[0]}") and "GIL" in blocker.args[0]
    assert form.is_valid() and form.spec().python == sys.executable
    assert form.interpreter_info()["executors"]
    with qtbot.waitSignal(form.interpreter_probed, timeout=10_000) as blocker:
        edit.setText("/nonexistent/python3")
        edit.editingFinished.emit()
    assert "cannot start" in blocker.args[0]
    assert not form.is_valid() and form.error_field() == "python"
    with qtbot.waitSignal(form.validity_changed):
        edit.clear()
    assert form.is_valid() and form.spec().python is None


def test_the_editor_comes_from_the_declaration_not_the_name(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    for editor, kind in (("file", FileField), ("function", FunctionField), ("interpreter", InterpreterField),
                         ("text", TextField)):
        p = Param("notes", "Notes", str, "Some text.", optional=True, editor=editor, placeholder="a hint")
        field = make_field(p, parent)
        assert type(field) is kind, editor
        assert field.editor.placeholderText() == "a hint" and field.editor.objectName() == "field_notes"
        has_browse = field.row.findChild(QPushButton, "browse_notes") is not None
        assert has_browse == (editor != "text"), editor
        field.set_value("/some/where.pem")
        assert field.value() == "/some/where.pem"


def test_pickers_show_what_the_spec_says_each_choice_means(form):
    isolation, p = form.editor("isolation"), PARAMS["isolation"]
    for choice in p.choices:
        i = isolation.findData(choice)
        assert isolation.itemText(i) == p.choice_labels[choice]
        assert isolation.model().item(i).toolTip() == p.choice_help[choice]
    choose(form.editor("workload"), "hash")
    assert form.findChild(type(form.fields["workload"].label), "about_workload").text() == WORKLOAD_HELP["hash"]
    start = form.editor("start_method")
    assert start.itemText(0) == f"default ({ExperimentSpec().effective_start_method()})"


def test_the_probe_signal_delivers_what_an_interpreter_says(qtbot):
    probe = InterpreterProbe()
    with qtbot.waitSignal(probe.finished, timeout=10_000) as blocker:
        probe.start(sys.executable)
        assert probe.running() and probe.answer is None
    info = blocker.args[0]
    assert info == probe.answer and not probe.running() and probe.path == sys.executable
    assert info["version"] == sys.version.split()[0] and info["executors"] and "problem" not in info
    assert info["text"].startswith(f"Python {info['version']}") and "GIL" in info["text"]
    probe.forget()
    assert probe.path == "" and probe.answer is None


@pytest.mark.skipif(sys.platform == "win32", reason="a shell script stands in for a hung interpreter")
def test_an_interpreter_that_does_not_answer_is_named_after_the_timeout(qtbot, tmp_path):
    hung = tmp_path / "hung-python"
    hung.write_text("#!/bin/sh\nexec sleep 30\n")
    hung.chmod(hung.stat().st_mode | stat.S_IEXEC)
    probe = InterpreterProbe(timeout_ms=300)
    with qtbot.waitSignal(probe.finished, timeout=10_000) as blocker:
        probe.start(str(hung))
    assert blocker.args[0]["problem"] == "hung-python did not answer within 0.3 s"
    assert not probe.running()


def test_every_preset_round_trips_through_the_form(form):
    for preset in load_presets():
        for spec in preset.specs:
            form.set_spec(spec)
            if get_executor(spec.executor).availability()[0]:
                assert form.is_valid(), (preset.name, form.error())
                assert form.spec() == spec
            else:
                assert not form.is_valid() and form.error_field() == "executor"


# --- presets ---------------------------------------------------------------------------
def test_presets_load_and_validate():
    presets = {p.name: p for p in load_presets()}
    assert {"seed-notebook", "cpu-threads-vs-processes", "gil-releasing-hash", "asyncio-vs-threads-io",
            "dispatch-overhead"} <= set(presets)
    seed = get_preset("seed-notebook")
    assert [(s.workload, s.tasks, s.duration, s.executor) for s in seed.specs] == [
        ("sleep", 3, 2.0, "sequential"), ("sleep", 3, 2.0, "threads"), ("sleep", 3, 2.0, "thread-pool")]
    cpu = presets["cpu-threads-vs-processes"]
    assert [(s.executor, s.workers) for s in cpu.specs] == [
        ("sequential", None), ("threads", None), ("thread-pool", 2), ("process-pool", 2)]
    assert all(p.title and p.description for p in presets.values())
    runnable, skipped = presets["dispatch-overhead"].runnable()
    assert runnable and all(reason for _spec, reason in skipped)
    assert "processes" not in {s.executor for s in presets["dispatch-overhead"].specs}
    with pytest.raises(KeyError, match="seed-notebook"):
        get_preset("nope")


def test_a_bad_preset_names_the_preset_and_field(tmp_path):
    path = tmp_path / "presets.json"
    path.write_text(json.dumps({"presets": [
        {"name": "broken", "title": "t", "description": "d", "specs": [{"workload": "sleep"}, {"tasks": 0}]}]}))
    with pytest.raises(PresetError, match=r"preset 'broken', spec 2: tasks: 0 is out of range"):
        load_presets(path)
    path.write_text("{not json")
    with pytest.raises(PresetError, match="not valid JSON"):
        load_presets(path)


def test_resources_are_found_in_a_pyinstaller_bundle(monkeypatch, tmp_path):
    assert (resources_dir() / "presets.json").is_file()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert presets_mod.resources_dir() == tmp_path / "resources"


# --- console ---------------------------------------------------------------------------
def test_console_prints_the_seed_lines_for_a_real_run(qtbot):
    console = ConsolePane()
    qtbot.addWidget(console)
    batches = []
    result = run_inline(ExperimentSpec(workload="sleep", executor="threads", tasks=3, duration=0.05, **INLINE),
                        on_events=batches.append)
    for batch in batches:
        console.on_events(batch)
    lines = console.toPlainText().splitlines()
    for i in range(3):
        assert lines.index(f"Task {i} started") < lines.index(f"Task {i} finished")
    why = next(i for i, line in enumerate(lines) if line.startswith("Why: "))  # then why (test_gui_why.py)
    assert lines[why - 2:why] == ["All tasks done", f"Time to finish the tasks: {result.wall_seconds:.3f} seconds"]
    assert console.isReadOnly()


def test_console_reports_short_errors_and_cancels(qtbot):
    console = ConsolePane()
    qtbot.addWidget(console)
    err = TaskRecord(3, "t", 1, 1, 0.0, 0.1, 0.2, 0.0, ERROR, {"type": "ValueError", "message": "bad\nmore"})
    console.on_events([
        RunStarted({"workload": "custom", "executor": "threads"}, {}, 5, 5),
        TaskStarted(0, "t", 1, 1, 0.0),
        TaskFinished(TaskRecord(0, "t", 1, 1, 0.0, 0.0, 0.1, 0.0, OK)),
        TaskFinished(TaskRecord(1, "t", 1, 1, 0.0, 0.1, 0.1001, 0.0, OK)),  # never seen running
        TaskFinished(err),
        TaskFinished(TaskRecord(4, status=CANCELLED)),  # never started at all
    ])
    assert console.toPlainText().splitlines()[1:] == [
        "Task 0 started", "Task 0 finished", "Task 1 started", "Task 1 finished",
        "Task 3 started", "Task 3 error: ValueError: bad", "Task 4 cancelled"]
    console.write("Stopping…")
    assert console.toPlainText().endswith("Stopping…")
    console.clear()
    assert console.toPlainText() == ""


def test_console_keeps_up_with_100000_tasks(qtbot):
    console = ConsolePane()
    qtbot.addWidget(console)
    records = [TaskRecord(i, "t", 1, 1, 0.0, i * 1e-6, i * 1e-6 + 1e-7, 0.0, OK) for i in range(100_000)]
    t0 = time.perf_counter()
    for k in range(0, len(records), 2_000):  # batches as the engine sends them
        console.on_events([TaskFinished(r) for r in records[k:k + 2_000]])
    elapsed = time.perf_counter() - t0
    assert elapsed < 2.0, f"{elapsed:.2f} s for 100,000 tasks"
    assert console.blockCount() <= console.maximumBlockCount()
    text = console.toPlainText()
    assert text.endswith("Task 99999 started\nTask 99999 finished") and "not shown" in text


def test_a_flood_of_task_events_keeps_the_run_lines_and_says_how_many_were_skipped(qtbot):
    console = ConsolePane(max_batch_lines=100)
    qtbot.addWidget(console)
    spec = ExperimentSpec(workload="noop", tasks=5000).to_dict()
    records = [TaskRecord(i, "t", 1, 1, 0.0, i * 1e-6, i * 1e-6 + 1e-7, 0.0, OK) for i in range(5000)]
    console.on_events([RunStarted(spec, {}, 5000, 2), *map(TaskFinished, records)])
    lines = console.toPlainText().splitlines()
    assert lines[0].startswith("— noop × 5000 on sequential"), "the run's own line is kept"
    skipped = re.fullmatch(r"… ([\d,]+) task events not shown …", lines[1])
    assert skipped, lines[1]
    shown = sum(line.endswith(" finished") for line in lines)
    assert int(skipped[1].replace(",", "")) + shown == 5000, "every task is either shown or counted"
    assert lines[-2:] == ["Task 4999 started", "Task 4999 finished"] and len(lines) <= 100


# --- summary ---------------------------------------------------------------------------
def test_summary_shows_the_numbers_of_a_real_result(qtbot):
    panel = SummaryPanel()
    qtbot.addWidget(panel)
    assert "Run an experiment" in panel.explanation()
    spec = ExperimentSpec(workload="sleep", executor="sequential", tasks=2, duration=0.05, **INLINE)
    base = run_inline(spec)
    result = run_inline(spec.with_(executor="thread-pool"), baseline=base)
    panel.set_result(result)
    assert panel.value_text("wall_seconds") == f"{result.wall_seconds * 1e3:.1f} ms"
    assert panel.value_text("concurrency") == f"{result.summary['concurrency']:.2f} tasks"
    assert panel.value_text("speedup").endswith("× vs sequential")
    assert panel.value_text("efficiency").endswith("%")
    assert panel.value_text("errors") == "0"
    assert "releases the GIL" in panel.explanation()
    panel.set_result(None)
    assert "Run an experiment" in panel.explanation()
    state = RunState()
    state.apply([RunStarted(spec.to_dict(), {}, 10, 2)])
    panel.set_running(state)
    assert "0 of 10 tasks done" in panel.explanation()


# --- history ---------------------------------------------------------------------------
def small_result(executor: str = "threads") -> RunResult:
    return run_inline(ExperimentSpec(workload="noop", executor=executor, tasks=3, **INLINE))


@pytest.fixture
def history(qtbot, tmp_path):
    store = HistoryStore(tmp_path / "history.sqlite3")
    view = HistoryView(store)
    qtbot.addWidget(view)
    view.show()
    yield view
    store.close()


def test_history_lists_runs_and_opens_them(history, qtbot):
    a = history.add(small_result("sequential"))
    b = history.add(small_result("threads"))
    model = history.table.model()
    assert model.rowCount() == 2
    assert model.index(0, 2).data() == "threads"  # newest first
    assert model.index(0, 6).data() == "ok" and model.index(0, 3).data() == "3"
    history.select_ids({a})
    with qtbot.waitSignal(history.open_requested) as blocker:
        qtbot.mouseClick(history.open_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [a]
    history.table.setFocus()
    history.select_ids({b})
    with qtbot.waitSignal(history.open_requested) as blocker:
        qtbot.keyClick(history.table, Qt.Key.Key_Return)
    assert blocker.args == [b]
    rect = history.table.visualRect(model.index(1, 0))
    qtbot.mouseClick(history.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # Qt 6 wants a press
    with qtbot.waitSignal(history.open_requested) as blocker:
        qtbot.mouseDClick(history.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [a]


def test_history_delete_asks_first(history, monkeypatch):
    ids = [history.add(small_result()) for _ in range(3)]
    history.select_ids(set(ids[:2]))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    history.delete_selected()
    assert history.table.model().rowCount() == 3
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    history.delete_selected()
    assert [r["id"] for r in history.store.list_runs()] == [ids[2]]


def test_history_saves_and_opens_json(history, qtbot, tmp_path, monkeypatch):
    result = small_result()
    run_id = history.add(result)
    path = tmp_path / "run.json"
    history.save_json(path, [run_id])
    with qtbot.waitSignal(history.open_requested) as blocker:
        new_ids = history.open_json(path)
    assert blocker.args == new_ids and len(new_ids) == 1
    assert history.store.load(new_ids[0]).to_dict() == result.to_dict()
    both = tmp_path / "both.json"
    history.save_json(both, [run_id, new_ids[0]])
    assert len(history.open_json(both)) == 2

    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, title, text: warnings.append(text))
    bad = tmp_path / "bad.json"
    bad.write_text("{\"hello\": 1}")
    assert history.open_json(bad) == []
    assert warnings[-1].startswith("bad.json: ") and "version" in warnings[-1]
    bad.write_text("not json at all")
    assert history.open_json(bad) == []
    assert "bad.json" in warnings[-1] and "not a ConcGUI run file" in warnings[-1]
    assert history.table.model().rowCount() == 4


def test_history_shows_a_notice_for_a_replaced_file(qtbot, tmp_path):
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"garbage" * 100)
    store = HistoryStore(path)
    view = HistoryView(store)
    qtbot.addWidget(view)
    assert not view.notice.isHidden() and "could not be read" in view.notice.text()
    run_id = store.begin_run({"workload": "noop", "executor": "threads", "tasks": 2}, {}, time.time(), 1)
    view.refresh()
    assert view.table.model().index(0, 6).data() == "interrupted"
    view.set_active_run(run_id)
    assert view.table.model().index(0, 6).data() == "running"
    store.close()

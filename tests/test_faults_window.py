"""Faults that reach the window: it says what happened, keeps answering, and loses no finished run.

Real engine processes, real SQLite files (locked by a second store, on a
read-only or full file system), real signals.  Problems are shown in a box that
does not block (``window.problem_box``), so these tests read its text.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import faults_support
import psutil
import pytest
from gui_support import open_window
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from concgui.engine import ExperimentSpec, RunResult
from concgui.engine import runner as engine_runner
from concgui.engine.exports import MAX_RUN_FILE_BYTES, load_results, save_csv, save_result, save_trace
from concgui.gui import image_export
from concgui.gui.main_window import MainWindow
from concgui.gui.run_keeper import UNSAVED_FOLDER
from concgui.history import HistoryStore

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
FAULTS = str(DATA / "fault_tasks.py")
CUSTOM = str(DATA / "custom_tasks.py")
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
small_disk, read_only_disk = faults_support.small_disk, faults_support.read_only_disk  # fixtures


# --- fixtures --------------------------------------------------------------------------------
@pytest.fixture
def release(custom_out):
    yield custom_out
    (custom_out / "release").write_text("go")


def run_and_wait(qtbot, w: MainWindow, spec: ExperimentSpec, timeout_ms: int = 30_000) -> RunResult:
    w.form.set_spec(spec)
    assert w.run_button.isEnabled(), w.form.error()
    with qtbot.waitSignal(w.controller.run_finished, timeout=timeout_ms) as blocker:
        w.run_button.click()
    return blocker.args[0]


def fail_and_wait(qtbot, w: MainWindow, spec: ExperimentSpec, timeout_ms: int = 30_000) -> str:
    w.form.set_spec(spec)
    assert w.run_button.isEnabled(), w.form.error()
    with qtbot.waitSignal(w.controller.run_failed, timeout=timeout_ms) as blocker:
        w.run_button.click()
    return blocker.args[0]


def problem(w: MainWindow) -> str:
    deadline = time.monotonic() + 5
    while (w.problem_box is None or not w.problem_box.isVisible()) and time.monotonic() < deadline:
        QApplication.processEvents()  # some problems are shown from the event loop (at start-up, say)
        time.sleep(0.01)
    assert w.problem_box is not None and w.problem_box.isVisible(), "a problem is shown"
    assert not w.problem_box.isModal(), "never a modal box: the window keeps answering"
    return w.problem_box.text()


def sound(path: Path) -> None:
    """PRAGMA integrity_check passes (the persistence promise, after every fault that touches the file)."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


class Heartbeat:
    """A 10 ms QTimer; :meth:`stop` gives the longest the window went without answering, in ms.

    It also notes the garbage collector's passes, and :meth:`describe` the worst gaps with what was
    collected meanwhile, so a failure says where the time went.
    """

    def __init__(self) -> None:
        import gc

        self.t0 = time.perf_counter()
        self.ticks: list[float] = []
        self.collections: list[tuple[float, float, int]] = []  # (start, ms, generation)
        self._gc_start = 0.0
        gc.callbacks.append(self._on_gc)
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))
        self.timer.start()

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        elif time.perf_counter() - self._gc_start > 0.005:
            self.collections.append((self._gc_start, (time.perf_counter() - self._gc_start) * 1000,
                                     info["generation"]))

    def stop(self) -> float:
        import gc

        self.timer.stop()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        return max((b - a) * 1000 for a, b in zip(self.ticks, self.ticks[1:], strict=False))

    def describe(self, marks: dict[str, float] | None = None) -> str:
        gaps = sorted(((b - a) * 1000, a) for a, b in zip(self.ticks, self.ticks[1:], strict=False))[-3:]
        at = lambda t: f"{(t - self.t0) * 1000:.0f} ms"  # noqa: E731
        text = ", ".join(f"{g:.0f} ms at {at(a)}" for g, a in reversed(gaps))
        text += "; collections over 5 ms: " + (", ".join(f"gen {n} {d:.0f} ms at {at(t)}"
                                                         for t, d, n in self.collections) or "none")
        if marks:
            text += "; " + ", ".join(f"{k} at {at(v)}" for k, v in marks.items())
        return text


# --- a task raises -----------------------------------------------------------------------
def test_a_raising_task_shows_as_an_error_bar_and_the_run_finishes(qtbot, window, custom_out):
    result = run_and_wait(qtbot, window, ExperimentSpec(workload="custom", function=f"{CUSTOM}:fail_on_one",
                                                        executor="thread-pool", workers=2, tasks=3))
    assert result.status == "ok" and result.summary["errors"] == 1
    assert window.timeline.bar_counts()["error"] == 1
    assert "ValueError" in window.console.toPlainText()


# --- a worker process dies ----------------------------------------------------------------
def test_a_dead_worker_fails_the_run_naming_its_exit_code_and_the_next_one_runs(qtbot, window):
    result = run_and_wait(qtbot, window, ExperimentSpec(workload="custom", function=f"{CUSTOM}:die_on_one",
                                                        executor="process-pool", workers=2, tasks=3))
    assert result.status == "failed" and "exited with code 5" in result.error
    assert "failed" in window.statusBar().currentMessage()
    again = run_and_wait(qtbot, window, ExperimentSpec(workload="sleep", executor="process-pool", workers=2,
                                                       tasks=2, duration=0.05))
    assert again.status == "ok"


# --- sys.exit and KeyboardInterrupt inside a task, in the window's own process ----------------
@pytest.mark.parametrize("function", ["exit_on_one", "interrupt_on_one"])
def test_exit_or_interrupt_in_an_inline_task_is_that_tasks_error_not_the_apps(qtbot, window, custom_out,
                                                                                    function):
    result = run_and_wait(qtbot, window, ExperimentSpec(workload="custom", function=f"{CUSTOM}:{function}",
                                                        executor="sequential", tasks=3, isolation="inline"))
    assert [t.status for t in result.tasks] == ["ok", "error", "ok"]
    assert window.isVisible() and window.run_button.isEnabled()


# --- an import that hangs --------------------------------------------------------------------
def test_a_hanging_import_is_refused_and_the_window_says_so(qtbot, window, tmp_path, custom_out, monkeypatch):
    name = f"concgui_test_hangs_window_{time.monotonic_ns()}"
    faults_support.write_hanging_module(tmp_path, name, custom_out / "release")
    monkeypatch.setattr(engine_runner, "IMPORT_TIMEOUT", 0.5)
    beat = Heartbeat()
    message = fail_and_wait(qtbot, window, ExperimentSpec(workload="custom", function=f"{tmp_path / name}.py:f",
                                                          isolation="inline"))
    assert beat.stop() < 100, "the import waits on the run's thread, not the window's"
    assert "did not finish within 0.5 s" in message and message.startswith("Bad input: function:")
    assert "did not finish within 0.5 s" in problem(window)
    assert window.run_button.isEnabled()
    (custom_out / "release").write_text("go")
    qtbot.waitUntil(lambda: not any(t.name == "concgui-import" for t in __import__("threading").enumerate()))


# --- the per-run timeout, chosen in the form ---------------------------------------------------
def test_the_form_has_a_timeout_in_advanced_and_zero_reads_none(window):
    editor = window.form.editor("timeout")
    assert (editor.low, editor.high) == (0, 86400)  # the arrows' range; typed, any number reaches the spec
    assert editor.specialValueText() == "none"
    assert window.form.spec().timeout == 0.0
    window.form.set_spec(ExperimentSpec(timeout=2.5))
    assert window.form.spec().timeout == 2.5


def test_a_run_past_its_timeout_ends_failed_with_the_abandoned_task_named(qtbot, window, release):
    result = run_and_wait(qtbot, window, ExperimentSpec(workload="custom", function=f"{FAULTS}:block_on_one",
                                                        executor="thread-pool", workers=2, tasks=4, timeout=0.5))
    assert result.status == "failed" and result.error.startswith("timed out")
    assert result.tasks[1].error["type"] == "Abandoned"
    assert "failed" in window.statusBar().currentMessage()
    assert window.run_button.isEnabled()


# --- Stop with 20,000 tasks queued --------------------------------------------------------------
def stop_a_flood(qtbot, window: MainWindow, executor: str) -> tuple[float, float, RunResult, str]:
    """Start 20,000 one-second sleeps, press Stop; (longest pause ms, seconds to stop, result, where)."""
    spec = ExperimentSpec(workload="sleep", executor=executor, tasks=20_000, duration=1.0, workers=4)
    window.form.set_spec(spec)
    beat = Heartbeat()
    window.run_button.click()
    qtbot.waitUntil(lambda: window.controller.state is not None and window.controller.state.done >= 4,
                    timeout=30_000)
    qtbot.wait(300)
    started = time.monotonic()
    marks = {"stop": time.perf_counter()}
    with qtbot.waitSignal(window.controller.run_finished, timeout=10_000) as blocker:
        window.stop_button.click()
    took = time.monotonic() - started
    marks["finished"] = time.perf_counter()
    qtbot.wait(200)
    gap = beat.stop()
    return gap, took, blocker.args[0], beat.describe(marks)


@pytest.mark.parametrize("executor", ["thread-pool", "process-pool"])
def test_stop_with_20000_queued_tasks_is_quick_and_the_window_keeps_answering(qtbot, window, executor):
    """The bound is 100 ms on the longest pause, start to stop.  The longest pauses are the timeline's
    refresh of thousands of changed tasks and the charts' repaints, near the bound on a busy machine. One
    attempt over the bound may be the machine's; two in a row are the app's, so a second attempt is made."""
    attempts = []
    for _ in range(2):
        gap, took, result, where = stop_a_flood(qtbot, window, executor)
        attempts.append(f"{gap:.0f} ms ({where})")
        print(f"stop with 20,000 queued, {executor}: longest pause {gap:.0f} ms, stop in {took:.2f} s ({where})")
        assert took < 2.0, f"the stop took {took:.2f} s"
        assert result.status == "cancelled"
        assert result.summary["cancelled"] >= 19_990
        assert window.run_button.isEnabled()
        if gap <= 100:
            return
    pytest.fail("the window went over 100 ms without answering in both attempts: " + "; ".join(attempts))


# --- SIGTERM during a run ----------------------------------------------------------------------
_descendants, _alive = faults_support.descendants, faults_support.alive


def _history_has_run(db: Path) -> bool:
    if not db.exists():
        return False
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)
        try:
            return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] > 0
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def _start_app(tmp_path: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CONCGUI_DATA_DIR=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), CONCGUI_TEST_OUT=str(tmp_path / "out"))
    env.pop("DISPLAY", None)
    (tmp_path / "out").mkdir(exist_ok=True)
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "gui", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_run_row(proc: subprocess.Popen, db: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not _history_has_run(db):
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the run never reached the history"
        time.sleep(0.05)


def test_sigterm_during_a_run_closes_the_app_cleanly(tmp_path):
    import signal

    proc = _start_app(tmp_path, "--preset", "seed-notebook")
    try:
        _wait_for_run_row(proc, tmp_path / "data" / "history.sqlite3")
        children = _descendants(proc.pid)
        assert children, "the engine process runs"
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err[-3000:]
    assert took < 3.0, f"exit took {took:.2f} s"
    assert "already deleted" not in err, err[-3000:]
    deadline = time.monotonic() + 3
    while _alive(children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(children), "no child process left"
    sound(tmp_path / "data" / "history.sqlite3")


# --- SIGKILL during a run -------------------------------------------------------------------------
def test_sigkill_leaves_no_process_and_the_next_start_shows_the_run_interrupted(qtbot, tmp_path):
    import signal

    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps({"workload": "sleep", "executor": "process-pool", "workers": 2, "tasks": 40,
                                     "duration": 0.2, "start_method": "forkserver"}))
    db = tmp_path / "data" / "history.sqlite3"
    proc = _start_app(tmp_path, "--spec", str(spec_file))
    try:
        _wait_for_run_row(proc, db)
        deadline = time.monotonic() + 30
        while True:  # some tasks finished and were written, the workers run
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            written = conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
            conn.close()
            kids = _descendants(proc.pid)
            if written >= 4 and len(kids) >= 3:
                break
            assert time.monotonic() < deadline, (written, kids)
            time.sleep(0.05)
        kids = _descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    deadline = time.monotonic() + 5
    while _alive(kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _alive(kids)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"these outlived the app: {[' '.join(psutil.Process(p).cmdline()) for p in left]}"

    sound(db)
    with HistoryStore(db) as store:
        (run_id,) = store.unfinished()
        partial = store.load(run_id)
        assert partial.status == "running" and partial.spec["executor"] == "process-pool"
        finished = [t for t in partial.tasks if t.status == "ok"]
        assert len(finished) >= 4 and all(t.end is not None for t in finished)
    w = open_window(qtbot, tmp_path, db)  # the next start
    try:
        assert "interrupted" in w.statusBar().currentMessage()
        row = w.history.model_row(run_id)
        assert w.history.model.status_text(row) == "interrupted"
        w.open_history_run(run_id)
        assert w.timeline.bar_counts()["ok"] == len(finished)
    finally:
        w.close()
    sound(db)


# --- the engine process crashes or prints garbage ------------------------------------------------
def _fake_python(tmp_path: Path, engine: str) -> str:
    """An interpreter that answers the form's probe as Python but runs ``engine`` (shell) as the engine."""
    path = tmp_path / "fake-python"
    path.write_text(f"#!/bin/sh\nif [ \"$1\" = \"-m\" ]; then\n{engine}\nfi\nexec {sys.executable} \"$@\"\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_an_engine_that_crashes_is_shown_with_its_last_output_and_the_window_stays_usable(
        qtbot, window, tmp_path):
    python = _fake_python(tmp_path, 'echo "this is not JSON"\necho \'[1, 2]\'\n'
                                    'echo "Fatal: the engine fell over" >&2\nexit 3')
    spec = ExperimentSpec(workload="sleep", executor="threads", tasks=2, duration=0.05, python=python)
    window.form.set_spec(spec)
    qtbot.waitUntil(lambda: window.form.interpreter_info() is not None, timeout=10_000)
    message = fail_and_wait(qtbot, window, spec)
    shown = problem(window)
    for text in (message, shown):
        assert "the engine process failed (exited with code 3)" in text
        assert "Fatal: the engine fell over" in text and "this is not JSON" in text
    assert window.run_button.isEnabled()
    assert run_and_wait(qtbot, window, spec.with_(python=None)).status == "ok", "the next run works"


def test_garbage_on_the_engine_output_does_not_stop_a_run(qtbot, window, tmp_path):
    python = _fake_python(tmp_path, f'echo "garbage before the protocol"\nexec {sys.executable} "$@"')
    spec = ExperimentSpec(workload="sleep", executor="threads", tasks=2, duration=0.05, python=python)
    window.form.set_spec(spec)
    qtbot.waitUntil(lambda: window.form.interpreter_info() is not None, timeout=10_000)
    assert run_and_wait(qtbot, window, spec).status == "ok"


def test_an_engine_killed_midway_keeps_what_finished_as_a_failed_run(qtbot, window):
    import signal

    spec = ExperimentSpec(workload="sleep", executor="thread-pool", workers=2, tasks=40, duration=0.1)
    window.form.set_spec(spec)
    window.run_button.click()
    qtbot.waitUntil(lambda: window.controller.state is not None and window.controller.state.done >= 4,
                    timeout=20_000)
    engine = window.controller.state.environment["pid"]
    with qtbot.waitSignal(window.controller.run_failed, timeout=10_000) as blocker:
        os.kill(engine, signal.SIGKILL)
    message = blocker.args[0]
    assert "the engine process failed (killed by signal 9 (SIGKILL))" in message
    assert "killed by signal 9" in problem(window)
    kept = window.result
    assert kept is not None and kept.status == "failed"
    done = [t for t in kept.tasks if t.status == "ok"]
    assert len(done) >= 4
    qtbot.waitUntil(lambda: any(r["status"] == "failed" for r in window.store.list_runs()), timeout=10_000)
    row = window.store.list_runs()[0]
    assert row["finished"] and row["status"] == "failed"
    assert [t.status for t in window.store.load(row["id"]).tasks].count("ok") == len(done)
    assert run_and_wait(qtbot, window, spec.with_(tasks=2)).status == "ok"
    sound(window.store.path)


# --- run files that are not run files; opening never runs code -----------------------------------
@pytest.mark.parametrize("damage", ["truncated", "not json", "future version", "huge", "nested", "nan",
                                    "wrong types"])
def test_a_bad_run_file_is_refused_naming_it_and_the_window_is_unaffected(window, tmp_path, damage):
    good = RunResult(spec=ExperimentSpec().to_dict(), environment={}, wall_seconds=1.0)
    text = json.dumps(good.to_dict())
    path = tmp_path / f"bad-{damage.replace(' ', '-')}.json"
    if damage == "truncated":
        path.write_text(text[: len(text) // 2])
    elif damage == "not json":
        path.write_text("import os; os.system('echo pwned')\n")
    elif damage == "future version":
        path.write_text(json.dumps({**good.to_dict(), "version": 99}))
    elif damage == "huge":
        with open(path, "wb") as f:  # sparse: gigabytes long on paper, nothing on disk
            f.truncate(MAX_RUN_FILE_BYTES + 2**30)
    elif damage == "nested":
        path.write_text("[" * 100_000 + "]" * 100_000)
    elif damage == "nan":
        path.write_text(text.replace('"wall_seconds": 1.0', '"wall_seconds": NaN'))
    elif damage == "wrong types":
        path.write_text(json.dumps({**good.to_dict(), "tasks": [{"index": 0, "start": "soon"}]}))
    t0 = time.monotonic()
    with pytest.raises(ValueError) as err:
        load_results(path)
    assert time.monotonic() - t0 < 1.0
    assert str(err.value).startswith(path.name), str(err.value)
    assert window.open_run_file(str(path)) == []
    assert path.name in problem(window)
    assert window.result is None and window.store.list_runs() == []
    assert window.run_button.isEnabled()


def test_opening_a_run_file_never_runs_the_code_it_names(qtbot, window, tmp_path):
    marker = tmp_path / "ran"
    module = tmp_path / "evil_tasks.py"
    module.write_text(f"open({str(marker)!r}, 'w').write('imported')\n\ndef f():\n    pass\n")
    python = tmp_path / "evil-python"
    python.write_text(f"#!/bin/sh\necho started > {marker}\nexec {sys.executable} \"$@\"\n")
    python.chmod(0o755)
    spec = ExperimentSpec(workload="custom", function=f"{module}:f", python=str(python))
    result = RunResult(spec=spec.to_dict(), environment={}, wall_seconds=0.5)
    path = tmp_path / "run.json"
    save_result(path, result)
    assert [r.spec["function"] for r in window.open_run_file(str(path))] == [f"{module}:f"]
    qtbot.wait(500)  # long enough for an interpreter probe to have started
    assert not marker.exists(), "neither the function's module nor the interpreter was run"
    shown = window.form.fields  # shown, marked as from the file, and not run until confirmed (test_faults_files.py)
    assert shown["function"].value() == f"{module}:f" and shown["python"].value() == str(python)


# --- the history locked, corrupt, read-only or full ---------------------------------------------
def test_a_history_lock_released_within_the_busy_timeout_only_delays_the_write(qtbot, window, monkeypatch):
    monkeypatch.setattr("concgui.history.store.BUSY_TIMEOUT", 5.0)
    other = HistoryStore(window.store.path)  # a second ConcGUI
    other._conn.execute("BEGIN IMMEDIATE")
    QTimer.singleShot(1000, lambda: other._conn.execute("COMMIT"))
    try:
        beat = Heartbeat()
        run_and_wait(qtbot, window, ExperimentSpec(workload="noop", executor="sequential", tasks=5,
                                                   isolation="inline"))
        qtbot.waitUntil(lambda: len(window.store.list_runs()) == 1, timeout=10_000)
        assert beat.stop() < 200, "waiting for the lock never freezes the window"
    finally:
        other.close()
    assert window.keeper.unsaved_results == [] and window.problem_box is None
    sound(window.store.path)


def test_a_history_locked_too_long_keeps_the_run_and_offers_to_save_it(qtbot, tmp_path, monkeypatch,
                                                                               data_dir):
    monkeypatch.setattr("concgui.history.store.BUSY_TIMEOUT", 0.5)
    w = open_window(qtbot, tmp_path)
    other = HistoryStore(w.store.path)
    other._conn.execute("BEGIN IMMEDIATE")
    try:
        result = run_and_wait(qtbot, w, ExperimentSpec(workload="noop", executor="sequential", tasks=5,
                                                       isolation="inline"))
        qtbot.waitUntil(lambda: w.keeper.unsaved_results == [result], timeout=10_000)
        text = problem(w)
        assert "locked by another program" in text and "history.sqlite3" in text and "not lost" in text
        assert w.result is result, "the run stays on screen"
        assert [b.text() for b in w.problem_box.buttons()].count("Save as JSON…") == 1
        assert w.save_unsaved(result, str(tmp_path / "kept.json"))
        assert load_results(tmp_path / "kept.json")[0].to_dict() == result.to_dict()
        second = run_and_wait(qtbot, w, ExperimentSpec(workload="noop", executor="sequential", tasks=3,
                                                       isolation="inline"))
        qtbot.waitUntil(lambda: w.keeper.unsaved_results == [second], timeout=10_000)
    finally:
        other._conn.execute("ROLLBACK")
        other.close()
    w.close()  # what is still unsaved is written to files, never dropped
    kept = list((data_dir / UNSAVED_FOLDER).glob("*.json"))
    assert len(kept) == 1 and load_results(kept[0])[0].to_dict() == second.to_dict()
    sound(tmp_path / "history.sqlite3")


def test_a_corrupt_history_is_moved_aside_and_a_new_one_started(qtbot, tmp_path):
    db = tmp_path / "history.sqlite3"
    db.write_bytes(b"SQLite format 3\x00" + b"\xde\xad" * 5000)
    w = open_window(qtbot, tmp_path, db)
    try:
        assert "could not be read" in problem(w)
        assert not w.history.notice.isHidden() and "could not be read" in w.history.notice.text()
        assert list(tmp_path.glob("history.sqlite3.corrupt-*"))
        run_and_wait(qtbot, w, ExperimentSpec(workload="noop", executor="sequential", tasks=3, isolation="inline"))
        qtbot.waitUntil(lambda: len(w.store.list_runs()) == 1, timeout=10_000)
    finally:
        w.close()
    sound(db)


def test_a_read_only_history_falls_back_to_a_temporary_one_and_says_so(qtbot, tmp_path, read_only_disk):
    db = read_only_disk.path / "history.sqlite3"
    with HistoryStore(db) as store:
        store.save(RunResult(spec=ExperimentSpec().to_dict(), environment={}, wall_seconds=1.0))
    before = db.read_bytes()
    read_only_disk.seal()
    w = open_window(qtbot, tmp_path, db)
    try:
        text = problem(w)
        assert "read-only" in text or "cannot be opened" in text, text
        assert "temporary history" in text and str(db) in text
        result = run_and_wait(qtbot, w, ExperimentSpec(workload="noop", executor="sequential", tasks=3,
                                                       isolation="inline"))
        # the past run, shown from a read-only copy, and this one (newest first)
        qtbot.waitUntil(lambda: len(w.store.list_runs()) == 2, timeout=10_000)
        assert w.store.load(w.store.list_runs()[0]["id"]).to_dict()["tasks"] == result.to_dict()["tasks"]
    finally:
        w.close()
    assert db.read_bytes() == before


def test_a_full_disk_keeps_the_run_on_screen_and_in_a_file_at_close(qtbot, tmp_path, small_disk, data_dir):
    db = small_disk.path / "history.sqlite3"
    w = open_window(qtbot, tmp_path, db)
    small_disk.fill()
    result = run_and_wait(qtbot, w, ExperimentSpec(workload="noop", executor="sequential", tasks=2000,
                                                   isolation="inline"))
    qtbot.waitUntil(lambda: w.keeper.unsaved_results == [result], timeout=10_000)
    assert "is full" in problem(w)
    assert w.result is result
    w.close()
    kept = list((data_dir / UNSAVED_FOLDER).glob("*.json"))
    assert len(kept) == 1 and len(load_results(kept[0])[0].tasks) == 2000
    small_disk.free()
    sound(db)


# --- export to a missing, read-only or full folder -------------------------------------------------
def _export_all(result: RunResult, window: MainWindow, folder: Path) -> list[str]:
    errors = []
    for name, write in (("run.json", save_result), ("run.csv", save_csv), ("run.trace.json", save_trace),
                        ("timeline.png", lambda p, _r: image_export.export_widget_png(window.timeline, p, 800)),
                        ("timeline.svg", lambda p, _r: image_export.export_widget_svg(window.timeline, p))):
        with pytest.raises(OSError) as err:
            write(folder / name, result)
        errors.append(str(err.value))
    return errors


def _big_result(n: int = 20_000) -> RunResult:
    from concgui.engine.records import TaskRecord

    tasks = [TaskRecord(i, "thread 1", 1, 2, 0.0, i * 1e-3, i * 1e-3 + 5e-4, 1e-4, "ok") for i in range(n)]
    return RunResult(spec=ExperimentSpec(tasks=n).to_dict(), environment={}, wall_seconds=n * 1e-3, tasks=tasks)


def test_export_to_a_read_only_folder_says_so_and_leaves_nothing(window, read_only_disk):
    read_only_disk.seal()
    result = _big_result(100)
    window.show_result(result)
    for text in _export_all(result, window, read_only_disk.path):
        assert "Read-only file system" in text or "read-only" in text, text
    assert list(read_only_disk.path.iterdir()) == []
    window._guarded_write(lambda: save_result(read_only_disk.path / "run.json", result),
                          str(read_only_disk.path / "run.json"))
    assert "Read-only file system" in problem(window) and "Nothing was written" in problem(window)


def test_export_to_a_full_folder_says_so_and_leaves_nothing(window, small_disk):
    result = _big_result()
    window.show_result(result)
    (small_disk.path / "old.json").write_text("the previous file")
    small_disk.fill()
    for text in _export_all(result, window, small_disk.path):
        assert "No space left on device" in text, text
    assert sorted(p.name for p in small_disk.path.iterdir()) in (["filler", "old.json"], ["old.json"])
    with pytest.raises(OSError, match="No space left"):
        save_result(small_disk.path / "old.json", result)
    assert (small_disk.path / "old.json").read_text() == "the previous file", "the old file is intact"


def test_export_to_a_missing_folder_names_it(window, tmp_path):
    result = _big_result(10)
    window.show_result(result)
    for text in _export_all(result, window, tmp_path / "no" / "such"):
        assert "does not exist" in text and str(tmp_path / "no" / "such") in text
    assert not (tmp_path / "no").exists()


# --- fork from the window's process -----------------------------------------------------------------
def test_fork_asked_inline_in_the_window_runs_with_forkserver_and_says_why(qtbot, window):
    result = run_and_wait(qtbot, window, ExperimentSpec(workload="sleep", executor="process-pool", workers=2,
                                                        tasks=2, duration=0.05, start_method="fork",
                                                        isolation="inline"))
    assert result.status == "ok"
    assert result.environment["start_method"] == "forkserver"
    assert "fork was asked for" in result.environment["start_method_note"]

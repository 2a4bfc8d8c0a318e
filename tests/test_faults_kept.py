"""Runs kept where promised, when the history cannot be used: real SQLite files, locks held by another
process, read-only and full file systems (issue 18: F4, F5, and a damaged history's reopened runs).

The keeper and the history are Qt-free, so most of these run without a window; one opens the window to
read what it says.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import faults_support
import pytest

from concgui.engine import ExperimentSpec, RunResult
from concgui.engine.exports import load_results
from concgui.engine.records import TaskRecord
from concgui.gui.run_keeper import RunKeeper, SessionHistory, open_history
from concgui.history import FILE_NAME, HistoryError, HistoryStore
from concgui.kept_runs import TEMP_FOLDER, UNSAVED_FOLDER

small_disk, read_only_disk = faults_support.small_disk, faults_support.read_only_disk  # fixtures


@pytest.fixture
def temp_dir(tmp_path, monkeypatch) -> Path:
    """The temporary folder (where a stand-in history and the last-resort run files go), of this test."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def result(n: int = 10, started_at: float = 1_700_000_000.0) -> RunResult:
    tasks = [TaskRecord(i, "thread 1", 1, 2, 0.0, i * 0.01, i * 0.01 + 0.005, 0.001, "ok") for i in range(n)]
    return RunResult(spec=ExperimentSpec(tasks=n).to_dict(), environment={"pid": 1}, wall_seconds=n * 0.01,
                     tasks=tasks, started_at=started_at)


def until(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.02)
    raise AssertionError("timed out")


def make_history(path: Path, runs: int = 1) -> None:
    with HistoryStore(path) as store:
        for k in range(runs):
            store.save(result(5, 1_600_000_000.0 + k))


HOLD = faults_support.HOLD


class Holder:
    """Another process holding a lock on a SQLite file until it is closed."""

    def __init__(self, path: Path, *statements: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), *statements], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "held"

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(10)
        self.proc.stdout.close()


# --- F4 and a foreign table: a history the app cannot use is set aside ---------------------------
@pytest.mark.parametrize("user_version", [0, 1])
def test_a_foreign_runs_table_is_set_aside_and_a_new_history_keeps_the_runs(tmp_path, user_version):
    db = tmp_path / FILE_NAME
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE runs (x)")
    conn.execute("INSERT INTO runs VALUES (42)")
    conn.execute(f"PRAGMA user_version = {user_version}")
    conn.commit()
    conn.close()
    store = HistoryStore(db)
    try:
        assert store.notice and "not a ConcGUI history" in store.notice and "runs" in store.notice
        (kept,) = tmp_path.glob(f"{FILE_NAME}.corrupt-*")
        assert sqlite3.connect(kept).execute("SELECT x FROM runs").fetchall() == [(42,)], "kept as it was"
        assert store.list_runs() == []
        run_id = store.save(result())
        assert store.list_runs()[0]["id"] == run_id and store.list_runs()[0]["finished"]
    finally:
        store.close()


# --- damage only in the task pages: found when the history opens, not by a finished run's write ---
def _damage_task_pages(db: Path) -> None:
    conn = sqlite3.connect(db)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'tasks'").fetchone()[0]
    conn.close()
    with open(db, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\x0d" + b"\xff" * (page_size - 1))


def test_a_history_damaged_only_in_its_task_pages_is_set_aside_at_open(tmp_path):
    db = tmp_path / FILE_NAME
    make_history(db)
    _damage_task_pages(db)
    store = HistoryStore(db)
    try:
        assert store.notice and "could not be read" in store.notice, "the damage is found as the file opens"
        assert list(tmp_path.glob(f"{FILE_NAME}.corrupt-*"))
        run_id = store.begin_run(result().spec, {}, 0.0, 1)
        store.add_tasks(run_id, result().tasks[:4])
        store.finish_run(run_id, result())
        (row,) = store.list_runs()
        assert row["finished"] and row["status"] == "ok", "a run that completed is never left 'interrupted'"
    finally:
        store.close()


def test_damage_a_write_meets_is_named_as_damage(tmp_path):
    db = tmp_path / FILE_NAME
    make_history(db)
    _damage_task_pages(db)
    store = HistoryStore(db, check_pages=False)  # the history writer's connection: the window checked
    try:
        with pytest.raises(HistoryError, match="is damaged"):
            store.save(result())
    finally:
        store.close()


# --- F5: the history cannot be used; this session's runs are kept where the notice says -----------
def _session_keeps_its_runs(db: Path, folder: Path, past: int) -> None:
    """Open the window's history for ``db``: a stand-in that shows ``past`` runs read-only and keeps a
    finished run as a run file in ``folder``, which its notice names."""
    store, notice = open_history(str(db))
    keeper = RunKeeper(store)
    try:
        assert isinstance(store, SessionHistory), notice
        assert notice and "cannot be used" in notice and str(folder) in notice and "not kept" not in notice
        assert len(store.list_runs()) == past, notice
        if past:
            assert f"{past} past run" in notice
            with pytest.raises(HistoryError, match="read-only copy"):
                store.delete(store.list_runs()[0]["id"])
        done = result(7)
        keeper.end(done)
        until(lambda: keeper.take_outcomes().saved)
        (kept,) = folder.glob("*.json")
        assert [r.to_dict() for r in load_results(kept)] == [done.to_dict()]
        assert len(store.list_runs()) == past + 1, "the session's run is in the History too"
    finally:
        keeper.close()
        store.close()


def test_a_read_only_disk_keeps_the_sessions_runs_and_shows_the_past_ones(read_only_disk, temp_dir,
                                                                           monkeypatch):
    monkeypatch.setenv("CONCGUI_DATA_DIR", str(read_only_disk.path))
    db = read_only_disk.path / FILE_NAME
    make_history(db, runs=2)
    read_only_disk.seal()
    _session_keeps_its_runs(db, temp_dir / TEMP_FOLDER, past=2)


def test_a_full_disk_at_start_keeps_the_sessions_runs_and_shows_the_past_ones(small_disk, temp_dir,
                                                                               monkeypatch):
    monkeypatch.setenv("CONCGUI_DATA_DIR", str(small_disk.path))
    db = small_disk.path / FILE_NAME
    make_history(db)
    small_disk.fill()
    try:
        _session_keeps_its_runs(db, temp_dir / TEMP_FOLDER, past=1)
    finally:
        small_disk.free()


@pytest.mark.parametrize("journal, statements", [
    ("wal", ("PRAGMA locking_mode = EXCLUSIVE", "SELECT COUNT(*) FROM runs")),
    ("delete", ("BEGIN EXCLUSIVE",)),
    ("delete", ("BEGIN IMMEDIATE",)),
], ids=["exclusive-locking-mode", "rollback-journal-exclusive", "rollback-journal-reserved"])
def test_a_history_locked_by_another_program_keeps_the_sessions_runs(tmp_path, temp_dir, data_dir, journal,
                                                                     statements):
    db = tmp_path / FILE_NAME
    make_history(db)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA journal_mode = {journal}")
    conn.close()
    holder = Holder(db, *statements)
    try:
        _session_keeps_its_runs(db, data_dir / UNSAVED_FOLDER, past=1)
    finally:
        holder.close()
    with HistoryStore(db) as store:
        assert len(store.list_runs()) == 1, "the history itself was not touched"


def test_a_disk_full_mid_session_names_the_file_the_run_went_to(small_disk, temp_dir, monkeypatch):
    monkeypatch.setenv("CONCGUI_DATA_DIR", str(small_disk.path))
    store, notice = open_history(str(small_disk.path / FILE_NAME))
    assert notice is None
    keeper = RunKeeper(store)
    try:
        small_disk.fill()
        done = result(2000)
        keeper.end(done)
        out = until(lambda: keeper.take_outcomes().unsaved)
        assert [r for r, _ in out] == [done] and "is full" in out[0][1]
        path = keeper.kept_at(done)
        assert path is not None and path.parent == temp_dir / TEMP_FOLDER, "not the full disk's unsaved-runs"
        assert load_results(path)[0].to_dict() == done.to_dict()
        assert keeper.close() == [path], "written once, where it was said to be"
    finally:
        store.close()
        small_disk.free()


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_the_window_names_the_file_a_run_went_to_when_the_disk_filled(qtbot, tmp_path, small_disk, temp_dir,
                                                                     monkeypatch):
    from gui_support import open_window
    from PySide6.QtWidgets import QApplication

    monkeypatch.setenv("CONCGUI_DATA_DIR", str(small_disk.path))
    w = open_window(qtbot, tmp_path, small_disk.path / FILE_NAME)
    try:
        small_disk.fill()
        w.form.set_spec(ExperimentSpec(workload="noop", executor="sequential", tasks=2000, isolation="inline"))
        with qtbot.waitSignal(w.controller.run_finished, timeout=30_000) as blocker:
            w.run_button.click()
        qtbot.waitUntil(lambda: w.keeper.unsaved_results == [blocker.args[0]], timeout=10_000)
        qtbot.waitUntil(lambda: w.problem_box is not None and w.problem_box.isVisible(), timeout=5_000)
        QApplication.processEvents()
        (kept,) = (temp_dir / TEMP_FOLDER).glob("*.json")
        text = w.problem_box.text()
        assert str(kept) in text and str(small_disk.path / UNSAVED_FOLDER) not in text, text
    finally:
        w.close()
        small_disk.free()


# --- an interrupted run reopens as interrupted ----------------------------------------------------
@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_an_interrupted_run_reopens_counted_against_the_tasks_it_was_to_run(qtbot, tmp_path):
    from gui_support import open_window

    from concgui.engine.exports import save_result

    db, full = tmp_path / FILE_NAME, result(20)
    with HistoryStore(db) as store:  # the app was killed after 5 of the run's 20 tasks
        run_id = store.begin_run(full.spec, {"pid": 1}, time.time(), 1)
        store.add_tasks(run_id, full.tasks[:5])
    # a file a killed command line left: 7 finished, 2 running, the rest waiting
    running = [TaskRecord(i, "thread 1", 1, 2, 0.0, 0.5, None, 0.0, "running") for i in (7, 8)]
    left = RunResult(spec=full.spec, environment={"pid": 1}, status="interrupted", wall_seconds=0.1,
                     tasks=full.tasks[:7] + running + [TaskRecord(i) for i in range(9, 20)])
    save_result(tmp_path / "left.json", left)
    w = open_window(qtbot, tmp_path, db)
    try:
        w.open_history_run(run_id)
        assert (w.progress.value(), w.progress.maximum()) == (5, 20)
        assert w.progress.format() == "Interrupted: 5 done, 15 not finished"
        assert [r.status for r in w.open_run_file(str(tmp_path / "left.json"))] == ["interrupted"]
        qtbot.waitUntil(lambda: w.progress.format() == "Interrupted: 7 done, 13 not finished", timeout=5_000)
        assert (w.progress.value(), w.progress.maximum()) == (7, 20)
    finally:
        w.close()

"""The history and persistence, without a window: the history locked by a second instance, on a read-only or
full disk, corrupt, and a run cut off by SIGKILL.  Real SQLite files on real file systems.

Every test ends with ``PRAGMA integrity_check`` on the file it touched.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import faults_support
import pytest

from concgui.engine import ExperimentSpec, RunResult
from concgui.engine.records import TaskRecord
from concgui.history import FILE_NAME, HistoryError, HistoryStore, InvalidRun

small_disk, read_only_disk = faults_support.small_disk, faults_support.read_only_disk  # fixtures


def result(n: int = 10) -> RunResult:
    tasks = [TaskRecord(i, "thread 1", 1, 2, 0.0, i * 0.01, i * 0.01 + 0.005, 0.001, "ok") for i in range(n)]
    return RunResult(spec=ExperimentSpec(tasks=n).to_dict(), environment={"pid": 1}, wall_seconds=n * 0.01,
                     tasks=tasks)


def sound(path) -> None:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def test_a_write_waits_for_a_second_instance_then_names_the_lock(tmp_path):
    path = tmp_path / FILE_NAME
    other = HistoryStore(path)
    mine = HistoryStore(path, busy_timeout=0.4)
    other._conn.execute("BEGIN IMMEDIATE")  # a second ConcGUI in the middle of a write
    try:
        t0 = time.monotonic()
        with pytest.raises(HistoryError) as err:
            mine.save(result())
        waited = time.monotonic() - t0
        assert 0.35 < waited < 2.0, "it retried for the busy timeout, then gave up"
        assert "locked by another program" in str(err.value) and str(path) in str(err.value)
        assert mine.list_runs() == [], "reads go on meanwhile (WAL), and nothing was half written"
    finally:
        other._conn.execute("ROLLBACK")
    assert mine.save(result()) > 0, "once the lock is gone, writing works again"
    mine.close()
    other.close()
    sound(path)


def test_a_lock_released_within_the_busy_timeout_only_delays_the_write(tmp_path):
    path = tmp_path / FILE_NAME
    HistoryStore(path).close()
    locked = threading.Event()

    def second_instance() -> None:  # holds a write transaction for half a second
        other = HistoryStore(path)
        other._conn.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(0.5)
        other._conn.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=second_instance, name="test-second-instance")
    holder.start()
    locked.wait(5)
    mine = HistoryStore(path, busy_timeout=5.0)
    t0 = time.monotonic()
    try:
        run_id = mine.save(result())
    finally:
        holder.join()
    assert 0.3 < time.monotonic() - t0 < 3.0
    assert mine.load(run_id).to_dict() == result().to_dict()
    mine.close()
    sound(path)


def test_a_read_only_disk_is_named_when_the_history_is_opened(read_only_disk):
    path = read_only_disk.path / FILE_NAME
    with HistoryStore(path) as store:
        store.save(result())
    read_only_disk.seal()
    with pytest.raises(HistoryError) as err:
        HistoryStore(path)
    assert str(path) in str(err.value)
    assert "cannot be opened" in str(err.value) or "read-only" in str(err.value)
    sound(f"file:{path}?mode=ro&immutable=1")


def test_a_full_disk_fails_the_write_cleanly_and_the_store_recovers(small_disk):
    path = small_disk.path / FILE_NAME
    store = HistoryStore(path)
    store.save(result(5))
    small_disk.fill()
    with pytest.raises(HistoryError, match="is full"):
        store.save(result(5000))
    assert len(store.list_runs()) == 1, "the failed run left nothing half written"
    small_disk.free()
    store.save(result(50))
    assert len(store.list_runs()) == 2
    store.close()
    sound(path)


def test_a_corrupt_history_is_moved_aside_and_the_new_one_is_sound(tmp_path):
    path = tmp_path / FILE_NAME
    with HistoryStore(path) as store:
        store.save(result())
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the header survives, the schema page does not
    path.write_bytes(bytes(data))
    with HistoryStore(path) as store:
        assert store.notice and "could not be read" in store.notice
        store.save(result())
        assert len(store.list_runs()) == 1
    sound(path)


KILLED_WRITER = textwrap.dedent("""\
    import sys, time
    from concgui.engine import ExperimentSpec
    from concgui.engine.records import TaskRecord
    from concgui.history import HistoryStore

    store = HistoryStore(sys.argv[1])
    run_id = store.begin_run(ExperimentSpec(tasks=100000).to_dict(), {"pid": 1}, time.time(), 1)
    n = 0
    while True:  # batches of finished tasks every 50 ms, as the window writes them, until killed
        store.add_tasks(run_id, [TaskRecord(i, "thread 1", 1, 2, 0.0, 0.0, 0.1, 0.0, "ok")
                                 for i in range(n, n + 500)])
        n += 500
        print(n, flush=True)
        time.sleep(0.05)
    """)


def test_sigkill_in_the_middle_of_writes_loses_at_most_the_last_batch(tmp_path, child_env):
    path = tmp_path / FILE_NAME
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True,
                            env=child_env())
    written = 0
    for line in proc.stdout:
        written = int(line)
        if written >= 5000:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    sound(path)
    with HistoryStore(path) as store:
        (run_id,) = store.unfinished()
        kept = store.load(run_id).tasks
    assert len(kept) >= written, "every batch reported written survived the kill"
    assert [t.index for t in kept] == list(range(len(kept)))


# --- values the history must never hold (issue 18, F6) -------------------------------------------
@pytest.mark.parametrize(("field", "value", "words"), [
    ("started_at", 1e300, "started_at: 1e+300 is out of range; allowed: a number from 0 to"),
    ("workers", "many", "workers: 'many' is not allowed; allowed: a whole number from 0 to"),
])
def test_a_run_with_a_value_the_schema_refuses_is_not_stored(tmp_path, field, value, words):
    bad = result()
    setattr(bad, field, value)
    with HistoryStore(tmp_path / FILE_NAME) as store:
        with pytest.raises(InvalidRun, match=re.escape(words)):
            store.save(bad)
        assert store.list_runs() == [] and store._conn.execute("SELECT COUNT(*) FROM tasks").fetchone() == (0,)
        run_id = store.begin_run(bad.spec, bad.environment, 1.0, 1)  # a run recorded as it goes: the same check
        with pytest.raises(InvalidRun, match="tasks\\[3\\].status: 'done' is not allowed"):
            store.add_tasks(run_id, [TaskRecord(3, "thread 1", 1, 2, 0.0, 0.0, 0.1, 0.0, "done")])
        with pytest.raises(InvalidRun, match=re.escape(words)):
            store.finish_run(run_id, bad)
        assert store.list_runs()[0]["finished"] is False, "nothing of it was written"
    sound(tmp_path / FILE_NAME)


def test_rows_an_older_concgui_stored_are_listed_as_damaged_and_opening_one_names_the_field(tmp_path):
    path = tmp_path / FILE_NAME
    with HistoryStore(path) as store:
        good, huge, words = store.save(result()), store.save(result()), store.save(result())
    conn = sqlite3.connect(path)  # what the issue found stored: a start in 1e300, workers "many"
    with conn:
        conn.execute("UPDATE runs SET started_at = 1e300 WHERE id = ?", (huge,))
        conn.execute("UPDATE runs SET workers = 'many', summary = '{\"speedup\": \"fast\"}' WHERE id = ?", (words,))
        conn.execute("UPDATE tasks SET thread_id = 'x' WHERE run_id = ? AND idx = 2", (good,))
    conn.close()
    with HistoryStore(path) as store:
        rows = {r["id"]: r for r in store.list_runs()}  # what the history table draws, every value as it expects
        assert rows[huge]["status"] == rows[words]["status"] == "damaged" and rows[good]["status"] == "ok"
        assert rows[huge]["started_at"] == 0.0 and rows[words]["workers"] is None and rows[huge]["workers"] == 1
        for run_id, text in ((huge, "started_at: 1e+300 is out of range"),
                             (words, "workers: 'many' is not allowed"),
                             (good, "tasks[2].thread_id: 'x' is not allowed")):
            with pytest.raises(InvalidRun) as err:
                store.load(run_id)
            assert str(err.value).startswith(f"run {run_id} in the history is damaged: {text}"), str(err.value)
            assert "\n" not in str(err.value)
        store.delete(huge)  # a damaged run can still be deleted
        assert huge not in {r["id"] for r in store.list_runs()}
    sound(path)

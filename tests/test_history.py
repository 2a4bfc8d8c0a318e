"""The run history: a real SQLite file, round trips, speed and damaged files."""

from __future__ import annotations

import sqlite3
import time

import pytest

from concgui.engine import ExperimentSpec, run_inline
from concgui.engine.environment import environment
from concgui.engine.records import CANCELLED, ERROR, OK, CpuSample, RunResult, TaskRecord, ThreadStates
from concgui.history import FILE_NAME, SCHEMA_VERSION, HistoryStore, default_path


def fake_result(n: int, executor: str = "thread-pool", started_at: float = 1_700_000_000.0) -> RunResult:
    """A result with ``n`` tasks covering every kind of value a record can hold."""
    spec = ExperimentSpec(workload="noop", executor=executor, tasks=n).to_dict()
    tasks = []
    for i in range(n):
        status = ERROR if i % 97 == 3 else CANCELLED if i % 101 == 5 else OK
        tasks.append(TaskRecord(
            index=i, worker=f"thread {i % 4}", pid=1234, thread_id=140_000_000_000_000 + i % 4,
            submitted=i * 1e-5, start=i * 1e-5 + 1.25e-6, end=None if status == CANCELLED else i * 1e-5 + 3.1e-6,
            cpu_seconds=2.5e-6 if status != CANCELLED else 0.0, status=status,
            error={"type": "ValueError", "message": f"bad {i}", "traceback": "Traceback…\n"}
            if status == ERROR else None,
        ))
    samples = [CpuSample(k * 0.1, [12.5, 96.0 + k], None if k == 0 else 150.25) for k in range(5)]
    states = [ThreadStates(0.02 * (k + 1), 0.02, {f"thread {w}": (0.1 * w, 0.05, 0.95 - 0.1 * w) for w in range(k % 5)})
              for k in range(30)]  # lanes come and go
    result = RunResult(spec=spec, environment=environment(), status=OK, started_at=started_at,
                       startup_seconds=0.012, wall_seconds=n * 1e-5 + 0.5, workers=4, tasks=tasks,
                       cpu_samples=samples, thread_states=states)
    result.summary = {"wall_seconds": result.wall_seconds, "speedup": 1.5, "baseline": "sequential",
                      "mean_cpu_percent": None, "tasks": n}
    return result


@pytest.fixture
def store(tmp_path):
    s = HistoryStore(tmp_path / FILE_NAME)
    yield s
    s.close()


def test_default_path_is_in_the_data_dir(data_dir):
    assert default_path() == data_dir / FILE_NAME
    with HistoryStore() as s:
        assert s.path == data_dir / FILE_NAME and s.notice is None


def test_save_load_round_trip_is_exact(store):
    result = fake_result(503)  # rows go 50 to a statement: ten full ones, then three alone
    result.tasks[7].thread_id = 2**64 - 5  # unsigned 64-bit ids (macOS) survive signed SQLite integers
    run_id = store.save(result)
    assert store.load(run_id).to_dict() == result.to_dict()
    assert store.unfinished() == []


def test_round_trip_of_a_real_run(store):
    result = run_inline(ExperimentSpec(workload="sleep", executor="thread-pool", tasks=3, duration=0.01,
                                       isolation="inline"))
    run_id = store.save(result)
    again = store.load(run_id)
    assert again.to_dict() == result.to_dict()


def test_list_runs_newest_first_and_delete(store):
    a = store.save(fake_result(3, "sequential", started_at=100.0))
    b = store.save(fake_result(4, "threads", started_at=200.0))
    runs = store.list_runs()
    assert [r["id"] for r in runs] == [b, a]
    assert runs[0] == {"id": b, "started_at": 200.0, "workload": "noop", "executor": "threads", "tasks": 4,
                       "workers": 4, "wall_seconds": pytest.approx(0.50004), "status": OK, "speedup": 1.5,
                       "finished": True, "recorded_by": None, "executor_label": "threads"}
    store.delete(a)
    assert [r["id"] for r in store.list_runs()] == [b]
    with pytest.raises(KeyError):
        store.load(a)
    counts = store._conn.execute("SELECT (SELECT COUNT(*) FROM tasks), (SELECT COUNT(*) FROM cpu_samples)")
    assert counts.fetchone() == (4, 5)  # the deleted run's rows went with it


def test_hundred_thousand_tasks_save_fast(store):
    result = fake_result(100_000)
    t0 = time.perf_counter()
    run_id = store.save(result)
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0, f"saving 100,000 tasks took {elapsed:.2f} s"
    t0 = time.perf_counter()
    listed = store.list_runs()
    assert time.perf_counter() - t0 < 0.1 and listed[0]["tasks"] == 100_000
    assert store.load(run_id).to_dict() == result.to_dict()


def test_incremental_run_and_unfinished(tmp_path):
    path = tmp_path / FILE_NAME
    result = fake_result(10)
    store = HistoryStore(path)
    run_id = store.begin_run(result.spec, result.environment, result.started_at, 4321)
    store.add_tasks(run_id, result.tasks[:4])
    store.add_tasks(run_id, result.tasks[4:6])
    assert store.unfinished() == [run_id]
    assert store.list_runs()[0]["status"] == "running" and not store.list_runs()[0]["finished"]
    store.close()  # the app was killed mid-run

    store = HistoryStore(path)
    assert store.unfinished() == [run_id]
    partial = store.load(run_id)
    assert [t.to_dict() for t in partial.tasks] == [t.to_dict() for t in result.tasks[:6]]
    store.finish_run(run_id, result)
    assert store.unfinished() == []
    assert store.load(run_id).to_dict() == result.to_dict()
    store.close()


def test_finish_rewrites_changed_tasks_only_where_needed(store):
    result = fake_result(6)
    run_id = store.begin_run(result.spec, result.environment, result.started_at, 1)
    early = TaskRecord(0, "thread 0", 1, 2, 0.0, 0.0, None, 0.0, "running")
    store.add_tasks(run_id, [early, TaskRecord(99, "x")])  # a stale record and one the result lacks
    store.finish_run(run_id, result)
    assert store.load(run_id).to_dict() == result.to_dict()


def test_finish_does_not_write_again_the_tasks_that_streamed_in(store):
    result = fake_result(50)
    run_id = store.begin_run(result.spec, result.environment, result.started_at, 1)
    store.add_tasks(run_id, result.tasks[:30])
    store.add_tasks(run_id, result.tasks[30:])
    before = store._conn.total_changes
    store.finish_run(run_id, result)
    # the samples, the thread states and the run's row
    assert store._conn.total_changes - before == len(result.cpu_samples) + len(result.thread_states) + 1
    assert store.load(run_id).to_dict() == result.to_dict()


def test_corrupt_file_is_moved_aside_with_a_notice(tmp_path):
    path = tmp_path / FILE_NAME
    path.write_bytes(b"\x00garbage, not SQLite\xff" * 200)
    store = HistoryStore(path)
    try:
        assert store.notice and "could not be read" in store.notice
        kept = list(tmp_path.glob(f"{FILE_NAME}.corrupt-*"))
        assert len(kept) == 1 and kept[0].read_bytes().startswith(b"\x00garbage")
        assert kept[0].name in store.notice
        assert store.list_runs() == []
        store.save(fake_result(2))
        assert len(store.list_runs()) == 1
    finally:
        store.close()


def test_a_history_from_before_the_xray_opens_and_then_keeps_thread_states(tmp_path):
    path = tmp_path / FILE_NAME
    with HistoryStore(path) as store:
        old = fake_result(20)
        old.thread_states = []
        old_id = store.save(old)
    conn = sqlite3.connect(path)  # make it a schema-1 file: no thread_states table
    conn.execute("DROP TABLE thread_states")
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    with HistoryStore(path) as store:
        assert store.notice is None
        assert store._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.load(old_id).to_dict() == old.to_dict()
        new = fake_result(20)
        assert store.load(store.save(new)).thread_states == new.thread_states != []
        assert store.integrity_check() == "ok"


def test_newer_schema_is_kept_and_replaced(tmp_path):
    path = tmp_path / FILE_NAME
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with HistoryStore(path) as store:
        assert store.notice and "newer ConcGUI" in store.notice
        assert list(tmp_path.glob(f"{FILE_NAME}.corrupt-*"))


def test_file_is_sound_in_wal_mode_with_foreign_keys(store):
    store.save(fake_result(50))
    assert store.integrity_check() == "ok"
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_failed_save_leaves_nothing_behind(store):
    result = fake_result(3)
    result.environment["extra"] = {"bad": object()}  # passes the schema (nothing reads it), not JSON: fails midway
    with pytest.raises(TypeError):
        store.save(result)
    assert store.list_runs() == []
    assert store._conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0] == 0


def _until(check, timeout: float = 10.0):
    """Poll ``check`` (the history writer works on its own thread) until it returns something true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_the_run_keeper_writes_a_run_as_it_goes_then_whole(tmp_path):
    from concgui.engine.events import RunStarted, TaskFinished
    from concgui.engine.live import RunState
    from concgui.gui.run_keeper import RunKeeper

    store = HistoryStore(tmp_path / FILE_NAME)
    keeper = RunKeeper(store)
    result = fake_result(10)
    state = RunState()
    state.apply([RunStarted(result.spec, result.environment, 10, 2)])
    keeper.on_events(state, [TaskFinished(t) for t in result.tasks[:6]])
    keeper.flush()  # the first batch goes at once; a killed app would keep these six

    def six_written() -> int | None:
        ids = store.unfinished()
        return ids[0] if ids and len(store.load(ids[0]).tasks) == 6 else None

    run_id = _until(six_written)
    keeper.end(result)
    assert _until(lambda: keeper.take_outcomes().saved)
    assert store.unfinished() == [] and store.load(run_id).to_dict() == result.to_dict()
    assert keeper.close() == [] and keeper.unsaved_results == []
    store.close()


def test_the_run_keeper_keeps_a_run_the_history_cannot_take_in_a_file(tmp_path, monkeypatch):
    from concgui.engine.exports import load_results
    from concgui.gui.run_keeper import UNSAVED_FOLDER, RunKeeper

    monkeypatch.setenv("CONCGUI_DATA_DIR", str(tmp_path))
    keeper = RunKeeper(HistoryStore(":memory:"))  # no history this session
    result = fake_result(5)
    keeper.end(result)  # a run that ended before its first events: saved whole, or kept
    out = keeper.take_outcomes()
    assert [r for r, _ in out.unsaved] == [result] and keeper.unsaved_results == [result]
    (path,) = keeper.close()
    assert path.parent == tmp_path / UNSAVED_FOLDER
    assert [r.to_dict() for r in load_results(path)] == [result.to_dict()]


def test_the_writer_lets_go_of_a_run_once_it_is_written(tmp_path):
    # holding a finished run until the next item came made the writer free its records (100,000, holding
    # the GIL) just as the window's next run began
    import gc
    import weakref

    from concgui.gui.history_writer import HistoryWriter

    writer = HistoryWriter(tmp_path / FILE_NAME)
    result = fake_result(10)
    ref = weakref.ref(result)
    writer.finish(1, result)
    assert _until(lambda: list(writer.outcomes)) == [("saved", 1, 1)]
    del result
    gc.collect()
    try:
        assert _until(lambda: ref() is None), "the writer still holds the run it wrote"
    finally:
        assert writer.close()


def test_the_writer_closes_a_run_once_the_windows_own_turn_at_its_end_is_over(tmp_path):
    import threading

    from concgui.gui.history_writer import FINISH_WAIT, HistoryWriter

    idle = threading.Event()  # the window's turn at the run's end is going
    writer = HistoryWriter(tmp_path / FILE_NAME, host_idle=idle)
    try:
        result = fake_result(10)
        writer.finish(1, result)
        time.sleep(0.3)
        assert not writer.outcomes, "closed while the window's turn went"
        idle.set()
        assert _until(lambda: list(writer.outcomes)) == [("saved", 1, 1)]
        idle.clear()  # a window that never frees its thread does not keep a run unsaved
        t0 = time.monotonic()
        writer.finish(2, result)
        assert _until(lambda: len(writer.outcomes) == 2, timeout=FINISH_WAIT + 5)
        assert time.monotonic() - t0 >= FINISH_WAIT * 0.9
    finally:
        assert writer.close()


def test_the_writer_writes_a_big_batch_between_the_windows_turns(tmp_path):
    import threading

    from concgui.gui.history_writer import ADD_CHUNK, HOST_WAIT, HistoryWriter

    idle = threading.Event()  # the window is busy: every chunk after the first waits HOST_WAIT for it
    writer = HistoryWriter(tmp_path / FILE_NAME, host_idle=idle)
    result = fake_result(5 * ADD_CHUNK)
    t0 = time.monotonic()
    writer.begin(1, result.spec, result.environment, result.started_at, 1)
    writer.add(1, result.tasks)
    writer.finish(1, result)
    assert _until(lambda: list(writer.outcomes)) == [("saved", 1, 1)]
    busy = time.monotonic() - t0
    idle.set()  # the window is free: the same batch goes at once
    t0 = time.monotonic()
    writer.begin(2, result.spec, result.environment, result.started_at, 1)
    writer.add(2, result.tasks)
    writer.finish(2, result)
    assert _until(lambda: len(writer.outcomes) == 2)
    free = time.monotonic() - t0
    assert writer.close()
    assert busy >= 4 * HOST_WAIT and free < busy, (busy, free)  # four chunks waited after the first

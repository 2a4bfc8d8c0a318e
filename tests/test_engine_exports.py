"""Results on disk: JSON, CSV and Chrome trace round trips, and refusing files that are not run files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from concgui.engine import ExperimentSpec, RunResult, run
from concgui.engine.exports import (
    STATE_CATEGORY,
    TRACE_STATES,
    chrome_trace,
    load_csv,
    load_results,
    save_csv,
    save_result,
    save_results,
    save_trace,
)
from concgui.engine.records import OK, RESULT_VERSION, TaskRecord, ThreadStates

DATA = Path(__file__).resolve().parent / "data"
CONTRACT = ("version", "spec", "environment", "wall_seconds", "summary", "tasks", "cpu_samples")
TASK_FIELDS = ("index", "worker", "pid", "thread_id", "submitted", "start", "end", "cpu_seconds", "status", "error")


@pytest.fixture(scope="module")
def mixed_result() -> RunResult:
    """A real run with an ok, an error and an ok task, in two threads, with CPU samples."""
    return run(ExperimentSpec(executor="thread-pool", workers=2, workload="custom", tasks=3, isolation="inline",
                              function=f"{DATA / 'custom_tasks.py'}:fail_on_one"))


@pytest.fixture(scope="module")
def sleep_result() -> RunResult:
    return run(ExperimentSpec(executor="thread-pool", workers=2, workload="sleep", tasks=4, duration=0.3,
                              isolation="inline"))


def test_json_keeps_the_contract_fields(mixed_result, tmp_path):
    path = tmp_path / "run.json"
    save_result(path, mixed_result)
    data = json.loads(path.read_text())
    assert set(CONTRACT) <= set(data)
    assert data["version"] == RESULT_VERSION
    for key in ("python_version", "implementation", "gil_enabled", "cpu_count", "platform", "start_method"):
        assert key in data["environment"]
    for t in data["tasks"]:
        assert set(TASK_FIELDS) <= set(t)
    for s in data["cpu_samples"]:
        assert {"t", "per_core"} <= set(s)


def test_json_round_trip(mixed_result, sleep_result, tmp_path):
    path = tmp_path / "run.json"
    save_result(path, mixed_result)
    [back] = load_results(path)
    assert back.to_dict() == mixed_result.to_dict()
    assert back.tasks[1].error["traceback"] == mixed_result.tasks[1].error["traceback"]
    both = tmp_path / "compare.json"
    save_results(both, [mixed_result, sleep_result])
    assert list(json.loads(both.read_text())) == ["runs"]
    assert [r.to_dict() for r in load_results(both)] == [mixed_result.to_dict(), sleep_result.to_dict()]


def test_json_round_trip_of_a_cancelled_run(tmp_path):
    from concgui.engine import start

    r = start(ExperimentSpec(executor="thread-pool", workers=1, workload="sleep", tasks=3, duration=5,
                             isolation="inline"))
    r.cancel()
    result = r.execute()
    save_result(tmp_path / "c.json", result)
    [back] = load_results(tmp_path / "c.json")
    assert back.status == "cancelled" and back.to_dict() == result.to_dict()


def test_csv_round_trip(mixed_result, tmp_path):
    path = tmp_path / "tasks.csv"
    save_csv(path, mixed_result)
    back = load_csv(path)
    assert len(back) == 3
    for original, loaded in zip(mixed_result.tasks, back, strict=True):
        expected = original.to_dict()
        if expected["error"]:  # the CSV keeps the type and message, not the traceback
            expected["error"] = {"type": expected["error"]["type"], "message": expected["error"]["message"]}
        assert loaded.to_dict() == expected
    header = path.read_text().splitlines()[0].split(",")
    assert header[:4] == ["index", "worker", "pid", "thread_id"] and "duration" in header
    # the X-ray's seconds per task follow the CPU seconds (filled where the run has thread states)
    assert header[header.index("cpu_seconds"):][:4] == ["cpu_seconds", "on_core_s", "waiting_s", "blocked_s"]


def test_csv_quotes_awkward_text(tmp_path):
    from concgui.engine import TaskRecord

    nasty = 'a, "quoted"\nsecond line; ünïcode ✓'
    result = RunResult(spec={"workload": "custom", "executor": "threads"}, environment={}, tasks=[
        TaskRecord(0, 'thread "1", odd', 10, 11, 0.0, 0.1, 0.2, 0.05, "error",
                   {"type": "ValueError", "message": nasty}),
        TaskRecord(1, "thread 2", 10, 12, 0.0, None, None, 0.0, "cancelled", None),
    ])
    save_csv(tmp_path / "t.csv", result)
    back = load_csv(tmp_path / "t.csv")
    assert back[0].error == {"type": "ValueError", "message": nasty}
    assert back[0].worker == 'thread "1", odd'
    assert back[1].to_dict() == result.tasks[1].to_dict()


def tasks_of(events: list[dict]) -> list[dict]:
    """The trace's task slices (the X-ray's state slices are complete events too)."""
    return [e for e in events if e["ph"] == "X" and e["cat"] != STATE_CATEGORY]


def test_chrome_trace(mixed_result, tmp_path):
    path = tmp_path / "trace.json"
    save_trace(path, mixed_result)
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    complete = tasks_of(events)
    assert sorted(e["args"]["index"] for e in complete) == [0, 1, 2]
    names = {e["tid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {e["tid"] for e in complete} <= set(names), "every lane is named"
    assert {names[e["tid"]] for e in complete} == {t.worker for t in mixed_result.tasks}
    by_index = {e["args"]["index"]: e for e in complete}
    for t in mixed_result.tasks:
        e = by_index[t.index]
        assert e["ts"] == pytest.approx(t.start * 1e6)
        assert e["dur"] == pytest.approx((t.end - t.start) * 1e6)
        assert e["cat"] == t.status
    assert by_index[1]["args"]["error"] == "task 1 went wrong on purpose"
    assert any(e["ph"] == "M" and e["name"] == "process_name" for e in events)


def test_chrome_trace_puts_overlapping_asyncio_tasks_on_their_own_tracks():
    result = run(ExperimentSpec(executor="asyncio", workload="sleep", tasks=3, duration=0.2, isolation="inline"))
    assert {t.worker for t in result.tasks} == {"event loop"}
    complete = tasks_of(chrome_trace(result)["traceEvents"])
    assert len(complete) == 3
    assert len({e["tid"] for e in complete}) == 3, "three overlapping tasks need three tracks"
    by_tid: dict[int, list] = {}
    for e in complete:
        by_tid.setdefault(e["tid"], []).append(e)
    for items in by_tid.values():  # nothing overlaps within one track
        items.sort(key=lambda e: e["ts"])
        assert all(a["ts"] + a["dur"] <= b["ts"] for a, b in zip(items, items[1:], strict=False))


def test_chrome_trace_skips_tasks_that_never_ran():
    from concgui.engine import start

    r = start(ExperimentSpec(executor="sequential", workload="sleep", tasks=3, duration=5, isolation="inline"))
    r.cancel()
    result = r.execute()
    assert tasks_of(chrome_trace(result)["traceEvents"]) == []


def state_tracks(events: list[dict]) -> dict[str, list[dict]]:
    """Each state track's slices by its name, in time order."""
    names = {e["tid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    tracks: dict[str, list[dict]] = {}
    for e in events:
        if e["ph"] == "X" and e["cat"] == STATE_CATEGORY:
            tracks.setdefault(names[e["tid"]], []).append(e)
    return {name: sorted(slices, key=lambda e: e["ts"]) for name, slices in tracks.items()}


def test_chrome_trace_draws_each_lanes_thread_states_under_its_tasks(tmp_path):
    """A real run's trace, as Perfetto reads it: per lane a track of state slices sorted right after its
    task track, slices that never overlap (so nesting holds), and the series' seconds kept."""
    result = run(ExperimentSpec(executor="thread-pool", workers=2, workload="cpu", tasks=4, duration=0.1,
                                isolation="inline"))
    assert result.thread_states, "the X-ray measured nothing"
    save_trace(tmp_path / "trace.json", result)
    events = json.loads((tmp_path / "trace.json").read_text())["traceEvents"]
    meta = {(e["name"], e["tid"]): e["args"] for e in events if e["ph"] == "M" and "tid" in e}
    name_of = {tid: args["name"] for (kind, tid), args in meta.items() if kind == "thread_name"}
    order = {tid: args["sort_index"] for (kind, tid), args in meta.items() if kind == "thread_sort_index"}
    assert sorted(order.values()) == list(range(1, len(order) + 1)) and set(order) == set(name_of)
    tracks = state_tracks(events)
    lanes = {t.worker for t in result.tasks}
    assert set(tracks) == {f"{lane} · thread state" for lane in lanes}
    for lane in lanes:
        task_slices = [e for e in tasks_of(events) if name_of[e["tid"]] == lane]
        slices = tracks[f"{lane} · thread state"]
        # right under the lane's task track, on a track of its own
        assert order[slices[0]["tid"]] == order[task_slices[0]["tid"]] + 1
        assert {e["tid"] for e in slices}.isdisjoint(e["tid"] for e in task_slices)
        for a, b in zip(slices, slices[1:], strict=False):
            assert a["ts"] + a["dur"] <= b["ts"], "state slices overlap: Perfetto would nest them"
            assert a["ts"] + a["dur"] < b["ts"] or a["name"] != b["name"], "touching slices of one state merge"
        for e in slices:
            assert type(e["ts"]) is int and type(e["dur"]) is int and e["dur"] > 0
            assert e["name"] == max(TRACE_STATES, key=e["args"].__getitem__)
            assert sum(e["args"].values()) == pytest.approx(1.0, abs=1e-3)
        # the seconds in each state are the series' own
        for k, state in enumerate(TRACE_STATES):
            traced = sum(e["args"][state] * e["dur"] for e in slices) / 1e6
            series = sum(s.lanes[lane][k] * s.interval for s in result.thread_states if lane in s.lanes)
            assert traced == pytest.approx(series, abs=1e-3), state
        # and the track spans the lane's tasks (to the interval its thread ended in)
        assert slices[0]["ts"] <= min(e["ts"] for e in task_slices)
        assert slices[-1]["ts"] + slices[-1]["dur"] >= max(e["ts"] + e["dur"] for e in task_slices) - 0.1e6


def test_state_slices_merge_touching_intervals_of_one_state_and_keep_the_mix():
    on, blocked, waiting = (0.8, 0.1, 0.1), (0.2, 0.1, 0.7), (0.3, 0.6, 0.1)
    series = [on, on, blocked, (0.1, 0.1, 0.8), blocked, waiting]
    states = [ThreadStates(0.1 + 0.02 * (k + 1), 0.02, {"thread 1": shares}) for k, shares in enumerate(series)]
    states.append(ThreadStates(0.3, 0.02, {"thread 1": on}))  # after a gap of 0.06 s: a slice of its own
    states.append(ThreadStates(0.32, 0.02, {"other": on}))  # another lane's interval
    result = RunResult(spec={"workload": "cpu", "executor": "thread-pool"}, environment={},
                       tasks=[TaskRecord(0, "thread 1", 1, 1, 0.1, 0.1, 0.3, 0.1, OK)], thread_states=states)
    [slices] = state_tracks(chrome_trace(result)["traceEvents"]).values()
    assert [(e["name"], e["ts"], e["dur"]) for e in slices] == [
        ("on a core", 100_000, 40_000), ("blocked", 140_000, 60_000), ("waiting for a core", 200_000, 20_000),
        ("on a core", 280_000, 20_000)]
    assert slices[1]["args"] == pytest.approx({"on a core": 0.5 / 3, "waiting for a core": 0.1, "blocked": 2.2 / 3},
                                              abs=1e-4)  # kept to 4 places
    assert slices[0]["cname"] == "thread_state_running" and slices[2]["cname"] == "thread_state_runnable"
    result.thread_states = []
    assert state_tracks(chrome_trace(result)["traceEvents"]) == {}


# --- files that are not run files ---------------------------------------------------------------
def _good(tmp_path, sleep_result) -> str:
    path = tmp_path / "good.json"
    save_result(path, sleep_result)
    return path.read_text()


@pytest.mark.parametrize("damage", ["truncated", "not json", "binary", "future version", "no version",
                                    "text version", "list", "runs not a list", "missing tasks", "empty"])
def test_load_results_refuses_what_is_not_a_run_file(tmp_path, sleep_result, damage):
    text = _good(tmp_path, sleep_result)
    data = json.loads(text)
    path = tmp_path / "bad.json"
    if damage == "truncated":
        path.write_text(text[: len(text) // 2])
    elif damage == "not json":
        path.write_text("spec = {'workload': 'sleep'}\n")
    elif damage == "binary":
        path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    elif damage == "future version":
        path.write_text(json.dumps({**data, "version": RESULT_VERSION + 1}))
    elif damage == "no version":
        path.write_text(json.dumps({k: v for k, v in data.items() if k != "version"}))
    elif damage == "text version":
        path.write_text(json.dumps({**data, "version": "1"}))
    elif damage == "list":
        path.write_text("[1, 2, 3]")
    elif damage == "runs not a list":
        path.write_text(json.dumps({"runs": data}))
    elif damage == "missing tasks":
        path.write_text(json.dumps({k: v for k, v in data.items() if k != "tasks"}))
    elif damage == "empty":
        path.write_text("")
    with pytest.raises(ValueError) as err:
        load_results(path)
    assert "bad.json" in str(err.value) or "version" in str(err.value)


def test_a_failed_write_leaves_no_partial_file(tmp_path, sleep_result):
    with pytest.raises(OSError):
        save_result(tmp_path / "no such folder" / "run.json", sleep_result)
    target = tmp_path / "run.json"
    target.write_text("old")
    bad = RunResult(spec={}, environment={})
    bad.summary = {"x": object()}  # not JSON: the write fails halfway
    with pytest.raises(TypeError):
        save_result(target, bad)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"], "no temporary file left behind"


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_an_export_is_an_ordinary_file_that_follows_the_umask(mixed_result, tmp_path, umask):
    old = os.umask(umask)
    try:
        save_result(tmp_path / "run.json", mixed_result)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "run.json").stat().st_mode) == 0o666 & ~umask


# --- the hostile files (issue 18, F6): one line naming the field, in the spec's words --------
HOSTILE = {
    "tree_percent text": (lambda d: d["cpu_samples"][0].update(tree_percent="hot"),
                          "cpu_samples[0].tree_percent: 'hot' is not allowed; allowed: a number from 0 to 409,600 "
                          "or null"),
    "run error a list": (lambda d: d.update(error=["a", "b"]),
                         "error: ['a', 'b'] is not allowed; allowed: text or null"),
    "task message a list": (lambda d: d["tasks"][1].update(error={"type": "E", "message": ["x"]}),
                            "tasks[1].error.message: ['x'] is not allowed; allowed: text"),
    "thread id 2**70": (lambda d: d["tasks"][0].update(thread_id=2**70),
                        "tasks[0].thread_id: 1180591620717411303424 is out of range; allowed: a whole number "
                        "from 0 to 18,446,744,073,709,551,615"),
    "spec tasks text": (lambda d: d["spec"].update(tasks="many"),
                        "spec.tasks: 'many' is not allowed; allowed: a whole number from 1 to 1,000,000"),
    "status 123, error {}": (lambda d: d.update(status=123, error={}),
                             "status: 123 is not text; allowed: one of ok, cancelled, failed, running, interrupted"),
    "summary text": (lambda d: d["summary"].update(speedup="fast"),
                     "summary.speedup: 'fast' is not allowed; allowed: a number from -1e+15 to 1e+15 or null"),
    "started 1e300": (lambda d: d.update(started_at=1e300),
                      "started_at: 1e+300 is out of range; allowed: a number from 0 to 32,503,680,000"),
    "workers text": (lambda d: d.update(workers="many"),
                     "workers: 'many' is not allowed; allowed: a whole number from 0 to 1,000,000"),
    "4097 cores": (lambda d: d["cpu_samples"][0].update(per_core=[1.0] * 4097),
                   "cpu_samples[0].per_core: holds 4,097 per-core values; allowed: at most 4,096"),
}


@pytest.mark.parametrize("damage", list(HOSTILE))
def test_a_hostile_value_is_refused_in_one_line_naming_its_field(tmp_path, sleep_result, damage):
    data = json.loads(json.dumps(sleep_result.to_dict()))  # a real run: CPU samples, X-ray, environment, summary
    damage_it, words = HOSTILE[damage]
    damage_it(data)
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError) as err:
        load_results(path)
    assert str(err.value) == f"hostile.json: {words}"

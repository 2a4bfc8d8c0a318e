"""The GIL X-ray's numbers: per task, per run, their cause in words, and where they are written.

Results here are recorded by hand, with the shares the issue measured on 2 cores (4 pure-Python
threads: blocked about 0.74; 4 pure-Python processes: waiting about 0.5), so each claim is checked
on exactly the numbers it should produce.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from concgui.engine.exports import CSV_COLUMNS, STATE_CATEGORY, chrome_trace, load_results, save_csv, save_result
from concgui.engine.records import OK, RunResult, TaskRecord, ThreadStates
from concgui.engine.summary import summarize
from concgui.engine.why import explain, xray_sentence
from concgui.engine.xray import ANY_CAUSE, blocked_cause, lane_shares, run_shares, task_states

STEP = 0.02  # the probe's resolution


def series(lanes: dict[str, tuple[float, float, float]], start: float, end: float,
           step: float = STEP) -> list[ThreadStates]:
    """Intervals of ``step`` covering (start, end], every lane with the same shares."""
    n = round((end - start) / step)
    return [ThreadStates(start + (k + 1) * step, step, dict(lanes)) for k in range(n)]


def recorded(executor: str, workload: str, lanes: int, shares: tuple[float, float, float], cores: int = 2,
             source: str = "schedstat", gil: bool = True) -> RunResult:
    """A finished run: ``lanes`` workers each doing one 0.5 s task after 0.1 s of start-up."""
    noun = "thread" if executor != "process-pool" else "process"
    tasks = [TaskRecord(i, f"{noun} {i}", 100 + i, 200 + i, 0.1, 0.1, 0.6, shares[0] * 0.5, OK)
             for i in range(lanes)]
    states = series({t.worker: shares for t in tasks}, 0.1, 0.6)
    result = RunResult(spec={"workload": workload, "executor": executor, "tasks": lanes},
                       environment={"cpu_count": cores, "gil_enabled": gil, "thread_states": source},
                       startup_seconds=0.1, wall_seconds=0.5, workers=lanes, tasks=tasks, thread_states=states)
    result.summary = summarize(result)
    return result


# --- per task ----------------------------------------------------------------------------
def test_a_tasks_shares_add_up_to_its_duration_where_samples_cover_it():
    shares = [(0.2, 0.05, 0.75), (0.5, 0.5, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)]
    states = [ThreadStates((k + 1) * STEP, STEP, {"thread 0": shares[k % 4], "thread 1": (1.0, 0.0, 0.0)})
              for k in range(50)]  # (0, 1] s
    for start, end in ((0.105, 0.637), (0.0, 1.0), (0.3, 0.3 + 1e-6), (0.04, 0.06), (0.999, 1.0)):
        on, waiting, blocked = task_states(states, "thread 0", start, end)
        assert on + waiting + blocked == pytest.approx(end - start, rel=1e-9, abs=1e-12)
        assert min(on, waiting, blocked) >= 0
    # inside one interval the seconds are that interval's shares times the duration
    assert task_states(states, "thread 0", 0.061, 0.071) == pytest.approx((0.0, 0.0, 0.01))
    # across two: each interval's shares weighted by its overlap
    expected = (0.01 * 0.2 + 0.01 * 0.5, 0.01 * 0.05 + 0.01 * 0.5, 0.01 * 0.75)
    assert task_states(states, "thread 0", 0.01, 0.03) == pytest.approx(expected)


def test_only_the_covered_part_of_a_task_is_counted_and_lanes_do_not_mix():
    states = series({"thread 0": (0.25, 0.25, 0.5)}, 0.2, 0.4)
    on, waiting, blocked = task_states(states, "thread 0", 0.1, 0.5)  # begins before the first sample, ends after
    assert on + waiting + blocked == pytest.approx(0.2)
    assert (on, waiting, blocked) == pytest.approx((0.05, 0.05, 0.1))
    assert task_states(states, "thread 9", 0.1, 0.5) == (0.0, 0.0, 0.0)
    assert task_states([], "thread 0", 0.1, 0.5) == (0.0, 0.0, 0.0)
    assert task_states(states, "thread 0", 0.3, 0.3) == (0.0, 0.0, 0.0)


# --- per run -----------------------------------------------------------------------------
def test_run_shares_cover_each_worker_from_its_first_task_to_its_last_after_start_up():
    tasks = [TaskRecord(0, "thread 0", 1, 1, 0.0, 0.2, 0.6, 0.1, OK),
             TaskRecord(1, "thread 1", 1, 2, 0.0, 0.2, 0.4, 0.1, OK)]
    states = (series({"thread 0": (1.0, 0.0, 0.0), "thread 1": (1.0, 0.0, 0.0)}, 0.0, 0.2)  # start-up: left out
              + series({"thread 0": (0.2, 0.1, 0.7), "thread 1": (0.4, 0.0, 0.6), "main": (0.0, 0.0, 1.0)}, 0.2, 0.4)
              + series({"thread 0": (0.2, 0.1, 0.7), "thread 1": (0.0, 0.0, 1.0)}, 0.4, 0.6))  # thread 1 idle
    result = RunResult(spec={"workload": "cpu", "executor": "thread-pool"}, environment={}, startup_seconds=0.2,
                       wall_seconds=0.4, workers=2, tasks=tasks, thread_states=states)
    shares = run_shares(result)
    # thread 0 for 0.4 s at (0.2, 0.1, 0.7), thread 1 for 0.2 s at (0.4, 0, 0.6); "main" is no worker
    assert shares == pytest.approx({"on_core": (0.4 * 0.2 + 0.2 * 0.4) / 0.6, "waiting": 0.4 * 0.1 / 0.6,
                                    "blocked": (0.4 * 0.7 + 0.2 * 0.6) / 0.6})
    assert sum(shares.values()) == pytest.approx(1.0)
    # the same spans lane by lane: what the calibration tests and the benchmark read
    lanes = lane_shares(result)
    assert set(lanes) == {"thread 0", "thread 1"}
    assert lanes["thread 0"] == pytest.approx((0.2, 0.1, 0.7)) and lanes["thread 1"] == pytest.approx((0.4, 0.0, 0.6))
    result.thread_states = []
    assert run_shares(result) is None and lane_shares(result) == {}
    assert run_shares(RunResult(spec={}, environment={}, thread_states=states)) is None  # no tasks


@pytest.mark.parametrize(("workload", "executor", "gil", "cause"), [
    ("cpu", "thread-pool", True, "the GIL"),
    ("cpu", "threads", True, "the GIL"),
    ("cpu", "asyncio", True, "the GIL"),
    ("cpu", "qt-thread-pool", True, "the GIL"),
    ("cpu", "sequential", True, "the GIL"),
    ("cpu", "thread-pool", False, ANY_CAUSE),  # free-threaded, GIL off: not the GIL
    ("cpu", "process-pool", True, ANY_CAUSE),
    ("sleep", "thread-pool", True, "sleeping"),
    ("sleep", "process-pool", True, "sleeping"),
    ("file-io", "threads", True, "I/O"),
    ("hash", "thread-pool", True, "the GIL, between hashlib calls"),
    ("hash", "process-pool", True, ANY_CAUSE),
    ("custom", "thread-pool", True, ANY_CAUSE),
    ("mixed", "thread-pool", True, ANY_CAUSE),
])
def test_blocked_cause_is_named_where_the_engine_knows_it(workload, executor, gil, cause):
    assert blocked_cause({"workload": workload, "executor": executor}, gil=gil) == cause


# --- the summary's words -------------------------------------------------------------------
def test_cpu_threads_are_told_they_were_blocked_on_the_gil():
    result = recorded("thread-pool", "cpu", 4, (0.21, 0.05, 0.74))
    s = result.summary
    assert (s["on_core_share"], s["waiting_share"], s["blocked_share"]) == pytest.approx((0.21, 0.05, 0.74))
    assert ("The 4 threads were blocked 74 % of the time on the GIL: only the one holding it runs Python "
            "code, and the others wait their turn.") in explain(result)


def test_cpu_processes_are_told_they_waited_for_the_cores():
    result = recorded("process-pool", "cpu", 4, (0.5, 0.48, 0.02), cores=2)
    assert result.summary["waiting_share"] == pytest.approx(0.48)
    text = explain(result)
    assert "The 4 processes waited for a core 48 % of the time: there are only 2 cores." in text
    assert "blocked" not in text


def test_other_states_get_their_own_sentence():
    sleeping = recorded("thread-pool", "sleep", 2, (0.01, 0.02, 0.97))
    assert xray_sentence(sleeping) == ("The 2 threads were blocked 97 % of the time sleeping: a sleeping thread "
                                       "needs no core.")
    assert ("The 2 threads were blocked 97 % of the time sleeping: sleeping releases the GIL, so while one waits the "
            "others proceed.") in explain(sleeping)
    free = recorded("thread-pool", "cpu", 2, (0.96, 0.02, 0.02), gil=False)
    assert xray_sentence(free) == ("The 2 threads were on a core 96 % of the time: without the GIL, threads "
                                   "compute in parallel.")
    assert ("This interpreter runs without the GIL, so the 2 threads computed side by side, on a core 96 % of the "
            "time.") in explain(free)
    fallback = recorded("thread-pool", "cpu", 4, (0.25, 0.0, 0.75), source="cpu-time")
    assert xray_sentence(fallback).startswith("The 4 threads were off a core 75 % of the time")
    assert "take turns on the GIL" in explain(fallback) and "waiting for a core" not in explain(fallback)


def test_a_run_without_the_series_has_no_shares_and_no_sentence():
    result = recorded("thread-pool", "cpu", 4, (0.21, 0.05, 0.74))
    result.thread_states = []
    result.summary = summarize(result)
    assert [result.summary[k] for k in ("on_core_share", "waiting_share", "blocked_share")] == [None] * 3
    assert "of the time" not in explain(result)


# --- exports --------------------------------------------------------------------------------
def test_csv_has_each_tasks_seconds_in_each_state(tmp_path):
    result = recorded("thread-pool", "cpu", 4, (0.21, 0.05, 0.74))
    result.tasks.append(TaskRecord(4, "thread 0", 100, 200, 0.1, None, None, 0.0, "cancelled"))
    save_csv(tmp_path / "t.csv", result)
    with open(tmp_path / "t.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    for row in rows[:4]:
        values = [float(row[k]) for k in ("on_core_s", "waiting_s", "blocked_s")]
        assert values == pytest.approx([0.5 * 0.21, 0.5 * 0.05, 0.5 * 0.74])
        assert sum(values) == pytest.approx(float(row["duration"]))
    assert [rows[4][k] for k in ("on_core_s", "waiting_s", "blocked_s")] == ["", "", ""]  # never ran
    result.thread_states = []
    save_csv(tmp_path / "none.csv", result)
    with open(tmp_path / "none.csv", newline="", encoding="utf-8") as f:
        assert {row["blocked_s"] for row in csv.DictReader(f)} == {""}


def test_trace_has_a_state_track_under_each_lane_and_the_states_on_each_task():
    result = recorded("thread-pool", "cpu", 2, (0.21, 0.05, 0.74))
    events = chrome_trace(result)["traceEvents"]
    assert not any(e["ph"] == "C" for e in events), "no process-level counters: Perfetto draws them apart"
    names = {e["tid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    states = [e for e in events if e["ph"] == "X" and e["cat"] == STATE_CATEGORY]
    assert {names[e["tid"]] for e in states} == {"thread 0 · thread state", "thread 1 · thread state"}
    [lane] = [e for e in states if names[e["tid"]] == "thread 0 · thread state"]  # 25 intervals, one state
    assert (lane["name"], lane["ts"], lane["dur"]) == ("blocked", 100_000, 500_000)
    assert lane["args"] == pytest.approx({"on a core": 0.21, "waiting for a core": 0.05, "blocked": 0.74})
    task = next(e for e in events if e["ph"] == "X" and e["cat"] == OK)
    assert task["args"]["blocked_s"] == pytest.approx(0.5 * 0.74)
    result.thread_states = []
    assert not any(e.get("cat") == STATE_CATEGORY for e in chrome_trace(result)["traceEvents"])


def test_run_files_keep_the_series_and_old_ones_without_it_open(tmp_path):
    result = recorded("thread-pool", "cpu", 2, (0.21, 0.05, 0.74))
    save_result(tmp_path / "run.json", result)
    [back] = load_results(tmp_path / "run.json")
    assert back.to_dict() == result.to_dict() and len(back.thread_states) == 25
    old = result.to_dict()
    del old["thread_states"]
    for key in ("on_core_share", "waiting_share", "blocked_share"):
        del old["summary"][key]
    (tmp_path / "old.json").write_text(json.dumps(old))
    [back] = load_results(tmp_path / "old.json")
    assert back.thread_states == [] and "of the time" not in explain(back)
    assert summarize(back)["blocked_share"] is None
    bad = result.to_dict()
    bad["thread_states"][3]["lanes"]["thread 0"] = [0.5, "x"]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match=r"thread_states\[3\]"):
        load_results(tmp_path / "bad.json")


def test_the_command_line_still_starts_without_numpy():
    code = ("import sys, concgui.cli, concgui.engine.summary, concgui.engine.exports, concgui.engine.xray; "
            "print('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"

"""Memory per worker: the probe's memory series for real runs, kept through every door, refused when bad."""

from __future__ import annotations

import json
import os

import pytest

from concgui.engine import ExperimentSpec, run
from concgui.engine.events import MemorySampled, RunStarted, event_from_json, event_to_json
from concgui.engine.memory import memory_figures, worker_pids
from concgui.engine.records import OK, MemorySample, RunResult, TaskRecord
from concgui.engine.spec import SpecError
from concgui.engine.validate import run_from_dict
from concgui.engine.why_compare import compare_why, memory_sentence
from concgui.history import HistoryStore

MB = 1e6


def inline(**kw) -> ExperimentSpec:
    return ExperimentSpec(isolation="inline", workload="cpu", tasks=4, workers=4, duration=0.3, **kw)


def test_a_process_pool_records_each_workers_memory() -> None:
    r = run(inline(executor="process-pool", start_method="spawn"))  # each worker a fresh interpreter
    assert r.status == OK, r.error
    pids = worker_pids(r)
    assert len(pids) == 4 and os.getpid() not in pids
    measured = {pid for s in r.memory_samples for pid in s.per_pid}
    assert set(pids) <= measured  # every worker was read, and the run's own process too
    assert os.getpid() in measured
    s = r.summary
    assert s["memory_kind"] == r.environment["memory"] == "uss"  # Linux gives USS
    assert s["memory_processes"] == 4
    assert 5 <= s["memory_per_worker_mb"] <= 500  # an interpreter each
    assert 3.5 * s["memory_per_worker_mb"] <= s["memory_total_mb"] <= 4.5 * s["memory_per_worker_mb"]
    times = [m.t for m in r.memory_samples]
    assert times == sorted(times) and times[-1] >= r.startup_seconds + r.wall_seconds - 0.3  # it spans the run


def test_a_thread_pool_is_one_process() -> None:
    events: list = []
    r = run(inline(executor="thread-pool"), on_events=events.extend)
    assert r.status == OK, r.error
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.environment["memory"] == "uss"  # known live, for the chart's title
    live = [e.sample for e in events if isinstance(e, MemorySampled)]
    assert live == r.memory_samples  # every reading went out live as it came
    assert worker_pids(r) == [os.getpid()]
    assert r.memory_samples and all(os.getpid() in m.per_pid for m in r.memory_samples)
    s = r.summary
    assert s["memory_processes"] == 1
    assert s["memory_total_mb"] == pytest.approx(s["memory_per_worker_mb"])
    assert 5 <= s["memory_total_mb"] <= 2000  # this test process, pytest and all


def recorded(memory: list[MemorySample]) -> RunResult:
    """A finished two-process run with the given memory series."""
    tasks = [TaskRecord(i, f"process {i}", 100 + i, 200 + i, 0.0, 0.1, 0.5, 0.4, OK) for i in range(2)]
    r = RunResult(spec={"workload": "cpu", "executor": "process-pool", "tasks": 2}, environment={"memory": "uss"},
                  wall_seconds=0.4, startup_seconds=0.1, workers=2, tasks=tasks, memory_samples=memory)
    r.summary = {"wall_seconds": 0.4, **memory_figures(r)}
    return r


SERIES = [MemorySample(0.1, {99: 30_000_000, 100: 10_000_000, 101: 12_000_000}),
          MemorySample(0.3, {99: 31_000_000, 100: 14_000_000, 101: 13_000_000})]


def test_figures_are_peaks_per_worker_and_of_the_sum() -> None:
    f = memory_figures(recorded(SERIES))
    assert f == {"memory_kind": "uss", "memory_processes": 2, "memory_workers": 2,
                 "memory_per_worker_mb": pytest.approx(13.5),
                 "memory_total_mb": pytest.approx(27.0)}  # the parent (99) ran no task: not a worker
    assert memory_figures(recorded([]))["memory_per_worker_mb"] is None


def test_a_worker_the_probe_missed_is_said_beside_the_figures() -> None:
    """A process that ran one short task and ended between two readings has no memory to show: the figures
    say they cover the others only."""
    from concgui.engine.metrics import metric

    missed = recorded([MemorySample(0.1, {100: 10_000_000}), MemorySample(0.3, {100: 14_000_000})])
    assert missed.summary["memory_processes"] == 1 and missed.summary["memory_workers"] == 2
    assert metric("memory_per_worker_mb").text(missed.summary) == "14.0 MB (1 of 2 processes measured)"
    assert "measured" not in metric("memory_total_mb").text(recorded(SERIES).summary)


def test_the_series_survives_json_the_history_and_the_stream(tmp_path) -> None:
    r = recorded(SERIES)
    back = run_from_dict(json.loads(json.dumps(r.to_dict())))
    assert back.memory_samples == SERIES
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        assert store.load(store.save(r)).memory_samples == SERIES
    e = event_from_json(json.loads(json.dumps(event_to_json(MemorySampled(SERIES[0])))))
    assert e == MemorySampled(SERIES[0])


def test_an_old_file_without_memory_loads() -> None:
    d = recorded(SERIES).to_dict()
    del d["memory_samples"], d["environment"]["memory"]
    back = run_from_dict(json.loads(json.dumps(d)))
    assert back.memory_samples == []
    assert memory_figures(back)["memory_total_mb"] is None


@pytest.mark.parametrize(("change", "says"), [
    (lambda d: d["memory_samples"][0]["per_pid"].update({"100": -5}), "memory_samples[0].per_pid[100]: -5 is out"),
    (lambda d: d["memory_samples"][1]["per_pid"].update({"101": "big"}), "memory_samples[1].per_pid[101]: 'big'"),
    (lambda d: d["memory_samples"][0]["per_pid"].update({"me": 5}), "memory_samples[0].per_pid: 'me' is not"),
    (lambda d: d["memory_samples"][0].pop("per_pid"), "memory_samples[0].per_pid: is missing"),
    (lambda d: d["memory_samples"][1].update(t="soon"), "memory_samples[1].t: 'soon'"),
    (lambda d: d.update(memory_samples={}), "memory_samples: {} is not allowed"),
    (lambda d: d["environment"].update(memory="vss"), "environment.memory: 'vss' is not allowed"),
])
def test_a_bad_memory_sample_is_refused_in_a_line(change, says) -> None:
    d = json.loads(json.dumps(recorded(SERIES).to_dict()))
    change(d)
    with pytest.raises(SpecError) as err:
        run_from_dict(d)
    assert str(err.value).startswith(says) and "\n" not in str(err.value)


def test_a_compare_says_what_processes_held_against_threads() -> None:
    procs = recorded(SERIES)
    procs.environment["start_method"] = "spawn"
    procs.workers = 2
    threads = RunResult(spec={"workload": "cpu", "executor": "thread-pool", "tasks": 2},
                        environment={"memory": "uss"}, wall_seconds=0.8, workers=4,
                        tasks=[TaskRecord(i, f"thread {i}", 99, 300 + i, 0.0, 0.0, 0.8, 0.2, OK) for i in range(2)],
                        memory_samples=SERIES)
    threads.summary = {"wall_seconds": 0.8, **memory_figures(threads)}
    seq = RunResult(spec={"workload": "cpu", "executor": "sequential", "tasks": 2}, environment={},
                    wall_seconds=0.8, tasks=[TaskRecord(i, "main", 99, 1, 0.0, 0.4 * i, 0.4 * i + 0.4, 0.4, OK)
                                             for i in range(2)], memory_samples=SERIES)
    seq.summary = {"wall_seconds": 0.8, **memory_figures(seq)}
    text = compare_why([seq, threads, procs])
    assert ("process-pool's 2 processes held 2 interpreters: 27.0 MB in total, 13.5 MB each; thread-pool's 4 "
            "threads shared one process of 31.0 MB.") in text
    assert memory_sentence([seq, threads]) == ""  # no processes to set against the threads
    assert memory_sentence([procs, recorded(SERIES)]) == ""  # nor threads against the processes
    procs.environment["start_method"] = "fork"
    assert "forked workers share their parent's pages" in memory_sentence([threads, procs])
    assert memory_sentence([seq, procs]).endswith("; sequential ran in one process of 31.0 MB (forked workers share "
                                                  "their parent's pages until they write them: their USS is what "
                                                  "they changed).")

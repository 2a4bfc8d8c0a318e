"""The scaling study in the engine: worker counts, validation, the Amdahl fit, real sweeps, files."""

from __future__ import annotations

import csv
import json
import threading
import time

import pytest

from concgui.engine import ExperimentSpec, SpecError, start
from concgui.engine.spec import EXECUTORS, MAX_WORKERS
from concgui.engine.sweep import (
    CSV_COLUMNS,
    SPEEDUP_RULE,
    SweepPoint,
    SweepResult,
    amdahl_speedup,
    fit_serial_fraction,
    load_sweep_json,
    plan_sweep,
    run_sweep,
    save_sweep_csv,
    save_sweep_json,
    worker_counts,
)

SLEEP = ExperimentSpec(workload="sleep", tasks=4, duration=0.1, isolation="inline")


def test_worker_counts_are_powers_of_two_up_to_the_maximum_and_the_maximum():
    assert worker_counts(1) == [1]
    assert worker_counts(4) == [1, 2, 4]
    assert worker_counts(6) == [1, 2, 4, 6]
    assert worker_counts(MAX_WORKERS) == [2**k for k in range(11)]


@pytest.mark.parametrize(("executors", "max_workers", "repeats", "field", "words"), [
    (["thread-pool"], 0, 1, "max_workers", "from 1 to 1,024"),
    (["thread-pool"], MAX_WORKERS + 1, 1, "max_workers", "from 1 to 1,024"),
    (["thread-pool"], 2.5, 1, "max_workers", "whole number"),
    (["thread-pool"], True, 1, "max_workers", "whole number"),
    (["thread-pool"], 4, 0, "repeats", "from 1 to 100"),
    (["thread-pool"], 4, 101, "repeats", "from 1 to 100"),
    ([], 4, 1, "executors", "is empty; allowed: one or more of thread-pool, process-pool"),
    (["bogus"], 4, 1, "executors", "'bogus' unknown; allowed: thread-pool"),
    (["thread-pool", "sequential", "threads"], 4, 1, "executors", "sequential, threads cannot be swept"),
    (["processes"], 4, 1, "executors", "not settable"),
])
def test_bad_input_names_the_field_and_what_is_allowed(executors, max_workers, repeats, field, words):
    with pytest.raises(SpecError) as info:
        plan_sweep(SLEEP, executors, max_workers, repeats)
    assert info.value.field == field
    with pytest.raises(SpecError, match=f"^{field}: "):  # run_sweep planning it: refused before any run
        run_sweep(SLEEP, executors, max_workers, repeats, start=lambda spec: pytest.fail("it ran"))
    assert words in str(info.value)


def test_an_unavailable_executor_is_refused_with_its_reason():
    from concgui.engine import list_executors

    unavailable = [row for row in list_executors() if not row["available"] and row["name"] in EXECUTORS]
    if not unavailable:
        pytest.skip("every executor is available here")
    row = unavailable[0]
    with pytest.raises(SpecError, match=f"executors: {row['name']} is not available here") as info:
        plan_sweep(SLEEP, [row["name"]], 2, 1)
    assert row["reason"] in str(info.value)


def test_the_plan_interleaves_repeats_counts_and_executors():
    planned = plan_sweep(SLEEP, ["thread-pool", "process-pool", "thread-pool"], 3, 2)
    assert planned.executors == ["thread-pool", "process-pool"] and planned.worker_counts == [1, 2, 3]
    plan = planned.points
    assert [(p.repeat, p.workers, p.executor) for p in plan[:4]] == [
        (0, 1, "thread-pool"), (0, 1, "process-pool"), (0, 2, "thread-pool"), (0, 2, "process-pool")]
    assert len(plan) == 12 and plan[-1].repeat == 1
    assert all(p.spec.workers == p.workers and p.spec.executor == p.executor and p.spec.tasks == 4 for p in plan)


@pytest.mark.parametrize("s", [0.0, 0.03, 0.25, 1.0])
def test_the_amdahl_fit_recovers_a_known_serial_fraction(s):
    speedups = {n: amdahl_speedup(s, n) for n in (1, 2, 4, 8)}
    assert fit_serial_fraction(speedups, cores=8) == pytest.approx(s, abs=1e-12)


def test_the_fit_leaves_out_points_beyond_the_cores_and_is_none_without_any():
    exact = {n: amdahl_speedup(0.1, n) for n in (1, 2, 4)}
    flat = {**exact, 8: 3.1, 16: 3.1}  # past 4 cores the limit is the hardware, not the code
    assert fit_serial_fraction(flat, cores=4) == pytest.approx(0.1)
    assert fit_serial_fraction(flat, cores=16) > 0.15  # had they counted, s would be wrong
    assert fit_serial_fraction({1: 1.0, 2: 1.9}, cores=1) is None
    assert fit_serial_fraction({1: 1.0}, cores=8) is None
    assert fit_serial_fraction({1: 1.0, 2: 0.5}, cores=2) == 1.0  # slower than one worker: clamped
    assert fit_serial_fraction({1: 1.0, 2: 2.2}, cores=2) == 0.0  # superlinear: clamped


def synthetic(walls: dict[tuple[str, int], list[float]], cores: int = 2) -> SweepResult:
    executors = list(dict.fromkeys(e for e, _ in walls))
    counts = sorted({n for _, n in walls})
    sweep = SweepResult({"workload": "cpu", "tasks": 8}, executors, counts, 3, cores=cores)
    for (e, n), values in walls.items():
        sweep.points += [SweepPoint(e, n, r, w, 0.1, "ok") for r, w in enumerate(values)]
    return sweep


def test_speedup_is_against_one_worker_of_the_same_executor_with_median_and_spread():
    sweep = synthetic({("process-pool", 1): [2.0, 2.2, 1.8], ("process-pool", 2): [1.0, 1.25, 1.1],
                       ("thread-pool", 1): [4.0, 4.0, 4.0], ("thread-pool", 2): [4.0, 4.0, 4.0]})
    sweep.points.append(SweepPoint("process-pool", 2, 3, None, None, "failed", "RuntimeError: boom"))
    rows = {(r.executor, r.workers): r for r in sweep.all_stats()}
    two = rows[("process-pool", 2)]
    assert two.runs == 3 and two.median_wall == 1.1
    assert two.speedup == pytest.approx(2.0 / 1.1)
    assert (two.speedup_min, two.speedup_max) == (pytest.approx(2.0 / 1.25), pytest.approx(2.0))
    assert two.efficiency == pytest.approx(2.0 / 1.1 / 2)
    assert rows[("thread-pool", 2)].speedup == 1.0  # its own 1-worker wall, not process-pool's
    assert sweep.serial_fraction("process-pool") == pytest.approx(2 / (2.0 / 1.1) - 1)
    assert sweep.serial_fraction("thread-pool") == 1.0
    assert [p.error for p in sweep.failed()] == ["RuntimeError: boom"]


def test_speedup_is_the_one_worker_median_over_the_median_so_one_worker_is_1x_with_two_repeats(tmp_path):
    # the review's process-pool walls (2 repeats): the median of each repeat's speedup made 1 worker 1.04×
    one, two = [1.420612404, 2.1594740580000003], [1.299589071, 1.5354131409999998]
    sweep = synthetic({("process-pool", 1): one, ("process-pool", 2): two})
    base = (one[0] + one[1]) / 2
    at1, at2 = sweep.stats("process-pool")
    assert (at1.speedup, at1.efficiency) == (1.0, 1.0)
    assert at2.speedup == pytest.approx(base / ((two[0] + two[1]) / 2))  # 1.263×, not 1.272×
    assert (at2.speedup_min, at2.speedup_max) == (pytest.approx(base / two[1]), pytest.approx(base / two[0]))
    assert at2.efficiency == pytest.approx(at2.speedup / 2)
    save_sweep_csv(tmp_path / "s.csv", sweep)
    with open(tmp_path / "s.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {float(r["speedup_median"]) for r in rows if r["workers"] == "1"} == {1.0}
    assert [float(r["speedup"]) for r in rows if r["workers"] == "1"] == [base / one[0], base / one[1]]
    stats = json.loads(json.dumps(sweep.to_dict()))["stats"]
    assert [s["speedup"] for s in stats] == [1.0, at2.speedup]


def test_the_command_lines_table_and_the_notebooks_table_and_chart_state_the_one_speedup_rule():
    import xml.etree.ElementTree as ET
    from html import unescape

    from concgui.cli.tables import format_sweep
    from concgui.notebook.scaling import render_scaling
    from concgui.notebook.tables import sweep_html

    sweep = synthetic({("process-pool", 1): [2.0, 2.2], ("process-pool", 2): [1.0, 1.3]})
    assert "1 worker" in SPEEDUP_RULE and "÷ this point's median wall" in SPEEDUP_RULE  # what stats() divides
    assert f"speedup = {SPEEDUP_RULE}; serial fraction" in format_sweep(sweep)
    assert f"Speedup = {SPEEDUP_RULE}; serial fraction" in unescape(sweep_html(sweep))
    texts = [t.text or "" for t in ET.fromstring(render_scaling(sweep)).iter("{http://www.w3.org/2000/svg}text")]
    assert any(t.startswith(f"speedup = {SPEEDUP_RULE} · ") for t in texts)


def test_a_real_sleep_sweep_speeds_up_with_workers_on_threads_and_processes(tmp_path):
    seen = []
    sweep = run_sweep(plan_sweep(SLEEP, ["thread-pool", "process-pool"], 4, 1),
                      on_point=lambda p, s: seen.append((p.executor, p.workers, len(s.points))))
    assert seen == [("thread-pool", 1, 1), ("process-pool", 1, 2), ("thread-pool", 2, 3),
                    ("process-pool", 2, 4), ("thread-pool", 4, 5), ("process-pool", 4, 6)]
    assert all(p.status == "ok" and p.wall_seconds > 0 for p in sweep.points)
    for e in ("thread-pool", "process-pool"):
        speedup = {r.workers: r.speedup for r in sweep.stats(e)}
        assert speedup[1] == 1.0 and speedup[1] < speedup[2] < speedup[4], (e, speedup)
        assert speedup[4] > 2.5, (e, speedup)
        assert sweep.stats(e)[-1].efficiency > 0.6
    assert sweep.points[1].startup_seconds > 0  # a process pool starts up, outside the wall
    assert [p.threads for p in sweep.points] == [1, 1, 2, 2, 4, 4]  # the runs' real worker threads
    assert sweep.cores >= 1 and sweep.spec["workload"] == "sleep"


def test_a_failed_run_is_a_failed_point_and_the_sweep_goes_on(tmp_path):
    bad = tmp_path / "tasks.py"
    bad.write_text("def work(i):\n    raise ValueError('nope')\n")
    spec = ExperimentSpec(workload="custom", function=f"{bad}:work", tasks=2, isolation="inline")
    calls = []

    def flaky(s: ExperimentSpec):
        calls.append(s.workers)
        if s.workers == 2:
            raise RuntimeError("the engine process died")
        return start(s)

    sweep = run_sweep(plan_sweep(spec, ["thread-pool"], 4, 1), start=flaky)
    assert calls == [1, 2, 4]
    assert [p.status for p in sweep.points] == ["error", "failed", "error"]
    assert sweep.points[0].error == "2 task(s) raised; first: ValueError: nope"
    assert sweep.points[1].error == "RuntimeError: the engine process died"
    assert sweep.stats("thread-pool") == [] and sweep.serial_fraction("thread-pool") is None


def test_cancel_stops_the_running_point_and_skips_the_rest():
    cancel = threading.Event()
    long = ExperimentSpec(workload="sleep", tasks=2, duration=30.0, isolation="inline")
    threading.Timer(0.5, cancel.set).start()
    began = time.monotonic()
    sweep = run_sweep(plan_sweep(long, ["thread-pool"], 4, 3), cancel=cancel)
    assert time.monotonic() - began < 5
    assert [p.status for p in sweep.points] == ["cancelled"]
    assert len(sweep.points) < sweep.planned == 9


def test_json_round_trip_and_csv_columns(tmp_path):
    sweep = synthetic({("process-pool", 1): [2.0, 2.1, 1.9], ("process-pool", 2): [1.05, 1.0, 1.1],
                       ("process-pool", 4): [1.0, 1.02, 0.98]})
    sweep.points.append(SweepPoint("process-pool", 4, 3, None, None, "failed", "boom"))
    save_sweep_json(tmp_path / "s.json", sweep)
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["format"] == "concgui-sweep" and data["version"] == 1
    assert data["serial_fractions"]["process-pool"] == pytest.approx(sweep.serial_fraction("process-pool"))
    back = load_sweep_json(tmp_path / "s.json")
    assert back == sweep and back.all_stats() == sweep.all_stats()

    save_sweep_csv(tmp_path / "s.csv", sweep)
    with open(tmp_path / "s.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == len(sweep.points) == 10
    two = [r for r in rows if r["workers"] == "2"]
    assert float(two[0]["speedup"]) == pytest.approx(2.0 / 1.05)
    assert float(two[0]["speedup_median"]) == pytest.approx(2.0 / 1.05)
    assert float(two[0]["efficiency"]) == pytest.approx(2.0 / 1.05 / 2)
    assert float(two[0]["serial_fraction"]) == pytest.approx(sweep.serial_fraction("process-pool"))
    assert rows[-1]["status"] == "failed" and rows[-1]["wall_seconds"] == "" and rows[-1]["error"] == "boom"

    (tmp_path / "bad.json").write_text(json.dumps({**data, "version": 99}))
    with pytest.raises(ValueError, match="bad.json: version: 99"):
        load_sweep_json(tmp_path / "bad.json")
    (tmp_path / "run.json").write_text(json.dumps({"runs": []}))
    with pytest.raises(ValueError, match="run.json: format: not a ConcGUI sweep"):
        load_sweep_json(tmp_path / "run.json")


def test_the_sweep_engine_imports_no_qt(child_env):
    import subprocess
    import sys

    code = ("import sys\nfrom concgui.engine import ExperimentSpec\n"
            "from concgui.engine.sweep import plan_sweep, run_sweep\n"
            "spec = ExperimentSpec(workload='noop', tasks=2, isolation='inline')\n"
            "s = run_sweep(spec, ['thread-pool'], 2, 1)\n"  # as the README shows it
            "print(len(s.points), sorted(m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'pyqtgraph', 'shiboken6')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["2", "[]"]


def test_every_executor_whose_workers_are_settable_sweeps_here():
    from concgui.engine import list_executors
    from concgui.engine.sweep import sweepable

    names = [row["name"] for row in list_executors() if row["available"] and sweepable(row["name"])]
    assert {"thread-pool", "process-pool"} <= set(names)  # and dask, asyncio ... wherever they run
    # sleeps: 4 workers overlap 4 tasks of 0.2 s whatever the other programs on the machine do (about 4×);
    # to fall under 2.5× a 0.2 s run would have to lose 0.12 s to overhead, and one that does not scale stays at 1×
    spec = SLEEP.with_(tasks=4, duration=0.2)
    sweep = run_sweep(plan_sweep(spec, names, 4, 1))
    assert [(p.executor, p.workers) for p in sweep.points] == [(e, n) for n in (1, 2, 4) for e in names]
    assert [p.status for p in sweep.points] == ["ok"] * len(names) * 3, sweep.failed()
    assert [p.threads for p in sweep.points] == [p.workers for p in sweep.points]  # Dask: 1 thread per worker
    for e in names:
        assert sweep.stats(e)[-1].speedup > 2.5, (e, sweep.stats(e))


def test_dask_sweeps_worker_processes_of_one_thread_and_refuses_more():
    spec = SLEEP.with_(threads_per_worker=2)
    with pytest.raises(SpecError, match="threads_per_worker: is 2; a scaling study varies the worker processes; "
                                        "set threads per worker to 1") as info:
        plan_sweep(spec, ["thread-pool", "dask"], 4, 1)
    assert info.value.field == "threads_per_worker"
    assert len(plan_sweep(spec, ["thread-pool"], 4, 1).points) == 3  # only Dask has threads per worker
    # a scheduler's workers keep their own threads: nothing to refuse (each point records the real ones)
    remote = spec.with_(scheduler="tcp://127.0.0.1:8786")
    assert [p.executor for p in plan_sweep(remote, ["dask"], 2, 1).points] == ["dask", "dask"]


def test_a_dask_cluster_sweep_claims_none_of_this_machines_cores():
    walls = {1: 8.0, 2: 4.0, 4: 2.1, 8: 1.2}  # on a cluster with more cores than this machine
    sweep = SweepResult({"workload": "cpu", "tasks": 8, "scheduler": "tcp://cluster:8786"}, ["dask", "thread-pool"],
                        [1, 2, 4, 8], 1, cores=2)
    for n, w in walls.items():
        sweep.points += [SweepPoint("dask", n, 0, w, 0.5, "ok", threads=n),
                         SweepPoint("thread-pool", n, 0, w, 0.0, "ok")]
    assert sweep.cores_of("dask") is None and sweep.cores_of("thread-pool") == 2
    assert sweep.local_executors() == ["thread-pool"]
    speedups = {n: 8.0 / w for n, w in walls.items()}
    assert sweep.serial_fraction("dask") == pytest.approx(fit_serial_fraction(speedups, cores=None))
    assert sweep.serial_fraction("dask") != pytest.approx(fit_serial_fraction(speedups, cores=2))
    assert sweep.serial_fraction("thread-pool") == pytest.approx(fit_serial_fraction(speedups, cores=2))
    assert "dask on its scheduler: workers > 1 (the Dask cluster's cores are not known here)" in sweep.fit_range_text()
    alone = SweepResult(sweep.spec, ["dask"], [1, 2], 1, cores=2)
    assert alone.local_executors() == [] and alone.fit_range_text().startswith("workers > 1")
    rows = {(r[0], r[1]): dict(zip(CSV_COLUMNS, r, strict=True)) for r in sweep.csv_rows()}
    assert rows[("dask", 8)]["cores"] is None and rows[("thread-pool", 8)]["cores"] == 2
    assert rows[("dask", 8)]["threads"] == 8
    assert sweep.to_dict()["fit_cores"] == {"dask": None, "thread-pool": 2}
    # a local sweep: the same 2 cores for every executor, as before
    local = SweepResult({"workload": "cpu", "tasks": 8}, ["dask"], [1, 2], 1, cores=2)
    assert local.cores_of("dask") == 2 and local.fit_range_text() == "1 < workers ≤ 2 cores"


def test_the_statistics_are_computed_once_until_a_point_is_added(monkeypatch):
    sweep = synthetic({("process-pool", 1): [2.0, 2.2], ("process-pool", 2): [1.0, 1.2],
                       ("thread-pool", 1): [4.0], ("thread-pool", 2): [4.0]})
    computed: list[str] = []
    real = SweepResult._stats
    monkeypatch.setattr(SweepResult, "_stats", lambda self, e, base: computed.append(e) or real(self, e, base))
    before = sweep.stats("process-pool")
    sweep.all_stats(), sweep.csv_rows(), sweep.to_dict(), sweep.serial_fraction("thread-pool")
    assert computed == ["process-pool", "thread-pool"]  # once per executor for all of that
    sweep.points.append(SweepPoint("process-pool", 2, 2, 0.5, 0.1, "ok"))
    after = sweep.stats("process-pool")
    assert computed == ["process-pool", "thread-pool"] * 2
    assert after[1].runs == 3 and before[1].runs == 2 and after[1].speedup_max == pytest.approx(2.1 / 0.5)

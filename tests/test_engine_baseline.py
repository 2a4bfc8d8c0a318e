"""Each run is measured against the first run of its own experiment: a Compare of several experiments (a
lesson's preset) never sets a counter run against a cpu run."""

from __future__ import annotations

from concgui.engine.baseline import baseline_for, baselines, experiment_key, experiment_text, experiments
from concgui.engine.records import RunResult, TaskRecord
from concgui.engine.spec import ExperimentSpec
from concgui.engine.summary import summarize
from concgui.engine.why_compare import compare_why


def run(wall: float, executor: str, workers: int = 2, **fields) -> RunResult:
    spec = ExperimentSpec(executor=executor, workers=workers, tasks=2, **fields).to_dict()
    tasks = [TaskRecord(i, f"w{i % workers}", 10 + i % workers, 1, 0.0, 0.0, wall, wall * 0.9, "ok")
             for i in range(2)]
    return RunResult(spec=spec, environment={}, wall_seconds=wall, workers=workers, tasks=tasks)


CPU = {"workload": "cpu", "duration": 0.1, "arg_bytes": 20_000_000}
COUNTER = {"workload": "counter", "increments": 500_000}
LESSON = [run(1.53, "thread-pool", **CPU), run(1.48, "process-pool", **CPU), run(0.198, "thread-pool", **COUNTER),
          run(1.11, "thread-pool", lock=True, **COUNTER), run(0.088, "process-pool", **COUNTER)]


def test_how_a_run_runs_is_not_what_it_runs():
    a = ExperimentSpec(workload="cpu", executor="threads", workers=4, tasks=8).to_dict()
    assert experiment_key(a) == experiment_key({**a, "executor": "process-pool", "workers": 2, "chunk_size": 4})
    assert experiment_key(a) == experiment_key({**a, "lock": True})  # the counter's lock is compared, not apart
    for field, value in (("workload", "sleep"), ("tasks", 9), ("duration", 1.0), ("arg_bytes", 1)):
        assert experiment_key(a) != experiment_key({**a, field: value}), field


def test_each_run_is_set_against_the_first_run_of_its_experiment():
    bases = baselines(LESSON)
    assert [LESSON.index(b) for b in bases] == [0, 0, 2, 2, 2]
    assert [len(g) for g in experiments(LESSON)] == [2, 3]
    assert baseline_for(LESSON[4].spec, LESSON[:4]) is LESSON[2]
    assert baseline_for(ExperimentSpec(workload="hash").to_dict(), LESSON) is None  # a new experiment: a baseline


def test_a_compare_of_two_experiments_judges_each_apart_and_names_it():
    for r, base in zip(LESSON, baselines(LESSON), strict=True):
        r.summary = summarize(r, None if r is base else base)
    text = compare_why(LESSON)
    cpu, counter = experiment_text(LESSON[0].spec), experiment_text(LESSON[2].spec)
    assert cpu == "2 × cpu (100.0 ms each, 20 MB argument)" and counter == "2 × counter (500,000 increments each)"
    assert text.startswith(f"{cpu}: ") and f" {counter}: " in text
    assert "17" not in text  # 1.53 s / 0.088 s: a cpu run over a counter run, a speedup of nothing
    assert "1.0×" in text.split(counter)[0]  # process-pool against thread-pool, both cpu: 1.53 / 1.48
    assert "2.3× as fast as thread-pool" in text.split(counter)[1]  # both counting: 0.198 / 0.088
    assert "thread-pool with the lock" in text  # two thread-pool runs of one experiment, told apart

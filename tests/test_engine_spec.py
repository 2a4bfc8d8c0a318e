"""The spec refuses every bad value before anything runs, naming the field, the value and what is allowed."""

from __future__ import annotations

import json
import math

import pytest

from concgui.engine import ExperimentSpec, SpecError, run
from concgui.engine.runner import task_sizes
from concgui.engine.spec import PARAMS, parse_value

# field, bad value, words the message must contain besides the field name and the value
BAD_VALUES = [
    ("tasks", 0, "1 to 1,000,000"),
    ("tasks", -1, "1 to 1,000,000"),
    ("tasks", 10**9, "1 to 1,000,000"),
    ("tasks", 10**400, "1 to 1,000,000"),
    ("tasks", 2.5, "whole number"),
    ("tasks", "3", "whole number"),
    ("tasks", True, "whole number"),
    ("tasks", None, "whole number"),
    ("workers", 0, "1 to 1,024"),
    ("workers", -4, "1 to 1,024"),
    ("workers", 5000, "1 to 1,024"),
    ("duration", math.nan, "0 to 3600"),
    ("duration", -0.5, "0 to 3600"),
    ("duration", math.inf, "0 to 3600"),
    ("size_mb", 0, "0.001 to 4096"),
    ("size_mb", math.nan, "0.001 to 4096"),
    ("cpu_fraction", 1.5, "0 to 1"),
    ("cpu_fraction", -0.1, "0 to 1"),
    ("jitter", 2, "0 to 1"),
    ("jitter", -0.5, "0 to 1"),
    ("seed", -1, "0 to 2,147,483,647"),
    ("chunk_size", 0, "1 to 100,000"),
    ("executor", "nope", "sequential"),
    ("executor", 5, "sequential"),
    ("workload", "nope", "sleep"),
    ("workload", None, "sleep"),
    ("start_method", "vfork", "forkserver"),
    ("isolation", "thread", "inline"),
    ("offload", "yes", "true or false"),
    ("python", 3, "text"),
]


@pytest.mark.parametrize(("field", "value", "allowed"), BAD_VALUES, ids=lambda v: repr(v)[:20])
def test_bad_value_is_refused_naming_field_value_and_what_is_allowed(field, value, allowed):
    with pytest.raises(SpecError) as err:
        ExperimentSpec(**{field: value})
    assert err.value.field == field
    message = str(err.value)
    assert message.startswith(f"{field}: ")
    assert (repr(value) in message or str(value) in message) if value is not None else "missing" in message
    assert allowed in message


@pytest.mark.parametrize(("function", "words"), [("", "empty"), ("   ", "empty"), ("nocolon", "'nocolon'")])
def test_custom_workload_needs_a_function(function, words):
    with pytest.raises(SpecError) as err:
        ExperimentSpec(workload="custom", function=function)
    assert err.value.field == "function"
    assert words in str(err.value)
    assert "module:function" in str(err.value)


def test_a_function_is_not_needed_for_other_workloads():
    assert ExperimentSpec(workload="sleep", function="").function == ""


@pytest.mark.parametrize(("field", "text", "allowed"), [
    ("tasks", "abc", "whole number"),
    ("tasks", "2.5", "whole number"),
    ("tasks", "", "whole number"),
    ("tasks", "nan", "whole number"),
    ("tasks", "1e400", "whole number"),
    ("workers", "abc", "whole number"),
    ("chunk_size", "many", "whole number"),
    ("seed", "x1", "whole number"),
    ("duration", "fast", "a number"),
    ("size_mb", "1,5", "a number"),
    ("jitter", "lots", "a number"),
    ("cpu_fraction", "half", "a number"),
    ("offload", "maybe", "true or false"),
])
def test_text_in_numeric_fields_is_refused(field, text, allowed):
    with pytest.raises(SpecError) as err:
        parse_value(field, text)
    assert err.value.field == field
    assert repr(text.strip()) in str(err.value)
    assert allowed in str(err.value)


def test_parse_value_reads_what_people_type():
    assert parse_value("tasks", " 1_000 ") == 1000
    assert parse_value("tasks", "1e3") == 1000
    assert isinstance(parse_value("tasks", "3"), int)
    assert parse_value("duration", "0.25") == 0.25
    assert parse_value("workers", "") is None
    assert parse_value("start_method", "") is None
    assert parse_value("offload", "yes") is True and parse_value("offload", "off") is False
    assert parse_value("executor", "threads") == "threads"
    # parse_value does not range-check; the spec does, naming the field
    with pytest.raises(SpecError) as err:
        ExperimentSpec(duration=parse_value("duration", "nan"))
    assert err.value.field == "duration"


def test_whole_number_fields_hold_ints_even_when_given_a_whole_float():
    """JSON may write 3.0; the spec must still run (range(3.0) would not)."""
    spec = ExperimentSpec(tasks=3.0, workers=2.0, seed=7.0, chunk_size=1.0, isolation="inline",
                          workload="noop", executor="thread-pool")
    assert (spec.tasks, spec.workers, spec.seed, spec.chunk_size) == (3, 2, 7, 1)
    assert all(type(v) is int for v in (spec.tasks, spec.workers, spec.seed, spec.chunk_size))
    assert run(spec).status == "ok"


def test_every_field_has_a_param_and_defaults_are_valid():
    spec = ExperimentSpec()
    assert set(spec.to_dict()) == set(PARAMS)
    assert spec.workload == "sleep" and spec.executor == "sequential" and spec.tasks == 3
    assert spec.isolation == "process" and spec.workers is None


def test_from_dict_round_trips_and_names_unknown_fields():
    spec = ExperimentSpec(workload="cpu", executor="process-pool", workers=2, jitter=0.5, seed=9)
    assert ExperimentSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    with pytest.raises(SpecError) as err:
        ExperimentSpec.from_dict({"workload": "sleep", "speed": 3})
    assert err.value.field == "speed"
    with pytest.raises(SpecError) as err:
        ExperimentSpec.from_dict([1, 2])
    assert err.value.field == "spec"


def test_default_workers_are_each_executors_own():
    cores = 2
    assert ExperimentSpec(executor="thread-pool").worker_threads(cores) == min(32, cores + 4)
    assert ExperimentSpec(executor="process-pool").worker_threads(cores) == cores
    assert ExperimentSpec(executor="threads", tasks=7).worker_threads(cores) == 7
    assert ExperimentSpec(executor="asyncio", tasks=9).worker_threads(cores) == 9
    assert ExperimentSpec(executor="sequential", workers=5).worker_threads(cores) == 1
    assert ExperimentSpec(executor="thread-pool", workers=3).worker_threads(cores) == 3


def test_the_workers_field_applies_exactly_to_the_executors_that_declare_a_default():
    from concgui.engine.spec import EXECUTOR_KINDS

    takers = {name for name, kind in EXECUTOR_KINDS.items() if kind.takes_workers}
    assert set(PARAMS["workers"].executors) == takers
    assert takers == {"thread-pool", "process-pool", "mp-pool", "joblib", "asyncio", "qt-thread-pool",
                      "interpreter-pool", "dask"}
    for name, kind in EXECUTOR_KINDS.items():  # the help text names every default rule
        assert (f"{name}: {kind.auto_words}" in PARAMS["workers"].help) == kind.takes_workers


def test_executor_only_fields_apply_to_the_executors_that_declare_them():
    assert PARAMS["start_method"].executors == ("process-pool", "processes", "mp-pool")
    assert PARAMS["chunk_size"].executors == ("process-pool", "mp-pool")
    assert PARAMS["backend"].executors == PARAMS["batch_size"].executors == PARAMS["pre_dispatch"].executors == (
        "joblib",)
    assert PARAMS["offload"].executors == ("asyncio",)
    assert PARAMS["threads_per_worker"].executors == PARAMS["tls_key"].executors == ("dask",)
    assert not ExperimentSpec(executor="thread-pool").relevant("start_method")


def test_dask_workers_are_processes_in_the_spec_and_threads_in_the_run():
    local = ExperimentSpec(executor="dask", threads_per_worker=3)
    assert local.auto_workers(4) == 4 and local.worker_threads(4) == 12
    assert local.with_(workers=2).worker_threads(4) == 6
    remote = ExperimentSpec(executor="dask", scheduler="tcp://127.0.0.1:8786", threads_per_worker=3)
    assert remote.auto_workers(4) is None  # all of the scheduler's workers: only it knows how many
    assert remote.with_(workers=5).worker_threads(4) == 5  # its workers' threads are learnt once connected


# --- jitter ---------------------------------------------------------------------------------
def test_jitter_zero_makes_all_tasks_equal():
    assert task_sizes(ExperimentSpec(tasks=5, duration=0.4, jitter=0)) == [0.4] * 5
    assert task_sizes(ExperimentSpec(workload="file-io", tasks=3, size_mb=2.0)) == [2.0] * 3


def test_jitter_is_reproducible_from_the_seed():
    a = task_sizes(ExperimentSpec(tasks=20, duration=1.0, jitter=0.8, seed=1))
    assert a == task_sizes(ExperimentSpec(tasks=20, duration=1.0, jitter=0.8, seed=1))
    assert a != task_sizes(ExperimentSpec(tasks=20, duration=1.0, jitter=0.8, seed=2))
    assert len(set(a)) > 1
    assert all(0.2 - 1e-9 <= s <= 1.8 + 1e-9 for s in a)


def test_jitter_spreads_file_sizes_too():
    sizes = task_sizes(ExperimentSpec(workload="file-io", tasks=10, size_mb=1.0, jitter=1.0, seed=3))
    assert len(set(sizes)) > 1 and all(0 <= s <= 2.0 for s in sizes)


def test_a_jittered_run_uses_the_jittered_sizes():
    spec = ExperimentSpec(executor="sequential", workload="sleep", tasks=4, duration=0.2, jitter=1.0, seed=5,
                          isolation="inline")
    sizes = task_sizes(spec)
    assert max(sizes) - min(sizes) > 0.05
    result = run(spec)
    for t, size in zip(result.tasks, sizes, strict=True):
        assert size - 0.005 <= t.duration <= size + 0.15


# --- calibration ----------------------------------------------------------------------------
def test_calibration_is_measured_once_and_cached_in_the_data_dir(data_dir):
    from concgui.engine import calibration

    (data_dir / "calibration.json").unlink()
    first = calibration.factors()
    assert first["cpu_iterations_per_second"] > 1e5
    assert first["hash_bytes_per_second"] > 1e6
    cached = json.loads((data_dir / "calibration.json").read_text())
    assert list(cached.values()) == [first]
    assert calibration.factors() == first

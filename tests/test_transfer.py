"""Data in, data out: the time a task's argument and result spend travelling (issue 20)."""

from __future__ import annotations

import json

import pytest

from concgui.engine import validate
from concgui.engine.exports import load_csv, save_csv
from concgui.engine.records import RunResult, TaskRecord
from concgui.engine.runner import run_inline
from concgui.engine.spec import MAX_TRANSFER_BYTES, ExperimentSpec, SpecError
from concgui.engine.transfer import check_memory
from concgui.history_store import HistoryStore


def _result() -> RunResult:
    tasks = [TaskRecord(0, "process 1 (pid 10)", 10, 11, 0.0, 0.05, 0.15, 0.1, "ok", None, 0.03, 0.02, 7),
             TaskRecord(1, "process 1 (pid 10)", 10, 11, 0.0, 0.2, 0.3, 0.1, "ok", None, 0.0, 0.0, None)]
    return RunResult(spec={"executor": "process-pool", "workload": "cpu", "tasks": 2}, environment={},
                     wall_seconds=0.3, workers=1, tasks=tasks)


def test_record_fields_round_trip_through_json_history_and_csv(tmp_path):
    result = _result()
    back = validate.run_from_dict(json.loads(json.dumps(result.to_dict())))
    assert back.tasks == result.tasks
    store = HistoryStore(tmp_path / "history.sqlite")
    assert store.load(store.save(result)).tasks == result.tasks
    store.close()
    save_csv(tmp_path / "tasks.csv", result)
    assert load_csv(tmp_path / "tasks.csv") == result.tasks


def test_a_record_from_before_the_fields_reads_with_their_defaults():
    d = _result().to_dict()
    for t in d["tasks"]:
        for key in ("sent_seconds", "returned_seconds", "value"):
            del t[key]
    back = validate.run_from_dict(d)
    assert [(t.sent_seconds, t.returned_seconds, t.value) for t in back.tasks] == [(0.0, 0.0, None)] * 2


def test_a_negative_transfer_time_is_refused_naming_the_field():
    d = _result().to_dict()
    d["tasks"][1]["sent_seconds"] = -1.0
    try:
        validate.run_from_dict(d)
    except ValueError as exc:
        assert "tasks[1].sent_seconds" in str(exc)
    else:
        raise AssertionError("a negative sent_seconds was accepted")


def test_an_argument_the_memory_cannot_hold_is_refused_naming_the_field_and_the_limit():
    spec = ExperimentSpec(workload="noop", executor="process-pool", tasks=8, workers=4, arg_bytes=100_000_000)
    check_memory(spec, 4, available=10**11)  # 13 copies of 100 MB fit in half of 100 GB
    with pytest.raises(SpecError) as refused:
        check_memory(spec, 4, available=2_000_000_000)  # they do not fit in half of 2 GB
    assert refused.value.field == "arg_bytes"
    assert "allowed: 0 to 76,923,076" in str(refused.value) and "half of the 2.0 GB available" in str(refused.value)
    with pytest.raises(SpecError) as refused:
        check_memory(spec.with_(arg_bytes=0, result_bytes=100_000_000), 4, available=2_000_000_000)
    assert refused.value.field == "result_bytes" and "allowed: 0 to 83,333,333" in str(refused.value)


def test_a_run_beyond_the_memory_is_refused_before_it_starts():
    spec = ExperimentSpec(workload="noop", executor="process-pool", tasks=2, workers=512,
                          arg_bytes=MAX_TRANSFER_BYTES, isolation="inline")
    with pytest.raises(SpecError, match=r"^arg_bytes: .* allowed: 0 to "):
        run_inline(spec)

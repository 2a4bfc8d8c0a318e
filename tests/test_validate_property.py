"""Property (issue 18, F6): a real run file changed anywhere either loads as a run every consumer can use, or
is refused in one line naming the file; and the history never stores a run the schema check refuses.

The files are real runs (a cpu run on a thread pool with its CPU samples, X-ray and calibration, and a
custom run where a task raised), changed by hypothesis at one to three places: a value replaced by
another (JSON of any shape, or numbers at the limits), a key deleted or added.
"""

from __future__ import annotations

import copy
import functools
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from concgui.engine import ExperimentSpec, RunResult, run
from concgui.engine.exports import chrome_trace, load_results, save_csv
from concgui.engine.summary import summarize
from concgui.engine.validate import check_run
from concgui.engine.why import explain
from concgui.history import FILE_NAME, HistoryStore, InvalidRun

DATA = Path(__file__).resolve().parent / "data"
EXAMPLES = 150  # each is a file written, loaded, stored and read back: about 3 s in all


@functools.cache
def real_runs() -> tuple[list[dict[str, Any]], list[list[tuple]]]:
    """The runs' JSON and every place in each, made once, when the first example is drawn."""
    cpu = run(ExperimentSpec(workload="cpu", executor="thread-pool", workers=2, tasks=6, duration=0.2,
                             isolation="inline"))
    raised = run(ExperimentSpec(workload="custom", executor="thread-pool", workers=2, tasks=3, isolation="inline",
                                function=f"{DATA / 'custom_tasks.py'}:fail_on_one"))
    assert cpu.cpu_samples and raised.tasks[1].error
    runs = [json.loads(json.dumps(r.to_dict())) for r in (cpu, raised)]
    return runs, [_places(r) for r in runs]


def _places(node: Any, path: tuple = ()) -> list[tuple]:
    """Every place in a run's JSON (a list's first three items stand for the rest)."""
    out = [path]
    items = node.items() if isinstance(node, dict) else enumerate(node[:3]) if isinstance(node, list) else ()
    for key, child in items:
        out += _places(child, (*path, key))
    return out


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))
LIMITS = st.sampled_from([0, -1, 1, 0.5, -0.0, 2**31, 2**63, 2**64, 1e300, -1e300, 1e-300, 100.5, 4097, 1_000_001,
                          32_503_680_001, "", "ok", "error", "running", "nan", [], {}, [1, 2, 3], {"type": "E"}])
VALUES = st.one_of(LIMITS, st.recursive(SCALARS, lambda kids: st.lists(kids, max_size=3)
                                        | st.dictionaries(st.text(max_size=6), kids, max_size=3), max_leaves=6))


@st.composite
def changed_runs(draw) -> dict[str, Any]:
    runs, places = real_runs()
    which = draw(st.integers(0, len(runs) - 1))
    doc = copy.deepcopy(runs[which])
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(places[which]))
        op = draw(st.sampled_from(["replace", "delete", "add"]))
        _change(doc, path, op, draw(VALUES), draw(st.text(min_size=1, max_size=8)))
    return doc


def _change(doc: Any, path: tuple, op: str, value: Any, key: str) -> None:
    parent = doc
    try:
        for step in path[:-1]:
            parent = parent[step]
        if not path:
            if op == "add" and isinstance(doc, dict):
                doc[key] = value
            return
        last = path[-1]
        if op == "replace":
            parent[last] = value
        elif op == "delete":
            del parent[last]
        elif isinstance(parent[last], dict):
            parent[last][key] = value
        elif isinstance(parent[last], list):
            parent[last].append(value)
    except (KeyError, IndexError, TypeError):
        pass  # an earlier change took this place away


@pytest.fixture(scope="module")
def store():
    folder = Path(tempfile.mkdtemp(prefix="concgui-property-"))
    with HistoryStore(folder / FILE_NAME) as s:
        yield s


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=changed_runs())
def test_a_changed_run_file_loads_for_every_consumer_or_is_refused_in_one_line(store, tmp_path, doc):
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(doc))
    try:
        results = load_results(path)
    except ValueError as exc:  # never another exception: the test fails on one
        text = str(exc)
        assert text.startswith("changed.json") and "\n" not in text and len(text) < 400, text
    else:
        for r in results:
            check_run(r)
            summarize(r)  # what the views and the command line make of it
            explain(r)
            chrome_trace(r)
            save_csv(tmp_path / "changed.csv", r)
            back = store.load(store.save(r))
            assert back.to_dict() == r.to_dict()
    _store_unchecked(store, doc)
    assert all(isinstance(row["started_at"], float | int) for row in store.list_runs())


def _store_unchecked(store: HistoryStore, doc: Any) -> None:
    """The history's own door: a run built without the file's check is stored valid, or not at all."""
    try:
        raw = RunResult.from_dict(doc)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return
    before = {row["id"] for row in store.list_runs()}
    try:
        run_id = store.save(raw)
    except InvalidRun as exc:
        assert "\n" not in str(exc)
        assert {row["id"] for row in store.list_runs()} == before, "nothing of a refused run is written"
        return
    check_run(store.load(run_id), positional=False)

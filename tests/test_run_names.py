"""One name per run: the Compare table, the Compare's sentences, a lesson's answer and a preset's note all name a
run through :func:`concgui.engine.metrics.run_label`, with one table of defaults (ExperimentSpec's), so a chunked
process pool is not "chunk 100" in one place and "chunks of 100" in the next."""

from __future__ import annotations

import pytest
from why_support import recorded, sequential

from concgui.engine import ExperimentSpec
from concgui.engine.metrics import COMPARE_COLUMNS, HOW_DEFAULTS, HOW_WORDS, run_label
from concgui.engine.spec import DEFAULT_START_METHOD, PARAMS
from concgui.engine.why_compare import _names
from concgui.gui.lessons_data import label
from concgui.gui.views.experiment_panel import run_words

#: specs that set a how-field away from its default, the one name each gets, and a note's with its 2 workers
NAMED = [
    ({"executor": "process-pool", "workload": "noop", "chunk_size": 100}, "process-pool (chunks of 100)",
     "process-pool (2 workers, chunks of 100)"),
    ({"executor": "process-pool", "workload": "cpu", "start_method": "spawn"}, "process-pool (spawn)",
     "process-pool (2 workers, spawn)"),
    ({"executor": "joblib", "workload": "cpu", "backend": "loky", "batch_size": 8}, "joblib (loky, batches of 8)",
     "joblib (loky, 2 workers, batches of 8)"),
    ({"executor": "joblib", "workload": "cpu", "backend": "loky", "pre_dispatch": "all"},
     "joblib (loky, pre-dispatch all)", "joblib (loky, 2 workers, pre-dispatch all)"),
    ({"executor": "asyncio", "workload": "file-io", "offload": True}, "asyncio (offload)",
     "asyncio (2 workers, offload)"),
]


@pytest.mark.parametrize(("fields", "name", "with_workers"), NAMED, ids=[n for _, n, _ in NAMED])
def test_the_table_the_sentences_the_lessons_and_the_note_name_a_run_alike(fields, name, with_workers):
    run = recorded(fields["executor"], fields["workload"], tasks=4, workers=2, duration=0.01, cpu=0.01,
                   spec={k: v for k, v in fields.items() if k not in ("executor", "workload")})
    assert COMPARE_COLUMNS[0].show(run) == name
    assert label(run) == name
    assert run_words(ExperimentSpec(**fields, tasks=4)) == name  # the form leaves workers empty: none said
    assert run_words(ExperimentSpec(**fields, tasks=4, workers=2)) == with_workers
    twin = recorded(fields["executor"], fields["workload"], tasks=4, workers=2, duration=0.01, cpu=0.01)
    names = _names([sequential(fields["workload"]), twin, run])
    assert names[id(run)] == name, "beside a default twin the sentences say the same words as the table"


def test_defaults_are_the_specs_own_so_an_explicit_default_is_not_named():
    """The defaults come from ExperimentSpec (empty fields: what the form says empty means), not a second copy."""
    spec = ExperimentSpec()
    for key in HOW_WORDS:
        assert HOW_DEFAULTS[key] == (getattr(spec, key) if getattr(spec, key) is not None else PARAMS[key].empty_text)
    assert HOW_DEFAULTS["start_method"] == DEFAULT_START_METHOD and HOW_DEFAULTS["batch_size"] == "auto"
    explicit = {"executor": "process-pool", "workload": "cpu", "chunk_size": 1, "start_method": DEFAULT_START_METHOD}
    assert run_label(explicit) == "process-pool"
    assert run_label({"executor": "joblib", "backend": "loky", "pre_dispatch": "2*n_jobs"}) == "joblib (loky)"


def test_a_counter_run_is_named_with_its_lock_in_the_table_and_the_lessons():
    fields = {"executor": "thread-pool", "workload": "counter", "increments": 10, "lock": True}
    locked = recorded("thread-pool", "counter", tasks=4, workers=4, duration=0.01, cpu=0.01,
                      spec={"increments": 10, "lock": True})
    free = recorded("thread-pool", "counter", tasks=4, workers=4, duration=0.01, cpu=0.01, spec={"increments": 10})
    assert COMPARE_COLUMNS[0].show(locked) == "thread-pool (lock)" == run_label(fields)
    assert label(locked) == "thread-pool (counter, lock)" and label(free) == "thread-pool (counter)"
    assert run_words(ExperimentSpec(**fields, tasks=4, workers=4)) == "thread-pool (4 workers, lock)"
    names = _names([free, locked])
    assert names[id(locked)] == "thread-pool with the lock" and names[id(free)] == "thread-pool without the lock"


def test_twins_that_differ_in_workers_and_chunks_say_both_in_one_order():
    """A Compare's sentences name what differs between two runs of one executor, workers first, as a note does."""
    a = recorded("process-pool", "noop", tasks=8, workers=2, duration=0.01, cpu=0.01, spec={"chunk_size": 4})
    b = recorded("process-pool", "noop", tasks=8, workers=4, duration=0.01, cpu=0.01)
    names = _names([a, b])
    assert names[id(a)] == "process-pool (2 workers, chunks of 4)"
    assert names[id(b)] == "process-pool (4 workers, chunks of 1)"
    same = recorded("process-pool", "noop", tasks=8, workers=2, duration=0.01, cpu=0.01)
    again = recorded("process-pool", "noop", tasks=8, workers=2, duration=0.01, cpu=0.01)
    assert sorted(_names([same, again]).values()) == ["process-pool (run 1)", "process-pool (run 2)"]

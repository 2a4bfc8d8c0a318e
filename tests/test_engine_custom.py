"""Custom task functions: how they are found, called, and how their failures are recorded."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from concgui.engine import ExperimentSpec, SpecError, run

DATA = Path(__file__).resolve().parent / "data"
TASKS_FILE = str(DATA / "custom_tasks.py")


def custom(function: str, **kw) -> ExperimentSpec:
    kw.setdefault("executor", "sequential")
    kw.setdefault("tasks", 3)
    return ExperimentSpec(workload="custom", function=function, isolation="inline", **kw)


def received(out: Path, prefix: str) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith(prefix))


# --- calling ---------------------------------------------------------------------------------
@pytest.mark.parametrize("executor", ["sequential", "threads", "thread-pool", "asyncio"])
def test_module_function_receives_the_task_index(custom_out, executor):
    result = run(custom("custom_tasks:record_index", executor=executor))
    assert result.status == "ok"
    assert [t.status for t in result.tasks] == ["ok"] * 3
    assert received(custom_out, "index-") == ["index-0", "index-1", "index-2"]
    for t in result.tasks:
        index, pid, tid = (custom_out / f"index-{t.index}").read_text().split()
        assert (int(index), int(pid), int(tid)) == (t.index, t.pid, t.thread_id)


def test_file_function_receives_the_task_index(custom_out):
    result = run(custom(f"{TASKS_FILE}:record_index", executor="thread-pool", workers=2))
    assert result.status == "ok"
    assert received(custom_out, "index-") == ["index-0", "index-1", "index-2"]


def test_function_without_parameters_is_called_with_none(custom_out):
    result = run(custom("custom_tasks:record_call", tasks=4))
    assert [t.status for t in result.tasks] == ["ok"] * 4
    calls = received(custom_out, "call-")
    assert len(calls) == 4
    assert all((custom_out / c).read_text().startswith("no argument") for c in calls)


def test_function_with_an_optional_parameter_receives_the_index(custom_out):
    result = run(custom("custom_tasks:optional_index", tasks=2))
    assert result.status == "ok"
    assert [(custom_out / f"optional-{i}").read_text() for i in range(2)] == ["0", "1"]


def test_process_pool_under_fork_runs_a_file_function(custom_out):
    result = run(custom(f"{TASKS_FILE}:record_index", executor="process-pool", workers=2, start_method="fork"))
    assert result.status == "ok", result.error
    assert received(custom_out, "index-") == ["index-0", "index-1", "index-2"]
    pids = {int((custom_out / f"index-{i}").read_text().split()[1]) for i in range(3)}
    assert os.getpid() not in pids


def test_process_pool_under_spawn_resolves_the_function_by_name_in_the_worker(custom_out):
    """A spawned worker is a fresh interpreter: it can only have found the function by its name."""
    result = run(custom("custom_tasks:record_index", executor="process-pool", workers=2, start_method="spawn"))
    assert result.status == "ok", result.error
    assert [t.status for t in result.tasks] == ["ok"] * 3
    for t in result.tasks:
        index, pid, _ = (custom_out / f"index-{t.index}").read_text().split()
        assert int(index) == t.index and int(pid) == t.pid != os.getpid()


def test_file_function_under_forkserver():
    result = run(custom(f"{TASKS_FILE}:record_index", executor="process-pool", workers=2,
                        start_method="forkserver"))
    assert result.status == "ok", result.error
    assert os.getpid() not in {t.pid for t in result.tasks}


# --- failures inside tasks are data ------------------------------------------------------------
@pytest.mark.parametrize("executor", ["sequential", "thread-pool", "process-pool", "asyncio"])
def test_a_raising_task_is_recorded_as_error_and_the_others_run(custom_out, executor):
    result = run(custom("custom_tasks:fail_on_one", executor=executor, workers=2, start_method="fork"))
    assert result.status == "ok", "a task's failure is not the run's failure"
    assert [t.status for t in result.tasks] == ["ok", "error", "ok"]
    err = result.tasks[1].error
    assert err["type"] == "ValueError"
    assert err["message"] == "task 1 went wrong on purpose"
    assert "fail_on_one" in err["traceback"] and "custom_tasks.py" in err["traceback"]
    assert "ValueError: task 1 went wrong on purpose" in err["traceback"]
    assert result.tasks[0].error is None and result.tasks[2].error is None
    assert result.summary["errors"] == 1
    assert result.tasks[1].end is not None and result.tasks[1].start <= result.tasks[1].end


@pytest.mark.parametrize("executor", ["sequential", "threads", "thread-pool", "process-pool", "processes", "asyncio"])
@pytest.mark.parametrize(("function", "error_type", "message"), [
    ("exit_on_one", "SystemExit", "3"),
    ("interrupt_on_one", "KeyboardInterrupt", "pressed inside task 1"),
])
def test_sys_exit_and_keyboard_interrupt_end_only_their_task(custom_out, executor, function, error_type, message):
    result = run(custom(f"custom_tasks:{function}", executor=executor, workers=2, start_method="fork"))
    assert result.status == "ok"
    assert [t.status for t in result.tasks] == ["ok", "error", "ok"]
    assert result.tasks[1].error["type"] == error_type
    assert result.tasks[1].error["message"] == message


# --- a bad function fails before anything runs -------------------------------------------------
def _module(folder: Path, name: str, source: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


@pytest.fixture
def bad_modules(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "mods"
    folder.mkdir()
    _module(folder, "concgui_test_broken_syntax", "def f(:\n    pass\n")
    _module(folder, "concgui_test_raises_on_import", """\
        raise RuntimeError("this module refuses to load")

        def f():
            pass
        """)
    monkeypatch.syspath_prepend(str(folder))
    return folder


@pytest.mark.parametrize(("function", "words"), [
    ("concgui_no_such_module_xyz:fn", "no module named 'concgui_no_such_module_xyz'"),
    ("/no/such/dir/tasks.py:fn", "does not exist"),
    ("custom_tasks:no_such_function", "no attribute 'no_such_function'"),
    ("custom_tasks:NOT_CALLABLE", "not a function"),
    ("custom_tasks:two_args", "2 arguments"),
    ("concgui_test_broken_syntax:f", "SyntaxError"),
    ("{mods}/concgui_test_broken_syntax.py:f", "SyntaxError"),
    ("concgui_test_raises_on_import:f", "this module refuses to load"),
    ("{mods}/concgui_test_raises_on_import.py:f", "this module refuses to load"),
    ("{data}/custom_tasks.py:no_such_function", "no attribute 'no_such_function'"),
])
@pytest.mark.parametrize("executor", ["sequential", "process-pool"])
def test_a_bad_function_is_a_spec_error_before_anything_runs(custom_out, bad_modules, function, words, executor):
    function = function.format(mods=bad_modules, data=DATA)
    events = []
    with pytest.raises(SpecError) as err:
        run(custom(function, executor=executor, start_method="spawn"), on_events=events.extend)
    assert err.value.field == "function"
    assert words in str(err.value)
    assert events == [], "nothing may start when the function cannot be loaded"


def test_a_module_that_failed_to_load_is_not_half_registered(bad_modules):
    import sys

    with pytest.raises(SpecError):
        run(custom(f"{bad_modules}/concgui_test_raises_on_import.py:f"))
    assert not any(name.startswith("concgui_custom_") and getattr(mod, "__file__", "").endswith(
        "concgui_test_raises_on_import.py") for name, mod in list(sys.modules.items()))


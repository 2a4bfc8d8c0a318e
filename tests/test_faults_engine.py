"""Faults in the engine: tasks that raise, crash, hang or never return; bad functions; bad input.

Each test is named for the fault and what must follow.  Real threads, real
processes and real signals throughout; the ``no_leftovers`` fixture (conftest.py)
fails any test that leaves a thread or process behind, so tasks that block are
released at the end of their test (see tests/data/fault_tasks.py).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import faults_support
import psutil
import pytest

import concgui.engine as engine
from concgui.engine import ExperimentSpec, RunFinished, SpecError, run, runner
from concgui.engine.executors.base import STOP_GRACE
from concgui.engine.executors.processes import choose_start_method, foreign_threads
from concgui.engine.spec import PARAMS, WINDOWS_MAX_PROCESS_WORKERS, check_platform, parse_value

DATA = Path(__file__).resolve().parent / "data"
FAULTS = str(DATA / "fault_tasks.py")
CUSTOM = str(DATA / "custom_tasks.py")
ALL_EXECUTORS = ["sequential", "threads", "thread-pool", "process-pool", "processes", "asyncio", "qt-thread-pool"]


def custom(function: str, executor: str = "sequential", **kw) -> ExperimentSpec:
    kw.setdefault("tasks", 3)
    kw.setdefault("isolation", "inline")
    if executor in ("process-pool", "processes"):
        kw.setdefault("start_method", "fork")
    if executor in ("thread-pool", "process-pool", "qt-thread-pool"):
        kw.setdefault("workers", 2)
    return ExperimentSpec(workload="custom", function=function, executor=executor, **kw)


@pytest.fixture
def release(custom_out):
    """Lets every blocked task of the test go at its end (and on failure)."""
    yield custom_out
    (custom_out / "release").write_text("go")


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


# --- a task raises, in every executor ---------------------------------------------------
@pytest.mark.parametrize("executor", ALL_EXECUTORS)
def test_a_raising_task_is_its_own_error_in_every_executor(custom_out, executor):
    result = run(custom(f"{CUSTOM}:fail_on_one", executor))
    assert result.status == "ok"
    assert [t.status for t in result.tasks] == ["ok", "error", "ok"]
    err = result.tasks[1].error
    assert (err["type"], err["message"]) == ("ValueError", "task 1 went wrong on purpose")
    assert "fail_on_one" in err["traceback"] and "custom_tasks.py" in err["traceback"]
    assert result.summary["errors"] == 1


# --- a worker process dies -------------------------------------------------------------
@pytest.mark.parametrize("executor", ["process-pool", "processes"])
def test_a_segfault_fails_the_run_naming_the_signal_and_the_next_run_works(custom_out, executor):
    result = run(custom(f"{FAULTS}:segfault_on_one", executor))
    assert result.status == "failed"
    assert "SIGSEGV" in result.error, result.error
    assert result.tasks[1].status == "error"
    assert all(t.status in ("ok", "error", "cancelled") for t in result.tasks)
    again = run(custom(f"{CUSTOM}:record_index", executor))  # a fresh pool
    assert again.status == "ok" and [t.status for t in again.tasks] == ["ok"] * 3


@pytest.mark.parametrize("isolation", ["inline", "process"])
def test_a_worker_killed_from_outside_fails_the_run_at_once_naming_sigkill(custom_out, isolation):
    spec = custom(f"{FAULTS}:announce_and_sleep", "process-pool", tasks=4, isolation=isolation)
    result, _victim, seconds = faults_support.run_killing_first_worker(spec)
    assert seconds < 5.0, "the death is noticed at once, not when the other tasks end"
    assert result.status == "failed"
    assert "killed by signal 9 (SIGKILL)" in result.error, result.error
    assert any(t.status == "error" for t in result.tasks)
    assert run(custom(f"{CUSTOM}:record_index", "process-pool")).status == "ok"


# --- sys.exit and KeyboardInterrupt are the task's ---------------------------------------
@pytest.mark.parametrize("function", ["exit_on_one", "interrupt_on_one"])
def test_exit_and_interrupt_in_a_qt_pool_task_end_only_that_task(custom_out, function):
    result = run(custom(f"{CUSTOM}:{function}", "qt-thread-pool"))
    assert result.status == "ok"
    assert [t.status for t in result.tasks] == ["ok", "error", "ok"]


# --- what cannot be pickled ------------------------------------------------------------
@pytest.mark.parametrize("executor", ["process-pool", "processes"])
def test_an_unpicklable_result_is_not_sent_back_so_the_task_is_fine(executor):
    result = run(custom(f"{FAULTS}:return_unpicklable", executor))
    assert result.status == "ok" and [t.status for t in result.tasks] == ["ok"] * 3


@pytest.mark.parametrize("executor", ["process-pool", "processes", "thread-pool"])
@pytest.mark.parametrize(("function", "error_type", "words"), [
    ("raise_unpicklable", "UnpicklableError", "task 1 holds a lock"),
    ("raise_broken_str", "BrokenStrError", "could not be made"),
])
def test_an_exception_that_cannot_be_pickled_still_names_itself(executor, function, error_type, words):
    result = run(custom(f"{FAULTS}:{function}", executor, tasks=2))
    assert result.status == "ok", result.error
    for t in result.tasks:
        assert t.status == "error"
        assert t.error["type"] == error_type
        assert words.replace("1", str(t.index)) in t.error["message"]
        assert error_type in t.error["traceback"]


# --- a custom function whose import hangs -----------------------------------------------
def test_an_import_that_hangs_is_given_up_after_the_stated_timeout(tmp_path, custom_out, monkeypatch):
    """Imported first in a fresh interpreter, killed at the deadline: nothing of it stays in this process."""
    name = f"concgui_test_hangs_{os.getpid()}_{time.monotonic_ns()}"
    faults_support.write_hanging_module(tmp_path, name, custom_out / "release")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(runner, "IMPORT_TIMEOUT", 0.5)
    events: list = []
    for ref in (f"{name}:f", f"{tmp_path / name}.py:f", f"{name}:f"):
        t0 = time.monotonic()
        with pytest.raises(SpecError) as err:
            run(custom(ref, "process-pool"), on_events=events.extend)
        assert time.monotonic() - t0 < 3.0
        assert err.value.field == "function"
        assert "did not finish within 0.5 s" in str(err.value)
    assert events == [], "nothing starts"
    assert name not in sys.modules and not [t for t in threading.enumerate() if t.name == "concgui-import"]
    (custom_out / "release").write_text("go")
    assert run(custom(f"{name}:f", tasks=1)).status == "ok", "once it imports, it runs"


def test_the_default_import_timeout_is_ten_seconds():
    assert runner.IMPORT_TIMEOUT == 10.0


# --- a task that never returns; the per-run timeout --------------------------------------
def test_timeout_is_a_spec_field_with_a_range_and_zero_means_none():
    p = PARAMS["timeout"]
    assert (p.kind, p.unit, p.minimum, p.maximum) == (float, "s", 0.0, 86400.0)
    assert ExperimentSpec().timeout == 0.0
    for bad in (-1, 86401, math.nan, math.inf):
        with pytest.raises(SpecError) as err:
            ExperimentSpec(timeout=bad)
        assert err.value.field == "timeout"
    with pytest.raises(SpecError, match="timeout: 'soon' is not a number"):
        parse_value("timeout", "soon")


@pytest.mark.parametrize("executor", ["threads", "thread-pool", "qt-thread-pool", "sequential", "asyncio"])
def test_a_thread_task_that_never_returns_is_abandoned_at_the_timeout(release, executor):
    spec = custom(f"{FAULTS}:block_on_one", executor, tasks=20, timeout=0.5)
    finished = threading.Event()
    box: dict = {}

    def on_events(events):
        for e in events:
            if isinstance(e, RunFinished):
                box["event"] = e.result
                finished.set()

    r = engine.start(spec, on_events)
    worker = threading.Thread(target=lambda: box.setdefault("returned", r.execute()), name="test-run")
    t0 = time.monotonic()
    worker.start()
    assert finished.wait(10), "the run ends even though a task never returns"
    took = time.monotonic() - t0
    result = box["event"]
    assert took < 0.5 + runner.ABANDON_AFTER + 1.0, took
    assert result.status == "failed"
    assert result.error.startswith("timed out: the run passed its 0.5 s timeout")
    assert "1 thread task(s) could not be stopped and were abandoned" in result.error
    stuck = result.tasks[1]
    assert stuck.status == "cancelled" and stuck.error["type"] == "Abandoned"
    assert "cannot be killed" in stuck.error["message"]
    assert result.tasks[0].status == "ok"
    assert all(t.status in ("ok", "cancelled") for t in result.tasks)
    if executor in ("sequential", "asyncio"):  # the stuck task holds the calling thread itself
        assert r.abandoned and worker.is_alive()
    (release / "release").write_text("go")
    worker.join(10)
    assert not worker.is_alive()
    assert box["returned"] is result, "execute() returns the same result once the task lets it"


@pytest.mark.parametrize("executor", ["process-pool", "processes"])
def test_worker_processes_are_killed_and_reaped_at_the_timeout(release, executor):
    spec = custom(f"{FAULTS}:block", executor, tasks=3 if executor == "processes" else 6, timeout=0.8)
    t0 = time.monotonic()
    result = run(spec)
    took = time.monotonic() - t0
    assert took < 0.8 + STOP_GRACE + 3.0, took
    assert result.status == "failed" and "timed out" in result.error
    assert "had their worker process stopped" in result.error
    running = [t for t in result.tasks if t.error and t.error["type"] == "Stopped"]
    assert running, [t.error for t in result.tasks]
    pids = {int((release / f"started-{t.index}").read_text().split()[0]) for t in running}
    assert all(gone(p) for p in pids), "terminated and reaped"
    assert psutil.Process().children() == [] or all(
        p.pid not in pids for p in psutil.Process().children(recursive=True))


@pytest.mark.parametrize("executor", ["thread-pool", "sequential", "process-pool"])
def test_the_engine_process_ends_the_run_and_itself_at_the_timeout(release, executor):
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    spec = custom(f"{FAULTS}:block_on_one", executor, tasks=4, timeout=0.5, isolation="process")
    t0 = time.monotonic()
    result = run(spec)
    took = time.monotonic() - t0
    assert took < 0.5 + runner.ABANDON_AFTER + 2.5, took
    assert result.status == "failed" and result.error.startswith("timed out")
    assert result.tasks[1].error["type"] in ("Abandoned", "Stopped")
    deadline = time.monotonic() + 3
    while {p.pid for p in psutil.Process().children(recursive=True)} - before and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    assert not [p for p in left if "concgui.engine" in " ".join(p.cmdline())], "the engine process exited"


def test_the_command_line_takes_a_timeout_and_exits_1_when_a_run_passes_it(child_env, release):
    proc = subprocess.run([sys.executable, "-m", "concgui", "run", "--workload", "custom", "--function",
                           f"{FAULTS}:block_on_one", "--executor", "thread-pool", "--workers", "2",
                           "--tasks", "3", "--timeout", "0.5"],
                          env=child_env(CONCGUI_TEST_OUT=str(release)), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "timed out: the run passed its 0.5 s timeout" in proc.stdout


# --- input the engine refuses ----------------------------------------------------------
def test_a_process_pool_over_61_workers_is_refused_on_windows_only():
    spec = ExperimentSpec(executor="process-pool", workers=62)
    with pytest.raises(SpecError) as err:
        check_platform(spec, "win32")
    assert err.value.field == "workers"
    assert "62" in str(err.value) and "1 to 61" in str(err.value)
    check_platform(spec.with_(workers=WINDOWS_MAX_PROCESS_WORKERS), "win32")
    check_platform(spec.with_(executor="thread-pool"), "win32")  # threads have no such limit
    check_platform(spec, "linux")
    check_platform(spec, "darwin")
    with pytest.raises(SpecError) as err:
        check_platform(ExperimentSpec(executor="process-pool", start_method="fork"), "win32")
    assert err.value.field == "start_method"


def test_the_default_process_pool_size_stays_under_the_windows_limit(monkeypatch):
    pool = ExperimentSpec(executor="process-pool", tasks=200)
    monkeypatch.setattr(sys, "platform", "win32")
    assert pool.auto_workers(128) == pool.worker_threads(128) == WINDOWS_MAX_PROCESS_WORKERS
    monkeypatch.setattr(sys, "platform", "linux")
    assert pool.auto_workers(128) == 128


@pytest.mark.parametrize(("field", "value"), [
    ("tasks", 0), ("tasks", -3), ("tasks", 10**9), ("workers", 0), ("workers", -1), ("duration", math.nan),
    ("size_mb", math.nan), ("cpu_fraction", math.nan), ("jitter", math.nan), ("timeout", math.nan),
    ("function", "   "),
])
def test_nonsense_input_is_refused_naming_the_field_and_nothing_starts(field, value):
    kw = {"workload": "custom", "function": f"{CUSTOM}:record_index"} if field == "function" else {}
    kw[field] = value
    before = threading.active_count()
    with pytest.raises(SpecError) as err:
        run(ExperimentSpec(**kw))
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")
    assert threading.active_count() == before


# --- fork while other threads run ------------------------------------------------------
def test_fork_is_switched_to_forkserver_where_foreign_threads_run_with_the_reason(custom_out):
    stop = threading.Event()
    stranger = threading.Thread(target=stop.wait, name="someone-elses-thread")
    stranger.start()
    try:
        assert "someone-elses-thread" in foreign_threads()
        result = run(custom(f"{CUSTOM}:record_index", "process-pool"))
    finally:
        stop.set()
        stranger.join()
    assert result.status == "ok"
    assert result.spec["start_method"] == "fork", "the spec keeps what was asked"
    assert result.environment["start_method"] == "forkserver"
    note = result.environment["start_method_note"]
    assert "fork was asked for" in note and "someone-elses-thread" in note and "deadlock" in note
    # the switched workers still see this process's environment, as forked ones would
    assert sorted(p.name for p in custom_out.iterdir()) == ["index-0", "index-1", "index-2"]


def test_a_consumer_on_the_pump_thread_counts_as_foreign_code():
    spec = ExperimentSpec(executor="process-pool", start_method="fork")
    method, note = choose_start_method(spec, foreign_consumer=True)
    assert method == "forkserver" and "event consumer" in note
    assert choose_start_method(spec.with_(start_method="spawn"), foreign_consumer=True) == ("spawn", "")


PROBE = textwrap.dedent("""\
    import json, sys, threading
    from concgui.engine import ExperimentSpec, run
    spec = ExperimentSpec(executor=sys.argv[1], workers=2, start_method="fork", workload="sleep", tasks=2,
                          duration=0.05, isolation=sys.argv[2])
    r = run(spec)
    print(json.dumps([r.status, r.environment["start_method"], r.environment.get("start_method_note")]))
    """)


@pytest.mark.parametrize(("executor", "isolation"), [("process-pool", "inline"), ("processes", "inline"),
                                                      ("process-pool", "process"), ("processes", "process")])
def test_fork_is_used_where_only_concgui_threads_run(child_env, executor, isolation):
    """A plain script, and the engine process (its pump, sampler and stdin threads are ConcGUI's)."""
    import json

    out = subprocess.run([sys.executable, "-c", PROBE, executor, isolation], env=child_env(),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["ok", "fork", None]

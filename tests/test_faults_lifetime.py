"""Processes that outlive what started them, and hangs (issue 18: F2, F3, F11, F13).

A task that holds the GIL in C code stops every Python thread of its process, so no watch written in
Python runs there: these tests kill the engine or the command line while such a task runs and require
every process of the run to be gone within 5 s.  Real processes and signals throughout; every process a
test saw is killed at its end whatever happened, so a failure here does not leave a 30 s regex running.
"""

from __future__ import annotations

import os
import signal
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
from concgui.engine import ExperimentSpec, RunStarted, SpecError, isolation, run, runner

DATA = Path(__file__).resolve().parent / "data"
LIFE = str(DATA / "lifetime_tasks.py")
GONE_WITHIN = 5.0  # the bound, seconds from the kill until every process of the run has ended


def concgui_run(out: Path, child_env, *args: str) -> subprocess.Popen:
    """``concgui run`` of a custom function in lifetime_tasks.py, in the background."""
    return subprocess.Popen([sys.executable, "-m", "concgui", "run", "--workload", "custom", *args],
                            env=child_env(CONCGUI_TEST_OUT=str(out)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def engine_of(proc: subprocess.Popen) -> int:
    return next(p.pid for p in psutil.Process(proc.pid).children() if "concgui.engine" in " ".join(p.cmdline()))


@pytest.fixture
def watched():
    """A set to put every pid a test sees in: whatever still runs at the end is killed."""
    pids: set[int] = set()
    yield pids
    faults_support.kill_all(pids)


# --- F2: a task holding the GIL, and the process above it killed -----------------------------------
@pytest.mark.parametrize(("executor", "start_method"), [("process-pool", "forkserver"), ("process-pool", "fork"),
                                                        ("process-pool", "spawn"), ("processes", "forkserver"),
                                                        ("mp-pool", "forkserver"), ("dask", "")])
def test_a_killed_engine_takes_workers_that_hold_the_gil_with_it(tmp_path, child_env, watched, executor,
                                                                  start_method):
    if executor == "dask":
        pytest.importorskip("distributed")
    how = ["--start-method", start_method] if start_method else ["--threads-per-worker", "1"]
    proc = concgui_run(tmp_path, child_env, "--function", f"{LIFE}:hold_gil", "--executor", executor,
                       "--workers", "2", "--tasks", "2", *how)
    watched.add(proc.pid)
    workers = faults_support.wait_for_notes(tmp_path, "gil", 2, proc)
    time.sleep(0.3)  # the regex has the GIL now
    tree = faults_support.descendants(proc.pid)
    watched.update(tree)
    assert set(workers) <= tree
    os.kill(engine_of(proc), signal.SIGKILL)
    left, took = faults_support.wait_gone(tree, GONE_WITHIN)
    assert not left, f"alive {took:.1f} s after the engine's kill: {faults_support.describe(left)}"
    _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 1
    assert "killed by signal 9 (SIGKILL)" in err, err
    assert "resource_tracker" not in err and "leaked" not in err, "the tracker's clean-up is not the engine's"


def test_a_killed_command_line_takes_its_engine_with_it_while_a_thread_holds_the_gil(tmp_path, child_env, watched):
    proc = concgui_run(tmp_path, child_env, "--function", f"{LIFE}:hold_gil", "--executor", "thread-pool",
                       "--workers", "2", "--tasks", "2")
    watched.add(proc.pid)
    faults_support.wait_for_notes(tmp_path, "gil", 1, proc)
    time.sleep(0.3)
    tree = faults_support.descendants(proc.pid)
    watched.update(tree)
    assert tree, "the engine runs"
    proc.kill()
    proc.communicate()
    left, took = faults_support.wait_gone(tree, GONE_WITHIN)
    assert not left, f"alive {took:.1f} s after the command line's kill: {faults_support.describe(left)}"


# --- F11: what tasks and interpreters start, and never end -----------------------------------------
def test_a_task_forking_on_threads_does_not_keep_the_run_waiting(tmp_path, custom_out, watched):
    spec = ExperimentSpec(workload="custom", function=f"{LIFE}:fork_a_sleeper", executor="thread-pool", workers=2,
                          tasks=2, isolation="process")
    t0 = time.monotonic()
    result = run(spec)
    took = time.monotonic() - t0
    children = set(faults_support.wait_for_notes(custom_out, "child", 2))
    watched.update(children)
    assert result.status == "ok", result.error
    assert took < 10.0, f"the run took {took:.1f} s: it waited for the forked children (60 s)"
    left, _ = faults_support.wait_gone(children, 2.0)
    assert not left, "the run's end killed what its tasks started"


@pytest.mark.parametrize("isolation", ["inline", "process"])
def test_what_worker_processes_started_ends_with_the_run(tmp_path, custom_out, watched, isolation):
    # inline: fork, which becomes forkserver with this environment where threads run; a forkserver started
    # by an earlier test would give its workers that test's CONCGUI_TEST_OUT
    spec = ExperimentSpec(workload="custom", function=f"{LIFE}:fork_a_sleeper", executor="process-pool", workers=2,
                          tasks=2, isolation=isolation, start_method="fork" if isolation == "inline" else "forkserver")
    result = run(spec)
    children = set(faults_support.wait_for_notes(custom_out, "child", 2))
    watched.update(children)
    assert result.status == "ok", result.error
    left, _ = faults_support.wait_gone(children, 2.0)
    assert not left, f"outlived the run: {faults_support.describe(left)}"


def test_an_interpreter_that_never_starts_the_engine_is_killed_with_what_it_started(tmp_path, monkeypatch, watched):
    script = tmp_path / "python-that-sleeps"
    script.write_text(f"#!/bin/sh\necho $$ > {tmp_path}/shell\nsleep 600\n")
    script.chmod(0o755)
    monkeypatch.setattr(isolation, "START_TIMEOUT", 1.5)
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match=r"did not start within 1\.5 s") as err:
        engine.start(ExperimentSpec(workload="sleep", tasks=1, duration=0.01, python=str(script))).execute()
    took = time.monotonic() - t0
    assert took < 1.5 + 3.0, took
    assert "python-that-sleeps" in str(err.value)
    shell = int((tmp_path / "shell").read_text())
    sleepers = {p.pid for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "600"]
                and p.ppid() in (shell, 1)}
    watched.update(sleepers | {shell})
    left, _ = faults_support.wait_gone(sleepers | {shell}, 2.0)
    assert not left, "the sleep the script started went with it"


# --- F3: an import that holds the GIL --------------------------------------------------------------
def gil_module(folder: Path) -> str:
    """A module whose import holds the GIL for some 30 s; its function reference."""
    (folder / "holds_gil_on_import.py").write_text(textwrap.dedent(f"""\
        import re
        re.fullmatch(r"(a+)+b", "a" * {os.environ.get("CONCGUI_GIL_CHARS", "30")})

        def f():
            pass
        """))
    return f"{folder / 'holds_gil_on_import.py'}:f"


def test_an_import_holding_the_gil_is_refused_at_the_promised_ten_seconds_in_the_engine(tmp_path, watched):
    before = faults_support.descendants(os.getpid())
    t0 = time.monotonic()
    with pytest.raises(SpecError) as err:
        run(ExperimentSpec(workload="custom", function=gil_module(tmp_path), isolation="process"))
    took = time.monotonic() - t0
    watched.update(faults_support.descendants(os.getpid()) - before)
    assert err.value.field == "function"
    assert "importing it did not finish within 10 s" in str(err.value)
    assert 9.5 < took < 13.0, f"refused after {took:.1f} s"


def test_an_import_holding_the_gil_is_refused_in_time_inline(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "IMPORT_TIMEOUT", 1.0)
    t0 = time.monotonic()
    with pytest.raises(SpecError, match=r"importing it did not finish within 1 s"):
        run(ExperimentSpec(workload="custom", function=gil_module(tmp_path), isolation="inline"))
    took = time.monotonic() - t0
    assert took < 1.0 + 3.0, f"refused after {took:.1f} s"


# --- F13: a Stop that has to kill ---------------------------------------------------------------------
@pytest.mark.parametrize("executor", ["processes", "process-pool"])
def test_a_stop_of_tasks_ignoring_sigterm_is_a_stop_saying_how_they_ended(custom_out, watched, executor):
    spec = ExperimentSpec(workload="custom", function=f"{LIFE}:ignore_sigterm", executor=executor, workers=2,
                          tasks=2, isolation="process", start_method="forkserver")
    r = engine.start(spec)
    stopper = threading.Thread(target=lambda: (faults_support.wait_for_notes(custom_out, "stubborn", 2),
                                               time.sleep(0.2), r.cancel()), name="test-stop")
    stopper.start()
    t0 = time.monotonic()
    try:
        result = r.execute()
    finally:
        stopper.join(60)
    took = time.monotonic() - t0
    watched.update(faults_support.wait_for_notes(custom_out, "stubborn", 2))
    assert result.status == "cancelled", result.error
    assert "2 worker processes ignored SIGTERM and were killed (SIGKILL)" in result.error
    assert all("ignored SIGTERM" in t.error["message"] for t in result.tasks), "each stopped task says how"
    assert took < 30, took
    left, _ = faults_support.wait_gone(watched, 2.0)
    assert not left


def test_ctrl_c_on_tasks_ignoring_sigterm_is_a_stop_not_a_failed_engine(tmp_path, child_env, watched):
    proc = concgui_run(tmp_path, child_env, "--function", f"{LIFE}:ignore_sigterm", "--executor", "processes",
                       "--tasks", "2")
    watched.add(proc.pid)
    watched.update(faults_support.wait_for_notes(tmp_path, "stubborn", 2, proc))
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert "— cancelled" in out and "ignored SIGTERM and were killed (SIGKILL)" in out, out
    assert "engine process failed" not in out + err, err


def test_a_stop_the_engine_cannot_hear_kills_it_and_is_still_a_stop(custom_out, watched):
    """A task holding the GIL on thread-pool: no thread of the engine can answer, so it is killed."""
    seen: list[RunStarted] = []
    spec = ExperimentSpec(workload="custom", function=f"{LIFE}:hold_gil", executor="thread-pool", workers=2,
                          tasks=3, isolation="process")
    r = engine.start(spec, lambda events: seen.extend(e for e in events if isinstance(e, RunStarted)))
    stopper = threading.Thread(target=lambda: (faults_support.wait_for_notes(custom_out, "gil", 1),
                                               time.sleep(0.3), r.cancel()), name="test-stop")
    stopper.start()
    t0 = time.monotonic()
    try:
        result = r.execute()
    finally:
        stopper.join(60)
    took = time.monotonic() - t0
    watched.update(faults_support.wait_for_notes(custom_out, "gil", 1))
    assert result.status == "cancelled"
    assert "did not answer the Stop" in result.error and "GIL" in result.error
    assert took < 15, took
    assert [t.status for t in result.tasks].count("cancelled") == 3
    assert seen and result.spec["executor"] == "thread-pool"


# --- F9: SIGTERM with an error box open ---------------------------------------------------------------
BOX_SCRIPT = faults_support.BOX_SCRIPT


def test_sigterm_ends_the_app_while_an_unexpected_error_box_is_open(tmp_path, child_env):
    proc = subprocess.Popen([sys.executable, "-c", BOX_SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=child_env(QT_QPA_PLATFORM="offscreen", CONCGUI_DATA_DIR=str(tmp_path / "d"),
                                                     XDG_CONFIG_HOME=str(tmp_path / "config")))
    try:
        assert proc.stdout.readline().strip() == "box shown", proc.stderr.read()[-2000:]
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == 0
    assert took < 3.0, f"the app ended {took:.1f} s after SIGTERM"


# --- the window's own helper processes -----------------------------------------------------------------
def test_the_interpreter_probe_kills_what_a_script_posing_as_python_started(qtbot, tmp_path, watched):
    from concgui.gui.interpreter_probe import InterpreterProbe

    script = tmp_path / "python-that-sleeps"
    script.write_text(f"#!/bin/sh\necho $$ > {tmp_path}/shell\nsleep 600\n")
    script.chmod(0o755)
    probe = InterpreterProbe(timeout_ms=1000)
    with qtbot.waitSignal(probe.finished, timeout=10_000) as answer:
        probe.start(str(script))
    assert "did not answer within 1 s" in answer.args[0]["problem"]
    shell = int((tmp_path / "shell").read_text())
    sleepers = {p.pid for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "600"]
                and p.ppid() in (shell, 1)}
    watched.update(sleepers)
    left, _ = faults_support.wait_gone(sleepers | {shell}, 2.0)
    assert not left, "the probe's whole process group went"


def test_the_function_check_gives_up_on_an_import_holding_the_gil_at_its_limit(qtbot, tmp_path):
    from concgui.gui.function_check import FunctionCheck

    check = FunctionCheck(timeout_ms=1500)
    t0 = time.monotonic()
    with qtbot.waitSignal(check.finished, timeout=15_000) as answer:
        check.start((gil_module(tmp_path), "", False))
    took = time.monotonic() - t0
    assert "importing it did not finish within 1.5 s" in answer.args[0]["problem"]
    assert took < 1.5 + 5.0, took

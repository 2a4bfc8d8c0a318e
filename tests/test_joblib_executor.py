"""joblib as an executor, on each backend: it runs, streams, fails, stops and loses a worker as the pools do;
loky's reuse and auto-batching are measured and said.

Real loky worker processes, real threads, real signals.  The ``no_leftovers`` fixture (conftest.py) ends
loky's kept workers after each test and then fails any that is left.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import faults_support
import psutil
import pytest
from PySide6.QtWidgets import QLabel

import concgui.engine as engine
from concgui.engine import ExperimentSpec, SpecError, TaskFinished, TaskStarted, run
from concgui.engine.why import why_run

DATA = Path(__file__).resolve().parent / "data"
CUSTOM = str(DATA / "custom_tasks.py")
FAULTS = str(DATA / "fault_tasks.py")
ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["loky", "threading", "multiprocessing"]
PROCESS_BACKENDS = ["loky", "multiprocessing"]
CANCEL_LIMIT = 2.0


def joblib(backend: str = "loky", **kw) -> ExperimentSpec:
    kw = {"isolation": "inline", "workers": 2, "workload": "sleep", "tasks": 4, "duration": 0.05, **kw}
    return ExperimentSpec(executor="joblib", backend=backend, **kw)


def batch_of(result) -> dict[int, int]:
    """Task index -> number of the batch joblib sent it in, from the result's run-length batch sizes."""
    out, task, batch = {}, 0, 0
    for size, n in result.environment["joblib"]["batches"]:
        for _ in range(n):
            for i in range(task, task + size):
                out[i] = batch
            task, batch = task + size, batch + 1
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_backend_runs_on_its_own_lanes_and_streams_tasks_before_the_run_ends(backend):
    got: list[tuple[float, object]] = []
    result = run(joblib(backend, tasks=6, duration=0.3), on_events=lambda b: got.extend((time.monotonic(), e)
                                                                                      for e in b))
    ended = time.monotonic()
    assert result.status == "ok", result.error
    assert [t.status for t in result.tasks] == ["ok"] * 6
    assert all(t.submitted is not None and t.submitted <= t.start + 0.01 < t.end for t in result.tasks)
    pids, lanes = {t.pid for t in result.tasks}, {t.worker for t in result.tasks}
    if backend in PROCESS_BACKENDS:
        assert os.getpid() not in pids and len(pids) == 2, "two worker processes of joblib's"
        assert all(t.worker.startswith("process ") and t.worker.endswith(f"(pid {t.pid})") for t in result.tasks)
    else:
        assert pids == {os.getpid()} and len(lanes) == 2 and all(w.startswith("thread ") for w in lanes)
        assert threading.get_native_id() not in {t.thread_id for t in result.tasks}
    first = min(at for at, e in got if isinstance(e, TaskFinished))
    assert ended - first > 0.25, "three rounds of 0.3 s: the first tasks arrive while the others still run"
    info = result.environment["joblib"]
    assert (info["backend"], info["n_jobs"], info["batch_size"]) == (backend, 2, "auto")
    assert sum(size * n for size, n in info["batches"]) == 6


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_task_that_raises_is_its_own_error_and_the_run_goes_on(custom_out, backend):
    result = run(joblib(backend, workload="custom", function=f"{CUSTOM}:fail_on_one", tasks=3))
    assert result.status == "ok", result.error
    assert [t.status for t in result.tasks] == ["ok", "error", "ok"]
    assert (result.tasks[1].error["type"], result.tasks[1].error["message"]) == (
        "ValueError", "task 1 went wrong on purpose")
    assert "fail_on_one" in result.tasks[1].error["traceback"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_custom_function_is_called_with_each_index_where_the_record_says(tmp_path, backend):
    # the folder is in the function's text: a forkserver's workers keep the environment it started with
    (tmp_path / "where.py").write_text(
        "import os, threading\n"
        "def record(index):\n"
        f"    with open(os.path.join({str(tmp_path)!r}, f'index-{{index}}'), 'w') as f:\n"
        "        f.write(f'{index} {os.getpid()} {threading.get_native_id()}')\n")
    result = run(joblib(backend, workload="custom", function=f"{tmp_path / 'where.py'}:record", tasks=5))
    assert result.status == "ok", result.error
    assert [t.status for t in result.tasks] == ["ok"] * 5, "every finish reached the run, the last ones too"
    for t in result.tasks:
        index, pid, tid = map(int, (tmp_path / f"index-{t.index}").read_text().split())
        assert (index, pid, tid) == (t.index, t.pid, t.thread_id), result.tasks


@pytest.mark.parametrize("backend", BACKENDS)
def test_stop_drops_the_queued_tasks_and_ends_the_running_ones_within_two_seconds(backend):
    first = threading.Event()
    r = engine.start(joblib(backend, tasks=200, duration=5.0),
                     lambda b: any(isinstance(e, TaskStarted) for e in b) and first.set())
    stopped_at: list[float] = []

    def stop() -> None:
        first.wait(60)
        time.sleep(0.3)
        stopped_at.append(time.monotonic())
        r.cancel()

    stopper = threading.Thread(target=stop, name="test-stopper")
    stopper.start()
    try:
        result = r.execute()
        took = time.monotonic() - stopped_at[0]
    finally:
        first.set()
        stopper.join()
    assert took < CANCEL_LIMIT, f"Stop took {took:.2f} s"
    assert result.status == "cancelled"
    assert [t.status for t in result.tasks] == ["cancelled"] * 200
    assert sum(t.start is not None for t in result.tasks) <= 2, "only the two running tasks had started"
    if backend in PROCESS_BACKENDS:
        workers = {t.pid for t in result.tasks if t.pid}
        left, _ = faults_support.wait_gone(workers, 3.0)
        assert not left, f"worker processes outlived the Stop: {faults_support.describe(left)}"


@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_a_killed_worker_fails_the_run_at_once_naming_the_signal_and_the_next_run_works(custom_out, backend):
    spec = joblib(backend, workload="custom", function=f"{FAULTS}:announce_and_sleep", tasks=4)
    result, victim, seconds = faults_support.run_killing_first_worker(spec)
    assert victim and seconds < 5.0, "the death is noticed at once, not when the other tasks end"
    assert result.status == "failed"
    assert "a worker process died (killed by signal 9 (SIGKILL))" in result.error, result.error
    lost = [t for t in result.tasks if t.status == "error"]
    assert lost and victim in {t.pid for t in lost}, [(t.pid, t.status) for t in result.tasks]
    if backend == "loky":
        assert "TerminatedWorkerError" in result.error and lost[0].error["type"] == "TerminatedWorkerError"
    again = run(joblib(backend))
    assert again.status == "ok" and victim not in {t.pid for t in again.tasks}


def test_a_second_loky_run_reuses_the_workers_and_its_start_up_is_near_zero():
    cold = run(joblib("loky", workload="noop"))
    warm = run(joblib("loky", workload="noop"))
    assert cold.status == warm.status == "ok"
    c, w = cold.environment["joblib"], warm.environment["joblib"]
    assert not c["reused_from_earlier_run"] and w["reused_from_earlier_run"]
    assert w["worker_pids"] == c["worker_pids"]
    # a few noop tasks may all land on one of the reused workers
    assert {t.pid for t in warm.tasks} <= set(w["worker_pids"])
    assert warm.startup_seconds < cold.startup_seconds / 2, (cold.startup_seconds, warm.startup_seconds)
    assert c["reused_call_seconds"] < c["first_call_seconds"], "even the first run shows what reuse costs"
    assert "loky started 2 worker processes" in why_run(cold)
    assert "loky reused the 2 worker processes an earlier run in this process had started" in why_run(warm)


def test_auto_batching_sends_growing_batches_run_back_to_back_on_one_worker():
    result = run(joblib("loky", workload="noop", tasks=3000))
    assert result.status == "ok", result.error
    sizes = [size for size, _ in result.environment["joblib"]["batches"]]
    assert sizes[0] == 1 and max(sizes) >= 8, sizes
    batch = batch_of(result)
    assert sorted(batch) == list(range(3000))
    by_batch: dict[int, list] = {}
    for t in result.tasks:
        by_batch.setdefault(batch[t.index], []).append(t)
    for tasks in by_batch.values():
        assert len({(t.pid, t.thread_id) for t in tasks}) == 1, "a batch runs on one worker"
        assert all(a.end <= b.start for a, b in zip(tasks, tasks[1:], strict=False)), "in order, back to back"
    assert f"joblib sent the 3,000 tasks in {len(by_batch):,} batches (auto-batching chose: " in why_run(result)


def test_a_fixed_batch_size_and_pre_dispatch_are_what_joblib_uses():
    result = run(joblib("loky", workload="noop", tasks=20, batch_size=5, pre_dispatch="all"))
    assert result.status == "ok", result.error
    info = result.environment["joblib"]
    assert (info["batch_size"], info["pre_dispatch"], info["batches"]) == (5, "all", [[5, 4]])
    assert "joblib sent the 20 tasks in 4 batches (batch_size set: 4 of 5)" in why_run(result)


@pytest.mark.parametrize(("field", "value"), [("pre_dispatch", "0*n_jobs"), ("pre_dispatch", "n_jobs+1"),
                                              ("pre_dispatch", "0"), ("batch_size", 0), ("backend", "dask")])
def test_the_spec_refuses_what_joblib_would_not_take_naming_the_field(field, value):
    with pytest.raises(SpecError) as err:
        joblib(**{field: value})
    assert err.value.field == field


def test_one_job_is_run_by_joblib_itself_in_the_calling_thread_and_says_so():
    result = run(joblib("loky", workers=1, tasks=3))
    assert result.status == "ok", result.error
    assert {t.pid for t in result.tasks} == {os.getpid()}
    assert "With n_jobs=1 joblib ran the tasks itself" in why_run(result)


def test_a_loky_run_in_the_engine_process_leaves_no_worker_behind():
    result = run(joblib("loky", isolation="process", tasks=4))
    assert result.status == "ok", result.error
    workers = {t.pid for t in result.tasks}
    assert len(workers) == 2 and os.getpid() not in workers
    left, _ = faults_support.wait_gone(workers, 5.0)
    assert not left, f"loky workers outlived their engine process: {faults_support.describe(left)}"


def test_no_process_is_left_when_the_app_running_loky_is_killed(child_env):
    """The window's default path: the engine process owns loky's workers; SIGKILL the app mid-run."""
    script = ("from concgui.engine import ExperimentSpec, TaskStarted, run\n"
              "def on(events):\n"
              "    if any(isinstance(e, TaskStarted) for e in events):\n"
              "        print('started', flush=True)\n"
              "if __name__ == '__main__':\n"
              "    run(ExperimentSpec(executor='joblib', workload='sleep', tasks=50, duration=5, workers=2), on)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=child_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    tree: set[int] = set()
    try:
        assert proc.stdout.readline().strip() == "started", "the joblib run never started a task"
        tree = {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
        assert len(tree) >= 3, "an engine process and two loky workers"
        proc.kill()
        proc.wait(5)
        left, _ = faults_support.wait_gone(tree, 5.0)
        assert not left, f"processes outlived the killed app: {faults_support.describe(left)}"
    finally:
        faults_support.kill_all(tree)
        proc.stdout.close()


def test_a_killed_app_takes_loky_workers_that_hold_the_gil_with_it(tmp_path, child_env):
    """The command line is killed, then (by the kernel) its engine: nobody is left to kill the engine's process
    group, and no thread of a worker whose task holds the GIL runs. The kernel's watch must end the workers."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the kernel's watch of a parent (PR_SET_PDEATHSIG) is Linux's")
    proc = subprocess.Popen([sys.executable, "-m", "concgui", "run", "--workload", "custom", "--executor", "joblib",
                             "--function", f"{DATA / 'lifetime_tasks.py'}:hold_gil", "--workers", "2", "--tasks", "2"],
                            env=child_env(CONCGUI_TEST_OUT=str(tmp_path)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    tree: set[int] = {proc.pid}
    try:
        workers = faults_support.wait_for_notes(tmp_path, "gil", 2, proc)
        time.sleep(0.3)  # the regex has the GIL now
        tree |= faults_support.descendants(proc.pid)
        assert set(workers) <= tree
        proc.kill()
        proc.wait(5)
        left, took = faults_support.wait_gone(tree, 5.0)
        assert not left, f"alive {took:.1f} s after the app's kill: {faults_support.describe(left)}"
    finally:
        faults_support.kill_all(tree)


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_the_form_shows_joblibs_fields_and_what_its_backend_means_only_for_joblib(qtbot):
    from concgui.gui.views.form import ExperimentForm

    form = ExperimentForm()
    qtbot.addWidget(form)
    form.resize(320, 700)
    form.show()
    form.set_spec(ExperimentSpec(executor="joblib", backend="threading"))
    note = form.findChild(QLabel, "about_backend")
    assert all(form.fields[n].row.isVisible() for n in ("backend", "batch_size", "pre_dispatch"))
    assert note.isVisible() and "one GIL shared by all" in note.text()
    assert form.spec().backend == "threading"
    form.set_spec(ExperimentSpec(executor="process-pool"))
    assert not any(form.fields[n].row.isVisible() for n in ("backend", "batch_size", "pre_dispatch"))
    assert not note.isVisible(), "a hidden field's note is hidden with it"
    form.shutdown()


def test_a_joblib_run_is_named_with_its_backend_on_the_command_line_and_in_the_history(child_env, qtbot, tmp_path):
    from concgui.engine.records import RunResult
    from concgui.gui.views.history_view import HistoryModel
    from concgui.history import HistoryStore

    proc = subprocess.run([sys.executable, "-m", "concgui", "run", "--executor", "joblib", "--backend", "threading",
                           "--workload", "noop", "--tasks", "2", "--echo", "--no-history"],
                          capture_output=True, text=True, env=child_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "— noop × 2 on joblib (threading), " in proc.stdout  # the echo's header
    assert "noop × 2 on joblib (threading) (" in proc.stdout  # the summary's
    model = HistoryModel()
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        for spec in ({"workload": "noop", "executor": "joblib", "tasks": 1, "backend": "threading"},
                     {"workload": "noop", "executor": "joblib", "tasks": 1},  # a file from before the field
                     {"workload": "noop", "executor": "threads", "tasks": 1}):
            store.save(RunResult(spec=spec, environment={}, wall_seconds=0.1, started_at=1000.0 + len(spec)))
        model.set_rows(store.list_runs())
    names = sorted(model.index(row, 2).data() for row in range(model.rowCount()))
    assert names == ["joblib (loky)", "joblib (threading)", "threads"]


def test_a_scaling_study_of_joblib_names_its_backend_in_the_table():
    from concgui.cli.tables import format_sweep
    from concgui.engine.sweep import SweepPoint, SweepResult
    from concgui.notebook.tables import sweep_html

    sweep = SweepResult(ExperimentSpec(executor="joblib", backend="threading").to_dict(), ["joblib", "threads"],
                        [1, 2], 1, cores=2)
    sweep.points += [SweepPoint(e, n, 0, 2.0 / n, 0.1, "ok") for e in ("joblib", "threads") for n in (1, 2)]
    assert sweep.label("joblib") == "joblib (threading)" and sweep.label("threads") == "threads"
    rows = format_sweep(sweep).splitlines()
    assert rows[1].startswith("joblib (threading) ") and rows[3].startswith("threads ")
    assert ">joblib (threading)</td>" in sweep_html(sweep)  # the notebook's table
    sweep.points.append(SweepPoint("joblib", 2, 1, 0.25, 0.1, "ok"))  # walls 1 and 0.25 s: median 0.625 s
    (flag,) = sweep.superlinear()  # 2 s at 1 worker / 0.625 s: 3.2× on 2 workers
    assert flag.sentence().startswith("joblib (threading): 3.20× with 2 workers"), flag.sentence()


def test_concgui_sweep_names_joblibs_backend_as_it_goes(child_env):
    proc = subprocess.run([sys.executable, "-m", "concgui", "sweep", "--executors", "joblib,thread-pool", "--backend",
                           "threading", "--workload", "noop", "--tasks", "2", "--max-workers", "1", "--repeats", "1"],
                          capture_output=True, text=True, env=child_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "on joblib (threading), thread-pool;" in lines[0]
    assert "] joblib (threading) " in lines[1] and "] thread-pool " in lines[2]


def test_a_cold_loky_start_in_the_engine_process_says_the_app_never_reuses_workers_across_runs():
    """Each run in the app has an engine process, so loky's reuse across runs never shows there; the run's why
    says so, and where it does show. An inline cold start (runs can share the process) does not."""
    from concgui.engine.executors.joblib_backend import joblib_sentence

    clause = ("but a run in an engine process of its own (the app's way) always gets fresh workers: reuse across "
              "runs shows only with isolation inline, where runs share a process (in the app, the notebook or the "
              "Python API)")
    engine_run = run(joblib("loky", workload="noop", isolation="process"))
    inline_run = run(joblib("loky", workload="noop"))
    assert engine_run.status == inline_run.status == "ok"
    assert engine_run.environment["joblib"]["engine_process"] and not inline_run.environment["joblib"]["engine_process"]
    assert not engine_run.environment["joblib"]["reused_from_earlier_run"]
    assert clause in why_run(engine_run) and "loky started 2 worker processes in " in why_run(engine_run)
    assert clause not in why_run(inline_run)
    cold = {"backend": "loky", "first_call_seconds": 0.8, "reused_call_seconds": 0.01, "worker_pids": [1, 2],
            "reused_from_earlier_run": False, "engine_process": True}
    assert joblib_sentence(cold) == ("loky started 2 worker processes in 800.0 ms; it keeps them for the next "
                                     f"call, which started in 10.0 ms, {clause}.")
    assert clause not in joblib_sentence({**cold, "engine_process": False})
    assert clause not in joblib_sentence({k: v for k, v in cold.items() if k != "engine_process"})  # older results


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_the_command_line_help_says_what_each_backend_does_in_the_spec_s_words(command, capsys):
    from concgui.cli import build_parser
    from concgui.engine.spec import JOBLIB_BACKEND_HELP

    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    lines = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("--backend VALUE"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("--"))
    text = " ".join(" ".join(lines[start:end]).split())
    for backend, meaning in JOBLIB_BACKEND_HELP.items():
        assert f"{backend}: {meaning}" in text, (backend, text)
    starts = [line.split(":")[0].strip() for line in lines[start + 1:end] if ":" in line]
    assert [b for b in starts if b in JOBLIB_BACKEND_HELP] == list(JOBLIB_BACKEND_HELP), "a line each"

"""The ``concgui`` command line, run as people run it: a separate Python process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from concgui import __version__

REPO = Path(__file__).resolve().parent.parent


def concgui(child_env, *args: str, cwd: Path = REPO, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "concgui", *args], capture_output=True, text=True,
                          env=child_env(), cwd=cwd, timeout=timeout)


def test_version(child_env, tmp_path):
    proc = concgui(child_env, "--version", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"ConcGUI {__version__}"


def test_main_py_does_the_same(child_env):
    proc = subprocess.run([sys.executable, "main.py", "--version"], capture_output=True, text=True,
                          env=child_env(), cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"ConcGUI {__version__}"


def test_executors_lists_every_executor_with_its_availability(child_env):
    from concgui.engine.spec import EXECUTORS

    proc = concgui(child_env, "executors")
    assert proc.returncode == 0, proc.stderr
    lines = {line.split()[0]: line for line in proc.stdout.splitlines() if line.strip()}
    assert set(EXECUTORS) <= set(lines)
    if sys.version_info < (3, 14):
        assert "unavailable" in lines["interpreter-pool"] and "3.14" in lines["interpreter-pool"]
    assert "unavailable" not in lines["thread-pool"]


def test_run_echo_prints_the_seed_notebooks_lines(child_env):
    proc = concgui(child_env, "run", "--executor", "threads", "--workload", "sleep", "--tasks", "3",
                   "--duration", "0.2", "--echo")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    for i in range(3):
        assert f"Task {i} started" in out and f"Task {i} finished" in out
        assert out.index(f"Task {i} started") < out.index(f"Task {i} finished")
    assert "All tasks done" in out
    assert max(out.index(f"Task {i} finished") for i in range(3)) < out.index("All tasks done")
    assert any(line.startswith("Time to finish the tasks:") for line in out)
    assert "concurrency" in proc.stdout.lower() and "parallelism" in proc.stdout.lower()


def test_run_inline_prints_a_summary(child_env):
    proc = concgui(child_env, "run", "--executor", "thread-pool", "--workload", "noop", "--tasks", "5", "--inline")
    assert proc.returncode == 0, proc.stderr
    assert "noop × 5 on thread-pool" in proc.stdout and "in process" in proc.stdout
    assert "wall time" in proc.stdout.lower()


@pytest.mark.parametrize(("args", "field"), [
    (["--tasks", "0"], "tasks"),
    (["--tasks", "-3"], "tasks"),
    (["--workers", "abc"], "workers"),
    (["--duration", "nan"], "duration"),
    (["--jitter", "2"], "jitter"),
    (["--executor", "nope"], "executor"),
    (["--workload", "nope"], "workload"),
    (["--start-method", "vfork"], "start_method"),
    (["--chunk-size", "0"], "chunk_size"),
    (["--workload", "custom"], "function"),
    (["--workload", "custom", "--function", "nosuch:fn"], "function"),
    (["--workload", "custom", "--function", "nosuch:fn", "--inline"], "function"),
])
def test_bad_input_exits_2_naming_the_field(child_env, args, field):
    proc = concgui(child_env, "run", *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert f"{field}:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_compare_with_a_bad_executor_name_exits_2(child_env):
    proc = concgui(child_env, "compare", "--executors", "sequential,nope", "--workload", "noop")
    assert proc.returncode == 2
    assert "executor:" in proc.stderr


def test_a_failed_run_exits_1(child_env, tmp_path):
    proc = concgui(child_env, "run", "--python", "/bin/false", "--workload", "noop")
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr


def test_run_writes_json_csv_and_trace(child_env, tmp_path):
    paths = {kind: tmp_path / f"out.{kind}" for kind in ("json", "csv", "trace")}
    proc = concgui(child_env, "run", "--executor", "thread-pool", "--workers", "2", "--workload", "sleep",
                   "--tasks", "3", "--duration", "0.05", "--json", str(paths["json"]), "--csv", str(paths["csv"]),
                   "--trace", str(paths["trace"]))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(paths["json"].read_text())
    assert result["spec"]["executor"] == "thread-pool" and result["spec"]["workers"] == 2
    assert [t["status"] for t in result["tasks"]] == ["ok"] * 3
    assert result["environment"]["pid"] > 0
    rows = paths["csv"].read_text().splitlines()
    assert len(rows) == 4 and rows[0].startswith("index,worker,pid")
    trace = json.loads(paths["trace"].read_text())
    assert sum(e["ph"] == "X" and e["cat"] != "thread state" for e in trace["traceEvents"]) == 3  # tasks, not states


def test_run_to_a_missing_folder_fails_cleanly(child_env, tmp_path):
    proc = concgui(child_env, "run", "--workload", "noop", "--inline", "--json", str(tmp_path / "no" / "r.json"))
    assert proc.returncode == 1
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_compare_writes_runs_with_speedup_against_the_first(child_env, tmp_path):
    path = tmp_path / "compare.json"
    proc = concgui(child_env, "compare", "--executors", "sequential,threads", "--workload", "sleep", "--tasks", "3",
                   "--duration", "0.2", "--json", str(path))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(path.read_text())
    assert list(data) == ["runs"]
    first, second = data["runs"]
    assert first["spec"]["executor"] == "sequential" and second["spec"]["executor"] == "threads"
    assert first["summary"]["speedup"] is None
    assert second["summary"]["baseline"] == "sequential"
    assert second["summary"]["speedup"] == pytest.approx(first["wall_seconds"] / second["wall_seconds"])
    assert second["summary"]["speedup"] > 1.5  # three 0.2 s sleeps: about 3
    assert "sequential" in proc.stdout and "threads" in proc.stdout and "speedup" in proc.stdout
    why = proc.stdout.splitlines()[-1]  # under the table: which executor won, and why
    assert why.startswith("Why: threads was fastest: ") and "as fast as sequential" in why


def test_the_summary_prints_the_xray_shares_and_their_sentence():
    from concgui.cli.tables import format_summary
    from concgui.engine.records import RunResult, TaskRecord, ThreadStates
    from concgui.engine.summary import summarize

    tasks = [TaskRecord(i, f"thread {i}", 1, 10 + i, 0.0, 0.0, 0.5, 0.1, "ok") for i in range(4)]
    states = [ThreadStates(0.02 * (k + 1), 0.02, {t.worker: (0.2, 0.06, 0.74) for t in tasks}) for k in range(25)]
    r = RunResult(spec={"workload": "cpu", "executor": "thread-pool", "tasks": 4},
                  environment={"cpu_count": 2, "gil_enabled": True, "thread_states": "schedstat"},
                  wall_seconds=0.5, workers=4, tasks=tasks, thread_states=states)
    r.summary = summarize(r)
    lines = format_summary(r).splitlines()
    row = {label: next(line[2 + len(label):].split()[:2] for line in lines if line.startswith("  " + label))
           for label in ("On a core", "Waiting for a core", "Blocked")}
    assert row == {"On a core": ["20", "%"], "Waiting for a core": ["6", "%"], "Blocked": ["74", "%"]}
    assert "The 4 threads were blocked 74 % of the time on the GIL" in lines[-1]


def test_the_compare_table_prints_what_the_windows_compare_tab_shows(qtbot):
    from concgui.cli.tables import format_comparison
    from concgui.engine import ExperimentSpec, run_inline
    from concgui.engine.summary import summarize
    from concgui.gui.views.compare import CompareView

    results = []
    for executor in ("sequential", "thread-pool"):
        r = run_inline(ExperimentSpec(workload="sleep", executor=executor, tasks=2, duration=0.02, isolation="inline"))
        r.summary = summarize(r, results[0] if results else None)
        results.append(r)
    view = CompareView()
    qtbot.addWidget(view)
    view.set_results(results)
    table = view.table
    shown = [[table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]]
    shown += [[table.item(row, c).text() for c in range(table.columnCount())] for row in range(table.rowCount())]
    printed = [line.split("  ") for line in format_comparison(results).splitlines()]
    assert [[cell.strip() for cell in line if cell.strip()] for line in printed] == shown
    assert shown[0][3] == "speedup" and shown[2][3].endswith("×") and shown[2][4].endswith(" %")


# --- concgui sweep ------------------------------------------------------------------------
def test_sweep_prints_each_point_and_a_table_and_writes_every_file(child_env, tmp_path):
    from PySide6.QtGui import QImage

    from concgui.engine.sweep import CSV_COLUMNS, SPEEDUP_RULE, load_sweep_json

    files = {ext: tmp_path / f"sweep.{ext}" for ext in ("csv", "json", "png", "svg")}
    proc = concgui(child_env, "sweep", "--workload", "sleep", "--tasks", "4", "--duration", "0.1", "--inline",
                   "--executor", "thread-pool", "--executor", "process-pool", "--max-workers", "4",
                   "--repeats", "1", "--width", "900", *(a for ext, p in files.items() for a in (f"--{ext}", str(p))))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert sum(line.startswith("[") and "ok" in line for line in lines) == 6  # one line per point, as it ran
    table = [line.split() for line in lines if line.startswith(("thread-pool ", "process-pool "))]
    assert [(row[0], row[1]) for row in table] == [("thread-pool", "1"), ("thread-pool", "2"), ("thread-pool", "4"),
                                                   ("process-pool", "1"), ("process-pool", "2"),
                                                   ("process-pool", "4")]
    assert float(table[2][4].rstrip("×")) > 2.5  # 4 sleeps on 4 threads: about 4
    assert f"speedup = {SPEEDUP_RULE}; serial fraction" in proc.stdout  # the rule under the table
    sweep = load_sweep_json(files["json"])
    assert sweep.worker_counts == [1, 2, 4] and sweep.executors == ["thread-pool", "process-pool"]
    assert len(sweep.points) == 6 and sweep.serial_fraction("thread-pool") < 0.2
    header = files["csv"].read_text().splitlines()[0]
    assert tuple(header.split(",")) == CSV_COLUMNS
    image = QImage(str(files["png"]))
    assert image.width() == 900 and image.height() > 600
    svg = files["svg"].read_bytes()
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg and b"serial fraction" in svg
    assert b"<image" not in svg  # both charts as shapes, markers included


def test_sweep_help_states_the_speedup_rule_the_table_prints(child_env, tmp_path):
    from concgui.engine.sweep import SPEEDUP_RULE

    proc = concgui(child_env, "sweep", "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"Speedup = {SPEEDUP_RULE};" in " ".join(proc.stdout.split())  # argparse wraps it over lines


@pytest.mark.parametrize(("args", "field"), [
    (["--max-workers", "0"], "max_workers"),
    (["--max-workers", "two"], "max_workers"),
    (["--repeats", "101"], "repeats"),
    (["--executor", "sequential"], "executors"),
    (["--executor", "nope"], "executors"),
    (["--executor", "dask", "--threads-per-worker", "2"], "threads_per_worker"),
    (["--tasks", "-1"], "tasks"),
])
def test_sweep_bad_input_exits_2_naming_the_field(child_env, tmp_path, args, field):
    proc = concgui(child_env, "sweep", "--workload", "noop", "--inline", "--json", str(tmp_path / "s.json"), *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"bad input: {field}:" in proc.stderr
    assert not (tmp_path / "s.json").exists()  # nothing ran, nothing written


def test_ctrl_c_stops_the_work_cleanly_and_gives_back_its_result_or_error():
    import _thread
    import threading

    from concgui.cli import interruptibly

    stop = threading.Event()
    threading.Timer(0.3, _thread.interrupt_main).start()
    assert interruptibly(lambda: stop.wait(20) and "stopped", stop.set) == "stopped"

    def boom() -> None:
        raise RuntimeError("the engine failed")

    with pytest.raises(RuntimeError, match="the engine failed"):
        interruptibly(boom, lambda: None)


def test_ctrl_c_stops_a_sweep_with_the_run_going_and_prints_what_it_measured(child_env, tmp_path):
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "concgui", "sweep", "--workload", "sleep", "--tasks", "2",
                             "--duration", "30", "--inline", "--executor", "thread-pool", "--max-workers", "4",
                             "--repeats", "2", "--json", str(tmp_path / "s.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(), cwd=REPO)
    try:
        assert proc.stdout.readline().startswith("sweep: sleep × 2 tasks on thread-pool")
        time.sleep(1.0)  # the first run is going
        began = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert time.monotonic() - began < 10
    assert proc.returncode == 1, err
    assert "stopping the sweep..." in err and "Traceback" not in err
    assert "cancelled" in out and "stopped after 1 of 6 runs" in out
    assert [p["status"] for p in json.loads((tmp_path / "s.json").read_text())["points"]] == ["cancelled"]


# --- runs kept as they go, and exit codes that tell (issue 18) ------------------------------------
def test_a_killed_run_leaves_its_files_and_its_history_row_with_the_finished_tasks(child_env, tmp_path,
                                                                                    data_dir):
    import signal
    import time

    from faults_support import alive, descendants

    from concgui.engine.exports import load_csv, load_results
    from concgui.history import HistoryStore

    out_json, out_csv = tmp_path / "run.json", tmp_path / "run.csv"
    proc = subprocess.Popen([sys.executable, "-m", "concgui", "run", "--workload", "sleep", "--duration", "0.1",
                             "--tasks", "200", "--executor", "thread-pool", "--workers", "2",
                             "--json", str(out_json), "--csv", str(out_csv)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_env(), cwd=REPO)
    try:
        deadline = time.monotonic() + 30
        done = 0
        while done < 6 and time.monotonic() < deadline:  # the file is rewritten as the run goes
            time.sleep(0.1)
            try:
                done = sum(t.status == "ok" for t in load_results(out_json)[0].tasks)
            except (OSError, ValueError):
                pass
        assert done >= 6, "the run's file appeared as it went"
        engine = descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    deadline = time.monotonic() + 10
    while alive(engine) and time.monotonic() < deadline:
        time.sleep(0.05)
    (kept,) = load_results(out_json)
    finished = [t for t in kept.tasks if t.status == "ok"]
    assert kept.status == "interrupted" and "interrupted" in kept.error
    assert len(kept.tasks) == 200 and done <= len(finished) < 200
    rows = load_csv(out_csv)  # written just after the JSON, each time
    assert len(rows) == 200 and 0 < sum(t.status == "ok" for t in rows) <= len(finished)
    with HistoryStore(data_dir / "history.sqlite3") as store:
        (run_id,) = store.unfinished()  # the window lists it as interrupted, with its finished tasks
        assert len(store.load(run_id).tasks) >= done


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_a_command_line_run_still_going_is_listed_as_running_not_interrupted(child_env, data_dir, qtbot, tmp_path):
    import signal
    import time

    from gui_support import open_window

    from concgui.gui.views.history_view import HistoryModel
    from concgui.history import HistoryStore

    proc = subprocess.Popen([sys.executable, "-m", "concgui", "run", "--workload", "sleep", "--duration", "0.2",
                             "--tasks", "100", "--executor", "sequential"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_env(), cwd=REPO)
    model = HistoryModel()
    try:
        with HistoryStore(data_dir / "history.sqlite3") as store:
            deadline = time.monotonic() + 30
            while not (store.list_runs() and store.load(store.list_runs()[0]["id"]).tasks) \
                    and time.monotonic() < deadline:
                time.sleep(0.1)
            (row,) = store.list_runs()
            assert not row["finished"] and row["recorded_by"] == proc.pid
            assert model.status_text(row) == "running in another process"
            assert store.unfinished(elsewhere=False) == [] and store.unfinished() == [row["id"]]
            window = open_window(qtbot, tmp_path, data_dir / "history.sqlite3")
            window.open_history_run(row["id"])  # what it has finished so far, not "Interrupted"
            assert window.progress.format().startswith(f"Still running in process {proc.pid}: "), \
                window.progress.format()
            assert "so far" in window.progress.format()
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            (row,) = store.list_runs()
            assert row["recorded_by"] is None and model.status_text(row) == "interrupted"
            assert store.unfinished(elsewhere=False) == [row["id"]]
            window.open_history_run(row["id"])
            assert window.progress.format().startswith("Interrupted: "), window.progress.format()
    finally:
        proc.kill()
        proc.wait(10)


def test_a_run_from_the_command_line_is_in_the_windows_history(child_env, data_dir):
    from concgui.history import HistoryStore

    proc = concgui(child_env, "run", "--workload", "noop", "--tasks", "4", "--inline")
    assert proc.returncode == 0, proc.stderr
    proc = concgui(child_env, "run", "--workload", "noop", "--tasks", "3", "--inline", "--no-history")
    assert proc.returncode == 0, proc.stderr
    with HistoryStore(data_dir / "history.sqlite3") as store:
        (row,) = store.list_runs()
        assert row["finished"] and row["status"] == "ok" and row["tasks"] == 4
        assert [t.status for t in store.load(row["id"]).tasks] == ["ok"] * 4


def test_a_task_ending_the_inline_process_is_refused_and_the_run_does_not_look_like_success(child_env):
    proc = concgui(child_env, "run", "--inline", "--workload", "custom", "--function", "os:_exit", "--tasks", "3")
    assert proc.returncode == 3, (proc.returncode, proc.stdout, proc.stderr)
    assert "ExitRefused: os._exit(0) would end this process" in proc.stdout


@pytest.mark.parametrize("function, failed", [("builtins:iter", 3), ("custom_tasks.py:fail_on_one", 1)])
def test_a_run_whose_tasks_raised_exits_3(child_env, function, failed):
    from concgui.cli import EXIT_TASKS_FAILED

    path = function if not function.startswith("custom") else str(REPO / "tests" / "data" / function)
    proc = concgui(child_env, "run", "--workload", "custom", "--function", path, "--tasks", "3",
                   "--executor", "threads")
    assert proc.returncode == EXIT_TASKS_FAILED == 3, (proc.stdout, proc.stderr)
    assert f"Errors             {failed}" in proc.stdout


def test_the_help_names_every_exit_code(child_env):
    from concgui.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, EXIT_TASKS_FAILED

    text = " ".join(concgui(child_env, "run", "--help").stdout.split())
    for code in (EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_TASKS_FAILED):
        assert f"{code} " in text.split("Exit codes:")[1]
    assert "tasks raised" in text and "interrupted" in text

"""The fault table of the benchmark (called by benchmarks/benchmark.py in a fresh process).

Each case of the faults issue is made to happen for real, once, and reported as one JSON figure:
``{"figure": "fault_<case>", "value": <seconds to recover>, "unit": "s", "goal": ..., "pass": ...}``,
where recovering means: the fault was reported as it must be and the next run works.  The tests
(tests/test_faults_*.py) prove the same cases in more detail; this table is their figures.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # faults_support, shared with the fault tests
DATA = ROOT / "tests" / "data"
FAULTS, CUSTOM = f"{DATA / 'fault_tasks.py'}", f"{DATA / 'custom_tasks.py'}"

from concgui.engine import ExperimentSpec, RunResult, SpecError, TaskStarted, run, start  # noqa: E402


def report(case: str, seconds: float, goal: str, ok: bool, **extra) -> None:
    print(json.dumps({"figure": f"fault_{case}", "value": round(seconds, 3), "unit": "s",
                      "goal": goal, "pass": bool(ok), **extra}), flush=True)


def case(name: str, goal: str) -> Callable:
    """Run the decorated check; it returns (ok, detail) or (ok, detail, seconds from the fault to recovery);
    without the seconds, the figure is the whole check's time (fault made, reported, next run done)."""

    def wrap(check: Callable[[], tuple]) -> Callable[[], None]:
        def go() -> None:
            t0 = time.perf_counter()
            try:
                ok, detail, *seconds = check()
            except Exception as exc:  # noqa: BLE001 - a case that blows up is a failed case
                ok, detail, seconds = False, f"{type(exc).__name__}: {exc}", []
            report(name, seconds[0] if seconds else time.perf_counter() - t0, goal, ok, detail=detail[:300])

        go.__name__ = name
        return go

    return wrap


def inline(function: str, executor: str = "thread-pool", **kw) -> ExperimentSpec:
    kw.setdefault("tasks", 3)
    if executor in ("process-pool", "processes"):
        kw.setdefault("start_method", "forkserver")
    if executor in ("thread-pool", "process-pool"):
        kw.setdefault("workers", 2)
    return ExperimentSpec(workload="custom", function=function, executor=executor, isolation="inline", **kw)


def next_run_ok() -> bool:
    return run(ExperimentSpec(workload="sleep", executor="process-pool", workers=2, tasks=2, duration=0.01,
                              start_method="forkserver", isolation="inline")).status == "ok"


@case("task_raises", "the task is an error with its traceback; the others finish")
def task_raises() -> tuple[bool, str]:
    r = run(inline(f"{CUSTOM}:fail_on_one"))
    return r.status == "ok" and [t.status for t in r.tasks] == ["ok", "error", "ok"], r.tasks[1].error["message"]


@case("worker_dies", "the run fails naming the exit code; the next run works")
def worker_dies() -> tuple[bool, str]:
    r = run(inline(f"{CUSTOM}:die_on_one", "process-pool"))
    return r.status == "failed" and "exited with code 5" in (r.error or "") and next_run_ok(), r.error or ""


@case("worker_segfault", "the run fails naming SIGSEGV; the next run works")
def worker_segfault() -> tuple[bool, str]:
    r = run(inline(f"{FAULTS}:segfault_on_one", "process-pool"))
    return r.status == "failed" and "SIGSEGV" in (r.error or "") and next_run_ok(), r.error or ""


@case("worker_sigkill", "the run fails naming SIGKILL; the next run works")
def worker_sigkill() -> tuple[bool, str]:
    started, victims = threading.Event(), []

    def on_events(events):
        for e in events:
            if isinstance(e, TaskStarted) and not victims:
                victims.append(e.pid)
                started.set()

    r = start(inline(f"{FAULTS}:announce_and_sleep", "process-pool", tasks=4), on_events)
    threading.Thread(target=lambda: started.wait(30) and os.kill(victims[0], signal.SIGKILL), daemon=True).start()
    result = r.execute()
    return result.status == "failed" and "SIGKILL" in (result.error or "") and next_run_ok(), result.error or ""


@case("sys_exit_in_task", "the task is an error, not the program's exit")
def sys_exit_in_task() -> tuple[bool, str]:
    r = run(inline(f"{CUSTOM}:exit_on_one", "processes"))
    return r.status == "ok" and r.tasks[1].error["type"] == "SystemExit", str(r.tasks[1].error)


@case("unpicklable_exception", "the task is an error naming its type")
def unpicklable_exception() -> tuple[bool, str]:
    r = run(inline(f"{FAULTS}:raise_unpicklable", "process-pool", tasks=2))
    return r.status == "ok" and all(t.error["type"] == "UnpicklableError" for t in r.tasks), r.tasks[0].error["message"]


@case("bad_function", "refused before anything starts, naming the field")
def bad_function() -> tuple[bool, str]:
    try:
        run(inline("concgui_no_such_module_xyz:f"))
    except SpecError as exc:
        return exc.field == "function", str(exc)
    return False, "it ran"


@case("import_hangs", "given up after the stated import timeout (1 s here, 10 s by default)")
def import_hangs() -> tuple[bool, str]:
    from concgui.engine import runner

    folder = Path(tempfile.mkdtemp())
    (folder / "hangs_on_import.py").write_text("import time\ntime.sleep(3)\n\ndef f():\n    pass\n")
    saved, runner.IMPORT_TIMEOUT = runner.IMPORT_TIMEOUT, 1.0
    try:
        run(inline(f"{folder / 'hangs_on_import.py'}:f"))
    except SpecError as exc:
        return "did not finish within 1 s" in str(exc), str(exc)
    finally:
        runner.IMPORT_TIMEOUT = saved
    return False, "it ran"


@case("timeout_stuck_thread", "the run ends at its 0.5 s timeout; the stuck thread is reported abandoned")
def timeout_stuck_thread() -> tuple[bool, str]:
    out = Path(tempfile.mkdtemp())
    os.environ["CONCGUI_TEST_OUT"] = str(out)
    try:
        r = run(inline(f"{FAULTS}:block_on_one", tasks=4, timeout=0.5))
    finally:
        (out / "release").write_text("go")
    ok = r.status == "failed" and r.error.startswith("timed out") and r.tasks[1].error["type"] == "Abandoned"
    return ok, r.error or ""


@case("timeout_stuck_process", "the run ends at its 0.5 s timeout; the worker processes are killed")
def timeout_stuck_process() -> tuple[bool, str]:
    out = Path(tempfile.mkdtemp())
    os.environ["CONCGUI_TEST_OUT"] = str(out)
    try:
        r = run(inline(f"{FAULTS}:block", "process-pool", tasks=4, timeout=0.5))
    finally:
        (out / "release").write_text("go")
    return r.status == "failed" and "worker process stopped" in (r.error or ""), r.error or ""


def _stop_flood(executor: str) -> tuple[bool, str]:
    first = threading.Event()
    r = start(ExperimentSpec(workload="sleep", executor=executor, tasks=20_000, duration=1.0, workers=4),
              lambda events: any(isinstance(e, TaskStarted) for e in events) and first.set())
    box: dict = {}
    worker = threading.Thread(target=lambda: box.setdefault("r", r.execute()))
    worker.start()
    first.wait(30)
    t0 = time.perf_counter()
    r.cancel()
    worker.join(10)
    took = time.perf_counter() - t0
    result = box.get("r")
    ok = result is not None and result.status == "cancelled" and took < 2.0
    return ok, f"{result.summary['cancelled'] if result else '?'} cancelled", took


@case("stop_20000_thread_pool", "queued tasks dropped at once, stopped within 2 s (engine process)")
def stop_20000_thread_pool() -> tuple[bool, str]:
    return _stop_flood("thread-pool")


@case("stop_20000_process_pool", "queued tasks dropped at once, stopped within 2 s (engine process)")
def stop_20000_process_pool() -> tuple[bool, str]:
    return _stop_flood("process-pool")


@case("engine_killed", "the run fails naming SIGKILL and the engine's last output; the next run works")
def engine_killed() -> tuple[bool, str]:
    got = threading.Event()
    pids: list[int] = []

    def on_events(events):
        for e in events:
            if type(e).__name__ == "RunStarted" and not pids:
                pids.append(e.environment["pid"])
                got.set()

    r = start(ExperimentSpec(workload="sleep", executor="thread-pool", tasks=10, duration=5.0, workers=2), on_events)
    killed = []
    threading.Thread(target=lambda: got.wait(30) and (killed.append(time.perf_counter()),
                                                      os.kill(pids[0], signal.SIGKILL)), daemon=True).start()
    try:
        r.execute()
    except RuntimeError as exc:
        ok = "killed by signal 9 (SIGKILL)" in str(exc) and "resource_tracker" not in str(exc)
        ok = ok and run(ExperimentSpec(workload="noop", tasks=2)).status == "ok"
        return ok, str(exc)[:200], time.perf_counter() - killed[0]
    return False, "no error"


@case("bad_run_files", "truncated, not JSON, future version, 1.5 GB: refused naming the file")
def bad_run_files() -> tuple[bool, str]:
    from concgui.engine.exports import MAX_RUN_FILE_BYTES, load_results

    folder = Path(tempfile.mkdtemp())
    good = json.dumps(RunResult(spec=ExperimentSpec().to_dict(), environment={}, wall_seconds=1.0).to_dict())
    files = {"truncated.json": good[: len(good) // 2], "code.json": "import os\n",
             "future.json": json.dumps({**json.loads(good), "version": 99})}
    for name, text in files.items():
        (folder / name).write_text(text)
    with open(folder / "huge.json", "wb") as f:
        f.truncate(MAX_RUN_FILE_BYTES + 2**30)
    refused = []
    for path in sorted(folder.iterdir()):
        try:
            load_results(path)
        except ValueError as exc:
            refused.append(str(exc).startswith(path.name))
    return refused == [True] * 4, f"{sum(refused)} of 4 refused naming the file"


def run_file_schema_check() -> None:
    """Issue 18 (F6, F8): run files of 100,000 tasks opened per second, whole (read, parse, check) and the
    schema check alone (concgui.engine.validate), on a file made of a real short run's records."""
    from concgui.engine.exports import collector_paused, load_results, read_json
    from concgui.engine.validate import run_from_dict

    data = run(ExperimentSpec(workload="sleep", executor="thread-pool", workers=2, tasks=3, duration=0.05,
                              isolation="inline")).to_dict()
    one = data["tasks"][0]
    data["tasks"] = [{**one, "index": i, "worker": f"thread {i % 8 + 1}", "start": i * 1e-3, "end": i * 1e-3 + 0.01}
                     for i in range(100_000)]
    data["spec"]["tasks"] = 100_000
    path = Path(tempfile.mkdtemp()) / "run-100k.json"
    path.write_text(json.dumps(data, separators=(",", ":")))
    size = path.stat().st_size / 1e6
    for name, what, step in (("open", "read, parse and check", lambda: load_results(path)),
                             ("check", "the schema check alone (and the records it makes)", None)):
        parsed = read_json(path, "run file") if step is None else None
        timed = step or (lambda parsed=parsed: run_from_dict(parsed))
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            with collector_paused():  # as load_results checks
                result = timed()
            times.append(time.perf_counter() - t0)
        best = min(times)
        ok = len((result[0] if isinstance(result, list) else result).tasks) == 100_000
        print(json.dumps({"figure": f"fault_run_file_100k_{name}", "value": round(1 / best, 2), "unit": "files/s",
                          "goal": f"a 100,000-task run file ({size:.1f} MB): {what}", "pass": ok,
                          "detail": f"best of 3: {best:.3f} s"}), flush=True)


@case("history_locked", "waits the busy timeout (0.5 s here), then names the lock; nothing half written")
def history_locked() -> tuple[bool, str]:
    from concgui.history import HistoryError, HistoryStore

    path = Path(tempfile.mkdtemp()) / "history.sqlite3"
    other, mine = HistoryStore(path), HistoryStore(path, busy_timeout=0.5)
    other._conn.execute("BEGIN IMMEDIATE")
    try:
        mine.save(RunResult(spec=ExperimentSpec().to_dict(), environment={}, wall_seconds=1.0))
        return False, "it wrote"
    except HistoryError as exc:
        other._conn.execute("ROLLBACK")
        ok = "locked" in str(exc) and mine.list_runs() == [] and mine.integrity_check() == "ok"
        return ok, str(exc)
    finally:
        mine.close()
        other.close()


@case("history_corrupt", "moved aside, a new history started, with a notice")
def history_corrupt() -> tuple[bool, str]:
    from concgui.history import HistoryStore

    path = Path(tempfile.mkdtemp()) / "history.sqlite3"
    path.write_bytes(b"SQLite format 3\x00" + b"\xde\xad" * 5000)
    with HistoryStore(path) as store:
        ok = bool(store.notice) and store.integrity_check() == "ok"
        return ok, store.notice or ""


@case("export_missing_folder", "a clear message naming the folder, no partial file")
def export_missing_folder() -> tuple[bool, str]:
    from concgui.engine.exports import save_result

    folder = Path(tempfile.mkdtemp()) / "no" / "such"
    try:
        save_result(folder / "run.json", RunResult(spec={}, environment={}, wall_seconds=1.0))
    except OSError as exc:
        return str(folder) in str(exc) and not folder.parent.exists(), str(exc)
    return False, "it wrote"


@case("fork_beside_threads", "fork is switched to forkserver with the reason recorded")
def fork_beside_threads() -> tuple[bool, str]:
    stop = threading.Event()
    stranger = threading.Thread(target=stop.wait, name="someone-elses-thread")
    stranger.start()
    try:
        r = run(ExperimentSpec(workload="sleep", executor="process-pool", workers=2, tasks=2, duration=0.01,
                               start_method="fork", isolation="inline"))
    finally:
        stop.set()
        stranger.join()
    note = r.environment.get("start_method_note", "")
    return r.status == "ok" and r.environment["start_method"] == "forkserver" and "deadlock" in note, note


def _descendants(pid: int) -> set[int]:
    from faults_support import descendants

    return descendants(pid)


def _alive(pids: set[int]) -> set[int]:
    from faults_support import alive

    return alive(pids)


def _app(folder: Path, spec: dict) -> tuple[subprocess.Popen, Path]:
    (folder / "spec.json").write_text(json.dumps(spec))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CONCGUI_DATA_DIR=str(folder / "data"),
               XDG_CONFIG_HOME=str(folder / "config"), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "gui", "--spec", str(folder / "spec.json")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    db = folder / "data" / "history.sqlite3"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            n = conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
            conn.close()
            if n >= 2 and len(_descendants(proc.pid)) >= 3:
                break
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    return proc, db


SPEC = {"workload": "sleep", "executor": "process-pool", "workers": 2, "tasks": 40, "duration": 0.2,
        "start_method": "forkserver"}


@case("app_sigterm", "the app exits within 3 s with code 0 and leaves no process")
def app_sigterm() -> tuple[bool, str]:
    proc, _db = _app(Path(tempfile.mkdtemp()), SPEC)
    kids = _descendants(proc.pid)
    t0 = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    try:
        _out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        return False, "did not exit"
    took = time.perf_counter() - t0
    time.sleep(0.5)
    left = _alive(kids)
    ok = proc.returncode == 0 and not left and "already deleted" not in err and took < 3.0
    return ok, f"exit code {proc.returncode}, processes left: {sorted(left)}", took


@case("app_sigkill", "every engine and worker process exits by itself within 5 s; the run shows interrupted")
def app_sigkill() -> tuple[bool, str]:
    from concgui.history import HistoryStore

    proc, db = _app(Path(tempfile.mkdtemp()), SPEC)
    kids = _descendants(proc.pid)
    t0 = time.perf_counter()
    proc.kill()
    proc.communicate()
    deadline = time.monotonic() + 5
    while _alive(kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    took = time.perf_counter() - t0
    left = _alive(kids)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    with HistoryStore(db) as store:
        unfinished = store.unfinished()
        kept = len(store.load(unfinished[0]).tasks) if unfinished else 0
        sound = store.integrity_check() == "ok"
    return (not left and len(unfinished) == 1 and kept > 0 and sound,
            f"processes left: {sorted(left)}; the interrupted run kept {kept} finished tasks", took)


def _gil_run_killed(command: list[str], victim: str) -> tuple[bool, str, float]:
    """Start ``command`` (the app or ``concgui run``) on the GIL-holding task, SIGKILL ``victim`` (its "top"
    process or its "engine") once the regex runs, and time how long until every other process is gone (the
    command line's own exit included, when the engine was the one killed)."""
    out = Path(tempfile.mkdtemp(prefix="concgui-gil-"))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CONCGUI_DATA_DIR=str(out / "data"),
               XDG_CONFIG_HOME=str(out / "config"), PYTHONPATH=str(ROOT), CONCGUI_TEST_OUT=str(out))
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kids: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while len(list(out.glob("gil-*"))) < (1 if victim == "top" and "thread-pool" in command else 2):
            if proc.poll() is not None or time.monotonic() > deadline:
                return False, f"the run did not start its tasks (exit {proc.poll()})", 0.0
            time.sleep(0.05)
        time.sleep(0.3)  # the regex holds the GIL now
        kids = _descendants(proc.pid)
        if victim == "top":
            target = proc.pid
        else:
            target = next(p for p in kids if "concgui.engine" in " ".join(_cmdline(p)) and _parent(p) == proc.pid)
        everything = (kids | {proc.pid}) - {target}
        t0 = time.perf_counter()
        os.kill(target, signal.SIGKILL)
        end = time.monotonic() + 20
        while _alive(everything) and time.monotonic() < end:
            time.sleep(0.02)
        took = time.perf_counter() - t0
        left = _alive(everything)
        return took <= 5.0 and not left, f"{len(kids)} processes below it; left after 20 s: {sorted(left)}", took
    finally:
        for pid in _alive(kids | {proc.pid}):
            os.kill(pid, signal.SIGKILL)
        proc.wait()


def _cmdline(pid: int) -> list[str]:
    import psutil

    try:
        return psutil.Process(pid).cmdline()
    except psutil.Error:
        return []


def _parent(pid: int) -> int:
    import psutil

    try:
        return psutil.Process(pid).ppid()
    except psutil.Error:
        return 0


GIL_TASK = f"{DATA / 'lifetime_tasks.py'}:hold_gil"  # re.fullmatch(r'(a+)+b', 'a' * 30): ~30 s holding the GIL
GIL_RUN = ["--workload", "custom", "--function", GIL_TASK, "--workers", "2", "--tasks", "2"]


@case("gil_app_sigkill", "every process of a process-pool run is gone within 5 s of SIGKILL of the window, "
                         "while its tasks hold the GIL")
def gil_app_sigkill() -> tuple[bool, str, float]:
    folder = Path(tempfile.mkdtemp())
    spec = {"workload": "custom", "function": GIL_TASK, "executor": "process-pool", "workers": 2, "tasks": 2,
            "start_method": "forkserver"}
    (folder / "spec.json").write_text(json.dumps(spec))
    return _gil_run_killed([sys.executable, str(ROOT / "main.py"), "gui", "--spec", str(folder / "spec.json")], "top")


@case("gil_engine_sigkill", "every process of a process-pool run is gone within 5 s of SIGKILL of the engine, "
                            "while its tasks hold the GIL")
def gil_engine_sigkill() -> tuple[bool, str, float]:
    return _gil_run_killed([sys.executable, "-m", "concgui", "run", *GIL_RUN, "--executor", "process-pool",
                            "--start-method", "forkserver"], "engine")


@case("gil_cli_sigkill", "the engine of a thread-pool run is gone within 5 s of SIGKILL of `concgui run`, "
                         "while its tasks hold the GIL")
def gil_cli_sigkill() -> tuple[bool, str, float]:
    return _gil_run_killed([sys.executable, "-m", "concgui", "run", *GIL_RUN, "--executor", "thread-pool"], "top")


# --- issue 18's groups: each made to happen once --------------------------------------------------------
LIFE = str(DATA / "lifetime_tasks.py")


def _concgui(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "concgui", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout)


@case("hostile_files", "F6, F7, F8: run and sweep files holding wrong types, 4,097 cores or nesting 100,000 deep "
                       "are each refused in one line naming the file and the field; never another exception")
def hostile_files() -> tuple[bool, str]:
    from concgui.engine.exports import load_results
    from concgui.engine.sweep import SweepPoint, SweepResult, load_sweep_json, save_sweep_json

    folder = Path(tempfile.mkdtemp())
    good = run(ExperimentSpec(workload="sleep", executor="thread-pool", workers=2, tasks=3, duration=0.05,
                              isolation="inline")).to_dict()
    good["cpu_samples"] = good["cpu_samples"] or [{"t": 0.1, "per_core": [1.0, 2.0], "tree_percent": 3.0}]
    runs = {  # what the issue found raising "unexpected error" boxes, or stored in the history
        "tree_percent": lambda d: d["cpu_samples"][0].update(tree_percent="hot"),
        "run_error": lambda d: d.update(error=["a", "b"]),
        "task_message": lambda d: d["tasks"][1].update(error={"type": "E", "message": ["x"]}),
        "thread_id": lambda d: d["tasks"][0].update(thread_id=2**70),
        "spec_tasks": lambda d: d["spec"].update(tasks="many"),
        "status": lambda d: d.update(status=123, error={}),
        "summary": lambda d: d["summary"].update(speedup="fast"),
        "started_at": lambda d: d.update(started_at=1e300),
        "workers": lambda d: d.update(workers="many"),
        "cores": lambda d: d["cpu_samples"][0].update(per_core=[1.0] * 4097),
    }
    sweep = SweepResult(spec=ExperimentSpec(workload="noop").to_dict(), executors=["threads"], worker_counts=[1],
                        repeats=1, points=[SweepPoint("threads", 1, 0, 0.5, 0.1, "ok")])
    save_sweep_json(folder / "sweep.json", sweep)
    sweep_doc = json.loads((folder / "sweep.json").read_text())
    sweeps = {"sweep_started_at": lambda d: d.update(started_at=10**400),
              "sweep_workers": lambda d: d["points"][0].update(workers=-5),
              "sweep_status": lambda d: d["points"][0].update(status=123)}
    files = []
    for group, doc in ((runs, good), (sweeps, sweep_doc)):
        for name, change in group.items():
            data = json.loads(json.dumps(doc))
            change(data)
            (folder / f"{name}.json").write_text(json.dumps(data))
            files.append((folder / f"{name}.json", load_sweep_json if group is sweeps else load_results))
    (folder / "deep.json").write_text("[" * 100_000)
    files.append((folder / "deep.json", load_sweep_json))
    refused, wrong = 0, []
    for path, load in files:
        try:
            load(path)
            wrong.append(f"{path.name} loaded")
        except ValueError as exc:
            if str(exc).startswith(path.name) and "\n" not in str(exc):
                refused += 1
            else:
                wrong.append(str(exc)[:80])
        except Exception as exc:  # noqa: BLE001 - the defect itself
            wrong.append(f"{path.name}: {type(exc).__name__}")
    return not wrong, f"{refused} of {len(files)} refused in one line" + (f"; {'; '.join(wrong)}" if wrong else "")


@case("export_to_device", "F10: an export to /dev/null is written through, one to /dev/full refused with its "
                          "reason; neither device node is replaced")
def export_to_device() -> tuple[bool, str]:
    import stat

    from concgui.engine.exports import save_csv, save_result

    result = RunResult(spec=ExperimentSpec().to_dict(), environment={}, wall_seconds=1.0)
    nodes = [p for p in ("/dev/null", "/dev/full") if os.path.exists(p)]
    before = {p: os.stat(p) for p in nodes}
    save_result("/dev/null", result)
    save_csv("/dev/null", result)
    refused = "no /dev/full here"
    if "/dev/full" in nodes:
        try:
            save_result("/dev/full", result)
            refused = "it wrote to /dev/full"
        except OSError as exc:
            refused = str(exc)
    kept = all(stat.S_ISCHR(os.stat(p).st_mode) and os.stat(p).st_rdev == before[p].st_rdev for p in nodes)
    return kept and ("No space" in refused or "/dev/full" not in nodes), refused


@case("cli_killed_keeps_run", "CLI runs: SIGKILL of `concgui run --json` leaves a readable file marked interrupted "
                              "with the finished tasks, and a history row; seconds until its engine is gone")
def cli_killed_keeps_run() -> tuple[bool, str, float]:
    from faults_support import alive

    from concgui.engine.exports import load_results
    from concgui.history import HistoryStore

    out = Path(tempfile.mkdtemp()) / "run.json"
    proc = subprocess.Popen([sys.executable, "-m", "concgui", "run", "--workload", "sleep", "--duration", "0.1",
                             "--tasks", "200", "--executor", "thread-pool", "--workers", "2", "--json", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    done, deadline = 0, time.monotonic() + 30
    while done < 6 and time.monotonic() < deadline:
        time.sleep(0.1)
        try:
            done = sum(t.status == "ok" for t in load_results(out)[0].tasks)
        except (OSError, ValueError):
            pass
    engine = _descendants(proc.pid)
    proc.kill()
    killed = time.perf_counter()
    proc.wait(10)
    while alive(engine) and time.perf_counter() - killed < 10:
        time.sleep(0.01)
    gone = time.perf_counter() - killed
    (kept,) = load_results(out)
    finished = sum(t.status == "ok" for t in kept.tasks)
    with HistoryStore() as store:
        row = store.list_runs()[0]
    ok = kept.status == "interrupted" and done <= finished < 200 and not row["finished"] and not alive(engine)
    listed = "running" if row["recorded_by"] else "interrupted"
    return ok, f"{finished} of 200 tasks kept in the file, marked {kept.status}; the history row: {listed}", gone


@case("exit_codes", "F12 and the exit codes: --inline --function os:_exit is refused (ExitRefused), exit 3; every "
                    "task raising exits 3; a bad value exits 2")
def exit_codes() -> tuple[bool, str]:
    os_exit = _concgui("run", "--inline", "--workload", "custom", "--function", "os:_exit", "--tasks", "2",
                       "--no-history")
    raised = _concgui("run", "--workload", "custom", "--function", "builtins:iter", "--tasks", "2", "--executor",
                      "threads", "--no-history")
    bad = _concgui("run", "--tasks", "0", "--no-history")
    codes = (os_exit.returncode, raised.returncode, bad.returncode)
    ok = codes == (3, 3, 2) and "ExitRefused" in os_exit.stdout and "tasks" in bad.stderr
    return ok, f"os._exit inline: {codes[0]}, tasks raised: {codes[1]}, --tasks 0: {codes[2]}"


@case("stop_ignoring_sigterm", "F13: Stop of workers that ignore SIGTERM is reported as a stop that says how they "
                               "ended (seconds from Stop to the result)")
def stop_ignoring_sigterm() -> tuple[bool, str, float]:
    from faults_support import wait_for_notes

    out = Path(tempfile.mkdtemp(prefix="concgui-fault-tasks-"))
    os.environ["CONCGUI_TEST_OUT"], previous = str(out), os.environ["CONCGUI_TEST_OUT"]
    try:
        r = start(ExperimentSpec(workload="custom", function=f"{LIFE}:ignore_sigterm", executor="processes",
                                 tasks=2, start_method="forkserver"))
        asked: list[float] = []
        stopper = threading.Thread(target=lambda: (wait_for_notes(out, "stubborn", 2), time.sleep(0.2),
                                                   asked.append(time.perf_counter()), r.cancel()), daemon=True)
        stopper.start()
        result = r.execute()
        took = time.perf_counter() - asked[0] if asked else 0.0
    finally:
        os.environ["CONCGUI_TEST_OUT"] = previous
    ok = result.status == "cancelled" and "ignored SIGTERM and were killed (SIGKILL)" in (result.error or "")
    return ok, f"{result.status}: {result.error}", took


@case("task_forks_on_threads", "F11: a task that forks a child sleeping 60 s (thread-pool, engine process) "
                               "does not keep the run waiting; the child is killed at the run's end")
def task_forks_on_threads() -> tuple[bool, str]:
    from faults_support import alive, wait_for_notes, wait_gone

    out = Path(tempfile.mkdtemp(prefix="concgui-fault-tasks-"))
    os.environ["CONCGUI_TEST_OUT"], previous = str(out), os.environ["CONCGUI_TEST_OUT"]
    try:
        t0 = time.perf_counter()
        result = run(ExperimentSpec(workload="custom", function=f"{LIFE}:fork_a_sleeper", executor="thread-pool",
                                    workers=2, tasks=2))
        took = time.perf_counter() - t0
    finally:
        os.environ["CONCGUI_TEST_OUT"] = previous
    children = set(wait_for_notes(out, "child", 2, timeout=10))
    left, _ = wait_gone(children, 2.0)
    for pid in alive(left):
        os.kill(pid, signal.SIGKILL)
    return result.status == "ok" and took < 10 and not left, f"run {took:.2f} s, {len(left)} children left"


@case("foreign_history", "F4: a history whose runs table is another program's (user_version 1) is set aside "
                         "with a notice; the app starts with a new one")
def foreign_history() -> tuple[bool, str]:
    from concgui.history import HistoryStore

    folder = Path(tempfile.mkdtemp())
    conn = sqlite3.connect(folder / "history.sqlite3")
    conn.executescript("CREATE TABLE runs (x); INSERT INTO runs VALUES (1); PRAGMA user_version = 1;")
    conn.close()
    with HistoryStore(folder / "history.sqlite3") as store:
        ok = bool(store.notice) and store.list_runs() == [] and len(list(folder.glob("*.corrupt-*"))) == 1
        return ok, store.notice or "no notice"


# --- F1: a program a run file names runs only once the person confirms it (tests/test_faults_files.py) ----
NAMED_WINDOW = """
import json, sys, time
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
path, folder = sys.argv[1], sys.argv[2]
QSettings.setDefaultFormat(QSettings.Format.IniFormat)
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, folder + "/settings")
from concgui.gui.main_window import MainWindow
from concgui.gui.views.form_fields import FunctionField

w = MainWindow(history_path=folder + "/history.sqlite3")
w.show()
app.processEvents()
t0 = time.perf_counter()
opened = w.open_run_file(path)
took = time.perf_counter() - t0
form = w.form
w.activateWindow()
for name in ("python", "function", "tasks", "workers", "python", "function", "tasks"):  # focus in, then out
    form.editor(name).setFocus()
    app.processEvents()
for name in ("python", "function"):  # what a focus change ends with (offscreen focus may not emit it)
    form.editor(name).editingFinished.emit()
end = time.monotonic() + (FunctionField.DEBOUNCE_MS + 700) / 1000  # a probe or a check would have begun
while time.monotonic() < end:
    app.processEvents()
    time.sleep(0.01)
print(json.dumps({"opened": len(opened), "seconds": took, "python": form.fields["python"].value(),
                  "running": w.controller.is_running(), "held": form.error_field()}), flush=True)
w.close()
"""


@case("run_file_names_program", "F1: a run file naming an interpreter and a function, opened in the window and "
                                "its fields focused in turn, runs neither until confirmed (seconds to open)")
def run_file_names_program() -> tuple[bool, str, float]:
    from concgui.engine.exports import save_result

    folder = Path(tempfile.mkdtemp(prefix="concgui-named-"))
    marker = folder / "ran"
    module = folder / "named_tasks.py"
    module.write_text(f"open({str(marker)!r}, 'a').write('imported ')\n\ndef f():\n    pass\n")
    python = folder / "named-python"
    python.write_text(f"#!/bin/sh\nprintf 'started ' >> {marker}\nexec {sys.executable} \"$@\"\n")
    python.chmod(0o755)
    spec = ExperimentSpec(workload="custom", function=f"{module}:f", python=str(python), tasks=2)
    save_result(folder / "named.json", RunResult(spec=spec.to_dict(), environment={}, wall_seconds=0.5))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CONCGUI_DATA_DIR=str(folder / "data"),
               XDG_CONFIG_HOME=str(folder / "config"), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", NAMED_WINDOW, str(folder / "named.json"), str(folder)], env=env,
                         capture_output=True, text=True, timeout=120)
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        return False, f"the window script failed ({out.returncode}): {out.stderr[-250:]}", 0.0
    got = json.loads(lines[-1])
    ran = marker.read_text() if marker.exists() else ""
    ok = got["opened"] == 1 and got["python"] == str(python) and not ran and not got["running"]
    return ok, (f"ran: {ran.strip() or 'nothing'}; the form holds the run at the {got['held']} field; "
                f"a run going: {got['running']}"), got["seconds"]


# --- F3: an import that holds the GIL, timed out from outside (tests/test_faults_lifetime.py) ------------
@case("import_holds_gil", "F3: an import holding the GIL in C (re.fullmatch(r'(a+)+b', 'a' * 28), ~20 s) is "
                          "refused at the stated limit (1 s here, 10 s by default) + 2 s; no process left")
def import_holds_gil() -> tuple[bool, str, float]:
    import psutil

    from concgui.engine import runner

    folder = Path(tempfile.mkdtemp(prefix="concgui-gil-import-"))
    module = folder / "holds_gil_on_import.py"
    module.write_text("import re\nre.fullmatch(r'(a+)+b', 'a' * 28)\n\ndef f():\n    pass\n")
    saved, runner.IMPORT_TIMEOUT = runner.IMPORT_TIMEOUT, 1.0
    t0 = time.perf_counter()
    try:
        run(inline(f"{module}:f"))
        return False, "it ran", time.perf_counter() - t0
    except SpecError as exc:
        took, message = time.perf_counter() - t0, str(exc)
    finally:
        runner.IMPORT_TIMEOUT = saved
    left = _alive({p.pid for p in psutil.process_iter(["cmdline"]) if str(module) in " ".join(p.info["cmdline"] or [])})
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    ok = "did not finish within 1 s" in message and took < 3.0 and not left
    return ok, f"{message[:200]}; processes left: {len(left)}", took


# --- F5: the history cannot be used, and the session's runs are kept (tests/test_faults_kept.py) ----------


def _kept_run(n: int, started_at: float) -> RunResult:
    from concgui.engine.records import TaskRecord

    tasks = [TaskRecord(i, "thread 1", 1, 2, 0.0, i * 0.01, i * 0.01 + 0.005, 0.001, "ok") for i in range(n)]
    return RunResult(spec=ExperimentSpec(tasks=n).to_dict(), environment={"pid": 1}, wall_seconds=n * 0.01,
                     tasks=tasks, started_at=started_at)


def _past_runs(db: Path, runs: int) -> None:
    from concgui.history import HistoryStore

    with HistoryStore(db) as store:
        for k in range(runs):
            store.save(_kept_run(5, 1_600_000_000.0 + k))


def _mounted(folder: Path, size: str) -> str | None:
    """Mount a tmpfs of ``size`` on ``folder`` (a real full or read-only disk): None, or why it cannot be."""
    folder.mkdir(parents=True)
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(folder)],
                         capture_output=True, text=True)
    return None if out.returncode == 0 else out.stderr.strip() or f"mount exited {out.returncode}"


def _session_keeps(db: Path, folder: Path | None, past: int) -> str:
    """Open the window's history for ``db`` and end one run: '' when the run is kept where the notice says
    (a run file in ``folder``, or, with ``folder`` None, the history itself) and ``past`` runs are shown."""
    from concgui.engine.exports import load_results
    from concgui.gui.run_keeper import RunKeeper, open_history

    store, problem = open_history(str(db))
    notice = " ".join(filter(None, (problem, store.notice)))  # what the window shows, as main_window joins them
    keeper = RunKeeper(store)
    try:
        if not notice or "not kept" in notice:
            return f"notice: {notice}"
        if folder is not None and str(folder) not in notice:
            return f"the notice does not name {folder}: {notice[:120]}"
        if len(store.list_runs()) != past:
            return f"{len(store.list_runs())} past runs shown, not {past}"
        done = _kept_run(7, time.time())
        keeper.end(done)
        deadline = time.monotonic() + 10
        while not keeper.take_outcomes().saved:
            if time.monotonic() > deadline:
                return "the run was not written within 10 s"
            time.sleep(0.02)
        if folder is not None:
            files = list(folder.glob("*.json"))
            if [r.to_dict() for f in files for r in load_results(f)] != [done.to_dict()]:
                return f"{len(files)} run files in {folder}"
        return "" if len(store.list_runs()) == past + 1 else "the run is not in the History"
    finally:
        keeper.close()
        store.close()


def history_fallbacks() -> None:
    """F5: the five ways the history cannot be used that used to lose a session's runs: one row, each case's
    pass or fail (or why it could not be made here) and seconds."""
    from faults_support import HOLD, ReadOnlyDisk, SmallDisk

    from concgui.history import FILE_NAME
    from concgui.kept_runs import TEMP_FOLDER, UNSAVED_FOLDER

    def holder(db: Path, journal: str, *statements: str) -> subprocess.Popen:
        conn = sqlite3.connect(db)
        conn.execute(f"PRAGMA journal_mode = {journal}")
        conn.close()
        proc = subprocess.Popen([sys.executable, "-c", HOLD, str(db), *statements], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "held", "the other program did not get its lock"
        return proc

    def on_small_disk(name: str, size: str, runs: int, spoil: Callable[[Path], None]) -> Callable[[Path, Path], str]:
        """A case on a tmpfs of ``size`` holding ``runs`` past runs, then spoiled (sealed read-only, filled)."""
        def make(base: Path, temp: Path) -> str:
            disk = base / name
            if why := _mounted(disk, size):
                return f"skipped: {why}"
            try:
                os.environ["CONCGUI_DATA_DIR"] = str(disk)
                _past_runs(disk / FILE_NAME, runs)
                spoil(disk)
                return _session_keeps(disk / FILE_NAME, temp / TEMP_FOLDER, runs)
            finally:
                subprocess.run(["umount", "-l", str(disk)], check=False)
        return make

    read_only = on_small_disk("ro", "4m", 2, lambda disk: ReadOnlyDisk(disk).seal())
    full_at_start = on_small_disk("disk", "256k", 1, lambda disk: SmallDisk(disk).fill())

    def locked(journal: str, *statements: str) -> Callable[[Path, Path], str]:
        def make(base: Path, _temp: Path) -> str:
            data = base / "data"
            data.mkdir()
            os.environ["CONCGUI_DATA_DIR"] = str(data)
            _past_runs(base / FILE_NAME, 1)
            other = holder(base / FILE_NAME, journal, *statements)
            try:
                return _session_keeps(base / FILE_NAME, data / UNSAVED_FOLDER, 1)
            finally:
                other.stdin.close()
                other.wait(10)
                other.stdout.close()

        return make

    def foreign(base: Path, _temp: Path) -> str:
        os.environ["CONCGUI_DATA_DIR"] = str(base / "data")
        conn = sqlite3.connect(base / FILE_NAME)
        conn.executescript("CREATE TABLE runs (x); INSERT INTO runs VALUES (42); PRAGMA user_version = 0;")
        conn.close()
        return _session_keeps(base / FILE_NAME, None, 0)  # set aside: a new history keeps them

    cases = {"read_only_disk": read_only,
             "exclusive_locking_mode": locked("wal", "PRAGMA locking_mode = EXCLUSIVE", "SELECT COUNT(*) FROM runs"),
             "rollback_journal_lock": locked("delete", "BEGIN EXCLUSIVE"),
             "full_disk_at_start": full_at_start,
             "foreign_runs_table_v0": foreign}
    saved_env, saved_tempdir = os.environ.get("CONCGUI_DATA_DIR"), tempfile.tempdir
    results: dict[str, dict] = {}
    t_all = time.perf_counter()
    try:
        for name, make in cases.items():
            base = Path(tempfile.mkdtemp(prefix=f"concgui-f5-{name}-"))
            temp = base / "tmp"  # the temporary folder of this case: its stand-in history and run files
            temp.mkdir()
            tempfile.tempdir = str(temp)
            t0 = time.perf_counter()
            try:
                why = make(base, temp)
            except Exception as exc:  # noqa: BLE001 - a case that blows up is a failed case
                why = f"{type(exc).__name__}: {exc}"
            finally:
                tempfile.tempdir = saved_tempdir
            results[name] = {"pass": None if why.startswith("skipped") else not why,
                             "s": round(time.perf_counter() - t0, 3), **({"why": why[:160]} if why else {})}
    finally:
        if saved_env is None:
            os.environ.pop("CONCGUI_DATA_DIR", None)
        else:
            os.environ["CONCGUI_DATA_DIR"] = saved_env
    made = [r for r in results.values() if r["pass"] is not None]
    detail = "; ".join(f"{n}: {'skipped' if r['pass'] is None else 'pass' if r['pass'] else 'FAIL'}"
                       for n, r in results.items())
    report("history_fallbacks", time.perf_counter() - t_all, "F5: read-only disk, EXCLUSIVE locking mode, "
           "rollback-journal lock, full disk at start, foreign runs(x) v0: the session's runs are kept where the "
           "notice says and the past runs shown", bool(made) and all(r["pass"] for r in made), detail=detail,
           cases=results)


# --- F9: SIGTERM with an error box open (tests/test_faults_lifetime.py) ---------------------------------
@case("sigterm_error_box", "F9: SIGTERM ends the app within 3 s, exit 0, while an \"unexpected error\" box is open")
def sigterm_error_box() -> tuple[bool, str, float]:
    from faults_support import BOX_SCRIPT

    folder = Path(tempfile.mkdtemp(prefix="concgui-box-"))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CONCGUI_DATA_DIR=str(folder / "data"),
               XDG_CONFIG_HOME=str(folder / "config"), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", BOX_SCRIPT], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        if proc.stdout.readline().strip() != "box shown":
            return False, f"no box: {proc.stderr.read()[-250:]}", 0.0
        kids = _descendants(proc.pid)
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            return False, "still running 10 s after SIGTERM", time.perf_counter() - t0
        took = time.perf_counter() - t0
        left = _alive(kids)
        ok = proc.returncode == 0 and took < 3.0 and not left
        return ok, f"exit code {proc.returncode}; processes left: {len(left)}", took
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


CASES = [task_raises, worker_dies, worker_segfault, worker_sigkill, sys_exit_in_task, unpicklable_exception,
         bad_function, import_hangs, timeout_stuck_thread, timeout_stuck_process, stop_20000_thread_pool,
         stop_20000_process_pool, engine_killed, bad_run_files, history_locked, history_corrupt,
         export_missing_folder, fork_beside_threads, app_sigterm, app_sigkill, gil_app_sigkill, gil_engine_sigkill,
         gil_cli_sigkill, run_file_schema_check, hostile_files, export_to_device, cli_killed_keeps_run, exit_codes,
         stop_ignoring_sigterm, task_forks_on_threads, foreign_history, run_file_names_program,
         import_holds_gil, history_fallbacks, sigterm_error_box]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="The fault table: each case made to happen, one JSON line each.")
    parser.add_argument("--only", metavar="CASES", help="comma-separated case names (default: all): "
                                                        + ", ".join(c.__name__ for c in CASES))
    args = parser.parse_args(argv)
    chosen = CASES
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = sorted(set(names) - {c.__name__ for c in CASES})
        if unknown:
            parser.error(f"no such case: {', '.join(unknown)}")
        chosen = [c for c in CASES if c.__name__ in names]
    os.environ.setdefault("CONCGUI_DATA_DIR", tempfile.mkdtemp(prefix="concgui-faults-"))
    os.environ["CONCGUI_TEST_OUT"] = tempfile.mkdtemp(prefix="concgui-fault-tasks-")  # where fault tasks write
    for check in chosen:
        check()
    return 0


if __name__ == "__main__":
    sys.exit(main())

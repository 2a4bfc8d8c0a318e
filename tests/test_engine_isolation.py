"""The engine process, the no-Qt rule, running without psutil, and no worker outliving its parent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

import concgui.engine as engine
from concgui.engine import ExperimentSpec, SpecError, run

DATA = Path(__file__).resolve().parent / "data"
TASKS_FILE = str(DATA / "custom_tasks.py")
QT_NAMES = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6")

# Installed through PYTHONPATH, so it reaches the test's child Python, the engine
# process it starts and every worker process (fork, forkserver and spawn alike).
BLOCKER = '''\
import os, sys

_BLOCKED = frozenset(os.environ["CONCGUI_TEST_BLOCK"].split(","))


class _Block:
    """Makes the named top-level packages unimportable, as if they were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in _BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
        return None


sys.meta_path.insert(0, _Block())
'''

PROBE = textwrap.dedent('''\
    import json, sys

    blocked = sys.argv[1].split(",")
    for name in blocked:
        try:
            __import__(name)
        except ImportError:
            pass
        else:
            raise SystemExit(f"{name} is importable: the block does not work")

    import concgui.engine
    from concgui.engine import ExperimentSpec, list_executors, run

    QT = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6")
    loaded = lambda: sorted(m for m in sys.modules if m.partition(".")[0] in QT + ("psutil",))
    out = {"after_import": loaded(), "executors": list_executors(), "runs": []}
    for executor, isolation, method in [("sequential", "inline", None), ("threads", "inline", None),
                                        ("process-pool", "inline", "spawn"), ("sequential", "process", None),
                                        ("process-pool", "process", "forkserver")]:
        r = run(ExperimentSpec(executor=executor, isolation=isolation, start_method=method, workers=2,
                               workload="custom", function=sys.argv[2], tasks=2))
        out["runs"].append({"executor": executor, "isolation": isolation, "status": r.status,
                            "tasks": [[t.status, t.error, t.pid] for t in r.tasks],
                            "cpu_samples": len(r.cpu_samples), "psutil": r.environment["psutil"],
                            "thread_states": len(r.thread_states), "xray": r.environment["thread_states"]})
    sleep = run(ExperimentSpec(executor="threads", isolation="inline", workload="sleep", tasks=2, duration=0.3))
    out["sleep"] = {"status": sleep.status, "cpu_samples": len(sleep.cpu_samples),
                    "mean_cpu": sleep.summary["mean_cpu_percent"]}
    out["at_end"] = loaded()
    print(json.dumps(out))
    ''')


def run_blocked(tmp_path: Path, child_env, blocked: tuple[str, ...]) -> dict:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = child_env(CONCGUI_TEST_BLOCK=",".join(blocked))
    env["PYTHONPATH"] = os.pathsep.join([str(site), env["PYTHONPATH"]])
    proc = subprocess.run([sys.executable, "-c", PROBE, ",".join(blocked), f"{TASKS_FILE}:no_qt_loaded"],
                          env=env, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_engine_runs_with_qt_unimportable(tmp_path, child_env):
    out = run_blocked(tmp_path, child_env, QT_NAMES)
    assert not [m for m in out["after_import"] if m.partition(".")[0] in QT_NAMES]
    assert not [m for m in out["at_end"] if m.partition(".")[0] in QT_NAMES]
    rows = {r["name"]: r for r in out["executors"]}
    assert rows["qt-thread-pool"]["available"] is False and rows["qt-thread-pool"]["reason"]
    assert rows["threads"]["available"] is True
    assert len(out["runs"]) == 5
    for r in out["runs"]:
        # no_qt_loaded fails its task if any Qt module is loaded where it runs
        assert r["status"] == "ok", r
        assert [t[0] for t in r["tasks"]] == ["ok", "ok"], r
    engine_run = out["runs"][3]
    assert engine_run["isolation"] == "process"
    assert out["sleep"]["status"] == "ok"


def test_no_engine_module_imports_qt_anywhere_in_its_code():
    """Not at module level, and not inside a function either: the Qt half of an executor is in the Qt layer."""
    import ast

    found = []
    for path in Path(engine.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}:{node.lineno} {n}" for n in names if n.partition(".")[0] in QT_NAMES]
    assert found == []


def test_engine_runs_without_psutil_and_has_no_core_samples(tmp_path, child_env):
    out = run_blocked(tmp_path, child_env, ("psutil",))
    assert "psutil" not in out["at_end"]
    for r in out["runs"]:
        assert r["status"] == "ok", r
        assert [t[0] for t in r["tasks"]] == ["ok", "ok"], r
        assert r["cpu_samples"] == 0 and r["psutil"] is False
        assert r["thread_states"] == 0 and r["xray"] == "none"
    assert out["sleep"] == {"status": "ok", "cpu_samples": 0, "mean_cpu": None}


# --- the engine process ----------------------------------------------------------------------
def test_a_process_run_happens_in_another_process():
    result = run(ExperimentSpec(executor="sequential", workload="sleep", tasks=2, duration=0.05))
    assert result.spec["isolation"] == "process"
    assert result.status == "ok"
    engine_pid = result.environment["pid"]
    assert engine_pid != os.getpid()
    assert {t.pid for t in result.tasks} == {engine_pid}
    assert all(t.worker == "main thread" for t in result.tasks)


def test_a_baseline_gives_an_engine_run_its_speedup():
    base = run(ExperimentSpec(executor="sequential", workload="sleep", tasks=2, duration=0.2, isolation="inline"))
    result = run(ExperimentSpec(executor="threads", workload="sleep", tasks=2, duration=0.2), baseline=base)
    assert result.summary["baseline"] == "sequential"
    assert result.summary["speedup"] == pytest.approx(base.wall_seconds / result.wall_seconds)


@pytest.mark.parametrize(("executor", "extra"), [
    ("sequential", {}),
    ("thread-pool", {"workers": 2}),
    ("process-pool", {"workers": 2, "start_method": "fork"}),
    ("processes", {"start_method": "fork"}),
    ("processes", {"start_method": "spawn"}),
])
def test_tasks_that_print_do_not_corrupt_the_protocol(executor, extra):
    proc = engine.start(ExperimentSpec(executor=executor, workload="custom", function=f"{TASKS_FILE}:chatty",
                                       tasks=3, **extra))
    result = proc.execute()
    assert result.status == "ok", result.error
    assert [t.status for t in result.tasks] == ["ok"] * 3
    assert not [line for line in proc.stderr_tail if line.startswith("unreadable engine output")]
    assert any("says hello" in line for line in proc.stderr_tail), "what tasks print goes to stderr"


def test_python_field_runs_the_engine_with_that_interpreter():
    result = run(ExperimentSpec(executor="threads", workload="noop", tasks=2, python=sys.executable))
    assert result.status == "ok"
    assert result.environment["executable"] == sys.executable
    assert result.environment["pid"] != os.getpid()
    assert isinstance(result.environment["gil_enabled"], bool)
    assert result.environment["python_version"] == ".".join(map(str, sys.version_info[:3]))


def test_a_python_that_does_not_exist_is_a_spec_error(tmp_path):
    missing = str(tmp_path / "no" / "python3")
    with pytest.raises(SpecError) as err:
        run(ExperimentSpec(executor="threads", workload="noop", tasks=1, python=missing))
    assert err.value.field == "python"
    assert missing in str(err.value)


def test_a_python_that_is_not_python_fails_the_run_clearly():
    with pytest.raises(RuntimeError, match="engine process failed"):
        run(ExperimentSpec(executor="threads", workload="noop", tasks=1, python="/bin/false"))


def test_a_bad_function_in_the_engine_process_is_a_spec_error():
    with pytest.raises(SpecError) as err:
        run(ExperimentSpec(workload="custom", function="concgui_no_such_module_xyz:fn"))
    assert err.value.field == "function"
    assert "concgui_no_such_module_xyz" in str(err.value)


#: an engine that sends what the schema refuses: the real one, with a task's or a sample's value spoiled
SPOILING_ENGINE = """
import sys
import concgui.engine.events as events
import concgui.engine.records as records
from concgui.engine.isolation import parse_registered, serve

row, to_dict, memory = records.TaskRecord.to_row, records.CpuSample.to_dict, records.MemorySample.to_dict
SPOIL = {SPOIL!r}
if SPOIL == "pid":
    records.TaskRecord.to_row = lambda r: [*row(r)[:2], 2**70, *row(r)[3:]] if r.index == 1 else row(r)
elif SPOIL == "cpu":
    records.CpuSample.to_dict = lambda s: {{**to_dict(s), "tree_percent": "hot"}}
else:
    records.MemorySample.to_dict = lambda s: {{**memory(s), "per_pid": {{"1": "big"}}}}
sys.exit(serve(modules=parse_registered(sys.argv[1:])))
"""


@pytest.mark.parametrize(("spoil", "words"), [
    ("pid", "tasks[1].pid: 1180591620717411303424 is out of range"),
    ("cpu", "cpu_samples[0].tree_percent: 'hot' is not allowed"),
    ("memory", "memory_samples[0].per_pid[1]: 'big' is not allowed"),
])
def test_what_the_engine_streams_is_checked_on_arrival_and_never_reaches_the_consumer(tmp_path, spoil, words):
    (tmp_path / "spoiling_engine.py").write_text(SPOILING_ENGINE.format(SPOIL=spoil))
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\nexec {sys.executable} {tmp_path / 'spoiling_engine.py'} \"$@\"\n")
    python.chmod(0o755)
    seen: list = []
    spec = ExperimentSpec(executor="sequential", workload="sleep", duration=0.3, tasks=3, python=str(python))
    if spoil == "pid":  # one line of tasks refused: the run ends failed, saying why, without them
        baseline = run(ExperimentSpec(executor="sequential", workload="sleep", duration=0.3, tasks=3,
                                      isolation="inline"))
        result = engine.start(spec, seen.extend, baseline).execute()
        assert result.status == "failed" and words in result.error, result.error
        assert "the engine process sent a value ConcGUI refuses" in result.error
        assert result.summary.get("speedup") is None, "a run not to trust is no faster than its baseline"
    else:  # every sample refused, and the run's end that holds them: no run to show
        with pytest.raises(RuntimeError) as err:
            engine.start(spec, seen.extend).execute()
        assert str(err.value).startswith(f"the engine process failed (it sent a value ConcGUI refuses: {words}")
    finished = [e.record for e in seen if isinstance(e, engine.TaskFinished)]
    samples = [e.sample for e in seen if type(e).__name__ == "CpuSampled"]
    assert all(type(r.pid) is int and r.pid < 2**32 for r in finished), "a refused record reached the consumer"
    assert all(s.tree_percent is None or isinstance(s.tree_percent, float) for s in samples)
    memory = [e.sample for e in seen if type(e).__name__ == "MemorySampled"]
    assert all(type(v) is int for m in memory for v in m.per_pid.values()), "refused memory reached the consumer"
    assert spoil != "pid" or 1 not in {r.index for r in finished}


@pytest.mark.parametrize(("line", "field"), [(b"not json\n", "spec"), (b'{"tasks": 0}\n', "tasks"),
                                             (b'{"speed": 1}\n', "speed"), (b"\n", "spec")])
def test_the_engine_protocol_refuses_a_bad_spec(child_env, line, field):
    proc = subprocess.run([sys.executable, "-m", "concgui.engine"], input=line, capture_output=True,
                          env=child_env(), timeout=30)
    assert proc.returncode == 2, proc.stderr
    msg = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    assert msg["type"] == "spec_error" and msg["field"] == field


def _engine(child_env, *cmd: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", *cmd], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=child_env())


def _finish(proc: subprocess.Popen) -> list[dict]:
    """Read the engine's JSON lines to the end; returns every event (finished tasks as their rows)."""
    events = []
    for line in proc.stdout:
        msg = json.loads(line)
        if "events" not in msg:
            continue  # the protocol's own lines: hello, stopping
        events.extend(msg["events"])
        events.extend({"type": "task_finished", "record": row} for row in msg.get("finished", ()))
        if events and events[-1]["type"] == "run_finished":
            break
    proc.stdin.close()
    assert proc.wait(10) == 0
    proc.stdout.close()
    return events


@pytest.mark.parametrize("cmd", [("concgui.engine",), ("concgui", "engine")])
def test_the_engine_protocol_streams_json_lines(child_env, cmd):
    spec = ExperimentSpec(executor="threads", workload="sleep", tasks=2, duration=0.05).to_dict()
    proc = _engine(child_env, *cmd)
    proc.stdin.write(json.dumps(spec).encode() + b"\n")
    proc.stdin.flush()
    events = _finish(proc)
    types = [e["type"] for e in events]
    assert types[0] == "run_started" and types[-1] == "run_finished"
    assert types.count("task_finished") == 2
    assert sorted(e["record"][0] for e in events if e["type"] == "task_finished") == [0, 1]  # rows: index first
    assert events[-1]["result"]["status"] == "ok"


def test_a_flood_of_finished_tasks_travels_in_short_lines_with_the_run_finished_alone_last(child_env):
    from concgui.engine.isolation import ROWS_PER_LINE

    n = 5 * ROWS_PER_LINE
    spec = ExperimentSpec(executor="thread-pool", workload="noop", tasks=n).to_dict()
    proc = _engine(child_env, "concgui.engine")
    proc.stdin.write(json.dumps(spec).encode() + b"\n")
    proc.stdin.flush()
    lines = []
    for line in proc.stdout:
        if "events" not in (msg := json.loads(line)):
            continue  # the protocol's own lines: hello
        lines.append(msg)
        if any(e["type"] == "run_finished" for e in lines[-1]["events"]):
            break
    proc.stdin.close()
    assert proc.wait(10) == 0
    proc.stdout.close()
    assert all(len(m.get("finished", ())) <= ROWS_PER_LINE for m in lines)  # a window's reader parses each
    assert [e["type"] for e in lines[-1]["events"]] == ["run_finished"] and not lines[-1].get("finished")
    rows = [row for m in lines for row in m.get("finished", ())]
    assert sorted(row[0] for row in rows) == list(range(n))  # every task once
    assert all(m["events"] or m.get("finished") for m in lines), "no empty lines"


@pytest.mark.parametrize("how", ["cancel line", "stdin closed"])
def test_the_engine_stops_on_cancel_or_when_its_parent_goes_away(child_env, how):
    spec = ExperimentSpec(executor="process-pool", workers=2, start_method="fork", workload="sleep", tasks=4,
                          duration=30).to_dict()
    proc = _engine(child_env, "concgui.engine")
    proc.stdin.write(json.dumps(spec).encode() + b"\n")
    proc.stdin.flush()
    for line in proc.stdout:
        if any(e["type"] == "task_started" for e in json.loads(line).get("events", ())):
            break
    t = time.monotonic()
    if how == "cancel line":
        proc.stdin.write(b"cancel\n")
        proc.stdin.flush()
        events = _finish(proc)
        assert events[-1]["type"] == "run_finished"
        assert events[-1]["result"]["status"] == "cancelled"
    else:
        proc.stdin.close()
        assert proc.wait(10) == 0
        proc.stdout.close()
    assert time.monotonic() - t < 2.0 + 0.5  # the cancel limit, plus the engine's own exit


# --- nothing outlives its parent ---------------------------------------------------------------
ORPHAN_PROBE = textwrap.dedent('''\
    import sys
    import psutil
    from concgui.engine import ExperimentSpec, TaskStarted, run

    workers = set()

    def show(batch):
        if any(isinstance(e, TaskStarted) for e in batch):
            workers.update(e.pid for e in batch if isinstance(e, TaskStarted))
            # every process below this one: engine, workers, forkserver, resource tracker
            print(" ".join(str(p.pid) for p in psutil.Process().children(recursive=True)), flush=True)
            print("workers", len(workers), flush=True)

    run(ExperimentSpec(executor="process-pool", workers=2, start_method=sys.argv[1], workload="sleep",
                       tasks=4, duration=30, isolation=sys.argv[2]), on_events=show)
    ''')


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize(("method", "isolation"), [("fork", "inline"), ("forkserver", "inline"),
                                                   ("spawn", "process")])
def test_workers_and_engine_exit_when_their_parent_is_killed(child_env, method, isolation):
    proc = subprocess.Popen([sys.executable, "-c", ORPHAN_PROBE, method, isolation], stdout=subprocess.PIPE,
                            text=True, env=child_env())
    descendants: set[int] = set()
    try:
        for line in proc.stdout:
            if line.startswith("workers"):
                if int(line.split()[1]) == 2:
                    break
            else:
                descendants.update(int(p) for p in line.split())
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    orphans = descendants - {proc.pid}
    assert len(orphans) >= 2, f"expected at least the two workers: {orphans}"
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and not all(_gone(p) for p in orphans):
        time.sleep(0.1)
    left = [p for p in orphans if not _gone(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert not left, f"processes outlived their parent: {left}"

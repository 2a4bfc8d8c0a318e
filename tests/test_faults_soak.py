"""Load and soak: 200 runs back to back in one window, mixed executors and workloads, inline and in the
engine process.  Threads, child processes, open files and memory stay flat; every run is in the history.

About a minute: tiny workloads, most of them inline (an engine process costs a Python start-up).
"""

from __future__ import annotations

import gc
import sqlite3
import sys
import threading
import time

import psutil
import pytest
from PySide6.QtCore import QSettings

from concgui.engine import ExperimentSpec
from concgui.gui.main_window import MainWindow

RUNS = 200
RSS_GROWTH_LIMIT_MB = 30
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

CYCLE = [
    ExperimentSpec(workload="noop", executor="sequential", tasks=5, isolation="inline"),
    ExperimentSpec(workload="sleep", executor="threads", tasks=3, duration=0.005, isolation="inline"),
    ExperimentSpec(workload="hash", executor="thread-pool", tasks=3, duration=0.002, workers=2, isolation="inline"),
    ExperimentSpec(workload="sleep", executor="asyncio", tasks=5, duration=0.005, isolation="inline"),
    ExperimentSpec(workload="noop", executor="qt-thread-pool", tasks=5, workers=2, isolation="inline"),
    ExperimentSpec(workload="cpu", executor="sequential", tasks=2, duration=0.002, isolation="inline"),
    ExperimentSpec(workload="file-io", executor="thread-pool", tasks=2, size_mb=0.01, workers=2, isolation="inline"),
    ExperimentSpec(workload="mixed", executor="threads", tasks=2, duration=0.004, isolation="inline"),
    ExperimentSpec(workload="noop", executor="process-pool", tasks=3, workers=2, start_method="forkserver",
                   isolation="inline"),
    ExperimentSpec(workload="sleep", executor="thread-pool", tasks=3, duration=0.005, workers=2),  # engine process
]


def _helpers() -> set[int]:
    """multiprocessing's forkserver and resource tracker: started once, they live as long as the process."""
    from multiprocessing import forkserver, resource_tracker

    pids = {getattr(forkserver._forkserver, "_forkserver_pid", None),
            getattr(resource_tracker._resource_tracker, "_pid", None)}
    loky = sys.modules.get("joblib.externals.loky.backend.resource_tracker")  # the joblib executor's own tracker
    if loky is not None:
        pids.add(getattr(loky._resource_tracker, "_pid", None))
    return {p for p in pids if p}


def snapshot() -> dict:
    gc.collect()
    me = psutil.Process()
    deadline = time.monotonic() + 5  # pool workers and engine processes of the last run are reaped promptly
    while True:
        children = {p.pid for p in me.children(recursive=True)} - _helpers()
        if not children or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return {"rss_mb": me.memory_info().rss / 2**20, "threads": me.num_threads(),
            "python_threads": sorted(t.name for t in threading.enumerate()), "children": children,
            "fds": me.num_fds() if hasattr(me, "num_fds") else len(me.open_files())}


def test_200_runs_in_one_window_leave_threads_processes_files_and_memory_flat(qtbot, tmp_path):
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    db = tmp_path / "history.sqlite3"
    window = MainWindow(history_path=str(db))
    qtbot.addWidget(window)
    window.show()
    statuses = []

    def run(spec: ExperimentSpec) -> None:
        window.form.set_spec(spec)
        with qtbot.waitSignal(window.controller.run_finished, timeout=60_000) as blocker:
            window.run_button.click()
        statuses.append((spec.executor, spec.workload, blocker.args[0].status, blocker.args[0].error))

    for spec in CYCLE:  # warm up: every executor, pool and module once, before the baseline
        run(spec)
    qtbot.waitUntil(lambda: len(window.store.list_runs()) == len(CYCLE), timeout=20_000)
    before = snapshot()
    t0 = time.monotonic()
    for n in range(RUNS - len(CYCLE)):
        run(CYCLE[n % len(CYCLE)])
    took = time.monotonic() - t0
    qtbot.waitUntil(lambda: len(window.store.list_runs()) == RUNS, timeout=30_000)
    after = snapshot()
    window.close()

    failed = [s for s in statuses if s[2] != "ok"]
    assert not failed, failed[:5]
    growth = after["rss_mb"] - before["rss_mb"]
    report = (f"{RUNS} runs in {took:.0f} s; RSS {before['rss_mb']:.0f} -> {after['rss_mb']:.0f} MB, "
              f"threads {before['threads']} -> {after['threads']}, fds {before['fds']} -> {after['fds']}, "
              f"children {sorted(before['children'])} -> {sorted(after['children'])}")
    print(report)
    assert growth < RSS_GROWTH_LIMIT_MB, report
    assert after["python_threads"] == before["python_threads"], report
    assert after["threads"] <= before["threads"] + 2, report  # Qt's pool threads come and go
    assert after["children"] == before["children"] == set(), report
    assert after["fds"] <= before["fds"] + 3, report
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT COUNT(*) FROM runs WHERE finished = 1").fetchone()[0] == RUNS
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def test_a_sequence_of_process_pool_runs_holds_no_more_file_descriptors_run_after_run(qtbot, tmp_path):
    """Each finished pool leaves cycles holding its pipes; the next run of a sequence must not keep them.

    No gc.collect() here: what counts is what the window frees by itself between runs.
    """
    window = MainWindow(history_path=str(tmp_path / "history.sqlite3"))
    qtbot.addWidget(window)
    me = psutil.Process()
    fds: list[int] = []
    window.controller.run_finished.connect(lambda _result: fds.append(me.num_fds()))
    spec = ExperimentSpec(workload="noop", executor="process-pool", tasks=3, workers=2, start_method="forkserver",
                          isolation="inline")
    with qtbot.waitSignal(window.controller.sequence_finished, timeout=120_000):
        window.run_sequence([spec] * 12)
    assert len(fds) == 12
    assert fds[-1] <= fds[1] + 2, f"file descriptors after each run: {fds}"
    window.close()

"""Fixtures every test gets: a private data directory and a check that nothing is left running.

The engine starts threads and processes for a living; a test that leaves one
behind is a bug (in the engine or the test), so it fails here instead of
slowing or confusing the tests after it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

THREAD_GRACE = 2.0  # daemon helpers (parent watchers, queue feeders) end shortly after a run
PROCESS_GRACE = 3.0  # worker processes exit after their pool shuts down


# --- a private data directory per test ------------------------------------------------
@pytest.fixture(scope="session")
def _calibration_json(tmp_path_factory) -> str:
    """The cpu/hash calibration, measured once per session (it runs loops for seconds).

    Every test still gets an empty data directory of its own; this file is
    copied into it so that tests of cpu and hash workloads do not each pay
    for a new measurement. test_engine_spec.py checks the measurement itself.
    """
    from concgui.engine import calibration

    folder = tmp_path_factory.mktemp("calibration")
    saved = os.environ.get("CONCGUI_DATA_DIR")
    os.environ["CONCGUI_DATA_DIR"] = str(folder)
    try:
        calibration.factors()
    finally:
        if saved is None:
            del os.environ["CONCGUI_DATA_DIR"]
        else:
            os.environ["CONCGUI_DATA_DIR"] = saved
    return (folder / "calibration.json").read_text()


@pytest.fixture(autouse=True)
def data_dir(tmp_path_factory, monkeypatch, _calibration_json) -> Path:
    """A fresh CONCGUI_DATA_DIR for this test (with the session's calibration in it)."""
    folder = tmp_path_factory.mktemp("data")
    (folder / "calibration.json").write_text(_calibration_json)
    monkeypatch.setenv("CONCGUI_DATA_DIR", str(folder))
    return folder


# --- nothing left behind ----------------------------------------------------------------
def _multiprocessing_singletons() -> set[int]:
    """multiprocessing's own helper processes, which live as long as this process by design.

    The forkserver and the resource tracker are started once, on first use,
    and serve every later pool; the workers they fork are still checked.
    """
    from multiprocessing import forkserver, resource_tracker

    pids = {
        getattr(forkserver._forkserver, "_forkserver_pid", None),
        getattr(resource_tracker._resource_tracker, "_pid", None),
    }
    loky = sys.modules.get("joblib.externals.loky.backend.resource_tracker")  # loky's own tracker, as theirs
    if loky is not None:
        pids.add(getattr(loky._resource_tracker, "_pid", None))
    return {p for p in pids if p}


#: threads a library keeps for the life of the process by design: distributed's offload pool
PROCESS_LIFETIME_THREADS = ("Dask-Offload",)


def _new_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate()
            if t not in before and t.is_alive() and not t.name.startswith(PROCESS_LIFETIME_THREADS)]


def _new_processes(me: psutil.Process, before: set[int]) -> list[psutil.Process]:
    keep = before | _multiprocessing_singletons()
    out = []
    for p in me.children(recursive=True):
        if p.pid in keep:
            continue
        try:
            if p.is_running():
                out.append(p)
        except psutil.Error:
            pass
    return out


def _describe(p: psutil.Process) -> str:
    try:
        return f"pid {p.pid} ({p.status()}): {' '.join(p.cmdline())[:160]}"
    except psutil.Error:
        return f"pid {p.pid}"


@pytest.fixture(autouse=True)
def no_leftovers():
    """Fail the test if it leaves threads or child processes running."""
    me = psutil.Process()
    threads_before = set(threading.enumerate())
    children_before = {p.pid for p in me.children(recursive=True)}
    yield
    joblib_backend = sys.modules.get("concgui.engine.executors.joblib_backend")
    if joblib_backend is not None:  # loky keeps its workers for the next run, as long as this process lives
        joblib_backend.release_workers()
    start = time.monotonic()
    threads = _new_threads(threads_before)
    while threads and time.monotonic() - start < THREAD_GRACE:
        time.sleep(0.02)
        threads = _new_threads(threads_before)
    processes = _new_processes(me, children_before)
    while processes and time.monotonic() - start < PROCESS_GRACE:
        time.sleep(0.05)
        processes = _new_processes(me, children_before)
    if not threads and not processes:
        return
    report = [f"thread {t.name!r} (daemon={t.daemon})" for t in threads]
    report += [f"process {_describe(p)}" for p in processes]
    for p in processes:  # so the next tests do not fail for this one's leftovers
        try:
            p.kill()
        except psutil.Error:
            pass
    pytest.fail("the test left these running:\n  " + "\n  ".join(report), pytrace=False)


# --- the window --------------------------------------------------------------------------
@pytest.fixture
def window(qtbot, tmp_path):
    """A shown main window of its own (settings, history); closed at the end if still open."""
    from gui_support import open_window  # Qt only for the tests that ask for a window

    w = open_window(qtbot, tmp_path)
    yield w
    if w.isVisible():
        w.close()


# --- helpers for the engine tests -------------------------------------------------------
@pytest.fixture
def custom_out(tmp_path, monkeypatch) -> Path:
    """tests/data importable by name, and a folder the custom task functions write to.

    The folder reaches the functions through the environment, which threads,
    fork and spawn children see as it is now (a forkserver's children do not).
    """
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("CONCGUI_TEST_OUT", str(out))
    monkeypatch.syspath_prepend(str(DATA))
    return out


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a child Python: this package importable from the repository."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


@pytest.fixture
def child_env():
    """``child_env(**extra)``: an environment for ``subprocess`` runs of this package."""
    return subprocess_env


@pytest.fixture
def timeline(qtbot):
    """A shown 800 × 400 timeline in the light theme, for the chart tests."""
    from concgui.gui.views.timeline import TimelineView

    view = TimelineView(dark=False)
    qtbot.addWidget(view)
    view.resize(800, 400)
    view.show()
    return view

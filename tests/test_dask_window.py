"""The Dask executor in the window: its form fields, a live run, and closing the window mid-run."""

from __future__ import annotations

import time

import psutil
import pytest

from concgui.engine import ExperimentSpec
from concgui.gui.views.form import ExperimentForm

pytest.importorskip("distributed", reason="the dask extra is not installed: pip install -e '.[dask]'")
pytestmark = [pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints"), pytest.mark.timeout(120)]
DASK_FIELDS = ("threads_per_worker", "scheduler", "tls_ca", "tls_cert", "tls_key", "dashboard")


def shown(form: ExperimentForm, name: str) -> bool:
    return not form.fields[name].row.isHidden()


def test_the_dask_fields_show_only_for_dask_and_a_bad_address_cannot_run(window):
    form = window.form
    form.set_spec(ExperimentSpec(executor="thread-pool"))
    assert not any(shown(form, n) for n in DASK_FIELDS)
    form.set_spec(ExperimentSpec(executor="dask"))
    assert all(shown(form, n) for n in DASK_FIELDS)
    form.editor("scheduler").setText("http://cluster:8786")
    assert not form.is_valid() and form.error_field() == "scheduler"
    assert "tcp://host:port" in form.error() and not window.run_button.isEnabled()
    form.editor("scheduler").setText("tls://cluster:8786")
    assert form.error_field() == "tls_ca", "tls:// needs its certificate files"
    form.editor("scheduler").setText("")
    assert form.is_valid() and window.run_button.isEnabled()


def test_a_dask_run_shows_its_workers_lanes_and_clock_correction(qtbot, window):
    spec = ExperimentSpec(executor="dask", workload="sleep", tasks=8, duration=0.2, workers=2, threads_per_worker=2)
    window.form.set_spec(spec)
    with qtbot.waitSignal(window.controller.run_finished, timeout=60_000) as blocker:
        window.run_button.click()
    result = blocker.args[0]
    assert result.status == "ok", result.error
    text = window.console.toPlainText()
    assert "Dask: LocalCluster tcp://127.0.0.1:" in text
    assert text.count("same clock as this process, no correction") == 2
    assert "2 Dask worker processes (4 threads)" in window.summary.explanation()
    lanes = {t.worker for t in result.tasks}
    assert len(lanes) == 4 and all(" pid " in lane and "thread" in lane for lane in lanes)


def test_closing_the_window_during_a_dask_run_closes_the_cluster(qtbot, window):
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    window.form.set_spec(ExperimentSpec(executor="dask", workload="sleep", tasks=200, duration=5.0, workers=2))
    window.run_button.click()

    def running() -> bool:
        state = window.controller.state
        return state is not None and any(t.start is not None for t in state.tasks)

    qtbot.waitUntil(running, timeout=60_000)
    started = {p.pid for p in me.children(recursive=True)} - before
    assert len(started) >= 3, "the engine process and its two Dask workers run"
    t0 = time.monotonic()
    window.close()
    assert time.monotonic() - t0 < 3.0
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and any(psutil.pid_exists(p) for p in started):
        time.sleep(0.05)
    left = [p for p in started if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not left, "the cluster the run started is closed with the window"

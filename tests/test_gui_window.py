"""The main window end to end: real runs (engine process and in-app), stop, compare, history, export.

Offscreen for most tests; one test drives the real app under Xvfb.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QImage

from concgui.engine import ExperimentSpec
from concgui.engine.events import TaskFinished, TaskStarted
from concgui.engine.isolation import HOST_WAIT
from concgui.gui import image_export as export
from concgui.gui import report
from concgui.gui.history_writer import FINISH_WAIT
from concgui.gui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def run_and_wait(qtbot, w: MainWindow, spec: ExperimentSpec, timeout_ms: int = 30_000):
    w.form.set_spec(spec)
    assert w.run_button.isEnabled(), w.form.error()
    with qtbot.waitSignal(w.controller.run_finished, timeout=timeout_ms) as blocker:
        w.run_button.click()
    return blocker.args[0]


def test_the_timeline_follows_now_in_steps_not_every_frame(qtbot, window):
    """Auto-follow keeps "now" in view, but moving the view costs CPU the run needs: it moves in steps."""
    from PySide6.QtCore import QTimer

    ranges, inside = [], []
    vb = window.timeline.getViewBox()

    def look() -> None:
        state = window.controller.state
        if state is None or state.finished or window.timeline._state is not state:
            return
        (x0, x1), _ = vb.viewRange()
        ranges.append((round(x0, 6), round(x1, 6)))
        inside.append(x0 <= window.timeline._now <= x1)

    timer = QTimer()
    timer.timeout.connect(look)
    timer.start(33)
    run_and_wait(qtbot, window, ExperimentSpec(workload="sleep", executor="thread-pool", tasks=4, duration=1.0,
                                               workers=2))
    timer.stop()
    assert len(ranges) > 30, "the run was watched for its whole length"
    assert all(inside), "'now' stays in view while following"
    assert len(set(ranges)) < len(ranges) / 3, "the view moves in steps, not at every frame"


def test_the_garbage_collector_does_not_walk_a_runs_records_while_it_streams_in(qtbot, window):
    import gc

    from concgui.engine.live import NOT_STARTED

    held: list = []  # records the window held at the previous tick (kept alive: their ids stay theirs)
    walked: list[int] = []

    def on_update(state, _events) -> None:
        if held and not walked:
            earlier = {id(t) for t in held}
            walked.append(sum(1 for o in gc.get_objects() if id(o) in earlier))
        held.extend(t for t in state.tasks if t is not NOT_STARTED)

    window.controller.updated.connect(on_update)
    run_and_wait(qtbot, window, ExperimentSpec(workload="sleep", executor="thread-pool", tasks=40, duration=0.02,
                                               workers=4))
    assert walked == [0], "each collection during a flood of events walked every record so far"
    tasks = window.controller.state.tasks
    assert all(t is not NOT_STARTED for t in tasks)
    ids = {id(t) for t in tasks}
    assert any(id(o) in ids for o in gc.get_objects()), "after the run the collector sees everything again"


def test_a_live_frame_is_three_turns_of_the_event_loop_drain_timeline_cores(qtbot, window):
    seen: list = []
    window.controller.updated.connect(lambda *_: seen.append("drain"))
    window.controller.frame_step.connect(seen.append)
    run_and_wait(qtbot, window, ExperimentSpec(workload="sleep", executor="thread-pool", tasks=8, duration=0.1,
                                               workers=2))
    steps = [s for s in seen if s != "drain"]
    assert len(steps) >= 6 and all(a != b for a, b in zip(steps, steps[1:], strict=False))  # 1, 2, 1, 2, ...
    text = "".join(str(s)[0] for s in seen)  # "d" for a drain that brought events
    assert "d" in text and "1d" not in text, "a drain came between the timeline's turn and the cores' turn"


def test_the_engine_reader_and_history_writer_wait_while_the_window_takes_a_turn(qtbot, window):
    idle = window.controller.host_idle
    assert window.controller._run is None and idle.is_set()
    during: list[bool] = []
    window.controller.updated.connect(lambda *_: during.append(idle.is_set()))
    window.controller.frame_step.connect(lambda _: during.append(idle.is_set()))
    waits: list[float] = []

    class Watched(type(idle)):  # the same Event, noting how long its waiters were ready to wait
        def wait(self, timeout=None):
            waits.append(timeout)
            return super().wait(timeout)

    idle.__class__ = Watched
    run_and_wait(qtbot, window, ExperimentSpec(workload="noop", executor="thread-pool", tasks=3000))
    assert during and not any(during), "the gate is shut during every turn"
    qtbot.waitUntil(idle.is_set, timeout=1000)  # ... and opens after it
    # Briefly while tasks stream in; the writer's closing of the run (if it came yet) waits at most FINISH_WAIT.
    assert waits.count(HOST_WAIT) >= 3 and set(waits) <= {HOST_WAIT, FINISH_WAIT}, waits
    assert waits.count(FINISH_WAIT) <= 1, "the run is closed once"


def test_the_gate_opens_only_after_the_repaint_a_turn_asked_for(qtbot, window):
    idle = window.controller.host_idle
    paints: list[bool] = []  # the gate's state at each repaint of the timeline that a turn asked for
    turns: list[int] = []
    window.controller.frame_step.connect(turns.append)

    class PaintWatch(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint and turns and window.controller.is_running():
                paints.append(idle.is_set())
            return False

    watch = PaintWatch()
    viewport = window.timeline.viewport()
    viewport.installEventFilter(watch)
    try:
        run_and_wait(qtbot, window, ExperimentSpec(workload="sleep", executor="thread-pool", tasks=6,
                                                   duration=0.2, workers=2))
    finally:
        viewport.removeEventFilter(watch)
    assert len(paints) >= 3, paints
    assert not any(paints), f"{paints.count(True)} of {len(paints)} repaints came with the gate open"


def test_closing_the_window_opens_the_gate_so_the_history_writer_finishes_at_full_pace(qtbot, window):
    window.controller.host_idle.clear()  # as in the middle of a turn
    window.close()
    assert window.controller.host_idle.is_set(), "the writer would wait HOST_WAIT per chunk while closing"


def test_run_streams_live_events_into_the_views_and_history(qtbot, window):
    seen: list[str] = []
    kinds = (TaskStarted, TaskFinished)
    window.controller.updated.connect(
        lambda state, events: seen.extend(type(e).__name__ for e in events if isinstance(e, kinds)))
    result = run_and_wait(qtbot, window, ExperimentSpec(workload="sleep", executor="thread-pool", tasks=4,
                                                        duration=0.4, workers=2))
    assert result.status == "ok"
    assert result.environment["pid"] != os.getpid()  # the default runs in the engine process
    assert "TaskStarted" in seen and seen.index("TaskStarted") < seen.index("TaskFinished")
    assert window.timeline.bar_counts()["ok"] == 4
    assert sorted(set(window.timeline.lane_labels()) - {"queue"}) == ["thread 1", "thread 2"]
    assert window.progress.value() == 4
    assert "Task 0 finished" in window.console.toPlainText()
    assert "All tasks done" in window.console.toPlainText()
    qtbot.waitUntil(lambda: len(window.store.list_runs()) == 1)  # written by the history writer thread
    assert window.store.list_runs()[0]["executor"] == "thread-pool"
    qtbot.waitUntil(lambda: bool(window.history.model_row(window.store.list_runs()[0]["id"])))  # the list refreshed
    assert window.summary.value_text("wall_seconds") != "—"


def test_invalid_input_cannot_be_run(qtbot, window):
    window.form.set_spec(ExperimentSpec(workload="sleep"))
    assert window.run_button.isEnabled()
    combo = window.form.editor("workload")
    combo.setCurrentIndex(combo.findData("custom"))  # as a person would: no function named yet
    qtbot.waitUntil(lambda: not window.form.is_valid())
    assert not window.run_button.isEnabled() and not window.run_action.isEnabled()
    assert "function" in window.form.error()


def test_stop_cancels_a_long_run_within_two_seconds(qtbot, window):
    window.form.set_spec(ExperimentSpec(workload="sleep", executor="thread-pool", tasks=200, duration=5.0,
                                        workers=2))
    with qtbot.waitSignal(window.controller.updated, timeout=15_000):
        window.run_button.click()
    assert window.stop_button.isEnabled()
    started = time.monotonic()
    with qtbot.waitSignal(window.controller.run_finished, timeout=5_000) as blocker:
        window.stop_button.click()
    assert time.monotonic() - started < 2.0
    result = blocker.args[0]
    assert result.status == "cancelled"
    assert result.summary["cancelled"] >= 198
    assert window.run_button.isEnabled() and not window.stop_button.isEnabled()


def test_compare_runs_every_checked_executor_against_the_first(qtbot, window):
    window.form.set_spec(ExperimentSpec(workload="sleep", tasks=3, duration=0.2, isolation="inline"))
    for name, box in window.compare_checks.items():
        box.setChecked(name in ("sequential", "threads"))
    with qtbot.waitSignal(window.controller.sequence_finished, timeout=30_000) as blocker:
        window.compare_button.click()
    results = blocker.args[0]
    assert [r.spec["executor"] for r in results] == ["sequential", "threads"]
    assert window.compare_table.rowCount() == 2
    assert window.compare_table.item(1, 3).text().endswith("×")
    assert results[1].summary["speedup"] > 1.5  # three 0.2 s sleeps overlap in threads
    qtbot.waitUntil(lambda: len(window.store.list_runs()) == 2)


def test_a_past_run_reopens_into_every_view(qtbot, window):
    first = run_and_wait(qtbot, window, ExperimentSpec(workload="sleep", executor="threads", tasks=3,
                                                       duration=0.1, isolation="inline"))
    run_and_wait(qtbot, window, ExperimentSpec(workload="noop", executor="sequential", tasks=5,
                                               isolation="inline"))
    qtbot.waitUntil(lambda: len(window.store.list_runs()) == 2)
    first_id = min(r["id"] for r in window.store.list_runs())
    window.open_history_run(first_id)
    assert window.result.to_dict() == first.to_dict()
    assert sorted(set(window.timeline.lane_labels()) - {"queue"}) == ["thread 1", "thread 2", "thread 3"]
    assert window.form.spec().executor == "threads"
    assert "Task 2 finished" in window.console.toPlainText()
    assert window.summary.value_text("wall_seconds") != "—"


def _not_blank(path: Path, width: int) -> None:
    image = QImage(str(path))
    assert image.width() == width
    colors = {image.pixel(x, y) for x in range(0, width, 37) for y in range(0, image.height(), 23)}
    assert len(colors) > 3


def test_png_export_of_charts_and_report(qtbot, window, tmp_path):
    result = run_and_wait(qtbot, window, ExperimentSpec(workload="sleep", executor="thread-pool", tasks=3,
                                                        duration=0.1, workers=2, isolation="inline"))
    export.export_widget_png(window.timeline, tmp_path / "timeline.png", 1600)
    _not_blank(tmp_path / "timeline.png", 1600)
    export.export_widget_png(window.cores, tmp_path / "cores.png", 900)
    _not_blank(tmp_path / "cores.png", 900)
    report.save_report_png(result, tmp_path / "report.png", 1200)
    _not_blank(tmp_path / "report.png", 1200)
    with pytest.raises(OSError, match="missing"):
        export.export_widget_png(window.timeline, tmp_path / "missing" / "x.png", 800)


def test_data_exports_offer_a_name_that_says_what_ran(qtbot, window):
    result = run_and_wait(qtbot, window, ExperimentSpec(workload="sleep", executor="thread-pool", tasks=2,
                                                        duration=0.05, workers=2, isolation="inline"))
    day = time.strftime("%Y-%m-%d", time.localtime(result.started_at))
    for ext in ("csv", "json", "trace.json"):
        assert window._data_name(result, ext) == f"concgui-sleep-thread-pool-run-{day}.{ext}"


def test_closing_during_a_run_stops_it_and_leaves_no_process(qtbot, window):
    window.form.set_spec(ExperimentSpec(workload="sleep", executor="process-pool", tasks=50, duration=5.0,
                                        workers=2))
    before = set(psutil.Process().children(recursive=True))  # e.g. multiprocessing's resource tracker
    with qtbot.waitSignal(window.controller.updated, timeout=15_000):
        window.run_button.click()
    assert set(psutil.Process().children(recursive=True)) - before  # the engine and its workers run
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 3.0
    deadline = time.monotonic() + 3
    while set(psutil.Process().children(recursive=True)) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(psutil.Process().children(recursive=True)) - before == set()


def _start_xvfb():
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as f:
        display = f.readline().strip()
    return proc, f":{display}"


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed (the test command installs it)")
def test_the_real_app_runs_a_preset_on_an_x_server_and_saves_a_screenshot(tmp_path):
    xvfb, display = _start_xvfb()
    try:
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", CONCGUI_DATA_DIR=str(tmp_path),
                   XDG_CONFIG_HOME=str(tmp_path / "config"))
        shot = tmp_path / "window.png"
        out = subprocess.run([sys.executable, str(ROOT / "main.py"), "gui", "--preset", "asyncio-vs-threads-io",
                              "--screenshot", str(shot)], env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-3000:]
        image = QImage(str(shot))
        assert image.width() >= 1000 and image.height() >= 600
        colors = {image.pixel(x, y) for x in range(0, image.width(), 41) for y in range(0, image.height(), 29)}
        assert len(colors) > 10
    finally:
        xvfb.terminate()
        xvfb.wait(5)

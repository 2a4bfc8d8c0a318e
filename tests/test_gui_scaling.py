"""The scaling study in the window: real sweeps run point by point, the charts, Stop and the exports."""

from __future__ import annotations

import csv
import os
import time

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402

from concgui.engine import ExperimentSpec, SpecError  # noqa: E402
from concgui.engine.sweep import CSV_COLUMNS, SweepPoint, SweepResult, amdahl_speedup, load_sweep_json  # noqa: E402
from concgui.gui import image_export as export  # noqa: E402
from concgui.gui import theme
from concgui.gui.views.scaling import EfficiencyChart, SpeedupChart, render_sweep_image  # noqa: E402

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support (propagateSizeHints|raise)")
SLEEP = ExperimentSpec(workload="sleep", tasks=4, duration=0.1, isolation="inline")
BLUE, VERMILLION = theme.KIND_COLORS["threads"], theme.KIND_COLORS["processes"]


@pytest.fixture
def window(window):
    window.resize(1600, 900)  # wide enough for the results beside the charts (window_layout.WIDE)
    return window


def color_pixels(image: QImage, color: str, tolerance: int = 40) -> int:
    """How many pixels are close to ``color``: a series that was not drawn has none."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    data = np.frombuffer(bytes(image.constBits()), dtype=np.uint8)[: image.width() * image.height() * 4]
    bgr = data.reshape(-1, 4)[:, :3].astype(int)
    q = theme.QtGui.QColor(color)
    target = np.array([q.blue(), q.green(), q.red()])
    return int((np.abs(bgr - target).max(axis=1) < tolerance).sum())


def synthetic(s: float = 0.05, cores: int = 2) -> SweepResult:
    """process-pool scaling by Amdahl with serial fraction ``s`` up to the cores, flat beyond; threads flat."""
    sweep = SweepResult({"workload": "cpu", "tasks": 8, "duration": 0.25}, ["thread-pool", "process-pool"],
                        [1, 2, 4], 3, cores=cores)
    for r, k in enumerate((1.0, 1.03, 0.98)):
        for n in (1, 2, 4):
            sweep.points.append(SweepPoint("thread-pool", n, r, 2.0 * k, 0.0, "ok"))
            sweep.points.append(SweepPoint("process-pool", n, r, 2.0 / amdahl_speedup(s, min(n, cores)) * k, 0.2,
                                           "ok"))
    return sweep


def test_the_charts_draw_medians_ideal_cores_and_the_serial_fraction(qtbot):
    speedup, efficiency = SpeedupChart(dark=False), EfficiencyChart(dark=False)
    for chart in (speedup, efficiency):
        qtbot.addWidget(chart)
        chart.resize(900, 450)
        chart.show()
        chart.set_sweep(synthetic(0.05))
    workers, values = speedup.series["process-pool"]
    assert workers == [1, 2, 4]
    assert values == pytest.approx([1.0, amdahl_speedup(0.05, 2), amdahl_speedup(0.05, 2)])
    assert efficiency.series["process-pool"][1] == pytest.approx([100.0, 50 * amdahl_speedup(0.05, 2),
                                                                   25 * amdahl_speedup(0.05, 2)])
    assert speedup.series["thread-pool"][1] == pytest.approx([1.0, 1.0, 1.0])
    title = speedup.getPlotItem().titleLabel.text
    assert "process-pool: serial fraction s=0.05" in title and "thread-pool: serial fraction s=1.00" in title
    assert "2 cores" in title and "ideal" in title and "median of 3 runs" in title
    assert speedup._cores_line.isVisible() and speedup._cores_line.value() == 2
    assert speedup._cores_line.label.toPlainText() == "2 cores"
    hidden = SpeedupChart(dark=False)  # as in the window, before the Scaling tab is first shown
    qtbot.addWidget(hidden)
    hidden.set_sweep(synthetic(cores=4))
    assert hidden._cores_line.label.toPlainText() == "4 cores"
    assert list(speedup._reference.getData()[1]) == [1.0, 4.0]  # the ideal: speedup = workers
    assert list(efficiency._reference.getData()[1]) == [100.0, 100.0]
    assert "speedup" in speedup.getAxis("left").labelText and speedup.getAxis("bottom").labelText == "workers"
    image = export.render_image(speedup, 1000)
    assert image.width() == 1000
    assert color_pixels(image, VERMILLION) > 300 and color_pixels(image, BLUE) > 300
    x, y, row = next(d for d in speedup._drawn if d[2].executor == "process-pool" and d[2].workers == 2)
    assert f"speedup {amdahl_speedup(0.05, 2):.2f}×" in speedup.point_text(row)
    speedup.scene().sigMouseMoved.emit(speedup.getViewBox().mapViewToScene(QtCore.QPointF(x, y)))
    assert QtWidgets.QToolTip.isVisible() and "process-pool · 2 workers" in QtWidgets.QToolTip.text()
    speedup.set_sweep(None)
    assert speedup.series == {} and speedup._drawn == []


def test_a_dask_cluster_sweep_shows_no_cores_line_of_this_machine(qtbot):
    cluster = synthetic(0.05)
    cluster.spec["scheduler"] = "tcp://cluster:8786"
    cluster.executors = ["dask"]
    for p in cluster.points:
        p.executor = "dask"
    chart = SpeedupChart(dark=False)
    qtbot.addWidget(chart)
    chart.resize(900, 450)
    chart.show()
    chart.set_sweep(cluster)
    title = chart.getPlotItem().titleLabel.text
    assert not chart._cores_line.isVisible() and "cores │" not in title and "2 cores" not in title
    assert "Amdahl fit over workers &gt; 1 (the Dask cluster&#x27;s cores are not known here)" in title
    cluster.executors = ["dask", "thread-pool"]  # with a local executor: its cores, said to be this machine's
    cluster.points.append(SweepPoint("thread-pool", 1, 0, 1.0, 0.0, "ok"))
    chart.set_sweep(cluster)
    assert chart._cores_line.isVisible() and chart._cores_line.label.toPlainText() == "2 cores here"


def test_a_redraw_of_the_scaling_view_computes_the_statistics_once(qtbot, monkeypatch):
    from concgui.gui.views.scaling import ScalingView

    view = ScalingView()
    qtbot.addWidget(view)
    view.resize(900, 900)
    view.show()
    sweep = synthetic()
    computed: list[str] = []
    real = SweepResult._stats
    monkeypatch.setattr(SweepResult, "_stats", lambda self, e, base: computed.append(e) or real(self, e, base))
    view.set_sweep(sweep)  # both charts, their titles and legends, the table
    assert computed == ["thread-pool", "process-pool"] and view.table.rowCount() == 6


def test_the_view_its_tooltips_and_the_help_state_the_sweeps_one_speedup_rule(qtbot):
    from concgui.engine.sweep import EFFICIENCY_RULE, SPEEDUP_RULE
    from concgui.gui.views.help_page import _full_name
    from concgui.gui.views.scaling import TABLE_COLUMNS, ScalingView

    view = ScalingView()
    qtbot.addWidget(view)
    view.resize(900, 900)
    view.show()
    view.set_sweep(synthetic())
    assert view.status.text().endswith(f". Speedup = {SPEEDUP_RULE}.")
    header = view.table.horizontalHeaderItem
    assert [header(i).text().replace("\n", " ") for i in range(len(TABLE_COLUMNS))] == list(TABLE_COLUMNS)
    assert header(TABLE_COLUMNS.index("speedup")).toolTip().startswith(f"Speedup = {SPEEDUP_RULE}:")
    assert header(TABLE_COLUMNS.index("efficiency")).toolTip().startswith(f"Efficiency = {EFFICIENCY_RULE}:")
    row = next(r for _, _, r in view.speedup_chart._drawn if r.workers == 2)
    tip = view.speedup_chart.point_text(row).splitlines()
    assert tip[2].endswith(f"= {SPEEDUP_RULE}") and tip[3].endswith(f"= {EFFICIENCY_RULE}")
    assert view.efficiency_chart.axis_label == (f"efficiency: {EFFICIENCY_RULE}", "%")
    assert _full_name("median wall s")[1].endswith(f"The Scaling tab's speedup = {SPEEDUP_RULE}.")


def test_a_short_scaling_charts_whole_legend_tooltip_draws_each_swatch_in_its_colour(qtbot):
    import re

    from concgui.engine.present import fraction
    from concgui.gui.views.scaling import AXIS_PX, MIN_PLOT_HEIGHT, series_colors

    chart = SpeedupChart(dark=False)
    qtbot.addWidget(chart)
    chart.resize(420, MIN_PLOT_HEIGHT + AXIS_PX + 3 * 17)  # room for three title lines: the legend must stop
    chart.show()
    sweep = synthetic(0.05)
    chart.set_sweep(sweep)
    label = chart.getPlotItem().titleLabel
    assert theme.LEGEND_MORE in label.text
    tip = label.toolTip()
    assert QtGui.Qt.mightBeRichText(tip)  # shown as rich text, not as its tags
    doc = QtGui.QTextDocument()
    doc.setHtml(tip)
    lines = doc.toPlainText().splitlines()
    assert lines == [f"● thread-pool: serial fraction s={fraction(1.0)}",
                     f"● process-pool: serial fraction s={fraction(sweep.serial_fraction('process-pool'))}",
                     f"┈ Amdahl fit over {sweep.fit_range_text()}", "╌ ideal: speedup = workers", "│ 2 cores"]
    swatches = dict(re.findall(r'<span style="color:(#[0-9a-fA-F]{6})">([^<]{1,2})</span>', tip)[:2])
    assert set(swatches) == {c.lower() for c in series_colors(sweep.executors).values()}  # not the tooltip's black


def test_both_charts_render_into_one_image_without_a_window():
    image = render_sweep_image(synthetic(), 800)
    assert image.width() == 800 and image.height() > 700
    assert color_pixels(image, VERMILLION) > 300 and color_pixels(image, BLUE) > 300


def test_a_sweep_runs_from_the_window_point_by_point_and_exports(qtbot, window, tmp_path):
    window.form.set_spec(SLEEP.with_(duration=0.3))  # 1.2 s at 1 worker: a frozen window would show that gap
    seen: list[int] = []
    window.controller.run_finished.connect(lambda _r: seen.append(len(window.speedup_chart.series.get(
        "thread-pool", ([], []))[0])))
    ticks: list[float] = []  # a 20 ms timer on the UI thread: long gaps would mean the window froze
    heartbeat = QtCore.QTimer()
    heartbeat.setInterval(20)
    heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    assert window.sweep_button.isEnabled() and window.sweep_action.isEnabled()
    assert window.start_sweep(["thread-pool", "process-pool"], 4, 1)
    heartbeat.start()
    ticks.append(time.perf_counter())
    assert window.tabs.currentWidget() is window.scaling
    assert not window.run_button.isEnabled() and window.stop_button.isEnabled()
    assert not window.sweep_button.isEnabled()
    qtbot.waitUntil(lambda: not window.sweeper.is_running(), timeout=60_000)
    heartbeat.stop()
    ticks.append(time.perf_counter())
    gaps = np.diff(ticks)
    print(f"UI heartbeat during the sweep: {len(ticks)} ticks, longest gap {gaps.max() * 1000:.0f} ms")
    # the window kept answering while six runs went: a driver that waited for a run on the UI thread would
    # leave a gap of a whole run (1.2 s at 1 worker); redraws as points end are far shorter (0.1-0.44 s seen
    # with the load average at 9 on 2 cores)
    assert gaps.max() < 0.7, sorted(gaps)[-5:]
    sweep = window.sweep
    assert [(p.executor, p.workers) for p in sweep.points] == [
        ("thread-pool", 1), ("process-pool", 1), ("thread-pool", 2), ("process-pool", 2), ("thread-pool", 4),
        ("process-pool", 4)]
    assert all(p.status == "ok" for p in sweep.points)
    assert seen == [1, 1, 2, 2, 3, 3]  # the chart took each point as it came
    workers, speedups = window.speedup_chart.series["thread-pool"]
    assert workers == [1, 2, 4] and speedups[0] == 1.0 and speedups[2] > 2.5
    assert window.efficiency_chart.series["process-pool"][0] == [1, 2, 4]
    assert window.scaling.table.rowCount() == 6
    assert "done: 6 of 6 runs" in window.scaling.status.text()
    assert window.run_button.isEnabled() and window.sweep_button.isEnabled()
    qtbot.waitUntil(lambda: len(window.store.list_runs()) == 6)  # every point is a real run in the history

    export.export_widget_png(window.speedup_chart, tmp_path / "speedup.png", 1200)
    image = QImage(str(tmp_path / "speedup.png"))
    assert image.width() == 1200
    assert color_pixels(image, VERMILLION) > 300 and color_pixels(image, BLUE) > 300
    export.export_widget_png(window.efficiency_chart, tmp_path / "efficiency.png", 700)
    assert QImage(str(tmp_path / "efficiency.png")).width() == 700
    export.export_widget_svg(window.speedup_chart, tmp_path / "speedup.svg")
    svg = (tmp_path / "speedup.svg").read_text()
    assert "<svg" in svg and "serial fraction" in svg
    assert "<image" not in svg  # markers drawn as shapes, not as fragments of pyqtgraph's pixmap cache
    window.export_sweep("csv", str(tmp_path / "sweep.csv"))
    window.export_sweep("json", str(tmp_path / "sweep.json"))
    with open(tmp_path / "sweep.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 6
    assert load_sweep_json(tmp_path / "sweep.json") == sweep
    window.scaling.set_sweep(None)  # a later session: the saved study opens back into the Scaling tab
    assert window.open_sweep_file(str(tmp_path / "sweep.json")) == sweep
    assert window.scaling.sweep == sweep and window.tabs.currentWidget() is window.scaling
    (tmp_path / "broken.json").write_text('{"format": "concgui-sweep", "version": 99}')
    assert window.open_sweep_file(str(tmp_path / "broken.json")) is None
    assert "version" in window.problem_box.text() and window.scaling.sweep == sweep


def test_stop_ends_a_sweep_and_keeps_what_it_measured(qtbot, window):
    window.form.set_spec(ExperimentSpec(workload="sleep", tasks=2, duration=20.0, isolation="inline"))
    with qtbot.waitSignal(window.controller.run_started, timeout=10_000):
        assert window.start_sweep(["thread-pool"], 8, 3)
    time.sleep(0.2)
    began = time.monotonic()
    window.stop_button.click()
    qtbot.waitUntil(lambda: not window.sweeper.is_running(), timeout=10_000)
    assert time.monotonic() - began < 5
    assert [p.status for p in window.sweep.points] == ["cancelled"]
    assert "stopped: 1 of 12 runs" in window.scaling.status.text()
    assert not window.controller.is_running() and window.sweep_button.isEnabled()


def test_failed_points_are_kept_and_the_sweep_goes_on_without_a_box(qtbot, window, tmp_path):
    bad = tmp_path / "bad_tasks.py"
    bad.write_text("def work(i):\n    raise ValueError('nope')\n")
    window.form.set_spec(ExperimentSpec(workload="custom", function=f"{bad}:work", tasks=2, isolation="inline"))
    assert window.start_sweep(["thread-pool"], 2, 1)
    qtbot.waitUntil(lambda: not window.sweeper.is_running(), timeout=30_000)
    assert [(p.workers, p.status) for p in window.sweep.points] == [(1, "error"), (2, "error")]
    assert "ValueError: nope" in window.sweep.points[0].error
    assert window.speedup_chart.series == {} and "2 not ok" in window.scaling.status.text()
    assert window.problem_box is None


def test_bad_sweep_input_is_refused_naming_the_field(qtbot, window):
    window.form.set_spec(SLEEP)
    assert not window.start_sweep(["sequential"], 4, 1)
    assert "executors: sequential cannot be swept" in window.statusBar().currentMessage()
    assert not window.start_sweep(["thread-pool"], 4, 0)
    assert "repeats" in window.statusBar().currentMessage()
    assert window.sweep is None and not window.controller.is_running()


def test_the_sweep_controller_runs_point_after_point_and_keeps_a_refused_start_as_failed(qtbot, monkeypatch):
    from concgui.gui.run_controller import RunController
    from concgui.gui.sweep_controller import SweepController

    runs = RunController()
    sweeper = SweepController(runs)
    seen: list[tuple] = []
    sweeper.started.connect(lambda s: seen.append(("started", len(s.points), s.planned)))
    sweeper.point_started.connect(lambda p, s: seen.append(("run", p.workers)))
    sweeper.point_added.connect(lambda s: seen.append(("added", s.points[-1].workers, s.points[-1].status,
                                                       sweeper.remaining())))
    sweeper.finished.connect(lambda s: seen.append(("finished", len(s.points))))
    real_start = runs.start

    def start(spec, baseline=None):
        if spec.workers == 2:
            raise RuntimeError("refused")
        real_start(spec, baseline)

    monkeypatch.setattr(runs, "start", start)
    spec = ExperimentSpec(workload="noop", tasks=2, isolation="inline")
    with qtbot.waitSignal(sweeper.finished, timeout=30_000):
        sweep = sweeper.start(spec, ["thread-pool"], 4, 1)
    assert seen == [("started", 0, 3), ("run", 1), ("added", 1, "ok", 2), ("added", 2, "failed", 1), ("run", 4),
                    ("added", 4, "ok", 0), ("finished", 3)]
    assert sweep.points[1].error == "RuntimeError: refused" and not sweeper.is_running()
    with pytest.raises(SpecError, match="repeats"):
        sweeper.start(spec, ["thread-pool"], 4, 0)
    runs.shutdown()


# --- the dialog shows the experiment it sweeps ------------------------------------------------------------
def test_the_sweep_dialog_shows_the_experiment_it_will_sweep_and_lets_it_be_changed(qtbot):
    from PySide6.QtTest import QTest

    from concgui.gui.views.form import TASK_FIELDS
    from concgui.gui.views.scaling import SweepDialog

    base = ExperimentSpec(workload="noop", tasks=20_000, executor="thread-pool", chunk_size=5, isolation="inline")
    dialog = SweepDialog(base)
    qtbot.addWidget(dialog)
    dialog.show()
    form = dialog.experiment
    assert set(form.fields) == set(TASK_FIELDS)  # the window form's own fields, what each task does
    assert form.fields["workload"].value() == "noop" and form.fields["tasks"].value() == 20_000
    assert "noop × 20000 tasks" in dialog.intro.text() and dialog.run_button.isEnabled()
    assert form.fields["duration"].row.isHidden()  # as in the window: a noop task has no duration
    workload = form.editor("workload")
    workload.setCurrentIndex(workload.findData("cpu"))
    form.editor("tasks").setValue(8)
    form.editor("duration").setValue(0.25)
    assert "cpu × 8 tasks of 0.25 s" in dialog.intro.text()
    assert dialog.spec() == base.with_(workload="cpu", tasks=8, duration=0.25)  # the rest is the form's
    tasks = form.editor("tasks")
    tasks.setFocus()
    tasks.selectAll()
    QTest.keyClicks(tasks, "0")
    assert not dialog.run_button.isEnabled()
    assert form.fields["tasks"].error_label.text().startswith("⚠ Tasks: 0 is out of range; allowed:")
    tasks.stepUp()
    assert dialog.run_button.isEnabled()
    for check in dialog.checks.values():
        check.setChecked(False)
    assert not dialog.run_button.isEnabled() and "executor" in dialog.run_button.toolTip()


def test_the_window_sweeps_the_experiment_the_dialog_shows_and_the_form_follows(qtbot, window, monkeypatch):
    from concgui.gui.views.scaling import SweepDialog

    window.form.set_spec(ExperimentSpec(workload="noop", tasks=20_000, isolation="inline"))
    shown: list[str] = []

    def answer(dialog: SweepDialog) -> int:  # a person changes the workload there and presses Run
        shown.append(dialog.intro.text())
        workload = dialog.experiment.editor("workload")
        workload.setCurrentIndex(workload.findData("sleep"))
        dialog.experiment.editor("tasks").setValue(2)
        dialog.experiment.editor("duration").setValue(0.05)
        for name, check in dialog.checks.items():
            check.setChecked(name == "thread-pool")
        dialog.max_workers.setValue(2)
        dialog.repeats.setValue(1)
        return QtWidgets.QDialog.DialogCode.Accepted

    monkeypatch.setattr(SweepDialog, "exec", answer)
    window.sweep_clicked()
    assert "noop × 20000 tasks" in shown[0]  # it said what it would sweep before anything ran
    qtbot.waitUntil(lambda: not window.sweeper.is_running(), timeout=30_000)
    sweep = window.sweep
    assert (sweep.spec["workload"], sweep.spec["tasks"], sweep.spec["duration"]) == ("sleep", 2, 0.05)
    assert [(p.executor, p.workers, p.status) for p in sweep.points] == [("thread-pool", 1, "ok"),
                                                                        ("thread-pool", 2, "ok")]
    assert window.form.spec().workload == "sleep" and window.form.spec().tasks == 2

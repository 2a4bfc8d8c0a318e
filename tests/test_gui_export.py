"""A chart exported from the window is drawn at a size of its own: squeezed on screen, whole in the file."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage

from concgui.engine import ExperimentSpec, run_inline
from concgui.engine.summary import summarize
from concgui.engine.sweep import SweepPoint, SweepResult
from concgui.gui import image_export, theme
from concgui.gui.views.compare_chart import CompareChart
from concgui.gui.views.scaling import EfficiencyChart, SpeedupChart

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support (propagateSizeHints|raise)")
BLUE, VERMILLION, GREY = theme.KIND_COLORS["threads"], theme.KIND_COLORS["processes"], "#888888"


def color_pixels(image: QImage, color: str, tolerance: int = 40) -> int:
    """How many pixels are close to ``color``."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    data = np.frombuffer(bytes(image.constBits()), dtype=np.uint8)[: image.width() * image.height() * 4]
    bgr = data.reshape(-1, 4)[:, :3].astype(int)
    q = QColor(color)
    return int((np.abs(bgr - np.array([q.blue(), q.green(), q.red()])).max(axis=1) < tolerance).sum())


def study() -> SweepResult:
    sweep = SweepResult({"workload": "cpu", "tasks": 4, "duration": 0.25}, ["thread-pool", "process-pool"],
                        [1, 2, 4], 2, cores=2)
    for r, k in enumerate((1.0, 1.05)):
        for n, pool in ((1, 1.0), (2, 1.6), (4, 1.7)):
            sweep.points.append(SweepPoint("thread-pool", n, r, 1.5 * k, 0.0, "ok"))
            sweep.points.append(SweepPoint("process-pool", n, r, 1.5 / pool * k, 0.2, "ok"))
    return sweep


def squeezed(qtbot, chart, width: int, height: int):
    """``chart`` shown as a laptop's dock left it: wide and a few dozen pixels high."""
    qtbot.addWidget(chart)
    chart.resize(width, height)
    chart.show()
    qtbot.waitExposed(chart)
    return chart


def assert_a_chart_of_its_own(image: QImage, width: int) -> None:
    assert image.width() == width
    least = width * image_export.EXPORT_MIN_HEIGHT / image_export.EXPORT_MIN_WIDTH - 1
    assert image.height() >= least, f"{image.width()} × {image.height()}: the on-screen shape, not a chart's own"


@pytest.mark.parametrize("kind", [SpeedupChart, EfficiencyChart])
def test_a_squeezed_scaling_chart_exports_with_its_data(qtbot, tmp_path, kind):
    chart = squeezed(qtbot, kind(dark=False), 818, 68)  # the Scaling tab at 1280 x 775 before it was laid out
    chart.set_sweep(study())
    path = tmp_path / "chart.png"
    image_export.export_to_path(chart, path, 1600)
    image = QImage(str(path))
    assert_a_chart_of_its_own(image, 1600)
    for color in (BLUE, VERMILLION):  # both series' lines and markers, thick enough to see
        assert color_pixels(image, color) > 1500, color
    assert (chart.width(), chart.height()) == (818, 68), "the chart on screen keeps its size"
    svg = tmp_path / "chart.svg"
    image_export.export_to_path(chart, svg)
    w, h = (float(v) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg.read_text()).groups())
    assert w >= image_export.EXPORT_MIN_WIDTH and h >= image_export.EXPORT_MIN_HEIGHT


def test_the_wall_times_export_has_bars_of_a_readable_size(qtbot, tmp_path):
    results = []
    for ex in ("sequential", "threads", "thread-pool"):
        r = run_inline(ExperimentSpec(workload="sleep", executor=ex, tasks=3, duration=0.03, isolation="inline"))
        if results:
            r.summary = summarize(r, results[0])
        results.append(r)
    chart = squeezed(qtbot, CompareChart(dark=False), 560, 150)  # the Compare tab's Wall times at 1024 x 700
    chart.set_results(results)
    path = tmp_path / "walls.png"
    image_export.export_to_path(chart, path, 1600)
    image = QImage(str(path))
    assert_a_chart_of_its_own(image, 1600)
    assert color_pixels(image, BLUE, 30) > 40_000, "the two thread bars: 15 px high on screen, big in the file"
    assert (chart.width(), chart.height()) == (560, 150)


@pytest.mark.parametrize("width", [800, 1600, 3200])
def test_an_exported_chart_is_laid_out_so_its_text_reads_at_100_percent(qtbot, width):
    chart = squeezed(qtbot, SpeedupChart(dark=False), 818, 68)
    size = image_export.export_size(chart, width)
    scale = width / size.width()
    assert 1.0 <= scale <= 2.0, f"{width} px from {size.width()} logical: text × {scale:.2f}"
    if width >= image_export.EXPORT_MIN_WIDTH:
        assert size.width() >= image_export.EXPORT_MIN_WIDTH and size.height() >= image_export.EXPORT_MIN_HEIGHT


def test_a_chart_on_a_tab_not_in_front_exports_at_its_own_size_too(qtbot, tmp_path):
    from PySide6.QtWidgets import QTabWidget, QWidget

    tabs = QTabWidget()  # as the Efficiency tab of a compact Scaling tab, or the Compare tab's Wall times
    qtbot.addWidget(tabs)
    chart = EfficiencyChart(dark=False)
    tabs.addTab(QWidget(), "in front")
    tabs.addTab(chart, "behind")
    tabs.resize(600, 150)
    tabs.show()
    chart.set_sweep(study())
    assert not chart.isVisible()
    path = tmp_path / "behind.png"
    image_export.export_to_path(chart, path, 1600)
    image = QImage(str(path))
    assert_a_chart_of_its_own(image, 1600)
    assert image.height() < 1000, f"{image.height()} px: drawn at the shape it had before it was ever shown"
    assert color_pixels(image, VERMILLION) > 1500

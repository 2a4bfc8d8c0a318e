"""Many cores are drawn as their range and mean, not a line each (issue 18, F8).

A line per core is one pyqtgraph item each: 4,000 of them froze the window for 7.7 s. Above
``LINES_UP_TO`` cores the chart draws one band, lowest to busiest core, and the mean, and its legend
says so. Each test shows a real chart and paints it (``grab``), as the screen would.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from concgui.engine.records import CpuSample, RunResult  # noqa: E402
from concgui.gui.views.cores import LINES_UP_TO, CoreUsagePlot  # noqa: E402


def _result(cores: int, samples: int, seed: int = 0) -> RunResult:
    """A finished run whose samples hold ``cores`` per-core values each, 10 a second, no two alike."""
    rng = np.random.default_rng(seed)
    busy = np.clip(rng.uniform(0, 100, cores) + rng.normal(0, 3, (samples, cores)), 0, 100)
    return RunResult(spec={"workload": "cpu", "tasks": 1}, environment={"cpu_count": cores},
                     wall_seconds=0.1 * samples + 0.1,
                     cpu_samples=[CpuSample(0.1 * k + 0.05, list(busy[k]), 50.0) for k in range(samples)])


def _legend(plot: CoreUsagePlot) -> str:
    """The legend as shown: the title, and its tooltip when a short chart had to cut it."""
    label = plot.getPlotItem().titleLabel
    return label.text + label.toolTip()


def _chart(qtbot) -> CoreUsagePlot:
    plot = CoreUsagePlot(dark=False, sample=False)
    qtbot.addWidget(plot)
    plot.resize(900, 300)
    plot.show()
    return plot


def test_up_to_the_threshold_each_core_is_a_line_and_above_it_one_band_of_their_range(qtbot):
    plot = _chart(qtbot)
    lines = _result(LINES_UP_TO, 20)
    plot.set_result(lines)
    assert plot.drawn_as() == "lines" and len(plot.getPlotItem().listDataItems()) >= LINES_UP_TO
    assert plot.band_data()[0].size == 0
    assert f"one thin line per core ({LINES_UP_TO})" in _legend(plot)

    many = _result(LINES_UP_TO + 1, 20, seed=1)
    plot.set_result(many)
    values = np.array([s.per_core for s in many.cpu_samples])
    t = np.array([s.t for s in many.cpu_samples])
    assert plot.drawn_as() == "band"
    assert len(plot.getPlotItem().listDataItems()) <= 3  # the mean and the run's processes: no line per core
    x, y = plot.band_data()  # out along the busiest core, back along the lowest
    assert np.allclose(x, np.concatenate([t, t[::-1]]))
    assert np.allclose(y, np.concatenate([values.max(axis=1), values.min(axis=1)[::-1]]))
    assert np.allclose(plot.curve_data()[1], values.mean(axis=1))
    assert f"{LINES_UP_TO + 1} cores: their range" in _legend(plot) and "and mean" in _legend(plot)
    assert "one thin line per core" not in _legend(plot)

    plot.set_result(_result(2, 20))  # back to a small machine: lines again, the band gone
    assert plot.drawn_as() == "lines" and plot.band_data()[0].size == 0
    assert "one thin line per core (2)" in _legend(plot)
    plot.stop()


def test_a_4096_core_run_shows_and_paints_within_a_bound_that_holds_on_a_slow_host(qtbot):
    plot = _chart(qtbot)
    result = _result(4096, 300)  # 30 s at 10 Hz, 1.2 million values
    t0 = time.perf_counter()
    plot.set_result(result)
    plot.grab()
    took = time.perf_counter() - t0
    assert took < 3, f"showing 4,096 cores took {took:.1f} s"  # a line each: 11 s for one sample
    assert plot.drawn_as() == "band" and "4,096 cores: their range" in _legend(plot)
    plot.stop()


def test_one_sample_of_many_cores_is_a_bar_from_the_lowest_to_the_busiest(qtbot):
    plot = _chart(qtbot)
    result = _result(1000, 1)
    plot.set_result(result)
    per_core = result.cpu_samples[0].per_core
    x, y = plot.band_data()
    assert list(x) == [0.05, 0.05] and list(y) == [max(per_core), min(per_core)]
    plot.stop()


def test_a_long_run_of_64_cores_repaints_quickly(qtbot):
    """64 cores × 3,000 samples (five minutes at 10 Hz): lines 1.2 px wide took 2.7 s a repaint here."""
    plot = _chart(qtbot)
    plot.set_result(_result(64, 3000))
    plot.grab()  # the first paint lays the chart out
    t0 = time.perf_counter()
    plot.grab()
    took = time.perf_counter() - t0
    assert took < 1.5, f"a repaint took {took:.2f} s"
    assert plot.drawn_as() == "lines"
    plot.stop()

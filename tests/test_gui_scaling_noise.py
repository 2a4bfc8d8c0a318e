"""The Scaling tab says which speedups are noise (issue 17, defect 9): on the charts, in the table, in words."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from concgui.engine.sweep import SweepPoint, SweepResult  # noqa: E402
from concgui.gui.views.scaling import NOISE_MARK, TABLE_COLUMNS, ScalingView  # noqa: E402

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support (propagateSizeHints|raise)")


def sweep_of(walls: dict[int, list[float]], workload: str = "cpu") -> SweepResult:
    sweep = SweepResult({"workload": workload, "tasks": 8, "duration": 0.5}, ["process-pool"], sorted(walls), 3,
                        cores=2)
    for n, values in walls.items():
        sweep.points += [SweepPoint("process-pool", n, r, w, 0.1, "ok", None, n) for r, w in enumerate(values)]
    return sweep


NOISY = {1: [4.55, 5.2, 4.0], 2: [1.95, 2.2, 1.75], 4: [2.3, 2.4, 2.25]}  # 2.33× on 2 cores
QUIET = {1: [4.0, 4.1, 3.9], 2: [2.1, 2.15, 2.05], 4: [2.1, 2.2, 2.0]}


def marks(chart) -> list[tuple[float, float]]:
    return [(m.pos().x(), m.pos().y()) for m in chart._items if getattr(m, "textItem", None) is not None
            and m.textItem.toPlainText() == NOISE_MARK]


def test_a_superlinear_point_is_marked_on_both_charts_in_the_table_and_in_words(qtbot):
    view = ScalingView()
    qtbot.addWidget(view)
    view.resize(1100, 900)
    view.show()
    view.set_sweep(sweep_of(NOISY))
    for chart in (view.speedup_chart, view.efficiency_chart):
        [(x, _)] = marks(chart)  # one mark, over the 2-worker point
        assert abs(x - 2) < 0.2
        assert "above what the cores can give: noise, not speed" in chart.getPlotItem().titleLabel.text
    row = next(d[2] for d in view.speedup_chart._drawn if d[2].workers == 2)
    assert "⚠ process-pool: 2.33× with 2 workers on 2 cores is above what 2 cores can give" in \
        view.speedup_chart.point_text(row)
    assert view.noise.isVisible()
    assert view.noise.text().startswith("⚠ process-pool: 2.33× with 2 workers on 2 cores is above what 2 cores")
    assert "run-to-run spread ±" in view.noise.text() and "(3 repeats)" in view.noise.text()
    col = TABLE_COLUMNS.index("speedup")
    cells = {view.table.item(i, 1).text(): view.table.item(i, col) for i in range(view.table.rowCount())}
    assert cells["2"].text() == "2.33× ⚠" and "probably slowed by other programs" in cells["2"].toolTip()
    assert cells["4"].text() == "1.98×" and not cells["4"].toolTip()
    eff = view.table.item(next(i for i in range(3) if view.table.item(i, 1).text() == "2"),
                          TABLE_COLUMNS.index("efficiency"))
    assert eff.text() == "117 % ⚠"


def test_a_sweep_within_its_limits_shows_no_mark(qtbot):
    view = ScalingView()
    qtbot.addWidget(view)
    view.show()
    view.set_sweep(sweep_of(QUIET))
    assert marks(view.speedup_chart) == [] and marks(view.efficiency_chart) == []
    assert not view.noise.isVisible() and NOISE_MARK not in view.speedup_chart.getPlotItem().titleLabel.text
    view.set_sweep(sweep_of(NOISY, workload="file-io"))  # a page cache may really make it faster
    assert marks(view.speedup_chart) == [] and not view.noise.isVisible()
    view.set_sweep(None)
    assert not view.noise.isVisible()

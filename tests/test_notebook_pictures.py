"""The notebook's pictures: small for huge runs, a track per overlapping task, files, a window, the window's colours."""

from __future__ import annotations

import re

import pytest

from concgui import notebook as cg
from concgui.notebook import palette

BARS = re.compile(r'<g fill="#009E73">(.*?)</g>')  # the finished tasks' bars


def test_100000_tasks_make_a_small_svg():
    shown = cg.run(workload="noop", executor="thread-pool", workers=2, tasks=100_000, isolation="inline")
    svg = shown.svg()
    assert len(svg) < 250_000 and svg.count("<rect") < 3_000, (len(svg), svg.count("<rect"))
    assert "thread 1" in svg and "thread 2" in svg and "wall " in svg


def test_tasks_that_overlap_on_one_worker_get_a_track_each():
    shown = cg.run(workload="sleep", executor="asyncio", tasks=20, duration=0.05, isolation="inline")
    assert {t.worker for t in shown.result.tasks} == {"event loop"}
    tops = set(re.findall(r' y="([\d.]+)"', BARS.search(shown.svg()).group(1)))
    assert len(tops) - 1 == 20  # one row per task in flight, and the legend's swatch


def test_save_writes_the_svg_and_a_png_of_it(tmp_path, qapp):
    from PySide6 import QtGui

    shown = cg.run(workload="sleep", executor="threads", tasks=2, duration=0.05, isolation="inline")
    assert shown.save(tmp_path / "x.svg").read_text(encoding="utf-8") == shown.svg()
    image = QtGui.QImage(str(shown.save(tmp_path / "x.png", width=1200)))
    assert image.width() == 1200 and image.height() > 200
    colors = {image.pixelColor(x, y).name() for x in range(0, 1200, 7) for y in range(0, image.height(), 7)}
    assert "#009e73" in colors  # a task's bar was drawn, not only the background
    with pytest.raises(ValueError, match="path: 'x.gif' is not allowed; allowed: .* .png or .svg"):
        shown.save(tmp_path / "x.gif")


def test_show_opens_a_window_and_waits_until_it_is_closed(qapp):
    from PySide6 import QtCore, QtWidgets

    shown = cg.run(workload="noop", executor="sequential", tasks=3, isolation="inline")
    seen = []

    def close() -> None:
        window = next(w for w in QtWidgets.QApplication.topLevelWidgets() if w.windowTitle().startswith("ConcGUI"))
        seen.append(window.widget().pixmap().width())
        window.close()

    QtCore.QTimer.singleShot(300, close)
    shown.show()  # returns once the timer closed the window
    assert seen and seen[0] > 200


def test_the_colours_are_the_windows():
    from concgui.gui import theme

    assert palette.STATE_COLORS == {k: theme.STATE_COLORS[k] for k in palette.STATE_COLORS}
    assert palette.THREAD_STATE_COLORS == theme.THREAD_STATE_COLORS
    assert palette.THREAD_STATE_LABELS == theme.THREAD_STATE_LABELS
    assert (palette.CPU_FILL_COLOR, palette.STARTUP_COLOR) == (theme.CPU_FILL_COLOR, theme.STARTUP_COLOR)
    assert palette.KIND_COLORS == theme.KIND_COLORS and palette.EXECUTOR_KINDS == theme.EXECUTOR_KINDS

"""The notebook's pictures: small for huge runs, a track per overlapping task, files, a window, the window's colours."""

from __future__ import annotations

import re

import pytest

from concgui import notebook as cg
from concgui.engine.present import seconds
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


SWATCH = (16.0, 6.0)  # the legend's swatch of a transfer kind: (width, height)


def transfer_rects(svg: str, kind: str) -> list[tuple[float, float, float, float]]:
    """(x, y, width, height) of the ``kind`` ("sent", "returned") segments drawn, the legend's swatch left out."""
    groups = re.findall(rf'<g fill="{palette.TRANSFER_COLORS[kind]}">(.*?)</g>', svg)
    rects = [tuple(map(float, m)) for g in groups
             for m in re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/>', g)]
    return sorted(r for r in rects if r[2:] != SWATCH)


def hand_run(sent: float, returned: float):
    """Two process-pool tasks of 0.2 s on two workers, one after the other, 0.1 s of start-up before them."""
    from concgui.engine.records import RunResult, TaskRecord

    tasks = [TaskRecord(i, f"process {i + 1}", 100 + i, 1, 0.1, 0.2 + 0.4 * i, 0.4 + 0.4 * i, 0.2, "ok",
                        sent_seconds=sent * (i + 1), returned_seconds=returned * (i + 1)) for i in range(2)]
    spec = {"workload": "cpu", "executor": "process-pool", "tasks": 2, "workers": 2, "duration": 0.2,
            "arg_bytes": 20_000_000, "isolation": "inline"}
    return RunResult(spec=spec, environment={}, startup_seconds=0.1, wall_seconds=0.7 + 2 * returned, workers=2,
                     tasks=tasks)


def test_sent_and_returned_segments_sit_either_side_of_each_bar_with_their_totals():
    from concgui.notebook.stack import LEFT, RIGHT, WIDTH, render_stack

    svg = render_stack([hand_run(sent=0.05, returned=0.1)])
    # the axis: from the start-up's 0.1 s before 0 to the last result back (at 0.7 + 0.2 s) and 3 % more
    scale = (WIDTH - RIGHT - LEFT) / (0.1 + 0.9 * 1.03)

    def x(t: float) -> float:
        return LEFT + (t + 0.1) * scale

    sent, returned = transfer_rects(svg, "sent"), transfer_rects(svg, "returned")
    # task 0 ran 0.1-0.3 s since the work started, task 1 0.5-0.7 s; each sent (i + 1) × 50 ms, returned × 100 ms
    assert [v for r in sent for v in (r[0], r[0] + r[2])] == pytest.approx([x(0.05), x(0.1), x(0.4), x(0.5)], abs=0.11)
    assert [v for r in returned for v in (r[0], r[0] + r[2])] == pytest.approx([x(0.3), x(0.4), x(0.7), x(0.9)],
                                                                                abs=0.11)
    rects = re.findall(r'<rect x="[\d.]+" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/>', BARS.search(svg).group(1))
    bars = sorted((float(y), float(h)) for y, w, h in rects if w != "16")  # not the legend's swatches
    for (y, h), s, r in zip(bars, sent, returned, strict=True):  # a thin pipe: "sent" above the bar's middle
        assert s[1] + s[3] == pytest.approx(y + h / 2, abs=0.11) and r[1] == pytest.approx(y + h / 2, abs=0.11)
        assert s[3] == r[3] == pytest.approx(h * 0.2, abs=0.06)
    assert ">argument sent: 150.0 ms in all</text>" in svg and ">result returned: 300.0 ms in all</text>" in svg
    # drawn before (under) the bars: a next task's argument may travel under the bar before it
    assert svg.index(palette.TRANSFER_COLORS["sent"]) < svg.index('<g fill="#009E73">')


def test_a_run_that_copied_nothing_draws_no_segments_and_says_nothing_of_them():
    from concgui.notebook.stack import render_stack

    svg = render_stack([hand_run(sent=0.0, returned=0.0)])
    assert not any(color in svg for color in palette.TRANSFER_COLORS.values())
    assert " sent" not in svg and "returned" not in svg
    assert BARS.search(svg)  # the bars themselves were drawn


def test_a_stack_gives_each_run_its_own_totals_and_the_legend_the_sum():
    from concgui.notebook.stack import render_stack

    svg = render_stack([hand_run(sent=0.05, returned=0.0), hand_run(sent=0.1, returned=0.0)])
    headers = [t for t in re.findall(r">([^<]*)</text>", svg) if t.startswith("process-pool ·")]
    assert [h.split(" · ")[-1] for h in headers] == ["sent 150.0 ms", "sent 300.0 ms"]
    assert ">argument sent: 450.0 ms in all</text>" in svg and "returned" not in svg
    assert len(transfer_rects(svg, "sent")) == 4


def test_a_process_pool_run_given_data_draws_what_its_arguments_took_to_arrive():
    from concgui.engine.runner import run_inline
    from concgui.engine.spec import ExperimentSpec
    from concgui.notebook.stack import render_stack

    r = run_inline(ExperimentSpec(workload="cpu", executor="process-pool", workers=2, tasks=4, duration=0.02,
                                  isolation="inline", arg_bytes=5_000_000))
    total = sum(t.sent_seconds for t in r.tasks)
    assert r.status == "ok" and total > 0  # 5 MB pickled into each worker's pipe
    svg = render_stack([r])
    assert 1 <= len(transfer_rects(svg, "sent")) <= 4
    assert f">argument sent: {seconds(total)} in all</text>" in svg


def test_the_transfer_colours_are_the_windows():
    from concgui.gui import theme

    assert palette.TRANSFER_COLORS == theme.TRANSFER_COLORS


RECT = re.compile(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/>')


def rects_of(svg: str, color: str) -> list[tuple[float, float, float, float]]:
    """(x, y, width, height) of every rectangle filled with ``color`` at full opacity (bars, strips, swatches)."""
    return [tuple(map(float, m)) for g in re.findall(rf'<g fill="{color}">(.*?)</g>', svg) for m in RECT.findall(g)]


def test_a_row_per_task_keeps_the_x_ray_strip_of_its_thread_under_its_bar():
    """The CPU-bound section of the seed notebook: four threads take turns on the GIL, and each task's row shows
    its thread blocked (the strips were left out of rows per task)."""
    from concgui.engine.runner import run_inline
    from concgui.engine.spec import ExperimentSpec
    from concgui.notebook.stack import STRIP_H, render_stack

    results = [run_inline(ExperimentSpec(workload="cpu", executor=ex, tasks=4, duration=0.08, isolation="inline"))
               for ex in ("sequential", "threads")]
    assert all(r.status == "ok" and r.thread_states for r in results)
    svg = render_stack(results)
    assert ">task 0 · main thread</text>" in svg and ">task 3 · thread 4</text>" in svg  # a row per task
    bars = [r for r in rects_of(svg, palette.STATE_COLORS["ok"]) if r[2:] != (16.0, 14.0)]  # not the legend's
    assert len(bars) == 8
    strips = [r for color in palette.THREAD_STATE_COLORS.values() for r in rects_of(svg, color)
              if r[3] <= STRIP_H + 0.05 and r[2:] != (16.0, 6.0)]  # not the bars' CPU fills, not the swatches
    under: dict[tuple[float, float, float, float], list] = {bar: [] for bar in bars}
    for x, y, w, h in strips:  # each strip hangs under the bar just above it, within the bar's time
        bar = max((b for b in bars if b[1] + b[3] <= y + 0.05), key=lambda b: b[1] + b[3])
        assert bar[1] + bar[3] <= y <= bar[1] + bar[3] + STRIP_H + 4, (bar, y)
        assert bar[0] - 3.1 <= x and x + w <= bar[0] + bar[2] + 3.1, (bar, x, w)
        under[bar].append((x, y, w, h))
    assert all(under.values()), "every task's row has its strip"
    orange = rects_of(svg, palette.THREAD_STATE_COLORS["blocked"])
    blocked = {round(b[1]) for b in bars for s in under[b] if s in orange}
    assert len(blocked) >= 3  # the threads' rows: blocked on the GIL part of the time
    assert ">thread blocked</text>" in svg and ">thread on a core</text>" in svg  # and the legend says so

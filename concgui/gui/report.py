"""One image that tells a run's story: what ran, its timeline, the CPU cores, the numbers, why.

``save_report_png`` works without a window (``concgui run ... --png PATH``):
it creates the QApplication itself, on the offscreen platform when there is
no display.  The report is always dark on white, for documents and printing.

The charts are laid out at a modest logical width and rendered at the
requested pixel width, so text and lines scale up with it and stay crisp.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
import sys

from PySide6 import QtCore, QtGui, QtWidgets

from ..engine.live import RunState
from ..engine.metrics import METRICS
from ..engine.present import count, percent
from ..engine.records import RunResult
from ..engine.spec import PROCESS_EXECUTORS, executor_label
from ..engine.summary import summarize
from ..engine.why import explain
from . import theme
from .image_export import check_folder, render_image, save_image_png
from .views.cores import CoreUsagePlot
from .views.timeline import TimelineView

LOGICAL_WIDTH = 1000  # the width charts are laid out at; the image scales that up
_app: QtWidgets.QApplication | None = None  # kept alive when this module created it


def ensure_app() -> QtWidgets.QApplication:
    """The running QApplication, or a new one (offscreen when there is no display)."""
    global _app
    app = QtWidgets.QApplication.instance()
    if app is not None:
        if not isinstance(app, QtWidgets.QApplication):
            raise RuntimeError("a QCoreApplication is running; a report needs a QApplication (widgets)")
        return app
    headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless and not sys.platform.startswith(("win", "darwin")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QtWidgets.QApplication([sys.argv[0] if sys.argv else "concgui"])
    return _app


def _with_summary(result: RunResult) -> RunResult:
    """``result`` with its summary filled in (older files may lack it)."""
    if result.summary and "task_seconds" in result.summary:
        return result
    return dataclasses.replace(result, summary=summarize(result))


def title_text(result: RunResult) -> str:
    """"cpu × 4 tasks on thread-pool · 4 workers": what ran."""
    spec = result.spec
    tasks = len(result.tasks) or spec.get("tasks", 0)
    workers = result.workers
    text = (f"{spec.get('workload', '?')} × {count(tasks, 'task')} on "
            f"{executor_label(spec)} · {count(workers, 'worker')}")
    if result.status != "ok":
        text += f" · {result.status.upper()}"
    return text


def subtitle_text(result: RunResult) -> str:
    """Which Python (and whether it has a GIL), the machine, when, and the spec details that matter."""
    spec, env = result.spec, result.environment
    gil = env.get("gil_enabled", True)
    bits = [f"Python {env.get('python_version', '?')} " + ("(GIL enabled)" if gil else "(free-threaded, GIL disabled)")]
    if env.get("cpu_count"):
        bits.append(count(env["cpu_count"], "CPU core"))
    if spec.get("workload") in ("sleep", "cpu", "hash", "mixed") and spec.get("duration") is not None:
        jitter = f" ± {percent(spec['jitter'] * 100)}" if spec.get("jitter") else ""
        bits.append(f"{spec['duration']:g} s per task{jitter}")
    if env.get("start_method") and spec.get("executor") in PROCESS_EXECUTORS:
        bits.append(f"start method {env['start_method']}")
    if (spec.get("chunk_size") or 1) > 1:
        bits.append(f"chunk size {spec['chunk_size']}")
    if result.started_at:
        bits.append(_dt.datetime.fromtimestamp(result.started_at).strftime("%Y-%m-%d %H:%M"))
    if env.get("platform"):
        bits.append(str(env["platform"]))
    return " · ".join(bits)


def summary_cells(result: RunResult) -> list[tuple[str, str, str]]:
    """(label, value, hint) for each number of the summary the report shows."""
    s = result.summary
    return [(m.label, m.show(s.get(m.key)), f"vs {s['baseline']}" if m.key == "speedup" and s.get("baseline")
             else m.hint) for m in METRICS if m.in_report and (s.get(m.key) is not None or not m.optional)]


def _font(px: float, bold: bool = False) -> QtGui.QFont:
    font = QtGui.QFont(QtWidgets.QApplication.font())
    font.setPixelSize(max(6, round(px)))
    font.setBold(bold)
    return font


def _render_charts(result: RunResult, chart_width: int, scale: float) -> tuple[QtGui.QImage, QtGui.QImage]:
    """The timeline and cores charts, laid out together (same x range, same axis width)."""
    state = RunState.from_result(result)
    logical_w = round(chart_width / scale)
    timeline = TimelineView(dark=False)
    cores = CoreUsagePlot(dark=False, sample=False)
    widgets = (timeline, cores)
    try:
        for w in widgets:
            w.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        rows = len(state.lanes) + 1
        timeline.resize(logical_w, max(260, min(620, 150 + 48 * rows)))
        cores.resize(logical_w, 250)
        timeline.set_state(state)
        cores.link_x(timeline)
        cores.set_state(state)
        for w in widgets:
            w.show()
        QtWidgets.QApplication.processEvents()
        timeline.flush_pending()
        timeline.refresh()
        left = max(timeline.getAxis("left").width(), cores.getAxis("left").width())
        for w in widgets:  # the same axis width keeps one time at one x in both charts
            w.getAxis("left").setWidth(left)
        QtWidgets.QApplication.processEvents()
        return render_image(timeline, chart_width), render_image(cores, chart_width)
    finally:
        for w in widgets:
            if isinstance(w, CoreUsagePlot):
                w.stop()
            w.close()
            w.deleteLater()
        QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)


def render_report(result: RunResult, width: int = 1600) -> QtGui.QImage:
    """Compose the report image, exactly ``width`` pixels wide."""
    if width < 400:
        raise ValueError(f"width: {width} px is too narrow for a report (400 or more)")
    ensure_app()
    result = _with_summary(result)
    colors = theme.plot_colors(False)
    scale = width / LOGICAL_WIDTH
    margin = round(24 * scale)
    inner = width - 2 * margin
    gap = round(10 * scale)
    timeline_img, cores_img = _render_charts(result, inner, scale)

    title_font, sub_font = _font(20 * scale, bold=True), _font(12 * scale)
    label_font, value_font, hint_font = _font(11.5 * scale), _font(20 * scale, bold=True), _font(10 * scale)
    text_font, note_font = _font(14 * scale), _font(11 * scale)
    wrap = int(QtCore.Qt.TextFlag.TextWordWrap)

    def text_height(font: QtGui.QFont, text: str, w: int) -> int:
        return QtGui.QFontMetrics(font).boundingRect(QtCore.QRect(0, 0, w, 100000), wrap, text).height()

    title, subtitle = title_text(result), subtitle_text(result)
    cells = summary_cells(result)
    per_row = min(len(cells), 6) if width >= 1200 else 4  # more would cut their values
    n_rows = -(-len(cells) // per_row)
    cell_h = (QtGui.QFontMetrics(label_font).height() + QtGui.QFontMetrics(value_font).height()
              + QtGui.QFontMetrics(hint_font).height() + round(14 * scale))
    why = explain(result)
    note = ("Concurrency = sum of task times ÷ wall time: how many tasks overlapped.  Parallelism = CPU "
            "seconds of the tasks ÷ wall time: how many cores really computed.  Threads of CPU-bound Python "
            "share one GIL, so concurrency rises while parallelism stays near 1; processes raise both.")
    height = (margin + text_height(title_font, title, inner) + round(4 * scale)
              + text_height(sub_font, subtitle, inner) + gap
              + timeline_img.height() + gap + cores_img.height() + gap * 2
              + n_rows * cell_h + (n_rows - 1) * gap + gap * 2
              + text_height(text_font, why, inner) + gap + text_height(note_font, note, inner) + margin)

    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_ARGB32)
    image.fill(QtGui.QColor(colors["background"]))
    p = QtGui.QPainter(image)
    try:
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
        fg, muted = QtGui.QColor(colors["foreground"]), QtGui.QColor(colors["muted"])
        y = margin

        def paragraph(font: QtGui.QFont, color: QtGui.QColor, text: str) -> None:
            nonlocal y
            h = text_height(font, text, inner)
            p.setFont(font)
            p.setPen(color)
            p.drawText(QtCore.QRect(margin, y, inner, h), wrap, text)
            y += h

        paragraph(title_font, fg, title)
        y += round(4 * scale)
        paragraph(sub_font, muted, subtitle)
        y += gap
        p.drawImage(margin, y, timeline_img)
        y += timeline_img.height() + gap
        p.drawImage(margin, y, cores_img)
        y += cores_img.height() + gap * 2

        cell_w = (inner - (per_row - 1) * gap) / per_row
        card = theme.mix(colors["foreground"], colors["background"], 0.05)
        for k, (label, value, hint) in enumerate(cells):
            row, col = divmod(k, per_row)
            x0 = round(margin + col * (cell_w + gap))
            y0 = y + row * (cell_h + gap)
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.setBrush(card)
            p.drawRoundedRect(QtCore.QRectF(x0, y0, cell_w, cell_h), 6 * scale, 6 * scale)
            pad = round(8 * scale)
            cy = y0 + round(6 * scale)
            for font, color, text in ((label_font, muted, label), (value_font, fg, value), (hint_font, muted, hint)):
                p.setFont(font)
                p.setPen(color)
                metrics = QtGui.QFontMetrics(font)
                fh = metrics.height()
                text = metrics.elidedText(text, QtCore.Qt.TextElideMode.ElideRight, round(cell_w) - 2 * pad)
                p.drawText(QtCore.QRect(x0 + pad, cy, round(cell_w) - 2 * pad, fh),
                           int(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter), text)
                cy += fh
        y += n_rows * cell_h + (n_rows - 1) * gap + gap * 2
        paragraph(text_font, fg, why)
        y += gap
        paragraph(note_font, muted, note)
    finally:
        p.end()
    return image


def save_report_png(result: RunResult, path: str | os.PathLike, width: int = 1600) -> None:
    """Write the report of ``result`` as a PNG ``width`` pixels wide, atomically; no window needed."""
    check_folder(path)  # before the rendering work
    save_image_png(render_report(result, width), path)

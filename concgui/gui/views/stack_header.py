"""The header above the Compare stack's timelines: what ran, what the colours and marks mean, a line per executor.

A graphics view rather than a label, so that an export of the stack (:mod:`.compare_stack`) draws it
with the timelines, in one image.  Its table (:func:`header_table`) gives each executor's wall time,
speedup, concurrency and parallelism, the numbers ``concgui compare`` prints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...engine.baseline import baselines, experiment_text, experiments
from ...engine.metrics import COMPARE_COLUMNS, metric
from ...engine.present import seconds
from ...engine.records import RunResult
from .. import theme
from .compare_chart import speed_text

_COLUMNS = {c.label: c for c in COMPARE_COLUMNS}


class StackHeader(pg.GraphicsView):
    """Above the timelines: what ran, what the colours and marks mean, and a line per executor.

    A graphics view (not a label) so that an export draws it with the charts, in one image: ``panel``
    is the item exported, one text item on it, wrapped to the view's width, the view as tall as the text.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None, dark: bool | None = None) -> None:
        super().__init__(parent)
        self._dark = dark
        self._parts: tuple[list[tuple[str, str]], list[tuple[str, str]], str] = ([], [], "")
        self.panel = pg.GraphicsWidget()
        self.setCentralItem(self.panel)  # sized to the view by pyqtgraph at each resize
        self._text = QtWidgets.QGraphicsTextItem(self.panel)
        self._text.setPos(6, 4)
        font = QtGui.QFont(self.font())
        font.setPointSizeF(theme.TITLE_POINTS)
        self._text.setFont(font)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
        self.setFixedHeight(40)
        self._rewrap = QtCore.QTimer(self, singleShot=True, interval=0)
        self._rewrap.timeout.connect(self._layout_text)
        self._apply_theme()

    def set_parts(self, head: list[tuple[str, str]], legend: list[tuple[str, str]], table: str) -> None:
        """The title's parts and legend (html, plain) as :func:`theme.fit_title` takes them, and the table's HTML."""
        self._parts = (head, legend, table)
        self._layout_text()

    def text(self) -> str:
        """Everything the header says, as plain text (tests)."""
        return self._text.toPlainText()

    def _layout_text(self) -> None:
        head, legend, table = self._parts
        colors = theme.plot_colors(self._dark)
        width = max(200.0, self.width() - 12.0)
        html = theme.fit_title(width, head, legend, colors["foreground"]) if head else ""
        self._text.setDefaultTextColor(QtGui.QColor(colors["foreground"]))
        self._text.setTextWidth(width)
        self._text.setHtml(html + table)
        height = math.ceil(self._text.boundingRect().height()) + 8
        if height != self.height():
            self.setFixedHeight(height)

    def _apply_theme(self) -> None:
        self.setBackground(theme.plot_colors(self._dark)["background"])
        self._layout_text()

    def set_dark(self, dark: bool | None) -> None:
        self._dark = dark
        self._apply_theme()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)  # pyqtgraph calls it with None, too
        if event is not None and "_parts" in self.__dict__ and event.oldSize().width() != event.size().width():
            # wrapped anew in a turn of its own: a height set inside a resize event gets no resize event, and
            # the view's viewport and scene keep the old height (the last line cut, a blank band below)
            self._rewrap.start()

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() in (QtCore.QEvent.Type.PaletteChange, QtCore.QEvent.Type.ApplicationPaletteChange) \
                and "_parts" in self.__dict__:
            self._apply_theme()
        super().changeEvent(event)


def header_table(results: Sequence[RunResult], dark: bool | None = None) -> str:
    """One row per executor: wall, speedup, concurrency, parallelism (HTML; the numbers ``concgui compare`` prints).

    The workers are in each timeline's title; what the two averages mean is said under the table,
    in words, since a picture has no tooltips.
    """
    colors = theme.plot_colors(dark)
    bases, several = baselines(results), len(experiments(results)) > 1
    heads = ["", "executor", "wall", "speedup", "concurrency", "parallelism"] + (["experiment"] if several else [])

    def row(cells: list[str], tag: str) -> str:
        return "<tr>" + "".join(f'<{tag} align="{"left" if k < 2 or k > 5 else "right"}" '
                                f'style="white-space:nowrap; padding: 0px 10px 0px 0px">{c}</{tag}>'
                                for k, c in enumerate(cells)) + "</tr>"

    rows = [row(heads, "th")]
    for r, base in zip(results, bases, strict=True):
        kind = theme.executor_kind(r.spec)
        rows.append(row([f'<span style="color:{theme.KIND_COLORS[kind]}">■</span>', _COLUMNS["executor"].show(r),
                         seconds(r.wall_seconds, 2), "baseline" if r is base else speed_text(base, r),
                         _COLUMNS["concurrency"].show(r), _COLUMNS["parallelism"].show(r)]
                        + ([experiment_text(r.spec)] if several else []), "td"))
    first = "the first run of the same experiment's" if several else "the first run's"
    words = (f"wall: {metric('wall_seconds').hint}; speedup: {first} wall ÷ this wall; "
             f"concurrency: tasks in flight, on average; parallelism: cores computing, on average")
    return (f'<table cellspacing="0" cellpadding="0" style="margin-top:4px">{"".join(rows)}</table>'
            f'<span style="color:{colors["muted"]}">{words}</span>')

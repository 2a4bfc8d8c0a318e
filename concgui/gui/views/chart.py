"""What every ConcGUI chart shares: a title that fits its width, and the system theme followed live."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from .. import theme

MIN_PLOT_PX = 110  # the height a chart keeps for its plot and axis before its legend gets lines
LINE_PX = 17  # one line of title text


def legend_tooltip(legend: list[tuple[str, str]]) -> str:
    """The whole legend as a rich-text tooltip, an entry a line: its swatches in their colours, as in the title
    (plain text would draw every swatch in the tooltip's black)."""
    lines = "<br>".join(html for html, _ in legend)
    return f'<html><div style="white-space:nowrap">{lines}</div></html>'


class ThemedPlot(pg.PlotWidget):
    """Base of the timeline, cores and comparison charts.

    A subclass sets ``self._ready = True`` at the end of its ``__init__`` and
    overrides ``_on_width_changed`` (re-fit titles and labels) and
    ``_apply_theme`` (re-colour after a palette change).
    """

    def _alive(self) -> bool:
        """Built and not closed (pyqtgraph's close() drops the plot, then Qt still sends events)."""
        return "_ready" in self.__dict__ and self.plotItem is not None and not getattr(self, "closed", False)

    def _set_title(self, html: str) -> None:
        if html != getattr(self, "_title_html", None):  # re-laying out rich text is dear: only on a change
            self._title_html = html
            theme.set_title(self, html)
            # laid out now, in the turn that changed it: a title that gained a line (a legend's new
            # swatches) would otherwise be laid out by a posted request, and repainted, after the turn
            self.getPlotItem().layout.activate()

    def _set_legend_title(self, room: float, head: list[tuple[str, str]], legend: list[tuple[str, str]],
                          color: str, reserved: float = MIN_PLOT_PX) -> None:
        """The title and legend in ``room`` pixels, in no more lines than leave ``reserved`` pixels of this
        chart's height to the plot and its axis (:data:`MIN_PLOT_PX` unless a chart needs more); where the
        legend had to stop, hovering the title gives all of it, each swatch in its colour."""
        max_lines = max(2, int((self.height() - reserved) // LINE_PX))
        html = theme.fit_title(room, head, legend, color, max_lines)
        self._set_title(html)
        whole = theme.LEGEND_MORE in html
        self.getPlotItem().titleLabel.setToolTip(legend_tooltip(legend) if whole else "")

    def _on_width_changed(self) -> None:
        pass

    def _apply_theme(self) -> None:
        pass

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt's name
        if self._alive() and event.oldSize() != event.size():  # a new height may need a shorter legend
            self._on_width_changed()
        super().resizeEvent(event)  # after the title shrank: the layout then fits the new width

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 - Qt's name
        if self._alive() and event.type() in (QtCore.QEvent.Type.PaletteChange,
                                              QtCore.QEvent.Type.ApplicationPaletteChange):
            self._apply_theme()
        super().changeEvent(event)

"""Where the Results dock sits: beside the charts on a wide window, under them on a narrow one.

The charts get width first: a timeline narrower than about 600 px wraps its legend into half its
height and cuts long texts.  Below :data:`WIDE` pixels the Results dock moves under the charts; once the
person moves a dock themselves, their choice stands.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea

#: narrower windows put the results under the charts (the default 1280 px window does)
WIDE = 1500
RIGHT_WIDTH = 560  # the dock beside the charts: the History table's columns all fit
RIGHT, BOTTOM = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea


class ResultsPlacement(QObject):
    """Moves ``dock`` between the right and the bottom of ``window`` as the window's width crosses WIDE."""

    def __init__(self, window: QMainWindow, dock: QDockWidget) -> None:
        super().__init__(window)
        self._window, self._dock = window, dock
        self._moving = False
        self._placed = False  # sized once by this object, whichever side it starts on
        self.manual = False  # the person placed the dock: leave it where they put it
        # the Experiment dock keeps the whole left side: the results go under the charts only
        window.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        dock.dockLocationChanged.connect(self._on_moved)
        # under the charts the dock may be shorter than its pages would like: it scrolls, never squeezes
        scroll = QScrollArea()
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(dock.widget())
        dock.setWidget(scroll)
        self._timer = QTimer(self, singleShot=True, interval=0)  # after the resize, not inside it
        self._timer.timeout.connect(self.apply)
        window.installEventFilter(self)

    def area_for(self, width: int) -> Qt.DockWidgetArea:
        return RIGHT if width >= WIDE else BOTTOM

    def apply(self) -> None:
        """Put the dock where the window's width wants it (unless the person chose)."""
        if self.manual or self._dock.isFloating():
            return
        want = self.area_for(self._window.width())
        if self._window.dockWidgetArea(self._dock) == want and self._placed:
            return
        self._placed = True
        self._moving = True
        try:
            self._window.addDockWidget(want, self._dock)
            if want == BOTTOM:
                self._window.resizeDocks([self._dock], [max(180, int(self._window.height() * 0.3))],
                                         Qt.Orientation.Vertical)
            else:
                self._window.resizeDocks([self._dock], [RIGHT_WIDTH], Qt.Orientation.Horizontal)
        finally:
            self._moving = False

    def make_room(self, share: float = 0.62) -> None:
        """Under the charts, grow the dock to ``share`` of the window's height: a Compare's stack of timelines
        is the picture to look at then."""
        if self._window.dockWidgetArea(self._dock) == BOTTOM and not self._dock.isFloating():
            self._window.resizeDocks([self._dock], [int(self._window.height() * share)], Qt.Orientation.Vertical)

    def eventFilter(self, obj: QObject, event) -> bool:  # noqa: N802 (Qt's name)
        if obj is self._window and event.type() in (event.Type.Resize, event.Type.Show):
            self._timer.start()
        return False

    def _on_moved(self, _area: Qt.DockWidgetArea) -> None:
        if not self._moving and self._window.isVisible():
            self.manual = True

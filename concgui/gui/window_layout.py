"""Where the Results dock sits: beside the charts on a wide window, under them on a narrow one.

The charts get width first: a timeline narrower than about 600 px wraps its legend into half its
height and cuts long texts.  Below :data:`WIDE` pixels the Results dock moves under the charts; once the
person moves a dock themselves, their choice stands.

After a Compare (or a scaling study) the dock under the charts grows to show its pictures
(:meth:`ResultsPlacement.make_room`); the next run gets that room back for its live timeline
(:meth:`ResultsPlacement.give_back`), unless the person sized the dock in between.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, SignalInstance
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea

#: narrower windows put the results under the charts (the default 1280 px window does)
WIDE = 1500
ROOM_SHARE = 0.62  # of the window's height, for the dock under the charts after a Compare
RIGHT_WIDTH = 560  # the dock beside the charts: the History table's columns all fit
RIGHT, BOTTOM = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea


class ResultsPlacement(QObject):
    """Moves ``dock`` between the right and the bottom of ``window`` as the window's width crosses WIDE.

    ``run_started`` gives back the room a Compare took (:meth:`give_back`).
    """

    def __init__(self, window: QMainWindow, dock: QDockWidget, run_started: SignalInstance) -> None:
        super().__init__(window)
        self._window, self._dock = window, dock
        self._moving = False
        self._placed = False  # sized once by this object, whichever side it starts on
        self.manual = False  # the person placed the dock: leave it where they put it
        self._lent: float | None = None  # while make_room's size stands: the dock's share of the height before
        self._pressed: int | None = None  # the dock's height when a press on the window's separators began
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
        run_started.connect(self.give_back)

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
        self._lent = None  # sized anew for this side
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

    def _under(self) -> bool:
        return self._window.dockWidgetArea(self._dock) == BOTTOM and not self._dock.isFloating()

    def make_room(self, share: float = ROOM_SHARE) -> None:
        """Under the charts, grow the dock to ``share`` of the window's height: a Compare's stack of timelines
        (or a scaling study's charts) is the picture to look at then. A dock already that tall keeps its size."""
        height = self._window.height()
        if not self._under() or height <= 0 or self._dock.height() >= int(height * share):
            return
        if self._lent is None:  # a second Compare keeps the size from before the first
            self._lent = self._dock.height() / height
        self._window.resizeDocks([self._dock], [int(height * share)], Qt.Orientation.Vertical)

    def give_back(self, *_args: object) -> None:
        """Give the room :meth:`make_room` took back to the charts: a run's live timeline and CPU chart need
        it (under 130 px the lanes lose labels and the CPU ticks overlap). Nothing when the person sized or
        moved the dock since: their size stands."""
        share, self._lent = self._lent, None
        if share is not None and self._under() and not self.manual:
            self._window.resizeDocks([self._dock], [max(1, round(self._window.height() * share))],
                                     Qt.Orientation.Vertical)

    @property
    def lent(self) -> bool:
        """make_room's size stands: the next run gives it back."""
        return self._lent is not None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if obj is not self._window:
            return False
        kind = event.type()
        if kind in (QEvent.Type.Resize, QEvent.Type.Show):
            self._timer.start()
        elif (kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton
              and self._window.childAt(event.position().toPoint()) is None):
            self._pressed = self._dock.height()  # on no widget: a separator between the docks and the charts
        elif kind == QEvent.Type.MouseButtonRelease and self._pressed is not None:
            QTimer.singleShot(0, self, self._after_drag)  # once the window has moved the separator its last step
        return False

    def _after_drag(self) -> None:
        if self._pressed is not None and self._dock.height() != self._pressed:
            self._lent = None  # the person sized the dock: theirs now
        self._pressed = None

    def _on_moved(self, _area: Qt.DockWidgetArea) -> None:
        if not self._moving and self._window.isVisible():
            self.manual = True

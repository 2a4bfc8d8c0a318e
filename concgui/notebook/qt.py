"""The only part of the notebook package that uses Qt, imported when asked for: PNG files and a window.

A PNG is the SVG drawn by Qt's QSvgRenderer (PySide6-Essentials ships QtSvg) into a QImage, so
the file shows exactly what the notebook shows. ``show`` opens that picture in a window and waits
until it is closed, in a local event loop; the notebook itself never runs Qt.
"""

from __future__ import annotations

import os

from PySide6 import QtCore, QtGui, QtSvg, QtWidgets

from ..gui.image_export import image_to_png_bytes, write_bytes_atomic
from ..gui.report import ensure_app

DEFAULT_WIDTH = 1600  # pixels of a PNG, as the command line's images
_open: set[QtWidgets.QWidget] = set()  # windows shown without waiting: kept alive until closed


def render_png(svg: str, width: int = DEFAULT_WIDTH) -> QtGui.QImage:
    """``svg`` drawn ``width`` pixels wide on white (the height keeps its aspect)."""
    if not 200 <= width <= 10_000:
        raise ValueError(f"width: {width} is not allowed; allowed: a whole number from 200 to 10,000")
    ensure_app()  # fonts need a QGuiApplication: offscreen when there is no display
    renderer = QtSvg.QSvgRenderer(QtCore.QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise ValueError("Qt could not read the picture's SVG")
    size = renderer.defaultSize()
    height = max(1, round(width * size.height() / max(1, size.width())))
    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_ARGB32)
    image.fill(QtGui.QColor("white"))
    painter = QtGui.QPainter(image)
    try:
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
        renderer.render(painter, QtCore.QRectF(0, 0, width, height))
    finally:
        painter.end()
    return image


def save_png(svg: str, path: str | os.PathLike, width: int = DEFAULT_WIDTH) -> None:
    """Write ``svg`` as a PNG ``width`` pixels wide, atomically."""
    write_bytes_atomic(path, image_to_png_bytes(render_png(svg, width)))


def show(svg: str, title: str, block: bool = True) -> QtWidgets.QWidget:
    """Open the picture in a window, scrolled when taller than the screen.

    ``block``: wait in a local event loop until the window is closed (a plain REPL or a script);
    False only shows it, for a session whose Qt event loop already runs (IPython's ``%gui qt``).
    """
    app = ensure_app()
    screen = app.primaryScreen()
    available = screen.availableGeometry() if screen is not None else QtCore.QRect(0, 0, 1600, 1000)
    ratio = screen.devicePixelRatio() if screen is not None else 1.0
    width = min(available.width() - 40, 1400)
    image = render_png(svg, max(200, round(width * ratio)))
    image.setDevicePixelRatio(ratio)
    label = QtWidgets.QLabel()
    label.setPixmap(QtGui.QPixmap.fromImage(image))
    window = QtWidgets.QScrollArea()
    window.setWidget(label)
    window.setWindowTitle(f"ConcGUI · {title}")
    window.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    window.resize(width + 24, min(available.height() - 40, round(image.height() / ratio) + 24))
    _open.add(window)
    window.destroyed.connect(lambda *_: _open.discard(window))
    window.show()
    if block:
        loop = QtCore.QEventLoop()
        window.destroyed.connect(loop.quit)
        loop.exec()
    return window

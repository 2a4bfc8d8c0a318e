"""Charts to PNG and SVG files, written atomically.

Every writer renders to memory first, then writes a temporary file in the
target folder and renames it over the target, so a failed export never
leaves half an image behind (and never clobbers a good one); a device or a
pipe is written through, a folder or a socket refused, as every export is
(:func:`concgui.engine.exports.write_atomic`).

A chart exported on its own (File ▸ Export chart, its right-click menu) is laid
out for the file at a size of its own (:func:`export_size`), whatever its size
on screen: a chart a laptop's dock squeezed to 70 px would give a file with no
plot in it.  A chart made of several (the Compare tab's stack of timelines)
offers ``export_parts(width)``: a context manager giving the charts to stack,
laid out for that width.  One dialog asks where to save and, for a PNG, how wide;
:func:`suggested_name` gives it a file name that says what the image shows.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6 import QtCore, QtGui, QtSvg, QtWidgets

from ..engine.exports import target_kind, write_atomic

DEFAULT_WIDTH = 1600
#: a chart exported on its own is laid out at least this large (logical px) for a PNG this wide or wider,
#: and for an SVG; a narrower PNG is laid out at its own width, so that its text stays at reading size
EXPORT_MIN_WIDTH, EXPORT_MIN_HEIGHT = 1200, 700
EXPORT_MIN_LOGICAL = 600  # the narrowest layout: below it titles and tick labels crowd
EXPORT_MAX_LOGICAL = 1600  # a wider PNG draws this layout larger (its text as on a HiDPI screen)
SETTINGS_FOLDER_KEY = "export/folder"
SETTINGS_WIDTH_KEY = "export/width"

ExportTarget = pg.PlotWidget | pg.PlotItem | QtWidgets.QGraphicsItem


def check_folder(path: str | os.PathLike) -> Path:
    """The folder a file export of ``path`` goes to, or an OSError naming what stops it: a missing or
    read-only folder, or a target an export never replaces (a folder, a socket: see
    :func:`~concgui.engine.exports.write_atomic`). Called before the rendering work, to fail early."""
    path = Path(path).expanduser()
    mode = target_kind(path)
    if mode is not None and not stat.S_ISREG(mode):  # a device or a pipe: written through, no folder needed
        return path.parent
    folder = Path(os.path.realpath(path)).parent  # a link's target is what is replaced
    if not folder.is_dir():
        raise OSError(f"cannot save {path.name}: the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OSError(f"cannot save {path.name}: the folder {str(folder)!r} is read-only")
    return folder


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` as every export is written (:func:`~concgui.engine.exports.write_atomic`)."""
    check_folder(path)
    write_atomic(Path(path).expanduser(), lambda f: f.write(data), binary=True)


def image_to_png_bytes(image: QtGui.QImage) -> bytes:
    """PNG bytes of a QImage (raises OSError if Qt cannot encode it)."""
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError("Qt could not encode the image as PNG")
    return bytes(buffer.data())


def save_image_png(image: QtGui.QImage, path: str | os.PathLike) -> None:
    """Save a QImage as PNG, atomically."""
    check_folder(path)  # fail before encoding a large image
    write_bytes_atomic(path, image_to_png_bytes(image))


def _plot_item(target: ExportTarget) -> QtWidgets.QGraphicsItem:
    """The graphics item to export for a PlotWidget, PlotItem or any scene item."""
    if isinstance(target, pg.PlotWidget):
        return target.getPlotItem()
    return target


@contextlib.contextmanager
def _targets(target: ExportTarget | Sequence[ExportTarget], width: int = DEFAULT_WIDTH) -> Iterator[list[ExportTarget]]:
    """The charts to export, a composite's parts (laid out for ``width``) in its place, each with any
    relayout it still has pending done first (the timeline just after a run ends), so the file shows
    what the screen is about to."""
    given = list(target) if isinstance(target, (list, tuple)) else [target]
    with contextlib.ExitStack() as parts:
        targets: list[ExportTarget] = []
        for t in given:
            export_parts = getattr(t, "export_parts", None)
            targets.extend(parts.enter_context(export_parts(width)) if export_parts is not None else [t])
        for t in targets:
            flush = getattr(t, "flush_pending", None)
            if flush is not None:
                flush()
        yield targets


def export_size(target: ExportTarget, width: int | None = None) -> QtCore.QSize:
    """The logical size a chart exported on its own is laid out at for a PNG ``width`` px wide (None: an SVG).

    As wide as the image up to :data:`EXPORT_MAX_LOGICAL` (so its text is drawn at least at screen size),
    at least :data:`EXPORT_MIN_WIDTH` for an SVG, and at least 7/12 as high as wide (1200 × 700), or as
    high as on screen when that is more (a timeline of many lanes).
    """
    if width is None:
        logical = EXPORT_MIN_WIDTH
        if isinstance(target, QtWidgets.QWidget):
            logical = max(EXPORT_MIN_WIDTH, min(target.width(), EXPORT_MAX_LOGICAL))
    else:
        logical = max(EXPORT_MIN_LOGICAL, min(int(width), EXPORT_MAX_LOGICAL))
    height = round(logical * EXPORT_MIN_HEIGHT / EXPORT_MIN_WIDTH)
    if isinstance(target, QtWidgets.QWidget) and target.width() > 0:  # its own shape when taller than that
        height = max(height, round(target.height() * logical / max(target.width(), logical)))
    return QtCore.QSize(logical, height)


def _resize(view: pg.GraphicsView, size: QtCore.QSize) -> None:
    """Lay ``view`` out at ``size`` now, shown or not (a chart on a tab not in front gets no resize event)."""
    old = view.size()
    view.resize(size)
    if not view.isVisible():  # Qt keeps a hidden widget's resize event until it is shown: lay it out now
        view.resizeEvent(QtGui.QResizeEvent(size, old))
    _lay_out(view)
    central = getattr(view, "centralWidget", None)
    if central is not None:  # the axes size themselves to their tick labels as they paint: paint once, again
        scratch = QtGui.QImage(size, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        painter = QtGui.QPainter(scratch)
        try:
            view.scene().render(painter, QtCore.QRectF(scratch.rect()), central.sceneBoundingRect())
        finally:
            painter.end()
        _lay_out(view)


def _lay_out(view: pg.GraphicsView) -> None:
    """The chart's pending layout done now, not in a later turn of the event loop."""
    layout = getattr(getattr(view, "centralWidget", None), "layout", None)
    if callable(layout):  # a plain QGraphicsWidget's; pyqtgraph's PlotItem keeps its layout in an attribute
        layout = layout()
    if layout is not None:
        layout.activate()
    flush = getattr(view, "flush_pending", None)
    if flush is not None:
        flush()


@contextlib.contextmanager
def own_size(target: ExportTarget, width: int | None = None) -> Iterator[None]:
    """Within the block, ``target`` (a chart widget) is laid out at :func:`export_size`; then as it was.

    Its title and legend are fitted to that size too: a chart on a laptop's screen keeps its legend
    short ("hover the title"), the file has room for all of it.
    """
    if not isinstance(target, pg.GraphicsView):  # a plot item or a scene item: its view's size is the screen's
        yield
        return
    size, old = export_size(target, width), target.size()
    if size == old:
        yield
        return
    _resize(target, size)
    try:
        yield
    finally:
        _resize(target, old)


def render_image(target: ExportTarget | Sequence[ExportTarget], width: int = DEFAULT_WIDTH,
                 antialias: bool = True, own: bool = False) -> QtGui.QImage:
    """Render a chart into a QImage exactly ``width`` pixels wide (height keeps the aspect).

    A list of charts is stacked, the first on top, each ``width`` wide, on the first one's background.
    With ``own``, one chart (not a list, nor a composite's parts) is laid out at a size of its own for
    the image (:func:`own_size`) rather than drawn in its on-screen shape.
    """
    if width < 1:
        raise ValueError(f"width: {width} is not a positive number of pixels")
    with _targets(target, width) as targets:
        if len(targets) != 1:
            return _stack([render_image(t, width, antialias) for t in targets], _background(targets[0]))
        return _render_one(targets[0], width, antialias, own and targets[0] is target)


def _render_one(target: ExportTarget, width: int, antialias: bool, own: bool = False) -> QtGui.QImage:
    """One chart as an image ``width`` px wide: with ``own``, laid out for the file first (:func:`own_size`)."""
    with own_size(target, width) if own else contextlib.nullcontext():
        item = _plot_item(target)
        exporter = ImageExporter(item)
        exporter.parameters()["antialias"] = antialias
        exporter.parameters()["width"] = int(width)  # the height follows the aspect ratio
        image = exporter.export(toBytes=True)
    if image.width() != width:  # never expected; keep the promise anyway
        image = image.scaledToWidth(width, QtCore.Qt.TransformationMode.SmoothTransformation)
    return image


def _background(target: ExportTarget) -> QtGui.QBrush:
    views = _plot_item(target).scene().views()
    return views[0].backgroundBrush() if views else QtGui.QBrush(QtCore.Qt.GlobalColor.white)


def _stack(images: list[QtGui.QImage], background: QtGui.QBrush) -> QtGui.QImage:
    """``images`` one above the other, as wide as the widest."""
    if not images:
        raise ValueError("nothing to render: no charts given")
    image = QtGui.QImage(max(i.width() for i in images), sum(i.height() for i in images),
                         QtGui.QImage.Format.Format_ARGB32)
    painter = QtGui.QPainter(image)
    try:
        painter.fillRect(image.rect(), background)
        y = 0
        for i in images:
            painter.drawImage(0, y, i)
            y += i.height()
    finally:
        painter.end()
    return image


def export_widget_png(target: ExportTarget, path: str | os.PathLike, width: int = DEFAULT_WIDTH) -> None:
    """Save a chart (PlotWidget or PlotItem) as a PNG exactly ``width`` pixels wide, atomically, laid out at
    a size of its own (:func:`own_size`)."""
    check_folder(path)
    save_image_png(render_image(target, width, own=True), path)


@contextlib.contextmanager
def export_mode(*scenes: QtWidgets.QGraphicsScene):
    """Tell pyqtgraph's items they are being exported while the block paints them.

    Otherwise scatter symbols are painted as fragments of a cached pixmap, which an
    SVG renders as garbled images instead of circles.
    """
    items = [i for scene in scenes for i in scene.items() if hasattr(i, "setExportMode")]
    for i in items:
        i.setExportMode(True, {"antialias": True})
    try:
        yield
    finally:
        for i in items:
            i.setExportMode(False)


def render_svg(target: ExportTarget | Sequence[ExportTarget], title: str = "ConcGUI chart",
               own: bool = False) -> bytes:
    """A chart (or a list of charts, stacked, the first on top) as SVG bytes, painted by Qt's own SVG generator.

    pyqtgraph 0.14's SVGExporter cannot parse the paths Qt 6.12 writes
    ("not enough values to unpack", even for an empty plot), so the scene is
    rendered straight into a QSvgGenerator instead. With ``own``, one chart is laid out at a size of its
    own (:func:`own_size`).
    """
    with _targets(target) as targets:
        alone = own and len(targets) == 1 and targets[0] is target
        with own_size(target) if alone else contextlib.nullcontext():
            return _render_svg([_plot_item(t) for t in targets], title)


def _render_svg(items: list[QtWidgets.QGraphicsItem], title: str) -> bytes:
    if not items:
        raise ValueError("nothing to render: no charts given")
    sources = [i.sceneBoundingRect() for i in items]
    size = QtCore.QSizeF(max(r.width() for r in sources), sum(r.height() for r in sources)).toSize()
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    generator = QtSvg.QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(size)
    generator.setViewBox(QtCore.QRect(0, 0, size.width(), size.height()))
    views = items[0].scene().views()
    # the axes replay QPictures recorded at the screen's DPI; another DPI would rescale them
    generator.setResolution(views[0].logicalDpiX() if views else 96)
    generator.setTitle(title)
    generator.setDescription("Exported by ConcGUI")
    painter = QtGui.QPainter(generator)
    try:
        if views:
            painter.fillRect(QtCore.QRectF(0, 0, size.width(), size.height()), views[0].backgroundBrush())
        y = 0.0
        with export_mode(*dict.fromkeys(i.scene() for i in items)):
            for item, source in zip(items, sources, strict=True):
                item.scene().render(painter, QtCore.QRectF(0, y, source.width(), source.height()), source)
                y += source.height()
    finally:
        painter.end()
    return bytes(buffer.data())


def export_widget_svg(target: ExportTarget, path: str | os.PathLike) -> None:
    """Save a chart (PlotWidget or PlotItem) as an SVG file, atomically, laid out at a size of its own."""
    check_folder(path)
    write_bytes_atomic(path, render_svg(target, own=True))


def export_to_path(target: ExportTarget, path: str | os.PathLike, width: int = DEFAULT_WIDTH) -> None:
    """PNG or SVG by the file's extension (PNG when it has none of those)."""
    if str(path).lower().endswith(".svg"):
        export_widget_svg(target, path)
    else:
        export_widget_png(target, path, width)


def suggested_name(chart: str, spec: Mapping | None = None, preset: str | None = None, when: float | None = None,
                   ext: str = "png", executor: bool = True) -> str:
    """A file name that says what the image shows: "concgui-seed-notebook-threads-timeline-2025-05-04.png".

    The preset the run came from (else its workload), its executor (``executor=False`` for a chart
    of several executors), the chart, and the day the run was made (``when``, epoch seconds; today
    when unknown).
    """
    spec = spec or {}
    parts = ["concgui", preset or spec.get("workload") or ""]
    if executor:
        parts.append(spec.get("executor") or "")
    day = _dt.datetime.fromtimestamp(when) if when else _dt.datetime.now()
    parts += [chart, day.strftime("%Y-%m-%d")]
    slugs = (re.sub(r"[^A-Za-z0-9._]+", "-", str(p)).strip("-.") for p in parts)
    return "-".join(p for p in slugs if p) + f".{ext}"


_FILTERS = {"png": "PNG image (*.png)", "svg": "SVG vector image (*.svg)"}


def ask_image_file(parent: QtWidgets.QWidget | None, title: str, suggested: str,
                   formats: Sequence[str] = ("png", "svg")) -> tuple[str, int] | None:
    """Ask, in one dialog, where to save an image and (for a PNG) how wide; None when cancelled.

    ``suggested`` is the file name offered, in the folder last used (QSettings ``export/folder``);
    the width starts at the last one chosen (``export/width``).  Returns (path with its extension, width).
    """
    settings = QtCore.QSettings()
    folder = str(settings.value(SETTINGS_FOLDER_KEY, "") or QtCore.QDir.homePath())
    dialog = QtWidgets.QFileDialog(parent, title, str(Path(folder) / suggested))
    dialog.setOption(QtWidgets.QFileDialog.Option.DontUseNativeDialog, True)  # the width goes into it
    dialog.setAcceptMode(QtWidgets.QFileDialog.AcceptMode.AcceptSave)
    formats = [f for f in formats if f in _FILTERS] or ["png"]
    dialog.setNameFilters([_FILTERS[f] for f in formats])
    first = Path(suggested).suffix.lstrip(".").lower()
    first = first if first in formats else formats[0]
    dialog.selectNameFilter(_FILTERS[first])
    dialog.setDefaultSuffix(first)
    width_box = QtWidgets.QSpinBox()
    width_box.setRange(200, 16000)
    width_box.setSingleStep(100)
    width_box.setSuffix(" px")
    width_box.setValue(int(settings.value(SETTINGS_WIDTH_KEY, DEFAULT_WIDTH) or DEFAULT_WIDTH))
    width_box.setToolTip("The PNG's width in pixels; its height follows the chart's shape. An SVG has no fixed size.")
    grid = dialog.layout()
    if isinstance(grid, QtWidgets.QGridLayout):
        row = grid.rowCount()
        grid.addWidget(QtWidgets.QLabel("PNG width:"), row, 0)
        grid.addWidget(width_box, row, 1)

    def on_filter(name: str) -> None:
        ext = "svg" if name.startswith("SVG") else "png"
        dialog.setDefaultSuffix(ext)
        width_box.setEnabled(ext == "png")

    dialog.filterSelected.connect(on_filter)
    on_filter(_FILTERS[first])
    if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted or not dialog.selectedFiles():
        return None
    path = dialog.selectedFiles()[0]
    ext = "svg" if dialog.selectedNameFilter().startswith("SVG") else "png"
    if not path.lower().endswith((".png", ".svg")):
        path += f".{ext}"
    settings.setValue(SETTINGS_FOLDER_KEY, str(Path(path).parent))
    if path.lower().endswith(".png"):
        settings.setValue(SETTINGS_WIDTH_KEY, width_box.value())
    return path, width_box.value()


def export_dialog(widget: QtWidgets.QWidget, name: str = "chart") -> str | None:
    """Ask where (and how wide) to save ``widget`` (a chart, or a composite with ``export_parts``), save it.

    Returns the path, or None when cancelled or the write failed (said in a message box).
    """
    chosen = ask_image_file(widget, "Export image", suggested_name(name, executor=False))
    if chosen is None:
        return None
    path, width = chosen
    try:
        export_to_path(widget, path, width)
    except (OSError, ValueError) as exc:
        QtWidgets.QMessageBox.warning(widget, "Export failed", str(exc))
        return None
    return path


def install_export_menu(widget: pg.PlotWidget, name: str,
                        handler: Callable[[pg.PlotWidget], object] | None = None) -> QtGui.QAction:
    """Replace pyqtgraph's "Export..." (a dialog full of internals) with "Export image…".

    The action calls ``widget.export_handler(widget)`` when the main window set
    one, else :func:`export_dialog`.  It also hides the "Plot Options" menu
    (log scales, FFT...), which means nothing for these charts.
    """
    action = QtGui.QAction("Export image…", widget)

    def run() -> None:
        custom = getattr(widget, "export_handler", None) or handler
        if custom is not None:
            custom(widget)
        else:
            export_dialog(widget, name)

    action.triggered.connect(run)
    widget.scene().contextMenu = [action]
    widget.getPlotItem().setMenuEnabled(False, True)
    return action

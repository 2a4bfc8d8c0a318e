"""Which collected files a ConcGUI bundle keeps: only the Qt parts (and libraries) the app uses.

The app draws widgets (QtWidgets + pyqtgraph) and nothing else: no QML or
Quick, no network, no SQL, no printing, no WebEngine, Qt3D or Multimedia,
and English only (Qt's translations go).  The window is shown through xcb
on Linux (XWayland on Wayland desktops), cocoa on macOS and windows on
Windows; offscreen and minimal stay for the self-test and headless use.

Three steps, in the spec after ``Analysis``:

1. :func:`keep` drops unused plugins, translations and QML files by path;
2. :func:`prune_unreachable` then drops every library that no kept extension
   module, plugin or the Python library still links to (PyInstaller collected
   them for the plugins of step 1: GTK for the gtk3 theme, Wayland ...);
3. on Linux, :func:`drop_system_libraries` leaves out what comes from the
   system's library folders: the .deb depends on those packages instead
   (bundled copies of libstdc++ or fontconfig clash with newer system
   graphics drivers and font configuration).

Anything dropped that a kept file still needs makes the build fail in the
library check (bundle_check.py), never the app at start-up.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable

#: Python modules the app never imports (PyInstaller's ``excludes``).
EXCLUDED_MODULES = (
    # Qt modules: QML/Quick, network, SQL, testing, designer, the Addons wheels' big ones.
    "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets", "PySide6.QtQuickControls2",
    "PySide6.QtQuickTest", "PySide6.QtQmlFeatures", "PySide6.QtNetwork", "PySide6.QtSql", "PySide6.QtTest",
    "PySide6.QtDesigner", "PySide6.QtHelp", "PySide6.QtUiTools", "PySide6.QtXml", "PySide6.QtConcurrent",
    "PySide6.QtPrintSupport", "PySide6.QtLabsStyleKit", "PySide6.QtPdf", "PySide6.QtPdfWidgets",
    "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.QtWebEngineQuick", "PySide6.QtWebChannel",
    "PySide6.QtWebSockets", "PySide6.QtMultimedia", "PySide6.QtMultimediaWidgets", "PySide6.QtSpatialAudio",
    "PySide6.Qt3DCore", "PySide6.Qt3DRender", "PySide6.Qt3DInput", "PySide6.Qt3DLogic", "PySide6.Qt3DExtras",
    "PySide6.Qt3DAnimation", "PySide6.QtCharts", "PySide6.QtDataVisualization", "PySide6.QtGraphs",
    "PySide6.QtBluetooth", "PySide6.QtPositioning", "PySide6.QtLocation", "PySide6.QtSensors",
    "PySide6.QtSerialPort", "PySide6.QtRemoteObjects", "PySide6.QtScxml", "PySide6.QtTextToSpeech",
    "PySide6.QtNfc", "PySide6.QtHttpServer", "PySide6.QtAxContainer",
    # other Qt bindings pyqtgraph would also accept, and pyqtgraph's optional extras
    "PyQt5", "PyQt6", "PySide2", "pyqtgraph.opengl", "pyqtgraph.examples", "OpenGL", "pyqtgraph.jupyter",
    "matplotlib", "scipy", "pandas", "h5py", "cupy", "numba", "colorcet", "IPython", "jupyter_rfb",
    # standard library parts a desktop app does not use
    "tkinter", "_tkinter", "idlelib", "lib2to3", "pydoc_data", "test", "turtledemo", "readline", "curses",
)

#: Plugin folders kept, and within some of them the plugins kept (by stem).
KEPT_PLUGINS: dict[str, set[str] | None] = {
    "platforms": {"qxcb", "qoffscreen", "qminimal", "qcocoa", "qwindows"},
    "xcbglintegrations": None,  # None: every plugin of the folder
    "platforminputcontexts": {"composeplatforminputcontextplugin", "ibusplatforminputcontextplugin"},
    "platformthemes": {"qxdgdesktopportal"},  # qgtk3 needs GTK 3, which the app does not depend on
    "imageformats": {"qsvg", "qico", "qjpeg", "qgif"},
    "iconengines": None,
    "styles": None,  # Windows/macOS native styles
}

#: Library folders of the system (Linux): their libraries are the .deb's Depends, not bundled.
SYSTEM_LIBRARY_DIRS = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/usr/local/lib/")

Entry = tuple  # a PyInstaller TOC entry: (dest, source, typecode)


def _stem(filename: str) -> str:
    """qwindows.dll / libqxcb.so / libqcocoa.dylib -> qwindows / qxcb / qcocoa."""
    stem = filename.split(".")[0]
    return stem[3:] if stem.startswith("lib") else stem


def is_plugin(dest: str) -> bool:
    """Whether the file is a Qt plugin (by its path inside the bundle)."""
    return re.search(r"/plugins/[^/]+/[^/]+$", dest.replace("\\", "/")) is not None


def keep(dest: str) -> bool:
    """Whether a collected file (by its path inside the bundle) is kept: step 1."""
    path = dest.replace("\\", "/")
    if not path.startswith("PySide6/"):
        return True
    if re.search(r"(^|/)translations/", path) or re.search(r"(^|/)qml(/|$)", path):
        return False
    m = re.search(r"/plugins/([^/]+)/([^/]+)$", path)
    if m:
        folder, filename = m.groups()
        if folder not in KEPT_PLUGINS:
            return False
        wanted = KEPT_PLUGINS[folder]
        return wanted is None or _stem(filename) in wanted
    return True


def prune(toc: Iterable[Entry]) -> list[Entry]:
    """The TOC entries that :func:`keep` keeps."""
    return [entry for entry in toc if keep(entry[0])]


def _norm(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def prune_unreachable(binaries: Iterable[Entry], imports: Callable[[str], Iterable[tuple[str, str | None]]]
                      ) -> list[Entry]:
    """Step 2: keep extension modules, plugins and libpython, and the libraries they link to.

    ``imports(path)`` gives a binary's link-time dependencies as (name, resolved path or None)
    (PyInstaller's ``bindepend.get_imports``).  Symlinks stay only when their target stays.
    """
    binaries = list(binaries)
    by_source: dict[str, Entry] = {}
    roots: list[Entry] = []
    for entry in binaries:
        dest, source, kind = entry
        if kind == "SYMLINK":
            continue
        by_source[_norm(source)] = entry
        name = os.path.basename(dest).lower()
        if kind == "EXTENSION" or is_plugin(dest) or re.match(r"(lib)?python\d", name):
            roots.append(entry)
    kept: set[str] = set()
    todo = list(roots)
    while todo:
        entry = todo.pop()
        if entry[0] in kept:
            continue
        kept.add(entry[0])
        for _name, resolved in imports(entry[1]):
            if resolved:
                target = by_source.get(_norm(resolved))
                if target is not None and target[0] not in kept:
                    todo.append(target)
    out = []
    for entry in binaries:
        dest, source, kind = entry
        if kind == "SYMLINK":
            if any(t in kept for t in _symlink_target(entry)):
                out.append(entry)
        elif dest in kept:
            out.append(entry)
    return out


def _symlink_target(entry: Entry) -> tuple[str, str]:
    """A SYMLINK entry's target, read relative to its folder and relative to the bundle root."""
    dest, source, _kind = entry
    return os.path.normpath(os.path.join(os.path.dirname(dest), source)).replace("\\", "/"), source


def drop_system_libraries(binaries: Iterable[Entry]) -> list[Entry]:
    """Step 3 (Linux): leave out libraries that come from the system's library folders.

    The Python library is always kept: the bundle brings its own interpreter.
    """
    out = []
    for entry in binaries:
        dest, source, kind = entry
        from_system = os.path.realpath(source).startswith(SYSTEM_LIBRARY_DIRS)
        if kind == "BINARY" and from_system and not re.match(r"libpython\d", os.path.basename(dest)):
            continue
        out.append(entry)
    dests = {e[0] for e in out}
    return [e for e in out if e[2] != "SYMLINK" or any(t in dests for t in _symlink_target(e))]


def drop_dangling_symlinks(toc: Iterable[Entry], *collected: Iterable[Entry]) -> list[Entry]:
    """``toc`` without SYMLINK entries whose target is not collected (PyInstaller lists them in datas)."""
    toc = list(toc)
    dests = {e[0] for e in toc if e[2] != "SYMLINK"}
    for other in collected:
        dests |= {e[0] for e in other if e[2] != "SYMLINK"}
    return [e for e in toc if e[2] != "SYMLINK" or any(t in dests for t in _symlink_target(e))]

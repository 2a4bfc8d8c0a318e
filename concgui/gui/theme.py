"""Colours shared by every chart: task states, executor kinds, CPU cores, light or dark plots.

The state and executor colours come from the Okabe-Ito palette, which stays
distinguishable with the common forms of colour blindness, and all of them
are mid-lightness so that they read on a white and on a near-black plot.
Plot backgrounds follow the system's colour scheme (Qt >= 6.5) or, failing
that, the lightness of the application palette.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from ..engine.xray import THREAD_EXECUTORS, on_threads

#: fill colour of a task bar in each state
STATE_COLORS: dict[str, str] = {
    "waiting": "#E69F00",  # orange: tasks in the queue, not started yet
    "running": "#56B4E9",  # sky blue: on a worker right now
    "ok": "#009E73",  # bluish green: finished normally
    "error": "#D55E00",  # vermillion: raised an exception
    "cancelled": "#8C8C8C",  # mid grey: stopped or never started
}

#: what the legend calls each state, in words a newcomer understands
STATE_LABELS: dict[str, str] = {
    "waiting": "waiting in queue",
    "running": "running",
    "ok": "finished",
    "error": "raised an error",
    "cancelled": "cancelled",
}

#: the X-ray: what a worker lane's thread was doing, drawn as a thin strip under its bars.  Okabe-Ito
#: blue, yellow and vermillion: red-green colour blindness keeps the blue-yellow contrast, and
#: vermillion reads as a dark orange-brown there, apart from both; yellow is much the lightest, so
#: "waiting for a core" stands out even in greyscale.  The task bars' filled part (a task's CPU time
#: over its duration) is the same blue: both are "on a core".
THREAD_STATE_COLORS: dict[str, str] = {
    "on_core": "#0072B2",  # blue: running on a CPU core
    "waiting": "#F0E442",  # yellow: ready to run, every core busy
    "blocked": "#D55E00",  # vermillion: not ready to run (the GIL, a lock, a sleep, I/O)
}
THREAD_STATE_LABELS: dict[str, str] = {"on_core": "on a core", "waiting": "waiting for a core", "blocked": "blocked"}


def thread_state_meanings(cause: str = "the GIL, a lock, sleep or I/O") -> tuple[str, str]:
    """One sentence each for the two states people confuse: waiting for a core, and blocked (by ``cause``)."""
    why = "sleeping" if cause == "sleeping" else f"waiting for {cause}"
    return ("waiting for a core: ready to run, but every core was busy", f"blocked: not ready to run — {why}")


CPU_FILL_COLOR = THREAD_STATE_COLORS["on_core"]
CPU_FILL_ALPHA = 190  # the fill lets the bar's state colour show through a little

#: the pool's start-up period, shaded behind the bars
STARTUP_COLOR = "#CC79A7"

#: a task's argument on its way to its worker ("sent") and its result on its way back ("returned"), pickled
#: across processes: a thin segment either side of the bar, in a hue no state, strip or shade uses; the way
#: back lighter, as the two may overlap in time (a result travels back while the next argument comes in)
TRANSFER_COLORS: dict[str, str] = {"sent": "#7B68B8", "returned": "#B4A7E0"}

#: executor name -> kind, for the comparison chart's colours
EXECUTOR_KINDS: dict[str, str] = {
    "sequential": "sequential",
    "threads": "threads",
    "thread-pool": "threads",
    "qt-thread-pool": "threads",
    "process-pool": "processes",
    "processes": "processes",
    "mp-pool": "processes",
    "joblib": "processes",  # its default backend, loky; a run on its threading backend is "threads"
    "interpreter-pool": "interpreters",
    "asyncio": "asyncio",
    "dask": "cluster",
}

KIND_COLORS: dict[str, str] = {
    "sequential": "#8C8C8C",  # grey: the baseline
    "threads": "#0072B2",  # blue: threads share one GIL
    "processes": "#D55E00",  # vermillion: a GIL per process
    "interpreters": "#CC79A7",  # reddish purple: a GIL per sub-interpreter
    "asyncio": "#009E73",  # bluish green: one thread, cooperative
    "cluster": "#E69F00",  # orange: worker processes behind a scheduler
}

KIND_LABELS: dict[str, str] = {
    "sequential": "one at a time",
    "threads": "threads (one shared GIL)",
    "processes": "processes (a GIL each)",
    "interpreters": "sub-interpreters (a GIL each)",
    "asyncio": "asyncio (one thread, one event loop)",
    "cluster": "Dask cluster (a GIL per worker process)",
}

#: the CPU chart's dashed line of the run's own processes: violet, a hue no state, strip, shade, kind or
#: core line uses (all eight Okabe-Ito colours have a meaning here). Of the hues with 3:1 contrast on both
#: plot backgrounds it is about the farthest (CIELAB, under normal, protan, deutan and tritan vision) from
#: every colour with a meaning: vermillion read as "blocked", the X-ray's colour in the timeline above it
PROCESS_TREE_COLOR = "#A020F0"

# Distinct hues for per-core lines; cycled when a machine has more cores.
_CORE_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#9E9AC8", "#8C6D31")

_LIGHT = {"background": "#FFFFFF", "foreground": "#1F1F1F", "muted": "#6B6B6B", "grid": "#000000"}
_DARK = {"background": "#1E1F22", "foreground": "#E6E6E6", "muted": "#A0A0A0", "grid": "#FFFFFF"}


def executor_kind(executor: str | Mapping[str, Any] | None) -> str:
    """The kind an executor belongs to ("threads", "processes"...), for colours and legends; given a run's spec,
    the kind of the variant it ran (joblib on its threading backend runs threads)."""
    if isinstance(executor, Mapping):
        spec, executor = dict(executor), executor.get("executor")
        if on_threads(spec) and executor not in THREAD_EXECUTORS:
            return "threads"
    return EXECUTOR_KINDS.get(executor or "", "threads")


def core_color(i: int) -> str:
    """The colour of CPU core ``i``'s line."""
    return _CORE_PALETTE[i % len(_CORE_PALETTE)]


def is_dark(palette: QtGui.QPalette | None = None) -> bool:
    """Whether the system (or the given palette) uses a dark colour scheme.

    Asks ``QStyleHints.colorScheme()`` when no palette is given and the
    platform knows; otherwise compares the window colour with its text.
    """
    app = QtGui.QGuiApplication.instance()
    if palette is None:
        if app is None:
            return False
        hints = QtGui.QGuiApplication.styleHints()
        scheme = getattr(hints, "colorScheme", None)
        if scheme is not None:
            value = scheme()
            if value == QtCore.Qt.ColorScheme.Dark:
                return True
            if value == QtCore.Qt.ColorScheme.Light:
                return False
        palette = QtGui.QGuiApplication.palette()
    window = palette.color(QtGui.QPalette.ColorRole.Window)
    text = palette.color(QtGui.QPalette.ColorRole.WindowText)
    return window.lightness() < text.lightness()


def plot_colors(dark: bool | None = None) -> dict[str, str]:
    """Background, foreground, muted text and grid colours for a pyqtgraph plot.

    ``dark=None`` follows the system; reports pass ``dark=False`` so that
    printed images are always dark on white.
    """
    if dark is None:
        dark = is_dark()
    return dict(_DARK if dark else _LIGHT)


def apply_plot_theme(widget: pg.PlotWidget, dark: bool | None = None) -> dict[str, str]:
    """Paint a PlotWidget's background, axes and title in the scheme's colours; returns them."""
    colors = plot_colors(dark)
    widget.setBackground(colors["background"])
    plot = widget.getPlotItem()
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(colors["muted"]))
        axis.setTextPen(pg.mkPen(colors["foreground"]))  # also colours the axis label
    return colors


def swatch(color: str | QtGui.QColor, text: str, symbol: str = "■") -> str:
    """HTML for one legend entry: a coloured square and its words."""
    return f'<span style="color:{QtGui.QColor(color).name()}">{symbol}</span>&nbsp;{text}'


def with_alpha(color: str, alpha: int) -> QtGui.QColor:
    """``color`` with the given alpha (0-255)."""
    c = QtGui.QColor(color)
    c.setAlpha(alpha)
    return c


def mix(color: str, background: str, amount: float) -> QtGui.QColor:
    """``color`` blended over ``background`` (amount 1: all colour, 0: all background)."""
    a, b = QtGui.QColor(color), QtGui.QColor(background)
    return QtGui.QColor(round(a.red() * amount + b.red() * (1 - amount)),
                        round(a.green() * amount + b.green() * (1 - amount)),
                        round(a.blue() * amount + b.blue() * (1 - amount)))


TITLE_POINTS = 10.0
LEGEND_MORE = "<i>… the whole legend: hover the title</i>"  # where a short chart's legend had to stop


def fit_title(width: float, head: list[tuple[str, str]], legend: list[tuple[str, str]],
              color: str, max_lines: int | None = None) -> str:
    """Title HTML whose lines fit ``width`` pixels: the head's parts joined by " · ", then the legend.

    Each part is (html, plain text); parts are packed greedily into lines.
    pyqtgraph sizes a plot at least as wide as its title, so a title wider
    than its panel would push the chart out of view; this keeps it inside.
    """
    font = QtGui.QFont(QtGui.QGuiApplication.font())
    font.setPointSizeF(TITLE_POINTS)
    bold = QtGui.QFont(font)
    bold.setBold(True)
    normal, strong = QtGui.QFontMetrics(font), QtGui.QFontMetrics(bold)
    room = max(120.0, width)

    def pack(parts: list[tuple[str, str]], sep_html: str, sep_plain: str, first_bold: bool) -> list[str]:
        lines: list[str] = []
        line_html, line_w = "", 0.0
        for k, (html, plain) in enumerate(parts):
            w = (strong if first_bold and k == 0 else normal).horizontalAdvance(plain) * 1.05
            sep_w = normal.horizontalAdvance(sep_plain)
            if line_html and line_w + sep_w + w > room:
                lines.append(line_html)
                line_html, line_w = html, w
            else:
                line_html = f"{line_html}{sep_html}{html}" if line_html else html
                line_w += (sep_w if line_w else 0.0) + w
        if line_html:
            lines.append(line_html)
        return lines

    lines = pack(head, " · ", " · ", True) + pack(legend, " &nbsp; ", "   ", False)
    if max_lines is not None and len(lines) > max_lines:  # a short chart keeps its plot: the rest is hovered
        lines = lines[:max(1, max_lines - 1)] + [LEGEND_MORE]
    return f'<span style="color:{color}">{"<br>".join(lines)}</span>'


def set_title(widget: pg.PlotWidget, html: str) -> None:
    """Set a (possibly multi-line) plot title and give it the height it needs.

    pyqtgraph fixes the title row at 30 px, which clips a second line.
    """
    plot = widget.getPlotItem()
    plot.setTitle(html, size=f"{TITLE_POINTS:g}pt")
    label = plot.titleLabel
    height = max(30.0, label.item.boundingRect().height() + 2)
    label.setMaximumHeight(height)
    label.setMinimumHeight(height)
    plot.layout.setRowFixedHeight(0, height)

"""The colours of the notebook's pictures: the window's, for drawing without Qt.

The window's palette lives in :mod:`concgui.gui.theme`, which imports Qt and pyqtgraph; a notebook
draws its SVG without either, so the few colours it needs are repeated here (Okabe-Ito, as there).
``tests/test_notebook_pictures.py`` checks that they still equal the window's.
"""

from __future__ import annotations

#: a task bar's fill by how it ended (theme.STATE_COLORS)
STATE_COLORS = {"ok": "#009E73", "error": "#D55E00", "cancelled": "#8C8C8C"}
STATE_LABELS = {"ok": "finished", "error": "raised an error", "cancelled": "cancelled"}
#: a bar's filled part (its CPU time over its duration) and the X-ray's "on a core" (theme.CPU_FILL_COLOR)
CPU_FILL_COLOR = "#0072B2"
#: the X-ray strip under a lane: what its thread did (theme.THREAD_STATE_COLORS and _LABELS)
THREAD_STATE_COLORS = {"on_core": "#0072B2", "waiting": "#F0E442", "blocked": "#D55E00"}
THREAD_STATE_LABELS = {"on_core": "on a core", "waiting": "waiting for a core", "blocked": "blocked"}
#: a pool's start-up, shaded before the work (theme.STARTUP_COLOR)
STARTUP_COLOR = "#CC79A7"
#: a task's argument on its way to its worker and its result on its way back, either side of its bar
#: (theme.TRANSFER_COLORS): the way back lighter, as the two may overlap in time
TRANSFER_COLORS = {"sent": "#7B68B8", "returned": "#B4A7E0"}
#: executor -> kind -> colour, for the scaling chart's series (theme.EXECUTOR_KINDS, theme.KIND_COLORS)
EXECUTOR_KINDS = {
    "sequential": "sequential", "threads": "threads", "thread-pool": "threads", "qt-thread-pool": "threads",
    "process-pool": "processes", "processes": "processes", "mp-pool": "processes", "joblib": "processes",
    "interpreter-pool": "interpreters",
    "asyncio": "asyncio", "dask": "cluster",
}
KIND_COLORS = {
    "sequential": "#8C8C8C", "threads": "#0072B2", "processes": "#D55E00", "interpreters": "#CC79A7",
    "asyncio": "#009E73", "cluster": "#E69F00",
}
#: the light plot's text, secondary text and grid (theme._LIGHT)
FOREGROUND, MUTED, GRID = "#1F1F1F", "#6B6B6B", "#000000"
BACKGROUND = "#FFFFFF"


def series_colors(executors: list[str]) -> dict[str, str]:
    """A colour per executor: its kind's, another when two share a kind (as the window's scaling chart)."""
    spare = iter(c for c in ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#8C6D31", "#9E9AC8")
                 if c not in KIND_COLORS.values())
    out: dict[str, str] = {}
    for e in executors:
        color = KIND_COLORS[EXECUTOR_KINDS.get(e, "threads")]
        out[e] = next(spare, "#555555") if color in out.values() else color
    return out

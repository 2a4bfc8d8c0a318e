"""Help ▸ Concurrency and parallelism: the terms, the pictures and every column's full name, in one page.

The definitions of the numbers are the ones the tooltips show
(:data:`concgui.engine.metrics.METRICS` and ``COMPARE_COLUMNS``), so the page and
the window never describe a number two ways.  The pictures are the window's own
charts, drawn when the page first opens from real runs recorded in
``resources/help/runs.json`` (made by ``packaging/make_help_runs.py``): they always
look as the window does now, and only the measurements are stored.
"""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import QEvent, Qt, QUrl
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import QApplication, QDialog, QTextBrowser, QVBoxLayout, QWidget

from ...engine.exports import load_results
from ...engine.live import RunState
from ...engine.metrics import COMPARE_COLUMNS, METRICS, metric
from ...engine.present import seconds
from ...engine.records import RunResult
from ...engine.sweep import SPEEDUP_RULE
from .. import theme
from ..image_export import render_image
from ..lessons_data import how_many_lessons
from ..presets import resources_dir
from .cores import CoreUsagePlot
from .scaling import TABLE_COLUMNS as SCALING_TABLE_COLUMNS
from .timeline import TimelineView

log = logging.getLogger("concgui")
TITLE = "Concurrency and parallelism"
RUNS_FILE = ("help", "runs.json")
PICTURE_WIDTH = 640  # pixels of a figure on the page
#: each figure: its runs (by their place in the recorded file) on one time axis, and whether the cores show
FIGURES: dict[str, tuple[tuple[int, ...], bool]] = {"sleep": ((0, 1), False), "cpu": ((2, 3), True)}
#: short forms the window's tight tables and the command line use, and the full names they stand for
ABBREVIATIONS: dict[str, str] = {
    "concur.": "concurrency", "parall.": "parallelism", "effic.": "efficiency", "serial frac.": "serial fraction",
    "wall s": "wall_seconds", "start-up s": "startup_seconds",
}
#: the Scaling tab's own columns (the others are the Compare tab's): full name and definition
SCALING_COLUMNS: dict[str, tuple[str, str]] = {
    "runs": ("Runs", "How many times the point (an executor with so many workers) was run; the figures are over "
                     "these repeats."),
    "median wall s": ("Median wall time (seconds)", "The middle wall time of the point's runs, which one slow run "
                                                    f"cannot move. The Scaling tab's speedup = {SPEEDUP_RULE}."),
    "min–max s": ("Fastest–slowest wall time (seconds)", "The shortest and the longest wall time of the point's "
                                                         "runs: how much they varied."),
}
SERIAL_FRACTION_HELP = ("Amdahl's law fitted to a scaling study's speedups: the share of the work that does not "
                        "get faster with more workers (0 = all of it scales, 1 = none).")


# --- the columns ---------------------------------------------------------------------------------
def _full_name(label: str) -> tuple[str, str]:
    """(full name, definition) of a column label or abbreviation, from the metrics' own texts."""
    key = ABBREVIATIONS.get(label, label)
    if label in SCALING_COLUMNS:
        return SCALING_COLUMNS[label]
    if key == "serial fraction":
        return "Serial fraction", SERIAL_FRACTION_HELP
    for m in METRICS:
        if key in (m.key, m.label.lower()):
            return m.label + (" (seconds)" if label.endswith(" s") else ""), m.help
    for c in COMPARE_COLUMNS:
        if c.label == label:
            found = next((m for m in METRICS if m.help == c.help), None)
            name = found.label if found else label[:1].upper() + label[1:]
            return name + (" (seconds)" if found and label.endswith(" s") else ""), c.help
    raise KeyError(label)


def column_glossary() -> list[tuple[str, str, str]]:
    """(as shown, full name, definition) for each Compare column, then the Scaling tab's others, then each
    abbreviation not among them (whose definition points to the row of its full name, where there is one)."""
    rows = [(c.label, *_full_name(c.label)) for c in COMPARE_COLUMNS]
    rows += [(label, *_full_name(label)) for label in SCALING_TABLE_COLUMNS if label not in (r[0] for r in rows)]
    for short in ABBREVIATIONS:
        if short in (r[0] for r in rows):
            continue
        name, text = _full_name(short)
        if any(r[1] == name for r in rows):
            text = f"Short for {name.lower()}, in narrow tables and on the command line: see {name.lower()} above."
        rows.append((short, name, text))
    return rows


# --- the pictures --------------------------------------------------------------------------------
_drawn: tuple[list[RunResult], dict[str, QImage]] | None = None  # once per process: the runs never change


def recorded_runs() -> list[RunResult]:
    """The runs the pictures are drawn from, shipped with the app."""
    return load_results(resources_dir().joinpath(*RUNS_FILE))


def render_figure(results: list[RunResult], width: int = PICTURE_WIDTH, with_cores: bool = False) -> QImage:
    """Each run's timeline (and CPU cores chart), one above the other on one time axis: a shorter run is
    visibly shorter.  The window's own charts, in the light theme, off screen."""
    end = max(r.startup_seconds + r.wall_seconds for r in results)
    charts: list = []
    try:
        for r in results:
            state = RunState.from_result(r)
            timeline = TimelineView(dark=False)
            timeline.resize(width, 130 + 44 * (len(state.lanes) + 1))
            pair = [timeline]
            if with_cores:
                cores = CoreUsagePlot(dark=False, sample=False)
                cores.resize(width, 240)
                cores.link_x(timeline)
                pair.append(cores)
            charts += pair
            for chart in pair:
                chart.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
                chart.set_state(state)
                chart.show()
        QApplication.processEvents()
        left = max(c.getAxis("left").width() for c in charts)
        for chart in charts:  # one axis width: one time is at one x in every chart of the figure
            chart.getAxis("left").setWidth(left)
            if isinstance(chart, TimelineView):
                chart.flush_pending()
                chart.refresh()
                chart.set_follow(False)
                chart.setXRange(0.0, end * 1.02, padding=0.0)
        QApplication.processEvents()
        return render_image(charts, width)
    finally:
        for chart in charts:
            if isinstance(chart, CoreUsagePlot):
                chart.stop()
            chart.close()
            chart.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def pictures() -> tuple[list[RunResult], dict[str, QImage]]:
    """The recorded runs, and the :data:`FIGURES` drawn from them.

    No figures, with a log line, when the recorded runs cannot be read: the page is still worth reading.
    """
    global _drawn
    if _drawn is None:
        try:
            runs = recorded_runs()
        except (OSError, ValueError) as exc:
            log.warning("Help pictures unavailable: %s", exc)
            runs = []
        images = {name: render_figure([runs[i] for i in which], with_cores=cores)
                  for name, (which, cores) in FIGURES.items() if runs and max(which) < len(runs)}
        _drawn = runs, images
    return _drawn


# --- the page ------------------------------------------------------------------------------------
def _swatch(key: str) -> str:
    return (f'<span style="color:{theme.THREAD_STATE_COLORS[key]}">■</span> '
            f"<b>{html.escape(theme.THREAD_STATE_LABELS[key])}</b>")


def _figure(name: str, caption: str, have: dict[str, QImage]) -> str:
    if name not in have:
        return ""
    return f'<p align="center"><img src="help:{name}"><br><i>{html.escape(caption)}</i></p>'


def page_html(have: dict[str, QImage], runs: list[RunResult] | None = None) -> str:
    """The whole page; ``have`` names the pictures that could be drawn, ``runs`` gives their captions' figures."""
    runs = runs or []
    wall = [seconds(r.wall_seconds, 1) for r in runs] + ["6 s", "2 s"][len(runs):]

    def m(key: str) -> str:
        return html.escape(metric(key).help)

    columns = "".join(
        f"<tr><td><code>{html.escape(label)}</code></td><td><b>{html.escape(name)}</b></td>"
        f"<td>{html.escape(text)}</td></tr>" for label, name, text in column_glossary())
    return f"""
<h2><a name="top"></a>{TITLE}</h2>
<p>Two words that are easy to mix up. <b>Concurrency</b> is about <i>dealing with</i> many things at once;
<b>parallelism</b> is about <i>doing</i> many things at once. ConcGUI measures both for every run.
Help ▸ Lessons walks through {how_many_lessons()} experiments that show the difference.</p>

<h3><a name="concurrency"></a>Concurrency</h3>
<p>Several tasks are <i>in progress</i> at the same time: started, not yet finished. They may take turns on a
single core; what matters is that one task's waiting (for the network, a disk, a timer) does not hold the others
up. The seed notebook's three sleeps of 2 s take {wall[0]} one after another, and
{wall[1]} in three threads, because the sleeps overlap — while no core computes.</p>
<p><b>Concurrency</b> (the number): {m("concurrency")}</p>
{_figure("sleep", f"Above, one after another: the three sleeps end to end in the main thread's one row, "
         f"{wall[0]} in all, as the queue steps down a task at a time. Below, three threads on the same time "
         f"axis: the sleeps overlap and end together, at {wall[1]}. (Compare ▸ Timelines, a row per task, "
         "draws one after another as a staircase.)", have)}

<h3><a name="parallelism"></a>Parallelism</h3>
<p>Several tasks <i>compute</i> at the same instant, each on its own CPU core. It needs several cores and work
that can use them. Parallel work is always concurrent; concurrent work is parallel only when the tasks compute
at the same time.</p>
<p><b>Parallelism</b> (the number): {m("parallelism")}</p>

<h3><a name="gil"></a>The GIL</h3>
<p>CPython, the usual Python, has a <b>global interpreter lock</b> (GIL): only the thread that holds it runs
Python code. Threads of one process therefore take turns when they compute in Python, and four threads of
pure-Python arithmetic run no faster than a loop. A thread lets go of the GIL while it waits (time.sleep,
sockets, files) and while it runs C code that releases it (hashlib, zlib, NumPy): then threads do overlap, and
C code can even compute in parallel. Python 3.13 and later also come as a <i>free-threaded</i> build without
the GIL.</p>
{_figure("cpu", "Above, CPU-bound Python in four threads, and the CPU cores under it: the threads take turns "
         "(blocked, waiting for the GIL), about one core computes. Below, the same work in a pool of two processes: "
         "two cores compute.", have)}

<h3><a name="threads-processes"></a>Threads and processes</h3>
<p><b>Threads</b> live in one process and share its memory and its GIL: cheap to start (microseconds), good for
waiting, no help for CPU-bound Python. <b>Processes</b> each have their own interpreter, memory and GIL: they
compute in parallel on several cores, but cost start-up (milliseconds to a second) and every task and result is
copied between processes. <b>asyncio</b> overlaps waiting in a single thread: one event loop switches between
coroutines whenever one awaits.</p>
<p>Sharing cuts both ways. Threads that update one counter update the same one, and a thread switched out
between reading it and writing it back writes a stale value over the others' updates, unless a lock lets one
thread at a time through (slower). Processes each have their own copy, so their counts never meet: the
<code>counter</code> workload and the lesson "Threads share, processes copy" measure both.</p>

<h3><a name="states"></a>On a core, waiting for a core, blocked</h3>
<p>The thin strip under each worker's row of the timeline (the GIL X-ray; in Compare, under each task's row
while its thread ran it) shows what the thread was doing, measured by the operating system:</p>
<ul>
<li>{_swatch("on_core")}: running on a CPU core. {m("on_core_share")}</li>
<li>{_swatch("waiting")}: ready to run, but every core was taken. {m("waiting_share")}</li>
<li>{_swatch("blocked")}: not ready to run. {m("blocked_share")}</li>
</ul>
<p>The filled part of a finished task's bar is its CPU time over its duration: a full bar computed all the time,
an empty one only waited.</p>

<h3><a name="speedup"></a>Speedup</h3>
<p>{m("speedup")} 3.00× means three times faster; below 1× is slower than the baseline.</p>
<h3><a name="efficiency"></a>Efficiency</h3>
<p>{m("efficiency")}</p>

<h3><a name="columns"></a>Every column and its full name</h3>
<table border="1" cellspacing="0" cellpadding="4">
<tr><th>shown as</th><th>full name</th><th>meaning</th></tr>
{columns}
</table>
<p>The Summary tab's numbers:</p>
<ul>{"".join(f"<li><b>{html.escape(x.label)}</b>: {html.escape(x.help)}</li>" for x in METRICS)}</ul>
"""


class ConceptsPage(QDialog):
    """The page in a non-modal window: it stays open beside the main window while runs go."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("concepts-page")
        self.setWindowTitle(f"{TITLE} — ConcGUI help")
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(True)
        runs, have = pictures()
        for name, image in have.items():
            self.browser.document().addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"help:{name}"), image)
        self.browser.setHtml(page_html(have, runs))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.browser)
        screen = (parent.screen() if parent is not None else QApplication.primaryScreen()).availableGeometry()
        self.resize(min(820, round(screen.width() * 0.9)), min(760, round(screen.height() * 0.9)))

    def text(self) -> str:
        """The page as plain text (what a test reads)."""
        return self.browser.toPlainText()

    def go_to(self, anchor: str | None) -> None:
        """Scroll to a section (``"columns"``, ``"gil"``, a metric's key such as ``"concurrency"``)."""
        self.browser.scrollToAnchor(anchor or "top")


def show_concepts(window: QWidget, anchor: str | None = None) -> ConceptsPage:
    """Open (or raise) ``window``'s concepts page, scrolled to ``anchor``."""
    page = window.findChild(ConceptsPage, "concepts-page")
    if page is None:
        page = ConceptsPage(window)
    page.show()
    page.raise_()
    page.activateWindow()
    page.go_to(anchor)
    return page

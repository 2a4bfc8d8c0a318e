"""The timeline stack as SVG: one timeline per run, stacked on one shared time axis.

Each run gets a bar per task in its worker's lane (tasks that overlap on one worker, asyncio's,
get a track each, placed by :mod:`concgui.engine.tracks`), its bars' CPU-time fill, the X-ray
strip of what each lane's thread did, its start-up shaded before 0, its wall-time marker and a
faint marker of the ideal (:func:`concgui.engine.ideal.ideal_seconds`): the first run of its
experiment's wall ÷ min(workers, tasks), drawn only when that first run finished one task at a
time. As in the window's Compare, runs of up to :data:`~concgui.engine.task_rows.MAX_TASK_ROWS`
tasks get a row per task instead, so that "one after another" reads as a staircase; each task row
keeps the X-ray strip of its thread while it ran (:func:`concgui.engine.task_rows.by_task`). Both
rules are the window's own, from the engine. A task whose argument or
result was copied to or from its worker draws it as the window does, sent → ran → returned: a thin
pipe either side of its bar, "sent" the upper half ending at its start, "returned" the lower half
beginning at its end, behind the bars, and the legend says how long each took in all.

Time is seconds since the run's work started, so the wall markers line up with the walls the
table shows. The file stays small however many tasks ran: bars narrower than a few pixels merge
with neighbours less than a pixel away, and rows thinner than a pixel share one, so a lane never
holds more rectangles than its pixels can show.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..engine.ideal import ideal_legend, ideals
from ..engine.present import count, seconds
from ..engine.records import RunResult, TaskRecord
from ..engine.task_rows import by_task, per_task_possible
from ..engine.tracks import assign_tracks
from .palette import (
    CPU_FILL_COLOR,
    FOREGROUND,
    GRID,
    MUTED,
    STARTUP_COLOR,
    STATE_COLORS,
    STATE_LABELS,
    THREAD_STATE_COLORS,
    THREAD_STATE_LABELS,
    TRANSFER_COLORS,
)
from .svg import Svg, nice_ticks, text_width, tick_label

WIDTH = 1000
LEFT, RIGHT = 160, 28  # room for the lane names; for a wall label at the right edge
ROW_MAX = 20.0  # a track's height at most, in pixels
PANEL_MAX = 240.0  # a run's lanes at most this tall; more lanes get thinner
BAR_SHARE = 0.78  # of a row its bar fills, when rows are tall enough to leave a gap
NARROW = 4.0  # pixels: bars narrower than this merge with neighbours less than a pixel away
STRIP_H = 5.0  # the X-ray strip under a lane
#: a row per worker gets X-ray strips up to this many lanes: its rows are PANEL_MAX / lanes tall, 15 px at 16
#: over a 5 px strip, 7.5 px at 32 with the strips nearly as tall as the bars they explain (a row per task
#: always has them: its strip is the point of the row, and there are at most MAX_TASK_ROWS)
STRIP_LANES = 16
STRIP_BUCKET = 3.0  # pixels: the X-ray's intervals are averaged over columns this wide
STRIP_LEVELS = 16  # neighbouring columns whose shares round to the same 1/16 merge
MIN_FILL = 0.02  # a bar whose task used less of a core than this shows no CPU fill
MAX_TASK_LABELS = 200  # task numbers written inside wide bars, at most, per picture
PID = re.compile(r" \(pid \d+\)$")  # a process lane's pid, left out of a task row's name to keep it short
#: the transfer pipe's share of its bar's height, "sent" its upper half and "returned" its lower half, so the
#: two stay apart where a result travels back while the next argument comes in (the window's TRANSFER_HEIGHT)
TRANSFER_HEIGHT = 0.4
TRANSFER_LAYER = 0.5  # over the lanes' backgrounds, under the bars (a next argument travels under a bar)
MIN_TRANSFER_PX = 0.5  # transfer segments narrower than this (pixels) are not drawn; touching ones merge
TRANSFER_WHAT = {"sent": "argument", "returned": "result"}  # what moved, in the legend ("argument sent: 1.2 s")


@dataclass(frozen=True)
class Axis:
    """Seconds to pixels across the plot area."""

    t0: float
    t1: float
    left: float = LEFT
    right: float = WIDTH - RIGHT

    def x(self, t: float) -> float:
        return self.left + (t - self.t0) / (self.t1 - self.t0) * (self.right - self.left)


def _done(r: RunResult) -> list[TaskRecord]:
    return [t for t in r.tasks if t.start is not None and t.end is not None]


def time_span(results: list[RunResult]) -> tuple[float, float]:
    """The shared axis: from the longest start-up before 0 (when it is big enough to see) to the last result back."""
    right = max([r.wall_seconds for r in results]
                + [t.back - r.startup_seconds for r in results for t in _done(r)], default=0.0)
    right = right * 1.03 if right > 0 else 1.0
    startup = max((r.startup_seconds for r in results), default=0.0)
    return (-startup if startup > 0.01 * right else 0.0), right


def title_text(results: list[RunResult]) -> str:
    """"sleep × 3 tasks of 2 s: sequential vs threads" from the runs' specs."""
    spec = results[0].spec if results else {}
    what = f"{spec.get('workload', '?')} × {count(int(spec.get('tasks', 0)), 'task')}"
    if spec.get("workload") in ("sleep", "cpu", "hash", "mixed"):
        what += f" of {seconds(spec.get('duration'), 2)}"
    elif spec.get("workload") == "file-io":
        what += f" of {spec.get('size_mb', 0):g} MB"
    names = " vs ".join(str(r.spec.get("executor", "?")) for r in results)
    return f"{what}: {names}" if len(results) > 1 else f"{what} on {names}"


def subtitle_text(r: RunResult) -> str:
    env = r.environment or {}
    gil = "GIL on" if env.get("gil_enabled", True) else "GIL off"
    cores = count(env["cpu_count"], "core") if env.get("cpu_count") else "cores unknown"
    where = "each run in its own engine process" if r.spec.get("isolation") == "process" else "in this process"
    return f"Python {env.get('python_version', '?')} · {gil} · {cores} · {where}"


def render_stack(results: list[RunResult], title: str = "") -> str:
    """The SVG of ``results``' timelines, the first on top (the first of each experiment: the others' ideal)."""
    svg = Svg(WIDTH)
    title = title or title_text(results)
    svg.text(16, 26, title, 17, FOREGROUND, bold=True)
    if results:
        svg.text(16, 46, subtitle_text(results[0]), 12, MUTED)
    t0, t1 = time_span(results)
    axis = Axis(t0, t1)
    marks = ideals(results)
    task_rows = per_task_possible(results)
    shown = [rows_shown(r, task_rows) for r in results]  # each run's rows once, for the legend and its panel
    y = _legend(svg, results, 58, show_startup=t0 < 0, ideal_drawn=any(v is not None for v in marks),
                strips=any(_strips(r, task_rows) for r in shown))
    labels = [0 if task_rows else MAX_TASK_LABELS]
    several = sum(bool(transfer_totals([r])) for r in results) > 1  # then each header says its run's totals
    for r, ideal in zip(shown, marks, strict=True):
        y = _panel(svg, r, ideal, axis, y + 10, labels, several, task_rows)
    y = _time_axis(svg, axis, y + 4, show_startup=t0 < 0)
    return svg.document(y + 8, title)


def _legend(svg: Svg, results: list[RunResult], y: float, show_startup: bool, ideal_drawn: bool = False,
            strips: bool = False) -> float:
    """One line of swatches for what the picture uses (``strips``: some panel draws X-ray strips), and why runs
    have no ideal if some have none (the window's words); returns the y below it."""
    states = {t.status for r in results for t in _done(r)}
    items: list[tuple[str, str, str]] = [("box", STATE_COLORS[s], STATE_LABELS[s]) for s in STATE_COLORS
                                          if s in states or s == "ok"]
    items.append(("fill", CPU_FILL_COLOR, "CPU time (share of the bar)"))
    items += [("strip", TRANSFER_COLORS[kind], f"{TRANSFER_WHAT[kind]} {kind}: {seconds(total)} in all")
              for kind, total in transfer_totals(results).items()]
    if strips:
        items += [("strip", THREAD_STATE_COLORS[k], f"thread {THREAD_STATE_LABELS[k]}") for k in THREAD_STATE_COLORS]
    if show_startup:
        items.append(("box", STARTUP_COLOR, "start-up"))
    items.append(("line", FOREGROUND, "wall time"))
    items += [("dash" if ideal_drawn and k == 0 else "note", MUTED, text)
              for k, text in enumerate(ideal_legend(results, ideal_drawn))]
    x, size = 16.0, 12
    for kind, color, label in items:
        width = (0 if kind == "note" else 22) + text_width(label, size) + 14
        if x + width > WIDTH - 8:
            x, y = 16.0, y + 20
        if kind in ("line", "dash"):
            svg.line(x, y + 10, x + 16, y + 10, color, 2, "4 3" if kind == "dash" else "")
        elif kind == "strip":
            svg.rect(x, y + 7, 16, 6, color)
        elif kind == "fill":
            svg.rect(x, y + 3, 16, 14, STATE_COLORS["ok"])
            svg.rect(x, y + 10, 16, 7, color, 0.8, layer=2)
        elif kind != "note":
            svg.rect(x, y + 3, 16, 14, color, 0.35 if color == STARTUP_COLOR else 1.0)
        svg.text(x + (0 if kind == "note" else 22), y + 14, label, size, MUTED if kind == "note" else FOREGROUND)
        x += width
    return y + 22


def transfer_totals(results: list[RunResult]) -> dict[str, float]:
    """Seconds the tasks' arguments ("sent") and results ("returned") took to move, each added up over
    ``results``, for the kinds that took any (none when nothing was copied: threads, asyncio, fork)."""
    totals = {"sent": sum(t.sent_seconds for r in results for t in _done(r)),
              "returned": sum(t.returned_seconds for r in results for t in _done(r))}
    return {k: v for k, v in totals.items() if v > 0}


def rows_shown(r: RunResult, task_rows: bool) -> RunResult:
    """The run as its panel draws it: with ``task_rows``, each task on a row of its own ("task 3 · thread 2",
    the pid left out) whose X-ray series is its thread's over the task's span; else as it ran."""
    return by_task(r, lambda t: f"task {t.index} · {PID.sub('', t.worker)}")[0] if task_rows else r


def _strips(r: RunResult, task_rows: bool) -> bool:
    """Whether the run's lanes (as :func:`rows_shown` gave them) get X-ray strips: it has the series, and a row
    per task, or few enough worker lanes to read them (:data:`STRIP_LANES`)."""
    return bool(r.thread_states) and (task_rows or len({t.worker for t in _done(r)}) <= STRIP_LANES)


def _header(r: RunResult, transfer: bool = False) -> str:
    """The run's line over its lanes; with ``transfer``, its own sent and returned totals (the legend adds
    up every run's)."""
    s = r.summary or {}
    parts = [count(r.workers, "worker"), f"wall {seconds(r.wall_seconds)}"]
    if r.startup_seconds >= 0.0005:
        parts.append(f"start-up {seconds(r.startup_seconds)}")
    if transfer:
        parts += [f"{kind} {seconds(total)}" for kind, total in transfer_totals([r]).items()]
    if r.status != "ok":
        parts.append(r.status)
    return f"{r.spec.get('executor', '?')} · " + " · ".join(parts) + (
        "" if s.get("concurrency") is None else
        f" · concurrency {s['concurrency']:.2f} · parallelism {s.get('parallelism', 0):.2f}")


def _panel(svg: Svg, r: RunResult, ideal: float | None, axis: Axis, y: float, labels: list[int],
           transfer_header: bool = False, task_rows: bool = False) -> float:
    """One run's timeline from ``y`` down, its lanes as :func:`rows_shown` gave them (``task_rows``: a row per
    task), its ideal marked where there is one (:func:`concgui.engine.ideal.ideals`); returns the y below it."""
    svg.text(16, y + 13, _header(r, transfer_header), 13, FOREGROUND, bold=True)
    top = y + 20
    done = _done(r)
    track_of = assign_tracks(done)
    first: dict[str, float] = {}
    tracks: dict[str, int] = {}
    for t in done:
        first[t.worker] = min(first.get(t.worker, math.inf), t.start)
        tracks[t.worker] = max(tracks.get(t.worker, 0), track_of.get(t.index, 0) + 1)
    lanes = sorted(first, key=lambda w: (first[w], w))
    rows = sum(tracks.values())
    row_h = min(ROW_MAX, PANEL_MAX / rows) if rows else ROW_MAX
    strips = _strips(r, task_rows)
    lane_y: dict[str, float] = {}
    yy = top
    for w in lanes:
        lane_y[w] = yy
        yy += tracks[w] * row_h + (STRIP_H + 2 if strips else 0)
    bottom = max(yy, top + ROW_MAX)
    svg.rect(axis.left, top, axis.right - axis.left, bottom - top, "#F4F4F4", layer=0)
    for k, w in enumerate(lanes):  # a faint band on every other lane, where lanes are tall enough to see it
        if k % 2 and tracks[w] * row_h >= 6:
            svg.rect(axis.left, lane_y[w], axis.right - axis.left, tracks[w] * row_h, "#E6E6E6", layer=0)
    for tick in nice_ticks(axis.t0, axis.t1):
        svg.line(axis.x(tick), top, axis.x(tick), bottom, GRID, 1, opacity=0.08, layer=0)
    if axis.t0 < 0 and r.startup_seconds > 0:
        svg.rect(axis.x(-r.startup_seconds), top, axis.x(0) - axis.x(-r.startup_seconds), bottom - top,
                 STARTUP_COLOR, 0.3, layer=0)
    _lane_names(svg, lanes, lane_y, tracks, row_h)
    by_lane: dict[str, list[TaskRecord]] = {}
    for t in done:
        by_lane.setdefault(t.worker, []).append(t)
    for w in lanes:
        _bars(svg, by_lane[w], track_of, r.startup_seconds, axis, lane_y[w], row_h, labels)
        _transfers(svg, by_lane[w], track_of, r.startup_seconds, axis, lane_y[w], row_h)
        if strips:
            _strip(svg, r, w, axis, lane_y[w] + tracks[w] * row_h + 1)
    if not lanes:
        svg.text(axis.left + 8, top + 14, "no task ran", 12, MUTED)
    _markers(svg, r, ideal, axis, top, bottom)
    return bottom


def _lane_names(svg: Svg, lanes: list[str], lane_y: dict[str, float], tracks: dict[str, int], row_h: float) -> None:
    """Each lane's worker name at its left, skipping lanes where names would overlap."""
    last = -math.inf
    for w in lanes:
        h = tracks[w] * row_h
        mid = lane_y[w] + h / 2 + 4
        if mid - last < 12:
            continue
        fits = int((LEFT - 20) / text_width("m", 11))
        name = w if len(w) <= fits else w[:fits - 1] + "…"
        svg.text(LEFT - 8, mid, name, 11, FOREGROUND, anchor="end")
        last = mid


def _bar_height(row_h: float) -> float:
    """A bar's height in a row ``row_h`` pixels tall: a share of it, or all of it (at least a pixel) when thin."""
    return row_h * BAR_SHARE if row_h >= 3 else max(row_h, 1.0)


def _row(track: int, row_h: float) -> int:
    """The row a track is drawn in: itself, or the pixel row it shares with others when rows are thinner."""
    return track if row_h >= 1 else int(track * row_h)


def _row_top(y: float, row: int, row_h: float, h: float) -> float:
    """The top of a bar ``h`` tall in ``row`` (from :func:`_row`) of a lane whose top is ``y``."""
    return y + (row * row_h + (row_h - h) / 2 if row_h >= 1 else row)


def _bars(svg: Svg, tasks: list[TaskRecord], track_of: dict[int, int], startup: float, axis: Axis, y: float,
          row_h: float, labels: list[int]) -> None:
    """One lane's bars, merged where pixels cannot tell them apart, with their CPU fills and task numbers."""
    h = _bar_height(row_h)
    segments: dict[tuple[int, str], list[list]] = {}  # (pixel row, status) -> [x0, x1, cpu, dur, n, index]
    for t in sorted(tasks, key=lambda t: (t.start, t.index)):
        key = (_row(track_of.get(t.index, 0), row_h), t.status)
        a, b = axis.x(t.start - startup), axis.x(t.end - startup)
        segs = segments.setdefault(key, [])
        last = segs[-1] if segs else None
        overlaps = last is not None and a < last[1] - 0.5
        close = last is not None and a <= last[1] + 1 and (b - a < NARROW or last[1] - last[0] < NARROW)
        if overlaps or close:
            last[1] = max(last[1], b)
            last[2] += t.cpu_seconds
            last[3] += t.duration
            last[4] += 1
        else:
            segs.append([a, b, t.cpu_seconds, t.duration, 1, t.index])
    for (row, status), segs in segments.items():
        top = _row_top(y, row, row_h, h)
        for a, b, cpu, dur, n, index in segs:
            w = max(b - a, 0.8)
            if n == 1 and w >= NARROW + 2:
                w -= 1  # a pixel's gap before the next task on the lane
            svg.rect(a, top, w, h, STATE_COLORS.get(status, STATE_COLORS["cancelled"]))
            share = min(1.0, cpu / dur) if dur > 0 else 0.0
            if share >= MIN_FILL:
                svg.rect(a, top + h * (1 - share), w, h * share, CPU_FILL_COLOR, 0.8, layer=2)
            label = str(index)
            if n == 1 and labels[0] > 0 and h >= 11 and w >= text_width(label, 10) + 8:
                svg.text(a + w / 2, top + h / 2 + 3.5, label, 10, "#FFFFFF", anchor="middle")
                labels[0] -= 1


def _transfers(svg: Svg, tasks: list[TaskRecord], track_of: dict[int, int], startup: float, axis: Axis,
               y: float, row_h: float) -> None:
    """One lane's transfer segments: each task's "sent" ending at its bar's start (the upper half of a pipe
    :data:`TRANSFER_HEIGHT` of the bar, centred on it), its "returned" beginning at its end (the lower half).

    At their true width (a bar is widened to a pixel, a transfer is not: it would claim time it did not
    take), left out under :data:`MIN_TRANSFER_PX`, merged where they touch, clipped to the plot."""
    if not any(t.sent_seconds or t.returned_seconds for t in tasks):
        return  # the common case: nothing was copied
    h = _bar_height(row_h)
    spans: dict[tuple[int, str], list[tuple[float, float]]] = {}  # (pixel row, kind) -> [(x0, x1)]
    for t in tasks:
        row = _row(track_of.get(t.index, 0), row_h)
        for kind, a, b in (("sent", t.start - t.sent_seconds, t.start),
                           ("returned", t.end, t.end + t.returned_seconds)):
            xa, xb = max(axis.left, axis.x(a - startup)), min(axis.right, axis.x(b - startup))
            if xb - xa >= MIN_TRANSFER_PX:
                spans.setdefault((row, kind), []).append((xa, xb))
    half = h * TRANSFER_HEIGHT / 2
    for (row, kind), xs in spans.items():
        top = _row_top(y, row, row_h, h) + h / 2 - (half if kind == "sent" else 0.0)
        merged: list[list[float]] = []
        for xa, xb in sorted(xs):
            if merged and xa <= merged[-1][1] + 0.5:
                merged[-1][1] = max(merged[-1][1], xb)
            else:
                merged.append([xa, xb])
        for xa, xb in merged:
            svg.rect(xa, top, xb - xa, half, TRANSFER_COLORS[kind], layer=TRANSFER_LAYER)


def _strip(svg: Svg, r: RunResult, lane: str, axis: Axis, y: float) -> None:
    """The lane's X-ray: on a core (bottom), waiting for one, blocked (top); intervals narrower than a few
    pixels are averaged over columns that wide, and neighbours that look alike are drawn as one."""
    su = r.startup_seconds
    segments: list[tuple[float, float, tuple[int, ...]]] = []
    columns: dict[int, list[float]] = {}  # column -> [pixels, on·px, waiting·px, blocked·px]
    for s in r.thread_states:
        shares = s.lanes.get(lane)
        if shares is None:
            continue
        xa, xb = axis.x(s.t - s.interval - su), axis.x(s.t - su)
        if xb - xa >= STRIP_BUCKET:
            segments.append((xa, xb, tuple(round(v * STRIP_LEVELS) for v in shares)))
            continue
        acc = columns.setdefault(int((xa + xb) / 2 // STRIP_BUCKET), [0.0, 0.0, 0.0, 0.0])
        w = max(xb - xa, 1e-6)
        acc[0] += w
        for k, share in enumerate(shares, 1):
            acc[k] += share * w
    segments += [(c * STRIP_BUCKET, (c + 1) * STRIP_BUCKET, tuple(round(v / acc[0] * STRIP_LEVELS) for v in acc[1:]))
                 for c, acc in columns.items()]
    merged: list[list] = []
    for xa, xb, levels in sorted(segments):
        if merged and merged[-1][2] == levels and xa <= merged[-1][1] + 0.5:
            merged[-1][1] = max(merged[-1][1], xb)
        else:
            merged.append([xa, xb, levels])
    for xa, xb, levels in merged:
        xa, xb = max(axis.left, xa), min(axis.right, xb)
        base = y + STRIP_H
        for key, level in zip(THREAD_STATE_COLORS, levels, strict=True):
            hh = STRIP_H * min(level, STRIP_LEVELS) / STRIP_LEVELS
            svg.rect(xa, base - hh, xb - xa, hh, THREAD_STATE_COLORS[key])
            base -= hh


def _markers(svg: Svg, r: RunResult, ideal: float | None, axis: Axis, top: float, bottom: float) -> None:
    """The wall-time line with its label and, where the run has one, the faint ideal line with its seconds."""
    if ideal is not None:
        x = axis.x(ideal)
        svg.line(x, top, x, bottom, MUTED, 1.5, "5 4", opacity=0.8)
        label = f"ideal {seconds(ideal, 2)}"
        left = x - 4 - text_width(label, 10) >= axis.left  # beside the line, inside the plot
        _label(svg, x - 4 if left else x + 4, bottom - 4, label, 10, MUTED, "end" if left else "start")
    x = axis.x(r.wall_seconds)
    svg.line(x, top - 2, x, bottom + 2, FOREGROUND, 2)
    label = f"wall {seconds(r.wall_seconds)}"
    right = x + 5 + text_width(label, 11) <= WIDTH - 4
    _label(svg, x + 5 if right else x - 5, top + 12, label, 11, FOREGROUND, "start" if right else "end", bold=True)


def _label(svg: Svg, x: float, y: float, text: str, size: float, fill: str, anchor: str, bold: bool = False) -> None:
    """Text on a pale backing, so it reads over bars."""
    w = text_width(text, size) * (1.1 if bold else 1.0) + 4
    x0 = x - 2 if anchor == "start" else x - w + 2
    svg.rect(x0, y - size, w, size + 3, "#FFFFFF", 0.85, layer=Svg.TOP - 1)
    svg.text(x, y, text, size, fill, anchor=anchor, bold=bold)


def _time_axis(svg: Svg, axis: Axis, y: float, show_startup: bool) -> float:
    """Ticks, their numbers and the axis's name under the last panel; returns the y below it."""
    ticks = nice_ticks(axis.t0, axis.t1)
    svg.line(axis.left, y, axis.right, y, FOREGROUND, 1)
    for tick in ticks:
        x = axis.x(tick)
        svg.line(x, y, x, y + 5, FOREGROUND, 1)
        svg.text(x, y + 18, tick_label(tick, ticks), 11, FOREGROUND, anchor="middle")
    name = "seconds since the work started" + (" (start-up shaded before 0)" if show_startup else "")
    svg.text((axis.left + axis.right) / 2, y + 36, name, 12, FOREGROUND, anchor="middle")
    return y + 40

"""Where the timeline's bars go, without Qt: a run's tasks as numpy columns, their lanes, tracks and rectangles.

Why columns: the view draws, updates and hovers 100,000 tasks as arrays (a C-level pass per
column), never as a Python object per task.  Rows, top to bottom, are one lane per worker in the
order the workers first ran a task; a lane whose worker ran several tasks at once (asyncio's event
loop) splits into thin sub-rows, one per track, placed by :mod:`concgui.engine.tracks` (the rule
the Chrome trace uses too).  Times are seconds since the run started: small numbers keep
pyqtgraph's float32 paths exact.  The view (``view.py``) turns these rectangles into items.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import repeat
from operator import attrgetter

import numpy as np

from ....engine.live import NOT_STARTED, STATES
from ....engine.records import TaskRecord
from ....engine.tracks import LaneTracks, assign_tracks_array

WAITING, RUNNING, OK, ERROR, CANCELLED = range(5)
CODES: dict[str, int] = {s: i for i, s in enumerate(STATES)}
FINAL_CODES = (OK, ERROR, CANCELLED)
_START, _END, _STATUS, _WORKER, _CPU = (attrgetter(f) for f in ("start", "end", "status", "worker", "cpu_seconds"))
_SENT, _RETURNED = attrgetter("sent_seconds"), attrgetter("returned_seconds")

LANE_FILL = 0.8  # the share of a lane's height its bars fill; the rest separates lanes
LANE_PAD = (1.0 - LANE_FILL) / 2
MAX_TRACKS = 256  # sub-rows per lane at most; beyond, overlapping tasks share rows
#: the X-ray strip of a lane (its thread's states) sits in the gap under the lane's bars
STRIP_TOP = LANE_PAD + LANE_FILL + 0.01
STRIP_HEIGHT = LANE_PAD - 0.015
FILL_LEVELS = 32  # CPU-share fills of neighbouring tasks merge when their shares round to the same 1/32
MIN_FILL = 0.02  # a task that used less of a core than this shows no fill
#: the transfer segments (a task's argument on its way in, its result on its way out) fill this share of the
#: bar's height, centred on it: a thin "pipe" either side of the bar, "sent" its upper half and "returned"
#: its lower half, so the two stay apart where a result travels back while the next argument comes in
TRANSFER_HEIGHT = 0.4
TRANSFER_KINDS = ("sent", "returned")
MIN_TRANSFER_PX = 0.5  # transfer segments narrower than this share of a pixel are not drawn (invisible anyway)


def merge_touching(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, h: np.ndarray, gap: float,
                   key: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Merge bars on the same row (the same ``key``, by default ``y0``) that overlap or are less than ``gap`` apart.

    At a zoom where one pixel holds many tasks, their bars are one block of
    colour anyway; drawing that block once instead of per task keeps a repaint
    of 100,000 tasks at a few thousand rectangles.  Hovering still finds the
    individual tasks, from the layout's own columns.
    """
    n = x0.size
    if n < 2:
        return x0, x1, y0, h
    if key is None:
        key = y0
    order = np.lexsort((x0, key))
    x0s, x1s, ys = x0[order], x1[order], key[order]
    row_start = np.empty(n, dtype=bool)
    row_start[0] = True
    row_start[1:] = ys[1:] != ys[:-1]
    rank = np.cumsum(row_start) - 1
    big = float(np.nanmax(x1s) - np.nanmin(x0s)) + 1.0 + gap
    offset = (rank * big) - np.nanmin(x0s)
    reach = np.maximum.accumulate(x1s + offset) - offset  # furthest end so far, per row
    new_seg = row_start.copy()
    new_seg[1:] |= x0s[1:] > reach[:-1] + gap
    if new_seg.all():
        return x0, x1, y0, h
    starts = np.flatnonzero(new_seg)
    ends = np.append(starts[1:], n) - 1
    return x0s[starts], reach[ends], y0[order][starts], h[order][starts]


def next_pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


class TimelineLayout:
    """One run's tasks as columns (status code, start, end, lane, track) and its lanes' sub-rows.

    Lane ``k`` shows ``caps[k]`` sub-rows: exactly its tracks once the run is over; while it is
    live, a power of two (so a lane's bars move only when its overlaps double), at most
    :data:`MAX_TRACKS`.  ``lane_tracks[k]`` places the lane's tasks still to come.
    """

    def __init__(self, n: int = 0) -> None:
        self.n = n
        self.start = np.full(n, np.nan)
        self.end = np.full(n, np.nan)
        self.status = np.zeros(n, dtype=np.int8)
        self.lane = np.full(n, -1, dtype=np.int32)
        self.track = np.full(n, -1, dtype=np.int32)
        self.cpu = np.zeros(n)  # CPU seconds (known once a task has finished)
        self.sent = np.zeros(n)  # seconds the argument took to reach the task (the span ends at its start)
        self.returned = np.zeros(n)  # seconds its result took to come back (the span begins at its end)
        self.has_transfer = False  # some task's argument or result took time to move: drawn, hovered, named
        #: False for a run whose tasks share its memory (threads): nothing to read, its flood builds as fast
        self.copies_data = True
        self.labels: list[str] = []  # one per lane, top to bottom
        self.lane_of: dict[str, int] = {}
        self.lane_tracks: list[LaneTracks] = []
        self.caps: list[int] = []
        self.max_time = 0.0  # the latest start or end seen

    # --- filling the columns ----------------------------------------------------------
    def add_lanes(self, labels: Sequence[str]) -> bool:
        """Lanes for the workers in ``labels`` not seen yet (the list only grows); True if any."""
        if len(labels) == len(self.labels):
            return False
        for label in labels[len(self.labels):]:
            self.lane_of[label] = len(self.labels)
            self.labels.append(label)
            self.lane_tracks.append(LaneTracks())
            self.caps.append(1)
        return True

    def columns(self, recs: Sequence[TaskRecord]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Status codes, starts, ends and lane numbers of records, read in C-level passes."""
        n = len(recs)
        codes = np.fromiter(map(CODES.get, map(_STATUS, recs), repeat(WAITING)), dtype=np.int8, count=n)
        st = np.array(list(map(_START, recs)), dtype=float)  # None -> nan
        en = np.array(list(map(_END, recs)), dtype=float)
        ln = np.fromiter(map(self.lane_of.get, map(_WORKER, recs), repeat(-1)), dtype=np.int32, count=n)
        return codes, st, en, ln

    def set_cpu(self, idx: np.ndarray, recs: Sequence[TaskRecord]) -> None:
        """Tasks ``idx``'s CPU seconds, from their records (in the same order)."""
        self.cpu[idx] = np.fromiter(map(_CPU, recs), dtype=float, count=len(recs))

    def set_transfer(self, idx: np.ndarray, recs: Sequence[TaskRecord]) -> None:
        """Tasks ``idx``'s sent and returned seconds, from their records (after their starts and ends are set).

        Zero for threads, asyncio and sequential runs (nothing is copied); a process's task pays them."""
        if not self.copies_data:
            return
        if not (self.has_transfer or any(map(_SENT, recs)) or any(map(_RETURNED, recs))):
            return  # the common case: nothing moved (the columns are already zero); any() stops at a first
        n = len(recs)
        sent = np.fromiter(map(_SENT, recs), dtype=float, count=n)
        returned = np.fromiter(map(_RETURNED, recs), dtype=float, count=n)
        self.sent[idx], self.returned[idx] = sent, returned
        self.has_transfer = True
        out = self.end[idx] + returned
        out = out[np.isfinite(out)]
        if out.size:
            self.max_time = max(self.max_time, float(out.max()))

    def load(self, tasks: Sequence[TaskRecord], finished: bool) -> None:
        """Every record at once (a reopened run, a run's end): columns, then each lane's tracks."""
        n = self.n
        if not n:
            return
        # tasks not started yet share one record (RunState's NOT_STARTED): their rows stay empty
        seen = np.flatnonzero(np.fromiter(map(id, tasks), dtype=np.int64, count=n) != id(NOT_STARTED))
        recs = tasks if seen.size == n else [tasks[i] for i in seen.tolist()]
        codes, st, en, ln = self.columns(recs)
        self.status[seen], self.start[seen], self.end[seen], self.lane[seen] = codes, st, en, ln
        self.set_cpu(seen, recs)
        # a running task (or one without an end) keeps its track until it ends
        ends = np.where((self.status == RUNNING) | np.isnan(self.end), np.inf, self.end)
        self.track = assign_tracks_array(self.lane, self.start, ends, self.lane_tracks)
        for k, tracks in enumerate(self.lane_tracks):
            if tracks.n:  # a finished run fills its rows exactly; a live one doubles them as tasks overlap
                self.caps[k] = min(tracks.n if finished else next_pow2(tracks.n), MAX_TRACKS)
        starts, ends_known = (v[np.isfinite(v)] for v in (self.start, self.end))
        self.max_time = max(float(starts.max()) if starts.size else 0.0,
                            float(ends_known.max()) if ends_known.size else 0.0)
        self.set_transfer(seen, recs)  # after the ends: a result's way back may end the run's picture

    def apply(self, changed: np.ndarray, codes: np.ndarray, st: np.ndarray, en: np.ndarray,
              ln: np.ndarray) -> bool:
        """Tasks ``changed`` now read as given: columns, and a track for each that started.

        True when a lane needed more sub-rows: all its bars move.
        """
        self.status[changed], self.start[changed], self.end[changed], self.lane[changed] = codes, st, en, ln
        known = np.concatenate([v[np.isfinite(v)] for v in (st, en)] + [np.zeros(1)])
        self.max_time = max(self.max_time, float(known.max()))
        placeable = np.isfinite(st) & (ln >= 0)
        ends = np.where((codes != RUNNING) & np.isfinite(en), en, np.inf)
        old_track = self.track[changed]
        for j in np.flatnonzero(placeable & (old_track >= 0) & np.isfinite(ends)).tolist():
            self.lane_tracks[ln[j]].release(int(old_track[j]), float(ends[j]))  # a running task ended
        need = np.flatnonzero(placeable & (old_track < 0))
        if need.size == 0:
            return False
        self.track[changed[need]] = assign_tracks_array(ln[need], st[need], ends[need], self.lane_tracks)
        grew = False
        for k in set(ln[need].tolist()):  # not np.unique: its first call imports numpy.ma, a pause mid-run
            n_tracks = self.lane_tracks[k].n
            if n_tracks > self.caps[k] and self.caps[k] < MAX_TRACKS:
                self.caps[k] = min(next_pow2(n_tracks), MAX_TRACKS)
                grew = True
        return grew

    def fit_rows(self) -> bool:
        """The run ended: each lane gets exactly the sub-rows it uses; True if any changed."""
        refit = False
        for k, tracks in enumerate(self.lane_tracks):
            if tracks.n and self.caps[k] != min(tracks.n, MAX_TRACKS):
                self.caps[k] = min(tracks.n, MAX_TRACKS)
                refit = True
        return refit

    # --- reading it back ----------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Tasks per state."""
        per_code = np.bincount(self.status, minlength=len(STATES)) if self.n else np.zeros(len(STATES), int)
        return {name: int(per_code[k]) for k, name in enumerate(STATES)}

    def waiting(self) -> int:
        """Tasks not started yet."""
        return int(np.count_nonzero(self.status == WAITING))

    def drawable(self, code: int) -> np.ndarray:
        """Tasks of state ``code`` that have a place on the timeline."""
        m = (self.status == code) & np.isfinite(self.start) & (self.lane >= 0)
        if code != RUNNING:
            m &= np.isfinite(self.end)
        return np.flatnonzero(m)

    def end_now(self, now: float) -> np.ndarray:
        """End times with running tasks ending ``now`` (for drawing and hovering)."""
        return np.where(self.status == RUNNING, np.maximum(now, self.start), self.end)

    def rows(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Top and height of the bars of tasks ``idx``."""
        lanes = self.lane[idx]
        caps = np.array(self.caps or [1], dtype=float)[lanes]
        row_h = LANE_FILL / caps
        slot = self.track[idx] % MAX_TRACKS
        y0 = lanes + LANE_PAD + slot * row_h
        return y0, row_h * np.where(caps > 1, 0.85, 1.0)

    def rects(self, idx: np.ndarray, now: float, px: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x0, x1, y0, height) of the bars of tasks ``idx``, ``px`` seconds being one screen pixel.

        Every bar is at least a pixel wide, so none vanishes; one wide enough to spare it ends a
        pixel early, so back-to-back tasks stay countable; narrower ones merge into blocks.
        """
        x0 = self.start[idx]
        x1 = np.where(self.status[idx] == RUNNING, np.maximum(now, x0), self.end[idx])
        x1 = np.maximum(x1, x0 + px)
        x1 = np.where(x1 - x0 >= 4 * px, x1 - px, x1)
        y0, h = self.rows(idx)
        return merge_touching(x0, x1, y0, h, px * 0.5)

    def fill_rects(self, idx: np.ndarray, now: float,
                   px: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x0, x1, y0, height) of the filled part of tasks ``idx``'s bars: their CPU share of the bar's height.

        The fill rises from the bar's bottom to ``cpu_seconds / duration`` of its height (at most all of it),
        so a thread that held a core a quarter of the time is a quarter full.  Bars as narrow as a pixel
        merge as :meth:`rects` merges them, neighbours whose shares round to the same level together.
        """
        dur = self.end[idx] - self.start[idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(dur > 0, np.clip(self.cpu[idx] / dur, 0.0, 1.0), 0.0)
        keep = (share >= MIN_FILL) & (self.status[idx] != RUNNING)
        idx, share = idx[keep], share[keep]
        x0 = self.start[idx]
        x1 = np.maximum(self.end[idx], x0 + px)
        x1 = np.where(x1 - x0 >= 4 * px, x1 - px, x1)
        y0, h = self.rows(idx)
        fh = h * share
        level = np.rint(share * FILL_LEVELS).astype(np.int64)
        key = (self.lane[idx].astype(np.int64) * MAX_TRACKS + self.track[idx] % MAX_TRACKS) * (FILL_LEVELS + 1) + level
        return merge_touching(x0, x1, y0 + h - fh, fh, px * 0.5, key)

    def transfer_totals(self) -> dict[str, float]:
        """Seconds the tasks' arguments ("sent") and results ("returned") took to move, each added up, for
        those that took any (none when nothing moved)."""
        if not self.has_transfer:
            return {}
        totals = {"sent": float(self.sent.sum()), "returned": float(self.returned.sum())}
        return {k: v for k, v in totals.items() if v > 0}

    def transfer_tasks(self, idx: np.ndarray) -> np.ndarray:
        """Those of tasks ``idx`` whose argument or result took time to move (none when no task's did)."""
        if not self.has_transfer or idx.size == 0:
            return idx[:0]
        return idx[(self.sent[idx] > 0) | (self.returned[idx] > 0)]

    def transfer_rects(self, idx: np.ndarray, px: float,
                       kind: str = "sent") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x0, x1, y0, height) of tasks ``idx``'s ``kind`` segments: "sent" ends at each bar's start (the upper
        half of a pipe :data:`TRANSFER_HEIGHT` of the bar, centred on it), "returned" begins at its end (the
        lower half).

        Drawn at their true width (a bar is widened to a pixel; a transfer is not: it would then claim time it
        did not take); narrower than :data:`MIN_TRANSFER_PX` of a pixel they are left out, touching ones merge.
        """
        y0, h = self.rows(idx)
        half = h * TRANSFER_HEIGHT / 2
        if kind == "sent":
            x1 = self.start[idx]
            x0, y = x1 - self.sent[idx], y0 + h / 2 - half
        else:
            x0 = self.end[idx]
            x1, y = x0 + self.returned[idx], y0 + h / 2
        keep = (x1 - x0 >= px * MIN_TRANSFER_PX) & np.isfinite(x0) & np.isfinite(x1)
        return merge_touching(x0[keep], x1[keep], y[keep], half[keep], px * 0.5)

    def task_at(self, x: float, y: float, tolerance: float, now: float) -> int | None:
        """The task whose bar is at (``x`` seconds, ``y`` rows, ``y`` ≥ 0), within ``tolerance`` seconds."""
        hits = self.tasks_at(x, y, tolerance, now)
        return int(hits[0]) if hits.size else None

    def tasks_at(self, x: float, y: float, tolerance: float, now: float) -> np.ndarray:
        """Every task whose bar is within ``tolerance`` seconds of (``x``, ``y``), the nearest first.

        More than one where tasks shorter than a pixel were drawn as one block."""
        lane = int(math.floor(y))
        frac = y - lane
        if lane >= len(self.labels) or frac < LANE_PAD * 0.5 or frac > 1 - LANE_PAD * 0.5:
            return np.zeros(0, dtype=np.int64)
        cap = self.caps[lane]
        slot = min(cap - 1, max(0, int((frac - LANE_PAD) // (LANE_FILL / cap))))
        start, end = self.start, self.end_now(now)
        lo, hi = (start - self.sent, end + self.returned) if self.has_transfer else (start, end)
        m = (self.lane == lane) & (self.track % MAX_TRACKS == slot)
        m &= (lo <= x + tolerance) & (hi >= x - tolerance)  # a task's transfer segments are its, too
        hits = np.flatnonzero(m)
        # the nearest bar first: a next task's argument may travel under the bar of the one before
        dist = np.maximum(0.0, np.maximum(start[hits] - x, x - end[hits]))
        return hits[np.lexsort((-start[hits], dist))]

    def bar_center(self, index: int, now: float) -> tuple[float, float] | None:
        """(x, y) of task ``index``'s bar middle, or None when it has no bar."""
        if index >= self.n or self.lane[index] < 0 or not math.isfinite(self.start[index]):
            return None
        y0, h = self.rows(np.array([index]))
        x0 = self.start[index]
        x1 = self.end_now(now)[index]
        return float((x0 + x1) / 2), float(y0[0] + h[0] / 2)

"""Sub-rows ("tracks") for tasks that overlap on one worker: the project's one placement rule.

A worker that runs several tasks at once (asyncio's event loop) needs a row per task in flight, in
the timeline and in a Chrome trace alike.  The rule: take a lane's tasks in order of start (then of
index) and put each on the lowest-numbered track that is free at its start, a track being free once
its last task has ended (an end equal to the start counts as free).

:class:`LaneTracks` applies the rule to one lane as a live run's tasks arrive, with a numpy fast
path for the usual lane whose tasks never overlap; :func:`assign_tracks_array` and
:func:`assign_tracks` apply it to a whole run through the same class.  ``tests/test_engine_tracks.py``
checks it against a plain reference on random runs.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

import numpy as np

from .records import TaskRecord


class LaneTracks:
    """One lane's tracks, placed as tasks arrive; a task still running has an ``inf`` end."""

    __slots__ = ("busy", "free", "ends")

    def __init__(self) -> None:
        self.busy: list[tuple[float, int]] = []  # (end, track) of tracks whose last task has an end
        self.free: list[tuple[int, float]] = []  # (track, end of its last task), known free
        self.ends: list[float] = []  # end of each track's latest task (inf while it runs)

    @property
    def n(self) -> int:
        """Tracks used so far."""
        return len(self.ends)

    def place(self, start: float, end: float) -> int:
        """The lowest track free at ``start``; ``end`` is inf while the task runs."""
        while self.busy and self.busy[0][0] <= start:
            e, k = heapq.heappop(self.busy)
            heapq.heappush(self.free, (k, e))
        if self.free and self.free[0][1] <= start:
            k = heapq.heappop(self.free)[0]
            self.ends[k] = end
        else:  # nothing free (or a live run's events came out of order): a new track is always safe
            k = len(self.ends)
            self.ends.append(end)
        if math.isfinite(end):
            heapq.heappush(self.busy, (end, k))
        return k

    def place_sorted(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Tracks for a batch of tasks sorted by start (then index).

        The usual lane (a pool worker) runs one task after another: then, once every track is free,
        the whole batch goes on track 0 without a Python loop, which is what keeps a run of
        100,000 tasks quick to lay out.  Its other tracks stay free for a later overlap.
        """
        if max(self.ends, default=-math.inf) <= starts[0]:
            if starts.size == 1 or np.all(starts[1:] >= np.maximum.accumulate(ends[:-1])):
                last = float(ends[-1])  # ends grow along a sequence of non-overlapping tasks
                self.ends[:1] = [last]
                self.busy = [(last, 0)] if math.isfinite(last) else []
                self.free = [(k, e) for k, e in enumerate(self.ends) if k]  # sorted: a valid heap
                return np.zeros(starts.size, dtype=np.int32)
        return np.array([self.place(s, e) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)],
                        dtype=np.int32)

    def release(self, track: int, end: float) -> None:
        """A task placed on ``track`` while it ran ended at ``end``."""
        if track < len(self.ends):
            self.ends[track] = end
        heapq.heappush(self.busy, (end, track))


def assign_tracks_array(lane: np.ndarray, start: np.ndarray, end: np.ndarray,
                        lanes: Sequence[LaneTracks] | None = None) -> np.ndarray:
    """The track of every task, given its lane number, start and end (inf while it runs).

    Tasks without a start (nan) or a lane (-1) get -1.  ``lanes[k]``, when given, takes lane
    ``k``'s tasks and is left ready to place the tasks that come after them (a live view's
    bookkeeping); otherwise each lane starts empty.
    """
    track = np.full(lane.shape, -1, dtype=np.int32)
    idx = np.flatnonzero((lane >= 0) & np.isfinite(start))
    if idx.size == 0:
        return track
    order = idx[np.lexsort((idx, start[idx], lane[idx]))]  # by lane, then start, then index
    bounds = np.flatnonzero(np.diff(lane[order])) + 1
    for group in np.split(order, bounds):
        tracks = lanes[int(lane[group[0]])] if lanes is not None else LaneTracks()
        track[group] = tracks.place_sorted(start[group], end[group])
    return track


def assign_tracks(tasks: Sequence[TaskRecord]) -> dict[int, int]:
    """Task index -> track within its worker's lane (0 for most), for the tasks that started and ended."""
    done = sorted((t for t in tasks if t.start is not None and t.end is not None), key=lambda t: t.index)
    if not done:
        return {}
    lane_of: dict[str, int] = {}
    lane = np.array([lane_of.setdefault(t.worker, len(lane_of)) for t in done], dtype=np.int64)
    start = np.array([t.start for t in done], dtype=float)
    end = np.array([t.end for t in done], dtype=float)
    track = assign_tracks_array(lane, start, end)
    return {t.index: int(k) for t, k in zip(done, track.tolist(), strict=True)}

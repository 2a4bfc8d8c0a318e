"""A row per task: a run's tasks each on a row of their own, with their worker's X-ray over their span.

Compare (the window's stack, :mod:`concgui.gui.views.stack_timeline`, and the notebook's,
:mod:`concgui.notebook.stack`) draws runs of a few tasks as a row per task, so that "one after another"
reads as a staircase and "at the same time" as a stack. The X-ray's series are per worker lane (a
thread, a process); a task row gets its worker's series cut to the task's span (:func:`row_states`), so
the strip under a task's bar says what its thread did while that task ran: on a core, waiting for one,
blocked on the GIL. Both pictures take the rule and the slicing from here, so they draw the same.

Qt-free and numpy-free, as the rest of the engine.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise

from .records import RunResult, TaskRecord, ThreadStates

#: runs of at most this many tasks get a row per task (the staircase); more, a row per worker
MAX_TASK_ROWS = 32


def per_task_possible(results: Sequence[RunResult]) -> bool:
    """Whether every run is small enough for a row per task."""
    return bool(results) and all(len(r.tasks) <= MAX_TASK_ROWS for r in results)


def task_row(t: TaskRecord) -> str:
    """A task's row name in the window: "task 3"."""
    return f"task {t.index}"


def row_states(states: Sequence[ThreadStates], spans: Iterable[tuple[str, str, float, float]]) -> list[ThreadStates]:
    """The X-ray series of rows that each show one worker lane over one span.

    ``spans``: (row, lane, start, end) each. A row's series is the lane's intervals that overlap
    [start, end], each cut to it (its shares kept), so the row's strip stops where its task's bar does.
    Within one probe interval the rows' pieces are cut again where any of them starts or ends, and the
    rows that cover a cut share one :class:`ThreadStates` (four threads in one 20 ms interval: one entry;
    a task ending at 0.25 in [0.2, 0.3] beside one running through it: [0.2, 0.25] both, [0.25, 0.3] one).
    So the series is in time order and its intervals do not overlap, as the probe writes them:
    :func:`.xray.integrate` over any span of a row, not only its whole span, gives that lane's seconds
    (uncut, a row's piece [0.1, 0.2] sorted after another row's [0.12, 0.14] was missed over [0.1, 0.11]).
    ``states`` are in time order and do not overlap; each span costs a bisection and the intervals it covers.
    """
    ends = [s.t for s in states]
    # probe interval's index -> its pieces: (from, to, row, shares)
    pieces: dict[int, list[tuple[float, float, str, tuple[float, float, float]]]] = {}
    for row, lane, start, end in spans:
        for i in range(bisect_right(ends, start), len(states)):
            s = states[i]
            first = s.t - s.interval
            if first >= end:
                break
            shares = s.lanes.get(lane)
            a, b = max(start, first), min(end, s.t)
            if shares is not None and b > a:
                pieces.setdefault(i, []).append((a, b, row, shares))
    out: list[ThreadStates] = []
    for i in sorted(pieces):
        cuts = sorted({x for a, b, _, _ in pieces[i] for x in (a, b)})
        for lo, hi in pairwise(cuts):
            lanes = {row: shares for a, b, row, shares in pieces[i] if a <= lo and hi <= b}
            if lanes:
                out.append(ThreadStates(hi, hi - lo, lanes))
    return out


def by_task(result: RunResult, name: Callable[[TaskRecord], str] = task_row) -> tuple[RunResult, dict[str, str]]:
    """``result`` with each task that started on a row of its own (``name(task)``: "task 3"), and each row's
    real worker.

    Each row's X-ray series is its worker's over the task's span (:func:`row_states`): the strips and a
    task's "on a core · waiting · blocked" stay true to what its thread did while it ran. A task still
    running (no end) gets its worker's series up to the last interval.
    """
    workers: dict[str, str] = {}
    tasks: list[TaskRecord] = []
    spans: list[tuple[str, str, float, float]] = []
    last = result.thread_states[-1].t if result.thread_states else 0.0
    for t in result.tasks:
        if t.start is not None and t.worker:
            row = name(t)
            workers[row] = t.worker
            spans.append((row, t.worker, t.start, last if t.end is None else t.end))
            t = dataclasses.replace(t, worker=row)
        tasks.append(t)
    states = row_states(result.thread_states, spans) if result.thread_states else []
    return dataclasses.replace(result, tasks=tasks, thread_states=states), workers

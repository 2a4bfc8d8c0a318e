"""Following a run: which span of time the timeline shows next while it runs, and once it is done.

Why it moves in steps and not every frame: each move re-lays both linked charts' axes and items
(and every few moves the bars are laid out anew for the new zoom), all on the machine whose run is
being measured.  So when it can tell how far a live run will get (:func:`foreseen_end`) the view
spans that at once and then holds still; otherwise each step doubles what it shows, up to the
run's last :data:`FOLLOW_WINDOW` seconds.  A finished run is shown whole.  Qt-free: the view
applies the range it is given.
"""

from __future__ import annotations

from collections.abc import Callable

from ....engine.live import RunState
from ....engine.spec import PARAMS

FOLLOW_WINDOW = 60.0  # while following a run longer than this, show its last 60 s
FOLLOW_STEP = 1.0  # while following, the view moves ahead of "now" by this share of what it shows (≤ 15 s)
FOLLOW_MIN_SPAN = 1.0  # seconds a live view shows at least: a run's first second takes no steps
FOLLOW_MARGIN = 0.25  # ... or, once the run's end can be told, spans it plus this share (its pace wavers early on)


def next_x_range(state: RunState, shown: tuple[float, float], now: float, work_start: float, max_time: float,
                 waiting: Callable[[], int]) -> tuple[float, float] | None:
    """The x range to show next (the view pads it by 1 %), or None to hold still.

    ``shown`` is the range on screen, ``now`` the run's clock, ``waiting()`` how many tasks
    have not started (asked only when the pace is worth reading).
    """
    if state.finished:
        return 0.0, max(max_time, work_start, 1e-3)
    x0, x1 = shown
    now = max(now, 1e-3)
    lo = max(0.0, now - FOLLOW_WINDOW)
    width = max(x1 - x0, 1e-9)
    end = foreseen_end(state, now, lo, work_start, waiting)
    if end is not None:
        span = max(3.0 * (end - lo), FOLLOW_MIN_SPAN) + 0.05  # the most the view may show
        if x0 <= lo + 0.02 * width and end + 0.01 * width <= x1 <= lo + span:
            return None
        grow = x1 - lo if end + 0.01 * width > x1 else 0.0  # by half at least: a pace still settling
        # moves the view a few times at most
        return lo, lo + max((1.0 + FOLLOW_MARGIN) * (end - lo), 1.5 * grow, FOLLOW_MIN_SPAN)
    if x0 <= lo + 0.02 * width and now + 0.01 * width <= x1 <= now + FOLLOW_STEP * 1.5 * width:
        return None
    ahead = min(FOLLOW_STEP * (now - lo), FOLLOW_WINDOW / 4)
    return lo, max(now + ahead, lo + FOLLOW_MIN_SPAN)


def foreseen_end(state: RunState, now: float, lo: float, work_start: float,
                 waiting: Callable[[], int]) -> float | None:
    """How far a live run will get: its end, once the pace of finished tasks tells it (within the
    view's window); else its first tasks' end, for workloads whose tasks last a set time; else None.

    The pace counts from 2 % of the tasks done, and only while some still wait: tasks all in flight
    at once (threads taking turns on the GIL) end when they end, not at a pace.
    """
    if state.done >= max(1, state.total // 50) and waiting() > 0:
        eta = state.eta()
        if eta is not None and now + eta - lo <= FOLLOW_WINDOW:
            return now + eta
    duration = state.spec.get("duration")
    if state.spec.get("workload") in PARAMS["duration"].workloads and duration:
        first = work_start + float(duration) * (1.0 - float(state.spec.get("jitter") or 0.0))
        if now < first:
            return first
    return None

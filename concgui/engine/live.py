"""The state of one run as its events arrive: what every live view draws from.

Qt-free, so the same object backs the window, tests and a notebook.  A
finished run saved earlier turns into the same state with
:meth:`RunState.from_result`, so a reopened run shows in every view.
"""

from __future__ import annotations

import time
from collections import Counter
from itertools import compress
from operator import attrgetter, is_not

from .events import (
    CpuSampled,
    Event,
    MemorySampled,
    RunFinished,
    RunStarted,
    StartupFinished,
    TaskFinished,
    TaskStarted,
    ThreadStatesSampled,
)
from .records import (
    CANCELLED,
    ERROR,
    NOT_STARTED,
    OK,
    RUNNING,
    WAITING,
    CpuSample,
    MemorySample,
    RunResult,
    TaskRecord,
    ThreadStates,
    last_back,
)

STATES = (WAITING, RUNNING, OK, ERROR, CANCELLED)
_OPEN = frozenset((WAITING, RUNNING))  # a task in either state may still change; a final one never does
_STATUS = attrgetter("status")


class RunState:
    """Records, lanes, CPU samples and progress of one run."""

    def __init__(self) -> None:
        self.spec: dict = {}
        self.environment: dict = {}
        self.total = 0
        self.workers = 0
        self.tasks: list[TaskRecord] = []
        self.lanes: list[str] = []  # worker labels in order of first appearance
        self.cpu_samples: list[CpuSample] = []
        self.thread_states: list[ThreadStates] = []  # the X-ray: each lane's states, interval by interval
        self.memory_samples: list[MemorySample] = []  # each process's memory, every few tenths of a second
        self.work_start: float | None = None
        self.result: RunResult | None = None
        self.done = 0
        self.errors = 0
        self.changes = 0  # bumps on every apply; views redraw only when it moved
        #: indices of tasks whose record was replaced, in order: a view keeps its place in this log and
        #: redraws only those (a task may appear twice: started, then finished). Each worker's tasks are
        #: first named in the order they ran (see :mod:`.events`), so a view may stop anywhere in it
        self.changed: list[int] = []
        #: True while every record not named in :attr:`changed` is still NOT_STARTED (a run built from
        #: its events): a view then draws it from the log alone, without reading every record
        self.logged_from_start = False
        self._lane_set: set[str] = set()
        self._received_at: float | None = None  # time.monotonic() when the run started
        # for :meth:`eta`, kept as the events arrive so that it costs the same with 100,000 tasks:
        self._timed = 0  # finished tasks with a start and an end
        self._timed_work = 0.0  # the sum of their durations
        self._running = 0  # tasks started and not finished
        self._running_starts = 0.0  # the sum of their starts

    # --- building ----------------------------------------------------------------
    def apply(self, events: list[Event]) -> None:
        """Take in one batch of events (the hot path: a batch may hold thousands of task events)."""
        tasks, changed, lanes = self.tasks, self.changed, self._lane_set
        # what :meth:`eta` reads, in locals while the batch goes (written back at its end)
        timed, timed_work, running, running_starts = self._timed, self._timed_work, self._running, self._running_starts
        for e in events:
            kind = type(e)
            if kind is TaskFinished:
                r = e.record
                i = r.index
                if i < len(tasks) and (was := tasks[i]).status in _OPEN:
                    if was.status == RUNNING:
                        running -= 1
                        running_starts -= was.start
                    if r.end is not None and r.start is not None:
                        timed += 1
                        timed_work += r.end - r.start
                    tasks[i] = r
                    changed.append(i)
                    self.done += 1
                    if r.status == ERROR:
                        self.errors += 1
                    if r.worker not in lanes:
                        self._add_lane(r.worker)
            elif kind is TaskStarted:
                i = e.index
                if i < len(tasks) and tasks[i].status == WAITING:
                    tasks[i] = TaskRecord(i, e.worker, e.pid, e.thread_id, None, e.start, None, 0.0, RUNNING)
                    running += 1
                    running_starts += e.start
                    changed.append(i)
                    if e.worker not in lanes:
                        self._add_lane(e.worker)
            elif kind is CpuSampled:
                self.cpu_samples.append(e.sample)
            elif kind is ThreadStatesSampled:
                self.thread_states.append(e.states)
            elif kind is MemorySampled:
                self.memory_samples.append(e.sample)
            elif kind is StartupFinished:
                self.work_start = e.t
                self.workers = (e.detail or {}).get("workers", self.workers)
            elif kind is RunStarted:
                self.__init__()
                self.spec, self.environment = e.spec, e.environment
                self.total, self.workers = e.tasks, e.workers
                self.tasks = tasks = [NOT_STARTED] * e.tasks
                self.logged_from_start = True
                changed, lanes = self.changed, self._lane_set
                timed, timed_work, running, running_starts = 0, 0.0, 0, 0.0
                self._received_at = time.monotonic()
            elif kind is RunFinished:
                self._set_result(e.result)
                tasks = self.tasks
        self._timed, self._timed_work, self._running, self._running_starts = timed, timed_work, running, running_starts
        self.changes += 1

    @classmethod
    def from_result(cls, result: RunResult) -> RunState:
        state = cls()
        state._set_result(result)
        state.changes = 1
        return state

    def _set_result(self, result: RunResult) -> None:
        """Take the final records.

        A live run ending keeps its list: only the records that differ from what its events
        said are swapped in and logged in :attr:`changed`, so a view redraws what changed
        instead of 100,000 bars.  A record that was already final
        changing (or a state that never saw the run) gets a new list, which views redraw whole.
        """
        new, old = result.tasks, self.tasks
        self.result = result
        self.spec, self.environment = result.spec, result.environment
        self.total, self.workers = len(new), result.workers
        self.cpu_samples = list(result.cpu_samples)
        self.thread_states = list(result.thread_states)
        self.memory_samples = list(result.memory_samples)
        self.work_start = result.startup_seconds
        # C-level passes, not a Python loop and a recount: a run may end with 100,000 records
        diff = list(compress(range(len(new)), map(is_not, old, new))) if len(old) == len(new) else None
        if diff is not None and all(old[i].status in _OPEN for i in diff):
            added = [new[i] for i in diff]
            for i, r in zip(diff, added, strict=True):
                old[i] = r
            self.changed.extend(diff)
            statuses = Counter(map(_STATUS, added))  # each was open before: count what it became
            self.done += len(added) - statuses[WAITING] - statuses[RUNNING]
            self.errors += statuses[ERROR]
        else:
            self.tasks = list(new)
            self.changed = []
            self.logged_from_start = False
            added = self.tasks
            statuses = Counter(map(_STATUS, self.tasks))
            self.done = len(self.tasks) - statuses[WAITING] - statuses[RUNNING]
            self.errors = statuses[ERROR]
        for t in sorted(added, key=lambda r: (r.start is None, r.start or 0.0)):
            if t.worker and t.worker not in self._lane_set:
                self._add_lane(t.worker)

    def _add_lane(self, label: str) -> None:
        if label and label not in self._lane_set:
            self._lane_set.add(label)
            self.lanes.append(label)

    # --- reading -----------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.result is not None

    def now(self) -> float:
        """Seconds since the run started: live while it runs, the end once finished."""
        if self.result is not None:
            return self.end_time()
        if self._received_at is None:
            return 0.0
        return time.monotonic() - self._received_at

    def end_time(self) -> float:
        return last_back(self.tasks, self.work_start or 0.0)

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left at ``now`` (default :meth:`now`), from the pace so far; None until a task finished.

        The work left is the tasks not finished, each as long as the mean finished one, less what the
        tasks in progress have already run; it goes at the pace the work done so far went (which
        counts the lanes in use). So in 3 sleeps of 2 s one after another, at 2.9 s (one done, the
        next 0.9 s in) it is 3.1 s, not the 5.8 s of counting finished tasks alone. A task in progress
        counts as at most one task done, all of them together at most as many as are running.
        """
        if self.finished or self.done == 0 or self.total == 0:
            return None
        now = self.now() if now is None else now
        elapsed = now - (self.work_start or 0.0)
        done = float(self.done)
        if self._timed and self._running:
            mean = self._timed_work / self._timed
            running_for = self._running * now - self._running_starts  # their time so far, together
            if mean > 0:
                done += min(float(self._running), max(0.0, running_for) / mean)
        return max(0.0, elapsed / done * (self.total - done))

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATES, 0)
        for t in self.tasks:
            out[t.status] = out.get(t.status, 0) + 1
        return out

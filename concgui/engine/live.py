"""The state of one run as its events arrive: what every live view draws from.

Qt-free, so the same object backs the window, tests and a notebook.  A
finished run saved earlier turns into the same state with
:meth:`RunState.from_result`, so a reopened run shows in every view.
"""

from __future__ import annotations

import time

from .events import CpuSampled, Event, RunFinished, RunStarted, StartupFinished, TaskFinished, TaskStarted
from .records import CANCELLED, ERROR, OK, RUNNING, WAITING, CpuSample, RunResult, TaskRecord

STATES = (WAITING, RUNNING, OK, ERROR, CANCELLED)
#: the record of every task that has not started: one shared object (never changed; its index is not the
#: task's, use the position in ``RunState.tasks``), so announcing 100,000 tasks costs no 100,000 objects
NOT_STARTED = TaskRecord(-1)


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
        self.work_start: float | None = None
        self.result: RunResult | None = None
        self.done = 0
        self.errors = 0
        self.changes = 0  # bumps on every apply; views redraw only when it moved
        self._lane_set: set[str] = set()
        self._received_at: float | None = None  # time.monotonic() when the run started

    # --- building ----------------------------------------------------------------
    def apply(self, events: list[Event]) -> None:
        for e in events:
            if isinstance(e, TaskFinished):
                r = e.record
                if r.index < len(self.tasks):
                    if self.tasks[r.index].status not in (WAITING, RUNNING):
                        continue
                    self.tasks[r.index] = r
                    self.done += 1
                    self.errors += r.status == ERROR
                    self._add_lane(r.worker)
            elif isinstance(e, TaskStarted):
                if e.index < len(self.tasks) and self.tasks[e.index].status == WAITING:
                    self.tasks[e.index] = TaskRecord(e.index, e.worker, e.pid, e.thread_id, None, e.start,
                                                     None, 0.0, RUNNING)
                    self._add_lane(e.worker)
            elif isinstance(e, CpuSampled):
                self.cpu_samples.append(e.sample)
            elif isinstance(e, StartupFinished):
                self.work_start = e.t
                self.workers = (e.detail or {}).get("workers", self.workers)
            elif isinstance(e, RunStarted):
                self.__init__()
                self.spec, self.environment = e.spec, e.environment
                self.total, self.workers = e.tasks, e.workers
                self.tasks = [NOT_STARTED] * e.tasks
                self._received_at = time.monotonic()
            elif isinstance(e, RunFinished):
                self._set_result(e.result)
        self.changes += 1

    @classmethod
    def from_result(cls, result: RunResult) -> RunState:
        state = cls()
        state._set_result(result)
        state.changes = 1
        return state

    def _set_result(self, result: RunResult) -> None:
        self.result = result
        self.spec, self.environment = result.spec, result.environment
        self.total, self.workers = len(result.tasks), result.workers
        self.tasks = list(result.tasks)
        self.cpu_samples = list(result.cpu_samples)
        self.work_start = result.startup_seconds
        self.done = sum(1 for t in self.tasks if t.status not in (WAITING, RUNNING))
        self.errors = sum(1 for t in self.tasks if t.status == ERROR)
        for t in sorted(self.tasks, key=lambda r: (r.start is None, r.start or 0.0)):
            if t.worker:
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
        ends = [t.end for t in self.tasks if t.end is not None]
        return max(ends) if ends else (self.work_start or 0.0)

    def eta(self) -> float | None:
        """Seconds left, extrapolated from the pace so far; None until a task finished."""
        if self.finished or self.done == 0 or self.total == 0:
            return None
        elapsed = self.now() - (self.work_start or 0.0)
        return max(0.0, elapsed / self.done * (self.total - self.done))

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATES, 0)
        for t in self.tasks:
            out[t.status] = out.get(t.status, 0) + 1
        return out

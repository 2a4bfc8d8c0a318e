"""Drives a scaling study in the window: one run after another through the RunController.

The engine's :func:`concgui.engine.sweep.run_sweep` blocks a thread for the whole sweep; the
window instead starts each point as a normal run of its :class:`RunController` (off the UI
thread, live in the timeline, into the history) and starts the next when that one ends, so
the event loop is never held. The plan, the ordering and the points come from the engine
(:func:`plan_sweep`, :func:`point_from`); this class only sequences them.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ..engine import ExperimentSpec, RunResult, SpecError
from ..engine.sweep import PlannedPoint, SweepPoint, SweepResult, plan_sweep, point_from
from .run_controller import RunController


class SweepController(QObject):
    """Runs a sweep's points one by one on ``runs``; Stop ends it with the run going now.

    It connects to ``runs.run_finished`` / ``run_failed`` when made, and starts the next point
    from those handlers: create it *after* connecting the window's own handlers, so the window
    has taken a run's end (history, views) before the next run starts.
    """

    started = Signal(object)  # SweepResult, planned and empty, before its first run starts
    point_started = Signal(object, object)  # PlannedPoint, SweepResult: its run has just started
    point_added = Signal(object)  # SweepResult, with the point that just ended (see remaining())
    finished = Signal(object)  # SweepResult, done or stopped

    def __init__(self, runs: RunController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs = runs
        self.sweep: SweepResult | None = None  # the last sweep started (running or ended)
        self._plan: list[PlannedPoint] = []  # its runs still to start
        self._point: PlannedPoint | None = None  # its run going now
        runs.run_finished.connect(self._on_run_finished)
        runs.run_failed.connect(self._on_run_failed)

    def is_running(self) -> bool:
        return self._point is not None

    def remaining(self) -> int:
        """Runs still to start after the one going now."""
        return len(self._plan)

    def start(self, base: ExperimentSpec, executors: list[str], max_workers: int, repeats: int) -> SweepResult:
        """Plan the sweep (SpecError naming the field on bad input, before anything runs) and start it."""
        if self.runs.is_running() or self.is_running():
            raise RuntimeError("a run is already going")
        plan = plan_sweep(base, executors, max_workers, repeats)
        self.sweep = plan.new_result()
        self._plan = list(plan.points)
        self.started.emit(self.sweep)
        self._next()
        return self.sweep

    def stop(self) -> None:
        """Start no more runs and cancel the one going now (its point is kept, cancelled)."""
        self._plan = []
        if self._point is not None:
            self.runs.cancel()

    # --- internals ---------------------------------------------------------------
    def _next(self) -> None:
        while self._plan:
            point = self._plan.pop(0)
            try:
                self.runs.start(point.spec)
            except (SpecError, OSError, RuntimeError) as exc:  # refused before it ran: a failed point
                self._add(point_from(point, error=f"{type(exc).__name__}: {exc}"))
                continue
            self._point = point
            self.point_started.emit(point, self.sweep)
            return
        self._point = None
        self.finished.emit(self.sweep)

    def _add(self, point: SweepPoint) -> None:
        self.sweep.points.append(point)
        self.point_added.emit(self.sweep)

    def _on_run_finished(self, result: RunResult) -> None:
        if self._point is not None:
            self._end(point_from(self._point, result))

    def _on_run_failed(self, message: str) -> None:
        if self._point is not None:
            self._end(point_from(self._point, error=message))

    def _end(self, point: SweepPoint) -> None:
        self._point = None
        self._add(point)
        self._next()

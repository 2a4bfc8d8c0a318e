"""Runs experiments off the UI thread and hands their events to the window.

The engine calls back from its own threads (the pump, or the reader of the
engine process); those callbacks only append to a deque, and no Qt object is
ever touched from a worker thread.  On the GUI thread a frame clock paces the
live run: every 33 ms it drains the deque into the :class:`RunState` and emits
``updated``; 11 and 22 ms later it emits ``frame_step`` 1 and 2, when the
window redraws one chart each.  Every piece is then a short turn of the event
loop with a repaint of its own, and the window answers in between (a drain, two
charts and their repaints in one turn were the longest pauses of a flood).
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
import weakref
from collections import deque

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ..engine import ExperimentSpec, RunFinished, RunResult, SpecError, start
from ..engine.baseline import baseline_for
from ..engine.exit_guard import exit_refused
from ..engine.live import RunState

REFRESH_MS = 33  # a frame: views redraw at most this often
FRAME_STEPS = 3  # ... in this many turns of the event loop, REFRESH_MS / FRAME_STEPS apart
#: seconds of event handling per tick: a flood of events (20,000 tasks cancelled at once) is spread
#: over several ticks, so the window keeps answering; what is left waits for the next tick
TICK_BUDGET = 0.010


class RunController(QObject):
    """Starts runs (one, or a comparison of several in a row), cancels them, reports them."""

    run_started = Signal(object)  # RunState of the new run
    updated = Signal(object, object)  # RunState, the list of events drained this tick (object: no conversion)
    frame_step = Signal(int)  # 1 .. FRAME_STEPS - 1: the views' turns to redraw, between two drains
    run_finished = Signal(object)  # RunResult
    run_failed = Signal(str)  # message
    sequence_finished = Signal(list)  # list[RunResult] of a comparison

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state: RunState | None = None
        self._inbox: deque = deque()
        self._run = None
        self._thread: threading.Thread | None = None
        self._pending: list[ExperimentSpec] = []
        self._sequence: list[RunResult] | None = None
        self._baseline: RunResult | None = None
        self._step = 0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)  # a coarse timer may fire the steps together
        self._timer.setInterval(REFRESH_MS // FRAME_STEPS)
        self._timer.timeout.connect(self._on_frame_step)
        #: clear while a frame's turn (and the repaint it posts) goes; the engine's reader and the history
        #: writer wait for it between their pieces of work. The GIL has no priorities: a turn that had to
        #: win it back from them after each of its calls into Qt took up to twice as long
        self.host_idle = threading.Event()
        self.host_idle.set()
        # a zero timer: it fires when the event loop next looks at its timers, which in the loops seen here
        # (offscreen, xcb) came after the repaints this turn posted; Qt does not promise that order
        self._open_gate = QTimer(self, singleShot=True, interval=0)
        self._open_gate.timeout.connect(self.host_idle.set)

    # --- commands ----------------------------------------------------------------
    def is_running(self) -> bool:
        return self._thread is not None

    def start(self, spec: ExperimentSpec, baseline: RunResult | None = None) -> None:
        """Run one experiment; ``baseline`` (a sequential run) gives its speedup."""
        if self.is_running():
            raise RuntimeError("a run is already going")
        self._pending, self._sequence = [], None
        self._launch(spec, baseline)

    def start_sequence(self, specs: list[ExperimentSpec]) -> None:
        """Run several experiments one after another; each is measured against the first run of the same
        experiment (:func:`~concgui.engine.baseline.baseline_for`), a run of a new one is a baseline."""
        if self.is_running():
            raise RuntimeError("a run is already going")
        if not specs:
            return
        self._pending, self._sequence = list(specs[1:]), []
        self._launch(specs[0], None)

    def cancel(self) -> None:
        """Stop the current run and drop the rest of a comparison."""
        self._pending = []
        if self._run is not None:
            self._run.cancel()

    def shutdown(self, timeout: float = 2.5) -> None:
        """Cancel and wait (bounded) for the run thread: used when the window closes."""
        self.cancel()
        self._timer.stop()
        self._open_gate.stop()
        self.host_idle.set()  # no turns to wait for: the reader and the history writer finish at full pace
        if self._thread is not None:
            self._thread.join(timeout)
        gc.unfreeze()

    # --- internals ---------------------------------------------------------------
    def _launch(self, spec: ExperimentSpec, baseline: RunResult | None) -> None:
        self.state = RunState()
        self._baseline = baseline
        inbox = self._inbox
        ended = threading.Lock()  # one outcome per run, whoever comes first

        def outcome(kind: str, payload) -> None:
            if ended.acquire(blocking=False):
                inbox.append((kind, payload))

        def on_events(events: list) -> None:
            inbox.append(("events", events))
            current = run_ref()
            if getattr(current, "abandoned", False):  # finished without its stuck executor: done now
                for e in events:
                    if isinstance(e, RunFinished):
                        outcome("done", e.result)

        run = self._run = start(spec, on_events, baseline, self.host_idle)
        # the run holds on_events: a strong reference back would make a cycle, and what the run holds
        # (a finished pool's pipes) would wait for a full collection; frozen meanwhile, a sequence of
        # process-pool runs kept two more file descriptors with every run
        run_ref = weakref.ref(run)

        # inline, the run's tasks share the window's process: a task's os._exit would close it without a word
        guard = exit_refused if spec.isolation == "inline" else contextlib.nullcontext

        def work() -> None:
            try:
                with guard():
                    result = run.execute()
                outcome("done", result)
            except SpecError as exc:
                outcome("failed", f"Bad input: {exc}")
            except Exception as exc:  # noqa: BLE001 - shown in the window, which stays usable
                outcome("failed", f"The run failed: {type(exc).__name__}: {exc}")

        self._thread = threading.Thread(target=work, name="concgui-gui-run", daemon=True)
        self._thread.start()
        self._step = 0
        self._timer.start()
        gc.freeze()  # what the last run left (100,000 records, say) is not walked again at this one's start
        self.run_started.emit(self.state)

    def _on_frame_step(self) -> None:
        step, self._step = self._step, (self._step + 1) % FRAME_STEPS
        self.host_idle.clear()
        try:
            if step:
                self.frame_step.emit(step)
            else:
                self._drain()
        finally:
            self._open_gate.start()

    def _drain(self) -> None:
        try:
            self._drain_some(time.perf_counter() + TICK_BUDGET)
        finally:
            # While a run streams in, what the window holds (task records, mostly) leaves the cycle
            # collector's sight: each collection then walks only what arrived since the last tick, not
            # 100,000 records, a pause the window shows. The run's end gives everything back (gc.unfreeze): a
            # cycle that became garbage meanwhile (a finished pool's pipes) is collected as before.
            if self.is_running():
                gc.freeze()

    def _drain_some(self, deadline: float) -> None:
        batch: list = []
        outcome = None
        pop = self._inbox.popleft
        while self._inbox:
            kind, payload = pop()
            if kind == "events":
                batch.extend(payload)
                state = self.state
                if state is not None:
                    state.apply(payload)
                if time.perf_counter() > deadline:
                    break
            else:
                outcome = (kind, payload)
                break
        state = self.state
        if batch and state is not None:
            self.updated.emit(state, batch)
        if outcome is None:
            return
        # not joined: the run's thread ends by itself as soon as it has handed over its outcome (or
        # never, if its executor is abandoned); joining here gave the GIL away mid-turn, and the window
        # waited for it while the history writer closed the run
        self._thread = self._run = None
        gc.unfreeze()
        kind, payload = outcome
        if kind == "failed":
            self._timer.stop()
            self._pending, self._sequence = [], None
            self.run_failed.emit(payload)
            return
        result: RunResult = payload
        self.run_finished.emit(result)
        if self._sequence is not None:
            self._sequence.append(result)
            if self._pending and result.status == "ok":
                spec = self._pending.pop(0)
                self._launch(spec, baseline_for(spec.to_dict(), self._sequence))
                return
            sequence, self._sequence = self._sequence, None
            self.sequence_finished.emit(sequence)
        if not self.is_running():
            self._timer.stop()

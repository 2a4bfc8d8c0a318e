"""How a run ended, as the window shows it, worked out without a window.

Two pieces of logic the main window applies to its widgets: the progress bar's words and fill for
an ended run (:func:`outcome`), and what a run that failed midway had done, as a result the views
and the history can take (:func:`partial_result`). Plain functions, so tests need no Qt.
"""

from __future__ import annotations

import time
from collections import Counter
from operator import attrgetter

from ..engine import RunResult, TaskRecord
from ..engine.live import RunState
from ..engine.present import number
from ..engine.records import CANCELLED, ERROR, INTERRUPTED, OK, RUNNING, WAITING, wall_seconds
from ..engine.summary import summarize

PROGRESS_FORMAT = "%v / %m tasks"  # while a run goes, and for one whose every task finished
STATUS = attrgetter("status")  # a task record's status, read in C over 100,000 records


def outcome(result: RunResult, elsewhere: int | None = None) -> tuple[str, int, int]:
    """An ended run's progress bar as ``(format, value, maximum)``.

    What finished, failed or was cancelled ("57 done, 143 cancelled"), the bar filled by those that
    ran; never a full "200 / 200" for a stopped run. An interrupted run (never closed in the history,
    or a file written as it went) counts against the tasks it was to run: "Interrupted: 5 done, 15 not
    finished"; one another process (pid ``elsewhere``) still records is not interrupted: "Still
    running in process 123: 5 done so far, …". A run whose every task finished keeps the live
    format, :data:`PROGRESS_FORMAT`.
    """
    statuses = Counter(map(STATUS, result.tasks))
    interrupted = result.status in (RUNNING, INTERRUPTED)
    planned = result.spec.get("tasks")
    total = len(result.tasks)
    if interrupted and isinstance(planned, int) and not isinstance(planned, bool):
        total = max(total, planned)  # the history keeps only the tasks that finished
    ran = statuses[OK] + statuses[ERROR]
    maximum = max(1, total)
    if statuses[OK] == total and not interrupted:
        return PROGRESS_FORMAT, ran, maximum
    going = bool(elsewhere) and interrupted
    head = f"Still running in process {elsewhere}: " if going else "Interrupted: " if interrupted else ""
    parts = [f"{head}{number(statuses[OK], 0)} done{' so far' if going else ''}"]
    parts += [f"{number(statuses[ERROR], 0)} failed"] if statuses[ERROR] else []
    parts += [f"{number(statuses[CANCELLED], 0)} cancelled"] if statuses[CANCELLED] else []
    left = total - ran - statuses[CANCELLED]
    parts += [f"{number(left, 0)} not finished"] if interrupted and left else []
    return ", ".join(parts), ran, maximum


def partial_result(state: RunState | None, message: str, started_at: float = 0.0) -> RunResult | None:
    """What a run that failed midway (its engine crashed, say) had done, closed as failed.

    None when it never started (no state, no spec) or already ended. Tasks still waiting become
    cancelled; those running become cancelled at ``state.now()`` with a "Lost" error, so the views
    draw them up to the failure. ``started_at`` is the run's epoch start (0: now).
    """
    if state is None or not state.spec or state.result is not None:
        return None
    now = state.now()
    tasks = []
    for i, t in enumerate(state.tasks):
        if t.status in (WAITING, RUNNING):
            running = t.status == RUNNING
            t = TaskRecord(i, t.worker, t.pid, t.thread_id, t.submitted, t.start,
                           now if running else None, t.cpu_seconds, CANCELLED,
                           {"type": "Lost", "message": "still running when the run failed", "traceback": ""}
                           if running else None)
        tasks.append(t)
    work_start = state.work_start or 0.0
    result = RunResult(spec=state.spec, environment=state.environment, status="failed", error=message,
                       started_at=started_at or time.time(), startup_seconds=work_start,
                       wall_seconds=wall_seconds(tasks, work_start),
                       workers=state.workers, tasks=tasks, cpu_samples=list(state.cpu_samples),
                       memory_samples=list(state.memory_samples))
    result.summary = summarize(result)
    return result

"""The seed notebook's printed lines for any run: ``Task 0 started``, ``Task 0 finished``, ...

One translator from events to lines, shared by ``concgui run --echo`` and the
window's console pane.  A task too short to be seen running still gets its
'started' line (just before its end); a task dropped before it began gets
only 'cancelled'.
"""

from __future__ import annotations

from .events import Event, RunFinished, RunStarted, StartupFinished, TaskFinished, TaskStarted
from .present import count
from .records import CANCELLED, ERROR, RunResult, TaskRecord
from .spec import executor_label


def finished_line(record: TaskRecord) -> str:
    """How the notebook would report a task's end."""
    if record.status == ERROR:
        err = record.error or {}
        lines = (err.get("message") or "").strip().splitlines()
        kind = err.get("type") or "Error"
        return f"Task {record.index} error: {kind}: {lines[0]}" if lines else f"Task {record.index} error: {kind}"
    if record.status == CANCELLED:
        return f"Task {record.index} cancelled"
    return f"Task {record.index} finished"


def run_end_lines(result: RunResult) -> list[str]:
    """The closing lines: 'All tasks done' and the total time (or why the run stopped)."""
    if result.status == "ok":
        head = "All tasks done"
    elif result.status == "cancelled":
        head = "Run cancelled"
    else:
        head = f"Run failed: {result.error}" if result.error else "Run failed"
    return [head, f"Time to finish the tasks: {result.wall_seconds:.3f} seconds"]


def cluster_lines(dask: dict | None) -> list[str]:
    """What a Dask run found: the scheduler, each worker and the clock correction applied to it."""
    if not dask:
        return []
    workers = dask.get("workers", [])
    out = [f"Dask: {dask.get('scheduler')}, {count(len(workers), 'worker')}"
           + (f", dashboard {dask['dashboard']}" if dask.get("dashboard") else "")]
    for w in workers:
        clock = ("same clock as this process, no correction" if w.get("same_clock") else
                 f"clock offset {w['clock_offset_ms']:+.3f} ms ± {w['clock_uncertainty_ms']:.3f} ms, corrected")
        out.append(f"  {w['address']}: {w['host']} pid {w['pid']}, {count(w['nthreads'], 'thread')}; {clock}")
    return out


class EchoLines:
    """Turns batches of events into the lines the notebook would have printed."""

    def __init__(self) -> None:
        self._running: set[int] = set()  # tasks whose 'started' line is out and 'finished' is not

    def reset(self) -> None:
        self._running.clear()

    def lines(self, events: list[Event]) -> list[str]:
        out: list[str] = []
        for e in events:
            if isinstance(e, TaskStarted):
                if e.index not in self._running:
                    self._running.add(e.index)
                    out.append(f"Task {e.index} started")
            elif isinstance(e, TaskFinished):
                r = e.record
                if r.index in self._running:
                    self._running.discard(r.index)
                elif r.start is not None:  # too short to be seen running: its start is still news
                    out.append(f"Task {r.index} started")
                out.append(finished_line(r))
            elif isinstance(e, RunStarted):
                self._running.clear()
                spec = e.spec
                out.append(f"— {spec.get('workload')} × {e.tasks} on {executor_label(spec)}, "
                           f"{count(e.workers, 'worker')} —")
            elif isinstance(e, StartupFinished):
                out.extend(cluster_lines((e.detail or {}).get("dask")))
                if e.t >= 0.01:
                    out.append(f"(start-up took {e.t:.3f} seconds)")
            elif isinstance(e, RunFinished):
                self._running.clear()
                out.extend(run_end_lines(e.result))
        return out

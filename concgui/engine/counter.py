"""What a finished run of the counter workload counted: lost updates in threads, counts that never meet
in processes.

Every task adds ``increments`` to its process's one counter and returns the count it saw after its last
increment (the record's ``value``). Tasks in one process share the counter; the highest value seen there
is how far it got. Processes share no memory, so each has a counter of its own: their counts never meet,
and only their sum can be set against the expected ``tasks × increments``. :mod:`.summary` stores the
figures (:func:`counter_figures`) and :mod:`.why` says them in a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .records import OK, RunResult

WORKLOAD = "counter"
#: the summary's keys for the counter, all None for a run whose counts cannot be read
KEYS = ("counter_expected", "counter_count", "counter_lost", "counter_processes", "counter_sum",
        "counter_lowest", "counter_lock_slowdown")


@dataclass(frozen=True)
class Counts:
    """One counter run's counts: per counter (a process; an interpreter of an interpreter pool), the
    increments its tasks made and the highest count a task saw there."""

    increments: int  # per task
    lock: bool
    expected: dict[tuple[int, int], int]  # per counter: its tasks × increments
    reached: dict[tuple[int, int], int]  # per counter: the highest value a task returned there

    @property
    def total_expected(self) -> int:
        return sum(self.expected.values())

    @property
    def counters(self) -> int:
        return len(self.reached)

    @property
    def lost(self) -> int:
        """Increments that no counter shows: each counter's own expected count less what it reached."""
        return sum(max(0, self.expected[k] - self.reached[k]) for k in self.reached)

    @property
    def total(self) -> int:
        """What the counters reached, together (they never meet unless they are one)."""
        return sum(self.reached.values())


def counts(result: RunResult) -> Counts | None:
    """The counts of a finished counter run; None for another workload, a run that did not finish or one
    whose tasks returned no count (a file from before ConcGUI recorded them)."""
    spec = result.spec or {}
    if spec.get("workload") != WORKLOAD or result.status != OK or not result.tasks:
        return None
    if any(t.status != OK or getattr(t, "value", None) is None for t in result.tasks):
        return None
    increments = int(spec.get("increments") or 0)
    per_interpreter = spec.get("executor") == "interpreter-pool"  # one counter per interpreter, same pid
    expected: dict[tuple[int, int], int] = {}
    reached: dict[tuple[int, int], int] = {}
    for t in result.tasks:
        key = (t.pid, t.thread_id if per_interpreter else 0)
        expected[key] = expected.get(key, 0) + increments
        reached[key] = max(reached.get(key, 0), t.value)
    return Counts(increments, bool(spec.get("lock")), expected, reached)


def counter_figures(result: RunResult, baseline: RunResult | None = None) -> dict[str, Any]:
    """The summary's counter keys (:data:`KEYS`) for a counter run, else {}.

    ``counter_count``: the highest count a task saw on one counter (the last one written may be lower);
    ``counter_lost``: increments missing from every counter (at least: a stale write after the highest count
    a task saw may have set a counter back); ``counter_lowest``: the lowest count a
    counter reached (for processes, with ``counter_count``, the range of their counts);
    ``counter_lock_slowdown``: this locked run's wall time over ``baseline``'s, where the baseline is
    the same counting without the lock and finished (status ok), as :func:`.summary.run_speedup` asks of a
    speedup's: a stopped run's wall time is the time until it stopped, not the time its counting needed.
    """
    if (result.spec or {}).get("workload") != WORKLOAD:
        return {}
    c = counts(result)
    if c is None:
        return dict.fromkeys(KEYS)
    slowdown = None
    if (c.lock and baseline is not None and baseline.status == OK and (baseline.spec or {}).get("workload") == WORKLOAD
            and not baseline.spec.get("lock") and baseline.wall_seconds > 0):
        slowdown = result.wall_seconds / baseline.wall_seconds
    return {
        "counter_expected": c.total_expected,
        "counter_count": max(c.reached.values()),
        "counter_lost": c.lost,
        "counter_processes": c.counters,
        "counter_sum": c.total,
        "counter_lowest": min(c.reached.values()),
        "counter_lock_slowdown": slowdown,
    }

"""The ideal mark of a Compare: the first run's wall time shared evenly by a run's workers.

One rule for every picture that draws it (the window's wall-time bars and timeline stack, the notebook's
stack), all through :func:`ideals` or :func:`ideal_mark`: ``ideal_seconds(first, run)`` = the first run's
wall ÷ min(workers, tasks), where the first run is that of the run's experiment (:func:`.baseline.baselines`),
and only when that first run finished and ran its tasks one at a time (one worker, or one task): then its
wall time is the work done one at a time. The first run itself gets no mark.
The legends and tooltips take their words from here too, so they state the rule the marks follow.

Qt-free, as the rest of the engine.
"""

from __future__ import annotations

from collections.abc import Sequence

from .baseline import baselines, experiments
from .present import count, seconds
from .records import OK, RunResult
from .spec import executor_label

#: what the ideal mark is, in the legends
IDEAL_RULE = "ideal: first run's wall ÷ min(workers, tasks)"
#: why a run has no ideal mark, in the legends
NO_IDEAL = "no ideal: the first run was not one task at a time"
#: why a run has no ideal mark when its first run stopped or failed, in the legends
NO_IDEAL_STOPPED = "no ideal: the first run did not finish"


def task_count(result: RunResult) -> int:
    """``result``'s tasks: its records, else its spec's count."""
    return len(result.tasks) or int((result.spec or {}).get("tasks", 1) or 1)


def sharers(result: RunResult) -> int:
    """How many workers could share ``result``'s tasks: min(workers, tasks) (a pool of 6 for 3 tasks: 3)."""
    return max(1, min(result.workers or 1, task_count(result)))


def one_at_a_time(first: RunResult) -> bool:
    """Whether ``first`` ran its tasks one at a time (one worker, or one task), so that its wall time is the
    work done one at a time."""
    return sharers(first) == 1


def finished(first: RunResult) -> bool:
    """Whether ``first`` ran to its end: a stopped run's wall time is the time until it stopped, not the work."""
    return first.status == OK and first.wall_seconds > 0


def ideal_seconds(first: RunResult, run: RunResult) -> float | None:
    """The ideal: the first run's wall time shared evenly by ``run``'s workers, wall ÷ min(workers, tasks).

    It counts neither cores nor the GIL: 4 threads on 2 cores get a quarter of the first run's time, which
    only work that waits (sleep, I/O) can reach. None when the first run did not finish, or was not one task
    at a time: its wall time then measured its own overlap, not the work, and neither it × its workers nor
    its tasks' times summed give the work back (4 counter threads took 157 ms, their tasks 369 ms in all,
    each slowed by the others' turns at the GIL; 2 processes then did it in 59 ms, under either "ideal").
    """
    if not finished(first) or not one_at_a_time(first):
        return None
    return first.wall_seconds / sharers(run)


def compared(first: RunResult, run: RunResult) -> bool:
    """Whether ``run`` is set against ``first`` (the first run of its experiment): it is not that run itself,
    and it took time. Only then has it a speed-up, an ideal mark and the ideal's sentence."""
    return run is not first and run.wall_seconds > 0


def ideal_mark(first: RunResult, run: RunResult) -> float | None:
    """Where ``run``'s ideal mark goes, against ``first``: :func:`ideal_seconds` where it is :func:`compared`,
    else None (a dash on the first run's own bar would only repeat its wall time)."""
    return ideal_seconds(first, run) if compared(first, run) else None


def ideals(results: Sequence[RunResult]) -> list[float | None]:
    """Each run's :func:`ideal_mark` against the first run of its experiment: the marks every picture draws."""
    return [ideal_mark(b, r) for r, b in zip(results, baselines(results), strict=True)]


def ideal_sentence(first: RunResult, run: RunResult) -> str:
    """The ideal in words, for a tooltip: how it is made, and what it does not count."""
    ideal = ideal_seconds(first, run)
    if ideal is None:
        if not finished(first):
            return (f"no ideal: the first run ({executor_label(first.spec)}) was {first.status}, so its wall "
                    "time is not the work done one at a time")
        return (f"no ideal: the first run ({executor_label(first.spec)}, {count(first.workers, 'worker')}) "
                "ran its tasks side by side, so its wall time is not the work done one at a time")
    n = sharers(run)
    text = (f"ideal {seconds(ideal)}: the first run's {seconds(first.wall_seconds)} ÷ {n} "
            f"(min of {count(run.workers, 'worker')} and {count(task_count(run), 'task')}), "
            "the work shared evenly; cores and the GIL not counted")
    cores = int((run.environment or {}).get("cpu_count") or 0)
    if 0 < cores < n:
        text += f" (CPU work on these {cores} cores: {seconds(first.wall_seconds / cores)} at best)"
    return text


def ideal_legend(results: Sequence[RunResult], drawn: bool) -> list[str]:
    """The legend's words for the ideal: its rule when ``drawn``, and why runs have none, if some have none."""
    several = len(experiments(results)) > 1
    words = []
    if drawn:
        words.append(IDEAL_RULE.replace("first run's", "its experiment's first run's") if several else IDEAL_RULE)
    pairs = [(r, b) for r, b in zip(results, baselines(results), strict=True) if r is not b]
    if any(not finished(b) for _, b in pairs):
        words.append("no ideal where an experiment's first run did not finish" if several else NO_IDEAL_STOPPED)
    if any(finished(b) and not one_at_a_time(b) for _, b in pairs):
        words.append("no ideal where an experiment's first run was not one task at a time" if several else NO_IDEAL)
    return words

"""Which executor of one Compare won and why, in plain words from the runs' numbers.

A Compare's text sets several runs against each other: the fastest and by how much against the baseline,
what it did that the slowest did not, then a run that failed, start-up changing the order, a busy machine
or what the winner could try next, and, where the runs had them, what processes held in memory against
threads and how the start methods' start-ups differed. It is apart from :mod:`.why`, which says why ONE
run took as long as it did: this module reads each run's story from there (:func:`.why.diagnose`), and
:mod:`.why` never imports this one.
"""

from __future__ import annotations

from .baseline import experiment_text, experiments
from .present import count, number, seconds
from .records import OK, RunResult
from .spec import executor_label, in_processes
from .summary import busy_machine, foreign_cores
from .why import Reason, diagnose, in_parallel, mean_text, speed_against
from .xray import on_threads


def _names(results: list[RunResult]) -> dict[int, str]:
    """Each run's name in a Compare: its executor (and the counter's lock), with its workers where an executor
    ran twice."""
    executors = [executor_label(r.spec) + (" with the lock" if (r.spec or {}).get("lock") else "") for r in results]
    return {id(r): (f"{e} ({count(r.workers, 'worker')})" if executors.count(e) > 1 else e)
            for r, e in zip(results, executors, strict=True)}


def compare_why(results: list[RunResult]) -> str:
    """Which executor of one Compare won and why, in two or three sentences; ``results`` baseline first.

    The winner is the shortest wall time (the speedup column's measure); a start-up that would change
    the order is said, as is a busy machine, else what the winner could try next. A Compare of several
    experiments (a lesson's preset) is judged experiment by experiment, each named: which executor is
    faster only means something between runs of the same tasks.
    """
    groups = experiments(results)
    if len(groups) > 1:
        return " ".join(f"{experiment_text(g[0].spec)}: {text}" for g in groups if (text := _one_experiment(g)))
    return _one_experiment(results)


def _one_experiment(results: list[RunResult]) -> str:
    """:func:`compare_why` for runs of one experiment, the first the baseline."""
    if len(results) < 2:
        return ""
    name = _names(results)
    base = results[0]
    done = [r for r in results if r.status == OK and r.wall_seconds > 0]
    failed = [r for r in results if r.status != OK]
    if not any(r is base for r in done):
        return (f"The baseline, {name[id(base)]}, {base.status}: there is nothing to measure the others "
                "against.")
    if len(done) < 2:
        return f"Only the baseline, {name[id(base)]}, finished: " + ", ".join(
            f"{name[id(r)]} {r.status}" for r in failed) + "."
    winner = min(done, key=lambda r: r.wall_seconds)
    reasons = {id(r): diagnose(r) for r in done}
    if winner is base:
        first = f"{name[id(base)]} was fastest, at {seconds(base.wall_seconds, 2)}: no other executor beat it."
    else:
        first = (f"{name[id(winner)]} was fastest: {seconds(winner.wall_seconds, 2)}, "
                 f"{speed_against(base.wall_seconds / winner.wall_seconds, name[id(base)])}.")
    others = [r for r in done if r is not winner]
    contrast = max((r for r in others if r is not base), key=lambda r: r.wall_seconds, default=base)
    second = f"It {_achieved(winner, reasons[id(winner)])}, while {name[id(contrast)]} {reasons[id(contrast)].did}."
    last = _compare_last(done, failed, winner, name, reasons[id(winner)])
    return " ".join(part for part in (first, second, last, memory_sentence(done, name), start_method_sentence(done))
                    if part)


def memory_sentence(results: list[RunResult], name: dict[int, str] | None = None) -> str:
    """What processes held against threads, from the runs' memory figures, where a Compare has both:
    "process-pool's 4 processes held 4 interpreters: 52 MB in total, 13 MB each; thread-pool's 4 threads
    shared one process of 31 MB." ("" without both, or without the probe's memory series)."""
    name = name or _names(results)
    measured = [r for r in results if (r.summary or {}).get("memory_total_mb") is not None]
    procs = [r for r in measured if in_processes(r.spec or {}) and (r.summary.get("memory_processes") or 0) > 1]
    threads = [r for r in measured if on_threads(r.spec or {}) and r.summary.get("memory_processes") == 1]
    if not procs or not threads:
        return ""
    p = max(procs, key=lambda r: r.summary["memory_processes"])
    t = max(threads, key=lambda r: r.workers)
    ps, ts = p.summary, t.summary
    n = ps["memory_processes"]
    text = (f"{name[id(p)]}'s {count(n, 'process')} held {count(n, 'interpreter')}: "
            f"{number(ps['memory_total_mb'], 0, 'MB')} in total, {number(ps['memory_per_worker_mb'], 0, 'MB')} "
            + (f"each; {name[id(t)]}'s {count(t.workers, 'thread')} shared one process of " if t.workers > 1
               else f"each; {name[id(t)]} ran in one process of ")
            + number(ts["memory_total_mb"], 0, "MB"))
    forked = (p.spec or {}).get("executor") in ("process-pool", "mp-pool") and \
        (p.environment or {}).get("start_method") == "fork"  # joblib's loky starts its own way
    if forked and ps.get("memory_kind") == "uss":
        text += " (forked workers share their parent's pages until they write them: their USS is what they changed)"
    elif "rss" in (ps.get("memory_kind"), ts.get("memory_kind")):
        text += " (resident sizes: pages the processes share count in each)"
    return text + "."


#: what each start method does when it starts a worker, for :func:`start_method_sentence`
START_METHOD_WORDS = {
    "fork": "fork copies this process at once",
    "forkserver": "forkserver forks each worker from a server process started clean",
    "spawn": "spawn starts a fresh interpreter for each worker, which imports the task's code again",
}


def start_method_sentence(results: list[RunResult]) -> str:
    """How much the start methods' start-ups differed, where runs of one Compare started pools with fork and with
    spawn or forkserver: "Start-up by start method: fork 0.05 s, spawn 1.21 s (24× fork's): ..." ("" otherwise)."""
    by: dict[str, float] = {}
    for r in results:
        method = (r.summary or {}).get("start_method")
        if method in START_METHOD_WORDS and r.startup_seconds > 0:
            by[method] = min(by.get(method, r.startup_seconds), r.startup_seconds)
    if "fork" not in by or len(by) < 2:
        return ""
    order = [m for m in START_METHOD_WORDS if m in by]
    slowest = max(order[1:], key=by.__getitem__)
    times = ", ".join(f"{m} {seconds(by[m], 2)}" for m in order)
    ratio = f" ({by[slowest] / by['fork']:.1f}× fork's)" if by["fork"] > 0 else ""
    return (f"Start-up by start method: {times}{ratio}: "
            + "; ".join(START_METHOD_WORDS[m] for m in order) + ".")


def _achieved(winner: RunResult, reason: Reason) -> str:
    """What the winner did that made it fastest: computed in parallel where it did, else its own story."""
    par = (winner.summary or {}).get("parallelism") or 0.0
    if in_parallel(par) and reason.kind not in ("startup", "dispatch"):
        return f"computed on {mean_text(par)} cores at once"
    return reason.did


def _compare_last(done: list[RunResult], failed: list[RunResult], winner: RunResult, name: dict[int, str],
                  reason: Reason) -> str:
    """The third sentence: a run that did not finish, start-up changing the order, a busy machine, or what
    the winner could try next."""
    if failed:
        return "; ".join(f"{name[id(r)]} {r.status}" for r in failed).capitalize() + ", so it is not ranked."
    first_done = min(done, key=lambda r: r.startup_seconds + r.wall_seconds)
    if first_done is not winner:
        return (f"Counting start-up, {name[id(first_done)]} finished first: {name[id(winner)]} spent "
                f"{seconds(winner.startup_seconds, 2)} starting before its work began.")
    loads = [load for r in done if busy_machine(r) and (load := foreign_cores(r)) is not None]
    if loads:
        return (f"Other programs took up to {number(max(loads), 1, 'cores')} during these runs: speedups are "
                "lower than this machine can give.")
    return reason.next

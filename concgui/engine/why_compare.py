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
from .metrics import HOW_WORDS, how_value, measured_note, run_label
from .present import count, number, percent, plural, possessive, seconds
from .records import OK, RunResult
from .spec import applies, executor_label, in_processes
from .summary import busy_machine, foreign_cores
from .why import Reason, diagnose, in_parallel, mean_text, speed_against
from .xray import on_threads

#: wall times within this share of the fastest are a tie, not a win: runs of the same tasks on a machine shared
#: with other programs differ by a few per cent from one run to the next (the review's two thread pools
#: sleeping 2 s differed by 0.02 %, and one was named the winner); a lead smaller than that is noise
TIE = 0.03


def _join(words: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" and {words[-1]}"


def _whose(name: str, things: str) -> str:
    """ "process-pool's 2 processes", "threads' 4 threads"; "the 4 threads of thread-pool without the lock" for a
    name of several words, whose possessive would read as its last word's."""
    return f"the {things} of {name}" if " " in name else f"{possessive(name)} {things}"


def _names(results: list[RunResult]) -> dict[int, str]:
    """Each run's name in a Compare (:func:`.metrics.run_label`): its executor, a counter run's lock ("with the
    lock", and "without the lock" beside one that had it), and where an executor ran more than once, what
    differed: its workers, chunk size, start method, ... ("process-pool (chunks of 100)", "process-pool (2
    workers)"), or which run it was where nothing did."""
    labels = [executor_label(r.spec or {}) for r in results]
    names = {}
    for r, label in zip(results, labels, strict=True):
        twins = [o for o, other in zip(results, labels, strict=True) if other == label]
        spec = r.spec or {}
        words: list[str] = []
        keys: list[str] = []
        if len(twins) > 1:
            keys = [key for key in HOW_WORDS
                    if key != "lock" and applies(key, str(spec.get("workload")), str(spec.get("executor")))
                    and len({str(how_value(o.spec or {}, key, o.environment)) for o in twins}) > 1]
            if len({o.workers for o in twins}) > 1:
                words.append(count(r.workers, "worker"))
            locks = len({bool((o.spec or {}).get("lock")) for o in twins}) > 1
            if not keys and not words and not locks:  # the same settings twice: which run
                words.append(f"run {next(k for k, o in enumerate(twins, 1) if o is r)}")
        text = run_label(spec, words, keys, r.environment)
        if spec.get("workload") == "counter" and any((o.spec or {}).get("lock") for o in twins):
            text += " with the lock" if spec.get("lock") else " without the lock"
        names[id(r)] = text
    return names


def compare_why(results: list[RunResult]) -> str:
    """Which executor of one Compare won and why, in two or three sentences; ``results`` baseline first.

    The winner is the shortest wall time (the speedup column's measure), unless others came within
    :data:`TIE` of it, which is a tie; a start-up that would change the order is said, as is a busy
    machine, else what the winner could try next. A Compare of the counter leads with which runs counted
    right, as a fast wrong count is no result. A Compare of several experiments (a lesson's preset) is
    judged experiment by experiment, each named: which executor is faster only means something between
    runs of the same tasks.
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
    reasons = {id(r): diagnose(r) for r in done}
    counted = _count_sentences(done, base, name, reasons)
    if counted is not None:
        parts = [*counted, _not_ranked(failed, name)]
    else:
        tied, first, second = _ranking(done, base, name, reasons)
        parts = [first, second, _compare_last(done, failed, tied, name, reasons[id(tied[0])])]
    return " ".join(part for part in (*parts, memory_sentence(done, name), start_method_sentence(done)) if part)


def _ranking(runs: list[RunResult], base: RunResult, name: dict[int, str],
             reasons: dict[int, Reason]) -> tuple[list[RunResult], str, str]:
    """(the fastest run, or the runs tied with it, fastest first; the sentence naming them; what they did
    against the slowest other run) for two runs or more."""
    winner = min(runs, key=lambda r: r.wall_seconds)
    tied = sorted((r for r in runs if r.wall_seconds <= winner.wall_seconds * (1 + TIE)), key=lambda r: r.wall_seconds)
    if len(tied) == 1 and winner is base:
        first = f"{name[id(base)]} was fastest, at {seconds(base.wall_seconds, 2)}: no other executor beat it."
    elif len(tied) == 1:
        first = (f"{name[id(winner)]} was fastest: {seconds(winner.wall_seconds, 2)}, "
                 f"{speed_against(base.wall_seconds / winner.wall_seconds, name[id(base)])}.")
    else:
        in_order = [r for r in runs if any(r is t for t in tied)]  # as the Compare ran them
        low, high = seconds(tied[0].wall_seconds, 2), seconds(tied[-1].wall_seconds, 2)
        at = f"at {low}" if low == high else f"within {percent(100 * TIE)}, at {low} to {high}"
        first = f"{_join([name[id(r)] for r in in_order])} tied {at}"
        if any(r is base for r in tied):
            first += f": no executor beat {name[id(base)]} by more than {percent(100 * TIE)}."
        else:
            first += f", {speed_against(base.wall_seconds / winner.wall_seconds, name[id(base)])}."
    doing = [_achieved(r, reasons[id(r)]) for r in tied]
    if len(tied) == 1:
        second = f"It {doing[0]}"
    elif len(set(doing)) == 1:
        second = f"{'Both' if len(tied) == 2 else f'All {len(tied)}'} {doing[0]}"
    else:
        second = "; ".join(f"{name[id(r)]} {did}" for r, did in zip(tied, doing, strict=True))
    others = [r for r in runs if not any(r is t for t in tied)]
    contrast = max((r for r in others if r is not base), key=lambda r: r.wall_seconds,
                   default=base if others else None)
    if contrast is not None:
        second += f", while {name[id(contrast)]} {reasons[id(contrast)].did}"
    return tied, first, second + "."


def _count_sentences(done: list[RunResult], base: RunResult, name: dict[int, str],
                     reasons: dict[int, Reason]) -> list[str] | None:
    """A counter Compare's sentences, the count first: which runs counted every increment, what the others
    lost or never added up, then the speed of the runs that counted right. None for other workloads (or
    counter runs whose counts were not recorded)."""
    figures = [r.summary or {} for r in done]
    if any((r.spec or {}).get("workload") != "counter" for r in done) or \
            any(s.get("counter_expected") is None for s in figures):
        return None
    expected = figures[0]["counter_expected"]
    right = [r for r in done if _counted_right(r)]
    wrong = [_count_wrong(r, name[id(r)]) for r in done if not _counted_right(r)]
    if not wrong:
        tied, first, second = _ranking(done, base, name, reasons)
        return [f"Every run counted all {expected:,} increments.", first, second,
                _compare_last(done, [], tied, name, reasons[id(tied[0])])]
    if not right:
        threads = next((r for r in done if not in_processes(r.spec or {})
                        and (r.spec or {}).get("executor") != "sequential"), None)
        return [f"No run counted all {expected:,} increments: {'; '.join(wrong)}.",
                "Their times are no result: each counted something else.",
                reasons[id(threads)].next if threads is not None else ""]
    first = f"Only {_join([name[id(r)] for r in right])} counted all {expected:,} increments: {'; '.join(wrong)}."
    if len(right) > 1:  # their speeds against the first of them that counted right
        tied, best, second = _ranking(right, right[0], name, reasons)
        return [first, f"Of those, {best}", second, _compare_last(right, [], tied, name, reasons[id(tied[0])])]
    one = right[0]
    sooner = [r for r in done if r.wall_seconds < one.wall_seconds * (1 - TIE)]
    took = f"It took {seconds(one.wall_seconds, 2)}"
    if one is not base:
        took += f", {speed_against(base.wall_seconds / one.wall_seconds, name[id(base)])}"
    if sooner:
        took += (f"; {_join([name[id(r)] for r in sooner])} {plural(len(sooner), 'was', 'were')} faster, with a "
                 "wrong count, so their speed is no result.")
    else:
        took += ", the fastest as well."
    return [first, took, reasons[id(one)].next]


def _counted_right(r: RunResult) -> bool:
    """Whether a counter run's one counter reached every increment."""
    s = r.summary or {}
    return s.get("counter_processes") == 1 and not s.get("counter_lost") and \
        s.get("counter_count") == s.get("counter_expected")


def _count_wrong(r: RunResult, name: str) -> str:
    """What a counter run that did not count every increment counted, after its name."""
    s = r.summary
    expected, reached, lowest, counters = s["counter_expected"], s["counter_count"], s["counter_lowest"], \
        s["counter_processes"]
    if counters > 1:
        noun = "interpreter" if (r.spec or {}).get("executor") == "interpreter-pool" else "process"
        each = f"{reached:,} each" if lowest == reached else f"{lowest:,} to {reached:,}"
        return (f"{_whose(name, count(counters, noun))} each counted on a counter of its "
                f"own ({each}), and none reached {expected:,}")
    return f"{name} lost {s['counter_lost']:,} of them"


def memory_sentence(results: list[RunResult], name: dict[int, str] | None = None) -> str:
    """What processes held against threads, from the runs' memory figures, where a Compare has both:
    "process-pool's 4 processes held 4 interpreters: 52 MB in total, 13 MB each; thread-pool's 4 threads
    shared one process of 31 MB." ("" without both, or without the probe's memory series). Where the probe
    missed some of the processes, the figures say they cover the others: "39 MB in total, 13 MB each (3 of 4
    processes measured)"."""
    name = name or _names(results)
    measured = [r for r in results if (r.summary or {}).get("memory_total_mb") is not None]
    procs = [r for r in measured if in_processes(r.spec or {}) and (r.summary.get("memory_processes") or 0) > 1]
    threads = [r for r in measured if on_threads(r.spec or {}) and r.summary.get("memory_processes") == 1]
    if not procs or not threads:
        return ""
    p = max(procs, key=lambda r: r.summary["memory_processes"])
    t = max(threads, key=lambda r: r.workers)
    ps, ts = p.summary, t.summary
    n = ps.get("memory_workers") or ps["memory_processes"]  # every worker process, measured or not
    note = measured_note(ps)  # the figures cover the measured ones only: say so where that is not all
    # one decimal, as the Compare table's: "9 MB in total, 5 MB each" was 9.2 and 4.6
    text = (f"{_whose(name[id(p)], count(n, 'process'))} held {count(n, 'interpreter')}: "
            f"{number(ps['memory_total_mb'], 1, 'MB')} in total, {number(ps['memory_per_worker_mb'], 1, 'MB')} "
            + (f"each ({note})" if note else "each")
            + (f"; {_whose(name[id(t)], count(t.workers, 'thread'))} shared one process of " if t.workers > 1
               else f"; {name[id(t)]} ran in one process of ")
            + number(ts["memory_total_mb"], 1, "MB"))
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


def _not_ranked(failed: list[RunResult], name: dict[int, str]) -> str:
    """ "Process-pool failed, so it is not ranked.", "Process-pool failed; threads stopped, so they are not
    ranked." ("" where every run finished)."""
    if not failed:
        return ""
    text = "; ".join(f"{name[id(r)]} {r.status}" for r in failed)
    return f"{text[:1].upper()}{text[1:]}, so {plural(len(failed), 'it is', 'they are')} not ranked."


def _compare_last(done: list[RunResult], failed: list[RunResult], tied: list[RunResult], name: dict[int, str],
                  reason: Reason) -> str:
    """The third sentence: a run that did not finish, start-up changing the order (beyond :data:`TIE`), a busy
    machine, or what the winner (``tied[0]``, the fastest of those tied) could try next."""
    if failed:
        return _not_ranked(failed, name)
    winner = tied[0]
    total = {id(r): r.startup_seconds + r.wall_seconds for r in done}
    first_done = min(done, key=lambda r: total[id(r)])
    if all(total[id(r)] > total[id(first_done)] * (1 + TIE) for r in tied):
        return (f"Counting start-up, {name[id(first_done)]} finished first: {name[id(winner)]} spent "
                f"{seconds(winner.startup_seconds, 2)} starting before its work began.")
    loads = [load for r in done if busy_machine(r) and (load := foreign_cores(r)) is not None]
    if loads:
        return (f"Other programs took up to {number(max(loads), 1, 'cores')} during these runs: speedups are "
                "lower than this machine can give.")
    return reason.next

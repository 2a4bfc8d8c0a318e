"""Which run a run is measured against: the first run of the same experiment.

A speedup only means something between two runs of the same tasks: "17× faster" of a counter run over a
cpu run is a number about nothing. Runs are the same experiment when every field that says what the tasks
do (and where they run) is the same; the fields that say *how* they run (executor, workers, chunking,
start method, ...) may differ, since those are what a comparison is about. A Compare may hold several
experiments (a lesson's preset does): each run is then set against the first run of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .records import RunResult

#: the spec's fields that make two runs the same experiment (what each task does, on what data, where). The
#: counter's ``lock`` is not one: counting with and without it is the comparison its lesson makes
EXPERIMENT_FIELDS = ("workload", "tasks", "duration", "size_mb", "cpu_fraction", "increments", "function",
                     "jitter", "seed", "isolation", "python", "arg_bytes", "result_bytes")


def experiment_key(spec: dict[str, Any]) -> tuple:
    """What ``spec`` (a spec's dict) runs, apart from how: equal for two runs of the same experiment."""
    return tuple(spec.get(k) for k in EXPERIMENT_FIELDS)


def baseline_for(spec: dict[str, Any], earlier: Sequence[RunResult]) -> RunResult | None:
    """The first of ``earlier`` that ran the same experiment as ``spec``; None when none did (it is a baseline)."""
    key = experiment_key(spec)
    return next((r for r in earlier if experiment_key(r.spec or {}) == key), None)


def baselines(results: Sequence[RunResult]) -> list[RunResult]:
    """Each result's baseline, in order: the first result of its experiment (itself, for that first one)."""
    first: dict[tuple, RunResult] = {}
    return [first.setdefault(experiment_key(r.spec or {}), r) for r in results]


def experiments(results: Sequence[RunResult]) -> list[list[RunResult]]:
    """``results`` grouped by experiment, in the order each experiment first appears."""
    groups: dict[tuple, list[RunResult]] = {}
    for r in results:
        groups.setdefault(experiment_key(r.spec or {}), []).append(r)
    return list(groups.values())


def experiment_text(spec: dict[str, Any]) -> str:
    """An experiment in a few words: "8 × cpu (100.0 ms each, 20 MB argument)", "4 × counter (500,000
    increments each, locked)": a run's, so its lock is said, though it does not make another experiment."""
    from .present import number, seconds

    workload = spec.get("workload", "?")
    details = []
    if spec.get("duration") is not None and workload in ("sleep", "cpu", "hash", "mixed"):
        details.append(f"{seconds(float(spec['duration']), 2)} each")
    if workload == "counter" and spec.get("increments"):
        details.append(f"{int(spec['increments']):,} increments each" + (", locked" if spec.get("lock") else ""))
    for key, what in (("arg_bytes", "argument"), ("result_bytes", "result")):
        if spec.get(key):
            mb = spec[key] / 1e6
            details.append(f"{number(mb, 0 if mb >= 10 else 1, 'MB')} {what}")
    return f"{spec.get('tasks', '?')} × {workload}" + (f" ({', '.join(details)})" if details else "")

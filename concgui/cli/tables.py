"""The command line's text tables: one run's summary, a comparison, a scaling study."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..engine import RunResult
from ..engine.metrics import COMPARE_COLUMNS, METRICS
from ..engine.present import count, efficiency, fraction, number, speedup
from ..engine.spec import executor_label
from ..engine.sweep import SPEEDUP_RULE
from ..engine.why import explain
from ..engine.why_compare import compare_why

if TYPE_CHECKING:
    from ..engine.sweep import SweepResult


def format_summary(r: RunResult) -> str:
    s, env, spec = r.summary, r.environment, r.spec
    gil = "GIL on" if env.get("gil_enabled", True) else "GIL off"
    where = "engine process" if spec.get("isolation") == "process" else "in process"
    cores = count(env["cpu_count"], "core") if env.get("cpu_count") else "cores unknown"
    lines = [
        f"{spec['workload']} × {spec['tasks']} on {executor_label(spec)} ({count(r.workers, 'worker')}, {where}, "
        f"Python {env.get('python_version')}, {gil}, {cores}) — {r.status}",
    ]
    for m in METRICS:
        if m.optional and s.get(m.key) is None:
            continue
        lines.append(f"  {m.label:18} {m.text(s):22} {m.hint}")
    first = next((t for t in r.tasks if t.error), None)
    if first:
        lines.append(f"  first error (task {first.index}): {first.error['type']}: {first.error['message']}")
    lines.append("Why: " + explain(r))
    return "\n".join(lines)


def format_comparison(results: list[RunResult]) -> str:
    """The comparison's table: a row per run, the columns the window's Compare tab shows."""
    rows = [[c.label for c in COMPARE_COLUMNS]] + [[c.show(r) for c in COMPARE_COLUMNS] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COMPARE_COLUMNS))]

    def line(row: list[str]) -> str:
        cells = (text.rjust(w) if c.numeric else text.ljust(w)
                 for c, text, w in zip(COMPARE_COLUMNS, row, widths, strict=True))
        return "  ".join(cells).rstrip()

    return "\n".join(line(row) for row in rows)


def format_compare_why(results: list[RunResult]) -> str:
    """"Why: ..." under the comparison's table: which executor won and why ("" for fewer than two runs)."""
    text = compare_why(results)
    return f"Why: {text}" if text else ""


def format_sweep(sweep: SweepResult) -> str:
    """The sweep's table: a row per executor and worker count, with the executor's serial fraction."""
    header = ("executor", "workers", "runs", "median wall s", "speedup", "effic.", "serial frac.")
    names = {e: sweep.label(e) for e in sweep.executors}  # "joblib (loky)": the backend is the base spec's
    w = max([16, *map(len, names.values())])
    rows = [f"{{:{w}}} {{:>7}} {{:>5}} {{:>13}} {{:>8}} {{:>7}} {{:>12}}".format(*header)]
    noise = sweep.superlinear()
    flagged = {(f.executor, f.workers): f for f in noise}
    for e in sweep.executors:
        s = sweep.serial_fraction(e)
        for r in sweep.stats(e):
            flag = flagged.get((e, r.workers))
            rows.append(f"{names[e]:{w}} {r.workers:7} {r.runs:5} {number(r.median_wall, 3):>13} "
                        f"{speedup(r.speedup):>8} {efficiency(r.efficiency):>7} {fraction(s):>12}"
                        + (f"  ⚠ {flag.short()}" if flag else ""))
    rows.append(f"speedup = {SPEEDUP_RULE}; serial fraction: Amdahl fitted over {sweep.fit_range_text()}")
    rows += [f"⚠ {f.sentence()}." for f in noise]
    failed = sweep.failed()
    if failed:
        first = failed[0]
        rows.append(f"{count(len(failed), 'run')} not ok; first: {sweep.label(first.executor)} × {first.workers}: "
                    f"{first.status} {first.error or ''}".rstrip())
    if len(sweep.points) < sweep.planned:
        rows.append(f"stopped after {len(sweep.points)} of {sweep.planned} runs")
    return "\n".join(rows)


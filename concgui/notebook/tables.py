"""The notebook's tables as HTML: a comparison's numbers with the plain-language "why", and a sweep's.

The comparison's columns are :data:`concgui.engine.metrics.COMPARE_COLUMNS`, which the window's
Compare tab and ``concgui compare`` print too, so the three tables cannot disagree.
"""

from __future__ import annotations

from html import escape

from ..engine.metrics import COMPARE_COLUMNS
from ..engine.present import count, efficiency, fraction, html_lines, number, speedup
from ..engine.records import ERROR, RunResult
from ..engine.spec import executor_label
from ..engine.sweep import SPEEDUP_RULE, SweepResult
from ..engine.why import explain
from ..engine.why_compare import compare_why

_TABLE = 'style="border-collapse:collapse;margin:4px 0;font-variant-numeric:tabular-nums"'
_CELL = "padding:2px 10px;border-bottom:1px solid #ddd"


def _row(cells: list[str], numeric: list[bool], header: bool = False, titles: list[str] | None = None) -> str:
    tag = "th" if header else "td"
    out = []
    for i, (text, right) in enumerate(zip(cells, numeric, strict=True)):
        title = f' title="{escape(titles[i])}"' if titles else ""
        out.append(f'<{tag}{title} style="{_CELL};text-align:{"right" if right else "left"}">{escape(text)}</{tag}>')
    return "<tr>" + "".join(out) + "</tr>"


def comparison_html(results: list[RunResult]) -> str:
    """A row per run (the first is the baseline of the others' speedup), then each run's "why"."""
    numeric = [c.numeric for c in COMPARE_COLUMNS]
    rows = [_row([c.label for c in COMPARE_COLUMNS], numeric, True, [c.help for c in COMPARE_COLUMNS])]
    rows += [_row([c.show(r) for c in COMPARE_COLUMNS], numeric) for r in results]
    why = "".join(f"<li><b>{escape(executor_label(r.spec))}</b>: {html_lines(explain(r))}</li>"
                  for r in results)
    firsts = [(r, next((t for t in r.tasks if t.status == ERROR and t.error), None)) for r in results]
    errors = "".join(f"<li>{escape(executor_label(r.spec))}: first error (task {t.index}): "
                     f"{escape(t.error['type'])}: {escape(t.error['message'])}</li>" for r, t in firsts if t)
    verdict = compare_why(results)
    head = f'<p style="margin:4px 0"><b>Why:</b> {html_lines(verdict)}</p>' if verdict else ""
    return (f"<div><table {_TABLE}>{''.join(rows)}</table>{head}<ul style=\"margin:4px 0\">{why}</ul>"
            + (f"<ul>{errors}</ul>" if errors else "") + "</div>")


def sweep_html(sweep: SweepResult) -> str:
    """A row per executor and worker count, as ``concgui sweep`` prints it, and how speedup was measured."""
    header = ["executor", "workers", "runs", "median wall s", "speedup", "efficiency", "serial fraction", ""]
    numeric = [False] + [True] * 6 + [False]
    rows = [_row(header, numeric, True)]
    noise = sweep.superlinear()  # speedups above what the workers or cores can give
    flagged = {(f.executor, f.workers): f"⚠ {f.short()}" for f in noise}
    for e in sweep.executors:
        s = sweep.serial_fraction(e)
        rows += [_row([sweep.label(e), f"{r.workers:,}", f"{r.runs:,}", number(r.median_wall, 3), speedup(r.speedup),
                       efficiency(r.efficiency), fraction(s), flagged.get((e, r.workers), "")], numeric)
                 for r in sweep.stats(e)]
    notes = [f"Speedup = {SPEEDUP_RULE}; serial fraction: Amdahl's law fitted over {sweep.fit_range_text()}."]
    notes += [f"⚠ {f.sentence()}." for f in noise]
    failed = sweep.failed()
    if failed:
        first = failed[0]
        notes.append(f"{count(len(failed), 'run')} not ok; first: {sweep.label(first.executor)} × {first.workers}: "
                     f"{first.status} {first.error or ''}".rstrip())
    if len(sweep.points) < sweep.planned:
        notes.append(f"Stopped after {len(sweep.points)} of {sweep.planned} runs.")
    return (f"<div><table {_TABLE}>{''.join(rows)}</table>"
            + "".join(f'<p style="margin:4px 0">{escape(n)}</p>' for n in notes) + "</div>")

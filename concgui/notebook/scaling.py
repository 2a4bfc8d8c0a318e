"""A sweep's speedup chart as SVG: speedup against workers, per executor, as the window's Scaling tab draws it.

Per executor: the median speedup of the repeats (markers, joined), their min..max spread (a
whisker) and Amdahl's fitted curve (dotted); a dashed line is the ideal (speedup = workers) and
a vertical line this machine's cores (when an executor ran here).
"""

from __future__ import annotations

from ..engine.present import count, fraction, seconds
from ..engine.sweep import SPEEDUP_RULE, SweepResult, amdahl_speedup
from .palette import FOREGROUND, GRID, MUTED, series_colors
from .svg import Svg, nice_ticks, text_width, tick_label

WIDTH, PLOT_HEIGHT = 1000, 380
LEFT, RIGHT = 70, 30


def title_text(sweep: SweepResult) -> str:
    spec = sweep.spec
    what = f"{spec.get('workload', '?')} × {count(int(spec.get('tasks', 0)), 'task')}"
    if spec.get("workload") in ("sleep", "cpu", "hash", "mixed"):
        what += f" of {seconds(spec.get('duration'), 2)}"
    return f"Scaling study: {what} on {', '.join(map(sweep.label, sweep.executors))}"


def render_scaling(sweep: SweepResult) -> str:
    """The SVG of ``sweep``'s speedup chart."""
    svg = Svg(WIDTH)
    title = title_text(sweep)
    svg.text(16, 26, title, 17, FOREGROUND, bold=True)
    svg.text(16, 46, f"speedup = {SPEEDUP_RULE} · "
                     f"{count(sweep.repeats, 'repeat')} · {count(sweep.cores, 'core')} here", 12, MUTED)
    colors = series_colors(sweep.executors)
    stats = {e: sweep.stats(e) for e in sweep.executors}
    x_max = max(sweep.worker_counts) * 1.05
    highest = [s.speedup_max or s.speedup or 0.0 for rows in stats.values() for s in rows]
    y_max = max([1.0, min(max(sweep.worker_counts), 2 * max(highest, default=1.0)), *highest]) * 1.08
    top, bottom, left, right = 96.0, 96.0 + PLOT_HEIGHT, float(LEFT), float(WIDTH - RIGHT)

    def x(v: float) -> float:
        return left + v / x_max * (right - left)

    def y(v: float) -> float:
        return bottom - v / y_max * (bottom - top)

    _legend(svg, sweep, colors, 58)
    svg.rect(left, top, right - left, bottom - top, "#F4F4F4", layer=0)
    yticks = nice_ticks(0, y_max, 6)
    for t in yticks:
        svg.line(left, y(t), right, y(t), GRID, 1, opacity=0.08, layer=0)
        svg.text(left - 6, y(t) + 4, tick_label(t, yticks) + "×", 11, FOREGROUND, anchor="end")
    for n in sweep.worker_counts:
        svg.line(x(n), bottom, x(n), bottom + 5, FOREGROUND)
        svg.text(x(n), bottom + 18, str(n), 11, FOREGROUND, anchor="middle")
    svg.line(left, bottom, right, bottom, FOREGROUND)
    ideal_end = min(x_max, y_max)
    svg.line(x(0), y(0), x(ideal_end), y(ideal_end), MUTED, 1.5, "6 4")
    if sweep.local_executors() and sweep.cores <= x_max:
        svg.line(x(sweep.cores), top, x(sweep.cores), bottom, MUTED, 1.5)
        label = count(sweep.cores, "core")
        left_of = x(sweep.cores) + 6 + text_width(label, 11) > WIDTH - 4
        svg.text(x(sweep.cores) + (-4 if left_of else 4), top + 14, label, 11, MUTED,
                 anchor="end" if left_of else "start")
    for e in sweep.executors:
        rows = [s for s in stats[e] if s.speedup is not None]
        s_fit = sweep.serial_fraction(e)
        if s_fit is not None:
            steps = [1 + k * (max(sweep.worker_counts) - 1) / 60 for k in range(61)]
            svg.polyline([(x(n), y(amdahl_speedup(s_fit, n))) for n in steps], colors[e], 1.5, "2 3")
        for s in rows:
            if s.speedup_min is not None and s.speedup_max is not None:
                svg.line(x(s.workers), y(s.speedup_min), x(s.workers), y(s.speedup_max), colors[e], 2)
        svg.polyline([(x(s.workers), y(s.speedup)) for s in rows], colors[e], 2.5)
        for s in rows:
            svg.circle(x(s.workers), y(s.speedup), 4.5, colors[e])
    svg.text((left + right) / 2, bottom + 36, "workers", 12, FOREGROUND, anchor="middle")
    svg.text(16, top - 8, "speedup", 12, FOREGROUND)
    return svg.document(bottom + 46, title)


def _legend(svg: Svg, sweep: SweepResult, colors: dict[str, str], y: float) -> None:
    items = []
    for e in sweep.executors:
        fit = sweep.serial_fraction(e)
        items.append((colors[e], "", e + ("" if fit is None else f" (serial fraction {fraction(fit)})")))
    items.append((MUTED, "6 4", "ideal: speedup = workers"))
    items.append((FOREGROUND, "2 3", "Amdahl's law, fitted"))
    x0 = 16.0
    for color, dash, label in items:
        svg.line(x0, y + 10, x0 + 18, y + 10, color, 2.5, dash)
        svg.text(x0 + 24, y + 14, label, 12, FOREGROUND)
        x0 += 24 + text_width(label, 12) + 16

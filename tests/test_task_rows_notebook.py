"""The notebook's stack draws X-ray strips on every task row and on up to 16 worker rows, taking each run's
task rows once."""

from __future__ import annotations

import re

import pytest

from concgui.engine.records import RunResult, TaskRecord, ThreadStates
from concgui.notebook import stack
from concgui.notebook.palette import THREAD_STATE_COLORS
from concgui.notebook.stack import STRIP_H, render_stack

ON_CORE = re.compile(r'<g fill="' + THREAD_STATE_COLORS["on_core"] + r'">(.*?)</g>')
RECT = re.compile(r'<rect x="[-\d.]+" y="([-\d.]+)" width="[\d.]+" height="([\d.]+)"/>')


def threads_run(tasks: int, workers: int, step: float = 0.05) -> RunResult:
    """``tasks`` CPU tasks of ``step`` seconds on ``workers`` threads (task i on thread i mod workers, one round
    after another), with an X-ray series in which every thread is on a core half of each 10 ms."""
    records = [TaskRecord(i, f"thread {i % workers + 1}", 10, i % workers, 0.0, step * (i // workers),
                          step * (i // workers + 1), step / 2, "ok") for i in range(tasks)]
    wall = step * -(-tasks // workers)
    states = [ThreadStates(round(0.01 * (k + 1), 9), 0.01, {f"thread {w + 1}": (0.5, 0.2, 0.3)
                                                             for w in range(workers)})
              for k in range(round(wall / 0.01))]
    return RunResult(spec={"workload": "cpu", "executor": "threads", "tasks": tasks, "duration": step},
                     environment={"cpu_count": 2, "thread_states": "schedstat"}, wall_seconds=wall, workers=workers,
                     tasks=records, thread_states=states)


def strips_drawn(svg: str) -> int:
    """Rows with an X-ray strip: the distinct bottoms of the on-a-core pieces, each a strip's bottom (the
    legend's swatch is a 6 px rect, a strip's pieces at most STRIP_H)."""
    bottoms = {round(float(y) + float(h), 3) for group in ON_CORE.findall(svg) for y, h in RECT.findall(group)
               if float(h) <= STRIP_H}
    return len(bottoms)


@pytest.mark.parametrize(("tasks", "workers", "strips"), [
    (40, 16, 16),  # a row per worker (over 32 tasks), 16 rows of 15 px: each its strip
    (40, 20, 0),  # 20 rows of 12 px: none (the strips were drawn up to 32 worker rows, 7.5 px each)
    (24, 24, 24),  # a row per task, 24 of them: each keeps its strip (the point of the row)
    (32, 8, 32),  # a row per task, 32 of them, on 8 threads
])
def test_strips_on_every_task_row_and_on_up_to_16_worker_rows(tasks, workers, strips):
    svg = render_stack([threads_run(tasks, workers)])
    assert strips_drawn(svg) == strips
    assert (">thread on a core</text>" in svg) == (strips > 0)  # the legend names them only when drawn


def test_each_run_gets_its_task_rows_once(monkeypatch):
    """The legend took by_task's rows for its strips and each panel took them again: now they share them."""
    calls: list[int] = []
    real = stack.by_task

    def counted(result, name):  # the real by_task, counted
        calls.append(len(result.tasks))
        return real(result, name)

    monkeypatch.setattr(stack, "by_task", counted)
    svg = render_stack([threads_run(6, 1), threads_run(6, 3), threads_run(6, 6)])
    assert calls == [6, 6, 6]
    assert strips_drawn(svg) == 18

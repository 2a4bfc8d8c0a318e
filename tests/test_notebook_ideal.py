"""The notebook's Compare picture draws the ideal by the window's rule (its stack's and its wall-time bars'): where,
how much, and the legend's words."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import re  # noqa: E402

import pytest  # noqa: E402

from concgui.engine.ideal import IDEAL_RULE, NO_IDEAL, NO_IDEAL_STOPPED, ideal_legend  # noqa: E402
from concgui.engine.present import seconds  # noqa: E402
from concgui.engine.records import RunResult, TaskRecord  # noqa: E402
from concgui.notebook.stack import LEFT, RIGHT, WIDTH, render_stack, time_span  # noqa: E402

# the offscreen platform's note when a top-level window's size limits change (the stack fits its timelines)
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
TEXT = re.compile(r">([^<]*)</text>")
DASHED = re.compile(r'<line x1="([\d.]+)" [^>]*stroke-dasharray="5 4"')


def recorded(executor: str, workload: str, wall: float, workers: int, tasks: int, status: str = "ok") -> RunResult:
    """A run as a history records it: its wall time, workers and tasks (task i on worker i mod workers)."""
    step = wall if workers >= tasks else wall / -(-tasks // workers)
    records = [TaskRecord(i, f"w{i % workers}", 10, 1, 0.0, step * (i // workers), step * (i // workers + 1),
                          0.0, "ok") for i in range(tasks)]
    return RunResult(spec={"workload": workload, "executor": executor, "tasks": tasks}, status=status,
                     environment={"cpu_count": 2}, wall_seconds=wall, workers=workers, tasks=records)


def notebook_ideals(results: list[RunResult]) -> tuple[list[float | None], list[str | None], str]:
    """Per panel of the notebook's picture: the ideal line's time (from its x) and its label; and the SVG."""
    svg = render_stack(results)
    t0, t1 = time_span(results)
    times = [t0 + (float(x) - LEFT) / (WIDTH - RIGHT - LEFT) * (t1 - t0) for x in DASHED.findall(svg)]
    heads = tuple(f"{r.spec['executor']} · " for r in results)
    labels: list[str | None] = []
    for text in TEXT.findall(svg):
        if text.startswith(heads) and " · wall " in text:
            labels.append(None)  # a panel's header: its marks follow
        elif re.match(r"ideal \d", text):
            labels[-1] = text
    drawn = iter(times)
    return [None if label is None else next(drawn) for label in labels], labels, svg


CASES = {
    "the seed: a pool of 6 for 3 tasks": [recorded("sequential", "sleep", 6.0005, 1, 3),
                                          recorded("threads", "sleep", 2.0011, 3, 3),
                                          recorded("thread-pool", "sleep", 2.0005, 6, 3)],
    "cpu: 4 threads on 2 cores": [recorded("sequential", "cpu", 2.1261, 1, 4), recorded("threads", "cpu", 2.9562, 4, 4),
                                  recorded("process-pool", "cpu", 1.2996, 2, 4)],
    "asyncio first: 20 sleeps at once": [recorded("asyncio", "sleep", 0.5007, 20, 20),
                                         recorded("threads", "sleep", 0.5359, 20, 20)],
    "a pool of 1 first": [recorded("thread-pool", "cpu", 1.5379, 1, 4), recorded("process-pool", "cpu", 1.2996, 2, 4)],
    "two experiments": [recorded("sequential", "cpu", 1.5, 1, 2), recorded("threads", "cpu", 1.5, 2, 2),
                        recorded("thread-pool", "counter", 0.2, 2, 2), recorded("process-pool", "counter", 0.1, 2, 2)],
    "the first run stopped": [recorded("sequential", "sleep", 1.566, 1, 3, status="cancelled"),
                              recorded("threads", "sleep", 2.0011, 3, 3)],
}


def real_runs() -> list[RunResult]:
    """Real runs in this process: 3 sleeps of 30 ms one after another, in threads, in a pool of 6."""
    from concgui.engine import ExperimentSpec, run_inline

    return [run_inline(ExperimentSpec(workload="sleep", executor=ex, tasks=3, duration=0.03, isolation="inline",
                                      workers=6 if ex == "thread-pool" else None))
            for ex in ("sequential", "threads", "thread-pool")]


@pytest.mark.parametrize("name", [*CASES, "real runs"])
def test_the_notebook_draws_the_ideal_where_and_as_the_window_does(qtbot, name):
    from concgui.gui.views.compare_chart import CompareChart
    from concgui.gui.views.compare_stack import CompareStack

    results = CASES[name] if name in CASES else real_runs()
    stack = CompareStack(dark=False)
    qtbot.addWidget(stack)
    stack.resize(1000, 700)
    stack.set_results(results)
    window = [v.marks()["ideal"] for v in stack.timelines]
    chart = CompareChart(dark=False)
    qtbot.addWidget(chart)
    chart.set_results(results)
    bars_x, bars_y = chart._ideal.getData()
    bars: list[float | None] = [None] * len(results)
    for x, y in zip([] if bars_x is None else bars_x[::2], [] if bars_y is None else bars_y[::2], strict=True):
        bars[round(x + 0.44)] = float(y)  # a dash spans its bar's middle ± 0.44
    assert bars == [None if w is None else pytest.approx(w) for w in window]  # the wall-time bars: the same marks
    times, labels, svg = notebook_ideals(results)
    t0, t1 = time_span(results)
    assert times == [None if w is None else pytest.approx(w, abs=(t1 - t0) / 4000) for w in window]
    assert labels == [None if w is None else f"ideal {seconds(w, 2)}" for w in window]  # the window's label text
    words = ideal_legend(results, any(w is not None for w in window))
    header = " ".join(stack.header.text().split())
    assert words and all(w in header for w in words)
    assert all(f">{w}</text>" in svg for w in words), words  # the legend's words, the window's
    assert "baseline ÷ workers" not in svg


def test_the_cases_cover_each_rule():
    """Each branch of the rule is in a case above, with the window's expected marks."""
    seed, cpu, aio, pool1, two, stopped = CASES.values()
    assert ideal_legend(seed, True) == [IDEAL_RULE] and ideal_legend(aio, False) == [NO_IDEAL]
    assert ideal_legend(stopped, False) == [NO_IDEAL_STOPPED]
    assert ideal_legend(two, False) == ["no ideal where an experiment's first run was not one task at a time"]
    assert notebook_ideals(seed)[0] == [None, pytest.approx(6.0005 / 3, abs=2e-3), pytest.approx(6.0005 / 3, abs=2e-3)]
    assert notebook_ideals(cpu)[0][1] == pytest.approx(2.1261 / 4, abs=2e-3)  # ÷ 4 workers: cores not counted
    assert notebook_ideals(pool1)[0] == [None, pytest.approx(1.5379 / 2, abs=2e-3)]
    assert notebook_ideals(aio)[0] == [None, None] and notebook_ideals(stopped)[0] == [None, None]

"""The timeline draws a task as "sent → ran → returned": its argument's way in and its result's way out.

Thin segments either side of a bar where a task's data was copied across (a process pool); none, and no
item at all, where nothing was (threads), whose legend says the zero instead of leaving it out.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from concgui.engine import ExperimentSpec, run_inline  # noqa: E402
from concgui.engine.events import RunFinished, RunStarted, StartupFinished, TaskFinished, TaskStarted  # noqa: E402
from concgui.engine.live import RunState  # noqa: E402
from concgui.engine.records import RunResult, TaskRecord  # noqa: E402
from concgui.engine.summary import summarize  # noqa: E402
from concgui.gui.views.compare_stack import CompareStack  # noqa: E402
from concgui.gui.views.summary import SummaryPanel  # noqa: E402
from concgui.gui.views.timeline.layout import TRANSFER_HEIGHT  # noqa: E402

# the offscreen platform's note when a top-level window's size limits change (the stack fits its timelines)
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

SENT, RETURNED = 0.05, 0.02
PICKLED = "(pickled across processes)"  # the legend's words for the segments


def make_run(executor: str, sent: float = SENT, returned: float = RETURNED, arg_bytes: int = 20_000_000,
             startup: float = 0.1) -> RunResult:
    """6 tasks of 0.2 s on 2 workers, three each one after another, each sent ``sent`` s and returned ``returned`` s."""
    tasks = [TaskRecord(i, f"worker {i % 2 + 1}", 100 + i % 2, 1, startup, startup + 0.1 + 0.3 * (i // 2),
                        startup + 0.3 + 0.3 * (i // 2), 0.2, "ok", None, sent_seconds=sent, returned_seconds=returned)
             for i in range(6)]
    spec = {"workload": "cpu", "executor": executor, "tasks": 6, "workers": 2, "duration": 0.2, "arg_bytes": arg_bytes}
    r = RunResult(spec=spec, environment={}, startup_seconds=startup, wall_seconds=1.0, workers=2, tasks=tasks)
    r.summary = summarize(r)
    return r


def lane_rects(view, lane: int) -> list[tuple[float, float]]:
    """(x0, x1) of the transfer segments drawn in ``lane``, left to right."""
    x0, x1, y0, h = view.transfer_rects()
    mine = (y0 >= lane) & (y0 + h <= lane + 1)
    return sorted(zip(x0[mine].round(6).tolist(), x1[mine].round(6).tolist(), strict=True))


def test_sent_and_returned_segments_sit_either_side_of_each_bar(timeline):
    r = make_run("process-pool")
    timeline.set_result(r)
    timeline.flush_pending()
    for lane, worker in enumerate(timeline._layout.labels):
        want = []
        for t in r.tasks:
            if t.worker == worker:
                want += [(round(t.start - SENT, 6), round(t.start, 6)), (round(t.end, 6), round(t.end + RETURNED, 6))]
        assert lane_rects(timeline, lane) == sorted(want)
    bar_y, bar_h = timeline._layout.rows(np.arange(6))
    for kind, half in (("sent", 0), ("returned", 1)):  # thin: a pipe either side, "sent" its upper half
        _, _, y0, h = timeline.transfer_rects(kind)
        assert np.allclose(h, bar_h.max() * TRANSFER_HEIGHT / 2)
        assert np.allclose((y0 - bar_y.min()) % 1.0, bar_h.max() / 2 - h[0] * (1 - half))
    assert f"{PICKLED}: 420.0 ms in all" in timeline.getPlotItem().titleLabel.text  # 6 × (50 + 20) ms
    assert timeline.transfer_item_count() >= 1


def test_the_legend_names_only_the_ways_data_went(timeline):
    timeline.set_result(make_run("process-pool", returned=0.0))  # arguments in, no results back
    title = timeline.getPlotItem().titleLabel.text
    assert f"&nbsp;sent {PICKLED}: 300.0 ms in all" in title and "returned" not in title
    assert timeline.transfer_rects("returned")[0].size == 0


def test_a_result_going_back_while_the_next_argument_comes_in_stays_apart_from_it(timeline):
    r = make_run("process-pool", sent=0.15, returned=0.15)  # each worker's next task starts 0.1 s after an end
    timeline.set_result(r)
    sent, returned = timeline.transfer_rects("sent"), timeline.transfer_rects("returned")
    assert sent[0].size == returned[0].size == 6  # none merged into its neighbour: each drawn on its own
    assert set(np.round(sent[2] % 1.0, 6)).isdisjoint(set(np.round(returned[2] % 1.0, 6)))  # at other heights


def test_hovering_a_segment_tells_the_three_spans(timeline):
    r = make_run("process-pool")
    timeline.set_result(r)
    t = r.tasks[2]
    _, y = timeline.task_bar_center(2)
    text = timeline.hover_text_at(t.start - SENT / 2, y, tolerance=0.0)  # on its argument's way in
    assert text.startswith("Task 2 ")
    assert "sent 50.0 ms → ran 200.0 ms → returned 20.0 ms" in text
    assert "50.0 ms of it being sent" in text
    assert timeline.hover_text_at(t.end + RETURNED / 2, y, tolerance=0.0).startswith("Task 2 ")
    assert timeline.hover_text_at(t.end + RETURNED * 2, y, tolerance=0.0) is None  # past its result: empty


def test_a_run_that_copied_nothing_draws_no_segment_and_makes_no_item(timeline):
    timeline.set_result(make_run("process-pool", sent=0.0, returned=0.0))
    assert timeline.transfer_rects()[0].size == 0
    assert timeline.transfer_item_count() == 0
    assert PICKLED not in timeline.getPlotItem().titleLabel.text
    _, y = timeline.task_bar_center(2)
    assert "sent" not in timeline.hover_text_at(timeline.task_bar_center(2)[0], y)


def test_a_thread_run_given_data_says_nothing_was_copied(timeline):
    timeline.set_result(make_run("thread-pool", sent=0.0, returned=0.0))
    title = timeline.getPlotItem().titleLabel.text
    assert "sent: 0 s — threads share memory, nothing is copied" in title
    assert PICKLED not in title
    x, y = timeline.task_bar_center(0)
    assert "sent: 0 s — threads share memory" in timeline.hover_text_at(x, y)
    timeline.set_result(make_run("thread-pool", sent=0.0, returned=0.0, arg_bytes=0))  # no data: no words
    assert "nothing is copied" not in timeline.getPlotItem().titleLabel.text


def test_a_live_run_draws_each_tasks_segments_as_it_finishes(timeline):
    r = make_run("process-pool")
    state = RunState()
    state.apply([RunStarted(r.spec, {}, 6, 2), StartupFinished(r.startup_seconds)])
    timeline.set_state(state)
    drawn = []
    for t in r.tasks:  # started, then finished, one at a time as a live run reports them
        state.apply([TaskStarted(t.index, t.worker, t.pid, t.thread_id, t.start)])
        timeline.refresh()
        state.apply([TaskFinished(t)])
        timeline.refresh()
        drawn.append(timeline.transfer_rects()[0].size)
    assert drawn == [2, 4, 6, 8, 10, 12]  # each finished task: its sent and its returned segment
    assert PICKLED in timeline.getPlotItem().titleLabel.text
    state.apply([RunFinished(r)])
    timeline.refresh()
    assert timeline.transfer_rects()[0].size == 12


def test_the_compare_stack_draws_the_same_segments_and_names_them(qtbot):
    stack = CompareStack(dark=False)
    qtbot.addWidget(stack)
    stack.resize(900, 800)
    stack.show()
    threads, procs = make_run("thread-pool", sent=0.0, returned=0.0), make_run("process-pool")
    stack.set_results([threads, procs])
    tv, pv = stack.timelines
    assert tv.transfer_item_count() == 0 and tv.transfer_rects()[0].size == 0
    assert pv.transfer_rects()[0].size == 12  # a row per task: every segment on its own
    x0, x1, _, _ = pv.transfer_rects()
    # times from the work's start: a task's "sent" ends where its bar begins, its "returned" begins at its end
    starts = sorted(round(t.start - procs.startup_seconds, 6) for t in procs.tasks)
    ends = sorted(round(t.end - procs.startup_seconds, 6) for t in procs.tasks)
    sent = np.isclose(x1 - x0, SENT)
    assert sorted(np.round(x1[sent], 6).tolist()) == starts
    assert sorted(np.round(x0[~sent], 6).tolist()) == ends
    early, late = make_run("thread-pool", sent=0.0, returned=0.0), make_run("process-pool", returned=0.1)
    for r in (early, late):  # the wall ends at the last task's end ...
        r.wall_seconds = max(t.end for t in r.tasks) - r.startup_seconds
    stack.set_results([early, late])  # ... and the last result comes back 0.1 s later: still in view
    assert stack.x_range()[1] >= late.wall_seconds + 0.1
    stack.set_results([threads, procs])
    text = stack.header.text()
    assert PICKLED in text
    assert "sent: 0 s — threads share memory, nothing is copied" in text


def test_a_real_process_pool_run_draws_its_segments_where_its_records_say(timeline, qtbot):
    spec = ExperimentSpec(workload="cpu", executor="process-pool", tasks=4, workers=2, duration=0.05,
                          arg_bytes=8_000_000, result_bytes=8_000_000, isolation="inline")
    r = run_inline(spec)
    moved = [t for t in r.tasks if t.sent_seconds > 0 or t.returned_seconds > 0]
    assert moved, "no task of a process pool given 8 MB recorded any transfer"
    timeline.set_result(r)
    timeline.flush_pending()
    px = timeline.getViewBox().viewPixelSize()[0]
    x0, x1, _, _ = timeline.transfer_rects()
    for t in moved:  # each span wide enough to draw is drawn where its record puts it (merged ones include it)
        if t.sent_seconds >= px:
            assert np.any((np.abs(x1 - t.start) < 1e-9) & (x0 <= t.start - t.sent_seconds + 1e-9)), t
        if t.returned_seconds >= px:
            assert np.any((np.abs(x0 - t.end) < 1e-9) & (x1 >= t.end + t.returned_seconds - 1e-9)), t
    threads = run_inline(spec.with_(executor="thread-pool"))
    assert all(t.sent_seconds == 0 and t.returned_seconds == 0 for t in threads.tasks)
    timeline.set_result(threads)
    assert timeline.transfer_item_count() == 0
    assert "sent and returned: 0 s — threads share memory" in timeline.getPlotItem().titleLabel.text
    summary = SummaryPanel()  # the summary's shares of the workers' time, beside the picture
    qtbot.addWidget(summary)
    summary.set_result(r)
    shares = [summary.value_text(k) for k in ("sent_share", "returned_share")]
    assert all(v.endswith("%") for v in shares) and any(v != "0 %" for v in shares), shares
    summary.set_result(threads)
    assert [summary.value_text(k) for k in ("sent_share", "returned_share")] == ["0 %", "0 %"]


def test_a_process_forked_per_task_inherits_its_argument_and_says_so(timeline):
    r = make_run("processes", sent=0.0, returned=0.0)  # as fork runs it: never pickled, the pages are inherited
    r.environment = {"start_method": "fork"}  # (a GUI test process starts its processes otherwise: Qt's threads)
    timeline.set_result(r)
    assert timeline.transfer_item_count() == 0
    assert "sent: 0 s — each forked process inherits the argument" in timeline.getPlotItem().titleLabel.text
    r.environment = {"start_method": "spawn"}  # no such words where the copy was merely not measured
    timeline.set_result(r)
    assert "nothing is copied" not in timeline.getPlotItem().titleLabel.text


def test_the_form_refuses_data_the_memory_cannot_hold_as_it_is_typed(qtbot):
    """The memory rule (transfer.check_memory) judges the form's spec as it is edited, naming the field and
    what is allowed, rather than only when Run is pressed."""
    import psutil

    from concgui.engine.spec import MAX_TRANSFER_BYTES
    from concgui.gui.views.form import ExperimentForm

    workers = 8  # 25 copies of the argument at most: 50 GiB
    if psutil.virtual_memory().available // 2 >= MAX_TRANSFER_BYTES * (1 + 3 * workers):
        pytest.skip("this machine could hold them")
    form = ExperimentForm()
    qtbot.addWidget(form)
    spec = ExperimentSpec(executor="process-pool", workload="cpu", tasks=8, workers=workers)
    form.set_spec(spec)
    assert form.is_valid()
    form.set_spec(spec.with_(arg_bytes=MAX_TRANSFER_BYTES))
    assert not form.is_valid() and form.error_field() == "arg_bytes"
    assert "allowed: 0 to" in form.error() and "available now" in form.error()
    label = form.fields["arg_bytes"].error_label
    assert not label.isHidden() and "allowed: 0 to" in label.text()
    form.set_spec(spec.with_(arg_bytes=1_000_000))
    assert form.is_valid() and label.isHidden()
    form.shutdown()

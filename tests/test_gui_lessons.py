"""Help ▸ Lessons and Help ▸ Concurrency and parallelism, in the real window with real (shortened) runs."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QDockWidget

from concgui.engine.metrics import COMPARE_COLUMNS, METRICS
from concgui.engine.why_compare import compare_why
from concgui.gui.lessons_data import LESSONS, faster, t
from concgui.gui.lessons_data import label as run_label
from concgui.gui.presets import load_presets
from concgui.gui.views import help_page
from concgui.gui.views.help_page import ConceptsPage
from concgui.gui.views.lessons import DOCK_NAME, LessonsPanel
from concgui.gui.views.scaling import TABLE_COLUMNS as SCALING_TABLE_COLUMNS

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints",
                                       "This plugin does not support raise")


def help_action(window, text: str):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def open_lessons(window) -> LessonsPanel:
    help_action(window, "Lessons").trigger()
    panel = window.findChild(LessonsPanel)
    assert panel is not None and window.findChild(QDockWidget, DOCK_NAME).isVisible()
    return panel


def test_lesson_one_runs_the_seed_comparison_and_answers_from_its_numbers(qtbot, window):
    panel = open_lessons(window)
    assert panel.lesson.preset == "seed-notebook" and "2 seconds" in panel.answer_text()
    panel.duration_scale = 0.1  # three sleeps of 0.2 s instead of 2 s
    with qtbot.waitSignal(window.controller.sequence_finished, timeout=60_000) as blocker:
        panel.run_button.click()
        assert not panel.run_button.isEnabled(), "one lesson run at a time"
        assert "Running" in panel.answer_text()
    seq, threads, pool = blocker.args[0]
    assert [r.spec["executor"] for r in (seq, threads, pool)] == ["sequential", "threads", "thread-pool"]
    assert [r.spec["duration"] for r in (seq, threads, pool)] == pytest.approx([0.2] * 3)
    assert window.compare_table.rowCount() == 3, "it ran through the window's own Compare"

    text = panel.answer_text()
    assert f"Sequential took {t(seq.wall_seconds)}" in text
    assert f"Threads took {t(threads.wall_seconds)} ({faster(seq, threads)})" in text
    assert f"thread pool {t(pool.wall_seconds)}" in text
    assert seq.wall_seconds / threads.wall_seconds > 2.1, "three overlapping sleeps: about 3× faster"
    assert "the 3 sleeps overlapped" in text and "concurrency without parallelism" in text
    assert "(not the usual result)" not in text
    assert panel.chooser.itemText(0).startswith("✓"), "a lesson answered is ticked"
    assert panel.run_button.isEnabled() and panel.run_button.text() == "Run this experiment again"

    panel.go_to(1)  # the next lesson has no answer yet; back again, the first one's is kept
    assert "Sequential took" not in panel.answer_text()
    panel.back.click()
    assert panel.answer_text() == text


def test_an_answer_says_what_was_measured_when_it_is_not_the_textbook_result(qtbot, window):
    """Threads that take as long as the loop (here: the loop's own recorded run, named threads) are not
    called 3× faster: the answer quotes the figures and says it is not the usual result."""
    seq = help_page.recorded_runs()[0]  # a real sequential run of three sleeps of 2 s
    slow = dataclasses.replace(seq, spec={**seq.spec, "executor": "threads"}, workers=3)
    pool = dataclasses.replace(seq, spec={**seq.spec, "executor": "thread-pool"}, workers=5)
    answer = LESSONS[0].answer([seq, slow, pool], planned=3)
    assert not answer.confirmed
    assert f"Threads took {t(slow.wall_seconds)} (about as fast)" in answer.text
    assert "Measured: the threads were only 1.0× faster, where 3 overlapping sleeps should give about 3×" \
        in answer.text
    assert "overlapped" not in answer.text

    busy = dataclasses.replace(slow, environment={**slow.environment, "other_programs_cores": 2.0,
                                                  "steal_cores": 0.0, "cpu_count": 2})  # every core taken
    assert "other programs used 2.0 cores" in LESSONS[0].answer([seq, busy, pool]).text.lower()

    cut_short = LESSONS[0].answer([seq], planned=3).text
    assert "did not finish" in cut_short and "1 of 3 runs finished" in cut_short


def test_a_faster_process_pool_that_did_not_compute_in_parallel_is_not_called_parallel():
    """A process pool can beat a loop that other programs slowed down without using two cores: the answer
    quotes its parallelism instead of crediting its GILs."""
    threads, procs = help_page.recorded_runs()[2:4]  # real runs: cpu × 4 in threads, in 2 processes

    def named(r, executor, **summary):
        return dataclasses.replace(r, spec={**r.spec, "executor": executor}, summary={**r.summary, **summary})

    runs = [named(threads, "sequential"), threads, named(threads, "thread-pool"), procs]
    assert LESSONS[1].answer(runs).confirmed, "the recorded runs give the textbook result"
    runs[3] = named(procs, "process-pool", parallelism=0.8)
    answer = LESSONS[1].answer(runs)
    assert not answer.confirmed
    assert "Measured: the process pool was" in answer.text and "computing on only 0.80 cores" in answer.text
    assert "own GIL" not in answer.text


@pytest.mark.parametrize(("wall", "said", "tied"), [
    (2.0 / 1.02, "about as fast", True), (2.0 * 1.02, "about as fast", True),
    (2.0 / 1.04, "1.04× faster", False), (2.0 * 1.04, "1.04× slower", False), (1.0, "2.0× faster", False)])
def test_a_lesson_calls_a_tie_what_the_compare_beside_it_calls_a_tie(wall, said, tied):
    """One threshold: a lesson's "about as fast" and the Compare's "tied" are the same pairs of runs (the
    lesson said "about as fast" up to 5 %, the Compare named a winner from 3 %)."""
    seq = help_page.recorded_runs()[0]  # a real loop of three sleeps of 2 s
    seq = dataclasses.replace(seq, wall_seconds=2.0, summary={**seq.summary, "wall_seconds": 2.0})
    other = dataclasses.replace(seq, spec={**seq.spec, "executor": "threads"}, wall_seconds=wall,
                                summary={**seq.summary, "wall_seconds": wall})
    assert faster(seq, other) == said
    assert ("tied" in compare_why([seq, other])) is tied, compare_why([seq, other])


def test_the_share_copy_lesson_answers_from_its_counters_data_and_memory(qtbot, window):
    """Lesson 6, run for real in the window: the answer quotes what each counter run counted and what the
    process pool paid to send its data, whichever way the numbers fell."""
    panel = open_lessons(window)
    panel.go_to(5)
    assert panel.lesson.key == "share-copy" and "Threads share, processes copy" in panel.lesson.title
    panel.duration_scale = 0.5  # the data runs' tasks of 0.05 s; the counters are not shortened
    with qtbot.waitSignal(window.controller.sequence_finished, timeout=180_000) as blocker:
        panel.run_button.click()
    runs = {run_label(r): r for r in blocker.args[0]}
    assert set(runs) == {"thread-pool", "process-pool", "thread-pool (counter)", "thread-pool (counter, lock)",
                         "process-pool (counter)"}
    assert all(r.status == "ok" for r in runs.values())
    text = panel.answer_text()
    free, locked, procs = (runs[k].summary for k in ("thread-pool (counter)", "thread-pool (counter, lock)",
                                                     "process-pool (counter)"))
    if free["counter_lost"]:
        assert f"it ended at {free['counter_count']:,}: {free['counter_lost']:,} updates were lost" in text
    else:
        assert "Measured: this time the thread pool lost no update" in text
    assert locked["counter_count"] == 2_000_000 and "With the lock every increment counted (2,000,000)" in text
    assert procs["counter_sum"] == 2_000_000
    if procs["counter_processes"] == 2:
        assert "processes share no memory" in text
    sent = sum(t.sent_seconds + t.returned_seconds for t in runs["process-pool"].tasks)
    assert sent > 0 and all(t.sent_seconds == 0 for t in runs["thread-pool"].tasks)
    assert f"The process pool spent {t(sent)} sending it" in text and "the thread pool 0 s" in text


def test_a_lesson_stopped_midway_says_so_instead_of_answering(qtbot, window):
    panel = open_lessons(window)
    with qtbot.waitSignal(window.controller.sequence_finished, timeout=60_000) as blocker:
        panel.run_button.click()  # three sleeps of 2 s one after another: stopped long before they end
        qtbot.waitUntil(lambda: window.controller.state is not None and window.controller.state.done == 0
                        and window.stop_button.isEnabled(), timeout=10_000)
        window.stop_button.click()
    assert [r.status for r in blocker.args[0]] == ["cancelled"]
    text = panel.answer_text()
    assert "The comparison did not finish: sequential: cancelled" in text and "0 of 3 runs finished" in text
    assert "Sequential took" not in text and not panel.chooser.itemText(0).startswith("✓")
    assert panel.run_button.isEnabled() and panel.run_button.text() == "Run this experiment"


def test_a_comparison_the_person_starts_is_not_taken_for_a_lesson(qtbot, window):
    panel = open_lessons(window)
    window.form.set_spec(window.form.spec().with_(workload="sleep", tasks=2, duration=0.05))
    window.executor_checks.choose({"sequential", "threads"})
    with qtbot.waitSignal(window.controller.sequence_finished, timeout=60_000):
        window.compare_button.click()
    assert panel.answers == {} and "Think of your answer" in panel.answer_text()


def test_every_lesson_runs_a_shipped_preset_on_executors_it_has():
    presets = {p.name: p for p in load_presets()}
    assert len(LESSONS) == 6
    for lesson in LESSONS:
        specs = lesson.specs(presets[lesson.preset].specs, 0.5)
        assert len(specs) >= 3, lesson.key
        assert all(s.duration == pytest.approx(o.duration * 0.5) for s, o in
                   zip(specs, lesson.specs(presets[lesson.preset].specs), strict=True))


def test_the_concepts_page_gives_every_abbreviated_column_its_full_name(qtbot, window):
    help_action(window, "Concurrency and parallelism").trigger()
    page = window.findChild(ConceptsPage)
    assert page.isVisible() and not page.isModal()
    text = page.text()
    full = {"concur.": "Concurrency", "parall.": "Parallelism", "effic.": "Efficiency", "wall s": "Wall time",
            "start-up s": "Start-up", "serial frac.": "Serial fraction"}
    rows = {label: name for label, name, _ in help_page.column_glossary()}
    for short, name in full.items():
        assert short in text and rows[short].startswith(name), short
    for c in COMPARE_COLUMNS:  # every column the Compare tab shows, with its tooltip's own definition
        assert c.label in rows and c.help in text, c.label
    for label in SCALING_TABLE_COLUMNS:  # ... and the Scaling tab
        assert label in rows and rows[label] in text, label
    for m in METRICS:
        assert m.help in text, m.key
    for word in ("The GIL", "Threads and processes", "On a core, waiting for a core, blocked", "Speedup"):
        assert word in text

    # the pictures: the window's charts drawn from the recorded runs, as wide as the page asks
    for name in help_page.FIGURES:
        image = page.browser.document().resource(QTextDocument.ResourceType.ImageResource, QUrl(f"help:{name}"))
        assert image is not None and image.width() == help_page.PICTURE_WIDTH and image.height() > 300, name
    help_action(window, "Concurrency and parallelism").trigger()
    assert window.findChildren(ConceptsPage) == [page], "opened again, the same page is raised"


def test_a_lessons_link_opens_the_concepts_page_at_its_section(qtbot, window):
    panel = open_lessons(window)
    panel.go_to(1)
    assert 'href="concepts:gil"' in panel.browser.toHtml()
    panel.browser.anchorClicked.emit(QUrl("concepts:gil"))
    page = window.findChild(ConceptsPage)
    assert page is not None and page.isVisible()
    bar = page.browser.verticalScrollBar()
    assert bar.value() > 0, "scrolled down to the GIL's section"

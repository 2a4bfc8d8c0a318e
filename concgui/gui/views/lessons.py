"""Help ▸ Lessons: the guided experiments, in a dock that stays open while they run.

Each lesson (:mod:`concgui.gui.lessons_data`) asks a question; its button loads the
lesson's preset into the experiment panel and runs the comparison through the
window's own Compare path (:meth:`MainWindow.run_sequence`), so the timeline,
cores and Compare tab show it live as they would for any comparison.  When the
run controller reports the comparison finished, the answer is written from that
run's own numbers, with the engine's plain-words explanation of each run under it.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ...engine.present import html_lines, seconds
from ...engine.records import RunResult
from ...engine.spec import ExperimentSpec
from ...engine.why import explain
from ...engine.why_compare import compare_why
from ..lessons_data import LESSONS, Answer, Lesson, label
from .help_page import show_concepts

if TYPE_CHECKING:
    from ..main_window import MainWindow

DOCK_NAME = "lessons-dock"
DONE = "✓ "


class LessonsPanel(QWidget):
    """One lesson at a time: its question, what to watch, the Run button, and the answer once it ran.

    ``duration_scale`` shortens every task (tests run the lessons in a fraction of their time).
    """

    def __init__(self, window: MainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._window = window
        self.duration_scale = 1.0
        self.answers: dict[str, Answer | str] = {}  # a lesson's answer, or why it has none
        self._results: dict[str, list[RunResult]] = {}  # the runs each answer was drawn from
        self._running: Lesson | None = None
        self._specs: list[ExperimentSpec] = []
        self._done = 0

        self.back = QPushButton("◀")
        self.back.setToolTip("The lesson before")
        self.chooser = QComboBox()
        self.next = QPushButton("▶")
        self.next.setToolTip("The next lesson")
        for b in (self.back, self.next):
            b.setFixedWidth(b.fontMetrics().horizontalAdvance("◀") + 24)
        nav = QHBoxLayout()
        nav.addWidget(self.back)
        nav.addWidget(self.chooser, 1)
        nav.addWidget(self.next)

        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)  # "concepts:" links open the Help page, others the browser
        self.browser.anchorClicked.connect(self._on_link)
        self.run_button = QPushButton("Run this experiment")
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(nav)
        layout.addWidget(self.browser, 1)
        layout.addWidget(self.run_button)
        layout.addWidget(self.status)

        self._fill_chooser()
        self.chooser.currentIndexChanged.connect(self._show)
        self.back.clicked.connect(lambda: self.go_to(self.index - 1))
        self.next.clicked.connect(lambda: self.go_to(self.index + 1))
        self.run_button.clicked.connect(self.run_lesson)
        c = window.controller
        c.run_started.connect(self._on_run_started)
        c.run_finished.connect(self._on_run_finished)
        c.run_failed.connect(self._on_run_failed)
        c.sequence_finished.connect(self._on_sequence_finished)
        self._show(0)

    # --- which lesson --------------------------------------------------------------
    @property
    def index(self) -> int:
        return self.chooser.currentIndex()

    @property
    def lesson(self) -> Lesson:
        return LESSONS[self.index]

    def go_to(self, index: int) -> None:
        self.chooser.setCurrentIndex(max(0, min(len(LESSONS) - 1, index)))

    def _fill_chooser(self) -> None:
        current = max(0, self.chooser.currentIndex())
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for n, lesson in enumerate(LESSONS, 1):
            answer = self.answers.get(lesson.key)
            done = DONE if isinstance(answer, Answer) and answer.finished else ""
            self.chooser.addItem(f"{done}{n}. {lesson.title}")
        self.chooser.setCurrentIndex(current)
        self.chooser.blockSignals(False)

    def _show(self, _index: int = 0) -> None:
        lesson = self.lesson
        self.back.setEnabled(self.index > 0)
        self.next.setEnabled(self.index < len(LESSONS) - 1)
        parts = [f"<h3>{self.index + 1}. {html.escape(lesson.title)}</h3>",
                 f"<p><b>{html.escape(lesson.question)}</b></p>",
                 f"<p>{html.escape(lesson.watch)}</p>"]
        answer = self.answers.get(lesson.key)
        if self._running is lesson:
            parts.append("<p><i>Running… the answer appears here when the comparison ends.</i></p>")
        elif isinstance(answer, Answer):
            parts.append(answer_html(answer, self._results.get(lesson.key, [])))
        elif isinstance(answer, str):
            parts.append(f"<p>{html.escape(answer)}</p>")
        else:
            parts.append("<p><i>Think of your answer, then press the button below.</i></p>")
        parts.append(f'<p><a href="concepts:{lesson.concept}">The words, explained (Help ▸ Concurrency and '
                     "parallelism)</a></p>")
        self.browser.setHtml("".join(parts))
        self._update_button()

    def answer_text(self) -> str:
        """What the panel shows now, as plain text."""
        return self.browser.toPlainText()

    # --- running -------------------------------------------------------------------
    def run_lesson(self) -> None:
        """Load the lesson's preset into the window and run its comparison there."""
        w, lesson = self._window, self.lesson
        if w.controller.is_running() or w.sweeper.is_running():
            self.status.setText("Wait for the current run to end (or stop it), then press the button again.")
            return
        specs = lesson.specs(w.load_preset(lesson.preset), self.duration_scale)
        if not specs:
            self.status.setText("This machine cannot run any of this lesson's executors.")
            return
        self._running, self._specs, self._done = lesson, specs, 0
        self.answers.pop(lesson.key, None)
        self._fill_chooser()
        self._show()
        w.run_sequence(specs)

    def _update_button(self) -> None:
        busy = self._window.controller.is_running() or self._window.sweeper.is_running()
        self.run_button.setEnabled(not busy)
        answer = self.answers.get(self.lesson.key)
        again = isinstance(answer, Answer) and answer.finished
        self.run_button.setText("Run this experiment again" if again else "Run this experiment")

    def _on_run_started(self, _state) -> None:
        self._update_button()
        if self._running is not None and self._done < len(self._specs):
            spec = self._specs[self._done]
            self.status.setText(f"Running {self._done + 1} of {len(self._specs)}: {spec.workload} × "
                                f"{spec.tasks:,} on {spec.executor}…")

    def _on_run_finished(self, result: RunResult) -> None:
        if self._running is not None:
            self._done += 1
            self.status.setText(f"{label(result)}: {seconds(result.wall_seconds, 2)}")
        self._update_button()

    def _on_run_failed(self, message: str) -> None:
        lesson, self._running = self._running, None
        if lesson is not None:
            self.answers[lesson.key] = f"The run failed, so there is no answer yet: {message}"
            self.status.setText("The run failed.")
            self._show()
        self._update_button()

    def _on_sequence_finished(self, results: list[RunResult]) -> None:
        lesson, self._running = self._running, None
        if lesson is None:  # a comparison the person started: not a lesson's
            self._update_button()
            return
        self.answers[lesson.key] = lesson.answer(results, len(self._specs))
        self._results[lesson.key] = list(results)
        self.status.setText("Done: the answer is above; every number is in the Compare tab.")
        self._fill_chooser()
        if self.lesson is lesson:
            self._show()
        self._update_button()

    def _on_link(self, url: QUrl) -> None:
        if url.scheme() == "concepts":
            show_concepts(self._window, url.path() or None)


def answer_html(answer: Answer, results: list[RunResult]) -> str:
    """The answer's paragraphs, then the engine's explanation of each run, smaller."""
    if not answer.finished:
        head = "No answer yet"
    else:
        head = "What the run measured" if answer.confirmed else "What the run measured (not the usual result)"
    out = [f"<h4>{head}</h4>"] + [f"<p>{html.escape(p)}</p>" for p in answer.paragraphs]
    why = compare_why(results) if results else ""
    if why:
        out.append(f"<p><small><b>Why, in short:</b> {html_lines(why)}</small></p>")
    if results:
        out.append("<p><small><b>Each run, explained:</b></small></p><ul>")
        out += [f"<li><small><b>{html.escape(label(r))}</b>: {html_lines(explain(r))}</small></li>" for r in results]
        out.append("</ul>")
    return "".join(out)


def show_lessons(window: MainWindow) -> LessonsPanel:
    """Open (or raise) the window's Lessons dock, beside the experiment panel; returns its panel."""
    dock = window.findChild(QDockWidget, DOCK_NAME)
    if dock is None:
        dock = QDockWidget("Lessons", window)
        dock.setObjectName(DOCK_NAME)
        dock.setWidget(LessonsPanel(window))
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        experiment = window.findChild(QDockWidget, "experiment-dock")
        if experiment is not None:  # a tab beside the form: the timeline and results stay in view
            window.tabifyDockWidget(experiment, dock)
    dock.show()
    dock.raise_()
    return dock.widget()

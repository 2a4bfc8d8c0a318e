"""The Help menu's teaching entries: Lessons and the page "Concurrency and parallelism"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

if TYPE_CHECKING:
    from .main_window import MainWindow


def install_help(window: MainWindow, menu: QMenu) -> tuple[QAction, QAction]:
    """Add Help ▸ Lessons and Help ▸ Concurrency and parallelism to ``menu``; both open non-modal."""
    from .lessons_data import how_many_lessons
    from .views.help_page import show_concepts
    from .views.lessons import show_lessons

    lessons = QAction("&Lessons", window)
    lessons.setStatusTip(f"{how_many_lessons().capitalize()} guided experiments: a question, one button, the answer "
                         "from the run's own numbers")
    lessons.triggered.connect(lambda: show_lessons(window))
    concepts = QAction("&Concurrency and parallelism", window)
    concepts.setShortcut(QKeySequence.StandardKey.HelpContents)
    concepts.setStatusTip("The terms, the pictures and every column's full name")
    concepts.triggered.connect(lambda: show_concepts(window))
    window.summary.help_requested.connect(lambda anchor: show_concepts(window, anchor))  # its "What these mean"
    menu.addActions([lessons, concepts])
    menu.addSeparator()
    return lessons, concepts

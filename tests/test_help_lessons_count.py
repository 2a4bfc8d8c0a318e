"""The Help menu and the help page count the lessons there are, not the five there once were."""

from __future__ import annotations

import pytest

from concgui.gui import lessons_data
from concgui.gui.lessons_data import LESSONS, how_many_lessons
from concgui.gui.views.help_page import page_html

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def test_the_number_of_lessons_is_said_as_a_word_from_the_lessons_themselves():
    assert len(LESSONS) == 6 and how_many_lessons() == "six"
    assert how_many_lessons(LESSONS[:5]) == "five" and how_many_lessons(LESSONS * 3) == "18"


def test_the_menu_and_the_help_page_count_every_lesson(window):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    lessons = next(a for a in menu.actions() if a.text() == "&Lessons")
    assert lessons.statusTip().startswith("Six guided experiments:")
    assert "Help ▸ Lessons walks through six experiments" in page_html({})


def test_the_help_page_follows_a_lesson_added_or_taken_away(monkeypatch):
    monkeypatch.setattr(lessons_data, "LESSONS", LESSONS[:4])
    assert "walks through four experiments" in page_html({})

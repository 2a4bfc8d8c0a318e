"""Every number's full meaning is one step away: the Summary's link and the tables' header tooltips."""

from __future__ import annotations

import pytest

from concgui.gui.views.help_page import ConceptsPage

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support (propagateSizeHints|raise)")


def test_the_summary_links_to_the_concepts_page(qtbot, window):
    assert window.findChild(ConceptsPage, "concepts-page") is None or not window.findChild(
        ConceptsPage, "concepts-page").isVisible()
    window.summary.help_link.linkActivated.emit("speedup")  # as a click on the link does
    page = window.findChild(ConceptsPage, "concepts-page")
    assert page is not None and page.isVisible()


def test_every_table_header_says_what_its_column_means(window):
    for table in (window.compare_table, window.scaling.table):
        tips = [table.horizontalHeaderItem(i).toolTip() for i in range(table.columnCount())]
        assert all(len(tip) > 10 for tip in tips), tips

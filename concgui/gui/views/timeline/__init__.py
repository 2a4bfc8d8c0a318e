"""The task timeline, split by idea; ``TimelineView`` is the widget the window and the report use.

* ``view.py``: the widget: it keeps up with a RunState, owns the items, axes and mouse;
* ``layout.py``: Qt-free numpy: the tasks' columns, lanes, sub-rows and bar rectangles
  (tracks placed by :mod:`concgui.engine.tracks`, the rule the Chrome trace uses too);
* ``bars.py``: the bar items, a handful for any number of tasks, chunked while a run is live;
* ``queue_area.py``: the queue row, how many tasks waited over time;
* ``follow.py``: which span of time the view shows while a run is live (Qt-free);
* ``backdrop.py``: the start-up shade and the grid behind the bars;
* ``texts.py``: what the timeline says in words: a hovered task's tooltip, the legend.

Imports go one way: view imports the others; they import only layout, bars, the theme and concgui.engine.
"""

from .view import TimelineView

__all__ = ["TimelineView"]

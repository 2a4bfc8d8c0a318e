"""ConcGUI in a notebook (or a REPL): run, compare and sweep experiments and see their pictures.

>>> from concgui import notebook as cg
>>> cg.compare(["sequential", "threads"], workload="sleep", tasks=3, duration=2)   # doctest: +SKIP

Each function takes the spec's fields (:data:`concgui.engine.spec.PARAMS`) and returns an object
that shows, in Jupyter, the timeline stack (SVG) and the table with the plain-language "why"
(HTML); ``.save("x.png")`` / ``.save("x.svg")`` and ``.show()`` work from any Python.
``%load_ext concgui`` adds the ``%concgui`` line magic, which takes the ``concgui`` command's options.

Modules: :mod:`.experiments` (the functions and what they return), :mod:`.stack` and
:mod:`.scaling` (the pictures, drawn by :mod:`.svg` with :mod:`.palette`'s colours),
:mod:`.tables` (HTML), :mod:`.magic`; only :mod:`.qt` (PNG files, the window) imports Qt, when used.
"""

from .experiments import Picture, Scaling, Timelines, compare, make_spec, run, sweep

__all__ = ["Picture", "Scaling", "Timelines", "compare", "make_spec", "run", "sweep"]

"""Imported by a forkserver as it starts: the forkserver then dies with the process that started it.

A forkserver lives while any worker it forked lives (each holds its "alive" pipe), and a worker set to
die with its parent (:func:`concgui.engine.lifetime.die_with_parent`) dies with the forkserver: so the
chain ends only if the forkserver dies with the engine.  Its import is its whole effect; it is preloaded
only where the forkserver is started from a thread that lives as long as its process (see
``executors.processes._preload_worker``).
"""

from .lifetime import die_with_parent

die_with_parent()

"""A task's ``os._exit`` refused while a run goes in ConcGUI's own process.

Run inline, a task shares its process with the program that measures it: ``os._exit(0)`` there
ended ``concgui run --inline`` at once, with exit status 0 and nothing printed — a run that
never finished looked like success.  While :func:`exit_refused` is in force, ``os._exit`` called
in this process raises :class:`ExitRefused` instead, which the task's record keeps as its error;
any other process (a worker forked from this one, which multiprocessing ends with ``os._exit``)
exits as asked.  A function bound before the run began (``from os import _exit``) escapes it; in
an engine process (the default isolation) a task may end its process, and the run reports it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


class ExitRefused(RuntimeError):
    """``os._exit`` was called by a task running in ConcGUI's own process."""


@contextlib.contextmanager
def exit_refused() -> Iterator[None]:
    """While in force, ``os._exit`` in this process raises :class:`ExitRefused` (see the module)."""
    real, owner = os._exit, os.getpid()

    def _exit(status: int) -> None:
        if os.getpid() != owner:
            real(status)
        raise ExitRefused(f"os._exit({status}) would end this process, which runs the experiment (isolation "
                          "inline), so it was refused; in an engine process (isolation process) a task may "
                          "end its own process")

    os._exit = _exit
    try:
        yield
    finally:
        os._exit = real

"""What every executor is: a name, availability and ``run``.

What it takes from the spec (workers, their default, a start method, …) is declared in
:data:`concgui.engine.spec.EXECUTOR_KINDS`, once, for every front end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..runner import RunControl
    from ..spec import ExperimentSpec

STOP_GRACE = 1.5  # seconds running tasks get to notice a cancel before they are abandoned


class Executor:
    """Base class; subclasses run every task of a :class:`RunControl` and return."""

    name = ""
    title = ""
    description = ""
    on_calling_thread = False  # tasks run on the thread that called Run.execute (it cannot be interrupted)

    def availability(self) -> tuple[bool, str]:
        """(True, "") when it can run here, else (False, the reason)."""
        return True, ""

    def check(self, spec: ExperimentSpec) -> None:
        """Refuse, with a :class:`SpecError`, what only this machine can tell is wrong (files, say)."""

    def run(self, ctl: RunControl) -> None:
        raise NotImplementedError


def join_all(threads: Iterable[threading.Thread], timeout: float | None) -> None:
    """Join threads, for at most ``timeout`` seconds in total; stragglers are abandoned."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for t in threads:
        t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

"""One task after another in the calling thread: the baseline of every comparison."""

from __future__ import annotations

from ..worker import execute
from .base import Executor


class Sequential(Executor):
    name = "sequential"
    title = "Sequential"
    description = "A plain for-loop: one task after another, as in the seed notebook's first cell."
    on_calling_thread = True

    def run(self, ctl) -> None:
        ctx, arg = ctl.worker_context(), ctl.argument
        ctl.startup_done()
        for i, size in enumerate(ctl.sizes):
            if ctl.cancel.is_set():
                break
            ctl.mark_submitted(i)
            execute(ctx, i, size, arg)

"""asyncio: coroutines on one event loop in one thread.

``sleep`` awaits ``asyncio.sleep`` and overlaps; every other workload is
blocking code that runs on the loop and holds it, which is the lesson,
unless the spec offloads it with ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
from time import thread_time

from ..records import CANCELLED, OK
from ..worker import begin, execute, finish
from .base import Executor


class AsyncioLoop(Executor):
    name = "asyncio"
    title = "asyncio"
    description = "Coroutines on one event loop; at most 'workers' run at once (default: all)."
    on_calling_thread = True

    def run(self, ctl) -> None:
        asyncio.run(self._main(ctl))

    async def _main(self, ctl) -> None:
        ctx = ctl.worker_context(overlapping=True)
        limit = asyncio.Semaphore(ctl.workers)
        sleeps = ctl.job.workload == "sleep"
        offload = ctl.spec.offload
        arg = ctl.argument  # the sleep workload's coroutines take none: it would never travel anyway

        async def one(i: int, size: float) -> None:
            async with limit:
                if sleeps:
                    c0 = thread_time()
                    begun = begin(ctx, i)
                    cpu = thread_time() - c0  # this coroutine's own steps, before and after its await
                    status = OK
                    try:
                        await asyncio.sleep(size)
                    except asyncio.CancelledError:
                        status = CANCELLED
                    c1 = thread_time()
                    finish(ctx, i, begun, status, None, cpu + thread_time() - c1)
                elif offload:
                    await asyncio.to_thread(execute, ctx, i, size, arg)
                else:
                    execute(ctx, i, size, arg)
                    await asyncio.sleep(0)  # let the loop breathe between blocking tasks

        ctl.startup_done()
        tasks = []
        for i, size in enumerate(ctl.sizes):
            ctl.mark_submitted(i)
            tasks.append(asyncio.ensure_future(one(i, size)))
        gathered = asyncio.gather(*tasks, return_exceptions=True)
        while not gathered.done():
            if ctl.cancel.is_set():
                gathered.cancel()
                break
            await asyncio.wait([gathered], timeout=0.05)
        try:
            await gathered
        except asyncio.CancelledError:
            pass

"""The data a task is sent and gives back, and how long each took to travel.

A :class:`Payload` holds bytes.  Pickling it (its ``__reduce__``) stamps ``perf_counter_ns()``, the
send; unpickling it stamps the arrival.  ``perf_counter_ns`` is system-wide on Linux and Windows (the
records already rely on it), so a stamp taken in the parent and one taken in a worker process subtract.
A payload that is never pickled (threads, asyncio, sequential, QThreadPool, a process started by
``fork``, which inherits it) has no arrival, and its transfer is zero by construction: that is the lesson.

- ``sent_seconds`` (worker side, :func:`sent_seconds`): arrival − the latest of the send stamp, the end of
  the previous task on that worker and, for a one-per-task process, the moment the new process began to
  read it (a ``streamed`` payload carries a mark that stamps it): time the item waited behind another
  task, or for an interpreter to start, is not transfer.
- ``returned_seconds`` (parent side, :func:`returned_seconds`): the result's arrival in the parent − its
  send stamp in the worker; results that travelled together in one message share its time rather than
  each counting all of it (:func:`once_per_message`, applied when the run ends).  The task makes its
  result (``result_bytes`` of it) and it rides in the record tuple's ``returned`` slot; the run turns it
  into seconds and drops the data.

How each executor moves the data, and so what is measured:

- sequential, threads, thread-pool, asyncio, QThreadPool, joblib's threading backend: no copy, the task gets
  the parent's object (threads share memory): 0 by construction.
- process-pool: pickled into the pool's call queue (a pipe) by its feeder thread and unpickled by the worker;
  the result is pickled back through the result pipe.  With ``chunk_size`` > 1, pickle keeps one copy per
  message: a chunk's other tasks count 0.
- processes (one per task): with fork the argument is inherited by the new process (copy-on-write), never
  pickled: 0.  With spawn and forkserver it is pickled with the ``Process`` object and read by the new process
  once it runs, counted from when it begins to read (its interpreter's start is not transfer).  The result
  comes back through a pipe of the task's own (see ``worker._without_result``).
- mp-pool: pickled into ``multiprocessing.Pool``'s task pipe, one copy per chunk (the chunk's other tasks
  count 0); the results come back with their chunk's records through the pool's result pipe, one message
  per chunk.
- joblib, loky and multiprocessing backends: pickled with each batch joblib sends (one copy per batch), the
  results with the batch's results, one message per batch.
- dask: pickled by the client into the task graph it sends the scheduler (one copy per ``Client.map`` batch),
  passed on with the task to a worker and unpickled there: the time from the client's pickling to the
  worker's unpickling, the scheduler's hop included (for a LocalCluster the scheduler runs in this process);
  tasks sharing an unpickled copy count 0.  The result stays in the worker until the client gathers it (as
  each task finishes): it is pickled then, and its time runs from there to its unpickling in this process.
- interpreter-pool (Python 3.14+): pickled into and out of the sub-interpreter that runs the task.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

perf_counter_ns = time.perf_counter_ns
#: a record tuple's ``returned`` when its task's result comes back by another way than the record
RESULT_FOLLOWS = -1.0

class Payload:
    """Bytes that stamp the moment they are pickled and the moment they are unpickled.

    ``sent_ns``/``arrived_ns``: 0 until the payload has travelled.  ``ready_ns``: when the receiver began
    to read it (``streamed`` payloads only, see the module's docstring).
    """

    __slots__ = ("data", "sent_ns", "arrived_ns", "ready_ns", "streamed")

    def __init__(self, data: bytes, streamed: bool = False) -> None:
        self.data = data
        self.sent_ns = self.arrived_ns = self.ready_ns = 0
        self.streamed = streamed

    def __reduce__(self) -> tuple:
        # the mark is pickled before the data: a reader that streams (a new process reading its Process
        # object) unpickles it, and so stamps its start, before it reads the data
        return _arrive, (perf_counter_ns(), _MARK if self.streamed else 0, self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __bool__(self) -> bool:  # a record's ``returned`` slot is tested for truth: a result is there
        return True


class _Mark:
    """Unpickles as ``perf_counter_ns()``: the moment a streaming reader reached it."""

    def __reduce__(self) -> tuple:
        return perf_counter_ns, ()


_MARK = _Mark()


def _arrive(sent_ns: int, ready_ns: int, data: bytes) -> Payload:
    """A payload, unpickled: its arrival is now, once its data has been read and rebuilt."""
    p = Payload.__new__(Payload)
    p.data, p.sent_ns, p.ready_ns, p.streamed = data, sent_ns, ready_ns, False
    p.arrived_ns = perf_counter_ns()
    return p


def sent_seconds(arg: Payload, free_ns: int) -> float:
    """How long ``arg`` travelled to this task: its arrival − the latest of its send, its reader's start and
    ``free_ns`` (the end of the previous task on this worker); 0 when it never travelled."""
    if not arg.arrived_ns:
        return 0.0
    return max(0, arg.arrived_ns - max(arg.sent_ns, arg.ready_ns, free_ns)) / 1e9


def returned_seconds(result: Any) -> float:
    """How long a task's result (a :class:`Payload`, in a record tuple's ``returned`` slot) took to come back."""
    arrived = getattr(result, "arrived_ns", 0)
    return max(0, arrived - result.sent_ns) / 1e9 if arrived else 0.0


def once_per_message(stamps: dict[int, tuple[int, int, int]]) -> dict[int, float]:
    """Each result's seconds of travel, by task index, from its ``(pid, sent_ns, arrived_ns)``, with the time
    of results a worker sent in one message (a chunk's, a batch's) counted once, not once per result.

    Results of one message are pickled one after another and read after the whole message has crossed the
    pipe, so each one's span covers nearly all of the message's: added up, a chunk of 4 counted its trip 4
    times (a run's "returning data" came to 268 % of the workers' time).  A result sent before the previous
    one from its worker arrived is taken as part of that message: the earlier one is given the time until
    the next one's send (its own pickling), the message's last one the rest, up to its arrival.  A worker's
    results so add up to the time its messages were on the way, and the last one still ends when the
    message arrived (the run's wall time ends there).
    """
    out: dict[int, float] = {}
    by_worker: dict[int, list[tuple[int, int, int]]] = {}
    for index, (pid, sent, arrived) in stamps.items():
        by_worker.setdefault(pid, []).append((sent, arrived, index))
    for items in by_worker.values():
        items.sort()
        for (sent, arrived, index), nxt in zip(items, [*items[1:], None], strict=True):
            end = nxt[0] if nxt is not None and nxt[0] < arrived else arrived
            out[index] = max(0, end - sent) / 1e9
    return out


def make_argument(size: int, seed: int, streamed: bool = False) -> Payload | None:
    """The run's argument: ``size`` bytes made reproducibly from ``seed``, once per run; None for 0 bytes."""
    if size <= 0:
        return None
    return Payload(random.Random(seed).randbytes(size), streamed)


def make_result(size: int) -> Payload:
    """A task's result of ``size`` bytes (what is in them does not change what copying them costs)."""
    return Payload(bytes(size))


# --- how much may travel ------------------------------------------------------------------------------
def copies(executor: str, workers: int, tasks: int) -> tuple[int, int]:
    """How many copies of the argument and of a result a run may hold at once (see ``spec.MEMORY_RULE``)."""
    return 1 + 3 * workers, 3 * workers + (tasks if executor == "dask" else 0)


def available_memory() -> int | None:
    """Bytes of memory available now (psutil's figure, else the kernel's free pages), or None if unknown."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - without psutil, ask the kernel
        try:
            return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, OSError, ValueError):
            return None


def check_memory(spec: Any, workers: int, available: int | None = None) -> None:
    """Refuse, naming the field, an argument or result the machine's memory cannot hold for this run.

    The rule (``spec.MEMORY_RULE``): argument × (1 + 3 × workers) + result × 3 × workers (+ result × tasks on
    Dask, which keeps every result) must fit in half of ``available`` (the memory available now).
    """
    from .present import count
    from .spec import SpecError

    arg, res = spec.arg_bytes, spec.result_bytes
    if not arg and not res:
        return
    available = available_memory() if available is None else available
    if available is None:
        return
    budget = available // 2
    n_arg, n_res = copies(spec.executor, workers, spec.tasks)
    if arg * n_arg + res * n_res <= budget:
        return
    who = count(workers, "worker")
    if arg * n_arg >= res * n_res:
        limit = max(0, budget - res * n_res) // n_arg
        also = " (with the results')" if res else ""
        raise SpecError("arg_bytes", f"{arg:,} bytes is more than this machine's memory allows for {who}; allowed: "
                                     f"0 to {limit:,}. The argument is made once and each worker may hold up to 3 "
                                     f"copies of it while it travels: {n_arg:,} copies{also} must fit in half of "
                                     f"the {_gb(available)} available now")
    limit = max(0, budget - arg * n_arg) // n_res
    kept = " plus one per task, which Dask keeps until the run ends" if spec.executor == "dask" else ""
    also = " (with the argument's)" if arg else ""
    raise SpecError("result_bytes", f"{res:,} bytes is more than this machine's memory allows for {who}; allowed: "
                                    f"0 to {limit:,}. Each worker may hold up to 3 copies of its result while it "
                                    f"travels{kept}: {n_res:,} copies{also} must fit in half of the "
                                    f"{_gb(available)} available now")


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB"


# --- what it cost the run ------------------------------------------------------------------------------
#: the share of the workers' time in transfer from which a run's why calls it a cost worth a sentence
NOTABLE_SHARE = 0.05


def transfer_figures(result: Any) -> dict[str, Any]:
    """The summary's transfer keys: ``sent_seconds``/``returned_seconds`` (every task's, added up) and
    ``sent_share``/``returned_share`` (of the workers' time: the lanes that ran tasks × the wall time); None
    each where the spec moves no such data. ``start_method``: how a process executor started its workers."""
    from .spec import DEFAULT_START_METHOD, PROCESS_EXECUTORS

    spec = result.spec or {}
    out: dict[str, Any] = dict.fromkeys(("sent_seconds", "returned_seconds", "sent_share", "returned_share"))
    if spec.get("executor") in PROCESS_EXECUTORS:
        out["start_method"] = ((result.environment or {}).get("start_method") or spec.get("start_method")
                               or DEFAULT_START_METHOD)
    ran = [t for t in result.tasks if t.start is not None and t.end is not None]
    capacity = max(1, min(result.workers, len(ran))) * result.wall_seconds
    for key, size in (("sent", spec.get("arg_bytes")), ("returned", spec.get("result_bytes"))):
        if size:
            total = sum(getattr(t, f"{key}_seconds") for t in ran)
            out[f"{key}_seconds"] = total
            out[f"{key}_share"] = total / capacity if capacity > 0 else None
    return out


def _mb(n: int) -> str:
    from .present import number

    return number(n / 1e6, 0 if n >= 10e6 else 1, "MB")


def _how(spec: dict[str, Any]) -> str:
    """How the data travelled, in a clause for the run's why."""
    executor = spec.get("executor")
    if executor == "processes":
        return "each process read its own pickled copy through a pipe as it started"
    if executor == "dask":
        return "each went pickled from the client through the scheduler to its worker"
    if executor == "interpreter-pool":
        return "each was pickled into and out of its sub-interpreter"
    return "each was pickled and copied through a pipe"


def transfer_sentence(result: Any) -> str:
    """What moving the tasks' data cost the run, in a sentence ("" where the spec moves none): the workers'
    share of time spent receiving arguments and sending back results, or that threads paid nothing."""
    from .present import count, efficiency, seconds
    from .spec import in_processes

    spec = result.spec or {}
    arg, res = spec.get("arg_bytes") or 0, spec.get("result_bytes") or 0
    if not (arg or res) or result.status != "ok":
        return ""
    f = transfer_figures(result)
    ran = [t for t in result.tasks if t.start is not None and t.end is not None]
    sent, back = f["sent_seconds"] or 0.0, f["returned_seconds"] or 0.0
    data = " and ".join(p for p in (f"its {_mb(arg)} argument" if arg else "",
                                    f"its {_mb(res)} result" if res else "") if p)
    forked = spec.get("executor") == "processes" and f.get("start_method") == "fork"
    if not sent and not back:
        if in_processes(spec):  # a process per task, forked: the argument is inherited, and no result was made
            return (f"Each forked process inherited {data} from the parent without a copy (copy-on-write): "
                    "moving the data cost nothing.")
        threads = len({(t.pid, t.thread_id) for t in ran})
        who = "the thread shares" if threads <= 1 else f"the {count(threads, 'thread')} share"
        return f"Handing every task {data} cost nothing: {who} the parent's memory, so nothing was copied."
    share = (f["sent_share"] or 0.0) + (f["returned_share"] or 0.0)
    processes = len({t.pid for t in ran})
    who = f"The {count(processes, 'process', 'processes')}" if processes > 1 else "The worker process"
    if share < NOTABLE_SHARE:
        return (f"Moving the tasks' data took {efficiency(share)} of the workers' time ({seconds(sent + back)} in "
                "all): little next to the work.")
    pieces = []
    if sent:
        pieces.append(f"{efficiency(f['sent_share'])} of the run receiving their {_mb(arg)} arguments")
    if back:
        pieces.append(f"{efficiency(f['returned_share'])} sending back their {_mb(res)} results")
    inherited = " (forked, they inherited the argument without a copy)" if forked and arg and not sent else ""
    return (f"{who} spent {' and '.join(pieces)}{inherited}: {_how(spec)}; threads share "
            "memory and pay nothing.")

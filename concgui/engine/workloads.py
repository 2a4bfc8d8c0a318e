"""What one task does: the built-in workloads and the custom-function loader.

This module runs inside workers (threads, processes, interpreters), so it
imports only the standard library and keeps per-call work small.  Sizes are
work amounts, not deadlines: a CPU task does a fixed number of iterations,
so threads that take turns on the GIL really take longer.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CPU_CHUNK = 20_000  # iterations between two looks at the cancel flag
HASH_BLOCK = 1 << 20  # hashlib releases the GIL for buffers over 2 KiB
_buffer: bytes | None = None


@dataclass(frozen=True)
class Job:
    """The per-run constants a worker needs; small and picklable."""

    workload: str
    function: str = ""
    cpu_fraction: float = 0.5
    cpu_iterations_per_second: float = 1.0
    hash_bytes_per_second: float = 1.0
    result_bytes: int = 0  # the size of the result each task makes (see concgui.engine.transfer)
    increments: int = 0  # the counter workload: increments per task
    lock: bool = False  # the counter workload: take the process's lock around each increment
    run_key: int = 0  # tells one run from the next in a worker that serves several (the counter starts at 0)


class Cancelled(Exception):
    """Raised inside a built-in workload when the run was stopped."""


def spin(iterations: int, stop: Callable[[], bool]) -> None:
    """Pure-Python arithmetic: holds the GIL the whole time."""
    done = 0
    while done < iterations:
        n = min(CPU_CHUNK, iterations - done)
        x = 0
        for i in range(n):
            x += i * i % 7
        done += n
        if stop():
            raise Cancelled


def hash_buffer() -> bytes:
    """The hash workload's 1 MiB of random bytes, made once per process (3 ms: :func:`prepare` does it)."""
    global _buffer
    if _buffer is None:
        _buffer = os.urandom(HASH_BLOCK)
    return _buffer


def hash_bytes(total: int, stop: Callable[[], bool]) -> None:
    """sha256 over a 1 MiB buffer: C code that releases the GIL."""
    buffer = _buffer if _buffer is not None else hash_buffer()
    h = hashlib.sha256()
    left = total
    while left > 0:
        h.update(buffer if left >= HASH_BLOCK else buffer[:left])
        left -= HASH_BLOCK
        if stop():
            raise Cancelled


def write_read(size_mb: float, stop: Callable[[], bool]) -> None:
    """Write, fsync and read back a file in a private directory that is always removed."""
    block = os.urandom(min(HASH_BLOCK, max(1, int(size_mb * 1e6))))
    total = int(size_mb * 1e6)
    with tempfile.TemporaryDirectory(prefix="concgui-io-") as d:
        path = os.path.join(d, "data.bin")
        with open(path, "wb") as f:
            left = total
            while left > 0:
                left -= f.write(block[: min(left, len(block))])
                if stop():
                    raise Cancelled
            f.flush()
            os.fsync(f.fileno())
        with open(path, "rb") as f:
            while f.read(HASH_BLOCK):
                if stop():
                    raise Cancelled


class Counter:
    """The counter workload's one counter in this process, for the run ``run_key`` names."""

    __slots__ = ("count", "run_key")

    def __init__(self) -> None:
        self.count = 0
        self.run_key = 0


_counter = Counter()
_counter_lock = threading.Lock()
COUNT_CHUNK = 10_000  # increments between two looks at the cancel flag


def _touch(value: int) -> int:
    """What real code does between reading a value and writing it back (log it, check it): a call."""
    return value


def count_up(job: Job, stop: Callable[[], bool]) -> int:
    """Add 1 to this process's counter ``job.increments`` times; return the count after the last one.

    Each increment is an honest read-modify-write of the shared counter: read it, call a function, write
    the value read plus one. On 3.11 a thread is switched out only where the interpreter checks its eval
    breaker: at a call or a backward jump, never between the bytecodes of ``counter.count += 1`` (measured
    here: none lost in 5 runs of 4 threads × 1,000,000), so a plain ``+=`` almost never loses an update. The
    call between read and write is such a check: a thread switched out there (every 5 ms, the default
    switch interval) writes back a stale value when it resumes, wiping out every increment the other
    threads made meanwhile. Measured on 2 cores, 4 threads: 10 of 10 runs lost updates at 300,000
    increments each and more; 1 of 10 at 100,000, where a thread can finish within one switch interval.
    The switch interval is left alone: it is process-wide, and would change the run's other threads too
    (the window sets 1 ms for itself, so a run inside it loses more).
    ``job.lock``: each read-call-write holds the process's lock: the count is right, and slower.
    Every process has its own counter (processes share no memory); it starts at 0 for each run.
    """
    c, n = _counter, job.increments
    with _counter_lock:
        if c.run_key != job.run_key:
            c.run_key, c.count = job.run_key, 0
    touch, lock = _touch, _counter_lock
    done = 0
    while done < n:
        chunk = min(COUNT_CHUNK, n - done)
        if job.lock:
            for _ in range(chunk):
                with lock:
                    value = c.count
                    touch(value)
                    c.count = value + 1
        else:
            for _ in range(chunk):
                value = c.count
                touch(value)
                c.count = value + 1
        done += chunk
        if stop():
            raise Cancelled
    return c.count


def perform(job: Job, index: int, size: float, stop: Callable[[], bool],
            wait: Callable[[float], bool]) -> int | None:
    """Run one task of ``job``; ``wait(seconds)`` sleeps and returns True if stopped.

    Returns what the task's work returned: the counter's count for the counter workload, else None.
    """
    w = job.workload
    if w == "sleep":
        if wait(size):
            raise Cancelled
    elif w == "cpu":
        spin(int(size * job.cpu_iterations_per_second), stop)
    elif w == "hash":
        hash_bytes(int(size * job.hash_bytes_per_second), stop)
    elif w == "file-io":
        write_read(size, stop)
    elif w == "mixed":
        spin(int(size * job.cpu_fraction * job.cpu_iterations_per_second), stop)
        if wait(size * (1.0 - job.cpu_fraction)):
            raise Cancelled
    elif w == "counter":
        return count_up(job, stop)
    elif w == "noop":
        pass
    elif w == "custom":
        fn, takes_index = resolve_function(job.function)
        fn(index) if takes_index else fn()
    else:
        raise ValueError(f"workload: unknown {w!r}")
    return None


PREPARE_TIMEOUT = 10.0  # seconds a worker gives a custom function's module to import in its start-up


def prepare(job: Job) -> None:
    """Do in the worker's start-up what this process does once for ``job``'s tasks.

    Importing a custom function's module (numpy's import takes hundreds of milliseconds) and
    making the hash buffer would otherwise happen inside the first task of every worker and be
    measured as that task.  Every executor calls this where its workers start (through
    :class:`~concgui.engine.worker.WorkerContext`), before the task's clock.  Never raises:
    a function that cannot be loaded here fails each task with the reason, as before.
    """
    if job.workload == "hash":
        hash_buffer()
    elif job.workload == "custom":
        try:
            load_function(job.function, PREPARE_TIMEOUT)
        except Exception:  # noqa: BLE001 - every task then reports it with its own record
            pass


# --- custom functions -----------------------------------------------------------
_resolved: dict[str, tuple[Callable, bool]] = {}


class FunctionError(ValueError):
    """The custom function cannot be loaded; the message says why."""


def resolve_function(ref: str) -> tuple[Callable, bool]:
    """Load ``module:function`` or ``path/file.py:function``; cached per process.

    Returns the callable and whether it takes the task index.
    """
    cached = _resolved.get(ref)
    if cached is not None:
        return cached
    target, sep, name = ref.strip().rpartition(":")
    if not sep or not target or not name:
        raise FunctionError(f"{ref!r}: give module:function or path/to/file.py:function")
    if target.endswith(".py") or os.sep in target or "/" in target:
        path = Path(target).expanduser().resolve()
        if not path.is_file():
            raise FunctionError(f"{ref!r}: file {str(path)!r} does not exist")
        mod_name = "concgui_custom_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
        module = sys.modules.get(mod_name)
        if module is None:
            spec = importlib.util.spec_from_file_location(mod_name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = module  # lets pickle find functions defined there
            try:
                spec.loader.exec_module(module)
            except BaseException as exc:
                del sys.modules[mod_name]
                raise FunctionError(f"{ref!r}: loading {path.name} raised {type(exc).__name__}: {exc}") from exc
    else:
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as exc:
            raise FunctionError(f"{ref!r}: no module named {exc.name!r}") from exc
        except BaseException as exc:
            raise FunctionError(f"{ref!r}: importing {target} raised {type(exc).__name__}: {exc}") from exc
    fn = getattr(module, name, None)
    if fn is None:
        raise FunctionError(f"{ref!r}: {target} has no attribute {name!r}")
    if not callable(fn):
        raise FunctionError(f"{ref!r}: {name} is a {type(fn).__name__}, not a function")
    _resolved[ref] = result = (fn, _takes_index(fn))
    return result


_importing: dict[str, threading.Thread] = {}  # imports that did not finish in time, by reference


def load_function(ref: str, timeout: float) -> tuple[Callable, bool]:
    """:func:`resolve_function`, given up after ``timeout`` seconds (a module may wait forever on import).

    The import runs in a daemon thread; one that does not finish is left behind (a thread
    cannot be stopped) and the same reference is refused at once while it still runs.
    """
    cached = _resolved.get(ref)
    if cached is not None:
        return cached
    hung = _importing.get(ref)
    if hung is not None and hung.is_alive():
        raise FunctionError(f"{ref!r}: its import is still running from an earlier attempt "
                            f"(it did not finish within {timeout:g} s)")
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = resolve_function(ref)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc

    thread = threading.Thread(target=target, name="concgui-import", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        _importing[ref] = thread
        raise FunctionError(f"{ref!r}: importing it did not finish within {timeout:g} s "
                            "(does the module wait for something when it is imported?)")
    _importing.pop(ref, None)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def _takes_index(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    if len(required) > 1:
        raise FunctionError(f"{fn.__name__} needs {len(required)} arguments; it may take at most one (the task index)")
    return len(positional) >= 1 or any(p.kind == p.VAR_POSITIONAL for p in params)

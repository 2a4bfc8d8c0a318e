"""Results on disk: the JSON run file, a CSV row per task, and Chrome trace JSON.

Every export in ConcGUI (these, a sweep's files, the pictures) is written by :func:`write_atomic`:
through a temporary file in the target folder and an atomic rename, so a failed write never leaves
half a file behind, and never over a device, a pipe, a socket or a folder (see there). Every run
file is read by :func:`read_json` and checked by :mod:`.validate`.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import gc
import io
import json
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .records import RunResult, TaskRecord, ThreadStates
from .spec import executor_label
from .validate import run_from_dict
from .xray import ends_of, task_seconds

MAX_RUN_FILE_BYTES = 512 * 1024 * 1024
#: seconds an export to a named pipe waits for a program to open it for reading
PIPE_WAIT = 5.0
#: on_core_s, waiting_s, blocked_s: the task's seconds in each thread state (the GIL X-ray), empty without it
CSV_COLUMNS = ("index", "worker", "pid", "thread_id", "submitted", "start", "end", "duration",
               "cpu_seconds", "on_core_s", "waiting_s", "blocked_s", "status", "error_type", "error_message",
               "sent_seconds", "returned_seconds", "value")
#: the names of the three thread states in the trace's state slices
TRACE_STATES = ("on a core", "waiting for a core", "blocked")
#: their colours in Chrome's trace viewer (its reserved names for the kernel's running/runnable/sleeping)
TRACE_STATE_COLOURS = ("thread_state_running", "thread_state_runnable", "thread_state_sleeping")
#: the category of the state slices, so a reader tells them from the tasks (whose category is their status)
STATE_CATEGORY = "thread state"


def write_atomic(path: str | os.PathLike, write: Callable[[io.IOBase], None], binary: bool = False) -> None:
    """Write an export where ``path`` says, never replacing what is not a file.

    A file (or a new name) is written to a temporary file beside it and renamed over it, so a failed
    write leaves no half file and the old one intact; a symbolic link is followed (its target is
    replaced, the link kept), and a replaced file keeps its permissions. A character device or a
    named pipe (``/dev/null``, ``/dev/stdout``, a FIFO another program reads) is written through as a
    stream, once the whole export is made. A folder, a socket or a disk device is refused with an
    OSError saying so: an export never takes the place of any of them.
    """
    path = Path(path)
    mode = target_kind(path)
    if mode is not None and not stat.S_ISREG(mode):
        _write_stream(path, write, binary)
        return
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    if not target.parent.is_dir():
        raise OSError(f"folder {str(target.parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")) as f:
            write(f)
        # mkstemp makes it private (0600): an export is an ordinary file, or keeps the one it replaces
        os.chmod(tmp, stat.S_IMODE(mode) if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def target_kind(path: str | os.PathLike) -> int | None:
    """The ``st_mode`` of what ``path`` names (through links), None when nothing is there yet; an OSError
    naming it for what an export must never replace or write into: a folder, a socket, a disk device."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(mode):
        raise OSError(f"{os.fspath(path)} is a folder: give the name of a file in it")
    if stat.S_ISSOCK(mode):
        raise OSError(f"{os.fspath(path)} is a socket: exports go to files, devices and pipes only")
    if stat.S_ISBLK(mode):
        raise OSError(f"{os.fspath(path)} is a disk device: an export never writes over a disk")
    return mode


def _write_stream(path: Path, write: Callable[[io.IOBase], None], binary: bool) -> None:
    """Make the whole export in memory (a failure sends nothing), then write it through the device or pipe."""
    buffer: io.IOBase = io.BytesIO() if binary else io.StringIO(newline="")
    write(buffer)
    data = buffer.getvalue() if binary else buffer.getvalue().encode("utf-8")
    fd = _open_stream(path)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, os.fspath(path)) from None
    finally:
        os.close(fd)


def _open_stream(path: Path) -> int:
    """Open a device or pipe to write, creating nothing; a named pipe no program opens to read within
    :data:`PIPE_WAIT` seconds is refused rather than waited on for ever."""
    if not stat.S_ISFIFO(os.stat(path).st_mode):
        return os.open(path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
    deadline = time.monotonic() + PIPE_WAIT
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                raise
            if time.monotonic() >= deadline:
                raise OSError(f"{path} is a named pipe that no program opened to read within "
                              f"{PIPE_WAIT:g} s; nothing was written") from None
            time.sleep(0.05)
            continue
        os.set_blocking(fd, True)  # the reader sets the pace from here
        return fd


def _umask() -> int:
    """This process's umask, read without changing it (Linux shows it in /proc; elsewhere 022)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def save_json(path: str | os.PathLike, data: dict[str, Any]) -> None:
    write_atomic(path, lambda f: json.dump(data, f, separators=(",", ":")))


def save_result(path: str | os.PathLike, result: RunResult) -> None:
    save_json(path, result.to_dict())


def save_results(path: str | os.PathLike, results: list[RunResult]) -> None:
    """The ``compare --json`` format: ``{"runs": [result, ...]}``."""
    save_json(path, {"runs": [r.to_dict() for r in results]})


class LoadCancelled(Exception):
    """Raised by a ``progress`` callback to stop a load (a person pressed Cancel)."""


#: told how far a load is, 0..1; it may raise (:class:`LoadCancelled`) to stop it
Progress = Callable[[float], None]
_CHUNK = 4 * 2**20
#: bytes of JSON per object, roughly (a task record is ~190): how far parsing is, from the objects made
_BYTES_PER_OBJECT = 190
_FREE_AT_ONCE = 5000


def read_json(path: str | os.PathLike, what: str, progress: Progress | None = None,
              max_bytes: int = MAX_RUN_FILE_BYTES) -> Any:
    """A JSON file's value, or a one-line ValueError starting with the file's name: too large, not UTF-8,
    not JSON (NaN and Infinity included), nested too deeply. ``what`` names the kind of file refused.

    With ``progress``, it is told how far reading and parsing are (up to 0.9) and may stop both by
    raising; parsing then calls it back between objects, so a thread that loads lets others run.
    """
    path = Path(path)
    name = path.name
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"{name} is {size / 1e6:,.0f} MB; {what}s over {max_bytes // 2**20} MB are refused")
    tell = progress or (lambda _f: None)
    data = bytearray()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            data += chunk
            tell(0.2 * min(1.0, len(data) / max(1, size)))
            if len(data) > max_bytes:  # it grew since stat() (a pipe, a file being written)
                raise ValueError(f"{name} is over {max_bytes // 2**20} MB; {what}s that large are refused")
    hook = None
    if progress is not None:
        made, expected = 0, max(1, len(data) // _BYTES_PER_OBJECT)

        def hook(obj: dict) -> dict:
            nonlocal made
            made += 1
            if not made % 2048:
                progress(0.2 + 0.7 * min(1.0, made / expected))
            return obj
    try:
        text = data.decode("utf-8")
        del data  # the text is a copy: hold one at a time
        return json.loads(text, parse_constant=_no_constant, object_hook=hook)
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise ValueError(f"{name} is not a {what} (not valid JSON: {_one_line(exc)})") from None
    except RecursionError:
        raise ValueError(f"{name} is not a {what} (nested too deeply)") from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:199] + "…"


def load_results(path: str | os.PathLike, progress: Progress | None = None) -> list[RunResult]:
    """Read a run file (one result, or ``{"runs": [...]}``); a one-line ValueError if it is not one.

    Every message starts with the file's name, then names the field at fault in the spec's words
    (:mod:`.validate`). Only JSON is read, and every value is checked before anything draws it: opening
    a file never executes code (its spec may name a function or an interpreter; they run only when the
    person confirms them). ``progress`` as in :func:`read_json`, up to 1 when the last run is checked.
    """
    with collector_paused():
        return _load_results(path, progress)


def _load_results(path: str | os.PathLike, progress: Progress | None) -> list[RunResult]:
    name = Path(path).name
    data = read_json(path, "ConcGUI run file", progress)
    items = data.get("runs") if isinstance(data, dict) and "runs" in data else [data]
    del data  # each run's objects go once its records are made
    if not isinstance(items, list):
        raise ValueError(f"{name}: 'runs' must be a list")
    if not items:
        raise ValueError(f"{name} holds no runs")
    results = []
    for n, d in enumerate(items):
        where = name if len(items) == 1 else f"{name}, run {n + 1}"
        try:
            results.append(run_from_dict(d))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{where} is not a ConcGUI run file (missing or wrong field {_one_line(exc)})") from None
        except (ValueError, RecursionError) as exc:
            raise ValueError(f"{where}: {_one_line(exc)}") from None
        _let_go(items, n)  # its objects can go: the records are made
        if progress is not None:
            progress(0.9 + 0.1 * (n + 1) / len(items))
    return results


def _let_go(items: list, n: int) -> None:
    """Drop run ``n``'s parsed objects a few thousand tasks at a time: a million freed at once held the GIL
    for half a second, and a window loading on another thread stood still that long."""
    tasks = items[n].get("tasks") if isinstance(items[n], dict) else None
    while isinstance(tasks, list) and tasks:
        del tasks[-_FREE_AT_ONCE:]
    items[n] = None


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a file's objects are made: a million of them made it
    run full passes over all that were made so far (a 1,000,000-task file loaded in 6.9 s, 4.7 s paused).
    JSON's objects hold no cycles; what the load frees goes by reference counting as usual."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _no_constant(word: str) -> float:
    raise ValueError(f"{word} is not a number a run file may hold")


def save_csv(path: str | os.PathLike, result: RunResult) -> None:
    def write(f) -> None:
        w = csv.writer(f)
        w.writerow(CSV_COLUMNS)
        states = result.thread_states
        ends = ends_of(states)
        for t in result.tasks:
            err = t.error or {}
            xray = (task_seconds(states, t, ends) if states else None) or ("", "", "")
            w.writerow([t.index, t.worker, t.pid, t.thread_id, t.submitted, t.start, t.end,
                        t.duration if t.end is not None else None, t.cpu_seconds, *xray, t.status,
                        err.get("type", ""), err.get("message", ""), t.sent_seconds, t.returned_seconds,
                        "" if t.value is None else t.value])

    write_atomic(path, write)


def load_csv(path: str | os.PathLike) -> list[TaskRecord]:
    """Task records back from a CSV file (for round trips and spreadsheets)."""
    out = []
    num = lambda v: float(v) if v not in ("", "None") else None  # noqa: E731
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            error = {"type": row["error_type"], "message": row["error_message"]} if row["error_type"] else None
            out.append(TaskRecord(int(row["index"]), row["worker"], int(row["pid"]), int(row["thread_id"]),
                                  num(row["submitted"]), num(row["start"]), num(row["end"]),
                                  float(row["cpu_seconds"]), row["status"], error,
                                  float(row.get("sent_seconds") or 0.0), float(row.get("returned_seconds") or 0.0),
                                  int(row["value"]) if row.get("value") not in (None, "", "None") else None))
    return out


def assign_tracks(tasks: list[TaskRecord]) -> dict[int, int]:
    """Task index -> track within its worker's lane (0 for most), by :mod:`concgui.engine.tracks`' rule.

    Imported here, not at the top: the rule needs numpy, which only a trace export should load
    (the command line and the engine process start without it).
    """
    from .tracks import assign_tracks as assign

    return assign(tasks)


def chrome_trace(result: RunResult) -> dict[str, Any]:
    """Chrome trace event JSON (opens in Perfetto): one complete event per task.

    With the X-ray's series, each task also carries its seconds in each state, and each lane gets a
    track of thread-state slices right under its task track (:func:`state_slices`): a track of its
    own, since a state slice that straddles a task's start or end would break the nesting of slices
    on one track; ``thread_sort_index`` places it under the lane's tasks, where Perfetto draws it.
    """
    tracks = assign_tracks(result.tasks)
    states = result.thread_states
    ends = ends_of(states)
    tids: dict[tuple[str, int], int] = {}
    events: list[dict[str, Any]] = []
    pid = 1
    for t in sorted(result.tasks, key=lambda r: (r.start is None, r.start or 0)):
        if t.start is None or t.end is None:
            continue
        key = (t.worker, tracks.get(t.index, 0))
        tid = tids.setdefault(key, len(tids) + 1)
        events.append({
            "ph": "X", "name": f"task {t.index}", "cat": t.status, "pid": pid, "tid": tid,
            "ts": t.start * 1e6, "dur": max(0.0, t.end - t.start) * 1e6,
            "args": {"index": t.index, "status": t.status, "os_pid": t.pid, "os_thread_id": t.thread_id,
                     "cpu_seconds": t.cpu_seconds, **({"error": t.error["message"]} if t.error else {}),
                     **({"sent_seconds": t.sent_seconds} if t.sent_seconds else {}),
                     **({"returned_seconds": t.returned_seconds} if t.returned_seconds else {}),
                     **({"value": t.value} if t.value is not None else {}),
                     **_task_states_args(states, t, ends)},
        })
    workers = list(dict.fromkeys(worker for worker, _ in tids))  # in the order they first ran a task
    measured = {lane for s in states for lane in s.lanes}
    sort_index, state_tid = 0, len(tids)  # state tracks' tids follow the task tracks'
    for worker in workers:
        for track in sorted(track for w, track in tids if w == worker):
            sort_index += 1
            events += _thread_track(pid, tids[(worker, track)], worker + (f" · track {track + 1}" if track else ""),
                                    sort_index)
        if worker in measured:
            sort_index, state_tid = sort_index + 1, state_tid + 1
            events += _thread_track(pid, state_tid, f"{worker} · thread state", sort_index)
            events += state_slices(states, worker, pid, state_tid)
    spec = result.spec
    events.insert(0, {"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                      "args": {"name": f"ConcGUI: {spec.get('workload')} on {executor_label(spec)}"}})
    return {"traceEvents": events, "displayTimeUnit": "ms"}


def _thread_track(pid: int, tid: int, name: str, sort_index: int) -> list[dict[str, Any]]:
    return [{"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": name}},
            {"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tid, "args": {"sort_index": sort_index}}]


def _task_states_args(states: list[ThreadStates], t: TaskRecord, ends: list[float]) -> dict[str, float]:
    xray = task_seconds(states, t, ends) if states else None
    return {} if xray is None else dict(zip(("on_core_s", "waiting_s", "blocked_s"), xray, strict=True))


def state_slices(states: list[ThreadStates], lane: str, pid: int, tid: int) -> list[dict[str, Any]]:
    """``lane``'s thread states as complete ("X") events on track ``tid``: one per run of intervals.

    Each interval is named by its largest share (:data:`TRACE_STATES`); touching intervals of the same
    name merge into one slice, whose args hold its three shares (time-weighted means), so the mix is
    kept where the name gives only the most of it. Boundaries are whole microseconds, shared by
    touching slices, so no slice overlaps the next (a 20 ms probe needs no finer).
    """
    runs: list[list] = []  # [start_us, end_us, state, seconds on a core, waiting, blocked]
    for s in states:
        shares = s.lanes.get(lane)
        if shares is None:
            continue
        start, end = round((s.t - s.interval) * 1e6), round(s.t * 1e6)
        last = runs[-1] if runs else None
        if last is not None and abs(start - last[1]) <= 1:
            start = last[1]  # touching: the same boundary, whatever the rounding
        if end <= start:
            continue
        state = max(range(3), key=shares.__getitem__)
        if last is not None and last[1] == start and last[2] == state:
            last[1] = end
            for k in range(3):
                last[3 + k] += shares[k] * (end - start)
        else:
            runs.append([start, end, state, *(v * (end - start) for v in shares)])
    return [{"ph": "X", "name": TRACE_STATES[state], "cat": STATE_CATEGORY, "cname": TRACE_STATE_COLOURS[state],
             "pid": pid, "tid": tid, "ts": start, "dur": end - start,
             "args": {name: round(v / (end - start), 4) for name, v in zip(TRACE_STATES, seconds, strict=True)}}
            for start, end, state, *seconds in runs]


def save_trace(path: str | os.PathLike, result: RunResult) -> None:
    save_json(path, chrome_trace(result))

"""Results on disk: the JSON run file, a CSV row per task, and Chrome trace JSON.

Every writer goes through a temporary file in the target folder and an
atomic rename, so a failed write never leaves half a file behind.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .records import RunResult, TaskRecord

MAX_RUN_FILE_BYTES = 512 * 1024 * 1024
CSV_COLUMNS = ("index", "worker", "pid", "thread_id", "submitted", "start", "end", "duration",
               "cpu_seconds", "status", "error_type", "error_message")


def write_atomic(path: str | os.PathLike, write: Callable[[io.IOBase], None], binary: bool = False) -> None:
    """Write a file via a temporary file and ``os.replace``; no partial file on failure."""
    path = Path(path)
    if not path.parent.is_dir():
        raise OSError(f"folder {str(path.parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")) as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_json(path: str | os.PathLike, data: dict[str, Any]) -> None:
    write_atomic(path, lambda f: json.dump(data, f, separators=(",", ":")))


def save_result(path: str | os.PathLike, result: RunResult) -> None:
    save_json(path, result.to_dict())


def save_results(path: str | os.PathLike, results: list[RunResult]) -> None:
    """The ``compare --json`` format: ``{"runs": [result, ...]}``."""
    save_json(path, {"runs": [r.to_dict() for r in results]})


def load_results(path: str | os.PathLike) -> list[RunResult]:
    """Read a run file (one result, or ``{"runs": [...]}``); a clear ValueError if it is not one.

    Only JSON is read: opening a file never executes code.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_RUN_FILE_BYTES:
        raise ValueError(f"{path.name} is {size / 1e6:.0f} MB; run files over "
                         f"{MAX_RUN_FILE_BYTES // 2**20} MB are refused")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name} is not a ConcGUI run file (not valid JSON: {exc})") from None
    items = data.get("runs") if isinstance(data, dict) and "runs" in data else [data]
    if not isinstance(items, list):
        raise ValueError(f"{path.name}: 'runs' must be a list")
    try:
        return [RunResult.from_dict(d) for d in items]
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path.name} is not a ConcGUI run file (missing or wrong field {exc})") from None


def save_csv(path: str | os.PathLike, result: RunResult) -> None:
    def write(f) -> None:
        w = csv.writer(f)
        w.writerow(CSV_COLUMNS)
        for t in result.tasks:
            err = t.error or {}
            w.writerow([t.index, t.worker, t.pid, t.thread_id, t.submitted, t.start, t.end,
                        t.duration if t.end is not None else None, t.cpu_seconds, t.status,
                        err.get("type", ""), err.get("message", "")])

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
                                  float(row["cpu_seconds"]), row["status"], error))
    return out


def assign_tracks(tasks: list[TaskRecord]) -> dict[int, int]:
    """A sub-track per task so that no two overlapping tasks share one (asyncio's do).

    Returns task index -> track number within its worker's lane (0 for most).
    """
    tracks: dict[int, int] = {}
    by_worker: dict[str, list[TaskRecord]] = {}
    for t in tasks:
        if t.start is not None and t.end is not None:
            by_worker.setdefault(t.worker, []).append(t)
    for items in by_worker.values():
        ends: list[float] = []  # end time of the last task on each track
        for t in sorted(items, key=lambda r: (r.start, r.index)):
            for k, e in enumerate(ends):
                if e <= t.start:
                    ends[k] = t.end
                    tracks[t.index] = k
                    break
            else:
                tracks[t.index] = len(ends)
                ends.append(t.end)
    return tracks


def chrome_trace(result: RunResult) -> dict[str, Any]:
    """Chrome trace event JSON (opens in Perfetto): one complete event per task."""
    tracks = assign_tracks(result.tasks)
    lanes: dict[tuple[str, int], int] = {}
    events: list[dict[str, Any]] = []
    pid = 1
    for t in sorted(result.tasks, key=lambda r: (r.start is None, r.start or 0)):
        if t.start is None or t.end is None:
            continue
        key = (t.worker, tracks.get(t.index, 0))
        if key not in lanes:
            lanes[key] = tid = len(lanes) + 1
            name = t.worker + (f" · track {key[1] + 1}" if key[1] else "")
            events.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": name}})
            events.append({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tid,
                           "args": {"sort_index": tid}})
        events.append({
            "ph": "X", "name": f"task {t.index}", "cat": t.status, "pid": pid, "tid": lanes[key],
            "ts": t.start * 1e6, "dur": max(0.0, t.end - t.start) * 1e6,
            "args": {"index": t.index, "status": t.status, "os_pid": t.pid, "os_thread_id": t.thread_id,
                     "cpu_seconds": t.cpu_seconds, **({"error": t.error["message"]} if t.error else {})},
        })
    spec = result.spec
    events.insert(0, {"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                      "args": {"name": f"ConcGUI: {spec.get('workload')} on {spec.get('executor')}"}})
    return {"traceEvents": events, "displayTimeUnit": "ms"}


def save_trace(path: str | os.PathLike, result: RunResult) -> None:
    save_json(path, chrome_trace(result))

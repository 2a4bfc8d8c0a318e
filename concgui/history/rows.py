"""A run as rows of the history's tables: its tasks and series written, read back and listed, and the
checks of :mod:`concgui.engine.validate` a value passes on the way in and out.

Every value read back is checked, so a file edited by hand, or written by a ConcGUI from before a check,
gives an :class:`InvalidRun` naming the first wrong value (or, in the list of runs, a run marked
``damaged``) and never a result the views cannot draw.
"""

from __future__ import annotations

import json
import sqlite3
from itertools import chain
from typing import Any

from ..engine import validate
from ..engine.records import CpuSample, MemorySample, RunResult, TaskRecord, ThreadStates
from ..engine.spec import MAX_TASKS, SpecError

_TASK_INSERT = (
    'INSERT OR REPLACE INTO tasks (run_id, idx, worker, pid, thread_id, submitted, start, "end", '
    "cpu_seconds, status, error, sent_seconds, returned_seconds, value) VALUES "
)
_TASK_VALUES = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#: task rows per INSERT statement: half the time of one row per statement, and the sqlite3 module lets go
#: of the GIL once per statement, so a window drawing meanwhile is interrupted 50 times less often
ROWS_PER_INSERT = 50
_TASK_SELECT = (
    'SELECT idx, worker, pid, thread_id, submitted, start, "end", cpu_seconds, status, error, sent_seconds, '
    "returned_seconds, value FROM tasks WHERE run_id = ? ORDER BY idx"
)
_RUN_SELECT = (
    "SELECT spec, environment, status, error, started_at, startup_seconds, wall_seconds, workers, "
    "summary, version FROM runs WHERE id = ?"
)
_INT64 = 1 << 63


class InvalidRun(ValueError):
    """A run with a value :mod:`concgui.engine.validate` refuses: not written, or found so when read back."""


def checked(prefix: str, check: Any, *args: Any) -> None:
    """Run one of :mod:`validate`'s checks; its refusal as an InvalidRun (``prefix`` says where from)."""
    try:
        check(*args)
    except SpecError as exc:
        raise InvalidRun(f"{prefix or 'not stored in the run history: '}{exc}") from None


def _passes(value: Any, field: validate.Field) -> bool:
    try:
        validate.check("", value, field)
    except SpecError:
        return False
    return True


#: list_runs' columns: its key, what the value must be, and what a value that is not is shown as
_LISTED: tuple[tuple[str, validate.Field, Any], ...] = (
    ("id", validate.whole_field(0, 2**63 - 1), 0),
    ("started_at", validate.RUN_FIELDS["started_at"], 0.0),
    ("workload", validate.OPTIONAL_TEXT, None),
    ("executor", validate.OPTIONAL_TEXT, None),
    ("tasks", validate.whole_field(0, MAX_TASKS), 0),
    ("workers", (validate.RUN_FIELDS["workers"][0], True), None),
    ("wall_seconds", (validate.SECONDS[0], True), None),
    ("status", validate.OPTIONAL_TEXT, None),
    ("speedup", validate.SUMMARY_NUMBER, None),
    ("finished", validate.whole_field(0, 1), 1),
)
_LISTED_KEYS = tuple(key for key, _, _ in _LISTED)


def dumps(value: Any) -> str:
    """A value as the compact JSON text a column holds."""
    return json.dumps(value, separators=(",", ":"))


def _to_int64(value: int) -> int:
    """Thread ids are unsigned 64-bit on some platforms; SQLite stores signed ones."""
    return value - (1 << 64) if value >= _INT64 else value


def _from_int64(value: int) -> int:
    return value + (1 << 64) if type(value) is int and value < 0 else value  # else: for the check to name


def _decoded(text: Any, where: str) -> Any:
    """A stored JSON column's value; a SpecError naming ``where`` when it holds no JSON."""
    try:
        return json.loads(text)
    except (TypeError, ValueError, RecursionError):
        raise validate.refuse(where, text, "JSON text, as ConcGUI stores it") from None


# --- writing -------------------------------------------------------------------
def task_row(run_id: int, t: TaskRecord) -> tuple:
    """A task record as the tasks table's row (in :func:`insert_tasks`' column order)."""
    return (run_id, t.index, t.worker, t.pid, _to_int64(t.thread_id), t.submitted, t.start, t.end,
            t.cpu_seconds, t.status, None if t.error is None else dumps(t.error), t.sent_seconds,
            t.returned_seconds, t.value)


def insert_tasks(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Insert (or replace) task rows, ``ROWS_PER_INSERT`` to a statement."""
    full = len(rows) - len(rows) % ROWS_PER_INSERT
    if full:
        conn.executemany(_TASK_INSERT + ", ".join([_TASK_VALUES] * ROWS_PER_INSERT),
                         [list(chain.from_iterable(rows[k:k + ROWS_PER_INSERT]))
                          for k in range(0, full, ROWS_PER_INSERT)])
    if full < len(rows):
        conn.executemany(_TASK_INSERT + _TASK_VALUES, rows[full:])


def replace_series(conn: sqlite3.Connection, run_id: int, result: RunResult) -> None:
    """Write a run's CPU samples, thread states and memory samples in place of any it has (inside the
    caller's transaction)."""
    conn.execute("DELETE FROM cpu_samples WHERE run_id = ?", (run_id,))
    conn.executemany(
        "INSERT INTO cpu_samples (run_id, seq, t, per_core, tree_percent) VALUES (?, ?, ?, ?, ?)",
        [(run_id, k, s.t, dumps(s.per_core), s.tree_percent) for k, s in enumerate(result.cpu_samples)],
    )
    conn.execute("DELETE FROM thread_states WHERE run_id = ?", (run_id,))
    conn.executemany(
        "INSERT INTO thread_states (run_id, seq, t, interval, lanes) VALUES (?, ?, ?, ?, ?)",
        [(run_id, k, s.t, s.interval, dumps(s.lanes)) for k, s in enumerate(result.thread_states)],
    )
    conn.execute("DELETE FROM memory_samples WHERE run_id = ?", (run_id,))
    conn.executemany(
        "INSERT INTO memory_samples (run_id, seq, t, per_pid) VALUES (?, ?, ?, ?)",
        [(run_id, k, s.t, dumps(s.per_pid)) for k, s in enumerate(result.memory_samples)],
    )


# --- reading -------------------------------------------------------------------
def listed(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """One small dict per run, newest first, without reading any task rows; a value the history should
    never hold is shown as unknown (``_LISTED``) and the run's status as ``damaged``."""
    rows = conn.execute(
        "SELECT id, started_at, workload, executor, task_count, workers, wall_seconds, status, speedup, "
        "finished FROM runs ORDER BY started_at DESC, id DESC"
    ).fetchall()
    columns = list(zip(*rows, strict=True)) or [()] * len(_LISTED)
    bad = set()
    for column, (_, field, _) in zip(columns, _LISTED, strict=True):
        if not validate.column_ok(list(column), field):
            bad.update(i for i, v in enumerate(column) if not _passes(v, field))
    out = [{**dict(zip(_LISTED_KEYS, row, strict=True)), "finished": bool(row[-1])} for row in rows]
    for i in bad:
        r = out[i]
        for key, field, unknown in _LISTED:
            if not _passes(r[key], field):
                r[key] = unknown
        r["status"], r["finished"] = "damaged", True
    return out


def read_run(conn: sqlite3.Connection, run_id: int) -> RunResult:
    """The run's rows as a result, each stored JSON text decoded: KeyError when the history has no such run,
    a SpecError naming a stored text that is not JSON.  The values are not checked here (the caller does)."""
    row = conn.execute(_RUN_SELECT, (run_id,)).fetchone()
    if row is None:
        raise KeyError(f"run {run_id} is not in the history")
    spec, env, status, error, started_at, startup, wall, workers, summary, version = row
    tasks = [
        TaskRecord(i, w, pid, _from_int64(tid), sub, start, end, cpu, st,
                   None if err is None else _decoded(err, f"tasks[{i}].error"), sent, returned, value)
        for i, w, pid, tid, sub, start, end, cpu, st, err, sent, returned, value
        in conn.execute(_TASK_SELECT, (run_id,))
    ]
    samples = [
        CpuSample(t, _decoded(per_core, f"cpu_samples[{k}].per_core"), tree)
        for k, (t, per_core, tree) in enumerate(conn.execute(
            "SELECT t, per_core, tree_percent FROM cpu_samples WHERE run_id = ? ORDER BY seq", (run_id,)))
    ]
    states = []
    for k, (t, interval, lanes) in enumerate(conn.execute(
            "SELECT t, interval, lanes FROM thread_states WHERE run_id = ? ORDER BY seq", (run_id,))):
        lanes = _decoded(lanes, f"thread_states[{k}].lanes")
        if isinstance(lanes, dict):  # shares as the tuples a result holds; anything else is refused by check
            lanes = {name: tuple(v) if isinstance(v, list) else v for name, v in lanes.items()}
        states.append(ThreadStates(t, interval, lanes))
    memory = []
    for k, (t, per_pid) in enumerate(conn.execute(
            "SELECT t, per_pid FROM memory_samples WHERE run_id = ? ORDER BY seq", (run_id,))):
        per_pid = _decoded(per_pid, f"memory_samples[{k}].per_pid")
        if isinstance(per_pid, dict):  # pids as the numbers a result holds; anything else is refused by check
            try:
                per_pid = {int(pid): v for pid, v in per_pid.items()}
            except ValueError:
                raise SpecError(f"memory_samples[{k}].per_pid", "has a key that is not a process id") from None
        memory.append(MemorySample(t, per_pid))
    return RunResult(
        spec=_decoded(spec, "spec"), environment=_decoded(env, "environment"), status=status, error=error,
        started_at=started_at, startup_seconds=startup,
        wall_seconds=wall if wall is not None else 0.0,
        workers=workers if workers is not None else 1,
        tasks=tasks, cpu_samples=samples, thread_states=states, memory_samples=memory,
        summary=_decoded(summary, "summary") if summary else {}, version=version,
    )

"""Run history in SQLite: every run a person made, reopenable in every view.

Qt-free (standard library ``sqlite3``), so it is tested and used without a
window.  One file in the user data directory, in WAL mode so a crash never
leaves it half written.  A run is written in three steps so a long run is
kept even if the app is killed: :meth:`HistoryStore.begin_run` writes its
row before the first task, :meth:`~HistoryStore.add_tasks` appends finished
tasks in batches, and :meth:`~HistoryStore.finish_run` closes it.
:meth:`~HistoryStore.save` does all three in one transaction.

Threads: a store holds one ``sqlite3`` connection, which refuses to be used
from any thread but the one that made it.  The window makes and uses its
store on the GUI thread only; a worker that wants history opens its own.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from itertools import chain, compress
from operator import attrgetter, is_not
from pathlib import Path
from typing import Any

from .engine import validate
from .engine.paths import user_data_dir
from .engine.records import RESULT_VERSION, CpuSample, MemorySample, RunResult, TaskRecord, ThreadStates
from .engine.spec import EXECUTOR_KINDS, MAX_TASKS, SpecError, executor_label

SCHEMA_VERSION = 1
FILE_NAME = "history.sqlite3"
#: seconds a write waits for another writer (a second ConcGUI) to let go of the file before it gives up
BUSY_TIMEOUT = 5.0
#: seconds SQLite's own check of every page may take when the window opens the file (about 0.12 s per 30 MB
#: here); a bigger history is checked as far as this goes, and damage beyond is found when a write meets it
DAMAGE_CHECK_SECONDS = 0.5
RUNNING_STATUS = "running"  # the status of a run begun and not (yet) finished

_SCHEMA = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    spec TEXT NOT NULL,              -- ExperimentSpec.to_dict() as JSON
    environment TEXT NOT NULL,       -- environment() as JSON
    workload TEXT,                   -- copied out of spec, so list_runs reads no JSON
    executor TEXT,
    task_count INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    error TEXT,
    pid INTEGER,
    startup_seconds REAL NOT NULL DEFAULT 0,
    wall_seconds REAL,
    workers INTEGER,
    speedup REAL,
    summary TEXT,                    -- summarize() as JSON
    version INTEGER NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0 CHECK (finished IN (0, 1))
);
CREATE INDEX runs_by_time ON runs (started_at);
CREATE TABLE tasks (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    worker TEXT NOT NULL,
    pid INTEGER NOT NULL,
    thread_id INTEGER NOT NULL,
    submitted REAL,
    start REAL,
    "end" REAL,
    cpu_seconds REAL NOT NULL,
    status TEXT NOT NULL,
    error TEXT,                      -- {"type", "message", "traceback"} as JSON, or NULL
    sent_seconds REAL NOT NULL DEFAULT 0,      -- added since schema 1: see _TASK_COLUMNS_ADDED
    returned_seconds REAL NOT NULL DEFAULT 0,
    value INTEGER,
    PRIMARY KEY (run_id, idx)
) WITHOUT ROWID;
CREATE TABLE cpu_samples (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,            -- order of the samples
    t REAL NOT NULL,
    per_core TEXT NOT NULL,          -- list of percents as JSON
    tree_percent REAL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
"""
#: tables added since schema 1, created where missing at every open: an addition keeps the version,
#: so a ConcGUI from before it still opens the file (it sets aside a file of a newer version)
_ADDED = """
CREATE TABLE IF NOT EXISTS thread_states (  -- the GIL X-ray's series: one row per probe interval
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    t REAL NOT NULL,
    interval REAL NOT NULL,
    lanes TEXT NOT NULL,             -- {lane: [on a core, waiting, blocked]} as JSON
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS memory_samples (  -- each process's memory (USS, else RSS), every probe memory reading
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    t REAL NOT NULL,
    per_pid TEXT NOT NULL,           -- {pid: bytes} as JSON
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID
"""

#: the tasks table's columns added since schema 1, added where missing at every open (as _ADDED's tables):
#: a ConcGUI from before them still opens the file and writes its rows, which get the defaults
_TASK_COLUMNS_ADDED = (("sent_seconds", "REAL NOT NULL DEFAULT 0"), ("returned_seconds", "REAL NOT NULL DEFAULT 0"),
                       ("value", "INTEGER"))

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
_INT64 = 1 << 63
_INDEX = attrgetter("index")


class HistoryError(RuntimeError):
    """The history file cannot be used; the message says why and what to do."""


class InvalidRun(ValueError):
    """A run with a value :mod:`concgui.engine.validate` refuses: not written, or found so when read back."""


def _checked(prefix: str, check: Any, *args: Any) -> None:
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


class _NewerSchema(sqlite3.DatabaseError):
    """The file has a schema version this ConcGUI does not know."""


class _ForeignSchema(sqlite3.DatabaseError):
    """The file holds tables by ConcGUI's names that are not ConcGUI's (another program's file)."""


class _Damaged(sqlite3.DatabaseError):
    """SQLite's own check found damaged pages."""


def default_path() -> Path:
    return user_data_dir() / FILE_NAME


def _dumps(value: Any) -> str:
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


def _insert_tasks(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Insert (or replace) task rows, ``ROWS_PER_INSERT`` to a statement."""
    full = len(rows) - len(rows) % ROWS_PER_INSERT
    if full:
        conn.executemany(_TASK_INSERT + ", ".join([_TASK_VALUES] * ROWS_PER_INSERT),
                         [list(chain.from_iterable(rows[k:k + ROWS_PER_INSERT]))
                          for k in range(0, full, ROWS_PER_INSERT)])
    if full < len(rows):
        conn.executemany(_TASK_INSERT + _TASK_VALUES, rows[full:])


def _task_row(run_id: int, t: TaskRecord) -> tuple:
    return (run_id, t.index, t.worker, t.pid, _to_int64(t.thread_id), t.submitted, t.start, t.end,
            t.cpu_seconds, t.status, None if t.error is None else _dumps(t.error), t.sent_seconds,
            t.returned_seconds, t.value)


def recorder_running(pid: Any, started_at: Any) -> bool:
    """Whether ``pid``, which began a run's row at ``started_at``, is another ConcGUI process that still runs:
    it exists, is not a zombie, started before the run (a pid reused since started later) and its command
    line names concgui (``concgui run``, ``python -m concgui``, the frozen app)."""
    if type(pid) is not int or pid <= 0 or pid == os.getpid() or not isinstance(started_at, int | float):
        return False
    try:
        import psutil

        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE or proc.create_time() > started_at + 1.0:
            return False
        return any("concgui" in part.lower() for part in proc.cmdline())
    except Exception:  # noqa: BLE001 - gone, not ours to see, or no psutil: not known to run
        return False


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    """Whether an error means the file is damaged (not, say, locked or read-only)."""
    if isinstance(exc, _Damaged):
        return True
    name = getattr(exc, "sqlite_errorname", "")
    if name:
        return name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or name.startswith("SQLITE_CORRUPT_")
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text


def explain(exc: sqlite3.Error, path: Path, busy_timeout: float) -> str:
    """What a SQLite error means for a person, naming the file."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return (f"the run history {path} is locked by another program (another ConcGUI?) and stayed "
                f"locked for {busy_timeout:g} s")
    if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        return f"the run history {path} is read-only (its file or folder cannot be written)"
    if name == "SQLITE_FULL" or "disk is full" in text or "database or disk is full" in text:
        return f"the disk holding the run history {path} is full"
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return f"the run history {path} cannot be opened ({exc})"
    if _is_corruption(exc):
        return (f"the run history {path} is damaged ({exc}); ConcGUI sets it aside and starts a new one "
                "when it next opens")
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        return f"the run history {path} could not be written: a disk error ({exc})"
    return f"the run history {path} failed: {exc}"


@functools.cache
def _columns() -> dict[str, frozenset[str]]:
    """Each table's columns as this ConcGUI makes them: a file whose tables lack one is not a history it can use."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(_SCHEMA + ";" + _ADDED)
        return {t: frozenset(c[1] for c in conn.execute(f"PRAGMA table_info({t})"))
                for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def _add_task_columns(conn: sqlite3.Connection) -> None:
    """Add the tasks table's columns added since schema 1 where a ConcGUI history lacks them."""
    found = {c[1] for c in conn.execute("PRAGMA table_info(tasks)")}
    added = {name for name, _ in _TASK_COLUMNS_ADDED}
    if not found or found >= added or not found >= _columns()["tasks"] - added:
        return  # no table yet, nothing missing, or not ConcGUI's table (_check_tables says so)
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = {c[1] for c in conn.execute("PRAGMA table_info(tasks)")}  # another ConcGUI may have added them
        for name, kind in _TASK_COLUMNS_ADDED:
            if name not in found:
                conn.execute(f"ALTER TABLE tasks ADD COLUMN {name} {kind}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _check_tables(conn: sqlite3.Connection) -> None:
    """Raise _ForeignSchema when a table by one of ConcGUI's names lacks a column ConcGUI reads."""
    for table, wanted in _columns().items():
        found = {c[1] for c in conn.execute(f"PRAGMA table_info({table})")}
        missing = sorted(wanted - found)
        if found and missing:
            raise _ForeignSchema(f"it is not a ConcGUI history: its table {table} has no column "
                                 f"{', '.join(missing[:3])}{' …' if len(missing) > 3 else ''}")


def _check_pages(conn: sqlite3.Connection, budget: float) -> None:
    """SQLite's quick_check of every page, given up (silently) after ``budget`` seconds; _Damaged if it fails."""
    deadline = time.monotonic() + budget
    conn.set_progress_handler(lambda: time.monotonic() > deadline, 20_000)
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc).lower():
            return  # out of time: a write that meets damage beyond this point says so
        raise
    finally:
        conn.set_progress_handler(None, 0)
    if rows != [("ok",)]:
        raise _Damaged(f"SQLite's check of the file failed: {rows[0][0]}")


class HistoryStore:
    """Past runs in one SQLite file; ``notice`` says when it had to start a new one."""

    def __init__(self, path: str | os.PathLike | None = None, busy_timeout: float | None = None,
                 check_pages: bool = True) -> None:
        self.path = Path(path) if path is not None else default_path()
        #: seconds a write waits for another writer (default BUSY_TIMEOUT); the window's own connection
        #: uses a short one, its writer thread the default
        self.busy_timeout = busy_timeout = BUSY_TIMEOUT if busy_timeout is None else busy_timeout
        #: check every page when opening (DAMAGE_CHECK_SECONDS at most), so a file damaged where only the
        #: task rows are is set aside now, not found when a finished run's tasks fail to go in
        self._check_pages = check_pages
        #: a sentence for the window when the history file had to be replaced, else None
        self.notice: str | None = None
        self._depth = 0  # nesting of _transaction()
        # the records add_tasks wrote, per open run and by index: finish_run writes only the others
        self._written: dict[int, dict[int, TaskRecord]] = {}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(f"cannot create the folder of the run history {self.path}: {exc}") from exc
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc) and not isinstance(exc, (_NewerSchema, _ForeignSchema)):
                raise HistoryError(f"cannot open: {explain(exc, self.path, busy_timeout)}") from exc
            try:
                kept = self._move_aside()
            except OSError as err:  # e.g. its folder is read-only: it stays where it is, unused
                raise HistoryError(f"cannot open: the run history {self.path} cannot be used ({exc}) and "
                                   f"could not be set aside ({err.strerror or err})") from exc
            self.notice = (f"The run history {self.path.name} could not be read ({exc}); "
                           f"it was kept as {kept.name} and a new, empty history was started.")
            try:
                self._conn = self._open()
            except sqlite3.DatabaseError as err:
                raise HistoryError(f"cannot open: {explain(err, self.path, busy_timeout)}") from err

    # --- opening -----------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        # transactions are explicit; timeout: SQLite retries a locked write for this long
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=self.busy_timeout)
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal" and str(self.path) != ":memory:":
                raise HistoryError(f"cannot switch {self.path} to WAL mode (it is in {mode} mode)")
            conn.execute("PRAGMA synchronous = NORMAL")  # safe in WAL mode; may lose only the last commit
            conn.execute("PRAGMA foreign_keys = ON")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise _NewerSchema(f"it was written by a newer ConcGUI (schema {version}, "
                                   f"this one reads up to {SCHEMA_VERSION})")
            if version < SCHEMA_VERSION:
                conn.execute("BEGIN IMMEDIATE")
                # another ConcGUI may have made the file while this one waited for the lock
                if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                    if ours := conn.execute("SELECT name FROM sqlite_master WHERE name IN "
                                            "('runs', 'tasks', 'cpu_samples')").fetchone():
                        raise _ForeignSchema(f"it is not a ConcGUI history: it has a table {ours[0]} "
                                             "but no ConcGUI schema version")
                    for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            _add_task_columns(conn)
            _check_tables(conn)
            for statement in _ADDED.split(";"):
                conn.execute(statement)
            conn.execute("SELECT COUNT(*) FROM runs").fetchone()  # reads a page: finds damage early
            if self._check_pages and str(self.path) != ":memory:":
                _check_pages(conn, DAMAGE_CHECK_SECONDS)
        except BaseException:
            conn.close()
            raise
        return conn

    def _move_aside(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        os.replace(self.path, target)
        for suffix in ("-wal", "-shm"):  # SQLite's side files belong to the damaged file
            side = Path(str(self.path) + suffix)
            if side.exists():
                os.replace(side, Path(str(target) + suffix))
        return target

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction; nested uses join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self._conn
            finally:
                self._depth -= 1
            return
        try:
            self._conn.execute("BEGIN")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._depth = 0
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self._conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:  # locked, read-only, full, I/O, damaged: say which, naming the file
            if not isinstance(exc, sqlite3.OperationalError) and not _is_corruption(exc):
                raise
            self._depth = 0
            if self._conn.in_transaction:
                try:
                    self._conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise HistoryError(explain(exc, self.path, self.busy_timeout)) from exc

    # --- writing -----------------------------------------------------------------
    def begin_run(self, spec: dict[str, Any], environment: dict[str, Any], started_at: float,
                  pid: int) -> int:
        """Write a run's row before its first task; returns its id (InvalidRun for a value :mod:`validate`
        refuses: nothing is written). ``pid``: the process that records the run as it goes (while it lives,
        the run is not interrupted: :meth:`recorded_elsewhere`)."""
        _checked("", validate.check_spec, spec)
        _checked("", validate.check_environment, environment)
        _checked("", validate.check, "started_at", started_at, validate.RUN_FIELDS["started_at"])
        with self._transaction() as c:
            cur = c.execute(
                "INSERT INTO runs (started_at, spec, environment, workload, executor, task_count, status, "
                "pid, version, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (started_at, _dumps(spec), _dumps(environment), spec.get("workload"), spec.get("executor"),
                 int(spec.get("tasks") or 0), RUNNING_STATUS, pid, RESULT_VERSION),
            )
        run_id = int(cur.lastrowid)
        self._written[run_id] = {}
        return run_id

    def add_tasks(self, run_id: int, records: Iterable[TaskRecord]) -> None:
        """Append (or update) finished tasks of an open run, in one transaction (none if one is invalid)."""
        records = sorted(records, key=_INDEX)
        _checked("", validate.check_tasks, records, False)
        with self._transaction() as c:
            _insert_tasks(c, [_task_row(run_id, t) for t in records])
        written = self._written.get(run_id)
        if written is not None:
            written.update(zip(map(_INDEX, records), records, strict=True))

    def finish_run(self, run_id: int, result: RunResult) -> None:
        """Close a run with its result: tasks not yet written (or changed), samples and numbers; a result
        :mod:`validate` refuses is not written (InvalidRun), and the run stays open."""
        _checked("", validate.check_run, result)
        written = self._written.pop(run_id, {})
        tasks = result.tasks
        # only the records not written as they are (a record never changes once made: compared by
        # identity, in C-level passes, not by building and comparing rows: a run may hold 100,000)
        seen = map(written.get, map(_INDEX, tasks))
        rows = [_task_row(run_id, t) for t in compress(tasks, map(is_not, seen, tasks))]
        spec = result.spec
        with self._transaction() as c:
            if c.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                raise KeyError(f"run {run_id} is not in the history")
            _insert_tasks(c, rows)
            stored = c.execute("SELECT COUNT(*) FROM tasks WHERE run_id = ?", (run_id,)).fetchone()[0]
            if stored != len(tasks):  # rows written earlier that the result does not have
                keep = {t.index for t in tasks}
                extra = [(run_id, i) for (i,) in c.execute("SELECT idx FROM tasks WHERE run_id = ?", (run_id,))
                         if i not in keep]
                c.executemany("DELETE FROM tasks WHERE run_id = ? AND idx = ?", extra)
            c.execute("DELETE FROM cpu_samples WHERE run_id = ?", (run_id,))
            c.executemany(
                "INSERT INTO cpu_samples (run_id, seq, t, per_core, tree_percent) VALUES (?, ?, ?, ?, ?)",
                [(run_id, k, s.t, _dumps(s.per_core), s.tree_percent) for k, s in enumerate(result.cpu_samples)],
            )
            c.execute("DELETE FROM thread_states WHERE run_id = ?", (run_id,))
            c.executemany(
                "INSERT INTO thread_states (run_id, seq, t, interval, lanes) VALUES (?, ?, ?, ?, ?)",
                [(run_id, k, s.t, s.interval, _dumps(s.lanes)) for k, s in enumerate(result.thread_states)],
            )
            c.execute("DELETE FROM memory_samples WHERE run_id = ?", (run_id,))
            c.executemany(
                "INSERT INTO memory_samples (run_id, seq, t, per_pid) VALUES (?, ?, ?, ?)",
                [(run_id, k, s.t, _dumps(s.per_pid)) for k, s in enumerate(result.memory_samples)],
            )
            c.execute(
                "UPDATE runs SET started_at = ?, spec = ?, environment = ?, workload = ?, executor = ?, "
                "task_count = ?, status = ?, error = ?, pid = COALESCE(?, pid), startup_seconds = ?, "
                "wall_seconds = ?, workers = ?, speedup = ?, summary = ?, version = ?, finished = 1 "
                "WHERE id = ?",
                (result.started_at, _dumps(spec), _dumps(result.environment), spec.get("workload"),
                 spec.get("executor"), len(result.tasks), result.status, result.error,
                 result.environment.get("pid"), result.startup_seconds, result.wall_seconds, result.workers,
                 result.summary.get("speedup"), _dumps(result.summary), result.version, run_id),
            )

    def save(self, result: RunResult) -> int:
        """Save a whole run in one transaction; returns its id."""
        with self._transaction():
            run_id = self.begin_run(result.spec, result.environment, result.started_at,
                                    result.environment.get("pid", 0))
            self.finish_run(run_id, result)
        return run_id

    def delete(self, run_id: int) -> None:
        """Remove a run with its tasks, samples and thread states (a missing id is not an error)."""
        self._written.pop(run_id, None)
        with self._transaction() as c:
            c.execute("DELETE FROM runs WHERE id = ?", (run_id,))  # ON DELETE CASCADE does the rest

    # --- reading -----------------------------------------------------------------
    def list_runs(self) -> list[dict[str, Any]]:
        """One small dict per run, newest first, without reading any task rows.

        A value the history should never hold (the file edited, or written by a ConcGUI before the
        schema check) is shown as unknown (None, 0 for its time and tasks) and the run's status as
        ``damaged``, so the list always draws; opening that run says what is wrong (:meth:`load`).
        """
        rows = self._conn.execute(
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
        variants = self._variants()
        for r in out:  # "joblib (loky)": a variant is read from the spec's JSON, for the executors that have one
            variant = variants.get(r["id"])
            r["executor_label"] = executor_label({"executor": r["executor"], **variant}) if variant else r["executor"]
        elsewhere = self.recorded_elsewhere()
        for r in out:  # a run not finished that another process still records is running there, not interrupted
            r["recorded_by"] = None if r["finished"] else elsewhere.get(r["id"])
        return out

    def _variants(self) -> dict[int, dict[str, str | None]]:
        """{run id: {variant field: its text, or None}} for the runs whose executor has a variant (joblib's
        backend): one query, SQLite reading each spec's JSON (a spec that is not JSON reads as the default)."""
        out: dict[int, dict[str, str | None]] = {}
        for name, kind in EXECUTOR_KINDS.items():
            if kind.variant_field:
                rows = self._conn.execute(
                    "SELECT id, CASE WHEN json_valid(spec) THEN json_extract(spec, ?) END FROM runs "
                    "WHERE executor = ?", (f"$.{kind.variant_field}", name))
                out.update((i, {kind.variant_field: v if isinstance(v, str) else None}) for i, v in rows)
        return out

    def load(self, run_id: int) -> RunResult:
        """The run as saved (a run never finished comes back with status ``running``, and only the tasks it
        finished), every value checked by :mod:`validate`: InvalidRun names the first that is wrong."""
        row = self._conn.execute(
            "SELECT spec, environment, status, error, started_at, startup_seconds, wall_seconds, workers, "
            "summary, version FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        if row is None:
            raise KeyError(f"run {run_id} is not in the history")
        prefix = f"run {run_id} in the history is damaged: "
        try:
            result = self._load(run_id, row)
        except SpecError as exc:
            raise InvalidRun(f"{prefix}{exc}") from None
        _checked(prefix, validate.check_run, result, False)
        return result

    def _load(self, run_id: int, row: tuple) -> RunResult:
        """The run's rows as a result, each stored JSON text decoded (a SpecError names one that is not JSON);
        the values are checked after, by :meth:`load`."""
        spec, env, status, error, started_at, startup, wall, workers, summary, version = row
        tasks = [
            TaskRecord(i, w, pid, _from_int64(tid), sub, start, end, cpu, st,
                       None if err is None else _decoded(err, f"tasks[{i}].error"), sent, returned, value)
            for i, w, pid, tid, sub, start, end, cpu, st, err, sent, returned, value
            in self._conn.execute(_TASK_SELECT, (run_id,))
        ]
        samples = [
            CpuSample(t, _decoded(per_core, f"cpu_samples[{k}].per_core"), tree)
            for k, (t, per_core, tree) in enumerate(self._conn.execute(
                "SELECT t, per_core, tree_percent FROM cpu_samples WHERE run_id = ? ORDER BY seq", (run_id,)))
        ]
        states = []
        for k, (t, interval, lanes) in enumerate(self._conn.execute(
                "SELECT t, interval, lanes FROM thread_states WHERE run_id = ? ORDER BY seq", (run_id,))):
            lanes = _decoded(lanes, f"thread_states[{k}].lanes")
            if isinstance(lanes, dict):  # shares as the tuples a result holds; anything else is refused by check
                lanes = {name: tuple(v) if isinstance(v, list) else v for name, v in lanes.items()}
            states.append(ThreadStates(t, interval, lanes))
        memory = []
        for k, (t, per_pid) in enumerate(self._conn.execute(
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

    def unfinished(self, elsewhere: bool = True) -> list[int]:
        """Ids of runs begun and never finished: the app was killed or crashed, or (``elsewhere``, not left
        out) another process still records them (:meth:`recorded_elsewhere`)."""
        ids = [i for (i,) in self._conn.execute("SELECT id FROM runs WHERE finished = 0 ORDER BY id")]
        if not elsewhere:
            going = self.recorded_elsewhere()
            ids = [i for i in ids if i not in going]
        return ids

    def recorded_elsewhere(self) -> dict[int, int]:
        """{run id: pid} of the runs not finished that another live process (``concgui run``, a second
        window) still records: each row keeps the pid of the process that began it (:meth:`begin_run`)."""
        rows = self._conn.execute("SELECT id, pid, started_at FROM runs WHERE finished = 0").fetchall()
        return {i: pid for i, pid, started_at in rows if recorder_running(pid, started_at)}

    def integrity_check(self) -> str:
        """SQLite's own check of the file: ``"ok"`` when it is sound."""
        return "\n".join(r[0] for r in self._conn.execute("PRAGMA integrity_check"))

    def close(self) -> None:
        """Close the connection (also checkpoints the WAL into the main file)."""
        self._written.clear()
        self._conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

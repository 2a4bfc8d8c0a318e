"""The history file and its one connection: opened (a damaged one set aside), written in transactions,
and read.

A run is written in three steps so a long run is kept even if the app is killed: :meth:`HistoryStore.begin_run`
writes its row before the first task, :meth:`~HistoryStore.add_tasks` appends finished tasks in batches, and
:meth:`~HistoryStore.finish_run` closes it. :meth:`~HistoryStore.save` does all three in one transaction.

Threads: a store holds one ``sqlite3`` connection, which refuses to be used from any thread but the one that
made it.  The window makes and uses its store on the GUI thread only; a worker that wants history opens its own.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from itertools import compress
from operator import attrgetter, is_not
from pathlib import Path
from typing import Any

from ..engine import validate
from ..engine.paths import user_data_dir
from ..engine.records import RESULT_VERSION, RunResult, TaskRecord
from ..engine.spec import EXECUTOR_KINDS, SpecError, executor_label
from . import schema
from .errors import ForeignSchema, HistoryError, NewerSchema, explain, is_corruption
from .rows import InvalidRun, checked, dumps, insert_tasks, listed, read_run, replace_series, task_row

FILE_NAME = "history.sqlite3"
#: seconds a write waits for another writer (a second ConcGUI) to let go of the file before it gives up
BUSY_TIMEOUT = 5.0
#: seconds SQLite's own check of every page may take when the window opens the file (about 0.12 s per 30 MB
#: here); a bigger history is checked as far as this goes, and damage beyond is found when a write meets it
DAMAGE_CHECK_SECONDS = 0.5
RUNNING_STATUS = "running"  # the status of a run begun and not (yet) finished

_INDEX = attrgetter("index")


def default_path() -> Path:
    """Where the history lives: in the user data directory."""
    return user_data_dir() / FILE_NAME


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
            if not is_corruption(exc) and not isinstance(exc, (NewerSchema, ForeignSchema)):
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
            schema.prepare(conn)
            conn.execute("SELECT COUNT(*) FROM runs").fetchone()  # reads a page: finds damage early
            if self._check_pages and str(self.path) != ":memory:":
                schema.check_pages(conn, DAMAGE_CHECK_SECONDS)
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
            if not isinstance(exc, sqlite3.OperationalError) and not is_corruption(exc):
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
        checked("", validate.check_spec, spec)
        checked("", validate.check_environment, environment)
        checked("", validate.check, "started_at", started_at, validate.RUN_FIELDS["started_at"])
        with self._transaction() as c:
            cur = c.execute(
                "INSERT INTO runs (started_at, spec, environment, workload, executor, task_count, status, "
                "pid, version, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (started_at, dumps(spec), dumps(environment), spec.get("workload"), spec.get("executor"),
                 int(spec.get("tasks") or 0), RUNNING_STATUS, pid, RESULT_VERSION),
            )
        run_id = int(cur.lastrowid)
        self._written[run_id] = {}
        return run_id

    def add_tasks(self, run_id: int, records: Iterable[TaskRecord]) -> None:
        """Append (or update) finished tasks of an open run, in one transaction (none if one is invalid)."""
        records = sorted(records, key=_INDEX)
        checked("", validate.check_tasks, records, False)
        with self._transaction() as c:
            insert_tasks(c, [task_row(run_id, t) for t in records])
        written = self._written.get(run_id)
        if written is not None:
            written.update(zip(map(_INDEX, records), records, strict=True))

    def finish_run(self, run_id: int, result: RunResult) -> None:
        """Close a run with its result: tasks not yet written (or changed), samples and numbers; a result
        :mod:`validate` refuses is not written (InvalidRun), and the run stays open."""
        checked("", validate.check_run, result)
        written = self._written.pop(run_id, {})
        tasks = result.tasks
        # only the records not written as they are (a record never changes once made: compared by
        # identity, in C-level passes, not by building and comparing rows: a run may hold 100,000)
        seen = map(written.get, map(_INDEX, tasks))
        rows = [task_row(run_id, t) for t in compress(tasks, map(is_not, seen, tasks))]
        spec = result.spec
        with self._transaction() as c:
            if c.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                raise KeyError(f"run {run_id} is not in the history")
            insert_tasks(c, rows)
            stored = c.execute("SELECT COUNT(*) FROM tasks WHERE run_id = ?", (run_id,)).fetchone()[0]
            if stored != len(tasks):  # rows written earlier that the result does not have
                keep = {t.index for t in tasks}
                extra = [(run_id, i) for (i,) in c.execute("SELECT idx FROM tasks WHERE run_id = ?", (run_id,))
                         if i not in keep]
                c.executemany("DELETE FROM tasks WHERE run_id = ? AND idx = ?", extra)
            replace_series(c, run_id, result)
            c.execute(
                "UPDATE runs SET started_at = ?, spec = ?, environment = ?, workload = ?, executor = ?, "
                "task_count = ?, status = ?, error = ?, pid = COALESCE(?, pid), startup_seconds = ?, "
                "wall_seconds = ?, workers = ?, speedup = ?, summary = ?, version = ?, finished = 1 "
                "WHERE id = ?",
                (result.started_at, dumps(spec), dumps(result.environment), spec.get("workload"),
                 spec.get("executor"), len(result.tasks), result.status, result.error,
                 result.environment.get("pid"), result.startup_seconds, result.wall_seconds, result.workers,
                 result.summary.get("speedup"), dumps(result.summary), result.version, run_id),
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
        out = listed(self._conn)
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
        prefix = f"run {run_id} in the history is damaged: "
        try:
            result = read_run(self._conn, run_id)
        except SpecError as exc:
            raise InvalidRun(f"{prefix}{exc}") from None
        checked(prefix, validate.check_run, result, False)
        return result

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

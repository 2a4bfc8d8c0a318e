"""The history file's tables: made in a new file, brought up to date in an older one, and checked.

Additions since schema 1 (tables, and columns of the tasks table) keep the version: they are made where
missing at every open, so a ConcGUI from before them still opens the file.  A file of a newer version, or
one whose tables by ConcGUI's names are another program's, is refused (set aside by the store).
"""

from __future__ import annotations

import functools
import sqlite3
import time

from .errors import Damaged, ForeignSchema, NewerSchema

SCHEMA_VERSION = 1

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


def prepare(conn: sqlite3.Connection) -> None:
    """Make ConcGUI's tables in a new file, or add the ones (and columns) added since an older ConcGUI made
    it; NewerSchema or ForeignSchema for a file this ConcGUI cannot use."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise NewerSchema(f"it was written by a newer ConcGUI (schema {version}, "
                          f"this one reads up to {SCHEMA_VERSION})")
    if version < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        # another ConcGUI may have made the file while this one waited for the lock
        if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
            if ours := conn.execute("SELECT name FROM sqlite_master WHERE name IN "
                                    "('runs', 'tasks', 'cpu_samples')").fetchone():
                raise ForeignSchema(f"it is not a ConcGUI history: it has a table {ours[0]} "
                                    "but no ConcGUI schema version")
            for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    _add_task_columns(conn)
    _check_tables(conn)
    for statement in _ADDED.split(";"):
        conn.execute(statement)


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
    """Raise ForeignSchema when a table by one of ConcGUI's names lacks a column ConcGUI reads."""
    for table, wanted in _columns().items():
        found = {c[1] for c in conn.execute(f"PRAGMA table_info({table})")}
        missing = sorted(wanted - found)
        if found and missing:
            raise ForeignSchema(f"it is not a ConcGUI history: its table {table} has no column "
                                f"{', '.join(missing[:3])}{' …' if len(missing) > 3 else ''}")


def check_pages(conn: sqlite3.Connection, budget: float) -> None:
    """SQLite's quick_check of every page, given up (silently) after ``budget`` seconds; Damaged if it fails."""
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
        raise Damaged(f"SQLite's check of the file failed: {rows[0][0]}")

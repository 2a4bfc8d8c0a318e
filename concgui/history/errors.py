"""What can be wrong with the history file, and the sentence a person reads about it.

A file that is damaged, of a newer schema or another program's is set aside and a new one started
(:class:`~concgui.history.store.HistoryStore` asks :func:`is_corruption`); one that is locked, read-only
or on a full disk is left alone and :func:`explain` says so, naming the file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class HistoryError(RuntimeError):
    """The history file cannot be used; the message says why and what to do."""


class NewerSchema(sqlite3.DatabaseError):
    """The file has a schema version this ConcGUI does not know."""


class ForeignSchema(sqlite3.DatabaseError):
    """The file holds tables by ConcGUI's names that are not ConcGUI's (another program's file)."""


class Damaged(sqlite3.DatabaseError):
    """SQLite's own check found damaged pages."""


def is_corruption(exc: sqlite3.DatabaseError) -> bool:
    """Whether an error means the file is damaged (not, say, locked or read-only)."""
    if isinstance(exc, Damaged):
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
    if is_corruption(exc):
        return (f"the run history {path} is damaged ({exc}); ConcGUI sets it aside and starts a new one "
                "when it next opens")
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        return f"the run history {path} could not be written: a disk error ({exc})"
    return f"the run history {path} failed: {exc}"

"""Run history in SQLite: every run a person made, reopenable in every view.

Qt-free (standard library ``sqlite3``), so it is tested and used without a window.  One file in the user
data directory, in WAL mode so a crash never leaves it half written.

- :mod:`.store`: :class:`HistoryStore`, the file and its connection: opening, transactions, writing a run
  as it goes, listing and loading (its knobs: ``BUSY_TIMEOUT``, ``DAMAGE_CHECK_SECONDS``)
- :mod:`.schema`: the tables, made or brought up to date when a file opens, and the checks of its tables
  and pages
- :mod:`.rows`: a run as rows (tasks, series, the list of runs), and the checks a value passes on the way
  in and out (:class:`InvalidRun`)
- :mod:`.errors`: what can be wrong with the file (damaged, foreign, newer, locked, read-only, full) and
  the sentence a person reads (:class:`HistoryError`, :func:`explain`)
"""

from __future__ import annotations

from .errors import HistoryError, explain
from .rows import InvalidRun
from .schema import SCHEMA_VERSION
from .store import FILE_NAME, RUNNING_STATUS, HistoryStore, default_path, recorder_running

__all__ = [
    "FILE_NAME",
    "RUNNING_STATUS",
    "SCHEMA_VERSION",
    "HistoryError",
    "HistoryStore",
    "InvalidRun",
    "default_path",
    "explain",
    "recorder_running",
]

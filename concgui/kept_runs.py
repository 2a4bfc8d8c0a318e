"""Runs the history could not take, kept as run files: which folder they go to, and saying so truly.

Qt-free, used by the window's history writer and keeper.  A run goes to the first folder that takes
its file: ``unsaved-runs/`` in the data directory, else ``concgui-unsaved-runs/`` in the temporary
folder (the data disk is full or read-only).  What says where a run is names the file it was
written to, never the folder it was meant for.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from .engine.exports import save_result
from .engine.paths import user_data_dir
from .engine.records import RunResult

UNSAVED_FOLDER = "unsaved-runs"  # under the data dir
TEMP_FOLDER = "concgui-unsaved-runs"  # under the temporary folder, when the data dir takes nothing
PROBE_BYTES = 16 * 1024  # what a folder must take to count as usable: a full disk refuses it, a 0-byte file not


def folders() -> list[Path]:
    """Where runs are kept, in the order they are tried."""
    return [user_data_dir() / UNSAVED_FOLDER, Path(tempfile.gettempdir()) / TEMP_FOLDER]


def usable_folder() -> Path | None:
    """The first of :func:`folders` that takes a small file now (made if missing), or None."""
    for folder in folders():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".probe-", dir=folder)
            try:
                os.write(fd, b"\0" * PROBE_BYTES)
            finally:
                os.close(fd)
                os.unlink(probe)
        except OSError:
            continue
        return folder
    return None


def keep(result: RunResult, first: Path | None = None) -> tuple[Path, list[str]]:
    """Write ``result`` as a run file in the first folder that takes it (``first``, then :func:`folders`).

    Returns the file and why each folder tried before it could not take it; raises OSError naming
    every folder when none could.
    """
    tried: list[str] = []
    order = [first] if first is not None else []
    for folder in order + [f for f in folders() if f != first]:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = _free_name(folder, result)
            save_result(path, result)
        except OSError as exc:
            tried.append(f"{folder} ({exc.strerror or exc})")
            continue
        return path, tried
    raise OSError(f"no folder took it: {'; '.join(tried)}")


def _free_name(folder: Path, result: RunResult) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(result.started_at or time.time()))
    n = 1
    while (path := folder / f"run-{stamp}-{n}.json").exists():
        n += 1
    return path

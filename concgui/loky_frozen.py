"""A frozen app that loky starts as its Python: do what loky asked for, never open a window.

loky (joblib's process pool) starts each worker as ``<python> -m
joblib.externals.loky.backend.popen_loky_posix --process-name N --pipe FD`` and its resource tracker as
``<python> [flags] -c "from joblib.externals.loky.backend.resource_tracker import main; main(FD, V)"``.  In
a frozen app ``<python>`` is the app itself, and PyInstaller's ``freeze_support()`` knows neither command
(only multiprocessing's own), so the app's entry point calls :func:`divert` first.  On Windows loky starts
workers with ``--multiprocessing-fork``, which ``freeze_support()`` handles.  Imports nothing heavy: it
runs before anything else in every process the app starts.
"""

from __future__ import annotations

import sys

WORKER_MODULE = "joblib.externals.loky.backend.popen_loky_posix"
TRACKER = "from joblib.externals.loky.backend.resource_tracker import main"


def divert(argv: list[str] | None = None) -> None:
    """In a frozen app started as one of loky's helper processes, be that process and exit; else return."""
    if not getattr(sys, "frozen", False):
        return
    argv = sys.argv if argv is None else argv
    if len(argv) > 2 and argv[1] == "-m" and argv[2] == WORKER_MODULE:
        import runpy

        sys.argv = [argv[0], *argv[3:]]  # what the module's argparse reads
        runpy.run_module(WORKER_MODULE, run_name="__main__", alter_sys=True)
        sys.exit(0)  # the module exits by itself; this is for a module that returns
    if "-c" in argv[1:]:
        at = argv.index("-c")
        command = argv[at + 1] if at + 1 < len(argv) else ""
        if command.startswith(TRACKER):
            exec(command)  # noqa: S102 - loky's own one-line command, as PyInstaller runs multiprocessing's
            sys.exit(0)

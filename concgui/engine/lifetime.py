"""Processes that end with the process that started them, and take what they started with them.

Why: a watch that needs the GIL (a thread polling the parent, a pipe reader) cannot run while a task
holds the GIL in C code (a regex, a C extension's loop): a worker, or the engine, outlived a killed app
for as long as its task ran.  On Linux the kernel watches instead: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``
(:func:`die_with_parent`).  Elsewhere that returns False and callers keep a watch of their own
(:func:`concgui.engine.worker.watch_parent`).

The kernel's rules: the signal is set per *thread* and is not inherited by a forked child, so every
child sets it on its main thread, right after it starts; and it fires when the *thread* that started the
child ends, so a child is started from a thread that outlives it (the run's own, the engine's main).

Process groups: what a task starts (a forked child, a shell's ``sleep``) is nobody's to list, but it
stays in the process group it was born in unless it leaves on purpose.  A worker process leads a group of
its own (:func:`start_own_group`) and the run's end kills that group (:func:`kill_group`); the engine
process leads one that its parent kills once the engine has ended, so no descendant holds its pipes.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
#: the exit code of a child whose parent was already gone when it set its watch (as worker.watch_parent's)
ORPHANED_EXIT = 70


def die_with_parent(parent: int | None = None) -> bool:
    """Have the kernel SIGKILL this process as soon as its parent process ends, whatever holds the GIL.

    Call it on the main thread, first thing.  ``parent``: the pid of the process that started this one
    (the engine, for a worker its forkserver forked); if it has already ended, the kernel would never
    fire, so this process exits at once.  Returns True where the kernel watches (Linux), else False.
    """
    before = os.getppid()
    if not _set_parent_death_signal(signal.SIGKILL):
        return False
    if os.getppid() != before or (parent is not None and not alive(parent)):
        os._exit(ORPHANED_EXIT)  # the parent ended before the watch was set
    return True


def _set_parent_death_signal(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):  # no C library to ask (an odd build): the caller's own watch remains
        return False


def alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie (ended, not yet reaped) counts as ended."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except (OSError, IndexError):
        pass  # no /proc here: ask the kernel by signal 0
    if os.name == "posix":
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        import psutil

        return psutil.pid_exists(pid)
    except ImportError:  # without psutil on Windows it cannot be told: assume it runs
        return True


def start_own_group() -> None:
    """Make this process the leader of a process group of its own, which its descendants join."""
    if hasattr(os, "setpgid"):
        try:
            os.setpgid(0, 0)
        except OSError:  # a session leader already leads its group
            pass


def own_group() -> dict[str, Any]:
    """``subprocess.Popen`` arguments that start a child leading its own process group (POSIX)."""
    if os.name != "posix":
        return {}
    # process_group (3.11+) keeps the terminal; a new session (3.10) is the only way there without preexec_fn
    return {"process_group": 0} if sys.version_info >= (3, 11) else {"start_new_session": True}


def kill_group(pgid: int) -> bool:
    """SIGKILL every process of group ``pgid`` (never this process's own group); True if any was there."""
    if not hasattr(os, "killpg") or pgid <= 1 or pgid == os.getpgrp():
        return False
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def wait_unreaped(pid: int) -> None:
    """Block until child ``pid`` has ended, without reaping it: until it is reaped its pid, and so its
    group's id, cannot be taken by another process."""
    if hasattr(os, "waitid"):
        try:
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        except ChildProcessError:
            pass  # already reaped
        return
    import time

    while alive(pid):
        time.sleep(0.05)

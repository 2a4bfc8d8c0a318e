"""Real full and read-only file systems for the fault tests: a tmpfs mounted in the test's folder.

Mounting needs root (or CAP_SYS_ADMIN); where it is refused, the tests that need it are skipped
with the reason.  Nothing is simulated: writes fail with the kernel's own ENOSPC and EROFS.
"""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest


def mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(folder)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here to make a real full or read-only disk: {out.stderr.strip()}")


def unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], check=False)


class SmallDisk:
    """A 256 KB file system; :meth:`fill` makes it full."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fill(self) -> None:
        try:
            with open(self.path / "filler", "wb") as f:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
        except OSError:
            pass  # full

    def free(self) -> None:
        (self.path / "filler").unlink(missing_ok=True)


class ReadOnlyDisk:
    """A file system that :meth:`seal` makes read-only once files were put in it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def seal(self) -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(self.path)], check=True)


@pytest.fixture
def small_disk(tmp_path):
    folder = tmp_path / "disk"
    mount_tmpfs(folder, "256k")
    yield SmallDisk(folder)
    unmount(folder)


@pytest.fixture
def read_only_disk(tmp_path):
    folder = tmp_path / "ro"
    mount_tmpfs(folder, "4m")
    yield ReadOnlyDisk(folder)
    unmount(folder)


def descendants(pid: int) -> set[int]:
    """Pids of every process below ``pid``."""
    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return set()


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (zombies count as gone)."""
    out = set()
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.add(pid)
        except psutil.Error:
            pass
    return out


def run_killing_first_worker(spec) -> tuple[object, int, float]:
    """Run ``spec``, SIGKILL the process of the first task seen starting: (result, its pid, seconds taken)."""
    from concgui.engine import TaskStarted, start

    victims: list[int] = []
    started = threading.Event()

    def on_events(events) -> None:
        for e in events:
            if isinstance(e, TaskStarted) and not victims:
                victims.append(e.pid)
                started.set()

    r = start(spec, on_events)
    killer = threading.Thread(target=lambda: started.wait(30) and os.kill(victims[0], signal.SIGKILL),
                              name="test-killer")
    killer.start()
    t0 = time.monotonic()
    try:
        result = r.execute()
    finally:
        started.set()
        killer.join()
    return result, victims[0] if victims else 0, time.monotonic() - t0


def write_hanging_module(folder: Path, name: str, release: Path) -> None:
    """A module whose import blocks until ``release`` exists (at most 30 s); it defines ``f``."""
    (folder / f"{name}.py").write_text(textwrap.dedent(f"""\
        import os, time
        deadline = time.monotonic() + 30
        while not os.path.exists({str(release)!r}) and time.monotonic() < deadline:
            time.sleep(0.02)

        def f():
            pass
        """))


def wait_gone(pids: set[int], seconds: float) -> tuple[set[int], float]:
    """Wait up to ``seconds`` for every one of ``pids`` to end: (those still alive, seconds waited)."""
    t0 = time.monotonic()
    left = alive(pids)
    while left and time.monotonic() - t0 < seconds:
        time.sleep(0.02)
        left = alive(left)
    return left, time.monotonic() - t0


def kill_all(pids: set[int]) -> None:
    """SIGKILL whatever of ``pids`` still runs (a test's leftovers, so the next tests do not pay for them)."""
    for pid in alive(pids):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def wait_for_notes(folder: Path, prefix: str, n: int, proc: subprocess.Popen | None = None,
                   timeout: float = 60.0) -> list[int]:
    """The pids in the first ``n`` notes named ``<prefix>-<index>`` a task wrote in ``folder``."""
    deadline = time.monotonic() + timeout
    while True:
        notes = sorted(folder.glob(f"{prefix}-*"))
        pids = [int(p.read_text().split()[0]) for p in notes if p.read_text().strip()]
        if len(pids) >= n:
            return pids[:n]
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read()[-2000:] if proc.stderr else ""
            raise AssertionError(f"it ended before {n} {prefix} notes: {err}")
        assert time.monotonic() < deadline, f"no {n} {prefix} notes within {timeout:g} s"
        time.sleep(0.02)


def describe(pids: set[int]) -> list[str]:
    out = []
    for pid in pids:
        try:
            out.append(f"{pid}: {' '.join(psutil.Process(pid).cmdline())[:120]}")
        except psutil.Error:
            out.append(str(pid))
    return out


#: an app whose slot raises at once, leaving the "unexpected error" box open; prints "box shown" when it is
#: (F9: SIGTERM must end it anyway)
BOX_SCRIPT = textwrap.dedent("""\
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication(sys.argv[:1])

    def slot_raises():
        raise RuntimeError("a bug in a slot")

    def box_shown():
        if any(isinstance(w, QMessageBox) and w.isVisible() for w in app.topLevelWidgets()):
            print("box shown", flush=True)
        else:
            QTimer.singleShot(50, box_shown)

    QTimer.singleShot(300, slot_raises)
    QTimer.singleShot(350, box_shown)
    from concgui.gui.app import run_app
    sys.exit(run_app())
    """)

#: a process that runs the given SQL statements on a database (argv[1]) and holds what they took (a lock, an
#: exclusive mode) until its stdin closes; prints "held" once it does
HOLD = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
for statement in sys.argv[2:]:
    conn.execute(statement).fetchall()
print("held", flush=True)
sys.stdin.read()
"""

"""A private X server (Xvfb) and window polling, to measure and check the frozen app's window.

Used by build_linux.py (time to window) and tests/test_packaging.py (one
window only, also while worker processes run).  Xvfb picks a free display
itself (``-displayfd``), so parallel runs never collide; windows are found
with ``xdotool search --onlyvisible`` (mapped windows only).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

WINDOW_TITLE = "^ConcGUI"  # regex: the main window's title starts with the app name


def missing_tools() -> list[str]:
    """The programs this module needs that are not installed."""
    return [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]


class Xvfb:
    """``with Xvfb() as display:`` a fresh X server on a free display, stopped afterwards."""

    def __init__(self, size: str = "1280x800x24", timeout: float = 10.0) -> None:
        self.size = size
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None
        self.display = ""

    def __enter__(self) -> str:
        read_fd, write_fd = os.pipe()
        try:
            self.proc = subprocess.Popen(
                ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", self.size, "-nolisten", "tcp", "-noreset"],
                pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        finally:
            os.close(write_fd)
        number = b""
        deadline = time.monotonic() + self.timeout
        with os.fdopen(read_fd, "rb") as pipe:
            while not number.endswith(b"\n") and time.monotonic() < deadline:
                chunk = pipe.read(1)
                if not chunk:
                    break
                number += chunk
        if not number.strip().isdigit():
            self.__exit__(None, None, None)
            raise RuntimeError("Xvfb did not start (no display number reported)")
        self.display = f":{int(number)}"
        return self.display

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def visible_windows(display: str, title: str = WINDOW_TITLE) -> list[str]:
    """Ids of the mapped windows whose title matches ``title`` on ``display``."""
    env = dict(os.environ, DISPLAY=display)
    result = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title],
                            capture_output=True, text=True, env=env, check=False)
    return result.stdout.split()


def app_env(display: str, **extra: str) -> dict[str, str]:
    """The environment for the app on ``display`` with the xcb platform and a private data folder."""
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
    env.pop("WAYLAND_DISPLAY", None)
    env.update(extra)
    return env


def stop(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """End ``proc`` (SIGTERM, then SIGKILL) and reap it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def time_to_window(command: Sequence[str], display: str, env: dict[str, str] | None = None,
                   timeout: float = 20.0, settle: float = 1.0) -> tuple[float, int]:
    """Start ``command``; seconds until its window is visible, and the windows shown ``settle`` s later.

    The app is stopped afterwards.  Raises TimeoutError when no window appears.
    """
    env = env or app_env(display)
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(command), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while time.perf_counter() - t0 < timeout:
            if visible_windows(display):
                seconds = time.perf_counter() - t0
                time.sleep(settle)
                return seconds, len(visible_windows(display))
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
                raise RuntimeError(f"the app exited with code {proc.returncode} before showing a window:\n{err}")
            time.sleep(0.01)
        raise TimeoutError(f"no window titled {title_hint()} within {timeout:g} s")
    finally:
        stop(proc)
        if proc.stderr:
            proc.stderr.close()


def title_hint() -> str:
    return WINDOW_TITLE.lstrip("^")


def max_windows_while_running(command: Sequence[str], display: str, env: dict[str, str] | None = None,
                              timeout: float = 120.0) -> tuple[int, int]:
    """Run ``command`` to its end, polling the app's windows; (most windows seen at once, exit code)."""
    env = env or app_env(display)
    most = 0
    proc = subprocess.Popen(list(command), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            most = max(most, len(visible_windows(display)))
            time.sleep(0.05)
        if proc.poll() is None:
            raise TimeoutError(f"{Path(command[0]).name} still running after {timeout:g} s")
        return most, proc.returncode
    finally:
        stop(proc)

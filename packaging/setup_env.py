"""Set up ConcGUI's environment, then open the app or run the test suite.

Usage (standard library only, any python3 >= 3.10):
    python3 packaging/setup_env.py run [app args...]
    python3 packaging/setup_env.py test [pytest args...]

Set-up: missing Debian packages are installed with apt when we are root (or have
password-less sudo), ``.venv`` is created when missing or broken, and
``pip install -e '.[dev,package,dask]'`` runs only when pyproject.toml changed since the last install.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".concgui-installed"
MIN_PYTHON = (3, 10)

APP_PACKAGES = (
    "libgl1 libegl1 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 "
    "libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 "
    "libxcb-xfixes0 libxcb-xinerama0 libxcb-xinput0 libxcb-shm0 libxcb-sync1 libxcb-xkb1 "
    "libx11-xcb1 libglib2.0-0"
).split()
TEST_PACKAGES = ("xvfb", "xauth")
# For tests/test_packaging.py (installers); best effort: without them those tests skip or check less.
PACKAGING_TOOLS = ("desktop-file-utils", "appstream", "nsis", "xdotool", "binutils", "squashfs-tools")
EXTRAS = "dev,package,dask"  # package: PyInstaller, for the installer tests; dask: the Dask executor
EXIT_MISSING_PACKAGES = 3


def say(message: str) -> None:
    """Print one progress line."""
    print(f"concgui setup: {message}", flush=True)


def required_packages(mode: str, need_venv_package: bool) -> list[str]:
    """Debian packages needed for ``mode`` ("run" or "test")."""
    packages = list(APP_PACKAGES)
    if mode == "test":
        packages += TEST_PACKAGES
    if need_venv_package:
        packages.append("python3-venv")
    return packages


def parse_dpkg_status(output: str) -> set[str]:
    """Installed package names from ``dpkg-query -W -f='${Package} ${Status}\\n'`` output."""
    installed = set()
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 2 and words[-1] == "installed":
            installed.add(words[0])
    return installed


def missing_packages(required: list[str], installed: set[str]) -> list[str]:
    """The required packages that are not installed, in their original order."""
    return [name for name in required if name not in installed]


def install_hint(missing: list[str]) -> str:
    """One message naming the missing packages and the command that installs them."""
    names = " ".join(missing)
    return (
        f"concgui setup: missing system packages: {names}\n"
        f"  install them with: sudo apt-get update && sudo apt-get install -y --no-install-recommends {names}"
    )


def installed_packages(names: list[str]) -> set[str] | None:
    """Which of ``names`` dpkg reports installed; None when dpkg-query is not available."""
    if shutil.which("dpkg-query") is None:
        return None
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${Status}\\n", *names],
        capture_output=True,
        text=True,
        check=False,
    )
    return parse_dpkg_status(result.stdout)


def apt_prefix() -> list[str] | None:
    """Command prefix to run apt-get as root, or None when apt is not usable."""
    if shutil.which("apt-get") is None:
        return None
    env = ["env", "DEBIAN_FRONTEND=noninteractive"]
    if os.geteuid() == 0:
        return env
    if shutil.which("sudo") is None:
        return None
    probe = subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False)
    return ["sudo", "-n", *env] if probe.returncode == 0 else None


def ensure_system_packages(required: list[str]) -> list[str]:
    """Install missing packages with apt when possible; return those still missing."""
    installed = installed_packages(required)
    if installed is None:
        say("no dpkg-query (not Debian?): skipping the system package check")
        return []
    missing = missing_packages(required, installed)
    prefix = apt_prefix() if missing else None
    if missing and prefix is not None:
        say(f"installing system packages: {' '.join(missing)}")
        if subprocess.run([*prefix, "apt-get", "update"], check=False).returncode == 0:
            subprocess.run([*prefix, "apt-get", "install", "-y", "--no-install-recommends", *missing], check=False)
        missing = missing_packages(required, installed_packages(required) or set())
    return missing


def venv_works() -> bool:
    """True when .venv/bin/python exists and runs."""
    try:
        if not VENV_PYTHON.exists():
            return False
        return subprocess.run([str(VENV_PYTHON), "-c", "pass"], capture_output=True, check=False).returncode == 0
    except OSError:
        return False


def has_ensurepip() -> bool:
    """True when this python can create a venv with pip (Debian needs python3-venv)."""
    try:
        import ensurepip  # noqa: F401
    except ImportError:
        return False
    return True


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ensure_venv() -> None:
    """Create .venv when missing or broken, and install the project when pyproject.toml changed."""
    pip = [str(VENV_PYTHON), "-m", "pip", "--disable-pip-version-check"]
    if not venv_works():
        say(f"creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    digest = f"{file_sha256(ROOT / 'pyproject.toml')} [{EXTRAS}]"
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        say(".venv is up to date")
        return
    say(f"installing concgui and its dependencies into .venv (pip install -e '.[{EXTRAS}]')")
    subprocess.run([*pip, "install", "-e", f".[{EXTRAS}]"], cwd=ROOT, check=True)
    STAMP.write_text(digest + "\n")


def main(argv: list[str]) -> int:
    """Set up, then run the app or the tests; return the exit code."""
    if sys.version_info < MIN_PYTHON:
        print(f"concgui setup: Python >= 3.10 is required, this is {sys.version.split()[0]} ({sys.executable})")
        return 1
    if not argv or argv[0] not in ("run", "test"):
        print(__doc__)
        return 2
    mode, args = argv[0], argv[1:]
    need_venv_package = not venv_works() and not has_ensurepip()
    missing = ensure_system_packages(required_packages(mode, need_venv_package))
    if missing:
        print(install_hint(missing), flush=True)
        if mode == "test" or "python3-venv" in missing:
            return EXIT_MISSING_PACKAGES
    if mode == "test":
        tools_missing = ensure_system_packages(list(PACKAGING_TOOLS))
        if tools_missing:
            say(f"installer tests will check less without: {' '.join(tools_missing)}")
    try:
        ensure_venv()
    except subprocess.CalledProcessError as error:
        say(f"failed: {' '.join(map(str, error.cmd))} (exit code {error.returncode})")
        return error.returncode or 1
    python = str(VENV_PYTHON)
    if mode == "run":
        return subprocess.run([python, "main.py", *args], cwd=ROOT, check=False).returncode
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    say("ruff check .")
    ruff = subprocess.run([python, "-m", "ruff", "check", "."], cwd=ROOT, env=env, check=False).returncode
    if ruff != 0:
        return ruff
    say("pytest " + " ".join(args))
    return subprocess.run([python, "-m", "pytest", *args], cwd=ROOT, env=env, check=False).returncode


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
        sys.exit(128 - code if code < 0 else code)  # a child killed by signal N exits 128+N
    except KeyboardInterrupt:
        sys.exit(130)

"""Checks of a built Linux bundle: missing system libraries, and the packages that provide them.

Why: PyInstaller only *warns* when a library that a Qt plugin needs is
missing on the build machine (libqxcb.so needs libxcb-cursor.so.0, ...),
and the bundle then fails at start-up on every machine.  ``ldd`` over every
ELF file in the bundle, with the bundle's own folders on the library path
(as the bootloader sets it at run time), finds them at build time instead.
The libraries it resolves outside the bundle are the system's part of the
app: ``dpkg -S`` turns them into the ``.deb``'s Depends.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
#: The Depends of a PySide6 bundle on Debian 12, for a build host without dpkg.
BASELINE_DEPENDS = (
    "libc6", "libstdc++6", "libgcc-s1", "zlib1g", "libglib2.0-0", "libdbus-1-3", "libfontconfig1",
    "libfreetype6", "libgl1", "libegl1", "libx11-6", "libx11-xcb1", "libxkbcommon0", "libxkbcommon-x11-0",
    "libxcb1", "libxcb-cursor0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1", "libxcb-randr0",
    "libxcb-render-util0", "libxcb-render0", "libxcb-shape0", "libxcb-shm0", "libxcb-sync1", "libxcb-xfixes0",
    "libxcb-xkb1",
)


class BundleError(RuntimeError):
    """The bundle cannot work; the message says what is missing and how to get it."""


def elf_files(root: Path) -> list[Path]:
    """Every ELF file (executables, shared libraries, extension modules) under ``root``."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            try:
                with path.open("rb") as fh:
                    if fh.read(4) == ELF_MAGIC:
                        found.append(path)
            except OSError:
                continue
    return found


def needed_libraries(path: Path) -> list[str]:
    """The DT_NEEDED entries of an ELF file: the libraries it links to directly (not transitively)."""
    data = path.read_bytes()
    if data[:4] != ELF_MAGIC:
        return []
    is64, little = data[4] == 2, data[5] == 1
    e = "<" if little else ">"
    if is64:
        phoff, = struct.unpack_from(e + "Q", data, 0x20)
        phentsize, phnum = struct.unpack_from(e + "HH", data, 0x36)
    else:
        phoff, = struct.unpack_from(e + "I", data, 0x1C)
        phentsize, phnum = struct.unpack_from(e + "HH", data, 0x2A)
    loads, dynamic = [], None
    for i in range(phnum):
        at = phoff + i * phentsize
        if is64:
            p_type, _flags, offset, vaddr, _paddr, filesz = struct.unpack_from(e + "IIQQQQ", data, at)
        else:
            p_type, offset, vaddr, _paddr, filesz = struct.unpack_from(e + "IIIII", data, at)
        if p_type == 1:  # PT_LOAD
            loads.append((vaddr, offset, filesz))
        elif p_type == 2:  # PT_DYNAMIC
            dynamic = (offset, filesz)
    if dynamic is None:
        return []
    entry = struct.Struct(e + ("qQ" if is64 else "iI"))
    needed, strtab = [], None
    for at in range(dynamic[0], dynamic[0] + dynamic[1], entry.size):
        tag, value = entry.unpack_from(data, at)
        if tag == 0:  # DT_NULL
            break
        if tag == 1:  # DT_NEEDED: an offset into the string table
            needed.append(value)
        elif tag == 5:  # DT_STRTAB: an address, mapped to a file offset below
            strtab = next((value - vaddr + offset for vaddr, offset, size in loads
                           if vaddr <= value < vaddr + size), None)
    if strtab is None:
        return []
    return [data[strtab + n:data.index(b"\0", strtab + n)].decode() for n in needed]


def library_dirs(root: Path) -> list[Path]:
    """Folders of the bundle that hold shared libraries (the bootloader puts _internal on the path)."""
    internal = root / "_internal"
    dirs = [internal if internal.is_dir() else root]
    dirs += sorted({p.parent for p in root.rglob("*.so*") if p.parent not in dirs})
    return dirs


def parse_ldd(output: str) -> tuple[list[str], dict[str, str]]:
    """From ``ldd`` output: the names not found, and {name: resolved path} for the others."""
    missing, resolved = [], {}
    for line in output.splitlines():
        line = line.strip()
        m = re.match(r"(\S+) => not found", line)
        if m:
            missing.append(m.group(1))
            continue
        m = re.match(r"(\S+) => (/\S+) \(0x[0-9a-f]+\)", line)
        if m:
            resolved[m.group(1)] = m.group(2)
    return missing, resolved


def _ldd(path: Path, env: dict[str, str]) -> tuple[Path, str]:
    result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env, check=False)
    return path, result.stdout


def scan(root: Path, files: Iterable[Path] | None = None) -> tuple[dict[str, list[str]], dict[str, str]]:
    """ldd over the bundle: {missing soname: [files needing it]}, {soname: system path} outside it.

    The system libraries are those a bundled file links to directly (ldd also lists
    the libraries of those libraries, which their own packages take care of).
    """
    if shutil.which("ldd") is None:
        raise BundleError("ldd is not available: cannot check the bundle's libraries")
    root = root.resolve()
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(str(d) for d in library_dirs(root))
    missing: dict[str, list[str]] = {}
    system: dict[str, str] = {}
    targets = list(files) if files is not None else elf_files(root)
    with ThreadPoolExecutor(max_workers=min(16, (os.cpu_count() or 2) * 2)) as pool:
        for path, output in pool.map(lambda p: _ldd(p, env), targets):
            not_found, resolved = parse_ldd(output)
            for name in not_found:
                missing.setdefault(name, []).append(str(path.relative_to(root)))
            direct = set(needed_libraries(path))
            for name, where in resolved.items():
                if name in direct and root not in Path(where).resolve().parents:
                    system[name] = where
    return missing, system


def guess_debian_package(soname: str) -> str:
    """Debian's usual package name for a library: libxcb-cursor.so.0 -> libxcb-cursor0."""
    m = re.match(r"(lib.+?)\.so\.(\d+)", soname)
    if not m:
        return soname
    stem, major = m.group(1).lower(), m.group(2)
    return f"{stem}-{major}" if stem[-1].isdigit() else f"{stem}{major}"


def check_libraries(root: Path) -> dict[str, str]:
    """Raise BundleError naming every library the bundle needs but the build machine lacks.

    Returns {soname: system path} of the system libraries the bundle uses.
    """
    missing, system = scan(root)
    if missing:
        lines = [f"  {name}  (needed by {', '.join(sorted(users)[:3])}{' ...' if len(users) > 3 else ''})"
                 for name, users in sorted(missing.items())]
        system = sorted(n for n in missing if not re.match(r"lib(Qt\d|pyside|shiboken)", n))
        hints = []
        if system:
            packages = " ".join(sorted({guess_debian_package(n) for n in system}))
            hints.append(f"install {', '.join(system)} (on Debian/Ubuntu probably: sudo apt-get install {packages})")
        if len(system) < len(missing):
            hints.append("Qt/PySide6 libraries are missing from the bundle: reinstall PySide6-Essentials, "
                         "or keep them in packaging/qt_prune.py")
        raise BundleError(
            "the bundle needs libraries that are not installed on this build machine, so it would fail "
            "at start-up:\n" + "\n".join(lines) + "\n" + "; ".join(hints) + ", then build again"
        )
    return system


def verify_or_exit(root: Path) -> None:
    """:func:`check_libraries` for the spec: a clear message and a non-zero exit of PyInstaller."""
    try:
        check_libraries(root)
    except BundleError as exc:
        raise SystemExit(f"\nERROR: {root.name} was collected but could not start on any machine: {exc}\n") from None


def dpkg_packages(paths: Iterable[str]) -> dict[str, str]:
    """{path: Debian package} for the paths dpkg knows (usr-merged paths are tried both ways)."""
    if shutil.which("dpkg") is None:
        return {}
    owners: dict[str, str] = {}
    patterns = sorted({"*/" + Path(p).name for p in paths})
    if not patterns:
        return owners
    result = subprocess.run(["dpkg", "-S", *patterns], capture_output=True, text=True, check=False)
    by_name: dict[str, str] = {}
    for line in result.stdout.splitlines():
        if line.startswith("diversion ") or ": " not in line:
            continue
        packages, path = line.split(": ", 1)
        by_name.setdefault(Path(path).name, packages.split(",")[0].strip().split(":")[0])
    for p in paths:
        name = Path(p).name
        if name in by_name:
            owners[p] = by_name[name]
    return owners


def glibc_version() -> str | None:
    """This machine's glibc version ("2.36"): the oldest a bundle built here can run on."""
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        return None
    m = re.search(r"(\d+\.\d+)", text)
    return m.group(1) if m else None


def derive_depends(system_libraries: dict[str, str]) -> list[str]:
    """The .deb Depends: the packages that own the system libraries the bundle links to.

    Qt links its platform libraries (libxcb-cursor, libEGL, libdbus ...)
    directly, so ldd sees them all; without dpkg the Debian 12 list is used.
    """
    owners = dpkg_packages(system_libraries.values())
    names = set(owners.values()) or set(BASELINE_DEPENDS)
    depends = []
    glibc = glibc_version()
    for name in sorted(names):
        depends.append(f"{name} (>= {glibc})" if name == "libc6" and glibc else name)
    return depends


def strip_python_libraries(root: Path) -> list[Path]:
    """Strip debug symbols from the bundle's copies of Python's own libraries (libpython, lib-dynload).

    Wheels ship stripped libraries, and strip breaks auditwheel-patched ones
    (numpy's OpenBLAS), so nothing else is touched.  Returns the files
    stripped (none when ``strip`` is not installed).
    """
    if shutil.which("strip") is None:
        return []
    internal = root / "_internal"
    candidates = [p for p in internal.glob("libpython*.so*") if p.is_file() and not p.is_symlink()]
    candidates += sorted(internal.glob("python3*/lib-dynload/*.so"))
    for path in candidates:
        subprocess.run(["strip", "--strip-debug", str(path)], check=True)
    return candidates

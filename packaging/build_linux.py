"""Build ConcGUI's Linux installers from one PyInstaller bundle.

Usage (from the repository, with the packaging extra installed:
``pip install -e '.[package]'``, plus dpkg-deb, and for the checks
desktop-file-utils, appstream, nsis, xvfb, xdotool)::

    python packaging/build_linux.py [--out DIR] [--formats deb,tar,appdir]
                                    [--appimage-runtime FILE] [--compression gzip|zstd|xz]

Produces in ``--out`` (default ``dist/``):

* ``concgui/`` the one-folder bundle (PyInstaller; its build fails when a
  library the Qt plugins need is missing on this machine);
* ``concgui_<version>_<arch>.deb``: the app in /opt/concgui, /usr/bin/concgui,
  a .desktop entry, hicolor icons, AppStream metainfo, Depends derived from the
  system libraries the bundle links to;
* ``concgui-<version>-linux-<arch>.tar.gz``: the portable bundle;
* ``ConcGUI.AppDir``: runs as it is (``ConcGUI.AppDir/AppRun``);
* ``ConcGUI-<version>-<arch>.AppImage`` only when an AppImage runtime file is
  given (``--appimage-runtime`` or ``$APPIMAGE_RUNTIME``), as appimagetool
  would download one (needs mksquashfs).

Then it validates the metadata, smoke-tests the bundle, measures the time
to the window under a private Xvfb and writes the figures (sizes, build
time, time to window) to ``build/packaging-figures.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import stat
import subprocess
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bundle_check  # noqa: E402
import project_meta  # noqa: E402
import xserver  # noqa: E402

ROOT = project_meta.ROOT
SPEC = HERE / "concgui.spec"
TEMPLATES = HERE / "linux"
FIGURES = ROOT / "build" / "packaging-figures.json"
HICOLOR_SIZES = (16, 24, 32, 48, 64, 128, 256)
FORMATS = ("deb", "tar", "appdir", "appimage")
RECOMMENDS = ("libgl1-mesa-dri", "fonts-dejavu-core")
WINDOW_RUNS = 3


class BuildError(RuntimeError):
    """A step failed; the message says which and why."""


def say(message: str) -> None:
    print(f"build_linux: {message}", flush=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command; BuildError with its output when it fails."""
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-4000:]
        raise BuildError(f"{' '.join(map(str, cmd))} failed (exit code {result.returncode}):\n{output}")
    return result


def deb_arch() -> str:
    """Debian's name for this machine's architecture (amd64 ...)."""
    if shutil.which("dpkg"):
        return run(["dpkg", "--print-architecture"]).stdout.strip()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def dir_size(path: Path) -> int:
    """Bytes of the regular files under ``path`` (symlinks not followed)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def mb(size: int) -> float:
    return round(size / 1e6, 1)


# --- the bundle --------------------------------------------------------------------------
def build_bundle(out: Path, work: Path) -> Path:
    """Run PyInstaller on the spec; the one-folder bundle's path."""
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise BuildError("PyInstaller is not installed here: pip install -e '.[package]'") from None
    meta = project_meta.load()
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", str(out), "--workpath", str(work), str(SPEC)]
    say("PyInstaller " + " ".join(cmd[3:]))
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError("PyInstaller failed:\n" + (result.stdout + result.stderr).strip()[-6000:])
    bundle = out / meta.name
    if not (bundle / meta.name).is_file():
        raise BuildError(f"PyInstaller made no {bundle / meta.name}")
    return bundle


def smoke_test(executable: Path, version: str) -> None:
    """``--version`` must print this version: the bundle starts, and pyproject agrees with the code."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    text = run([str(executable), "--version"], env=env, timeout=60).stdout.strip()
    if text.split()[-1:] != [version]:
        raise BuildError(f"{executable} --version printed {text!r}; pyproject.toml says {version}")


# --- the files every Linux format installs ---------------------------------------------------
def fill(template: str, meta: project_meta.ProjectMeta) -> str:
    """A template from packaging/linux with @NAME@-style fields filled in."""
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    fields = {
        "NAME": meta.name, "COMMAND": meta.name, "APP_NAME": meta.app_name, "APP_ID": meta.app_id,
        "VERSION": meta.version, "DESCRIPTION": meta.description, "LICENSE": meta.license,
        "DEVELOPER": meta.maintainer.split("<")[0].strip(), "CATEGORIES": "".join(c + ";" for c in meta.categories),
        "DATE": release_date(),
    }
    for key, value in fields.items():
        text = text.replace(f"@{key}@", value)
    return text


def release_date() -> str:
    """The date of the last commit (reproducible), else today."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return dt.datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), dt.timezone.utc).date().isoformat()
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%cs"], cwd=ROOT, capture_output=True, text=True,
                             check=False).stdout.strip()
    except OSError:
        out = ""
    return out or dt.date.today().isoformat()


def install_share(share: Path, meta: project_meta.ProjectMeta) -> None:
    """The desktop entry, icons and metainfo under a ``share`` folder (usr/share)."""
    (share / "applications").mkdir(parents=True, exist_ok=True)
    (share / "applications" / f"{meta.app_id}.desktop").write_text(fill("app.desktop.in", meta))
    (share / "metainfo").mkdir(parents=True, exist_ok=True)
    (share / "metainfo" / f"{meta.app_id}.metainfo.xml").write_text(fill("metainfo.xml.in", meta))
    hicolor = share / "icons" / "hicolor"
    for size in HICOLOR_SIZES:
        folder = hicolor / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(meta.icon_file(str(size)), folder / f"{meta.app_id}.png")
    (hicolor / "scalable" / "apps").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(meta.icon, hicolor / "scalable" / "apps" / f"{meta.app_id}.svg")


def normalise_modes(root: Path) -> None:
    """0755 for folders and executables, 0644 for the rest (what dpkg and tar users expect)."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(0o755 if path.is_dir() or mode & stat.S_IXUSR else 0o644)


def stage_tree(root: Path, bundle: Path, meta: project_meta.ProjectMeta) -> None:
    """The installed layout: /opt/<name> (the bundle), /usr/bin/<name>, /usr/share/..."""
    opt = root / "opt" / meta.name
    shutil.copytree(bundle, opt, symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    # relative, so the tree also works unpacked anywhere (the bootloader finds itself via /proc/self/exe)
    (root / "usr" / "bin" / meta.name).symlink_to(Path("..", "..", "opt", meta.name, meta.name))
    install_share(root / "usr" / "share", meta)
    doc = root / "usr" / "share" / "doc" / meta.name
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(fill("copyright.in", meta))
    normalise_modes(root)


# --- .deb --------------------------------------------------------------------------------
def control_file(meta: project_meta.ProjectMeta, arch: str, installed_kib: int, depends: list[str]) -> str:
    """DEBIAN/control."""
    long = [
        "A desktop lab where you see, live, the difference between concurrency and",
        "parallelism in Python: tasks as bars in their workers' lanes, the load of every",
        "CPU core, and afterwards how long the run took, its speedup and why.",
        ".",
        "This package contains a self-contained build (Python, Qt, PySide6, pyqtgraph",
        "and NumPy included) in /opt/" + meta.name + ".",
    ]
    fields = [
        ("Package", meta.name),
        ("Version", meta.deb_version),
        ("Architecture", arch),
        ("Maintainer", meta.maintainer),
        ("Installed-Size", str(installed_kib)),
        ("Depends", ", ".join(depends)),
        ("Recommends", ", ".join(RECOMMENDS)),
        ("Section", "science"),
        ("Priority", "optional"),
        ("Description", meta.description + "\n" + "\n".join(" " + line for line in long)),
    ]
    return "".join(f"{key}: {value}\n" for key, value in fields)


def build_deb(bundle: Path, out: Path, work: Path, meta: project_meta.ProjectMeta, compression: str) -> Path:
    """The .deb: stage the tree, derive Depends, ``dpkg-deb --root-owner-group --build``."""
    if shutil.which("dpkg-deb") is None:
        raise BuildError("dpkg-deb is not installed (Debian/Ubuntu: apt-get install dpkg)")
    root = work / "deb-root"
    shutil.rmtree(root, ignore_errors=True)
    stage_tree(root, bundle, meta)
    system = bundle_check.check_libraries(bundle)
    depends = bundle_check.derive_depends(system)
    arch = deb_arch()
    (root / "DEBIAN").mkdir(mode=0o755)
    (root / "DEBIAN" / "control").write_text(control_file(meta, arch, dir_size(root) // 1024 + 1, depends))
    (root / "DEBIAN" / "control").chmod(0o644)
    deb = out / f"{meta.name}_{meta.deb_version}_{arch}.deb"
    level = {"gzip": "6", "zstd": "3", "xz": "6"}[compression]  # gzip -9 takes 3x as long for 0.5 % less
    run(["dpkg-deb", "--root-owner-group", f"-Z{compression}", f"-z{level}", "--build", str(root), str(deb)])
    return deb


# --- portable .tar.gz, AppDir, AppImage ----------------------------------------------------------
def build_tar(bundle: Path, out: Path, meta: project_meta.ProjectMeta, arch_name: str) -> Path:
    """``<name>-<version>/`` = the bundle plus share/ (desktop entry, icons, metainfo)."""
    top = f"{meta.name}-{meta.version}"
    path = out / f"{top}-linux-{arch_name}.tar.gz"
    staging = out / ".tar-share"
    shutil.rmtree(staging, ignore_errors=True)
    install_share(staging / "share", meta)

    def owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(path, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=top, filter=owned_by_root)
        tar.add(staging / "share", arcname=f"{top}/share", filter=owned_by_root)
    shutil.rmtree(staging)
    return path


def build_appdir(bundle: Path, out: Path, meta: project_meta.ProjectMeta) -> Path:
    """``<AppName>.AppDir``: AppRun, the desktop entry and icon at the top, the bundle in usr/lib."""
    appdir = out / f"{meta.app_name}.AppDir"
    shutil.rmtree(appdir, ignore_errors=True)
    shutil.copytree(bundle, appdir / "usr" / "lib" / meta.name, symlinks=True)
    (appdir / "usr" / "bin").mkdir(parents=True)
    (appdir / "usr" / "bin" / meta.name).symlink_to(Path("..", "lib", meta.name, meta.name))
    install_share(appdir / "usr" / "share", meta)
    (appdir / "AppRun").write_text(fill("AppRun", meta))
    (appdir / "AppRun").chmod(0o755)
    (appdir / f"{meta.app_id}.desktop").write_text(fill("app.desktop.in", meta))
    shutil.copyfile(meta.icon_file("256"), appdir / f"{meta.app_id}.png")
    (appdir / ".DirIcon").symlink_to(f"{meta.app_id}.png")
    normalise_modes(appdir)
    return appdir


def build_appimage(appdir: Path, out: Path, meta: project_meta.ProjectMeta, runtime: Path, arch_name: str,
                   work: Path) -> Path:
    """An AppImage: the runtime file followed by a squashfs of the AppDir (what appimagetool writes)."""
    if not runtime.is_file():
        raise BuildError(f"AppImage runtime {runtime} does not exist")
    if shutil.which("mksquashfs") is None:
        raise BuildError("mksquashfs is not installed (Debian: apt-get install squashfs-tools)")
    image = work / "appdir.squashfs"
    image.unlink(missing_ok=True)
    run(["mksquashfs", str(appdir), str(image), "-root-owned", "-noappend", "-comp", "zstd", "-quiet"])
    path = out / f"{meta.app_name}-{meta.version}-{arch_name}.AppImage"
    with path.open("wb") as target:
        target.write(runtime.read_bytes())
        with image.open("rb") as source:
            shutil.copyfileobj(source, target, 1 << 20)
    path.chmod(0o755)
    image.unlink()
    return path


# --- checks --------------------------------------------------------------------------------
def validate_metadata(share: Path, meta: project_meta.ProjectMeta) -> list[str]:
    """desktop-file-validate and appstreamcli validate; the tools that were missing (skipped)."""
    skipped = []
    desktop = share / "applications" / f"{meta.app_id}.desktop"
    if shutil.which("desktop-file-validate"):
        result = run(["desktop-file-validate", str(desktop)])
        if "error" in (result.stdout + result.stderr).lower():
            raise BuildError(f"desktop-file-validate: {result.stdout}{result.stderr}")
    else:
        skipped.append("desktop-file-validate")
    if shutil.which("appstreamcli"):
        run(["appstreamcli", "validate", "--no-net", str(share / "metainfo" / f"{meta.app_id}.metainfo.xml")])
    else:
        skipped.append("appstreamcli")
    return skipped


def check_nsis(bundle: Path, work: Path, meta: project_meta.ProjectMeta) -> Path:
    """Compile the Windows installer script against this (Linux) bundle: a check of the script itself."""
    if shutil.which("makensis") is None:
        raise BuildError("makensis is not installed (Debian: apt-get install nsis)")
    work.mkdir(parents=True, exist_ok=True)
    setup = work / f"{meta.app_name}-{meta.version}-nsis-check.exe"
    run(["makensis", "-V2", "-WX", "-NOCD", f"-DVERSION={meta.version}", f"-DWIN_VERSION={meta.windows_version}",
         f"-DAPP_NAME={meta.app_name}", f"-DAPP_EXE={meta.name}", f"-DBUNDLE_DIR={bundle}",
         f"-DICON={meta.icon_file('ico')}", f"-DOUTFILE={setup}", "-DCOMPRESSION=off",
         str(HERE / "windows" / "concgui.nsi")], cwd=HERE / "windows")
    return setup


def measure_window(executable: Path, runs: int = WINDOW_RUNS) -> dict:
    """Seconds from start to a visible window under a private Xvfb (median of ``runs``), and the window count."""
    missing = xserver.missing_tools()
    if missing:
        return {"window_seconds": None, "window_note": f"not measured: {', '.join(missing)} not installed"}
    times, counts = [], []
    with xserver.Xvfb() as display:
        for _ in range(runs):
            seconds, count = xserver.time_to_window([str(executable)], display)
            times.append(seconds)
            counts.append(count)
    return {"window_seconds": round(sorted(times)[len(times) // 2], 3),
            "window_seconds_first": round(times[0], 3), "windows_shown": max(counts)}


def write_figures(path: Path, figures: dict) -> None:
    """Write the figures JSON atomically (the benchmark prints it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(figures, indent=2) + "\n")
    tmp.replace(path)


def build(args: argparse.Namespace) -> dict:
    """Every step; the figures."""
    started = time.perf_counter()
    meta = project_meta.load()
    out = Path(args.out).resolve()
    work = Path(args.work).resolve() if args.work else out.parent / "build" / "packaging-work"
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    formats = set(args.formats)
    runtime = args.appimage_runtime or os.environ.get("APPIMAGE_RUNTIME")
    if "appimage" in formats and not runtime:
        raise BuildError("an AppImage needs a runtime file: --appimage-runtime FILE or APPIMAGE_RUNTIME=FILE")
    if runtime:
        formats |= {"appimage", "appdir"}
    arch_name = platform.machine()
    figures: dict = {"version": meta.version, "python": platform.python_version()}

    t0 = time.perf_counter()
    bundle = build_bundle(out, work / "pyinstaller")
    figures["bundle_seconds"] = round(time.perf_counter() - t0, 1)
    smoke_test(bundle / meta.name, meta.version)
    figures["bundle_mb"] = mb(dir_size(bundle))
    say(f"bundle {bundle} ({figures['bundle_mb']} MB) in {figures['bundle_seconds']} s")

    if "deb" in formats:
        t0 = time.perf_counter()
        deb = build_deb(bundle, out, work, meta, args.compression)
        figures["deb_seconds"] = round(time.perf_counter() - t0, 1)
        figures["deb_mb"] = mb(deb.stat().st_size)
        say(f"{deb.name} ({figures['deb_mb']} MB) in {figures['deb_seconds']} s")
        skipped = validate_metadata(work / "deb-root" / "usr" / "share", meta)
        say("metadata valid" + (f" (not checked, missing: {', '.join(skipped)})" if skipped else ""))
    if "tar" in formats:
        tar = build_tar(bundle, out, meta, arch_name)
        figures["tar_mb"] = mb(tar.stat().st_size)
        say(f"{tar.name} ({figures['tar_mb']} MB)")
    if "appdir" in formats:
        appdir = build_appdir(bundle, out, meta)
        smoke_test(appdir / "AppRun", meta.version)
        say(f"{appdir.name} (runs as it is: {appdir.name}/AppRun)")
        if runtime:
            image = build_appimage(appdir, out, meta, Path(runtime), arch_name, work)
            figures["appimage_mb"] = mb(image.stat().st_size)
            say(f"{image.name} ({figures['appimage_mb']} MB)")
    if args.check_nsis:
        check_nsis(bundle, work / "nsis", meta)
        say("NSIS script compiles against the bundle")
    figures["build_seconds"] = round(time.perf_counter() - started, 1)
    if not args.no_window:
        figures.update(measure_window(bundle / meta.name))
        say(f"window shown after {figures['window_seconds']} s" if figures.get("window_seconds") is not None
            else figures.get("window_note", ""))
    figures["measured_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return figures


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "dist"), help="where the installers go (default: dist/)")
    parser.add_argument("--work", help="scratch folder (default: build/packaging-work next to --out)")
    parser.add_argument("--formats", type=lambda s: [f.strip() for f in s.split(",") if f.strip()],
                        default=["deb", "tar", "appdir"], help=f"comma-separated, of {', '.join(FORMATS)}")
    parser.add_argument("--appimage-runtime", metavar="FILE",
                        help="AppImage runtime (e.g. runtime-x86_64 of AppImage/type2-runtime); "
                             "default $APPIMAGE_RUNTIME; without one no AppImage is made")
    parser.add_argument("--compression", choices=("gzip", "zstd", "xz"), default="gzip",
                        help="of the .deb (default gzip: every dpkg reads it; zstd: smaller and faster, "
                             "dpkg >= 1.21.18)")
    parser.add_argument("--check-nsis", action="store_true",
                        help="also compile packaging/windows/concgui.nsi against this bundle (makensis)")
    parser.add_argument("--no-window", action="store_true", help="do not measure the time to the window")
    parser.add_argument("--figures", default=str(FIGURES), help=f"figures JSON (default {FIGURES})")
    args = parser.parse_args(argv)
    unknown = set(args.formats) - set(FORMATS)
    if unknown:
        parser.error(f"unknown format(s) {', '.join(sorted(unknown))}; use {', '.join(FORMATS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not sys.platform.startswith("linux"):
        print("build_linux: run this on Linux (Windows: build_windows.ps1, macOS: build_macos.sh)")
        return 2
    try:
        figures = build(args)
    except (BuildError, bundle_check.BundleError, TimeoutError) as exc:
        print(f"build_linux: FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    write_figures(Path(args.figures), figures)
    say(f"figures: {json.dumps(figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

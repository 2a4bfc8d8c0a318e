"""The Linux installers, built and run here: bundle, .deb, AppDir, NSIS script, self-test, window.

The bundle and the .deb are built once per session (about a minute) by
packaging/build_linux.py, which also writes build/packaging-figures.json
(sizes, build time, time to window) for the benchmark.  The .deb is then
unpacked into a temporary root and run from there, offscreen and on a real
X server.  The fast tests at the top check the packaging helpers alone.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))
import bundle_check  # noqa: E402
import project_meta  # noqa: E402
import qt_prune  # noqa: E402
import xserver  # noqa: E402

META = project_meta.load()
BUILD_TIMEOUT = 600
DEB_LIMIT_MB = 80
SELF_TEST_LIMIT = 30.0  # seconds, the bound for `concgui self-test`

HAVE_PYINSTALLER = importlib.util.find_spec("PyInstaller") is not None
HAVE_DPKG_DEB = shutil.which("dpkg-deb") is not None
needs_build = pytest.mark.skipif(
    not (HAVE_PYINSTALLER and HAVE_DPKG_DEB and sys.platform.startswith("linux")),
    reason="building the .deb needs Linux, PyInstaller (pip install -e '.[package]') and dpkg-deb",
)
needs_x = pytest.mark.skipif(bool(xserver.missing_tools()),
                             reason=f"needs {', '.join(xserver.missing_tools())} (apt-get install xvfb xdotool)")


# --- the helpers alone (fast) ------------------------------------------------------------------
def test_pyproject_fallback_parser_agrees_with_tomllib():
    tomllib = pytest.importorskip("tomllib")
    text = (ROOT / "pyproject.toml").read_text()
    full, mini = tomllib.loads(text), project_meta._mini_toml(text)
    for key in ("name", "version", "description", "license", "dependencies", "optional-dependencies"):
        assert mini["project"][key] == full["project"][key], key
    assert mini["tool"]["concgui"] == full["tool"]["concgui"]


def test_meta_versions_and_icons():
    from concgui import __version__

    assert META.version == __version__, "pyproject.toml and concgui/__init__.py disagree on the version"
    assert META.icon.is_file() and META.icon.suffix == ".svg"
    for kind in ("16", "48", "256", "ico", "icns"):
        assert META.icon_file(kind).is_file(), kind
    meta = project_meta.ProjectMeta(**{**META.__dict__, "version": "1.2.0rc1"})
    assert meta.deb_version == "1.2.0~rc1" and meta.windows_version == "1.2.0.0"


def test_icon_pngs_have_their_sizes():
    from PySide6.QtGui import QImage

    for size in (16, 24, 32, 48, 64, 128, 256):
        image = QImage(str(META.icon_file(str(size))))
        assert (image.width(), image.height()) == (size, size)
    assert META.icon_file("ico").read_bytes()[:4] == b"\0\0\1\0"
    assert META.icon_file("icns").read_bytes()[:4] == b"icns"


@pytest.mark.parametrize("dest, kept", [
    ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
    ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
    ("PySide6/Qt/plugins/platforms/libqwayland.so", False),
    ("PySide6/Qt/plugins/platforms/libqminimalegl.so", False),
    ("PySide6\\plugins\\platforms\\qwindows.dll", True),
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
    ("PySide6/Qt/plugins/imageformats/libqpdf.so", False),
    ("PySide6/Qt/plugins/sqldrivers/libqsqlite.so", False),
    ("PySide6/Qt/translations/qtbase_de.qm", False),
    ("PySide6/Qt/qml/QtQuick/qmldir", False),
    ("PySide6/Qt/lib/libQt6Widgets.so.6", True),
    ("numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so", True),
])
def test_qt_prune_rules(dest, kept):
    assert qt_prune.keep(dest) is kept


def test_prune_unreachable_keeps_what_roots_link_to():
    toc = [
        ("PySide6/QtCore.abi3.so", "/x/QtCore.abi3.so", "EXTENSION"),
        ("PySide6/Qt/lib/libQt6Core.so.6", "/x/libQt6Core.so.6", "BINARY"),
        ("PySide6/Qt/lib/libicuuc.so.73", "/x/libicuuc.so.73", "BINARY"),
        ("PySide6/Qt/lib/libQt6Quick.so.6", "/x/libQt6Quick.so.6", "BINARY"),
        ("libQt6Core.so.6", "PySide6/Qt/lib/libQt6Core.so.6", "SYMLINK"),
        ("libQt6Quick.so.6", "PySide6/Qt/lib/libQt6Quick.so.6", "SYMLINK"),
    ]
    links = {"/x/QtCore.abi3.so": [("libQt6Core.so.6", "/x/libQt6Core.so.6")],
             "/x/libQt6Core.so.6": [("libicuuc.so.73", "/x/libicuuc.so.73"), ("libc.so.6", "/lib/libc.so.6")]}
    kept = qt_prune.prune_unreachable(toc, lambda path: links.get(path, []))
    assert [e[0] for e in kept] == ["PySide6/QtCore.abi3.so", "PySide6/Qt/lib/libQt6Core.so.6",
                                    "PySide6/Qt/lib/libicuuc.so.73", "libQt6Core.so.6"]


def test_system_libraries_are_left_to_the_package_manager():
    toc = [("libX11.so.6", "/usr/lib/x86_64-linux-gnu/libX11.so.6", "BINARY"),
           ("libpython3.11.so.1.0", "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", "BINARY"),
           ("PySide6/Qt/lib/libQt6Gui.so.6", "/venv/PySide6/Qt/lib/libQt6Gui.so.6", "BINARY")]
    assert [e[0] for e in qt_prune.drop_system_libraries(toc)] == ["libpython3.11.so.1.0",
                                                                    "PySide6/Qt/lib/libQt6Gui.so.6"]


def test_ldd_parsing_and_package_guesses():
    missing, resolved = bundle_check.parse_ldd(
        "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibxcb-cursor.so.0 => not found\n"
        "\tlibGL.so.1 => /lib/x86_64-linux-gnu/libGL.so.1 (0x00007f2a)\n")
    assert missing == ["libxcb-cursor.so.0"] and resolved == {"libGL.so.1": "/lib/x86_64-linux-gnu/libGL.so.1"}
    assert bundle_check.guess_debian_package("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert bundle_check.guess_debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert bundle_check.guess_debian_package("libEGL.so.1") == "libegl1"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF files")
def test_needed_libraries_reads_elf_like_readelf():
    lib = Path(sys.executable).resolve()
    names = bundle_check.needed_libraries(lib)
    assert "libc.so.6" in names or any(n.startswith("libpython") for n in names)
    if shutil.which("readelf"):
        out = subprocess.run(["readelf", "-d", str(lib)], capture_output=True, text=True).stdout
        assert names == re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out)


# --- the built installers -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict:
    """build_linux.py once: bundle, .deb, AppDir, the NSIS check and the figures."""
    if not (HAVE_PYINSTALLER and HAVE_DPKG_DEB):
        pytest.skip("needs PyInstaller and dpkg-deb")
    base = tmp_path_factory.mktemp("installers")
    out = base / "dist"
    figures = ROOT / "build" / "packaging-figures.json"
    args = [sys.executable, str(PACKAGING / "build_linux.py"), "--out", str(out), "--work", str(base / "work"),
            "--formats", "deb,appdir", "--figures", str(figures)]
    if shutil.which("makensis"):
        args.append("--check-nsis")
    if xserver.missing_tools():
        args.append("--no-window")
    t0 = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True, timeout=BUILD_TIMEOUT, cwd=ROOT)
    assert result.returncode == 0, f"build_linux.py failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    debs = list(out.glob(f"{META.name}_*.deb"))
    assert len(debs) == 1, debs
    return {"out": out, "work": base / "work", "deb": debs[0], "bundle": out / META.name,
            "figures": json.loads(figures.read_text()), "seconds": time.perf_counter() - t0,
            "log": result.stdout}


@pytest.fixture(scope="session")
def unpacked(built, tmp_path_factory) -> Path:
    """The .deb unpacked with dpkg-deb -x into a temporary root."""
    root = tmp_path_factory.mktemp("deb-root")
    subprocess.run(["dpkg-deb", "-x", str(built["deb"]), str(root)], check=True)
    return root


def frozen_processes(root: Path) -> list[psutil.Process]:
    """Running processes whose executable lies under ``root``."""
    found = []
    for proc in psutil.process_iter(["exe"]):
        exe = proc.info.get("exe") or ""
        if exe.startswith(str(root) + os.sep):
            found.append(proc)
    return found


def assert_nothing_left(root: Path, grace: float = 10.0) -> None:
    """No process of the unpacked app may outlive its command (workers, forkserver, engine)."""
    deadline = time.monotonic() + grace
    left = frozen_processes(root)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = frozen_processes(root)
    for proc in left:
        proc.kill()
    assert not left, "left running: " + "; ".join(" ".join(p.cmdline()) for p in left if p.is_running())


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "PYTHONPATH")}
    env.update(CONCGUI_DATA_DIR=str(tmp_path / "data"), QT_QPA_PLATFORM="offscreen")
    env.update(extra)
    return env


@needs_build
@pytest.mark.timeout(BUILD_TIMEOUT)
def test_deb_contents_and_control(built):
    listing = subprocess.run(["dpkg-deb", "-c", str(built["deb"])], capture_output=True, text=True,
                             check=True).stdout
    paths = {line.split()[5].removeprefix("./"): line for line in listing.splitlines()}
    app_id, name = META.app_id, META.name
    assert paths[f"opt/{name}/{name}"].startswith("-rwxr-xr-x root/root")
    assert f"usr/bin/{name} -> ../../opt/{name}/{name}" in listing
    for required in (f"usr/share/applications/{app_id}.desktop", f"usr/share/metainfo/{app_id}.metainfo.xml",
                     f"usr/share/icons/hicolor/scalable/apps/{app_id}.svg", f"usr/share/doc/{name}/copyright",
                     f"opt/{name}/_internal/resources/presets.json",
                     f"opt/{name}/_internal/PySide6/Qt/plugins/platforms/libqxcb.so",
                     f"opt/{name}/_internal/PySide6/Qt/plugins/platforms/libqoffscreen.so"):
        assert required in paths, required
    for size in (48, 64, 128, 256):
        assert f"usr/share/icons/hicolor/{size}x{size}/apps/{app_id}.png" in paths
    unwanted = re.compile(r"/translations/|/qml/|Qt6(Qml|Quick|WebEngine|Wayland|Pdf|Network)|libqgtk3"
                          r"|/libstdc\+\+|/libX11\.|/libfontconfig")
    assert not [p for p in paths if unwanted.search(p)], "unused Qt parts or system libraries were bundled"
    info = subprocess.run(["dpkg-deb", "-f", str(built["deb"])], capture_output=True, text=True, check=True).stdout
    control = dict(re.findall(r"^([A-Za-z-]+): (.*)$", info, re.M))
    assert control["Package"] == name and control["Version"] == META.deb_version
    depends = {d.split()[0] for d in control["Depends"].split(", ")}
    assert {"libc6", "libxcb-cursor0", "libxkbcommon-x11-0", "libegl1", "libgl1", "libfontconfig1",
            "libdbus-1-3", "libxcb-icccm4", "libxcb-keysyms1"} <= depends
    size_mb = built["deb"].stat().st_size / 1e6
    assert size_mb < DEB_LIMIT_MB, f".deb is {size_mb:.1f} MB"
    print(f"\n.deb {size_mb:.1f} MB, bundle {built['figures']['bundle_mb']} MB, built in {built['seconds']:.0f} s")


@needs_build
@pytest.mark.timeout(BUILD_TIMEOUT)
def test_metadata_passes_the_validators(built):
    share = built["work"] / "deb-root" / "usr" / "share"
    desktop = share / "applications" / f"{META.app_id}.desktop"
    metainfo = share / "metainfo" / f"{META.app_id}.metainfo.xml"
    checked = 0
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
        assert result.returncode == 0 and "error" not in result.stdout.lower(), result.stdout
        checked += 1
    if shutil.which("appstreamcli"):
        result = subprocess.run(["appstreamcli", "validate", "--no-net", str(metainfo)], capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        checked += 1
    if not checked:
        pytest.skip("desktop-file-validate and appstreamcli are not installed")


@needs_build
@pytest.mark.timeout(BUILD_TIMEOUT)
def test_missing_library_fails_the_build_check(built, tmp_path):
    broken = tmp_path / META.name
    shutil.copytree(built["bundle"], broken, symlinks=True)
    (broken / "_internal" / "PySide6" / "Qt" / "lib" / "libQt6XcbQpa.so.6").unlink()
    bundle_check.check_libraries(built["bundle"])  # the real one passes
    with pytest.raises(SystemExit) as exc:
        bundle_check.verify_or_exit(broken)
    assert "libQt6XcbQpa.so.6" in str(exc.value) and "libqxcb.so" in str(exc.value)


@needs_build
@pytest.mark.timeout(BUILD_TIMEOUT)
def test_unpacked_deb_runs_offscreen(unpacked, tmp_path):
    command = unpacked / "usr" / "bin" / META.name
    env = app_env(tmp_path)
    version = subprocess.run([str(command), "--version"], capture_output=True, text=True, env=env, timeout=60)
    assert version.stdout.strip() == f"ConcGUI {META.version}"
    t0 = time.perf_counter()
    result = subprocess.run([str(command), "self-test"], capture_output=True, text=True, env=env, timeout=120)
    seconds = time.perf_counter() - t0
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "(frozen)" in lines[0] and "self-test passed" in lines[-1]
    # joblib's loky lines too: a bundle without joblib (or loky's workers) skips or fails them
    for needed in ("engine command", "inline process-pool/spawn", "engine process-pool/spawn",
                   "inline processes/forkserver", "engine processes/fork", "inline joblib (loky)",
                   "engine joblib (loky)", "report png"):
        assert any(line.startswith("ok") and needed in line for line in lines), needed
    assert seconds < SELF_TEST_LIMIT, f"self-test took {seconds:.1f} s"
    dask = [line for line in lines if line.split()[:2] == ["skip", "dask"]]
    assert dask and "does not include Dask" in dask[0], "the installers leave Dask out, and say so"
    assert_nothing_left(unpacked)


@needs_build
@needs_x
@pytest.mark.timeout(BUILD_TIMEOUT)
def test_unpacked_deb_runs_on_a_real_x_server(unpacked, tmp_path):
    command = unpacked / "usr" / "bin" / META.name
    with xserver.Xvfb() as display:
        env = app_env(tmp_path, DISPLAY=display, QT_QPA_PLATFORM="xcb")
        result = subprocess.run([str(command), "self-test"], capture_output=True, text=True, env=env, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "self-test passed" in result.stdout
    assert_nothing_left(unpacked)


@needs_build
@needs_x
@pytest.mark.timeout(BUILD_TIMEOUT)
def test_frozen_app_opens_one_window_even_while_processes_run(unpacked, tmp_path):
    command = unpacked / "usr" / "bin" / META.name
    with xserver.Xvfb() as display:
        env = xserver.app_env(display, CONCGUI_DATA_DIR=str(tmp_path / "data"))
        seconds, windows = xserver.time_to_window([str(command)], display, env)
        assert windows == 1
        assert seconds < 10, f"the window took {seconds:.1f} s"
        # a comparison with process pools: workers and the engine are this same executable
        shot = tmp_path / "shot.png"
        most, code = xserver.max_windows_while_running(
            [str(command), "gui", "--preset", "dispatch-overhead", "--screenshot", str(shot)], display, env)
        assert code == 0 and shot.is_file()
        assert most == 1, f"{most} windows were open at once"
    print(f"\nfrozen app: window after {seconds:.2f} s")
    assert_nothing_left(unpacked)


@needs_build
@pytest.mark.timeout(BUILD_TIMEOUT)
def test_appdir_runs_as_it_is(built, tmp_path):
    apprun = built["out"] / f"{META.app_name}.AppDir" / "AppRun"
    result = subprocess.run([str(apprun), "--version"], capture_output=True, text=True, env=app_env(tmp_path),
                            timeout=60)
    assert result.stdout.strip() == f"ConcGUI {META.version}"
    appdir = apprun.parent
    assert (appdir / f"{META.app_id}.desktop").is_file() and (appdir / ".DirIcon").resolve().is_file()


@needs_build
@pytest.mark.timeout(BUILD_TIMEOUT)
def test_nsis_script_compiles_against_the_bundle(built):
    if not shutil.which("makensis"):
        pytest.skip("makensis is not installed (apt-get install nsis)")
    assert "NSIS script compiles" in built["log"]
    assert list((built["work"] / "nsis").glob("*.exe"))


@needs_build
@pytest.mark.timeout(BUILD_TIMEOUT)
def test_figures_are_recorded(built):
    figures = built["figures"]
    for key in ("bundle_mb", "deb_mb", "build_seconds", "window_seconds"):
        assert key in figures, key
    assert figures["deb_mb"] < DEB_LIMIT_MB
    if figures["window_seconds"] is not None:
        assert figures["windows_shown"] == 1


@pytest.mark.skipif(not (shutil.which("mksquashfs") and shutil.which("unsquashfs")),
                    reason="needs squashfs-tools")
def test_appimage_is_the_runtime_followed_by_a_squashfs_of_the_appdir(tmp_path):
    build_linux = pytest.importorskip("build_linux")
    appdir = tmp_path / "Tiny.AppDir"
    appdir.mkdir()
    (appdir / "AppRun").write_text("#!/bin/sh\necho hi\n")
    runtime = tmp_path / "runtime"
    runtime.write_bytes(b"\x7fELF" + bytes(4092))  # stands in for AppImage/type2-runtime's file
    image = build_linux.build_appimage(appdir, tmp_path, META, runtime, "x86_64", tmp_path)
    data = image.read_bytes()
    assert data.startswith(runtime.read_bytes()) and os.access(image, os.X_OK)
    assert data[4096:4100] == b"hsqs"  # squashfs magic right after the runtime
    listing = subprocess.run(["unsquashfs", "-o", "4096", "-l", str(image)], capture_output=True, text=True)
    assert "squashfs-root/AppRun" in listing.stdout, listing.stdout + listing.stderr

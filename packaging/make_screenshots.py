"""Make the README's screenshots: run each preset in the real window and save it.

    .venv/bin/python packaging/make_screenshots.py [--xvfb] [--sizes 1280x720,1024x700,1600x1000] [PRESET ...]

Uses ``concgui gui --preset NAME --screenshot PATH --size WxH`` for every shipped
preset and size; with ``--xvfb`` (or when there is no display) it starts a private
Xvfb server so the pictures come from a real X window, not the offscreen
platform.  The first size's images land in resources/screenshots/ (the README's);
the others in resources/screenshots/WxH/, to look at, not shipped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "screenshots"
SIZES = "1280x720,1024x700,1600x1000"  # the README's size first: the smallest common laptop screen at 150 %
PRESETS = tuple(p["name"] for p in json.loads((ROOT / "resources" / "presets.json").read_text())["presets"])


def start_xvfb() -> tuple[subprocess.Popen, str]:
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1920x1200x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as f:
        return proc, ":" + f.readline().strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xvfb", action="store_true", help="start a private Xvfb server")
    parser.add_argument("--sizes", default=SIZES, help=f"comma-separated window sizes (default {SIZES})")
    parser.add_argument("presets", nargs="*", default=list(PRESETS))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CONCGUI_DATA_DIR=tempfile.mkdtemp(prefix="concgui-shots-"),
               XDG_CONFIG_HOME=tempfile.mkdtemp(prefix="concgui-shots-config-"))
    xvfb = None
    if args.xvfb or not os.environ.get("DISPLAY"):
        xvfb, env["DISPLAY"] = start_xvfb()
        env["QT_QPA_PLATFORM"] = "xcb"
    failed = 0
    try:
        for k, size in enumerate(args.sizes.split(",")):
            folder = OUT if k == 0 else OUT / size
            folder.mkdir(parents=True, exist_ok=True)
            for name in args.presets:
                path = folder / f"{name}.png"
                out = subprocess.run([sys.executable, str(ROOT / "main.py"), "gui", "--preset", name,
                                      "--screenshot", str(path), "--size", size],
                                     env=env, capture_output=True, text=True, timeout=600)
                print(f"{'ok  ' if out.returncode == 0 else 'FAIL'} {path.relative_to(ROOT)}", flush=True)
                if out.returncode:
                    failed += 1
                    print(out.stderr[-2000:], file=sys.stderr)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""``concgui calibrate``: measure again how much work a second of the cpu and hash workloads is, here.

The factors are measured once and kept (:mod:`concgui.engine.calibration`); on a machine busier or
quieter than it was then, "0.5 s" tasks are not 0.5 s of CPU. This measures them again for the
Python running it and keeps them; ``--show`` prints the kept ones, ``--json`` prints one JSON object
(the window's Run ▸ Recalibrate reads it).
"""

from __future__ import annotations

import argparse
import json
import sys

from ..engine import calibration
from ..engine.paths import user_data_dir
from ..engine.present import number

EXIT_OK = 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="concgui calibrate",
        description="Measure again how many loop iterations (cpu workload) and sha256 bytes (hash workload) this "
                    "machine does per CPU second with this Python, and keep them, so that a task of 0.5 s is 0.5 s "
                    "of CPU here. Takes about 3 s; run it on a quiet machine.")
    p.add_argument("--show", action="store_true", help="print the kept calibration without measuring")
    p.add_argument("--json", action="store_true", help="print one JSON object: {before, after, path}")
    return p


def _factor_lines(entry: dict | None, before: dict | None = None) -> list[str]:
    if not entry:
        return ["  not measured yet: the first cpu, hash or mixed run measures it"]
    rows = []
    for key, label, scale, unit, places in (("cpu_iterations_per_second", "cpu loop", 1e6, "M iterations/s", 2),
                                           ("hash_bytes_per_second", "sha256", 1e6, "MB/s", 0)):
        value = entry.get(key)
        line = f"  {label:9} {number(value / scale, places, unit) if value else '—':>22}"
        if before and before.get(key) and value:
            change = 100.0 * (value / before[key] - 1.0)
            line += f"   was {number(before[key] / scale, places)}: {change:+.0f} %"
        rows.append(line)
    when = calibration.age_text(entry.get("measured_at"))
    rows.append(f"  measured {when or 'at a time not recorded'}")
    return rows


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    path = str(user_data_dir() / "calibration.json")
    if args.show:
        before, after = None, calibration.stored()
    else:
        before, after = calibration.recalibrate()
    if args.json:
        print(json.dumps({"before": before, "after": after, "path": path}))
        return EXIT_OK
    what = "kept calibration" if args.show else "calibrated now"
    print(f"{what} for {sys.implementation.name} {sys.version.split()[0]} ({sys.executable}):")
    print("\n".join(_factor_lines(after, before)))
    print(f"kept in {path}")
    return EXIT_OK

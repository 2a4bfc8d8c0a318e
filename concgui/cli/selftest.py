"""``concgui self-test``: prove that this build runs every executor and draws its report.

Installers run it as their smoke test, so it checks exactly what breaks
when an app is frozen: worker processes under every start method of the
platform (a frozen app without ``freeze_support`` relaunches itself in
them), joblib's loky workers (started as ``<app> -m ...``: see
:mod:`concgui.loky_frozen`), the engine process started from the
app's own executable, Qt's thread pool, and the report rendered offscreen
to a PNG.  Tiny workloads
(three 20 ms sleeps) keep it to a few seconds.  One line per check; exit
code 0 only when every check passes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..engine import ExperimentSpec, RunResult, list_executors, start
from ..engine.present import count, seconds
from ..engine.spec import PROCESS_EXECUTORS, executor_label

TASKS = 3
WORKERS = 2
#: engine-process checks run this many at a time: each mostly waits for its processes to start (inline ones run
#: one by one, in this process, where a fork must find no other thread busy)
ENGINE_AT_ONCE = 2
SLEEP = 0.02
REPORT_WIDTH = 1600
EXIT_OK, EXIT_FAILED = 0, 1


@dataclass
class Check:
    """The outcome of one check, printed as one line."""

    name: str
    passed: bool
    seconds: float = 0.0
    detail: str = ""
    skipped: bool = False

    def line(self) -> str:
        state = "skip" if self.skipped else ("ok" if self.passed else "FAIL")
        timing = "" if self.skipped else f"{self.seconds:6.2f} s"
        return f"{state:4}  {self.name:34} {timing:9}  {self.detail}".rstrip()


def start_methods() -> list[str]:
    """The start methods this platform offers, in a fixed order."""
    available = multiprocessing.get_all_start_methods()
    return [m for m in ("fork", "forkserver", "spawn") if m in available]


def plan() -> tuple[list[tuple[str, ExperimentSpec]], list[Check]]:
    """The runs to make (name, spec) and a skip line for each executor this build cannot run.

    Inline runs of process executors come first, while this process has no
    Qt and no helper threads yet, so ``fork`` is safe here.
    """
    available, skipped = [], []
    for row in list_executors():
        if row["available"]:
            available.append(row["name"])
        else:
            skipped.append(Check(row["name"], passed=True, skipped=True, detail=row["reason"]))
    ordered = sorted(available, key=lambda name: name not in PROCESS_EXECUTORS)  # stable: process ones first
    runs: list[tuple[str, ExperimentSpec]] = []
    for isolation, label in (("inline", "inline"), ("process", "engine")):
        for executor in ordered:
            methods = start_methods() if executor in PROCESS_EXECUTORS else [None]
            for method in methods:
                spec = ExperimentSpec(workload="sleep", executor=executor, tasks=TASKS, duration=SLEEP,
                                      start_method=method, isolation=isolation)
                if spec.relevant("workers"):
                    spec = spec.with_(workers=WORKERS)
                name = executor_label(spec.to_dict())  # joblib (loky): its default backend
                runs.append((f"{label} {name}" + (f"/{method}" if method else ""), spec))
    return runs, skipped


def execute(spec: ExperimentSpec, timeout: float) -> RunResult:
    """Run ``spec``; a run still going after ``timeout`` seconds is cancelled and reported."""
    run = start(spec)
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["result"] = run.execute()
        except BaseException as exc:  # noqa: BLE001 - reported as the check's failure
            box["error"] = exc

    worker = threading.Thread(target=target, name="concgui-selftest-run", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        run.cancel()
        worker.join(10)
        raise TimeoutError(f"still running after {timeout:g} s (cancelled)")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]


def verify(spec: ExperimentSpec, result: RunResult) -> str:
    """Why ``result`` is not what ``spec`` must give, or "" when it is."""
    if result.status != "ok":
        return f"run {result.status}: {result.error or ''}".strip()
    if len(result.tasks) != spec.tasks:
        return f"{len(result.tasks)} task records, expected {spec.tasks}"
    bad = [t for t in result.tasks if t.status != "ok"]
    if bad:
        err = bad[0].error or {}
        return f"task {bad[0].index} {bad[0].status}: {err.get('type', '')} {err.get('message', '')}".strip()
    pids = {t.pid for t in result.tasks}
    in_this_process = pids == {os.getpid()}
    if spec.executor in PROCESS_EXECUTORS:
        if os.getpid() in pids:
            return "a task ran in this process, not in a worker process"
        if spec.executor == "processes" and len(pids) != spec.tasks:
            return f"{len(pids)} worker processes for {spec.tasks} tasks, expected one each"
        if spec.executor != "processes" and len(pids) > (spec.workers or spec.tasks):
            return f"{len(pids)} worker processes, more than the {spec.workers} workers asked for"
        if result.spec.get("start_method") != spec.start_method:
            return f"ran with start method {result.spec.get('start_method')!r}"
    elif spec.executor == "dask":
        if os.getpid() in pids:
            return "a task ran in this process, not in a Dask worker process"
    elif spec.in_processes():  # joblib's loky workers
        if os.getpid() in pids:
            return "a task ran in this process, not in a worker process"
        if len(pids) > (spec.workers or spec.tasks):
            return f"{len(pids)} worker processes, more than the {spec.workers} workers asked for"
    elif spec.isolation == "inline" and not in_this_process:
        return f"tasks ran in processes {sorted(pids)}, not in this one"
    if spec.isolation == "process" and in_this_process:
        return "tasks ran in this process, not in the engine process"
    return ""


def check_run(name: str, spec: ExperimentSpec, timeout: float) -> tuple[Check, RunResult | None]:
    """Run one spec and judge it."""
    t0 = time.perf_counter()
    try:
        result = execute(spec, timeout)
    except BaseException as exc:  # noqa: BLE001 - any failure is this check's failure
        return Check(name, False, time.perf_counter() - t0, f"{type(exc).__name__}: {exc}"[:300]), None
    problem = verify(spec, result)
    detail = problem or f"{count(len({t.pid for t in result.tasks}), 'pid')}, wall {seconds(result.wall_seconds)}"
    return Check(name, not problem, time.perf_counter() - t0, detail), result


def check_engine_command() -> Check:
    """The engine process starts from this app: ``<app> engine`` when frozen, ``python -m`` otherwise,
    naming the Qt layer's executor, which registers itself (so the app's metadata came along)."""
    from ..engine.isolation import engine_command

    command = engine_command()
    frozen = bool(getattr(sys, "frozen", False))
    expected = [sys.executable, "engine"] if frozen else [sys.executable, "-m", "concgui.engine"]
    expected.append("qt-thread-pool=concgui.gui.qt_thread_pool")
    shown = " ".join([Path(command[0]).name, *command[1:]])
    return Check("engine command", command == expected, 0.0,
                 shown + (" (frozen)" if frozen else "") if command == expected else f"{command} != {expected}")


def check_report(result: RunResult | None, path: Path) -> Check:
    """Render the report offscreen, then check the PNG: there, 1600 px wide, not blank."""
    t0 = time.perf_counter()
    if result is None:
        return Check("report png", False, 0.0, "no successful run to draw")
    try:
        from PySide6.QtGui import QImage

        from ..gui.report import save_report_png

        save_report_png(result, path, width=REPORT_WIDTH)
        problem = png_problem(path, QImage)
    except BaseException as exc:  # noqa: BLE001 - any failure is this check's failure
        problem = f"{type(exc).__name__}: {exc}"[:300]
    seconds = time.perf_counter() - t0
    if problem:
        return Check("report png", False, seconds, problem)
    return Check("report png", True, seconds, f"{REPORT_WIDTH} px wide, {path.stat().st_size // 1024} KiB")


def png_problem(path: Path, image_class: Callable) -> str:
    """Why the PNG at ``path`` is not a usable report ("" when it is)."""
    if not path.is_file() or path.stat().st_size == 0:
        return f"{path} was not written"
    image = image_class(str(path))
    if image.isNull():
        return f"{path} is not a readable PNG"
    if image.width() != REPORT_WIDTH or image.height() < 100:
        return f"the image is {image.width()} x {image.height()} px, expected {REPORT_WIDTH} px wide"
    small = image.scaled(64, 64)
    colours = {small.pixel(x, y) for x in range(small.width()) for y in range(small.height())}
    if len(colours) < 8:
        return f"the image is blank ({count(len(colours), 'colour')})"
    return ""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="concgui self-test",
        description="Run every executor available here on a tiny workload, inline and in the engine process, "
                    "with every process start method, then draw the report offscreen. Exit code 0 when all pass.",
    )
    parser.add_argument("--png", metavar="PATH", help="keep the report image here (default: a temporary file)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S",
                        help="seconds one run may take before it counts as hung (default 30)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run every check, print one line each; return 0 only when all pass."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    frozen = " (frozen)" if getattr(sys, "frozen", False) else ""
    print(f"ConcGUI {__version__} self-test{frozen}: Python {sys.version.split()[0]}, {sys.platform}, "
          f"{count(os.cpu_count() or 0, 'core')}, start methods {', '.join(start_methods())}", flush=True)
    runs, checks = plan()
    for check in checks:
        print(check.line(), flush=True)
    checks.append(check_engine_command())
    print(checks[-1].line(), flush=True)
    last_good: RunResult | None = None

    def judged(spec: ExperimentSpec, check: Check, result: RunResult | None) -> None:
        nonlocal last_good
        checks.append(check)
        print(check.line(), flush=True)
        if check.passed and result is not None:
            last_good = result if spec.executor in PROCESS_EXECUTORS or last_good is None else last_good

    for name, spec in runs:
        if spec.isolation == "inline":
            judged(spec, *check_run(name, spec, args.timeout))
    with ThreadPoolExecutor(ENGINE_AT_ONCE, thread_name_prefix="concgui-selftest") as pool:
        engine = [(spec, pool.submit(check_run, name, spec, args.timeout)) for name, spec in runs
                  if spec.isolation != "inline"]
        for spec, future in engine:  # printed in the plan's order
            judged(spec, *future.result())
    with tempfile.TemporaryDirectory(prefix="concgui-selftest-") as tmp:
        path = Path(args.png) if args.png else Path(tmp) / "report.png"
        checks.append(check_report(last_good, path))
        print(checks[-1].line(), flush=True)
    failed = [c for c in checks if not c.passed]
    total = time.perf_counter() - started
    counted = [c for c in checks if not c.skipped]
    if failed:
        print(f"self-test FAILED: {len(failed)} of {len(counted)} checks failed ({seconds(total, 1)})", flush=True)
        return EXIT_FAILED
    print(f"self-test passed: {count(len(counted), 'check')} in {seconds(total, 1)}", flush=True)
    return EXIT_OK


if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())

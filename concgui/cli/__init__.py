"""The ``concgui`` command line: run, compare, sweep, calibrate, executors, gui.

Options mirror the spec's fields (``--size-mb`` for ``size_mb`` ...), built
from :data:`concgui.engine.spec.PARAMS`.  Exit codes (:data:`EXIT_CODES`): 0 every task
ran and none failed, 1 the run failed or was stopped, 2 bad input (the message names the
field), 3 the run finished but some of its tasks raised.  ``run`` and ``compare`` record
their runs in the window's history as they go (:mod:`.recorder`).

The package: this module parses and runs the commands, :mod:`.tables`
formats their text tables, :mod:`.selftest` is ``concgui self-test``, :mod:`.calibrate` is
``concgui calibrate``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .. import __version__
from ..engine import ExperimentSpec, RunResult, SpecError, list_executors, start
from ..engine.echo import EchoLines
from ..engine.events import Event
from ..engine.exit_guard import exit_refused
from ..engine.exports import save_csv, save_result, save_results, save_trace
from ..engine.present import count, plural, seconds
from ..engine.records import ERROR
from ..engine.spec import PARAMS, Param, executor_label, parse_value
from ..engine.sweep import DEFAULT_REPEATS, SPEEDUP_RULE, SWEEP_PARAMS
from .recorder import RunRecorder, check_folders, print_notes
from .tables import format_compare_why, format_comparison, format_summary, format_sweep

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_TASKS_FAILED = 0, 1, 2, 3
#: what each exit code means, for --help and the README
EXIT_CODES = (f"Exit codes: {EXIT_OK} every task ran and none failed; {EXIT_FAILED} the run failed (its process died, "
              f"a task ended it from inside) or was stopped (Ctrl+C, --timeout); {EXIT_BAD_INPUT} bad input (the "
              f"message names the field); {EXIT_TASKS_FAILED} the run finished, but some of its tasks raised.")
T = TypeVar("T")


def _add_spec_options(p: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    for param in PARAMS.values():
        if param.name in skip:
            continue
        flag = "--" + param.name.replace("_", "-")
        unit = f" [{param.unit}]" if param.unit else ""
        if param.kind is bool:
            p.add_argument(flag, action="store_true", default=None, help=param.help)
        else:
            p.add_argument(flag, metavar=param.unit.upper() or "VALUE",
                           help=f"{param.help}{unit} {_allowed(param)}")
    p.add_argument("--inline", action="store_true", help="run in this process (same as --isolation inline)")


def _allowed(param: Param) -> str:
    """The values a flag takes, for its help: each choice with what it does (the spec's own words, as the
    form's picker shows them) where the field's help does not already say it, else the plain list."""
    explained = param.choices and param.choice_help and not all(f"{c}:" in param.help for c in param.choices)
    if not explained:
        return f"({param.allowed()})"
    return "One of:\n" + "\n".join(f"{c}: {param.choice_help.get(c, '')}".strip() for c in param.choices)


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's own wrapping, except that a line break in a help text starts a new line (a choice each)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        split = super()._split_lines  # bound here: a comprehension cannot call super() on 3.11
        return [line for part in text.split("\n") for line in split(part, width)]


def spec_from_args(args: argparse.Namespace, **overrides: Any) -> ExperimentSpec:
    """Build a validated spec; raises SpecError naming the bad field."""
    values: dict[str, Any] = {}
    for name in PARAMS:
        raw = getattr(args, name, None)
        if raw is None:
            continue
        values[name] = raw if isinstance(raw, bool) else parse_value(name, raw)
    if getattr(args, "inline", False):
        values["isolation"] = "inline"
    values.update(overrides)
    return ExperimentSpec(**values)


def _add_history_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-history", action="store_true",
                   help="do not record the run in the window's history (the data directory's run history)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="concgui", description="See concurrency and parallelism in Python, live.",
                                     epilog=EXIT_CODES)
    parser.add_argument("--version", action="version", version=f"ConcGUI {__version__}")
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run one experiment and print its summary", formatter_class=_HelpFormatter,
                         epilog="The run is recorded in the window's history as it goes (--no-history: not), "
                                "and --json and --csv are rewritten as it goes, marked 'interrupted' until it "
                                "ends. " + EXIT_CODES)
    _add_spec_options(run)
    _add_history_option(run)
    run.add_argument("--echo", action="store_true", help="print 'Task 0 started' ... live, as the seed notebook did")
    run.add_argument("--json", metavar="PATH", help="write the result as JSON")
    run.add_argument("--csv", metavar="PATH", help="write a row per task as CSV")
    run.add_argument("--trace", metavar="PATH", help="write Chrome trace JSON (opens in Perfetto)")
    run.add_argument("--png", metavar="PATH", help="write the report image (timeline, cores, summary)")

    cmp = sub.add_parser("compare", help="run one workload over several executors", formatter_class=_HelpFormatter,
                         epilog="Each run is recorded in the window's history as it goes (--no-history: not). "
                                + EXIT_CODES)
    _add_spec_options(cmp, skip=("executor",))
    _add_history_option(cmp)
    cmp.add_argument("--executors", required=True, metavar="A,B,C",
                     help="executors to compare, the first is the baseline")
    cmp.add_argument("--json", metavar="PATH", help='write {"runs": [result, ...]} as JSON')

    sw = sub.add_parser("sweep", help="a scaling study: one workload with 1, 2, 4, ... workers on each executor",
                        formatter_class=_HelpFormatter,
                        description="Run one workload with workers = 1, 2, 4, ... up to --max-workers on each "
                                    "executor, each point --repeats times (interleaved). Speedup = "
                                    f"{SPEEDUP_RULE}; the serial fraction is Amdahl's law fitted over 1 < "
                                    "workers <= this machine's cores (every point > 1 worker on a Dask "
                                    "scheduler's cluster, whose cores it does not know).")
    _add_spec_options(sw, skip=("executor", "workers"))
    sw.add_argument("--executor", "--executors", action="append", dest="executors", metavar="NAME",
                    help="executor to sweep (repeat it, or give a comma list; default process-pool); only "
                         "executors whose worker count is settable")
    sw.add_argument("--max-workers", metavar="N", help=SWEEP_PARAMS["max_workers"].help)
    sw.add_argument("--repeats", metavar="N", default=str(DEFAULT_REPEATS),
                    help=f"{SWEEP_PARAMS['repeats'].help} Default {DEFAULT_REPEATS}.")
    sw.add_argument("--csv", metavar="PATH", help="write a row per run, with the derived numbers, as CSV")
    sw.add_argument("--json", metavar="PATH", help="write the sweep (plan, points, derived numbers) as JSON")
    sw.add_argument("--png", metavar="PATH", help="write the speedup and efficiency charts as one PNG")
    sw.add_argument("--svg", metavar="PATH", help="write the speedup and efficiency charts as one SVG")
    sw.add_argument("--width", metavar="PX", default="1600", help="width of the PNG in pixels (default 1600)")

    sub.add_parser("executors", help="list every executor and whether it can run here")
    sub.add_parser("calibrate", add_help=False,
                   help="measure again how much work a second of cpu and hash tasks is here (see calibrate --help)")
    sub.add_parser("self-test", add_help=False,
                   help="check every executor, start method and the report on this machine (see self-test --help)")

    gui = sub.add_parser("gui", help="open the window (the default)")
    gui.add_argument("--preset", help="load this preset and run it")
    gui.add_argument("--screenshot", metavar="PATH",
                     help="with --preset: save a screenshot when the run ends, then exit")
    gui.add_argument("--spec", metavar="PATH", help="load this JSON spec (an object of spec fields) and run it")
    gui.add_argument("--size", metavar="WxH", type=window_size, default=(1600, 1000),
                     help="with --screenshot: the window's size (default 1600x1000)")
    return parser


def window_size(text: str) -> tuple[int, int]:
    """ "1280x720" → (1280, 720), for --size; argparse names the option in its error."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected WIDTHxHEIGHT in pixels, e.g. 1280x720") from None
    if not (320 <= w <= 10000 and 240 <= h <= 10000):
        raise argparse.ArgumentTypeError(f"{text!r}: allowed: 320x240 to 10000x10000")
    return w, h


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["self-test"]:  # its options are its own (concgui/cli/selftest.py)
        from .selftest import main as selftest_main

        return selftest_main(argv[1:])
    if argv[:1] == ["calibrate"]:  # its options are its own (concgui/cli/calibrate.py)
        from .calibrate import main as calibrate_main

        return calibrate_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in (None, "gui"):
        from ..gui.app import run_app

        return run_app(preset=getattr(args, "preset", None), screenshot=getattr(args, "screenshot", None),
                       spec_file=getattr(args, "spec", None), size=getattr(args, "size", (1600, 1000)))
    try:
        if args.command == "executors":
            return _executors()
        if args.command == "run":
            return _run(args)
        if args.command == "compare":
            return _compare(args)
        if args.command == "sweep":
            return _sweep(args)
    except SpecError as exc:
        print(f"concgui: bad input: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OSError, RuntimeError) as exc:  # RuntimeError: the engine process failed (it says why)
        print(f"concgui: {exc}", file=sys.stderr)
        return EXIT_FAILED
    parser.error(f"unknown command {args.command}")
    return EXIT_BAD_INPUT


def _executors() -> int:
    for row in list_executors():
        state = "available" if row["available"] else f"unavailable: {row['reason']}"
        print(f"{row['name']:18} {state:12}  {row['description']}")
    return EXIT_OK


def interruptibly(work: Callable[[], T], stop: Callable[[], None], what: str = "") -> T:
    """``work()`` in a helper thread, so Ctrl+C calls ``stop()`` and waits for it to end cleanly
    instead of tearing it down; its result, or its exception raised here."""
    box: dict[str, Any] = {}
    done = threading.Event()  # not Thread.join: a Ctrl+C inside join can leave it believing the thread ended

    def target() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="concgui-cli-work", daemon=True).start()
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        print(f"\nconcgui: stopping{what}...", file=sys.stderr)
        stop()
        done.wait()
    if "error" in box:
        raise box["error"]
    return box["result"]


def exit_code(results: list[RunResult]) -> int:
    """EXIT_FAILED if a run did not finish (failed, stopped, interrupted), EXIT_TASKS_FAILED if one finished with
    tasks that raised, else EXIT_OK."""
    if any(r.status != "ok" for r in results):
        return EXIT_FAILED
    if any(t.status == ERROR for r in results for t in r.tasks):
        return EXIT_TASKS_FAILED
    return EXIT_OK


def recorded(spec: ExperimentSpec, recorder: RunRecorder, baseline: RunResult | None = None) -> RunResult:
    """Run ``spec`` interruptibly, kept by ``recorder`` as it goes; a run that failed midway is closed as
    failed in the history and its files before the error goes on.  Inline, a task cannot end this process."""
    try:
        result = execute_interruptibly(spec, recorder, baseline)
    except RuntimeError as exc:  # the engine process failed: what it did is kept, marked failed
        partial = recorder.end(None, f"{exc}")
        for path, save in ((recorder.json_path, save_result), (recorder.csv_path, save_csv)):
            if partial is not None and path:
                save(path, partial)
        print_notes(recorder)
        raise
    result = recorder.end(result) or result
    print_notes(recorder)
    return result


def execute_interruptibly(spec: ExperimentSpec, on_events: Callable[[list[Event]], None] | None = None,
                          baseline: RunResult | None = None) -> RunResult:
    """Run in a helper thread so Ctrl+C cancels the run cleanly instead of tearing it down (the command line's
    runs and the notebook's); inline, a task cannot end this process (:func:`exits_refused`)."""
    run = start(spec, on_events, baseline)
    with exits_refused(spec):
        return interruptibly(run.execute, run.cancel)


def exits_refused(spec: ExperimentSpec) -> contextlib.AbstractContextManager:
    """While a run of ``spec`` goes in this process (isolation inline), a task's ``os._exit`` is refused
    (:mod:`..engine.exit_guard`): it would end ``concgui``, or a notebook's kernel, looking like success."""
    return exit_refused() if spec.isolation == "inline" else contextlib.nullcontext()


class Echo:
    """Prints the seed notebook's lines as events arrive."""

    def __init__(self) -> None:
        self._lines = EchoLines()

    def __call__(self, events: list[Event]) -> None:
        for line in self._lines.lines(events):
            print(line, flush=True)


def _run(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    check_folders(args.json, args.csv, args.trace, args.png)  # before the run, not after it
    recorder = RunRecorder(args.json, args.csv, history=not args.no_history, then=Echo() if args.echo else None)
    result = recorded(spec, recorder)
    print(format_summary(result))
    if args.json:
        save_result(args.json, result)
    if args.csv:
        save_csv(args.csv, result)
    if args.trace:
        save_trace(args.trace, result)
    if args.png:
        from ..gui.report import save_report_png

        save_report_png(result, args.png)
    return exit_code([result])


def _compare(args: argparse.Namespace) -> int:
    names = [n.strip() for n in args.executors.split(",") if n.strip()]
    if not names:
        raise SpecError("executors", "is empty; give a comma-separated list such as sequential,threads")
    specs = [spec_from_args(args, executor=n) for n in names]  # validates every one before any runs
    results: list[RunResult] = []
    check_folders(args.json)
    for spec in specs:
        results.append(recorded(spec, RunRecorder(history=not args.no_history), results[0] if results else None))
        if results[-1].status == "cancelled":
            break
    print(format_comparison(results))
    why = format_compare_why(results)
    if why:
        print(why)
    if args.json:
        save_results(args.json, results)
    return exit_code(results)


def _whole(name: str, text: str) -> int:
    """A whole number typed on the command line (read as the spec reads its whole numbers), or a SpecError
    naming ``name``; its range is checked where it is used."""
    try:
        return parse_value("tasks", text)
    except SpecError:
        raise SpecError(name, f"{text!r} is not a whole number") from None


def _sweep(args: argparse.Namespace) -> int:
    from ..engine.environment import cpu_count
    from ..engine.sweep import default_max_workers, plan_sweep, run_sweep

    base = spec_from_args(args)
    names = [n.strip() for item in (args.executors or ["process-pool"]) for n in item.split(",")]
    max_workers = _whole("max_workers", args.max_workers) if args.max_workers else default_max_workers()
    repeats = _whole("repeats", args.repeats)
    width = _whole("width", args.width)
    if not 200 <= width <= 10_000:
        raise SpecError("width", f"{width} is not allowed; allowed: a whole number from 200 to 10,000")
    plan = plan_sweep(base, names, max_workers, repeats)  # bad input stops here, before any run
    names = {e: executor_label({**base.to_dict(), "executor": e}) for e in plan.executors}  # joblib (loky)
    width_names = max([16, *map(len, names.values())])
    print(f"sweep: {base.workload} × {count(base.tasks, 'task')} on {', '.join(names.values())}; workers "
          f"{', '.join(map(str, plan.worker_counts))}; {count(repeats, 'repeat')}; {count(cpu_count(), 'core')} "
          f"here; {count(len(plan.points), 'run')}", flush=True)
    if base.tasks < max_workers:
        print(f"note: {count(base.tasks, 'task')} {plural(base.tasks, 'keeps', 'keep')} at most "
              f"{count(base.tasks, 'worker')} busy", flush=True)

    def on_point(p, sweep) -> None:
        tail = f"  {p.error.splitlines()[0]}" if p.error and p.status != "ok" else ""
        workers = f"{p.workers:>4} {plural(p.workers, 'worker'):7}"
        name = f"{names[p.executor]:{width_names}}"
        print(f"[{len(sweep.points):>3}/{sweep.planned}] {name} {workers}  repeat {p.repeat + 1}  "
              f"wall {seconds(p.wall_seconds):>9}  {p.status}{tail}", flush=True)

    cancel = threading.Event()
    with exits_refused(base):
        sweep = interruptibly(lambda: run_sweep(plan, on_point=on_point, cancel=cancel), cancel.set, " the sweep")
    print(format_sweep(sweep))
    _write_sweep_files(args, sweep, width)
    complete = len(sweep.points) == sweep.planned
    return EXIT_OK if complete and not sweep.failed() else EXIT_FAILED


def _write_sweep_files(args: argparse.Namespace, sweep, width: int) -> None:
    from ..engine.sweep import save_sweep_csv, save_sweep_json

    if args.csv:
        save_sweep_csv(args.csv, sweep)
    if args.json:
        save_sweep_json(args.json, sweep)
    if args.png or args.svg:
        from ..gui.views.scaling import save_sweep_png, save_sweep_svg

        if args.png:
            save_sweep_png(sweep, args.png, width)
        if args.svg:
            save_sweep_svg(sweep, args.svg)

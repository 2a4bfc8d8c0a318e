"""``%load_ext concgui`` and the ``%concgui`` line magic: the ``concgui`` command's syntax in a notebook.

``%concgui compare --executors sequential,threads --workload sleep --tasks 3 --duration 2``
parses its line with the command line's own parser and builds its specs as the command line
does, so options, defaults and error messages are the same; the runs go through
:mod:`concgui.notebook.experiments`, and the magic returns what ``run``, ``compare`` or ``sweep``
return, which shows itself as the cell's output. Files named by ``--json``, ``--csv``,
``--png`` ... are written as the command line writes them.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shlex
from typing import Any

from ..cli import _whole, _write_sweep_files, build_parser, spec_from_args
from ..engine import SpecError
from . import experiments

NOT_HERE = {
    "gui": "%concgui gui would open the window inside the kernel; run `concgui gui` in a terminal",
    "self-test": "run `concgui self-test` in a terminal",
}


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%concgui`` with IPython (what ``%load_ext concgui`` calls)."""
    ipython.register_magic_function(concgui_magic, magic_kind="line", magic_name="concgui")


def concgui_magic(line: str) -> Any:
    """``%concgui run|compare|sweep|executors [options]``, as the ``concgui`` command takes them
    (``%concgui compare --help`` lists the options)."""
    from IPython.core.error import UsageError

    try:
        argv = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"concgui: {exc}") from None
    if argv[:1] == ["self-test"] or not argv or argv[0] == "gui":
        raise UsageError(f"concgui: {NOT_HERE['self-test' if argv[:1] == ['self-test'] else 'gui']}")
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse printed --help or --version, or names the bad option
        if exc.code in (0, None):
            return None
        raise UsageError(errors.getvalue().strip()) from None
    try:
        return _dispatch(args)
    except SpecError as exc:
        raise UsageError(f"concgui: bad input: {exc}") from None


def _dispatch(args: argparse.Namespace) -> Any:
    if args.command == "executors":
        from ..cli import main

        main(["executors"])
        return None
    if args.command == "run":
        shown = experiments.run(spec_from_args(args), echo=args.echo)
        _write_run_files(args, shown.result)
        return shown
    if args.command == "compare":
        shown = experiments.compare(args.executors, spec_from_args(args))
        if args.json:
            from ..engine.exports import save_results

            save_results(args.json, shown.results)
        return shown
    if args.command == "sweep":
        width = _whole("width", args.width)
        if not 200 <= width <= 10_000:
            raise SpecError("width", f"{width} is not allowed; allowed: a whole number from 200 to 10,000")
        names = [n.strip() for item in (args.executors or ["process-pool"]) for n in item.split(",")]
        shown = experiments.sweep(names, spec_from_args(args), repeats=_whole("repeats", args.repeats),
                                  max_workers=_whole("max_workers", args.max_workers) if args.max_workers else None)
        _write_sweep_files(args, shown.sweep, width)
        return shown
    raise SpecError("command", f"{args.command!r} is not allowed; allowed: run, compare, sweep, executors")


def _write_run_files(args: argparse.Namespace, result: Any) -> None:
    """``--json``, ``--csv``, ``--trace`` and ``--png``, as ``concgui run`` writes them."""
    from ..engine.exports import save_csv, save_result, save_trace

    if args.json:
        save_result(args.json, result)
    if args.csv:
        save_csv(args.csv, result)
    if args.trace:
        save_trace(args.trace, result)
    if args.png:
        from ..gui.report import save_report_png

        save_report_png(result, args.png)

"""``run``, ``compare`` and ``sweep`` for a notebook or a REPL, and the objects they return.

They take the spec's fields as keywords (or a spec, or its dict, plus changes), validate them
with the spec before anything runs, and run each experiment the way ``concgui run`` and
``concgui compare`` do: in its own engine process (``isolation="inline"`` runs it here), on a
helper thread so that interrupting the kernel (or Ctrl+C) stops the run cleanly. No window
opens and no Qt event loop runs.

What they return displays itself: in Jupyter the picture (SVG) and the table (HTML), in a REPL
the command line's text table; ``.save("x.png" | "x.svg")`` writes the picture and ``.show()``
opens it in a window when Qt is available.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from ..cli import Echo, execute_interruptibly, exits_refused, interruptibly
from ..cli.tables import format_compare_why, format_comparison, format_summary, format_sweep
from ..engine import ExperimentSpec, RunResult, SpecError
from ..engine.exports import write_atomic
from ..engine.present import plural, seconds
from ..engine.spec import executor_label
from ..engine.sweep import DEFAULT_REPEATS, SweepPoint, SweepResult, default_max_workers, plan_sweep, run_sweep
from ..engine.why import explain
from .scaling import render_scaling
from .scaling import title_text as sweep_title
from .stack import render_stack, title_text
from .tables import comparison_html, sweep_html

SpecLike = ExperimentSpec | Mapping[str, Any] | None


def make_spec(spec: SpecLike = None, fields: Mapping[str, Any] | None = None, *,
              not_here: Mapping[str, str] | None = None) -> ExperimentSpec:
    """``spec`` (a spec, its dict or None for the defaults) with ``fields`` changed, validated.

    Raises SpecError naming the field and what is allowed: for an unknown name, a wrong value, or a
    field in ``not_here`` (name -> what to do instead) that the caller sets itself.
    """
    fields = dict(fields or {})
    for name, instead in (not_here or {}).items():
        if name in fields:
            raise SpecError(name, instead)
    if isinstance(spec, ExperimentSpec):
        values = spec.to_dict()
    elif isinstance(spec, Mapping):
        values = dict(spec)
    elif spec is None:
        values = {}
    else:
        raise SpecError("spec", f"{type(spec).__name__} is not allowed; allowed: an ExperimentSpec, a dict of "
                                "its fields, or none")
    values.update(fields)
    return ExperimentSpec.from_dict(values)


def executor_names(executors: str | Sequence[str]) -> list[str]:
    """A list of executor names from "a,b" or ["a", "b"]; SpecError when empty or not text."""
    if isinstance(executors, str):
        executors = executors.split(",")
    if not isinstance(executors, Sequence) or not all(isinstance(n, str) for n in executors):
        raise SpecError("executors", f"{executors!r} is not allowed; allowed: a list of executor names such as "
                                     "['sequential', 'threads'], or 'sequential,threads'")
    names = [n.strip() for n in executors if n.strip()]
    if not names:
        raise SpecError("executors", "is empty; give a list such as ['sequential', 'threads']")
    return names


class Picture:
    """What the notebook functions return: a picture and a table that show themselves anywhere."""

    title = "ConcGUI"

    def svg(self) -> str:
        """The picture as an SVG document."""
        raise NotImplementedError

    def table_html(self) -> str:
        """The numbers as an HTML table."""
        raise NotImplementedError

    def text(self) -> str:
        """The numbers as the command line prints them."""
        raise NotImplementedError

    # --- Jupyter's display protocol ---------------------------------------------------------------
    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_html_(self) -> str:
        return self.table_html()

    def _ipython_display_(self) -> None:
        """The picture and the table as two outputs: a front end shows one format per output, and would
        pick the HTML over the SVG."""
        from IPython.display import display

        display({"image/svg+xml": self.svg(), "text/plain": f"<{self.title}>"}, raw=True)
        display({"text/html": self.table_html(), "text/plain": self.text()}, raw=True)

    def __repr__(self) -> str:
        return self.text()

    # --- files and windows ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, width: int = 1600) -> Path:
        """Write the picture to ``path``: ``.svg`` as drawn, ``.png`` ``width`` pixels wide (drawn by Qt,
        offscreen when there is no display). Returns the path."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".svg":
            write_atomic(path, lambda f: f.write(self.svg()))
        elif suffix == ".png":
            from .qt import save_png

            save_png(self.svg(), path, width)
        else:
            raise ValueError(f"path: {path.name!r} is not allowed; allowed: a file name ending in .png or .svg")
        return path

    def show(self, block: bool = True) -> Any:
        """Open the picture in a window (needs Qt and a display) and return it; ``block`` waits until it
        is closed, False returns at once (a session whose Qt event loop runs: IPython's ``%gui qt``)."""
        from .qt import show

        return show(self.svg(), self.title, block)


class Timelines(Picture):
    """Finished runs (one from :func:`run`, several from :func:`compare`): their timeline stack and numbers.

    Iterating gives the :class:`~concgui.engine.RunResult` objects; the first is the baseline of
    the others' speedup.
    """

    def __init__(self, results: Sequence[RunResult]) -> None:
        self.results = list(results)
        self.title = title_text(self.results)

    @property
    def result(self) -> RunResult:
        """The first run: :func:`run`'s only one, :func:`compare`'s baseline."""
        return self.results[0]

    def __iter__(self) -> Iterator[RunResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, i: int) -> RunResult:
        return self.results[i]

    @cached_property
    def _svg(self) -> str:
        return render_stack(self.results)

    def svg(self) -> str:
        return self._svg

    def table_html(self) -> str:
        return comparison_html(self.results)

    def text(self) -> str:
        if len(self.results) == 1:
            return format_summary(self.results[0])
        why = format_compare_why(self.results)
        return format_comparison(self.results) + (f"\n{why}" if why else "") + "".join(
            f"\n{executor_label(r.spec)}: {explain(r)}" for r in self.results)


class Scaling(Picture):
    """A finished scaling study (:func:`sweep`): its speedup chart and table; ``.sweep`` holds the data."""

    def __init__(self, sweep: SweepResult) -> None:
        self.sweep = sweep
        self.title = sweep_title(sweep)

    @cached_property
    def _svg(self) -> str:
        return render_scaling(self.sweep)

    def svg(self) -> str:
        return self._svg

    def table_html(self) -> str:
        return sweep_html(self.sweep)

    def text(self) -> str:
        return format_sweep(self.sweep)


def run(spec: SpecLike = None, /, *, echo: bool = False, **fields: Any) -> Timelines:
    """Run one experiment: ``run(workload="sleep", executor="threads", tasks=3, duration=2)``.

    ``echo`` prints the seed notebook's lines as the run goes (``Task 0 started`` ...).
    """
    result = execute_interruptibly(make_spec(spec, fields), Echo() if echo else None)
    return Timelines([result])


def compare(executors: str | Sequence[str], spec: SpecLike = None, **fields: Any) -> Timelines:
    """Run one workload on each executor in turn, the first being the baseline of the others' speedup:
    ``compare(["sequential", "threads"], workload="sleep", tasks=3, duration=2)``.

    Every spec is validated before the first run; a run that is stopped ends the comparison.
    """
    base = make_spec(spec, fields, not_here={"executor": "compare runs executors=[...]; give them there, the "
                                                         "first is the baseline"})
    specs = [base.with_(executor=n) for n in executor_names(executors)]
    results: list[RunResult] = []
    for s in specs:
        results.append(execute_interruptibly(s, baseline=results[0] if results else None))
        if results[-1].status == "cancelled":
            break
    return Timelines(results)


def sweep(executors: str | Sequence[str] = ("process-pool",), spec: SpecLike = None, *,
          max_workers: int | None = None, repeats: int = DEFAULT_REPEATS, progress: bool = True,
          **fields: Any) -> Scaling:
    """A scaling study: the workload with 1, 2, 4, … up to ``max_workers`` workers (default twice the
    cores) on each executor, each point ``repeats`` times, interleaved; ``progress`` prints a line per run.

    ``sweep(["process-pool", "thread-pool"], workload="cpu", tasks=8, duration=0.25, max_workers=4)``
    """
    base = make_spec(spec, fields, not_here={"workers": "a sweep varies it; give max_workers=N instead",
                                             "executor": "a sweep runs executors=[...]; give them there"})
    plan = plan_sweep(base, executor_names(executors),
                      default_max_workers() if max_workers is None else max_workers, repeats)
    cancel = threading.Event()

    def on_point(p: SweepPoint, so_far: SweepResult) -> None:
        if progress:
            print(f"[{len(so_far.points):>3}/{so_far.planned}] {so_far.label(p.executor)} × {p.workers} "
                  f"{plural(p.workers, 'worker')}, repeat {p.repeat + 1}: wall {seconds(p.wall_seconds)} {p.status}",
                  flush=True)

    with exits_refused(base):
        result = interruptibly(lambda: run_sweep(plan, on_point=on_point, cancel=cancel), cancel.set, " the sweep")
    return Scaling(result)

"""concgui.notebook from Python: real runs through the engine, validated input, the %concgui magic."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from concgui import notebook as cg
from concgui.engine import SpecError
from concgui.engine.present import seconds


def test_compare_runs_each_executor_in_an_engine_process_and_shows_a_timeline_each():
    shown = cg.compare(["sequential", "threads"], workload="sleep", tasks=3, duration=0.2)
    seq, thr = shown
    assert [r.spec["isolation"] for r in shown] == ["process", "process"]
    assert seq.wall_seconds == pytest.approx(0.6, abs=0.15) and thr.wall_seconds == pytest.approx(0.2, abs=0.1)
    svg = ET.fromstring(shown._repr_svg_())
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert any(t.startswith("sequential ·") for t in texts) and any(t.startswith("threads ·") for t in texts)
    assert {f"wall {seconds(r.wall_seconds)}" for r in shown} <= set(texts)
    assert {"task 0 · main thread", "task 2 · thread 3"} <= set(texts)  # a row per task: the staircase
    html = shown._repr_html_()
    assert "<table" in html and f"{thr.wall_seconds:.3f}" in html and "speedup" in html
    assert "Why:" in html and "concurrency" in html  # the plain-language explanation
    assert "speedup" in repr(shown) and "threads" in repr(shown)  # a REPL gets the CLI's table


def test_run_echoes_the_seed_lines_and_sweep_measures_speedup(capsys):
    one = cg.run(workload="sleep", executor="threads", tasks=2, duration=0.05, echo=True, isolation="inline")
    out = capsys.readouterr().out
    assert "Task 1 started" in out and "All tasks done" in out and one.result.status == "ok"
    study = cg.sweep(["thread-pool"], workload="sleep", tasks=4, duration=0.05, max_workers=2, repeats=1,
                     isolation="inline", progress=False)
    assert [(s.workers, s.runs) for s in study.sweep.stats("thread-pool")] == [(1, 1), (2, 1)]
    assert study.sweep.stats("thread-pool")[1].speedup > 1.5
    assert "thread-pool" in study._repr_svg_() and "serial fraction" in study._repr_html_()


class _ShownText(HTMLParser):
    """Each <li>'s text as a browser lays it out: a run of white space (a newline too) is one space, <br> a
    line break."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "li":
            self.items.append("")
        elif tag == "br" and self.items:
            self.items[-1] += "\n"

    def handle_data(self, data: str) -> None:
        if self.items:
            self.items[-1] += re.sub(r"\s+", " ", data)


def test_the_comparison_tables_why_keeps_each_note_on_its_own_line():
    from concgui.engine.records import RunResult, TaskRecord
    from concgui.engine.why import NOTE, explain
    from concgui.notebook.tables import comparison_html

    # three sleeps side by side while other programs used 1.2 cores: the explanation, then a note
    tasks = [TaskRecord(i, f"w{i}", 10, 1, 0.0, 0.003, 2.003, 0.0, "ok") for i in range(3)]
    run = RunResult(spec={"workload": "sleep", "executor": "threads", "tasks": 3, "duration": 2.0},
                    environment={"other_programs_cores": 1.2}, startup_seconds=0.003, wall_seconds=2.0, workers=3,
                    tasks=tasks)
    lines = explain(run).splitlines()
    assert len(lines) == 2 and lines[1].startswith(NOTE + "Other programs used 1.2 cores")
    shown = _ShownText()
    shown.feed(comparison_html([run]))
    assert shown.items == [f"threads: {lines[0]}\n{lines[1]}"]  # the note on a line of its own


@pytest.mark.parametrize("call, field, allowed", [
    (lambda: cg.run(taks=3), "taks", "allowed: workload, executor, tasks"),
    (lambda: cg.run(tasks=0), "tasks", "from 1 to 1,000,000"),
    (lambda: cg.run(workload="sleeep"), "workload", "one of sleep, cpu"),
    (lambda: cg.compare([]), "executors", "sequential"),
    (lambda: cg.compare(["sequential", "nope"]), "executor", "one of sequential"),
    (lambda: cg.compare(executors=["sequential"], tasks=0), "tasks", "from 1"),  # by name too, as people write it
    (lambda: cg.compare(["sequential"], executor="threads"), "executor", "executors=[...]"),
    (lambda: cg.sweep(workers=2), "workers", "max_workers"),
    (lambda: cg.sweep(max_workers=0), "max_workers", "from 1 to"),
])
def test_bad_input_names_the_field_and_what_is_allowed(call, field, allowed):
    with pytest.raises(SpecError) as err:
        call()
    assert err.value.field == field and allowed in str(err.value)


@pytest.fixture
def ipython():
    """A real IPython shell (no history thread) with ``%load_ext concgui`` done."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "concgui")
    yield shell
    InteractiveShell.clear_instance()


def test_the_magic_takes_the_command_lines_syntax_and_errors(ipython):
    from IPython.core.error import UsageError

    shown = ipython.run_line_magic("concgui", "compare --executors sequential,threads --workload sleep --tasks 2 "
                                              "--duration 0.05 --inline")
    assert [r.spec["executor"] for r in shown] == ["sequential", "threads"]
    assert all(r.spec["isolation"] == "inline" and r.status == "ok" for r in shown)
    for line, message in [("compare --workload sleep", "the following arguments are required: --executors"),
                          ("compare --executors threads --bogus", "unrecognized arguments: --bogus"),
                          ("run --tasks 0", "bad input: tasks: 0 is out of range; allowed: a whole number"),
                          ("gui", "in a terminal")]:
        with pytest.raises(UsageError, match=message):
            ipython.run_line_magic("concgui", line)


QT_FREE = """
import sys
from concgui import notebook as cg
shown = cg.compare(["sequential", "thread-pool"], workload="noop", tasks=50, isolation="inline")
assert "<svg" in shown._repr_svg_() and "<table" in shown._repr_html_()
assert not [m for m in sys.modules if m.startswith(("PySide6", "pyqtgraph", "concgui.gui"))]
print("ok")
"""


def test_runs_and_pictures_need_no_qt(child_env):
    """A notebook's kernel never imports Qt: only .save("x.png") and .show() do."""
    out = subprocess.run([sys.executable, "-c", QT_FREE], env=child_env(), capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


@pytest.mark.parametrize("call", ["cg.run(workload='custom', function='os:_exit', tasks=2, isolation='inline')",
                                  "cg.sweep(['thread-pool'], workload='custom', function='os:_exit', tasks=2, "
                                  "max_workers=1, repeats=1, isolation='inline', progress=False).sweep"])
def test_a_task_ending_the_kernel_inline_is_refused_and_the_kernel_goes_on(child_env, call):
    """Run inline in a notebook, a task's os._exit would end the kernel without a word (issue 18, F12)."""
    code = f"from concgui import notebook as cg\nshown = {call}\nprint('kernel still here', repr(shown)[:60])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env(),
                          timeout=60)
    assert proc.returncode == 0 and "kernel still here" in proc.stdout, (proc.returncode, proc.stderr[-1500:])

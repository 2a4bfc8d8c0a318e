"""Checking a custom task function as it is typed, the way the engine will before a run.

The engine loads ``module:function`` or ``file.py:function`` only when a run starts
(:func:`concgui.engine.runner.make_job`), so a typo used to be refused after Run.
:class:`FunctionCheck` runs that same check as the field changes, in a fresh Python
process started with :class:`QProcess`: the window never waits, the person's module
is imported where the engine would import it (the interpreter the engine runs on,
with the module path it would see), and nothing of it stays in the window's process,
so a file fixed afterwards is read anew by the next check.

The module's import is timed from outside, as the engine's parent times it: the check says when it
begins the import, and is killed (with its process group) :data:`IMPORT_TIMEOUT` seconds later. A
thread inside cannot give up on an import that holds the GIL.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment

from ..engine.import_check import timeout_message
from ..engine.isolation import IMPORT_SLACK, PACKAGE_ROOT
from ..engine.runner import IMPORT_TIMEOUT
from .helper_process import HelperProcess

#: the start of a cold interpreter importing ConcGUI, before the module's import is timed
START_TIMEOUT_MS = 10_000
#: the engine's own import limit, counted from the check's word that the import begins
CHECK_TIMEOUT_MS = int(IMPORT_TIMEOUT * 1000)
#: what the check says on its own line before it imports the module
IMPORTING = "importing"

# Run in a fresh interpreter with the function's reference as its one argument: the engine's
# pre-run check, then whether the function takes the task index. The answer is the last line.
CHECK_SCRIPT = """\
import json, os, sys
from concgui.engine.runner import IMPORT_TIMEOUT, make_job
from concgui.engine.spec import ExperimentSpec, SpecError
from concgui.engine.workloads import load_function
ref = sys.argv[1]
sys.stdout.write("importing\\n")
sys.stdout.flush()
try:
    make_job(ExperimentSpec(workload="custom", function=ref), import_watched=True)  # timed by the window
    out = {"takes_index": load_function(ref, IMPORT_TIMEOUT)[1]}
except SpecError as exc:
    out = {"problem": str(exc).split(": ", 1)[-1]}
except BaseException as exc:
    out = {"problem": f"{ref!r}: {type(exc).__name__}: {exc}"}
sys.stdout.write("\\n" + json.dumps(out) + "\\n")
sys.stdout.flush()
os._exit(0)  # threads the module started (or an import that hangs) must not keep this process
"""

#: (reference, interpreter or "" for this one, runs inline): what one answer is about
CheckKey = tuple[str, str, bool]


def checkable() -> bool:
    """Whether functions can be checked here: a frozen bundle has no ``python -c`` (the engine checks at Run)."""
    return not getattr(sys, "frozen", False)


class FunctionCheck(HelperProcess):
    """Checks one function at a time; a new question drops the answer to the last.

    The answer (on :attr:`finished`, about :attr:`key`) is a dict with ``takes_index`` when the engine
    can load the function, or ``problem``: the engine's reason, as a run would be refused with it.
    """

    def __init__(self, parent: QObject | None = None, timeout_ms: int = CHECK_TIMEOUT_MS) -> None:
        super().__init__(parent, timeout_ms)
        #: what was asked last (None when nothing)
        self.key: CheckKey | None = None
        self._importing = False  # the check said it begins the import

    def start(self, key: CheckKey) -> None:
        """Check ``key``'s function in the background, as the engine of such a run would load it."""
        self.key, self._importing = key, False
        ref, python, inline = key
        # its whole group ends when stopped or timed out: the module may start processes
        proc = self._launch(python or sys.executable, ["-c", CHECK_SCRIPT, ref], _environment(python, inline),
                            START_TIMEOUT_MS)
        proc.readyReadStandardOutput.connect(self._output)  # in time: nothing is read before the event loop
        proc.closeWriteChannel()  # a module that reads stdin on import gets end-of-file, not a wait

    def forget(self) -> None:
        """Stop, and forget what was asked and what the answer was."""
        super().forget()
        self.key = None

    def _answer(self, code: int, reply: dict[str, Any] | None, error: str) -> dict[str, Any]:
        if reply is None:
            why = error or f"exit code {code}"
            return {"problem": f"could not be checked: the interpreter ended without an answer ({why})"}
        return reply

    def _start_failure(self, proc: QProcess) -> dict[str, Any]:
        return {"problem": f"could not be checked: {proc.errorString()}"}

    def _output(self) -> None:
        """The check's first line says it begins the import: from now on the import's own limit runs."""
        proc = self.sender()
        if proc is None or proc is not self._proc or self._importing or not proc.canReadLine():
            return
        if bytes(proc.peek(64).data()).split(b"\n", 1)[0].strip() == IMPORTING.encode():
            proc.readLine()
            self._importing = True
            self._timer.start(self.timeout_ms + int(IMPORT_SLACK * 1000))  # its own deadline passes first

    def _timeout_answer(self) -> dict[str, Any]:
        if self._importing:
            return {"problem": timeout_message(self.key[0], self.timeout_ms / 1000)}
        return {"problem": f"its check did not start within {START_TIMEOUT_MS / 1000:g} s "
                           "(is this a Python that can run ConcGUI?)"}


def _environment(python: str, inline: bool) -> QProcessEnvironment:
    """The module path the engine's import would see: this app's own for a run inside it, else the
    environment's, with this package findable (as the engine process is started with it)."""
    env = QProcessEnvironment.systemEnvironment()
    given = [p for p in sys.path if p] if inline else [env.value("PYTHONPATH")]
    paths = [str(PACKAGE_ROOT), *given] if python else [*given, str(PACKAGE_ROOT)]
    env.insert("PYTHONPATH", os.pathsep.join(filter(None, paths)))
    return env

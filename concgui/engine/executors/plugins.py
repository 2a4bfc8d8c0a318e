"""Executors whose code lives outside the engine: registered by their own module, found by name.

The Qt layer's QThreadPool executor is one: the engine keeps a stand-in (its name, title and
whether PySide6 is there) and the real one registers itself when its module is imported. The
package's metadata names such modules (entry points of the group :data:`PLUGIN_GROUP`), so the
stand-in imports its module only when asked to run: listing executors loads nothing, and the
engine never names a module above it.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Executor

PLUGIN_GROUP = "concgui.executors"
#: executor name -> the executor registered from outside the engine
REGISTERED: dict[str, Executor] = {}


def register(executor: Executor) -> None:
    """Put an executor whose code lives outside the engine in place of its stand-in.

    An engine process started from this one is told its module (see :func:`plugin_modules`).
    """
    REGISTERED[executor.name] = executor


def plugin_modules() -> dict[str, str]:
    """Executor name -> module, of the executors registered here or declared in the metadata.

    An engine process gets this on its command line: another interpreter that finds ConcGUI by
    path only has no metadata to read.
    """
    declared = {ep.name: ep.value.partition(":")[0] for ep in entry_points(group=PLUGIN_GROUP)}
    return {**declared, **{name: type(e).__module__ for name, e in REGISTERED.items()}}


def load_plugin(name: str, modules: dict[str, str] | None = None) -> Executor:
    """The executor ``name``, importing the module that registers it (named in ``modules`` or the
    metadata) if it has not registered yet; raises ImportError when there is none."""
    if name not in REGISTERED:
        module = (modules or {}).get(name) or plugin_modules().get(name)
        if not module:
            raise ImportError(f"no module registers the executor {name!r} (the package's metadata names none)")
        importlib.import_module(module)
        if name not in REGISTERED:
            raise ImportError(f"{module} did not register the executor {name!r}")
    return REGISTERED[name]

"""Every executor ConcGUI can run, by name, in the order people meet them.

An executor whose code lives outside the engine has a stand-in here (see :mod:`.plugins`).
"""

from __future__ import annotations

from .asyncio_loop import AsyncioLoop
from .base import Executor
from .dask_cluster import DaskCluster
from .interpreters import InterpreterPool
from .joblib_backend import Joblib
from .mp_pool import MultiprocessingPool
from .plugins import REGISTERED, load_plugin, plugin_modules, register
from .processes import Processes, ProcessPool
from .qt_pool import QtThreadPool
from .sequential import Sequential
from .threads import ThreadPool, Threads

#: name -> the executor that runs it (spec.EXECUTORS holds just the names)
REGISTRY: dict[str, Executor] = {
    e.name: e
    for e in (Sequential(), Threads(), ThreadPool(), ProcessPool(), Processes(), MultiprocessingPool(), Joblib(),
              AsyncioLoop(), QtThreadPool(), InterpreterPool(), DaskCluster())
}


def get_executor(name: str) -> Executor:
    """The executor called ``name``: one registered from outside the engine, else the engine's own."""
    return REGISTERED.get(name) or REGISTRY[name]


def list_executors() -> list[dict]:
    """Name, title, availability and reason of every executor; never raises."""
    rows = []
    for e in map(get_executor, REGISTRY):
        try:
            ok, reason = e.availability()
        except Exception as exc:  # noqa: BLE001 - an odd platform must not hide the list
            ok, reason = False, f"{type(exc).__name__}: {exc}"
        rows.append({"name": e.name, "title": e.title, "available": ok, "reason": reason,
                     "description": e.description})
    return rows


__all__ = ["REGISTRY", "Executor", "get_executor", "list_executors", "load_plugin", "plugin_modules", "register"]

"""Every executor ConcGUI can run, by name, in the order people meet them."""

from __future__ import annotations

import importlib

from .asyncio_loop import AsyncioLoop
from .base import Executor
from .dask_cluster import DaskCluster
from .interpreters import InterpreterPool
from .processes import Processes, ProcessPool
from .qt_pool import QtThreadPool
from .sequential import Sequential
from .threads import ThreadPool, Threads

#: name -> the executor that runs it (spec.EXECUTORS holds just the names)
REGISTRY: dict[str, Executor] = {
    e.name: e
    for e in (Sequential(), Threads(), ThreadPool(), ProcessPool(), Processes(), AsyncioLoop(),
              QtThreadPool(), InterpreterPool(), DaskCluster())
}


#: executor name -> the module outside the engine that registered it
_REGISTERED: dict[str, str] = {}


def register(executor: Executor) -> None:
    """Put an executor whose code lives outside the engine in place of its stand-in.

    The Qt layer registers its QThreadPool executor this way, so the engine never imports Qt.
    An engine process started from this one imports the same module when that executor runs.
    """
    REGISTRY[executor.name] = executor
    _REGISTERED[executor.name] = type(executor).__module__


def registered() -> dict[str, str]:
    """Executor name -> module, of every executor registered from outside the engine."""
    return dict(_REGISTERED)


def load_registered(name: str, modules: dict[str, str]) -> None:
    """Import the module that registers ``name``, when one was named; a module that cannot be
    imported here (no PySide6 for this Python) leaves the stand-in, which says why it cannot run."""
    if name in modules and name not in _REGISTERED:
        try:
            importlib.import_module(modules[name])
        except ImportError:
            pass


def get_executor(name: str) -> Executor:
    return REGISTRY[name]


def list_executors() -> list[dict]:
    """Name, title, availability and reason of every executor; never raises."""
    rows = []
    for e in REGISTRY.values():
        try:
            ok, reason = e.availability()
        except Exception as exc:  # noqa: BLE001 - an odd platform must not hide the list
            ok, reason = False, f"{type(exc).__name__}: {exc}"
        rows.append({"name": e.name, "title": e.title, "available": ok, "reason": reason,
                     "description": e.description})
    return rows


__all__ = ["REGISTRY", "Executor", "get_executor", "list_executors", "register", "registered"]

"""Entry point of ``concgui``, ``python -m concgui`` and ``python main.py``.

The engine-process dispatch comes before anything imports Qt, and
``freeze_support()`` first of all, so a frozen app's worker processes never
open a second window.
"""

from __future__ import annotations

import multiprocessing
import sys

from . import loky_frozen


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    loky_frozen.divert()  # a frozen app started as one of joblib's loky workers is that worker
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["engine"]:
        from .engine.isolation import parse_registered, serve

        return serve(modules=parse_registered(argv[1:]))
    if argv[:1] == ["sampler"]:  # the CPU sampler process of a run (see concgui.engine.cpu_probe)
        from .engine.cpu_probe import main as sampler_main

        return sampler_main(argv[1:])
    from .cli import main as cli_main

    return cli_main(argv)



if __name__ == "__main__":
    sys.exit(main())

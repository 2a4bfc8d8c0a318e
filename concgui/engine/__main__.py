"""``python -m concgui.engine``: the engine process (see :mod:`concgui.engine.isolation`)."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from concgui.engine.isolation import parse_registered, serve

    sys.exit(serve(modules=parse_registered(sys.argv[1:])))

"""ConcGUI launcher: ``python main.py`` does what the ``concgui`` command does."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from concgui.__main__ import main

    sys.exit(main())

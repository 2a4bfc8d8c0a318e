"""ConcGUI: see, live, the difference between concurrency and parallelism in Python."""

__version__ = "0.1.0"


def load_ipython_extension(ipython) -> None:
    """``%load_ext concgui``: adds the ``%concgui`` line magic (see :mod:`concgui.notebook.magic`)."""
    from .notebook.magic import load_ipython_extension as load

    load(ipython)

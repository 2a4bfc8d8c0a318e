"""ConcGUI: see, live, the difference between concurrency and parallelism in Python."""

__version__ = "0.1.0"

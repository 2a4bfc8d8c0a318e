"""The widgets the main window is made of, each over a plain-Python model."""

"""The PySide6 window: forms, live views, history and export, over the Qt-free engine."""

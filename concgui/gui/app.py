"""Starting the window: the QApplication, theme, error reporting and the screenshot mode."""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback

from ..engine.paths import user_data_dir

log = logging.getLogger("concgui")


def _setup_logging() -> None:
    try:
        folder = user_data_dir()
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(folder / "concgui.log", encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def _install_error_hooks() -> None:
    """Log unhandled exceptions from any thread and show the first one; never abort."""
    shown = threading.Event()

    def report(exc_type, exc, tb) -> None:
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("unhandled exception\n%s", text)
        print(text, file=sys.stderr)
        if shown.is_set() or threading.current_thread() is not threading.main_thread():
            return
        shown.set()
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, "ConcGUI: unexpected error",
                             f"{exc_type.__name__}: {exc}\n\nDetails are in {user_data_dir() / 'concgui.log'}.")

    sys.excepthook = report
    threading.excepthook = lambda args: report(args.exc_type, args.exc_value, args.exc_traceback)


def run_app(preset: str | None = None, screenshot: str | None = None, history_path: str | None = None) -> int:
    """Open the main window; with ``preset`` run it; with ``screenshot`` save the window when done and exit."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    QCoreApplication.setOrganizationName("ConcGUI")
    QCoreApplication.setApplicationName("ConcGUI")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    _setup_logging()
    _install_error_hooks()
    import pyqtgraph as pg

    from .theme import plot_colors

    colors = plot_colors()
    pg.setConfigOptions(antialias=True, background=colors["background"], foreground=colors["foreground"])
    from .main_window import MainWindow

    window = MainWindow(history_path)
    window.show()
    _close_on_sigterm(window)
    if os.environ.get("CONCGUI_REPORT_SHOWN"):  # the benchmark's start-up probe
        QTimer.singleShot(0, lambda: _report_shown(app))
    if preset:
        def start() -> None:
            try:
                window.run_preset(preset, screenshot)
            except KeyError as exc:
                print(f"concgui: bad input: {exc.args[0]}", file=sys.stderr)
                app.exit(2)

        QTimer.singleShot(0, start)
    return app.exec()


def _close_on_sigterm(window) -> None:
    """SIGTERM closes the window as a click would: the run stops, nothing is left behind."""
    import signal

    from PySide6.QtCore import QTimer

    if not hasattr(signal, "SIGTERM"):
        return
    signal.signal(signal.SIGTERM, lambda *_: QTimer.singleShot(0, window.close))
    wake = QTimer(window)  # Python handles signals only when it runs: give it a moment regularly
    wake.timeout.connect(lambda: None)
    wake.start(200)


def _report_shown(app) -> None:
    """Print seconds from process start to the window's first paint, then quit."""
    import time

    import psutil

    app.processEvents()
    print(f"window-shown {time.time() - psutil.Process().create_time():.3f}", flush=True)
    app.quit()


def main() -> None:
    """Entry point of the ``concgui-gui`` launcher (no console on Windows)."""
    import multiprocessing

    multiprocessing.freeze_support()
    sys.exit(run_app())

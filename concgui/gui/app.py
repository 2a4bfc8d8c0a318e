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
    for old in [h for h in log.handlers if getattr(h, "concgui", False)]:  # one log file, the current one
        log.removeHandler(old)
        old.close()
    try:
        folder = user_data_dir()
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(folder / "concgui.log", encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.concgui = True
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def install_error_reporting() -> None:
    """Log to user_data_dir()/concgui.log, and report unhandled exceptions from any thread there.

    An exception in a Qt slot, a timer, a plot update or a helper thread is logged with its
    traceback and shown once, in a box that does not block the window; the app never aborts.
    """
    _setup_logging()
    _install_error_hooks()


class _Reporter:
    """Shows the first unhandled error in a non-modal box, on the GUI thread whoever raised it."""

    def __init__(self) -> None:
        from PySide6.QtCore import QObject, Signal

        class Bridge(QObject):
            report = Signal(str)

        self.bridge = Bridge()  # lives in the GUI thread: a signal emitted elsewhere is queued to it
        self.bridge.report.connect(self._show)
        self.box = None
        self.shown = threading.Event()

    def __call__(self, exc_type, exc, tb) -> None:
        try:
            text = "".join(traceback.format_exception(exc_type, exc, tb))
        except Exception:  # noqa: BLE001 - the report itself must not fail
            text = f"{exc_type.__name__}: (no traceback)"
        log.error("unhandled exception in thread %s\n%s", threading.current_thread().name, text)
        print(text, file=sys.stderr, flush=True)
        if self.shown.is_set():
            return
        self.shown.set()
        try:
            summary = f"{exc_type.__name__}: {exc}"
        except Exception:  # noqa: BLE001
            summary = exc_type.__name__
        try:
            self.bridge.report.emit(summary)
        except RuntimeError:  # the app is shutting down and the bridge is gone
            pass

    def _show(self, summary: str) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QMessageBox

        self.box = QMessageBox(QMessageBox.Icon.Critical, "ConcGUI: unexpected error",
                               f"{summary}\n\nConcGUI keeps running. Details are in {log_path()}; "
                               "later errors are only written there.")
        self.box.setWindowModality(Qt.WindowModality.NonModal)
        # the box alone must not keep the app running once the main window has closed (by SIGTERM, say)
        self.box.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
        self.box.show()


_reporter: _Reporter | None = None


def log_path():
    return user_data_dir() / "concgui.log"


def _install_error_hooks() -> None:
    """Log unhandled exceptions from any thread and show the first one; never abort."""
    global _reporter
    if _reporter is None:
        _reporter = _Reporter()
    reporter = _reporter
    sys.excepthook = reporter
    threading.excepthook = lambda args: reporter(args.exc_type, args.exc_value, args.exc_traceback)


def run_app(preset: str | None = None, screenshot: str | None = None, history_path: str | None = None,
            spec_file: str | None = None, size: tuple[int, int] = (1600, 1000)) -> int:
    """Open the main window; with ``preset`` (or ``spec_file``, a JSON spec) run it; with ``screenshot``
    save the window when done and exit."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    QCoreApplication.setOrganizationName("ConcGUI")
    QCoreApplication.setApplicationName("ConcGUI")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    install_error_reporting()
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
                window.run_preset(preset, screenshot, size)
            except KeyError as exc:
                print(f"concgui: bad input: {exc.args[0]}", file=sys.stderr)
                app.exit(2)

        QTimer.singleShot(0, start)
    elif spec_file:
        def start_spec() -> None:
            import json

            from ..engine import ExperimentSpec

            try:
                with open(spec_file, encoding="utf-8") as f:
                    spec = ExperimentSpec.from_dict(json.load(f))
            except (OSError, ValueError, TypeError) as exc:  # SpecError is a ValueError
                print(f"concgui: bad input: {spec_file}: {exc}", file=sys.stderr)
                app.exit(2)
                return
            window.form.set_spec(spec, probe=False)
            window.controller.start(spec)

        QTimer.singleShot(0, start_spec)
    return app.exec()


def _close_on_sigterm(window) -> None:
    """SIGTERM closes the window as a click would (the run stops, nothing is left behind), then ends the
    app whatever else is open: an error box, a dialog waiting in an event loop of its own."""
    import signal

    from PySide6.QtCore import QCoreApplication, QTimer

    if not hasattr(signal, "SIGTERM"):
        return

    def end() -> None:
        window.close()
        QCoreApplication.quit()  # every event loop, a modal dialog's too

    signal.signal(signal.SIGTERM, lambda *_: QTimer.singleShot(0, end))
    wake = QTimer(window)  # Python handles signals only when it runs: give it a moment regularly
    wake.timeout.connect(lambda: None)
    wake.start(200)


def _report_shown(app) -> None:
    """Print when (epoch seconds) the window was first painted, then quit: the launcher subtracts the moment
    it started the process. (The process's own creation time, as psutil gives it, counts from the boot time,
    which Linux keeps in whole seconds: it put up to a second too much into the figure.)"""
    import time

    app.processEvents()
    print(f"window-shown-at {time.time():.3f}", flush=True)
    app.quit()


def main() -> None:
    """Entry point of the ``concgui-gui`` launcher (no console on Windows)."""
    import multiprocessing

    multiprocessing.freeze_support()
    sys.exit(run_app())

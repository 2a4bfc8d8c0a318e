"""Hostile files (issue 18): export targets that are not files, run files that name programs or are too big.

Real devices, named pipes, sockets, folders and links, real run files and a real window. The devices are
the test's own nodes of the kernel's null and full devices (made with mknod, as root): an export that
wrongly replaced one replaces only that copy, never the system's /dev/null.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QProgressDialog, QPushButton

from concgui.engine import ExperimentSpec, RunResult, run
from concgui.engine.exports import save_csv, save_result, save_trace
from concgui.engine.sweep import SweepPoint, SweepResult, load_sweep_json, save_sweep_csv, save_sweep_json
from concgui.gui import image_export

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture(scope="module")
def result() -> RunResult:
    return run(ExperimentSpec(workload="sleep", executor="thread-pool", workers=2, tasks=3, duration=0.05,
                              isolation="inline"))


def _sweep() -> SweepResult:
    return SweepResult(spec=ExperimentSpec(workload="noop").to_dict(), executors=["threads"], worker_counts=[1],
                       repeats=1)


#: every export, by name: a function writing it to a path
EXPORTS = {
    "json": lambda r, p: save_result(p, r),
    "csv": lambda r, p: save_csv(p, r),
    "trace": lambda r, p: save_trace(p, r),
    "sweep json": lambda r, p: save_sweep_json(p, _sweep()),
    "sweep csv": lambda r, p: save_sweep_csv(p, _sweep()),
    "png": lambda r, p: image_export.save_image_png(_image(), p),
    "svg": lambda r, p: image_export.write_bytes_atomic(p, b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
}


def _image():
    from PySide6.QtGui import QImage

    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    image.fill(0xFF336699)
    return image


def _device(path: str | Path) -> tuple[int, int, int]:
    st = os.lstat(path)
    return st.st_mode, st.st_rdev, st.st_ino


@pytest.fixture
def dev(tmp_path) -> dict[str, Path]:
    """This test's own nodes of /dev/null (1, 3) and /dev/full (1, 7), in a folder of their own."""
    folder = tmp_path / "dev"
    folder.mkdir()
    nodes = {}
    for name, minor in (("null", 3), ("full", 7)):
        nodes[name] = folder / name
        try:
            os.mknod(nodes[name], 0o666 | stat.S_IFCHR, os.makedev(1, minor))
        except PermissionError:
            pytest.skip("making a device node needs root (CAP_MKNOD)")
    return nodes


def _read_pipe(fifo: Path, got: list[bytes], seconds: float = 10.0) -> None:
    """Read ``fifo`` until a writer has written and closed it, or ``seconds`` pass (never hangs: an export
    that replaced the pipe instead of writing into it leaves this reader with nothing, not stuck)."""
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    data, deadline = b"", time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                chunk = None
            if chunk:
                data += chunk
            elif chunk == b"" and data:
                break  # the writer closed it
            else:
                time.sleep(0.002)
    finally:
        os.close(fd)
        got.append(data)


# --- F10: an export never replaces what is not a file ----------------------------------------------
@pytest.mark.parametrize("export", list(EXPORTS))
def test_every_export_writes_through_a_null_device_and_leaves_the_node(qapp, result, export, dev):
    before = _device(dev["null"])
    EXPORTS[export](result, dev["null"])
    assert _device(dev["null"]) == before and stat.S_ISCHR(before[0])
    assert sorted(os.listdir(dev["null"].parent)) == ["full", "null"], "no temporary file beside it"


@pytest.mark.parametrize("export", ["json", "csv", "png"])
def test_a_full_device_fails_the_export_with_its_reason_and_stays_a_device(qapp, result, export, dev):
    before = _device(dev["full"])
    with pytest.raises(OSError) as err:
        EXPORTS[export](result, dev["full"])
    assert "No space left on device" in str(err.value) and str(dev["full"]) in str(err.value)
    assert _device(dev["full"]) == before


@pytest.mark.parametrize("export", list(EXPORTS))
def test_a_named_pipe_is_written_through_to_its_reader(qapp, tmp_path, result, export):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=_read_pipe, args=(fifo, got))
    reader.start()
    time.sleep(0.05)  # the reader has the pipe open
    try:
        EXPORTS[export](result, fifo)
    finally:
        reader.join(15)
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and got and got[0]
    if export == "json":
        assert json.loads(got[0])["tasks"][2]["index"] == 2


def test_a_named_pipe_nobody_reads_is_refused_after_a_short_wait(tmp_path, result, monkeypatch):
    from concgui.engine import exports

    monkeypatch.setattr(exports, "PIPE_WAIT", 0.3)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    with pytest.raises(OSError, match="no program opened to read within 0.3 s"):
        save_csv(fifo, result)
    assert time.monotonic() - t0 < 2 and stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.parametrize("export", list(EXPORTS))
def test_a_folder_or_a_socket_is_refused_and_left_as_it_was(qapp, tmp_path, result, export):
    folder = tmp_path / "a folder"
    folder.mkdir()
    (folder / "inside.txt").write_text("kept")
    with pytest.raises(OSError, match="is a folder"):
        EXPORTS[export](result, folder)
    assert [p.name for p in folder.iterdir()] == ["inside.txt"]
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(tmp_path / "sock"))
        with pytest.raises(OSError, match="is a socket"):
            EXPORTS[export](result, tmp_path / "sock")
        assert stat.S_ISSOCK((tmp_path / "sock").lstat().st_mode)
    finally:
        sock.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a folder", "sock"], "no temporary file left"


@pytest.mark.parametrize("export", list(EXPORTS))
def test_a_symlink_is_followed_its_target_replaced_and_the_link_kept(qapp, tmp_path, result, export):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "target.out"
    target.write_text("old")
    target.chmod(0o600)  # a private file stays private
    link = tmp_path / "link.out"
    link.symlink_to(target)
    EXPORTS[export](result, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() != b"old" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in elsewhere.iterdir()) == ["target.out"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "link.out"]


def test_the_cli_writes_through_a_null_device_and_refuses_a_full_one_without_replacing_either(dev):
    before = {d: _device(d) for d in dev.values()}
    out = subprocess.run([sys.executable, "-m", "concgui", "run", "--workload", "noop", "--tasks", "3", "--inline",
                          "--json", str(dev["null"]), "--trace", str(dev["null"]), "--csv", str(dev["full"])],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 1 and f"No space left on device: '{dev['full']}'" in out.stderr, out.stderr
    assert {d: _device(d) for d in before} == before


def test_the_windows_export_dialogs_write_through_devices_and_never_replace_them(window, result, monkeypatch,
                                                                                   dev):
    window.show_result(result)
    before = {d: _device(d) for d in dev.values()}
    null, full = str(dev["null"]), str(dev["full"])
    window._ask_path = lambda *_a: null  # what File ▸ Export's save dialog returned
    for fmt in ("csv", "json", "trace"):
        window.export_data(fmt)
        assert window.statusBar().currentMessage() == f"Wrote {null}"
    monkeypatch.setattr(image_export, "ask_image_file", lambda *_a: (null, 400))
    window.export_chart("timeline", "png")
    window.export_report()
    assert window.statusBar().currentMessage() == f"Wrote {null}" and window.problem_box is None
    window._ask_path = lambda *_a: full
    window.export_data("json")
    assert "No space left on device" in window.problem_box.text()
    assert {d: _device(d) for d in before} == before


# --- F7: a sweep file nested 100,000 deep ---------------------------------------------------------
@pytest.mark.parametrize("text", ["[" * 100_000, "[" * 100_000 + "]" * 100_000, '{"a":' * 50_000])
def test_a_sweep_file_nested_too_deeply_is_refused_in_one_line(tmp_path, text):
    path = tmp_path / "deep.json"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        load_sweep_json(path)
    assert str(err.value) == "deep.json is not a ConcGUI sweep file (nested too deeply)"


# --- F6: a sweep file's values are checked field by field, as a run file's ------------------------------
@pytest.mark.parametrize("change, words", [
    (lambda d: d.update(started_at=10**400), "started_at: 1000"),  # an OverflowError before
    (lambda d: d["points"][0].update(workers=-5), "points[0].workers: -5 is out of range; allowed: a whole number"),
    (lambda d: d["points"][0].update(error=[1, 2]), "points[0].error: [1, 2] is not allowed; allowed: text or null"),
    (lambda d: d["points"][0].update(status=123), "points[0].status: 123 is not text; allowed: one of ok"),
    (lambda d: d["points"][0].update(wall_seconds="x"), "points[0].wall_seconds: 'x' is not allowed"),
    (lambda d: d["spec"].update(tasks="many"), "spec.tasks: 'many' is not allowed"),
    (lambda d: d.update(executors="threads"), "executors: 'threads' is not allowed; allowed: a list of executors"),
    (lambda d: d.update(cores=0), "cores: 0 is out of range"),
    (lambda d: d.update(points={"a": 1}), "points: {'a': 1} is not allowed; allowed: a list of points"),
    (lambda d: d.pop("worker_counts"), "worker_counts: is missing"),
])
def test_a_sweep_file_with_a_wrong_value_is_refused_in_one_line_naming_it(tmp_path, change, words):
    sweep = _sweep()
    sweep.points.append(SweepPoint("threads", 1, 0, 0.5, 0.1, "ok"))
    save_sweep_json(tmp_path / "s.json", sweep)
    data = json.loads((tmp_path / "s.json").read_text())
    change(data)
    (tmp_path / "s.json").write_text(json.dumps(data))
    with pytest.raises(ValueError) as err:
        load_sweep_json(tmp_path / "s.json")
    assert str(err.value).startswith(f"s.json: {words}") and "\n" not in str(err.value), str(err.value)


# --- F1: a program a run file names runs only once the person confirms it ----------------------------
def _named_programs(tmp_path: Path) -> tuple[Path, Path, Path, ExperimentSpec]:
    """A run file whose spec names an interpreter and a function; each leaves a marker when run or imported."""
    marker = tmp_path / "ran"
    module = tmp_path / "named_tasks.py"
    module.write_text(f"open({str(marker)!r}, 'a').write('imported ')\n\ndef f():\n    pass\n")
    python = tmp_path / "named-python"
    python.write_text(f"#!/bin/sh\nprintf 'started ' >> {marker}\nexec {sys.executable} \"$@\"\n")
    python.chmod(0o755)
    spec = ExperimentSpec(workload="custom", function=f"{module}:f", python=str(python), tasks=2)
    path = tmp_path / "named.json"
    save_result(path, RunResult(spec=spec.to_dict(), environment={}, wall_seconds=0.5))
    return path, marker, python, spec


def test_an_interpreter_or_function_from_a_run_file_runs_only_once_confirmed(qtbot, window, tmp_path):
    path, marker, python, spec = _named_programs(tmp_path)
    form = window.form
    assert window.open_run_file(str(path))
    edit, field = form.editor("python"), form.fields["python"]
    function = form.fields["function"]
    assert field.value() == str(python) and function.value() == spec.function  # shown as they are
    assert "From the opened file" in field.info.text() and field.confirm_button.isVisible()
    assert "From the opened file" in function.info.text() and function.confirm_button.isVisible()
    # what used to start it: the field's focus taken, then given to another field (editingFinished)
    window.activateWindow()
    edit.setFocus()
    form.editor("tasks").setFocus()
    edit.editingFinished.emit()
    form.fields["function"].editor.editingFinished.emit()
    # ... and Run, from the button, the menu and its shortcut
    assert not window.run_button.isEnabled() and not window.run_action.isEnabled()
    window.run_action.trigger()
    window.run_clicked()
    qtbot.wait(function.DEBOUNCE_MS + 700)  # long enough for a probe, a check or a run to have started
    assert not marker.exists(), "nothing the file names ran"
    assert not window.controller.is_running()
    assert form.error_field() == "python" and "comes from the opened file" in form.error()
    assert "comes from the opened file" in window.statusBar().currentMessage()
    # confirmed: the interpreter is asked what it is (and only then); the function waits for its own word
    with qtbot.waitSignal(form.interpreter_probed, timeout=20_000):
        QTest.keyClick(edit, Qt.Key.Key_Return)
    assert marker.read_text() == "started " and not field.confirm_button.isVisible()
    assert form.error_field() == "function" and not window.run_button.isEnabled()
    qtbot.wait(function.DEBOUNCE_MS + 300)
    assert "imported" not in marker.read_text()
    function.confirm_button.click()
    qtbot.waitUntil(lambda: function.info.text() == "Found: it is called without arguments.", timeout=30_000)
    assert marker.read_text() == "started started imported "  # the check runs on the confirmed interpreter
    assert window.run_button.isEnabled() and form.spec() == spec


def test_a_value_confirmed_once_is_not_asked_again_and_a_typed_one_is_the_persons(qtbot, window, tmp_path):
    path, marker, python, spec = _named_programs(tmp_path)
    form = window.form
    window.open_run_file(str(path))
    form.fields["python"].confirm_button.click()
    form.fields["function"].confirm_button.click()
    qtbot.waitUntil(form.is_valid, timeout=30_000)
    window.open_run_file(str(path))  # the same file again, in the same session
    assert not form.fields["python"].confirm_button.isVisible() and form.is_valid()
    another = tmp_path / "another-python"
    another.symlink_to(sys.executable)
    other = tmp_path / "other.json"
    save_result(other, RunResult(spec=ExperimentSpec(python=str(another)).to_dict(), environment={}, wall_seconds=0.5))
    window.open_run_file(str(other))  # another interpreter, from a file: waits again
    assert form.error_field() == "python"
    form.editor("python").setText(str(python))  # typed by the person: theirs, checked as always
    assert form.error_field() != "python"


# --- F8: a big run file opens off the UI thread, with progress and Cancel -------------------------------
@pytest.fixture(scope="module")
def big_run_file(tmp_path_factory, result) -> Path:
    """A run file of 100,000 tasks (18 MB), made of a real run's records."""
    data = json.loads(json.dumps(result.to_dict()))
    one = data["tasks"][0]
    data["tasks"] = [{**one, "index": i, "worker": f"thread {i % 8 + 1}", "start": i * 1e-3, "end": i * 1e-3 + 0.01}
                     for i in range(100_000)]
    data["spec"]["tasks"] = 100_000
    path = tmp_path_factory.mktemp("big") / "big-run.json"
    path.write_text(json.dumps(data, separators=(",", ":")))
    return path


def test_a_big_run_file_loads_while_the_window_keeps_answering(qtbot, window, big_run_file):
    """The window answers its timers while 100,000 tasks load on a thread.

    Tried twice: once, in a full-suite run on a 2-core machine, the whole load (0.63 s) passed without a
    tick, a stall of the host or the test process (alone, in this file, it never happened). Loading on the UI
    thread would fail both tries.
    """
    from concgui.gui.file_loading import load_with_progress

    qtbot.wait(50)  # the window's own first events are not the load's
    worst = []
    for _ in range(2):
        ticks: list[float] = []
        timer = QTimer()
        timer.timeout.connect(lambda ticks=ticks: ticks.append(time.perf_counter()))
        timer.start(10)
        t0 = time.perf_counter()
        results = load_with_progress(window, big_run_file)
        took = time.perf_counter() - t0
        timer.stop()
        gaps = [b - a for a, b in zip([t0, *ticks], [*ticks, time.perf_counter()], strict=True)]
        assert len(results[0].tasks) == 100_000
        if max(gaps) < max(0.6, took / 3):
            return
        worst.append(f"{max(gaps):.3f} s without answering in {took:.2f} s")
    pytest.fail(f"the window went {' and '.join(worst)}")


def test_cancel_stops_opening_a_big_run_file_at_once_and_nothing_is_kept(qtbot, window, big_run_file):
    cancelled: list[float] = []

    def press_cancel() -> None:
        dialog = window.findChild(QProgressDialog, "loadingDialog")
        if dialog is None:
            QTimer.singleShot(20, press_cancel)
            return
        cancelled.append(time.perf_counter())
        dialog.findChild(QPushButton).click()  # its Cancel button, as a person presses it

    QTimer.singleShot(150, press_cancel)
    assert window.open_run_file(str(big_run_file)) == []
    assert cancelled and time.perf_counter() - cancelled[0] < 0.5, "Cancel returns at once"
    assert window.store.list_runs() == [] and window.result is None and window.problem_box is None
    assert "cancelled" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not any(t.name == "concgui-open-run-file" for t in threading.enumerate()),
                    timeout=10_000)


@pytest.mark.timeout(60)
def test_a_run_file_with_more_cores_than_a_machine_has_is_refused_before_anything_draws(window, tmp_path, result):
    data = json.loads(json.dumps(result.to_dict()))
    data["cpu_samples"] = [{"t": 0.1, "per_core": [50.0] * 100_000, "tree_percent": 1.0}]  # 500 KB
    path = tmp_path / "cores.json"
    path.write_text(json.dumps(data))
    t0 = time.perf_counter()
    assert window.open_run_file(str(path)) == []
    assert time.perf_counter() - t0 < 5
    assert "cpu_samples[0].per_core: holds 100,000 per-core values; allowed: at most 4,096" \
        in window.problem_box.text()


@pytest.mark.timeout(60)
def test_a_run_file_with_4096_cores_shows_at_once_as_their_range_and_mean(window, tmp_path, result):
    """The most cores a file may hold: a line each froze the window 11 s; one band shows at once."""
    data = json.loads(json.dumps(result.to_dict()))
    data["cpu_samples"] = [{"t": 0.02 * k, "per_core": [float((c + k) % 101) for c in range(4096)],
                            "tree_percent": 1.0} for k in range(1, 4)]  # 80 KB
    path = tmp_path / "cores.json"
    path.write_text(json.dumps(data))
    t0 = time.perf_counter()
    assert window.open_run_file(str(path))
    window.cores.grab()  # painted, as on the screen
    took = time.perf_counter() - t0
    assert took < 3, f"showing 4,096 cores took {took:.1f} s"
    title = window.cores.getPlotItem().titleLabel
    assert window.cores.drawn_as() == "band"
    assert "4,096 cores: their range" in title.text + title.toolTip()

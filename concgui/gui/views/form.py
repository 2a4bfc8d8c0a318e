"""The experiment form, generated from the engine's :data:`PARAMS` table.

Every field's label, range, unit and help text come from ``PARAMS``, and
every edit builds a real :class:`ExperimentSpec`, so the form cannot accept
what the engine would refuse: the field at fault is outlined in red and says
why, and :meth:`ExperimentForm.is_valid` is False until it is fixed.  Only
how a field is laid out (which group, display words for a few choices) is
decided here.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QProcess, QProcessEnvironment, Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...engine.environment import free_threaded_build, gil_enabled
from ...engine.executors import list_executors
from ...engine.isolation import PACKAGE_ROOT
from ...engine.spec import PARAMS, TLS_FILES, ExperimentSpec, Param, SpecError, applies

#: which group each field sits in; a field missing here lands in the last group
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("What each task does", ("workload", "tasks", "duration", "size_mb", "cpu_fraction", "function", "jitter")),
    ("How it runs", ("executor", "workers", "threads_per_worker", "chunk_size", "start_method", "offload",
                     "scheduler", "tls_ca", "tls_cert", "tls_key", "dashboard")),
    ("Advanced", ("seed", "timeout", "isolation", "python")),
)
#: the grey hint in an empty text field
TEXT_PLACEHOLDER = {"scheduler": "empty: a LocalCluster here · tcp://host:8786"}
#: what a number field's minimum means, shown instead of the number
MINIMUM_TEXT = {"timeout": "none"}

#: what each workload does, for its tooltip and the line under the picker
WORKLOAD_TEXT = {
    "sleep": "time.sleep: waits without using the CPU, and releases the GIL meanwhile.",
    "cpu": "Pure-Python arithmetic for the duration (measured on this machine): holds the GIL.",
    "hash": "sha256 over 1 MiB buffers for about the duration: C code that releases the GIL.",
    "file-io": "Writes, fsyncs and reads back a temporary file: mostly waits for the disk.",
    "mixed": "Computes for the CPU fraction of the duration and sleeps the rest.",
    "noop": "Returns at once: what remains is the executor's own cost per task.",
    "custom": "Calls your function, with the task index if it takes one argument.",
}
#: display words for choices whose value is terse
CHOICE_TEXT = {
    ("isolation", "process"): "a separate engine process",
    ("isolation", "inline"): "inside this app",
}
ISOLATION_TIP = {
    "process": "Recommended: the window stays smooth and the numbers are not disturbed by drawing.",
    "inline": "Threads that compute here take the GIL from the window, which then stutters.",
}
PROBE_TIMEOUT_MS = 5000

# Run in another interpreter to learn its version, GIL state and which executors it can run.
PROBE_SCRIPT = """\
import json, platform, sys, sysconfig
gil = getattr(sys, "_is_gil_enabled", lambda: True)
info = {"version": platform.python_version(), "implementation": sys.implementation.name,
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")), "gil_at_start": gil()}
try:
    from concgui.engine.executors import list_executors
    info["executors"] = list_executors()
except Exception as exc:
    info["engine_error"] = f"{type(exc).__name__}: {exc}"
info["gil"] = gil()
print(json.dumps(info))
"""

INVALID_STYLE = """
*[invalid="true"] { border: 1px solid #e53935; border-radius: 3px; }
QLabel#fieldError { color: #e53935; }
"""


def describe_interpreter(info: dict[str, Any]) -> str:
    """'Python 3.13.1, free-threaded, GIL off' from a probe's answer."""
    text = f"{'Python' if info.get('implementation', 'cpython') == 'cpython' else info['implementation']} " \
           f"{info.get('version', '?')}"
    if info.get("free_threaded"):
        text += ", free-threaded"
        if info.get("gil"):
            text += ", GIL on" + (" (an extension module turned it back on)" if not info.get("gil_at_start", True)
                                  else " (PYTHON_GIL=1?)")
        else:
            text += ", GIL off"
    else:
        text += ", GIL on"
    return text


def _unit_suffix(p: Param) -> str:
    """A spin box suffix for a measured unit (s, MB); counts ('3 tasks') only repeat the label."""
    return f" {p.unit}" if p.unit and p.kind is float else ""


def _callables(path: Path) -> list[str]:
    """Top-level functions of a file that the engine can call (no or one required argument)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return []
    out = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            a = node.args
            required = len(a.posonlyargs) + len(a.args) - len(a.defaults)
            if required <= 1 and not a.kwonlyargs:
                out.append(node.name)
    return out


class _Field:
    """One spec field's editor: the widget put in the form, the input to mark, get and set."""

    def __init__(self, param: Param, editor: QWidget, row: QWidget | None = None) -> None:
        self.param = param
        self.editor = editor  # outlined when invalid
        self.row = row or editor  # what sits in the form's field column
        self.label: QLabel | None = None
        self.error_label: QLabel | None = None
        self.form: QFormLayout | None = None  # the layout holding its row

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def connect(self, slot: Callable[[], None]) -> None:
        raise NotImplementedError


class _ChoiceField(_Field):
    editor: QComboBox

    def value(self) -> Any:
        return self.editor.currentData()

    def set_value(self, value: Any) -> None:
        i = self.editor.findData(value)
        if i < 0:  # a value the list lacks (the spec validated it, so this is a display gap)
            self.editor.addItem(str(value), value)
            i = self.editor.count() - 1
        self.editor.setCurrentIndex(i)

    def connect(self, slot: Callable[[], None]) -> None:
        self.editor.currentIndexChanged.connect(lambda _i: slot())

    def set_item_enabled(self, index: int, enabled: bool, tooltip: str) -> None:
        item = self.editor.model().item(index)
        item.setEnabled(enabled)
        item.setToolTip(tooltip)


class _IntField(_Field):
    editor: QSpinBox

    def value(self) -> Any:
        v = self.editor.value()
        return None if self.param.optional and v == self.editor.minimum() else v

    def set_value(self, value: Any) -> None:
        self.editor.setValue(self.editor.minimum() if value is None else int(value))

    def connect(self, slot: Callable[[], None]) -> None:
        self.editor.valueChanged.connect(lambda _v: slot())


class _FloatField(_Field):
    editor: QDoubleSpinBox

    def value(self) -> Any:
        return self.editor.value()

    def set_value(self, value: Any) -> None:
        self.editor.setValue(float(value))

    def connect(self, slot: Callable[[], None]) -> None:
        self.editor.valueChanged.connect(lambda _v: slot())


class _BoolField(_Field):
    editor: QCheckBox

    def value(self) -> Any:
        return self.editor.isChecked()

    def set_value(self, value: Any) -> None:
        self.editor.setChecked(bool(value))

    def connect(self, slot: Callable[[], None]) -> None:
        self.editor.toggled.connect(lambda _v: slot())


class _TextField(_Field):
    editor: QLineEdit

    def value(self) -> Any:
        text = self.editor.text().strip()
        return None if self.param.optional and not text else text

    def set_value(self, value: Any) -> None:
        self.editor.setText("" if value is None else str(value))

    def connect(self, slot: Callable[[], None]) -> None:
        self.editor.textChanged.connect(lambda _t: slot())


class ExperimentForm(QWidget):
    """Edits one :class:`ExperimentSpec`; cannot hand out an invalid one."""

    #: any edit, by a person or by set_spec
    changed = Signal()
    #: whether the form now holds a runnable spec (emitted when that flips)
    validity_changed = Signal(bool)
    #: another interpreter was probed: its description (or why the probe failed)
    interpreter_probed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("experimentForm")
        self.setStyleSheet(INVALID_STYLE)
        self.fields: dict[str, _Field] = {}
        self._executors = {row["name"]: row for row in list_executors()}
        self._probed: dict[str, Any] | None = None  # answer about the chosen interpreter
        self._probe: QProcess | None = None
        self._probe_timer: QTimer | None = None
        self._probe_for = ""
        self._error: SpecError | None = None
        self._valid = True
        self._updating = False
        self._about_workload: QLabel | None = None  # a line under the picker saying what it means
        self._about_executor: QLabel | None = None
        self._python_info: QLabel  # made with the python row

        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.setSpacing(6)
        placed = {name for _, names in GROUPS for name in names}
        extra = tuple(n for n in PARAMS if n not in placed)  # a new PARAMS field still shows up
        for k, (title, names) in enumerate(GROUPS):
            names = names + (extra if k == len(GROUPS) - 1 else ())
            box = QGroupBox(title, self)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
            form.setContentsMargins(6, 6, 6, 6)
            form.setVerticalSpacing(4)
            for name in names:
                if name in PARAMS:
                    self._add_row(form, self._make_field(PARAMS[name]))
            outer.addWidget(box)
        outer.addStretch(1)

        labels = [f.label for f in self.fields.values() if f.label is not None]
        width = max(lab.sizeHint().width() for lab in labels)
        for lab in labels:  # one label column across the groups, so the fields line up
            lab.setMinimumWidth(width)
        for f in self.fields.values():
            f.connect(self._on_edit)
        self._refresh_executor_items()
        self.set_spec(ExperimentSpec())

    # --- building ----------------------------------------------------------------
    def _make_field(self, p: Param) -> _Field:
        if p.choices:
            field: _Field = self._make_choice(p)
        elif p.kind is bool:
            box = QCheckBox(p.label, self)
            field = _BoolField(p, box)
        elif p.kind is int:
            spin = QSpinBox(self)
            low = int(p.minimum) - (1 if p.optional else 0)
            spin.setRange(low, min(int(p.maximum), 2**31 - 1))
            spin.setGroupSeparatorShown(p.maximum >= 10_000)
            spin.setSuffix(_unit_suffix(p))
            if p.optional:
                spin.setSpecialValueText("auto")
            field = _IntField(p, spin)
        elif p.kind is float:
            spin = QDoubleSpinBox(self)
            small = p.maximum <= 1
            spin.setDecimals(2 if small else 3)
            spin.setRange(p.minimum, p.maximum)
            spin.setSingleStep(0.05 if small else 0.1 if p.unit == "s" else 1.0)
            spin.setSuffix(_unit_suffix(p))
            if p.name in MINIMUM_TEXT:
                spin.setSpecialValueText(MINIMUM_TEXT[p.name])
            field = _FloatField(p, spin)
        elif p.name == "python":
            field = self._make_python(p)
        elif p.name == "function":
            field = self._make_function(p)
        elif p.name in TLS_FILES:
            field = self._make_file(p)
        else:
            edit = QLineEdit(self)
            edit.setPlaceholderText(TEXT_PLACEHOLDER.get(p.name, ""))
            edit.setClearButtonEnabled(True)
            field = _TextField(p, edit)
        field.editor.setObjectName(f"field_{p.name}")
        field.editor.setToolTip(self._tooltip(p))
        field.editor.setAccessibleName(p.label)
        field.editor.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.fields[p.name] = field
        return field

    def _make_choice(self, p: Param) -> _ChoiceField:
        combo = QComboBox(self)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(12)
        field = _ChoiceField(p, combo)
        if p.optional:
            default = ExperimentSpec().effective_start_method() if p.name == "start_method" else "default"
            combo.addItem(f"default ({default})", None)
        for choice in p.choices:
            if p.name == "executor":
                combo.addItem(self._executors.get(choice, {}).get("title") or choice, choice)
            else:
                combo.addItem(CHOICE_TEXT.get((p.name, choice), choice), choice)
        for i in range(combo.count()):
            choice = combo.itemData(i)
            tip = WORKLOAD_TEXT.get(choice, "") if p.name == "workload" else ISOLATION_TIP.get(choice, "")
            reason = self._choice_refused(p.name, choice)
            field.set_item_enabled(i, reason is None, reason or tip)
        return field

    @staticmethod
    def _choice_refused(name: str, choice: Any) -> str | None:
        """Why the spec refuses this choice on this platform (e.g. fork on Windows), else None."""
        if choice is None:
            return None
        try:
            ExperimentSpec(**{name: choice})
        except SpecError as exc:
            return str(exc) if exc.field == name else None
        return None

    def _browse_row(self, p: Param, placeholder: str, tip: str, browse: Callable[[], None]) -> _TextField:
        """A text field with a Browse… button beside it."""
        row = QWidget(self)
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        edit = QLineEdit(row)
        edit.setPlaceholderText(placeholder)
        edit.setClearButtonEnabled(True)
        button = QPushButton("Browse…", row)
        button.setObjectName(f"browse_{p.name}")
        button.setToolTip(tip)
        button.clicked.connect(browse)
        lay.addWidget(edit, 1)
        lay.addWidget(button)
        return _TextField(p, edit, row)

    def _make_function(self, p: Param) -> _TextField:
        return self._browse_row(p, "module:function or file.py:function",
                                "Choose a .py file; its function is filled in", self._browse_function)

    def _make_file(self, p: Param) -> _TextField:
        """A path with a Browse… button (the TLS files of a Dask scheduler)."""
        def choose() -> None:
            edit = field.editor
            path, _ = QFileDialog.getOpenFileName(self, f"Choose the {p.label}", edit.text() or str(Path.home()),
                                                  "PEM files (*.pem *.crt *.key);;All files (*)")
            if path:
                edit.setText(path)

        field = self._browse_row(p, "PEM file", f"Choose the {p.label}", choose)
        return field

    def _make_python(self, p: Param) -> _TextField:
        row = QWidget(self)
        lay = QVBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        line = QHBoxLayout()
        line.setSpacing(4)
        edit = QLineEdit(row)
        edit.setPlaceholderText("this one")
        edit.setClearButtonEnabled(True)
        browse = QPushButton("Browse…", row)
        browse.setObjectName("browse_python")
        browse.setToolTip("Choose another Python interpreter, for example a free-threaded python3.13t")
        browse.clicked.connect(self._browse_python)
        line.addWidget(edit, 1)
        line.addWidget(browse)
        lay.addLayout(line)
        self._python_info = QLabel(self._this_python(), row)
        self._python_info.setObjectName("pythonInfo")
        self._python_info.setWordWrap(True)
        self._dim(self._python_info)
        lay.addWidget(self._python_info)
        edit.editingFinished.connect(lambda: self._probe_python(edit.text().strip()))
        edit.textChanged.connect(self._on_python_text)
        return _TextField(p, edit, row)

    def _add_row(self, form: QFormLayout, field: _Field) -> None:
        p = field.param
        if isinstance(field, _BoolField):
            form.addRow(field.row)
        else:
            field.label = QLabel(p.label, self)
            field.label.setBuddy(field.editor)
            field.label.setToolTip(p.help)
            form.addRow(field.label, field.row)
        if p.name in ("workload", "executor"):  # a line saying what the choice means
            note = QLabel(self)
            note.setObjectName(f"about_{p.name}")
            note.setWordWrap(True)
            self._dim(note)
            form.addRow(note)
            setattr(self, f"_about_{p.name}", note)
        field.error_label = QLabel(self)
        field.error_label.setObjectName("fieldError")
        field.error_label.setWordWrap(True)
        field.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(field.error_label)
        form.setRowVisible(field.error_label, False)
        field.form = form

    @staticmethod
    def _dim(label: QLabel) -> None:
        label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        font = label.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        label.setFont(font)

    @staticmethod
    def _tooltip(p: Param) -> str:
        return f"{p.help}\nAllowed: {p.allowed()}."

    # --- public API --------------------------------------------------------------
    def spec(self) -> ExperimentSpec:
        """The spec being edited; SpecError (naming the field) while the input is invalid."""
        spec = self._build()
        return spec

    def set_spec(self, spec: ExperimentSpec, probe: bool = True) -> None:
        """Show ``spec`` in every field (an unavailable executor is shown, marked invalid).

        ``probe=False`` for a spec read from a file: its interpreter is not started (opening a
        file never runs code) until the person presses Enter in that field or runs the experiment.
        """
        self._updating = True
        try:
            for f in self.fields.values():
                f.editor.blockSignals(True)
            for name, f in self.fields.items():
                f.set_value(getattr(spec, name))
        finally:
            for f in self.fields.values():
                f.editor.blockSignals(False)
            self._updating = False
        if spec.python and probe:
            self._probe_python(spec.python)
        elif spec.python:
            self._stop_probe()
            self._probed, self._probe_for = None, ""
            self._python_info.setText("Press Enter to check this interpreter.")
        else:
            self._stop_probe()
            self._probed, self._probe_for = None, ""
        self._on_edit()

    def is_valid(self) -> bool:
        return self._error is None

    def error(self) -> str | None:
        """Why the input cannot run (``"field: reason"``), or None."""
        return None if self._error is None else str(self._error)

    def error_field(self) -> str | None:
        return None if self._error is None else self._error.field

    def editor(self, name: str) -> QWidget:
        """The input widget of a field (for tests, focus and the main window)."""
        return self.fields[name].editor

    def interpreter_info(self) -> dict[str, Any] | None:
        """What the probe learned about the chosen interpreter (None: this one, or not yet known)."""
        return self._probed

    def shutdown(self) -> None:
        """Stop a running interpreter probe (call before the window closes)."""
        self._stop_probe()

    # --- validation --------------------------------------------------------------
    def _values(self) -> dict[str, Any]:
        return {name: f.value() for name, f in self.fields.items()}

    def _build(self) -> ExperimentSpec:
        spec = ExperimentSpec(**self._values())
        ok, reason = self._availability(spec.executor, spec)
        if not ok:
            raise SpecError("executor", f"{spec.executor} is not available here: {reason}")
        if spec.python and spec.isolation == "process" and self._probed and self._probed.get("problem"):
            raise SpecError("python", self._probed["problem"])
        return spec

    def _availability(self, executor: str, spec: ExperimentSpec) -> tuple[bool, str]:
        rows = self._executor_rows(spec.to_dict())
        row = rows.get(executor)
        return (True, "") if row is None else (bool(row["available"]), row["reason"])

    def _executor_rows(self, values: dict[str, Any] | None) -> dict[str, dict]:
        """Executors as seen by the interpreter that will run the engine (the form's values name it)."""
        other = self._probed if values and values.get("python") else None
        if other and other.get("executors") and values.get("isolation", "process") == "process":
            return {row["name"]: row for row in other["executors"]}
        return self._executors

    def _on_edit(self) -> None:
        if self._updating:
            return
        self._revalidate()
        self.changed.emit()

    def _revalidate(self) -> None:
        values = self._values()
        try:
            spec = self._build()
        except SpecError as exc:
            spec, self._error = None, exc
        else:
            self._error = None
        self._show_error()
        self._update_relevance(values)
        self._update_workers_text(values)
        self._refresh_executor_items(values)
        self._update_notes(values)
        valid = spec is not None
        if valid != self._valid:
            self._valid = valid
            self.validity_changed.emit(valid)

    def _show_error(self) -> None:
        bad = self._error.field if self._error is not None else None
        for name, f in self.fields.items():
            invalid = name == bad
            if bool(f.editor.property("invalid")) != invalid:
                f.editor.setProperty("invalid", invalid)
                f.editor.style().unpolish(f.editor)
                f.editor.style().polish(f.editor)
            tip = self._tooltip(f.param)
            if invalid:
                message = str(self._error).split(": ", 1)[-1]
                f.error_label.setText(f"⚠ {f.param.label}: {message}")
                tip += f"\n\n⚠ {self._error}"
            f.editor.setToolTip(tip)
            f.form.setRowVisible(f.error_label, invalid)

    def _update_relevance(self, values: dict[str, Any]) -> None:
        workload, executor = values["workload"], values["executor"]
        for name, f in self.fields.items():
            visible = applies(name, workload, executor) or name == (self._error.field if self._error else None)
            f.form.setRowVisible(f.row, visible)
        if "python" in self.fields:
            inline = values.get("isolation") == "inline"
            self.fields["python"].row.setEnabled(not inline)
            if inline:
                self._python_info.setText("Inside the app the engine always runs on this Python.")
            else:
                self._on_python_text(self.fields["python"].editor.text(), probe_label_only=True)

    def _update_workers_text(self, values: dict[str, Any]) -> None:
        """Say what "auto" means now, as the spec computes it for what the form holds."""
        f = self.fields.get("workers")
        if not isinstance(f, _IntField):
            return
        try:
            spec = ExperimentSpec.from_dict({**values, "workers": None})
        except SpecError:  # another field is being fixed: say only "auto"
            spec = None
        n = spec.auto_workers() if spec is not None else None
        if spec is None:
            short, words = "auto", ""
        elif n is None:  # a Dask scheduler's workers: only the cluster knows how many
            short, words = "auto (all)", "all of the scheduler's workers"
        elif spec.executor == "dask":
            short, words = f"auto ({n})", f"{n} worker processes × {spec.threads_per_worker} threads"
        else:
            short, words = f"auto ({n})", f"{n} for {spec.executor}"
        f.editor.setSpecialValueText(short)
        now = f"\n\nNow: auto means {words}." if words else ""
        f.editor.setToolTip(f.editor.toolTip().split("\n\nNow:")[0] + now)

    def _refresh_executor_items(self, values: dict[str, Any] | None = None) -> None:
        f = self.fields.get("executor")
        if not isinstance(f, _ChoiceField):
            return
        rows = self._executor_rows(values)
        combo = f.editor
        for i in range(combo.count()):
            name = combo.itemData(i)
            row = rows.get(name) or self._executors.get(name) or {}
            title = row.get("title") or name
            ok = row.get("available", True)
            combo.setItemText(i, title if ok else f"{title} (unavailable)")
            f.set_item_enabled(i, ok, row.get("description", "") if ok else
                               f"Unavailable: {row.get('reason', '')}")

    def _update_notes(self, values: dict[str, Any]) -> None:
        if self._about_workload is not None:
            self._about_workload.setText(WORKLOAD_TEXT.get(values["workload"], ""))
        if self._about_executor is not None:
            row = self._executors.get(values["executor"], {})
            self._about_executor.setText(row.get("description", ""))

    # --- function file -----------------------------------------------------------
    def _browse_function(self) -> None:
        current = self.fields["function"].editor.text()
        start = current.rsplit(":", 1)[0] if current.endswith(".py") or ".py:" in current else str(Path.cwd())
        path, _ = QFileDialog.getOpenFileName(self, "Choose a Python file with your task function",
                                              start, "Python files (*.py)")
        if path:
            self.use_function_file(path)

    def use_function_file(self, path: str) -> None:
        """Fill the function field from a .py file, asking which function when it has several."""
        names = _callables(Path(path))
        name = ""
        if len(names) == 1:
            name = names[0]
        elif names:
            name, ok = QInputDialog.getItem(self, "Which function?", f"Functions in {Path(path).name}:",
                                            names, 0, False)
            name = name if ok else ""
        edit = self.fields["function"].editor
        edit.setText(f"{path}:{name}")
        edit.setFocus()
        edit.setCursorPosition(len(edit.text()))

    # --- the interpreter ---------------------------------------------------------
    @staticmethod
    def _this_python() -> str:
        info = {"version": sys.version.split()[0], "implementation": sys.implementation.name,
                "free_threaded": free_threaded_build(), "gil": gil_enabled(), "gil_at_start": gil_enabled()}
        return f"This one: {describe_interpreter(info)}."

    def _browse_python(self) -> None:
        current = self.fields["python"].editor.text().strip() or sys.executable
        path, _ = QFileDialog.getOpenFileName(self, "Choose a Python interpreter", str(Path(current).parent))
        if path:
            self.fields["python"].editor.setText(path)
            self._probe_python(path)

    def _on_python_text(self, text: str, probe_label_only: bool = False) -> None:
        text = text.strip()
        if not text:
            self._python_info.setText(self._this_python())
            if not probe_label_only and self._probed is not None:
                self._stop_probe()
                self._probed = None
                self._on_edit()
        elif text != self._probe_for:
            self._python_info.setText("Press Enter to check this interpreter.")
        elif self._probed is not None:
            self._python_info.setText(self._probed.get("problem") or self._probed["text"])

    def _probe_python(self, path: str) -> None:
        """Run ``path`` once, in the background, to learn its version and GIL state."""
        if not path:
            return
        if path == self._probe_for and (self._probe is not None or self._probed is not None):
            return
        self._stop_probe()
        self._probe_for = path
        self._probed = None
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()  # as the engine process will: this package by path
        env.insert("PYTHONPATH", os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.value("PYTHONPATH")])))
        proc.setProcessEnvironment(env)
        proc.finished.connect(lambda code, _status, p=proc: self._probe_done(p, code))
        proc.errorOccurred.connect(lambda err, p=proc: self._probe_failed(p, err))
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.timeout.connect(lambda p=proc: self._probe_timed_out(p))
        self._probe, self._probe_timer = proc, timer
        self.destroyed.connect(lambda *_a, p=proc: _kill(p))
        self._python_info.setText(f"Checking {Path(path).name}…")
        timer.start(PROBE_TIMEOUT_MS)
        proc.start(path, ["-c", PROBE_SCRIPT])

    def _probe_done(self, proc: QProcess, code: int) -> None:
        if proc is not self._probe:
            return
        out = bytes(proc.readAllStandardOutput().data()).decode(errors="replace").strip().splitlines()
        err = bytes(proc.readAllStandardError().data()).decode(errors="replace").strip().splitlines()
        try:
            info = json.loads(out[-1]) if code == 0 and out else None
        except json.JSONDecodeError:
            info = None
        if not isinstance(info, dict):
            why = err[-1] if err else f"exit code {code}"
            self._finish_probe({"problem": f"{Path(self._probe_for).name} is not a Python this app can use ({why})"})
            return
        info["text"] = describe_interpreter(info)
        if info.get("engine_error"):
            info["problem"] = (f"{info['text']}, but it cannot import ConcGUI's engine "
                               f"({info['engine_error']}); install its dependencies there.")
        self._finish_probe(info)

    def _probe_failed(self, proc: QProcess, error: QProcess.ProcessError) -> None:
        if proc is not self._probe or error != QProcess.ProcessError.FailedToStart:
            return  # crashes and timeouts end in finished or the timer
        self._finish_probe({"problem": f"cannot start {self._probe_for}: {proc.errorString()}"})

    def _probe_timed_out(self, proc: QProcess) -> None:
        if proc is not self._probe:
            return
        self._finish_probe({"problem": f"{Path(self._probe_for).name} did not answer within "
                                       f"{PROBE_TIMEOUT_MS / 1000:g} s"})

    def _finish_probe(self, info: dict[str, Any]) -> None:
        info.setdefault("text", info.get("problem", ""))
        self._stop_probe()
        self._probed = info
        self._python_info.setText(info.get("problem") or info["text"])
        self._revalidate()
        self.changed.emit()
        self.interpreter_probed.emit(info.get("problem") or info["text"])

    def _stop_probe(self) -> None:
        proc, timer = self._probe, self._probe_timer
        self._probe = self._probe_timer = None
        if timer is not None:
            timer.stop()
            timer.deleteLater()
        if proc is not None:
            _kill(proc)
            proc.deleteLater()


def _kill(proc: QProcess) -> None:
    """End a probe process and reap it (Qt warns when a running QProcess is destroyed)."""
    try:
        if proc.state() != QProcess.ProcessState.NotRunning:
            proc.kill()
            proc.waitForFinished(1000)
    except RuntimeError:  # already deleted on the C++ side
        pass

"""The experiment form, generated from the engine's :data:`PARAMS` table.

Every field's label, range, unit, help, hint and editor come from ``PARAMS``
(the editors are built in :mod:`.form_fields`), and every edit builds a real
:class:`ExperimentSpec`, so the form cannot accept what the engine would
refuse: the field at fault is outlined in red and says why, and
:meth:`ExperimentForm.is_valid` is False until it is fixed.  What the engine
checks only when a run starts, whether it can load a custom function, is
checked in the background as the field changes.  An interpreter or a function
read from a file runs only once the person confirms it (:mod:`..file_values`).  Only the layout (which group
a field sits in) is decided here.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from ...engine.executors import list_executors
from ...engine.spec import EXECUTOR_KINDS, PARAMS, ExperimentSpec, Param, SpecError, applies, auto_workers
from ...engine.transfer import check_memory
from ..file_values import RUNNABLE, SESSION
from ..function_check import CheckKey
from .form_fields import (
    BoolField,
    ChoiceField,
    Field,
    FunctionField,
    InterpreterField,
    IntField,
    NumberBox,
    RunnableField,
    dim,
    make_field,
    tooltip,
)

#: the fields that say what the experiment's tasks do (a scaling study shows these, and varies the rest)
TASK_FIELDS = ("workload", "tasks", "duration", "size_mb", "cpu_fraction", "increments", "lock", "function", "jitter")
#: which group each field sits in; a field missing here lands in the last group
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("What each task does", TASK_FIELDS),
    ("How it runs", ("executor", "workers", "threads_per_worker", "backend", "batch_size", "pre_dispatch",
                     "chunk_size", "start_method", "offload", "scheduler", "tls_ca", "tls_cert", "tls_key",
                     "dashboard")),
    ("Advanced", ("seed", "timeout", "isolation", "python")),
)

# spin boxes are marked by NumberBox.show_invalid: a border here would replace their arrows with bare lines
INVALID_STYLE = """
QLineEdit[invalid="true"], QComboBox[invalid="true"], QCheckBox[invalid="true"] {
    border: 1px solid #e53935; border-radius: 3px; }
QLabel#fieldError { color: #e53935; }
"""


class ExperimentForm(QWidget):
    """Edits one :class:`ExperimentSpec`; cannot hand out an invalid one.

    ``only`` names the fields to show (the scaling study's dialog shows what each task does); the
    others keep what the last :meth:`set_spec` gave them.
    """

    #: any edit, by a person or by set_spec
    changed = Signal()
    #: whether the form now holds a runnable spec (emitted when that flips)
    validity_changed = Signal(bool)
    #: another interpreter was probed: its description (or why the probe failed)
    interpreter_probed = Signal(str)

    def __init__(self, parent: QWidget | None = None, only: tuple[str, ...] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("experimentForm")
        self.setStyleSheet(INVALID_STYLE)
        self.fields: dict[str, Field] = {}
        self._executors = {row["name"]: row for row in list_executors()}
        self._interpreter: InterpreterField | None = None  # the field naming the engine's Python
        self._function: FunctionField | None = None  # the custom function, checked as it changes
        self._base = ExperimentSpec()  # the values of the fields not shown (see ``only``)
        self._notes: dict[str, QLabel] = {}  # a line under a picker saying what its choice means
        self._error: SpecError | None = None
        self._valid = True
        self._updating = False

        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.setSpacing(6)
        placed = {name for _, names in GROUPS for name in names}
        extra = tuple(n for n in PARAMS if n not in placed)  # a new PARAMS field still shows up
        for k, (title, names) in enumerate(GROUPS):
            names = names + (extra if k == len(GROUPS) - 1 else ())
            names = tuple(n for n in names if only is None or n in only)
            if not names:
                continue
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
        # a field not shown here may still be what is wrong (set_spec took it): said below the groups
        self._other_error = QLabel(self)
        self._other_error.setObjectName("fieldError")
        self._other_error.setWordWrap(True)
        self._other_error.setVisible(False)
        outer.addWidget(self._other_error)
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
    def _make_field(self, p: Param) -> Field:
        field = make_field(p, self)
        self.fields[p.name] = field
        if isinstance(field, InterpreterField):
            self._interpreter = field
            field.probe.finished.connect(self._on_probed)
        elif isinstance(field, FunctionField):
            self._function = field
            field.check.finished.connect(lambda _info: self._on_edit())
        if isinstance(field, RunnableField):
            field.on_confirm = self._on_edit
        return field

    def _add_row(self, form: QFormLayout, field: Field) -> None:
        p = field.param
        if isinstance(field, BoolField):
            form.addRow(field.row)
        else:
            field.label = QLabel(p.label, self)
            field.label.setBuddy(field.editor)
            field.label.setToolTip(p.help)
            form.addRow(field.label, field.row)
        if p.choice_help or p.name == "executor":  # a line saying what the choice means (executors: below)
            note = QLabel(self)
            note.setObjectName(f"about_{p.name}")
            note.setWordWrap(True)
            dim(note)
            form.addRow(note)
            self._notes[p.name] = note
        field.error_label = QLabel(self)
        field.error_label.setObjectName("fieldError")
        field.error_label.setWordWrap(True)
        field.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(field.error_label)
        form.setRowVisible(field.error_label, False)
        field.form = form

    # --- public API --------------------------------------------------------------
    def spec(self) -> ExperimentSpec:
        """The spec being edited; SpecError (naming the field) while the input is invalid."""
        return self._build()

    def set_spec(self, spec: ExperimentSpec, probe: bool = True) -> None:
        """Show ``spec`` in every field (an unavailable executor is shown, marked invalid).

        ``probe=False`` for a spec read from a file (a run file, the history): its interpreter and its
        function are shown marked as coming from the file, and neither is started, imported or run
        until the person confirms it in this session (:mod:`..file_values`): never on a change of
        focus, and Run is refused meanwhile, saying why.
        """
        if not probe:
            for name in RUNNABLE:
                SESSION.opened(name, getattr(spec, name))
        self._updating = True
        self._base = spec
        try:
            for f in self.fields.values():
                f.editor.blockSignals(True)
            for name, f in self.fields.items():
                f.set_value(getattr(spec, name))
                if isinstance(f, RunnableField):
                    f.confirm_button.setVisible(f.pending())
        finally:
            for f in self.fields.values():
                f.editor.blockSignals(False)
            self._updating = False
        python = self._interpreter
        if python is not None:
            path = getattr(spec, python.param.name)
            if path and python.pending():
                python.defer()
            elif path:
                python.check(path)
            else:
                python.probe.forget()
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
        return None if self._interpreter is None else self._interpreter.answer()

    def use_function_file(self, path: str) -> None:
        """Fill the function field from a .py file, asking which function when it has several."""
        next(f for f in self.fields.values() if isinstance(f, FunctionField)).use_file(path)

    def shutdown(self) -> None:
        """Stop a running interpreter probe or function check (call before the window closes)."""
        if self._interpreter is not None:
            self._interpreter.probe.stop()
        if self._function is not None:
            self._function.want(None)

    # --- validation --------------------------------------------------------------
    def _values(self) -> dict[str, Any]:
        return self._base.to_dict() | {name: f.value() for name, f in self.fields.items()}

    def _build(self) -> ExperimentSpec:
        values = self._values()
        spec = ExperimentSpec(**values)
        waiting = self._waiting(values)
        if waiting:
            raise SpecError(waiting[0], f"{values[waiting[0]]!r} comes from the opened file and has not run in "
                                        "this session; press Enter in the field, or Confirm, to allow it")
        problem = self._function.problem(self._function_key(spec.to_dict())) if self._function is not None else None
        if spec.workload == "custom" and problem:
            raise SpecError("function", f"{problem} (press Enter in the field to check again)")
        ok, reason = self._availability(spec.executor, spec)
        if not ok:
            raise SpecError("executor", f"{spec.executor} is not available here: {reason}")
        check_memory(spec, spec.worker_threads())  # the copies its data would need: refused as typed, not at Run
        info = self.interpreter_info()
        if spec.python and spec.isolation == "process" and info and info.get("problem"):
            raise SpecError("python", info["problem"])
        return spec

    def _availability(self, executor: str, spec: ExperimentSpec) -> tuple[bool, str]:
        rows = self._executor_rows(spec.to_dict())
        row = rows.get(executor)
        return (True, "") if row is None else (bool(row["available"]), row["reason"])

    def _executor_rows(self, values: dict[str, Any] | None) -> dict[str, dict]:
        """Executors as seen by the interpreter that will run the engine (the form's values name it)."""
        other = self.interpreter_info() if values and values.get("python") else None
        if other and other.get("executors") and values.get("isolation", "process") == "process":
            return {row["name"]: row for row in other["executors"]}
        return self._executors

    def _on_edit(self) -> None:
        if self._updating:
            return
        self._revalidate()
        self.changed.emit()

    def _on_probed(self, info: dict[str, Any]) -> None:
        self._revalidate()
        self.changed.emit()
        self.interpreter_probed.emit(info.get("problem") or info["text"])

    @staticmethod
    def _waiting(values: dict[str, Any]) -> list[str]:
        """The fields whose value came from a file unconfirmed and would run: the interpreter of an engine
        process, the function of a custom workload."""
        uses = {"python": values.get("isolation") == "process", "function": values.get("workload") == "custom"}
        return [name for name in RUNNABLE if uses[name] and SESSION.pending(name, values.get(name))]

    @staticmethod
    def _function_key(values: dict[str, Any]) -> CheckKey:
        """What a check of the function is about: the function, the interpreter the engine runs on, inline or not."""
        inline = values.get("isolation") == "inline"
        return (values.get("function") or "").strip(), "" if inline else (values.get("python") or ""), inline

    def _want_checked(self, values: dict[str, Any]) -> None:
        """Have the custom function checked once the spec takes it as a reference (a ':' in it)."""
        if self._function is None:
            return
        key = None
        if values.get("workload") == "custom":
            try:
                ExperimentSpec(workload="custom", function=values.get("function") or "")
            except SpecError:
                pass
            else:
                key = self._function_key(values)
        self._function.want(key, held=key is not None and bool(key[1]) and SESSION.pending("python", key[1]))

    def _revalidate(self) -> None:
        values = self._values()
        self._want_checked(values)
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
        self._other_error.setVisible(bad is not None and bad not in self.fields)
        if bad is not None and bad not in self.fields:
            self._other_error.setText(f"⚠ {PARAMS[bad].label if bad in PARAMS else bad}: "
                                      f"{str(self._error).split(': ', 1)[-1]}")
        for name, f in self.fields.items():
            invalid = name == bad
            if bool(f.editor.property("invalid")) != invalid:
                f.editor.setProperty("invalid", invalid)
                f.editor.style().unpolish(f.editor)
                f.editor.style().polish(f.editor)
                if isinstance(f.editor, NumberBox):
                    f.editor.show_invalid(invalid)
            tip = tooltip(f.param)
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
            if name in self._notes:  # what its choice means goes with it (joblib's backend)
                f.form.setRowVisible(self._notes[name], visible)
        if self._interpreter is not None:
            self._interpreter.show_isolation(values.get("isolation") == "inline")

    def _update_workers_text(self, values: dict[str, Any]) -> None:
        """Say what "auto" means now, as the spec computes it for what the form holds.

        Keyed by name: the spec has one rule for an empty ``workers`` and this says its answer.
        """
        f = self.fields.get("workers")
        if not isinstance(f, IntField):
            return
        executor = values.get("executor")
        kind = EXECUTOR_KINDS.get(executor)
        try:
            cluster = (values.get(kind.cluster_field) or "").strip() if kind.cluster_field else ""
            n = auto_workers(executor, int(values["tasks"]), cluster)
        except (AttributeError, KeyError, TypeError, ValueError):  # no executor or tasks to go by: say only "auto"
            short, words = "auto", ""
        else:
            if n is None:  # a Dask scheduler's workers: only the cluster knows how many
                short, words = "auto (all)", "all of the scheduler's workers"
            elif kind.threads_field:
                short, words = f"auto ({n})", f"{n} worker processes × {values[kind.threads_field]} threads"
            else:
                short, words = f"auto ({n})", f"{n} for {executor}"
        f.editor.setSpecialValueText(short)
        now = f"\n\nNow: auto means {words}." if words else ""
        f.editor.setToolTip(f.editor.toolTip().split("\n\nNow:")[0] + now)

    # The executor picker is the one field whose choices the spec cannot describe alone: their titles,
    # descriptions and availability come from the executor registry at run time, and from the chosen
    # interpreter when the engine runs on another Python.
    def _refresh_executor_items(self, values: dict[str, Any] | None = None) -> None:
        f = self.fields.get("executor")
        if not isinstance(f, ChoiceField):
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
        for name, note in self._notes.items():
            value = values[name]
            if name == "executor":
                note.setText(self._executors.get(value, {}).get("description", ""))
            else:
                note.setText(self.fields[name].param.choice_help.get(value, ""))

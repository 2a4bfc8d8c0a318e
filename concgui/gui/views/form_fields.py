"""The experiment form's editors, one per kind of spec field.

:func:`make_field` chooses a field's editor from what its :class:`Param` declares (its
choices, its type, and for text its ``editor``: plain text, an interpreter, a function or
a file), never from its name, so a field added to the spec gets the right widget, hint
and help without the form learning about it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
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

from ...engine.spec import ExperimentSpec, Param, SpecError
from ..interpreter_probe import InterpreterProbe, describe_interpreter, this_interpreter


def tooltip(p: Param) -> str:
    return f"{p.help}\nAllowed: {p.allowed()}."


def dim(label: QLabel) -> None:
    """Grey, slightly smaller text: a note under a field, not a field."""
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.9)
    label.setFont(font)


class Field:
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


class ChoiceField(Field):
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

    def set_item_enabled(self, index: int, enabled: bool, tip: str) -> None:
        item = self.editor.model().item(index)
        item.setEnabled(enabled)
        item.setToolTip(tip)


class IntField(Field):
    editor: QSpinBox

    def value(self) -> Any:
        v = self.editor.value()
        return None if self.param.optional and v == self.editor.minimum() else v

    def set_value(self, value: Any) -> None:
        self.editor.setValue(self.editor.minimum() if value is None else int(value))

    def connect(self, slot: Callable[[], None]) -> None:
        self.editor.valueChanged.connect(lambda _v: slot())


class FloatField(Field):
    editor: QDoubleSpinBox

    def value(self) -> Any:
        return self.editor.value()

    def set_value(self, value: Any) -> None:
        self.editor.setValue(float(value))

    def connect(self, slot: Callable[[], None]) -> None:
        self.editor.valueChanged.connect(lambda _v: slot())


class BoolField(Field):
    editor: QCheckBox

    def value(self) -> Any:
        return self.editor.isChecked()

    def set_value(self, value: Any) -> None:
        self.editor.setChecked(bool(value))

    def connect(self, slot: Callable[[], None]) -> None:
        self.editor.toggled.connect(lambda _v: slot())


class TextField(Field):
    editor: QLineEdit

    def value(self) -> Any:
        text = self.editor.text().strip()
        return None if self.param.optional and not text else text

    def set_value(self, value: Any) -> None:
        self.editor.setText("" if value is None else str(value))

    def connect(self, slot: Callable[[], None]) -> None:
        self.editor.textChanged.connect(lambda _t: slot())


def _line_edit(p: Param, parent: QWidget) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setPlaceholderText(p.placeholder)
    edit.setClearButtonEnabled(True)
    return edit


def _browse_line(p: Param, parent: QWidget, tip: str, browse: Callable[[], None]) -> tuple[QHBoxLayout, QLineEdit]:
    """A text field with a Browse… button beside it."""
    line = QHBoxLayout()
    line.setContentsMargins(0, 0, 0, 0)
    line.setSpacing(4)
    edit = _line_edit(p, parent)
    button = QPushButton("Browse…", parent)
    button.setObjectName(f"browse_{p.name}")
    button.setToolTip(tip)
    button.clicked.connect(browse)
    line.addWidget(edit, 1)
    line.addWidget(button)
    return line, edit


class FileField(TextField):
    """A path to a file to read, with a Browse… button."""

    def __init__(self, p: Param, parent: QWidget) -> None:
        row = QWidget(parent)
        line, edit = _browse_line(p, row, f"Choose the {p.label}", self.browse)
        row.setLayout(line)
        super().__init__(p, edit, row)

    def browse(self) -> None:
        types = ";;".join(filter(None, [self.param.file_types, "All files (*)"]))
        path, _ = QFileDialog.getOpenFileName(self.row, f"Choose the {self.param.label}",
                                              self.editor.text() or str(Path.home()), types)
        if path:
            self.editor.setText(path)


def callables(path: Path) -> list[str]:
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


class FunctionField(TextField):
    """A function to call, as module:function or file.py:function; Browse… reads a file's functions."""

    def __init__(self, p: Param, parent: QWidget) -> None:
        row = QWidget(parent)
        line, edit = _browse_line(p, row, "Choose a .py file; its function is filled in", self.browse)
        row.setLayout(line)
        super().__init__(p, edit, row)

    def browse(self) -> None:
        current = self.editor.text()
        start = current.rsplit(":", 1)[0] if current.endswith(".py") or ".py:" in current else str(Path.cwd())
        path, _ = QFileDialog.getOpenFileName(self.row, "Choose a Python file with your task function",
                                              start, "Python files (*.py)")
        if path:
            self.use_file(path)

    def use_file(self, path: str) -> None:
        """Fill in ``path``, asking which function when it has several."""
        names = callables(Path(path))
        name = ""
        if len(names) == 1:
            name = names[0]
        elif names:
            name, ok = QInputDialog.getItem(self.row, "Which function?", f"Functions in {Path(path).name}:",
                                            names, 0, False)
            name = name if ok else ""
        self.editor.setText(f"{path}:{name}")
        self.editor.setFocus()
        self.editor.setCursorPosition(len(self.editor.text()))


class InterpreterField(TextField):
    """A Python interpreter to run, with a line under it saying which Python it is.

    Pressing Enter (or Browse…) asks the interpreter through :attr:`probe`, in the background;
    its answer stays until another interpreter is asked or the field is cleared.
    """

    def __init__(self, p: Param, parent: QWidget) -> None:
        row = QWidget(parent)
        lay = QVBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        line, edit = _browse_line(p, row, "Choose another Python interpreter, for example a free-threaded "
                                          "python3.13t", self.browse)
        lay.addLayout(line)
        self.info = QLabel(self._this_one(), row)
        self.info.setObjectName(f"about_{p.name}")
        self.info.setWordWrap(True)
        dim(self.info)
        lay.addWidget(self.info)
        super().__init__(p, edit, row)
        self.probe = InterpreterProbe(row)
        self.probe.finished.connect(lambda info: self.info.setText(info.get("problem") or info["text"]))
        edit.editingFinished.connect(lambda: self.check(edit.text().strip()))
        edit.textChanged.connect(self._on_text)

    @staticmethod
    def _this_one() -> str:
        return f"This one: {describe_interpreter(this_interpreter())}."

    def answer(self) -> dict[str, Any] | None:
        """What the probe learned about the interpreter asked last (None: not asked, or not yet answered)."""
        return self.probe.answer

    def check(self, path: str) -> None:
        """Ask ``path`` what it is, unless it is being or has been asked."""
        if not path or (path == self.probe.path and (self.probe.running() or self.probe.answer is not None)):
            return
        self.info.setText(f"Checking {Path(path).name}…")
        self.probe.start(path)

    def defer(self) -> None:
        """Forget any answer and wait for Enter: opening a file must not run the interpreter it names."""
        self.probe.forget()
        self.info.setText("Press Enter to check this interpreter.")

    def show_isolation(self, inline: bool) -> None:
        """Inline runs use this app's own Python whatever the field holds: say so, and grey it out."""
        self.row.setEnabled(not inline)
        if inline:
            self.info.setText("Inside the app the engine always runs on this Python.")
        else:
            self._on_text(self.editor.text(), label_only=True)

    def browse(self) -> None:
        current = self.editor.text().strip() or sys.executable
        path, _ = QFileDialog.getOpenFileName(self.row, "Choose a Python interpreter", str(Path(current).parent))
        if path:
            self.editor.setText(path)
            self.check(path)

    def _on_text(self, text: str, label_only: bool = False) -> None:
        text = text.strip()
        if not text:
            self.info.setText(self._this_one())
            if not label_only:
                self.probe.forget()
        elif text != self.probe.path:
            self.info.setText("Press Enter to check this interpreter.")
        elif self.probe.answer is not None:
            self.info.setText(self.probe.answer.get("problem") or self.probe.answer["text"])


def refused(name: str, choice: Any) -> str | None:
    """Why the spec refuses this choice on this platform (e.g. fork on Windows), else None."""
    if choice is None:
        return None
    try:
        ExperimentSpec(**{name: choice})
    except SpecError as exc:
        return str(exc) if exc.field == name else None
    return None


def _choice(p: Param, parent: QWidget) -> ChoiceField:
    combo = QComboBox(parent)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(12)
    field = ChoiceField(p, combo)
    if p.optional:
        combo.addItem(f"default ({p.empty_text})" if p.empty_text else "default", None)
    for choice in p.choices:
        combo.addItem(p.choice_labels.get(choice, choice), choice)
    for i in range(combo.count()):
        choice = combo.itemData(i)
        reason = refused(p.name, choice)
        field.set_item_enabled(i, reason is None, reason or p.choice_help.get(choice, ""))
    return field


def _unit_suffix(p: Param) -> str:
    """A spin box suffix for a measured unit (s, MB); counts ('3 tasks') only repeat the label."""
    return f" {p.unit}" if p.unit and p.kind is float else ""


def _int(p: Param, parent: QWidget) -> IntField:
    spin = QSpinBox(parent)
    low = int(p.minimum) - (1 if p.optional else 0)  # one below the range: empty, shown as "auto"
    spin.setRange(low, min(int(p.maximum), 2**31 - 1))
    spin.setGroupSeparatorShown(p.maximum >= 10_000)
    spin.setSuffix(_unit_suffix(p))
    if p.optional:
        spin.setSpecialValueText("auto")
    return IntField(p, spin)


def _float(p: Param, parent: QWidget) -> FloatField:
    spin = QDoubleSpinBox(parent)
    small = p.maximum <= 1
    spin.setDecimals(2 if small else 3)
    spin.setRange(p.minimum, p.maximum)
    spin.setSingleStep(0.05 if small else 0.1 if p.unit == "s" else 1.0)
    spin.setSuffix(_unit_suffix(p))
    if p.minimum_text:
        spin.setSpecialValueText(p.minimum_text)
    return FloatField(p, spin)


#: the editor of each kind of text a Param may declare
TEXT_EDITORS: dict[str, Callable[[Param, QWidget], TextField]] = {
    "text": lambda p, parent: TextField(p, _line_edit(p, parent)),
    "file": FileField,
    "function": FunctionField,
    "interpreter": InterpreterField,
}


def make_field(p: Param, parent: QWidget) -> Field:
    """The editor ``p`` declares: a picker for choices, a check box, a spin box, or its kind of text."""
    if p.choices:
        field: Field = _choice(p, parent)
    elif p.kind is bool:
        field = BoolField(p, QCheckBox(p.label, parent))
    elif p.kind is int:
        field = _int(p, parent)
    elif p.kind is float:
        field = _float(p, parent)
    else:
        field = TEXT_EDITORS[p.editor](p, parent)
    field.editor.setObjectName(f"field_{p.name}")
    field.editor.setToolTip(tooltip(p))
    field.editor.setAccessibleName(p.label)
    field.editor.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return field

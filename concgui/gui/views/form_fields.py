"""The experiment form's editors, one per kind of spec field.

:func:`make_field` chooses a field's editor from what its :class:`Param` declares (its
choices, its type, and for text its ``editor``: plain text, an interpreter, a function or
a file), never from its name, so a field added to the spec gets the right widget, hint
and help without the form learning about it.  Number fields hold whatever number is
typed (:class:`NumberBox`), so the spec, not the widget, says what is allowed.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPalette
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
    QStyle,
    QStyleOptionSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...engine.spec import ExperimentSpec, Param, SpecError
from ..file_values import SESSION
from ..function_check import CheckKey, FunctionCheck, checkable
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


class NumberBox:
    """Mixed into a spin box: it holds any number typed, while its arrows and wheel keep to the allowed range.

    Qt's own range clamps or reverts typed text without a word (tasks 0 kept the old value,
    workers -3 became 3, a duration of -1 snapped back); held as typed, the number reaches the
    spec, which refuses it naming the field and what is allowed, and the form shows that. The
    allowed range is :attr:`low` .. :attr:`high`; the box's own minimum, far below, is "empty"
    ("auto", "none") when the field has such a value, shown as its special value text.
    """

    low: float
    high: float
    has_empty: bool

    def hold(self, low: float, high: float, limit: float, empty_text: str = "") -> None:
        self.low, self.high, self.has_empty = low, high, bool(empty_text)
        self.setRange(-limit, limit)
        self.setSpecialValueText(empty_text)

    def is_empty(self) -> bool:
        return self.has_empty and self.value() == self.minimum()

    def set_empty(self) -> None:
        self.setValue(self.minimum())

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt's name
        """Up and down within the allowed range (from a refused number, into it); below it, empty."""
        value, step = self.value(), self.singleStep()
        if self.is_empty():
            target = (self.low if self.low != self.empty_value() else self.low + step) if steps > 0 else value
        elif self.has_empty and steps < 0 and value <= self.low:
            target = self.minimum()
        else:
            target = min(max(value + steps * step, self.low), self.high)
        self.setValue(target)
        if self.has_empty and steps < 0 and self.value() == self.empty_value():  # 0.1 s down to "none"
            self.set_empty()
        self.selectAll()

    def stepEnabled(self):  # noqa: N802 - Qt's name
        flags = self.StepEnabledFlag
        if self.isReadOnly():
            return flags.StepNone
        value = self.value()
        up = value < self.high
        down = not self.is_empty() and (value > self.low or self.has_empty)
        return (flags.StepUpEnabled if up else flags.StepNone) | (flags.StepDownEnabled if down else flags.StepNone)

    def show_invalid(self, invalid: bool) -> None:
        """Red text on a light red field while the number is refused (the line under it says why)."""
        palette = QPalette()
        if invalid:
            palette.setColor(QPalette.ColorRole.Base, QColor(INVALID_BASE))
            palette.setColor(QPalette.ColorRole.Text, QColor(INVALID_TEXT))
        self.setPalette(palette)
        self.lineEdit().setPalette(palette)  # its text field does not always take the box's palette

    def empty_value(self) -> float | None:
        """What empty stands for: None ("auto") or the minimum it names ("none" for a timeout of 0)."""
        return None

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self._hint(self.lineEdit().sizeHint().height(), self.suffix())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self._hint(self.lineEdit().minimumSizeHint().height(), "")

    def _hint(self, height: int, suffix: str) -> QSize:
        """Qt's size hint, for the allowed range: the held range's numbers would make the field far too wide."""
        self.ensurePolished()
        fixed = self.prefix() + suffix + " "
        texts = [self.textFromValue(v)[:18] + fixed for v in (self.low, self.high)] + [self.specialValueText()]
        width = max(self.fontMetrics().horizontalAdvance(t) for t in texts) + 2
        opt = QStyleOptionSpinBox()
        self.initStyleOption(opt)
        return self.style().sizeFromContents(QStyle.ContentsType.CT_SpinBox, opt, QSize(width, height), self)


class IntBox(NumberBox, QSpinBox):
    """A whole-number field (empty: "auto")."""


class FloatBox(NumberBox, QDoubleSpinBox):
    """A number field (empty: its minimum, named, as a timeout's "none")."""

    def empty_value(self) -> float | None:
        return self.low


class IntField(Field):
    editor: IntBox

    def value(self) -> Any:
        return None if self.editor.is_empty() else self.editor.value()

    def set_value(self, value: Any) -> None:
        if value is None:
            self.editor.set_empty()
        else:
            self.editor.setValue(int(value))

    def connect(self, slot: Callable[[], None]) -> None:
        self.editor.valueChanged.connect(lambda _v: slot())


class FloatField(Field):
    editor: FloatBox

    def value(self) -> Any:
        return self.editor.empty_value() if self.editor.is_empty() else self.editor.value()

    def set_value(self, value: Any) -> None:
        if self.editor.has_empty and float(value) == self.editor.empty_value():
            self.editor.set_empty()
        else:
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


class RunnableField(TextField):
    """A text field naming something the app runs (an interpreter, a function's module), with a note under
    it; a value read from a file waits there, marked, until the person confirms it (:mod:`..file_values`).

    :meth:`confirm` (Enter in the field, or the Confirm button shown beside the note while a value
    waits) lets it run; :attr:`on_confirm` is then called, so the form checks it and allows Run.
    """

    FROM_FILE = ("From the opened file: not run until you confirm it. Press Enter here or Confirm to "
                 "{what}.")

    def __init__(self, p: Param, row: QWidget, line: QHBoxLayout, edit: QLineEdit, what: str) -> None:
        lay = QVBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(line)
        note = QHBoxLayout()
        note.setContentsMargins(0, 0, 0, 0)
        self.info = QLabel(row)
        self.info.setObjectName(f"about_{p.name}")
        self.info.setWordWrap(True)
        dim(self.info)
        self.confirm_button = QPushButton("Confirm", row)
        self.confirm_button.setObjectName(f"confirm_{p.name}")
        self.confirm_button.setToolTip(f"Allow ConcGUI to run this {p.label.lower()}, which the opened file names")
        self.confirm_button.setVisible(False)
        self.confirm_button.clicked.connect(self.confirm)
        note.addWidget(self.info, 1)
        note.addWidget(self.confirm_button, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(note)
        super().__init__(p, edit, row)
        self.from_file_text = self.FROM_FILE.format(what=what)
        #: called after the person confirmed a value from a file
        self.on_confirm: Callable[[], None] = lambda: None
        edit.textChanged.connect(lambda _t: self.confirm_button.setVisible(self.pending()))

    def pending(self) -> bool:
        """Whether the value shown came from a file and waits for the person to confirm it."""
        return SESSION.pending(self.param.name, self.editor.text())

    def confirm(self) -> None:
        """The person lets the value shown run (Enter, Confirm): it is checked now, and the form told."""
        if SESSION.confirm(self.param.name, self.editor.text()):
            self.confirm_button.setVisible(False)
            self.confirmed()
            self.on_confirm()

    def confirmed(self) -> None:
        """Check the value just confirmed (each field its own way)."""

    def show_pending(self) -> None:
        """Say that the value came from a file and offer to confirm it."""
        self.confirm_button.setVisible(True)
        self.info.setText(self.from_file_text)
        self.info.setVisible(True)


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


class FunctionField(RunnableField):
    """A function to call, as module:function or file.py:function; Browse… reads a file's functions.

    As it changes, :attr:`check` asks, in the background, whether the engine can load it (see
    :mod:`..function_check`); a line under it says what the check is doing or found, and the form
    refuses the function with the engine's reason. Enter checks again (after the file was fixed). A
    function read from a file is not imported, even to check it, until the person confirms it.
    """

    #: how long typing must pause before a check starts: one check per word, not per key
    DEBOUNCE_MS = 350

    def __init__(self, p: Param, parent: QWidget) -> None:
        row = QWidget(parent)
        line, edit = _browse_line(p, row, "Choose a .py file; its function is filled in", self.browse)
        super().__init__(p, row, line, edit, "check it")
        self.info.setVisible(False)
        self.check = FunctionCheck(row)
        self.check.finished.connect(self._on_answer)
        self._wanted: CheckKey | None = None  # what the form holds now, to check when typing pauses
        self._held = False  # the interpreter it would be checked on waits for the person to confirm it
        self._debounce = QTimer(row)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(self.DEBOUNCE_MS)
        self._debounce.timeout.connect(self._start)
        edit.returnPressed.connect(self._on_enter)

    def problem(self, key: CheckKey) -> str | None:
        """Why the engine would refuse ``key``'s function, if the last check of it said so."""
        answer = self.check.answer
        return answer.get("problem") if answer is not None and self.check.key == key else None

    def want(self, key: CheckKey | None, held: bool = False) -> None:
        """The function the form holds now (None: not a custom run, or not a reference yet): checked soon,
        unless it, or the interpreter it would be checked on (``held``), came from a file unconfirmed."""
        if key == self._wanted and held == self._held and not (key is not None and self.pending()):
            return
        self._wanted, self._held = key, held
        self._debounce.stop()
        if key is None or not checkable():
            self.check.forget()
            self._say("")
        elif self.pending():
            self.check.forget()
            self.show_pending()
        elif held:
            self.check.forget()
            self._say("Checked once the interpreter above, from the opened file, is confirmed.")
        elif key != self.check.key:
            self.check.forget()
            self._say("")
            self._debounce.start()

    def _on_enter(self) -> None:
        if self.pending():
            self.confirm()
        else:
            self._start(again=True)

    def confirmed(self) -> None:
        self._start(again=True)

    def _start(self, again: bool = False) -> None:
        key = self._wanted
        if key is None or not checkable() or self.pending() or self._held \
                or (not again and key == self.check.key):
            return
        SESSION.confirm(self.param.name, key[0])  # checked at the person's word: theirs from now on
        self._say(f"Checking {key[0]}…")
        self.check.start(key)

    def _on_answer(self, info: dict[str, Any]) -> None:
        if "problem" in info:
            self._say("")  # the form says why, in red
        else:
            self._say("Found: it is called " + ("with the task index." if info.get("takes_index")
                                                else "without arguments."))

    def _say(self, text: str) -> None:
        self.info.setText(text)
        self.info.setVisible(bool(text))

    def browse(self) -> None:
        current = self.editor.text()
        start = current.rsplit(":", 1)[0] if current.endswith(".py") or ".py:" in current else str(Path.cwd())
        path, _ = QFileDialog.getOpenFileName(self.row, "Choose a Python file with your task function",
                                              start, "Python files (*.py)")
        if path:
            self.use_file(path)

    def use_file(self, path: str) -> None:
        """Fill in ``path`` (the person chose it), asking which function when it has several."""
        names = callables(Path(path))
        name = ""
        if len(names) == 1:
            name = names[0]
        elif names:
            name, ok = QInputDialog.getItem(self.row, "Which function?", f"Functions in {Path(path).name}:",
                                            names, 0, False)
            name = name if ok else ""
        SESSION.confirm(self.param.name, f"{path}:{name}")
        self.editor.setText(f"{path}:{name}")
        self.editor.setFocus()
        self.editor.setCursorPosition(len(self.editor.text()))


class InterpreterField(RunnableField):
    """A Python interpreter to run, with a line under it saying which Python it is.

    Pressing Enter, leaving the field (or Browse…) asks the interpreter through :attr:`probe`, in the
    background; its answer stays until another interpreter is asked or the field is cleared. One read
    from a file is asked only once the person confirms it: Enter or Confirm, never leaving the field.
    """

    def __init__(self, p: Param, parent: QWidget) -> None:
        row = QWidget(parent)
        line, edit = _browse_line(p, row, "Choose another Python interpreter, for example a free-threaded "
                                          "python3.13t", self.browse)
        super().__init__(p, row, line, edit, "check it")
        self.info.setText(self._this_one())
        self.probe = InterpreterProbe(row)
        self.probe.finished.connect(lambda info: self.info.setText(info.get("problem") or info["text"]))
        edit.returnPressed.connect(self._on_enter)
        edit.editingFinished.connect(lambda: self.check(edit.text().strip()))
        edit.textChanged.connect(self._on_text)

    @staticmethod
    def _this_one() -> str:
        return f"This one: {describe_interpreter(this_interpreter())}."

    def answer(self) -> dict[str, Any] | None:
        """What the probe learned about the interpreter asked last (None: not asked, or not yet answered)."""
        return self.probe.answer

    def check(self, path: str) -> None:
        """Ask ``path`` what it is, unless it is being or has been asked, or came from a file unconfirmed."""
        if not path or (path == self.probe.path and (self.probe.running() or self.probe.answer is not None)):
            return
        if SESSION.pending(self.param.name, path):
            self.show_pending()
            return
        SESSION.confirm(self.param.name, path)  # asked at the person's word: theirs from now on
        self.info.setText(f"Checking {Path(path).name}…")
        self.probe.start(path)

    def _on_enter(self) -> None:
        if self.pending():
            self.confirm()
        else:
            self.check(self.editor.text().strip())

    def confirmed(self) -> None:
        self.check(self.editor.text().strip())

    def defer(self) -> None:
        """Forget any answer and show the value as from a file: opening a file must not run the interpreter it names."""
        self.probe.forget()
        self.show_pending()

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
            SESSION.confirm(self.param.name, path)
            self.editor.setText(path)
            self.check(path)

    def _on_text(self, text: str, label_only: bool = False) -> None:
        text = text.strip()
        if not text:
            self.info.setText(self._this_one())
            if not label_only:
                self.probe.forget()
        elif self.pending():
            self.info.setText(self.from_file_text)
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


INVALID_BASE, INVALID_TEXT = "#fdecea", "#c62828"  # a refused number: light red field, dark red text
#: the widest numbers a number field holds: anything a person types, for the spec to refuse in words
INT_LIMIT = 2**31 - 1
FLOAT_LIMIT = 1e12


def _int(p: Param, parent: QWidget) -> IntField:
    spin = IntBox(parent)
    spin.hold(int(p.minimum), min(int(p.maximum), INT_LIMIT), INT_LIMIT, "auto" if p.optional else "")
    spin.setGroupSeparatorShown(p.maximum >= 10_000)
    spin.setSuffix(_unit_suffix(p))
    return IntField(p, spin)


def _float(p: Param, parent: QWidget) -> FloatField:
    spin = FloatBox(parent)
    small = p.maximum <= 1
    spin.setDecimals(2 if small else 3)
    spin.hold(p.minimum, p.maximum, FLOAT_LIMIT, p.minimum_text)
    spin.setSingleStep(0.05 if small else 0.1 if p.unit == "s" else 1.0)
    spin.setSuffix(_unit_suffix(p))
    field = FloatField(p, spin)
    if p.minimum_text:  # the minimum typed as a number reads as its name once the person leaves the field
        spin.editingFinished.connect(lambda: field.set_value(spin.value()))
    return field


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

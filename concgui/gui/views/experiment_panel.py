"""The experiment panel: presets, the form, Run and Stop, the executors to compare, the scaling study.

What a person sets up before pressing Run, in one column; the window wires its buttons to the
run controller. Choosing a preset fills the form and the comparison's checkboxes here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...engine import ExperimentSpec
from ..presets import load_presets
from .compare import ExecutorChecks
from .form import ExperimentForm


class ExperimentPanel(QWidget):
    """The left-hand column of the window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.preset_box = QComboBox()
        self.preset_box.addItem("Presets…", None)
        self.presets = {p.name: p for p in load_presets()}
        for p in self.presets.values():
            self.preset_box.addItem(p.title, p.name)
            self.preset_box.setItemData(self.preset_box.count() - 1, p.description, Qt.ItemDataRole.ToolTipRole)
        self.preset_box.activated.connect(self._preset_chosen)
        layout.addWidget(self.preset_box)
        self.preset_note = QLabel()
        self.preset_note.setWordWrap(True)
        self.preset_note.setVisible(False)
        layout.addWidget(self.preset_note)

        self.form = ExperimentForm()
        layout.addWidget(self.form)

        buttons = QHBoxLayout()
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Run the experiment (Ctrl+R)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the run (Esc): queued tasks are dropped, running ones stopped")
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        layout.addLayout(buttons)

        self.executor_checks = ExecutorChecks()
        layout.addWidget(self.executor_checks)
        self.sweep_button = QPushButton("Scaling study…")
        self.sweep_button.setToolTip("Run this experiment with 1, 2, 4, … workers on the executors you choose, "
                                     "each point repeated: speedup and efficiency versus workers")
        layout.addWidget(self.sweep_button)
        layout.addStretch(1)

    def _preset_chosen(self, index: int) -> None:
        name = self.preset_box.itemData(index)
        if name:
            self.load_preset(name)

    def load_preset(self, name: str) -> list[ExperimentSpec]:
        """Put a preset into the form (and the comparison checkboxes); returns its runnable specs."""
        preset = self.presets.get(name)
        if preset is None:
            raise KeyError(f"preset: no preset named {name!r}; known: {', '.join(self.presets)}")
        specs, skipped = preset.runnable()
        self.form.set_spec(specs[0] if specs else preset.specs[0])
        self.executor_checks.choose({s.executor for s in specs})
        note = preset.description
        if skipped:
            note += " (Skipped here: " + "; ".join(f"{s.executor}: {why}" for s, why in skipped) + ")"
        self.preset_note.setText(note)
        self.preset_note.setVisible(True)
        self.preset_box.setCurrentIndex(max(0, self.preset_box.findData(name)))
        return specs

    def set_running(self, running: bool, valid: bool) -> None:
        """Enable what can be used now: nothing but Stop while a run goes."""
        for w in (self.run_button, self.executor_checks.button, self.sweep_button):
            w.setEnabled(valid and not running)
        self.stop_button.setEnabled(running)
        self.form.setEnabled(not running)
        self.preset_box.setEnabled(not running)

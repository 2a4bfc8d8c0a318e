"""The experiment panel: presets, the form, Run and Stop, the executors to compare, the scaling study.

What a person sets up before pressing Run, in one column; the window wires its buttons to the
run controller. Choosing a preset fills the form and the comparison's checkboxes here, and its
note describes the form only while the form holds what the preset put there: another executor
chosen, or another run shown (from the history or a file), and the list reads "Presets…" again
with no note (:meth:`ExperimentPanel.leave_compare`); any other edit of a comparison keeps it, and
the note then says "Edited" instead of what the preset promised ("three tasks that each sleep 2 s…").

A preset with several runs is meant for Compare, not Run (Run would run only the form's first
executor, often sequential): while it is loaded the panel says so, the Compare button has the
focus, :attr:`ExperimentPanel.compare_preset` is that preset, and Compare runs the preset's own
runs (their workers, chunk size, …), not the form's one executor.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...engine import ExperimentSpec
from ...engine.metrics import run_label
from ...engine.present import count
from ...engine.spec import EXECUTOR_KINDS
from ..presets import Preset, load_presets
from .compare import ExecutorChecks
from .form import ExperimentForm

RUN_TIP = "Run the experiment once, on the executor chosen above (Ctrl+R)"


def _and(words: list[str]) -> str:
    """"a, b and c"."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _comparison_words(specs: list[ExperimentSpec]) -> str:
    """The note's paragraph on what Compare and Run run while a preset meant for Compare is loaded."""
    runs = html.escape(_and([run_words(s) for s in specs]))
    return (f"<p><b>A comparison: press Compare (Ctrl+R)</b> to run it on {runs}, one after another. "
            f"Run runs only the executor chosen above ({specs[0].executor}).</p>")


def run_words(spec: ExperimentSpec) -> str:
    """One run of a comparison as the Compare table will name it (:func:`~concgui.engine.metrics.run_label`),
    with its workers where it sets them: "process-pool (2 workers, chunks of 100)"."""
    return run_label(spec.to_dict(), [count(spec.workers, "worker")] if spec.workers else [])


class ExperimentPanel(QWidget):
    """The left-hand column of the window."""

    #: a preset meant for Compare was loaded (True), or is no longer in effect (False)
    compare_mode_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: the preset whose title and note show, while the form holds what it put there
        self.preset: Preset | None = None
        self._preset_values: dict[str, object] = {}  # the form's fields as the preset left them
        #: the preset meant for Compare now loaded, while the form still holds it
        self.compare_preset: Preset | None = None
        self._compare_executor = ""  # the executor the form holds for it (Run's tooltip names it)
        self._notes = ("", "")  # the loaded preset's note: as it came, and once the form is edited
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
        self.preset_note.setTextFormat(Qt.TextFormat.RichText)
        self.preset_note.setWordWrap(True)
        self.preset_note.setVisible(False)
        layout.addWidget(self.preset_note)

        self.form = ExperimentForm()
        layout.addWidget(self.form)

        #: Run and Stop: the window keeps this row in view under the panel, whatever the panel's height
        #: (a preset's note pushed it below the fold at 1024 × 700)
        self.run_bar = QWidget()
        buttons = QHBoxLayout(self.run_bar)
        buttons.setContentsMargins(layout.contentsMargins().left(), 4, layout.contentsMargins().right(), 4)
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip(RUN_TIP)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the run (Esc): queued tasks are dropped, running ones stopped")
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)

        self.executor_checks = ExecutorChecks()
        layout.addWidget(self.executor_checks)
        self.sweep_button = QPushButton("Scaling study…")
        self.sweep_button.setToolTip("Run this experiment with 1, 2, 4, … workers on the executors you choose, "
                                     "each point repeated: speedup and efficiency versus workers")
        layout.addWidget(self.sweep_button)
        layout.addStretch(1)
        self.form.changed.connect(self._on_form_changed)

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
        self.preset = self.compare_preset = None  # the form changes now: no departure from the preset
        self.form.set_spec(specs[0] if specs else preset.specs[0])
        self.preset, self._preset_values = preset, self._form_values()
        self.executor_checks.choose({s.executor for s in specs})
        note = preset.description
        if skipped:
            note += " (Skipped here: " + "; ".join(f"{s.executor}: {why}" for s, why in skipped) + ")"
        note = html.escape(note)
        if preset.is_comparison and len(specs) > 1:
            note += _comparison_words(specs)
        self._notes = (note, "<b>Edited</b>: the preset's description no longer applies." + _comparison_words(specs))
        self.preset_note.setText(note)
        self.preset_note.setVisible(True)
        self.preset_box.setCurrentIndex(max(0, self.preset_box.findData(name)))
        self._set_compare(preset if preset.is_comparison and len(specs) > 1 else None)
        return specs

    def comparison(self, base: ExperimentSpec, executors: list[str]) -> list[ExperimentSpec]:
        """What Compare runs: ``base`` (the form's experiment) on each of ``executors``.

        While a preset meant for Compare is loaded, an executor it has runs as the preset runs it
        (its workers, start method, chunk size, …, and in its order: its first run is the baseline),
        with ``base``'s experiment (workload, tasks, duration, …); an executor checked besides runs
        ``base`` as it is. SpecError when one of them cannot run so.
        """
        preset = self.compare_preset
        own = [s for s in preset.runnable()[0] if s.executor in executors] if preset else []
        specs = []
        for s in own:
            kind = EXECUTOR_KINDS[s.executor]
            keep = {"executor", "workers", *kind.fields}
            specs.append(s.with_(**{k: v for k, v in base.to_dict().items() if k not in keep}))
        done = {s.executor for s in own}
        return specs + [base.with_(executor=name) for name in executors if name not in done]

    def leave_compare(self) -> None:
        """The form no longer holds the preset (a field changed, or the window shows another run):
        "Presets…" in the list, no note, and Run and Compare as usual, not the preset's comparison."""
        if self.compare_preset is not None:
            self._set_compare(None)
        self.preset = None
        self.preset_box.setCurrentIndex(0)
        self.preset_note.clear()
        self.preset_note.setVisible(False)

    def _set_compare(self, preset: Preset | None) -> None:
        self.compare_preset = preset
        self._compare_executor = self.form.fields["executor"].value()
        button = self.executor_checks.button
        button.setText("Compare (Ctrl+R)" if preset else "Compare")
        self.run_button.setToolTip(f"Run the experiment once, on {self._compare_executor} only; Ctrl+R runs "
                                   "this preset's comparison" if preset else RUN_TIP)
        if preset is not None:
            QTimer.singleShot(0, button.setFocus)  # after the preset list's popup has given the focus back
        self.compare_mode_changed.emit(preset is not None)

    def _form_values(self) -> dict[str, object]:
        return {name: f.value() for name, f in self.form.fields.items()}

    def _on_form_changed(self) -> None:
        """A field no longer as the preset set it: its description no longer applies.

        Another executor chosen: the person means to run that one, so the preset goes. Any other edit of a
        comparison (fewer tasks, shorter ones) keeps the comparison, which runs the preset's executors on
        the form's experiment; the note then says only that, not what the preset promised ("three tasks
        that each sleep 2 s…").
        """
        if self.preset is None:
            return
        edited = self._form_values() != self._preset_values
        if edited and (self.compare_preset is None or self.form.fields["executor"].value() != self._compare_executor):
            self.leave_compare()
            return
        words = self._notes[edited]  # edited back to the preset's values: its own note again
        if self.preset_note.text() != words:
            self.preset_note.setText(words)

    def set_running(self, running: bool, valid: bool) -> None:
        """Enable what can be used now: nothing but Stop while a run goes."""
        for w in (self.run_button, self.executor_checks.button, self.sweep_button):
            w.setEnabled(valid and not running)
        self.stop_button.setEnabled(running)
        self.form.setEnabled(not running)
        self.preset_box.setEnabled(not running)

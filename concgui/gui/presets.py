"""Ready-made experiments shipped in ``resources/presets.json``.

A preset is a title, a description and one or more specs; several specs
make a comparison (the same work on different executors).  Every spec is
validated through :class:`ExperimentSpec`, so a bad preset file fails with
a message naming the preset and the field, never later in a run.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..engine.executors import get_executor
from ..engine.spec import ExperimentSpec, SpecError

PRESETS_FILE = "presets.json"


class PresetError(ValueError):
    """The presets file is not usable; the message names the preset and field."""


def resources_dir() -> Path:
    """The ``resources`` folder: next to the package, or inside a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


@dataclass
class Preset:
    """One ready-made experiment, or a comparison when it has several specs."""

    name: str
    title: str
    description: str
    specs: list[ExperimentSpec] = field(default_factory=list)

    @property
    def is_comparison(self) -> bool:
        return len(self.specs) > 1

    def runnable(self) -> tuple[list[ExperimentSpec], list[tuple[ExperimentSpec, str]]]:
        """The specs this machine can run, and the others with the reason they cannot."""
        ok: list[ExperimentSpec] = []
        skipped: list[tuple[ExperimentSpec, str]] = []
        for spec in self.specs:
            available, reason = get_executor(spec.executor).availability()
            if available:
                ok.append(spec)
            else:
                skipped.append((spec, reason))
        return ok, skipped


def _text(item: dict, key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PresetError(f"{where}: {key!r} must be non-empty text")
    return value


def parse_presets(data: object, source: str = PRESETS_FILE) -> list[Preset]:
    """Presets from decoded JSON (a list, or ``{"presets": [...]}``), each spec validated."""
    items = data.get("presets") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise PresetError(f"{source}: expected a list of presets (or {{\"presets\": [...]}})")
    presets: list[Preset] = []
    seen: set[str] = set()
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise PresetError(f"{source}: preset {n + 1} must be an object")
        name = _text(item, "name", f"{source}: preset {n + 1}")
        where = f"{source}: preset {name!r}"
        if name in seen:
            raise PresetError(f"{where}: the name is used twice")
        seen.add(name)
        specs_data = item.get("specs")
        if not isinstance(specs_data, list) or not specs_data:
            raise PresetError(f"{where}: 'specs' must be a non-empty list of spec objects")
        specs = []
        for k, spec in enumerate(specs_data):
            try:
                specs.append(ExperimentSpec.from_dict(spec))
            except SpecError as exc:
                raise PresetError(f"{where}, spec {k + 1}: {exc}") from None
            except TypeError as exc:  # e.g. a spec that is not an object
                raise PresetError(f"{where}, spec {k + 1}: {exc}") from None
        presets.append(Preset(name, _text(item, "title", where), _text(item, "description", where), specs))
    return presets


def load_presets(path: str | os.PathLike | None = None) -> list[Preset]:
    """Every shipped preset (or those in ``path``), validated; PresetError says what is wrong."""
    path = Path(path) if path is not None else resources_dir() / PRESETS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PresetError(f"cannot read the presets file {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PresetError(f"{path.name} is not valid JSON: {exc}") from None
    return parse_presets(data, path.name)


def get_preset(name: str, path: str | os.PathLike | None = None) -> Preset:
    """The preset called ``name``; KeyError lists the names there are."""
    presets = load_presets(path)
    for p in presets:
        if p.name == name:
            return p
    raise KeyError(f"no preset {name!r}; there are: {', '.join(p.name for p in presets)}")

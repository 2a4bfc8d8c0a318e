"""The project facts every installer needs, read from pyproject.toml (one source of truth).

Used by the PyInstaller spec, build_linux.py, the macOS/Windows scripts
(``python packaging/project_meta.py version``) and the tests.  Standard
library only; on Python 3.10 (no ``tomllib``) a tiny parser reads the few
``key = "text"`` / ``key = ["a", "b"]`` lines needed.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"


@dataclass(frozen=True)
class ProjectMeta:
    """Name, version and the installer settings of ``[tool.concgui.packaging]``."""

    name: str  # distribution / command name: "concgui"
    version: str  # PEP 440, as in pyproject.toml
    description: str
    license: str
    app_name: str  # what people see: "ConcGUI"
    app_id: str  # reverse-DNS id for .desktop, icons, AppStream, macOS bundle
    icon: Path  # the SVG master
    maintainer: str
    categories: tuple[str, ...]

    def icon_file(self, kind: str) -> Path:
        """A rendered icon next to the master: kind "ico", "icns" or a pixel size such as "256"."""
        folder = self.icon.parent / "icons"
        return folder / (f"{self.name}.{kind}" if kind in ("ico", "icns") else f"{self.name}-{kind}.png")

    @property
    def deb_version(self) -> str:
        """The version in Debian's ordering: 1.0rc1 -> 1.0~rc1, 1.0.dev2 -> 1.0~dev2."""
        return re.sub(r"\.?(a|b|rc|dev)(\d*)", r"~\1\2", self.version).replace(".post", "+post")

    @property
    def windows_version(self) -> str:
        """Four numeric fields for Windows' VIProductVersion: 0.1.0 -> 0.1.0.0 (pre-release tags dropped)."""
        release = re.match(r"\d+(\.\d+)*", self.version)
        numbers = [int(n) for n in (release.group(0) if release else "0").split(".")[:4]]
        return ".".join(str(n) for n in (numbers + [0, 0, 0, 0])[:4])


def _strip_comment(line: str) -> str:
    """The line without a ``# comment`` that is outside quotes."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i]
    return line


def _mini_toml(text: str) -> dict:
    """Just enough TOML for pyproject.toml's plain entries (used on Python 3.10 only)."""
    data: dict = {}
    table = data
    pending = ""
    for raw in text.splitlines():
        raw = _strip_comment(raw).strip()
        if not raw:
            continue
        line = f"{pending} {raw}" if pending else raw
        if line.startswith("[") and not pending:
            table = data
            for part in line.strip("[]").split("."):
                table = table.setdefault(part.strip().strip('"'), {})
            continue
        if line.count("[") > line.count("]"):  # a list that goes on over several lines
            pending = line
            continue
        pending = ""
        key, sep, value = line.partition("=")
        if not sep:
            continue
        value = re.sub(r"\b(true|false)\b", lambda m: m.group(1).title(), value.strip())
        if value.startswith("{"):  # inline table: { text = "MIT" }
            value = re.sub(r"([A-Za-z_][\w-]*)\s*=", r'"\1":', value)
        try:
            table[key.strip().strip('"')] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            pass  # anything fancier is not needed here
    return data


def read_pyproject(path: Path = PYPROJECT) -> dict:
    """pyproject.toml as a dict (tomllib when available)."""
    text = path.read_text(encoding="utf-8")
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)
    return _mini_toml(text)


def load(path: Path = PYPROJECT) -> ProjectMeta:
    """The project's metadata; KeyError names a missing entry."""
    data = read_pyproject(path)
    project = data["project"]
    pkg = data.get("tool", {}).get("concgui", {}).get("packaging", {})
    license_ = project.get("license", "")
    if isinstance(license_, dict):
        license_ = license_.get("text", "")
    name = project["name"]
    return ProjectMeta(
        name=name,
        version=project["version"],
        description=project.get("description", ""),
        license=license_ or "LicenseRef-proprietary",
        app_name=pkg.get("app-name", name),
        app_id=pkg.get("app-id", f"org.example.{name}"),
        icon=path.parent / pkg.get("icon", f"resources/{name}.svg"),
        maintainer=pkg.get("maintainer", "unknown <unknown@localhost>"),
        categories=tuple(pkg.get("categories", ["Utility"])),
    )


if __name__ == "__main__":  # `python packaging/project_meta.py version` prints one field
    meta = load()
    field = sys.argv[1] if len(sys.argv) > 1 else "version"
    print(getattr(meta, field.replace("-", "_")))

"""The import graph shows the architecture: the engine never reaches into the Qt layer or the
command line, and no module imports, however late, a module that imports it back.

Read from the source with :mod:`ast`, so an import inside a function counts as much as one at the
top (only imports under ``if TYPE_CHECKING:`` are left out: they never run), and a module named in
a string to :func:`importlib.import_module` counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "concgui"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The concgui modules that ``path`` imports (a name imported from a package counts as the
    submodule when there is one, else as the package)."""
    name = _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
               and "TYPE_CHECKING" in ast.unparse(node.test) for b in node.body for n in ast.walk(b)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, path.name == "__init__.py", node)
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names)
        elif (isinstance(node, ast.Call) and ast.unparse(node.func).endswith("import_module")
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return {m for m in found if m in modules and m != name}


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    return {_module_name(p): _imports(p, modules) for p in paths}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules (the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_engine_imports_neither_the_qt_layer_nor_the_command_line():
    graph = import_graph()
    wrong = {(m, i) for m, deps in graph.items() if m.startswith("concgui.engine")
             for i in deps if i.startswith(("concgui.gui", "concgui.cli"))}
    assert not wrong


#: imports that only an outside caller sets off, after the package is imported: IPython's ``%load_ext concgui``
#: calls the root's hook, which hands it to the notebook's magic (that imports the command line, which reads
#: the root's version); like ``__main__``, an entry point, not something the package needs to load
ENTRY_HOOKS = {("concgui", "concgui.notebook.magic")}


def test_no_module_imports_one_that_imports_it_back():
    graph = import_graph()
    for module, hook in ENTRY_HOOKS:
        graph[module].discard(hook)
    assert find_cycle(graph) is None


def test_the_checks_see_a_late_import_and_a_cycle():
    """The reader counts an import inside a function and one by name, and the search finds a cycle."""
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    found = _imports(PACKAGE / "__main__.py", modules)
    assert "concgui.engine.isolation" in found  # imported inside main()
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


QT_RUN = """
import sys
from concgui.engine import ExperimentSpec, run
assert "PySide6" not in sys.modules
for isolation in ("inline", "process"):
    r = run(ExperimentSpec(workload="noop", executor="qt-thread-pool", tasks=4, workers=2, isolation=isolation))
    assert r.status == "ok" and len(r.tasks) == 4, (isolation, r.status, r.error)
print("ok")
"""


def test_the_qt_executor_registers_itself_when_the_engine_alone_asks_for_it(child_env):
    """From a notebook, with only the engine imported: the Qt layer's executor is found (inline and in
    an engine process), and nothing imported Qt before it was asked for."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", QT_RUN], env=child_env(), capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_the_command_line_does_not_import_qt_to_start(child_env):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "concgui", "--version"], env=child_env(),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "PySide6" not in out.stderr and "concgui.cli" in out.stderr

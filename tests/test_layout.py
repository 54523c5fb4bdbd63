"""The layout's rules, checked on the source: what may import what.

* no import circle among carbonfoot's modules (a package importing its own submodules
  is not one);
* no module takes a private name (``_x``) from another module;
* the library never imports the CLI;
* the built-in plugins import only public modules (nothing under an underscore).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PLUGINS = ROOT / "plugins"


def module_name(path: Path, base: Path) -> str:
    parts = path.relative_to(base).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path, SRC): path for path in (SRC / "carbonfoot").rglob("*.py")}


def imports(name: str, path: Path) -> list[tuple[str, str, int]]:
    """(module imported, name taken or '', line) for every carbonfoot import in a file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.extend((target, alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((alias.name, "", node.lineno) for alias in node.names)
    return [item for item in found if item[0].split(".")[0].startswith("carbonfoot")]


def edges() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for target, taken, _ in imports(name, path):
            submodule = f"{target}.{taken}"
            destination = submodule if submodule in known else target
            if destination in known and destination != name:
                graph[name].add(destination)
    return graph


def test_there_is_no_import_circle() -> None:
    graph = edges()
    circles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for other in sorted(graph[node]):
            if node.startswith(other + "."):
                continue  # a module importing its own package's __init__
            if state.get(other) == 1:
                circles.append([*stack[stack.index(other) :], other])
            elif not state.get(other):
                visit(other, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if not state.get(node):
            visit(node, [])
    assert circles == []


def test_no_module_takes_a_private_name_from_another() -> None:
    known = modules()
    stolen = [
        f"{path.relative_to(ROOT)}:{line} takes {taken} from {target}"
        for name, path in known.items()
        for target, taken, line in imports(name, path)
        if taken.startswith("_")
        and not taken.startswith("__")
        and f"{target}.{taken}" not in known
        and target != name
    ]
    assert stolen == []


def test_the_library_never_imports_the_cli() -> None:
    offenders = [
        f"{name} imports {target}"
        for name, path in modules().items()
        if not name.startswith("carbonfoot.cli")
        for target, taken, _ in imports(name, path)
        if target.startswith("carbonfoot.cli") or (target == "carbonfoot" and taken == "cli")
    ]
    assert offenders == []


def test_the_built_in_plugins_import_only_public_modules() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {taken} from {target}"
        for path in PLUGINS.rglob("*.py")
        for target, taken, line in imports(module_name(path, PLUGINS), path)
        if target.split(".")[0] == "carbonfoot"
        and (
            any(part.startswith("_") for part in target.split(".")[1:])
            or (taken.startswith("_") and not taken.startswith("__"))
        )
    ]
    assert offenders == []


def test_architecture_names_every_top_level_module_and_package() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    package = SRC / "carbonfoot"
    names = [
        f"{path.name}/" if path.is_dir() else path.name
        for path in package.iterdir()
        if (path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").exists()))
        and path.name != "__pycache__"
    ]
    missing = [name for name in names if f"`{name}`" not in text and f"`{name}," not in text]
    assert missing == []

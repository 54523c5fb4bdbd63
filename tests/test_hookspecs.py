"""Every hook is documented for plugin authors, and every hook has its row in the registry."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from carbonfoot import hookspecs
from carbonfoot.plugins import HOOKS

README = Path(__file__).resolve().parents[1] / "README.md"


def specs() -> dict[str, object]:
    """The hook specifications: the functions of hookspecs marked with ``@hookspec``."""
    return {
        name: function
        for name, function in vars(hookspecs).items()
        if inspect.isfunction(function) and hasattr(function, "carbonfoot_spec")
    }


def hook_rows() -> dict[str, str]:
    """The README's table of hooks: hook signature -> the rest of its row."""
    text = README.read_text(encoding="utf-8")
    table = re.search(r"<!-- hooks -->(.*?)<!-- /hooks -->", text, re.S)
    assert table, "README has no table of hooks"
    rows = {}
    for line in table.group(1).strip().splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = " | ".join(cells[1:])
    return rows


def call_text(callback: type) -> str:
    """``register(a, b, default=False)``: how a register protocol is called."""
    parameters = list(inspect.signature(callback.__call__).parameters.values())[1:]  # type: ignore[operator]
    shown = [
        name if parameter.default is inspect.Parameter.empty else f"{name}={parameter.default!r}"
        for name, parameter in ((p.name, p) for p in parameters)
    ]
    return f"register({', '.join(shown)})"


def test_there_are_hooks() -> None:
    assert len(specs()) >= 5


def test_every_hook_is_in_the_readme_with_its_signature_and_its_register_call() -> None:
    rows = hook_rows()
    for name, function in specs().items():
        signature = f"{name}({', '.join(inspect.signature(function).parameters)})"  # type: ignore[arg-type]
        assert signature in rows, f"README's table of hooks lacks {signature}"
        callback = inspect.get_annotations(function, eval_str=True)["register"]  # type: ignore[arg-type]
        assert f"`{call_text(callback)}`" in rows[signature], f"{name}: {call_text(callback)}"
    assert len(rows) == len(specs()), "README lists a hook that hookspecs does not define"


def test_every_hook_has_exactly_one_registry_row() -> None:
    assert sorted(row.hook for row in HOOKS) == sorted(specs())
    assert len({row.kind for row in HOOKS}) == len(HOOKS)


def test_every_hook_docstring_names_its_helper_modules() -> None:
    for name, function in specs().items():
        assert "Helpers: :mod:`carbonfoot." in (function.__doc__ or ""), name  # type: ignore[attr-defined]

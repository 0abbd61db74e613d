"""The layers of docs/design.md, enforced: every import of every cencomm module follows its row."""

from __future__ import annotations

import ast
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from cencomm.storage.db import Database

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cencomm"
DESIGN = ROOT / "docs" / "design.md"
STDLIB_ONLY = "*stdlib only*"


@dataclass(frozen=True)
class Layer:
    name: str
    may_import: frozenset[str]
    stdlib_only: bool
    banned_third_party: frozenset[str]


def _names(cell: str) -> frozenset[str]:
    return frozenset(n.strip().strip("`") for n in cell.split(",") if n.strip() not in ("", "—"))


def layers() -> list[Layer]:
    """The table between the `layers` markers of docs/design.md, in its order."""
    text = DESIGN.read_text(encoding="utf-8")
    table = re.search(r"<!-- layers:.*?-->\n(.*?)<!-- /layers -->", text, re.DOTALL)
    assert table is not None, "docs/design.md lost its layers table"
    rows = []
    for line in table.group(1).splitlines()[2:]:  # after the header and its rule
        name, may, banned = (cell.strip() for cell in line.strip().strip("|").split("|"))
        rows.append(
            Layer(name.strip("`"), _names(may), banned == STDLIB_ONLY, _names(banned.strip("*")))
        )
    return rows


def _layer_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def _module_of(path: Path) -> list[str]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def imports(source: str, module: list[str], is_package: bool) -> set[str]:
    """Every module `source` imports, relative imports resolved to absolute names."""
    package = module if is_package else module[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names.add(node.module or "")
                continue
            base = package[: len(package) - (node.level - 1)]
            if node.module:
                names.add(".".join([*base, node.module]))
            else:  # `from . import x`: each name may be a module
                names.update(".".join([*base, alias.name]) for alias in node.names)
    return names


def violations(where: str, layer: Layer, imported: set[str]) -> list[str]:
    wrong = []
    for name in sorted(imported):
        top, _, rest = name.partition(".")
        if top == "cencomm":
            target = rest.partition(".")[0]
            if target and target != layer.name and target not in layer.may_import:
                wrong.append(f"{where} imports {name}")
        elif top == "__future__":
            continue
        elif layer.stdlib_only and top not in sys.stdlib_module_names:
            wrong.append(f"{where} imports {name} ({layer.name} is stdlib only)")
        elif top in layer.banned_third_party:
            wrong.append(f"{where} imports {name}")
    return wrong


def wrong_imports() -> list[str]:
    table = {layer.name: layer for layer in layers()}
    wrong: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _layer_of(path)
        where = str(path.relative_to(ROOT))
        if name not in table:
            wrong.append(f"{where}: layer {name!r} has no row in docs/design.md")
            continue
        source = path.read_text(encoding="utf-8")
        found = imports(source, _module_of(path), path.name == "__init__.py")
        wrong.extend(violations(where, table[name], found))
    return wrong


def test_every_import_follows_the_layers_of_the_design() -> None:
    assert wrong_imports() == []


def test_layers_have_no_circle() -> None:
    """Each row may import only rows above it, so no two layers import each other."""
    seen: set[str] = set()
    for layer in layers():
        assert layer.may_import <= seen, f"{layer.name} imports a layer below it"
        seen.add(layer.name)


def test_the_check_resolves_relative_imports() -> None:
    """`from ..web import routes` in storage is caught like `from cencomm.web import routes`."""
    storage = next(layer for layer in layers() if layer.name == "storage")
    found = imports(
        "from ..web import routes\nfrom . import db\nimport aiohttp\n",
        ["cencomm", "storage", "probe"],
        is_package=False,
    )
    assert found == {"cencomm.web", "cencomm.storage.db", "aiohttp"}
    assert violations("probe.py", storage, found) == [
        "probe.py imports aiohttp",
        "probe.py imports cencomm.web",
    ]


def test_the_database_has_one_way_in() -> None:
    public = {
        name
        for name, member in inspect.getmembers(Database)
        if not name.startswith("_") and callable(member)
    }
    assert public == {"write", "read", "dispose"}


def test_only_settings_reads_the_environment() -> None:
    readers = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "os.environ" in path.read_text() or "getenv" in path.read_text()
    ]
    assert sorted(readers) == ["settings.py"]


def test_the_package_never_imports_the_tests_or_the_benches() -> None:
    """What lives under tests/ (the fault seam among it: tests/faults/seam.py) and bench/ can
    never run in a server: nothing in the package imports it."""
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found = imports(
            path.read_text(encoding="utf-8"), _module_of(path), path.name == "__init__.py"
        )
        wrong += [
            f"{path.relative_to(ROOT)} imports {n}"
            for n in sorted(found)
            if n.partition(".")[0] in {"tests", "bench"}
        ]
    assert wrong == []

"""Imports go one way (STYLE.md section 2): web → services → storage → domain."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cencomm"

# layer → the cencomm layers it must never import
FORBIDDEN = {
    "domain": {
        "web",
        "services",
        "storage",
        "realtime",
        "crypto",
        "app",
        "cli",
        "commands",
        "settings",
        "appkeys",
        "client",
    },
    "crypto": {"web", "services", "storage", "realtime", "app", "cli", "commands"},
    "storage": {"web", "services", "realtime", "app", "cli", "commands"},
    "realtime": {"web", "services", "storage", "app", "cli", "commands"},
    "services": {"web", "app", "cli", "commands"},
    "web": {"storage", "app", "cli", "commands"},
}
# Third-party packages a layer must not use.
FORBIDDEN_THIRD_PARTY = {
    "domain": {"aiohttp", "sqlalchemy", "cryptography", "jwt", "pydantic"},
    "services": {"aiohttp"},
    "web": {"sqlalchemy"},
    "realtime": {"aiohttp", "sqlalchemy"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_layers_import_in_one_direction() -> None:
    wrong: list[str] = []
    for layer, banned in FORBIDDEN.items():
        for path in (PACKAGE / layer).rglob("*.py"):
            for name in _imports(path):
                parts = name.split(".")
                if parts[0] == "cencomm" and len(parts) > 1 and parts[1] in banned:
                    wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
                if parts[0] in FORBIDDEN_THIRD_PARTY.get(layer, set()):
                    wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert wrong == []


def test_only_settings_reads_the_environment() -> None:
    readers = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "os.environ" in path.read_text() or "getenv" in path.read_text()
    ]
    assert sorted(readers) == ["settings.py"]

"""What gets installed is exactly what was locked and tested, and anyone can see what is inside."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_LOCK = ROOT / "requirements" / "runtime.txt"
DEV_LOCK = ROOT / "requirements" / "dev.txt"
SBOM = ROOT / "docs" / "sbom.cdx.json"


def _script(name: str) -> ModuleType:
    """A helper of scripts/ imported by path (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lockfile = _script("lockfile")
audit_deps = _script("audit_deps")
sbom_licences = _script("sbom_licences")


def test_the_venv_holds_exactly_the_dev_lock() -> None:
    """`pip freeze` of the environment running the suite equals the lock: nothing resolved on
    the side, nothing left over from an older lock."""
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installed = {}
    for line in frozen.splitlines():
        name, _, version = line.partition("==")
        if version and canonicalize_name(name) != "cencomm":
            installed[canonicalize_name(name)] = version
    assert installed == lockfile.locked(DEV_LOCK)


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=["runtime", "dev"])
def test_every_locked_file_has_a_hash(lock: Path) -> None:
    text = lock.read_text(encoding="utf-8")
    entries = [e for e in text.replace("\\\n", " ").splitlines() if "==" in e]
    assert entries
    for entry in entries:
        assert "--hash=sha256:" in entry, entry


def test_the_locks_agree_with_the_ranges_in_pyproject() -> None:
    """A pin outside pyproject's range means someone edited one without re-locking."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime, dev = lockfile.locked(RUNTIME_LOCK), lockfile.locked(DEV_LOCK)
    for spec, pins in [(s, runtime) for s in project["dependencies"]] + [
        (s, dev) for s in project["optional-dependencies"]["dev"]
    ]:
        req = Requirement(spec)
        version = pins.get(canonicalize_name(req.name))
        assert version is not None, f"{req.name} is not locked"
        assert req.specifier.contains(version, prereleases=True), f"{req.name}=={version} vs {req}"
    # The runtime packages are the same versions in both locks: tests run what ships.
    assert {name: dev[name] for name in runtime} == runtime


def test_the_sbom_describes_the_runtime_lock_with_acceptable_licences() -> None:
    """docs/sbom.cdx.json (scripts/sbom) is a CycloneDX document of exactly the runtime lock."""
    bom = json.loads(SBOM.read_text(encoding="utf-8"))
    assert bom["bomFormat"] == "CycloneDX"
    assert bom["specVersion"] in {"1.5", "1.6", "1.7"}
    assert bom["metadata"]["component"]["name"] == "cencomm"
    described = {canonicalize_name(c["name"]): c["version"] for c in bom["components"]}
    assert described == lockfile.locked(RUNTIME_LOCK)
    for component in bom["components"]:
        declared = sbom_licences.licences_of(component)
        assert declared, component["name"]
        assert all(sbom_licences.acceptable(d) for d in declared), (component["name"], declared)


@pytest.mark.parametrize(
    ("declared", "ok"),
    [
        ("MIT", True),
        ("Apache-2.0 OR BSD-3-Clause", True),
        ("(MIT AND PSF-2.0)", True),
        ("License :: OSI Approved :: Apache Software License", True),
        ("GPL-3.0-only", False),
        ("AGPL-3.0-or-later", False),
        ("MIT AND SSPL-1.0", False),
        ("Some Custom Licence", False),
    ],
)
def test_licences_outside_the_allow_list_are_refused(declared: str, ok: bool) -> None:
    assert sbom_licences.acceptable(declared) is ok


def test_an_unreachable_advisory_source_is_never_reported_as_clean() -> None:
    """pip-audit says "No known vulnerabilities found" when it skipped everything; we don't."""
    unreachable = {"dependencies": [{"name": "aiohttp", "skip_reason": "not found on PyPI"}]}
    assert audit_deps.verdict(RUNTIME_LOCK, "pypi", unreachable) is None
    vulnerable = {
        "dependencies": [
            {
                "name": "aiohttp",
                "version": "3.8.0",
                "vulns": [{"id": "PYSEC-1", "fix_versions": []}],
            },
            {"name": "yarl", "version": "1.9.0", "vulns": []},
        ]
    }
    code, lines = audit_deps.verdict(RUNTIME_LOCK, "osv", vulnerable)
    assert code == 1
    assert lines == ["VULNERABLE aiohttp 3.8.0: PYSEC-1 (fixed in no fix yet)"]
    clean = {"dependencies": [{"name": "yarl", "version": "1.9.0", "vulns": []}]}
    assert audit_deps.verdict(RUNTIME_LOCK, "osv", clean)[0] == 0


def test_the_repository_carries_the_shared_contract_word_for_word() -> None:
    """docs/api.md starts from the shared API.md and only adds to it."""
    shared = ROOT.parent / "shared" / "API.md"
    if not shared.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{shared} is missing: CI lays shared/ beside the clone")
        pytest.skip("no shared/API.md beside this checkout to compare with")
    ours = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert shared.read_text(encoding="utf-8") in ours

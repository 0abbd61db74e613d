"""The licence of every component of a CycloneDX SBOM, checked against what a government can deploy.

    python scripts/sbom_licences.py docs/sbom.cdx.json

Prints one line per component (name, version, licence) and exits 1 when a component declares no
licence, or one outside the allow-list below (copyleft such as GPL, AGPL, SSPL, and anything
unknown, needs a person's review before it ships).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

# Permissive licences (SPDX ids) that put no condition on deploying or modifying the product.
ALLOWED_IDS = frozenset(
    {
        "0BSD",
        "Apache-2.0",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "CNRI-Python",
        "HPND",
        "ISC",
        "MIT",
        "MIT-0",
        "MIT-CMU",
        "MPL-2.0",
        "PSF-2.0",
        "Python-2.0",
        "Unlicense",
        "Zlib",
    }
)
# Trove classifiers some packages still declare instead of an SPDX id.
ALLOWED_CLASSIFIERS = {
    "License :: OSI Approved :: Apache Software License": "Apache-2.0",
    "License :: OSI Approved :: BSD License": "BSD",
    "License :: OSI Approved :: ISC License (ISCL)": "ISC",
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "License :: OSI Approved :: Python Software Foundation License": "PSF-2.0",
}
OPERATORS = re.compile(r"\s+(?:AND|OR|WITH)\s+|[()]")


def licences_of(component: dict[str, Any]) -> list[str]:
    """Each licence the component declares, as an SPDX id, expression or name."""
    found: list[str] = []
    for choice in component.get("licenses") or []:
        if "expression" in choice:
            found.append(choice["expression"])
        else:
            lic = choice.get("license", {})
            found.append(lic.get("id") or lic.get("name") or "")
    return [f for f in found if f]


def acceptable(declared: str) -> bool:
    if declared in ALLOWED_CLASSIFIERS:
        return True
    ids = [part.strip() for part in OPERATORS.split(declared) if part.strip()]
    return bool(ids) and all(i in ALLOWED_IDS for i in ids)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    bom = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    refused = 0
    for component in sorted(bom.get("components", []), key=lambda c: c["name"].lower()):
        declared = licences_of(component)
        ok = bool(declared) and all(acceptable(d) for d in declared)
        shown = " | ".join(ALLOWED_CLASSIFIERS.get(d, d) for d in declared) or "none declared"
        print(
            f"{'ok ' if ok else 'NO '} {component['name']:<24} {component['version']:<12} {shown}"
        )
        refused += not ok
    if refused:
        print(f"{refused} component(s) need a licence review before shipping", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

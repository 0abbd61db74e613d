"""Every problem slug the code can produce is documented in docs/problems.md."""

from __future__ import annotations

import re
from pathlib import Path

from cencomm.domain import errors
from cencomm.web.problems import SLUG_BY_STATUS

ROOT = Path(__file__).resolve().parents[2]


def _documented() -> set[str]:
    text = (ROOT / "docs" / "problems.md").read_text()
    return set(re.findall(r"^\| ([a-z0-9-]+) \| \d{3} \|", text, flags=re.MULTILINE))


def _used() -> set[str]:
    slugs = set(SLUG_BY_STATUS.values())
    for cls in vars(errors).values():
        if isinstance(cls, type) and issubclass(cls, errors.CencommError):
            slugs.add(cls.slug)
    slugs.discard("error")
    for path in (ROOT / "cencomm").rglob("*.py"):
        text = path.read_text()
        slugs.update(re.findall(r'slug="([a-z0-9-]+)"', text))
        slugs.update(re.findall(r'\b_?invalid\(\s*"([a-z0-9-]+)"', text))
        slugs.update(re.findall(r'problem_body\(\s*\d{3},\s*"([a-z0-9-]+)"', text))
        slugs.update(re.findall(r'Readiness\([^)]*"([a-z0-9]+-[a-z0-9-]+)"', text))
    return slugs


def test_every_slug_is_documented() -> None:
    missing = _used() - _documented()
    assert not missing, f"add these to docs/problems.md: {sorted(missing)}"

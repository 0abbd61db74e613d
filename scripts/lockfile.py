"""Lock files against .venv, and against each other.

    python scripts/lockfile.py check requirements/dev.txt   # exit 1, listing what .venv lacks
    python scripts/lockfile.py sync requirements/dev.txt    # uninstall what the lock lacks
    python scripts/lockfile.py diff OLD NEW                 # what a re-lock changed (old → new)

Run by the venv's own interpreter (scripts/_venv.sh), so markers are evaluated for this machine.
The project itself (installed editable) is not part of the lock and is left out.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from pip._vendor.packaging.markers import Marker
from pip._vendor.packaging.utils import canonicalize_name

PROJECT = "cencomm"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def locked(lock: Path) -> dict[str, str]:
    """Name → version of every lock entry whose marker holds here."""
    pins: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.strip())
        if match is None:
            continue
        name, version, marker = match.groups()
        if marker and not Marker(marker).evaluate():
            continue
        pins[canonicalize_name(name)] = version
    return pins


def installed() -> dict[str, str]:
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"] or "")
        if name and name != PROJECT:
            found[name] = dist.version
    return found


def differences(lock: Path) -> tuple[list[str], list[str]]:
    """(problems, names installed but not locked)."""
    want, have = locked(lock), installed()
    problems = [
        f"{name}: locked {version}, installed {have.get(name, 'nothing')}"
        for name, version in sorted(want.items())
        if have.get(name) != version
    ]
    extra = sorted(set(have) - set(want))
    problems += [f"{name}: installed {have[name]}, not in {lock}" for name in extra]
    return problems, extra


def changes(old: Path, new: Path) -> list[str]:
    """One line per package added, removed or moved to another version."""
    before, after = locked(old), locked(new)
    lines = []
    for name in sorted(set(before) | set(after)):
        was, now = before.get(name), after.get(name)
        if was != now:
            lines.append(f"{name}: {was or '(new)'} → {now or '(removed)'}")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "diff":
        print("\n".join(changes(Path(argv[2]), Path(argv[3]))) or "no version changed")
        return 0
    if len(argv) != 3 or argv[1] not in {"check", "sync"}:
        print(__doc__, file=sys.stderr)
        return 2
    lock = Path(argv[2])
    problems, extra = differences(lock)
    if argv[1] == "sync" and extra:
        subprocess.run(  # noqa: S603 - our own interpreter, names read from our own venv
            [sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", *extra], check=True
        )
        problems, extra = differences(lock)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Known vulnerabilities in the locked dependencies (pip-audit), said plainly either way.

    python scripts/audit_deps.py requirements/runtime.txt requirements/dev.txt

Exit 1 when a locked version has a known vulnerability. When no advisory source can be reached
(a closed network), pip-audit would report "no known vulnerabilities" while having audited
nothing; this says instead that the check was SKIPPED, for how many packages, and exits 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

SERVICES = ("pypi", "osv")  # PyPI's JSON API first, then OSV


def run_audit(lock: Path, service: str) -> dict[str, object] | None:
    """pip-audit's JSON report for `lock` against `service`, or None if it could not run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        done = subprocess.run(  # noqa: S603 - our own venv's pip-audit, our own lock file
            [
                sys.executable,
                "-m",
                "pip_audit",
                "--requirement",
                str(lock),
                "--require-hashes",
                "--disable-pip",
                "--no-deps",
                "--progress-spinner",
                "off",
                "--timeout",
                "10",
                "--vulnerability-service",
                service,
                "--format",
                "json",
                "--output",
                str(out),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if not out.exists():
            reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
            # The last line names the exception first; the rest is a long URL and host chatter.
            print(f"pip-audit ({service}) could not run on {lock}: {reason[:120]}", file=sys.stderr)
            return None
        report: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
        return report


def verdict(lock: Path, service: str, report: dict[str, object]) -> tuple[int, list[str]] | None:
    """(exit code, lines to print) for one report; None when it audited nothing at all."""
    deps = report.get("dependencies", [])
    if not isinstance(deps, list):
        return None
    audited = [d for d in deps if "skip_reason" not in d]
    if not audited:
        return None  # nothing reached the advisory source
    lines = []
    if skipped := [d["name"] for d in deps if "skip_reason" in d]:
        lines.append(f"pip-audit: {len(skipped)} not audited in {lock}: {', '.join(skipped)}")
    vulnerable = [d for d in audited if d.get("vulns")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            lines.append(
                f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})"
            )
    if vulnerable:
        return 1, lines
    lines.append(
        f"pip-audit: {len(audited)} locked packages of {lock} checked against {service}: "
        "no known vulnerabilities"
    )
    return 0, lines


def audit(lock: Path) -> int:
    """0 clean or skipped, 1 vulnerable."""
    for service in SERVICES:
        report = run_audit(lock, service)
        found = verdict(lock, service, report) if report is not None else None
        if found is not None:
            code, lines = found
            print("\n".join(lines))
            return code
    print(
        f"pip-audit: SKIPPED for {lock}: no advisory source ({', '.join(SERVICES)}) could be "
        "reached from this machine, so nothing was checked"
    )
    return 0


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    return max(audit(Path(lock)) for lock in argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))

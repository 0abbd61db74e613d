"""`pg_dump` and `pg_restore` (PostgreSQL's own client tools) run against a database URL.

The URL is SQLAlchemy's (`postgresql+asyncpg://user:password@host:port/name?ssl=...`); the
tools get it as a libpq connection string, with the password in a temporary owner-only
`passfile`, never on a command line another local user could read.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import make_url

# asyncpg's `ssl=` values and libpq's `sslmode` share their names.
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


class PgToolError(RuntimeError):
    """A PostgreSQL client tool is missing or failed; the message says which and why."""


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _passfile_field(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


@contextlib.contextmanager
def conninfo(url: str) -> Iterator[str]:
    """The libpq connection string of `url`, valid inside the block (its passfile is removed
    afterwards)."""
    parsed = make_url(url)
    params: dict[str, str] = {"dbname": parsed.database or ""}
    host = parsed.host or parsed.query.get("host")
    if isinstance(host, str) and host:
        params["host"] = host
    if parsed.port:
        params["port"] = str(parsed.port)
    if parsed.username:
        params["user"] = parsed.username
    ssl = parsed.query.get("ssl") or parsed.query.get("sslmode")
    if isinstance(ssl, str) and ssl in _SSL_MODES:
        params["sslmode"] = ssl
    with contextlib.ExitStack() as stack:
        if parsed.password is not None:
            fd, name = tempfile.mkstemp(prefix="cencomm-pgpass-")  # mode 0600
            stack.callback(os.unlink, name)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(f"*:*:*:*:{_passfile_field(str(parsed.password))}\n")
            params["passfile"] = name
        yield " ".join(f"{key}={_quote(value)}" for key, value in params.items())


def _run(tool: str, args: list[str], url: str) -> None:
    program = shutil.which(tool)
    if program is None:
        raise PgToolError(
            f"{tool} is not on PATH: install the PostgreSQL client tools (same major version "
            "as the server, or newer)"
        )
    with conninfo(url) as connection:
        done = subprocess.run(  # noqa: S603 - a fixed program and an argument list, no shell
            [program, f"--dbname={connection}", *args],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[0] if lines else f"exit code {done.returncode}"
        raise PgToolError(f"{tool} failed: {reason}")


def dump(url: str, snapshot: str, path: Path) -> None:
    """Dump the database in custom format as of the exported `snapshot` (blocking)."""
    _run("pg_dump", ["--format=custom", f"--snapshot={snapshot}", f"--file={path}"], url)


def restore(url: str, path: Path) -> None:
    """Load a custom-format dump into the (empty) database of `url` in one transaction, so a
    failure leaves the database as empty as it was (blocking). Owners and grants are not
    restored: the tables belong to the role that restores them."""
    args = ["--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges"]
    _run("pg_restore", [*args, str(path)], url)

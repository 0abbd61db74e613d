"""What every `cencomm client` command shares: its context, output for people or `--json`,
a progress bar, and how an action's parser is made (with an example in its `--help`).

Each command family lives in its own `cli_<family>.py` module with `add_parsers(actions)`
and `HANDLERS` (action name → `async handler(api, ctx) -> exit code`); `cli.py` lists them.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from cencomm.client.envelopes import HANDLING_CODES as HANDLING_CODES
from cencomm.client.errors import ClientError
from cencomm.client.keystore import LocalKey, is_encrypted_key_file, load_key_file
from cencomm.client.state import ClientState, StateStore

if TYPE_CHECKING:
    from cencomm.client.api import CencommClient

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


class UsageError(ClientError):
    """Bad or missing arguments that argparse cannot catch on its own."""


Renderer = Callable[[Any], str]


class Output:
    """Writes a command's result: readable text by default, one JSON value per line with
    `--json` (what scripts parse). Progress and notes go to stderr, never stdout."""

    def __init__(self, as_json: bool, stream: IO[str] | None = None) -> None:
        self.as_json = as_json
        self._stream = stream

    @property
    def stream(self) -> IO[str]:
        return self._stream if self._stream is not None else sys.stdout

    def result(self, value: Any, human: Renderer | None = None) -> None:
        """One result: JSON on one line with `--json`; else `human(value)` (or a key: value
        listing of a mapping)."""
        if self.as_json:
            self.json_line(value)
            return
        text = human(value) if human is not None else describe(value)
        self.stream.write(text.rstrip("\n") + "\n")
        self.stream.flush()

    def json_line(self, value: Any) -> None:
        self.stream.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.stream.flush()

    def rows(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[tuple[str, str]],
        *,
        key: str,
    ) -> None:
        """A list: `{key: rows}` with `--json`; else a table of `columns` (field, heading)."""
        if self.as_json:
            self.json_line({key: list(rows)})
            return
        self.stream.write(table(rows, columns))
        self.stream.flush()

    def note(self, text: str) -> None:
        """A line for the person at the terminal (stderr), kept out of the result."""
        sys.stderr.write(text.rstrip("\n") + "\n")
        sys.stderr.flush()


def cell(value: Any) -> str:
    """One value as table text: None empty, lists joined, mappings as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(cell(item) for item in value)
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return " ".join(str(value).split())


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """A plain-text table, one row per line, columns padded to their widest cell."""
    if not rows:
        return "(none)\n"
    texts = [[cell(_dig(row, name)) for name, _ in columns] for row in rows]
    headings = [heading for _, heading in columns]
    widths = [max(len(headings[i]), *(len(line[i]) for line in texts)) for i in range(len(columns))]
    lines = [headings, *texts]
    return "".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in lines
    )


def _dig(row: Mapping[str, Any], name: str) -> Any:
    """`row[name]`, where `a.b` reads a nested field."""
    value: Any = row
    for part in name.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def describe(value: Any, indent: str = "") -> str:
    """A mapping as `name: value` lines (nested ones indented); other values as text."""
    if not isinstance(value, Mapping):
        return cell(value)
    lines: list[str] = []
    for name, item in value.items():
        if isinstance(item, Mapping) and item:
            lines.append(f"{indent}{name}:")
            lines.append(describe(item, indent + "  "))
        else:
            lines.append(f"{indent}{name}: {cell(item)}")
    return "\n".join(lines)


@dataclass(slots=True)
class Progress:
    """A progress bar on stderr for long work, drawn only on a terminal (never in a pipe or
    a log); `done()` ends its line."""

    label: str
    total: int
    enabled: bool = field(default_factory=lambda: sys.stderr.isatty())
    count: int = 0
    _drawn_at: float = 0.0

    def advance(self, step: int = 1) -> None:
        self.count += step
        now = time.monotonic()
        if self.enabled and (now - self._drawn_at >= 0.1 or self.count >= self.total):
            self._drawn_at = now
            self._draw()

    def _draw(self) -> None:
        total = max(self.total, 1)
        filled = min(30, 30 * self.count // total)
        bar = "#" * filled + "-" * (30 - filled)
        sys.stderr.write(f"\r{self.label} [{bar}] {self.count}/{self.total}")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            self._draw()
            sys.stderr.write("\n")
            sys.stderr.flush()


@dataclass(slots=True)
class Context:
    """One command's arguments, state store, loaded state and output; `seen_tree_head` is
    the audit tree head remembered before this command ran (the state's changes as it runs)."""

    args: argparse.Namespace
    store: StateStore
    state: ClientState
    out: Output
    seen_tree_head: dict[str, Any] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        head = self.state.tree_head
        self.seen_tree_head = dict(head) if head is not None else None


Handler = Callable[["CencommClient", Context], Awaitable[int]]

JSON_HELP = "print JSON for scripts (one value per line) instead of text for people"


def add_action(
    actions: Any,
    name: str,
    *,
    help: str,
    example: str | Iterable[str],
    description: str | None = None,
) -> argparse.ArgumentParser:
    """An action's parser, its `--help` ending with an example and accepting `--json`."""
    examples = [example] if isinstance(example, str) else list(example)
    parser: argparse.ArgumentParser = actions.add_parser(
        name,
        help=help,
        description=description or help,
        epilog="example:\n" + "\n".join(f"  {line}" for line in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=JSON_HELP)
    return parser


def add_key_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--key-file",
        type=Path,
        help="signing key file (default: the saved one, or HOME/signing-key.pem)",
    )
    parser.add_argument(
        "--passphrase-file",
        type=Path,
        help="read the key's passphrase from the first line of this file "
        "(else asked on the terminal when the key is encrypted)",
    )


def first_line(path: Path, what: str) -> str:
    if str(path) == "-":
        return sys.stdin.readline().rstrip("\r\n")
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline().rstrip("\r\n")
    except OSError as exc:
        raise UsageError(f"cannot read the {what} from {path}: {exc.strerror}") from None


def read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\r\n")


def key_path(ctx: Context) -> Path:
    if getattr(ctx.args, "key_file", None) is not None:
        return Path(ctx.args.key_file).expanduser()
    if ctx.state.key_file:
        return Path(ctx.state.key_file)
    return ctx.store.default_key_file()


def load_key(ctx: Context) -> LocalKey:
    """The signing key named by `--key-file` (or the saved one), its passphrase from
    `--passphrase-file` or asked on the terminal."""
    path = key_path(ctx)
    passphrase: str | None = None
    passphrase_file = getattr(ctx.args, "passphrase_file", None)
    if passphrase_file is not None:
        passphrase = first_line(passphrase_file, "passphrase")
    elif is_encrypted_key_file(path):
        if not sys.stdin.isatty():
            raise UsageError(f"{path} is encrypted: give --passphrase-file")
        passphrase = getpass.getpass(f"Passphrase for {path}: ")
    return load_key_file(path, passphrase)


def save_whole(target: Path, data: bytes, *, overwrite: bool) -> None:
    """Write `data` to `target` whole or not at all (mode 0600): a temporary file beside it,
    then renamed into place; an existing `target` only when `overwrite`.

    Raises:
        UsageError: `target` exists (and not `overwrite`), or cannot be written.
    """
    try:
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            if overwrite:
                os.replace(temporary, target)
            else:
                os.link(temporary, target)  # fails if `target` exists, even one made meanwhile
                os.unlink(temporary)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except FileExistsError:
        raise UsageError(f"{target} exists: give --force to overwrite it") from None
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}") from None


def check_limit(value: int, name: str = "--limit", highest: int = 500) -> int:
    if not 1 <= value <= highest:
        raise UsageError(f"{name} must be between 1 and {highest}")
    return value

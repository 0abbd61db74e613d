"""How a setting's raw value becomes typed: files, coercion, secrets, and how it is shown.

* **Files** (container secrets): any setting `section.key` may instead be read from a file named by
  `key_file` in the TOML table or by `CENCOMM_<SECTION>_<KEY>_FILE` in the environment. The file's
  content, less one trailing newline, is the value. A secret never sits in the TOML itself, but a
  path to it may.
* **Display**: URLs that may carry a password (database, Redis) are shown with it masked.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

FILE_SUFFIX = "_file"
MASK = "***"
# A value read from a file is a setting, not a document: refuse anything bigger.
MAX_SETTING_FILE_BYTES = 64 * 1024


class SettingsError(ValueError):
    """A setting is missing, malformed or out of range; the message names it."""


class Secret:
    """A secret string that never shows itself in logs, reprs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


class SettingFileError(ValueError):
    """The file named for a setting cannot be read; the message says why (never its content)."""


def read_setting_file(path: str) -> str:
    """The value kept in `path`, without one trailing newline (as `echo` or an editor leaves it)."""
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_SETTING_FILE_BYTES + 1)
    except OSError as exc:
        raise SettingFileError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_SETTING_FILE_BYTES:
        raise SettingFileError(f"{path} is larger than {MAX_SETTING_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SettingFileError(f"{path} is not UTF-8 text") from None
    return text.removesuffix("\n").removesuffix("\r")


def redact_url(url: str) -> str:
    """`url` with its password (if any) replaced by `***`, for logs, errors and reprs."""
    try:
        parts = urlsplit(url)
        password, port = parts.password, parts.port
    except ValueError:
        return MASK if "@" in url else url  # unparseable: show nothing that might be a secret
    if not password:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:{MASK}@{host}" + (f":{port}" if port is not None else "")
    return urlunsplit(parts._replace(netloc=netloc))


def from_file(label: str, path: object) -> str:
    if not isinstance(path, str) or not path:
        raise SettingsError(f"{label}: expected the path of a file")
    try:
        return read_setting_file(path)
    except SettingFileError as exc:
        raise SettingsError(f"{label}: {exc}") from None


def coerce(name: str, kind: Any, raw: object, from_env: bool) -> object:
    """Turn a TOML or environment value into the field's type, or say which setting is bad."""
    if isinstance(kind, types.UnionType) and Secret in typing.get_args(kind):
        if not from_env:
            raise SettingsError(f"{name}: secrets come only from the environment or a *_file")
        return Secret(str(raw)) if raw else None
    origin = typing.get_origin(kind)
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            if from_env and isinstance(raw, str) and raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if from_env and isinstance(raw, str) and raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError("expected true or false")
        if kind is int:
            if isinstance(raw, bool):
                raise ValueError("expected an integer")
            if isinstance(raw, int):
                return raw
            if from_env and isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
                return int(raw)
            raise ValueError("expected an integer")
        if kind is float:
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                return float(raw)
            if from_env and isinstance(raw, str):
                return float(raw)
            raise ValueError("expected a number")
        if kind is str:
            if isinstance(raw, str):
                return raw
            raise ValueError("expected a string")
        if kind is Path:
            if isinstance(raw, str) and raw:
                return Path(raw)
            raise ValueError("expected a path")
        if origin is tuple:
            if from_env and isinstance(raw, str):
                return tuple(part.strip() for part in raw.split(",") if part.strip())
            if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
                return tuple(raw)
            raise ValueError("expected a list of strings")
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc} (got {raw!r})") from None
    if isinstance(kind, types.UnionType):  # pragma: no cover - no optional settings yet
        return raw
    raise SettingsError(f"{name}: unsupported setting type")  # pragma: no cover


def is_host_port(value: str) -> bool:
    """`host:port` with a port in range (e.g. a syslog or SIEM address)."""
    host, _, port = value.rpartition(":")
    return bool(host) and port.isdigit() and 0 < int(port) < 65536


def is_udp_url(url: str) -> bool:
    """`udp://host:port` with a port in range."""
    host, _, port = url.removeprefix("udp://").rpartition(":")
    return url.startswith("udp://") and bool(host) and port.isdigit() and 0 < int(port) < 65536

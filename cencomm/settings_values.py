"""Setting values: `Secret`, `SettingsError`, and turning TOML or environment values into the
types the settings dataclasses declare (`cencomm.settings` re-exports the first two)."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any


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


def coerce(name: str, kind: Any, raw: object, from_env: bool) -> object:
    """Turn a TOML or environment value into the field's type, or say which setting is bad."""
    if isinstance(kind, types.UnionType) and Secret in typing.get_args(kind):
        if not from_env:
            raise SettingsError(f"{name}: secrets come only from the environment")
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

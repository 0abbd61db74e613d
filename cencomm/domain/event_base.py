"""What every live event and frame shares (`domain/events.py`): the bases that turn them into
JSON, and the readers that decode a bus notice's fields (raising `InvalidNotice`)."""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import ClassVar, TypeAlias

from cencomm.domain.clock import rfc3339

JSONObject: TypeAlias = Mapping[str, object]
"""An already serialised JSON object (e.g. a message or alert as the HTTP API renders it)."""

OUTCOME = re.compile(r"^[a-z_]{1,32}$")


class InvalidNotice(ValueError):
    """A bus notice that is not one of the known events, or has a missing or wrong field."""


def _encode(value: object) -> object:
    """One field as JSON: ids as strings, times as RFC 3339, tuples as lists."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        return dict(value)  # already serialised content, copied so the frame stays frozen
    return value


def _fields_as_json(instance: object) -> dict[str, object]:
    return {f.name: _encode(getattr(instance, f.name)) for f in fields(instance)}  # type: ignore[arg-type]


class FrameBase:
    __slots__ = ()
    type: ClassVar[str]

    def to_json(self) -> dict[str, object]:
        """The frame as the socket sends it: `{"type": ..., <fields>}`."""
        return {"type": self.type, **_fields_as_json(self)}


class EventBase:
    __slots__ = ()
    name: ClassVar[str]

    def to_notice(self) -> dict[str, object]:
        """A small JSON-safe dict for the bus: `{"event": <name>, <fields>}`."""
        return {"event": self.name, **_fields_as_json(self)}


# -- field decoding ----------------------------------------------------------------------


def uuid_field(notice: Mapping[str, object], key: str) -> uuid.UUID:
    value = notice.get(key)
    if not isinstance(value, str):
        raise InvalidNotice(f"{key}: expected a UUID string")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidNotice(f"{key}: expected a UUID string") from None


def uuid_list(notice: Mapping[str, object], key: str) -> list[uuid.UUID]:
    values = notice.get(key)
    if not isinstance(values, list):
        raise InvalidNotice(f"{key}: expected a list of UUID strings")
    return [uuid_field({key: value}, key) for value in values]


def seq_field(notice: Mapping[str, object], key: str) -> int:
    value = notice.get(key)
    # bool is an int in Python; a seq never is one.
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidNotice(f"{key}: expected a non-negative integer")
    return value


def datetime_field(notice: Mapping[str, object], key: str) -> datetime:
    value = notice.get(key)
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidNotice(f"{key}: expected an RFC 3339 time with a zone")
    return moment

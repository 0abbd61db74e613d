"""Spellings shared by every resource: times, optional ids, base64url, a stored JWS's claims."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any, Protocol

from cencomm.domain.clock import rfc3339


def time_or_none(moment: datetime | None) -> str | None:
    return rfc3339(moment) if moment else None


def id_or_none(value: uuid.UUID | None) -> str | None:
    return str(value) if value else None


def b64url(raw: bytes) -> str:
    """base64url without padding (RFC 7515 §2), as keys and signatures are written."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def jws_claims(jws: str) -> dict[str, Any]:
    """The payload claims of a JWS that was parsed and verified when it was stored, for reading.

    The hot read path (every message of a timeline page, every live frame): only the middle
    segment is decoded, with the C JSON decoder and none of the intake checks, because the
    server ran them all (allow-list, no duplicate keys, signature) before storing the JWS
    verbatim. Never call this on a JWS that did not pass intake.

    Raises:
        ValueError: the string is not a compact JWS with a JSON object payload.
    """
    parts = jws.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWS")
    segment = parts[1]
    claims = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    if not isinstance(claims, dict):
        raise ValueError("the payload is not a JSON object")
    return claims


class SenderLike(Protocol):
    """Who signed a message or an alert (`messages.Sender`, `alerts.AlertSender`)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def display_name(self) -> str: ...

    @property
    def organization_id(self) -> uuid.UUID: ...

    @property
    def organization_name(self) -> str: ...


def sender_json(sender: SenderLike) -> dict[str, Any]:
    """The sender of a message or an alert: who, and their organisation (its name for reading)."""
    return {
        "id": str(sender.id),
        "display_name": sender.display_name,
        "organization_id": str(sender.organization_id),
        "organization_name": sender.organization_name,
    }

"""Build and sign envelopes exactly as API.md "Signed envelopes" describes them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cencomm.client.keystore import LocalKey
from cencomm.crypto.jws import sign_compact
from cencomm.domain.envelopes import ALERT_PRIORITIES, ENVELOPE_VERSION, HandlingCode, MessageType

DEFAULT_HC = HandlingCode.AMBER.value
HANDLING_CODES: tuple[str, ...] = tuple(code.value for code in HandlingCode)
MESSAGE_TYPES: tuple[str, ...] = tuple(t.value for t in MessageType if t is not MessageType.ALERT)


@dataclass(frozen=True, slots=True)
class PreparedEnvelope:
    """A signed envelope ready to post; post it again as is to retry without duplicating.

    Attributes:
        jws: the compact JWS, exactly as it is sent and stored.
        cid: the client-chosen id the server deduplicates on.
        payload: the signed claims.
    """

    jws: str
    cid: str
    payload: dict[str, Any] = field(repr=False)


def _check_hc(hc: str) -> str:
    if hc not in HANDLING_CODES:
        raise ValueError(f"hc must be one of {', '.join(HANDLING_CODES)}")
    return hc


def build_payload(
    *,
    typ: str,
    sub: str,
    body: Mapping[str, Any],
    hc: str = DEFAULT_HC,
    grp: str | None = None,
    to: Mapping[str, Any] | None = None,
    att: Sequence[Mapping[str, Any]] | None = None,
    reply_to: str | None = None,
    cid: str | None = None,
    iat: int | None = None,
) -> dict[str, Any]:
    """The claims of an envelope: `v, typ, cid, sub, iat, grp|to, hc, body, att?, reply_to?`.

    Args:
        typ: `text`, `notice`, `seizure` or `alert`.
        sub: the sender's user id.
        body: the body for `typ` (API.md "Bodies").
        hc: handling code (TLP 2.0 label).
        grp: the target group; required for every typ but `alert`.
        to: the recipients of an alert (`{groups?, organizations?, regions?, all?}`).
        att: attachments already uploaded to the group (`{sha256, size, name, type}`).
        reply_to: the id of the message this one answers.
        cid: the client id; a fresh UUID4 when omitted.
        iat: issue time in Unix seconds; now when omitted.

    Raises:
        ValueError: an unknown typ or handling code, or `grp`/`to` not matching the typ.
    """
    if typ not in {t.value for t in MessageType}:
        raise ValueError(f"typ must be one of {', '.join(t.value for t in MessageType)}")
    payload: dict[str, Any] = {
        "v": ENVELOPE_VERSION,
        "typ": typ,
        "cid": cid or str(uuid.uuid4()),
        "sub": sub,
        "iat": int(time.time()) if iat is None else iat,
    }
    if typ == MessageType.ALERT:
        if grp is not None or to is None:
            raise ValueError("an alert names its recipients in `to` and carries no group")
        payload["to"] = dict(to)
    else:
        if grp is None or to is not None:
            raise ValueError("a message needs a group and no `to`")
        payload["grp"] = grp
    payload["hc"] = _check_hc(hc)
    payload["body"] = dict(body)
    if att:
        payload["att"] = [dict(entry) for entry in att]
    if reply_to is not None:
        payload["reply_to"] = reply_to
    return payload


def sign_envelope(payload: Mapping[str, Any], key: LocalKey) -> PreparedEnvelope:
    """Sign `payload` with header exactly `{"alg": "Ed25519", "kid": ..., "typ": "cencomm+jws"}`."""
    jws = sign_compact(payload, key.private_key, key.kid, alg="Ed25519")
    return PreparedEnvelope(jws=jws, cid=str(payload["cid"]), payload=dict(payload))


def text_body(text: str) -> dict[str, Any]:
    return {"text": text}


def notice_body(title: str, text: str) -> dict[str, Any]:
    return {"title": title, "text": text}


def alert_body(
    title: str,
    text: str,
    priority: str,
    ack_required: bool,
    respond_by: int | None = None,
    expires_at: int | None = None,
) -> dict[str, Any]:
    """An alert body; `respond_by`/`expires_at` are Unix seconds after `iat`.

    Raises:
        ValueError: an unknown priority.
    """
    if priority not in ALERT_PRIORITIES:
        raise ValueError(f"priority must be one of {', '.join(sorted(ALERT_PRIORITIES))}")
    body: dict[str, Any] = {
        "title": title,
        "text": text,
        "priority": priority,
        "ack_required": ack_required,
    }
    if respond_by is not None:
        body["respond_by"] = respond_by
    if expires_at is not None:
        body["expires_at"] = expires_at
    return body

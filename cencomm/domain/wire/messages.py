"""Messages: the API's message object, a post's receipt, and the evidence bundle's record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from cencomm.domain.clock import rfc3339
from cencomm.domain.messages import PostOutcome, StoredMessage
from cencomm.domain.seals import Countersignature
from cencomm.domain.wire.common import id_or_none, jws_claims, sender_json
from cencomm.domain.wire.seals import countersignature_json


class Readable(Protocol):
    """A message with what one reader may see of it (`services.messaging.ReadableMessage`)."""

    @property
    def message(self) -> StoredMessage: ...

    @property
    def show_jws(self) -> bool: ...

    @property
    def countersignatures(self) -> Sequence[Countersignature]: ...


def message_json(readable: Readable) -> dict[str, Any]:
    """The message object (API.md, "Messages"): timelines, search, live frames.

    A hidden message shows `jws: null` and `content: null` to everyone but moderators, and
    its countersignatures without their JWS.
    """
    m = readable.message
    # Decoded once per message per response (live frames: once per frame); the JWS was
    # verified at intake and is stored verbatim, so its claims are what the sender signed.
    jws = m.jws if readable.show_jws else None
    fields = _message_fields(m, jws, jws_claims(jws) if jws is not None else None)
    fields["countersignatures"] = [
        countersignature_json(c, show_jws=readable.show_jws) for c in readable.countersignatures
    ]
    return fields


def _message_fields(
    m: StoredMessage, jws: str | None, content: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "id": str(m.id),
        "group_id": str(m.group_id),
        "seq": m.seq,
        "typ": m.typ,
        "hc": m.hc,
        "sender": sender_json(m.sender),
        "kid": m.kid,
        "jws": jws,
        "content": content,
        "created_at": rfc3339(m.created_at),
        "reply_to": id_or_none(m.reply_to),
        "hidden": m.hidden,
        "hidden_reason": m.hidden_reason,
    }


def post_receipt_json(outcome: PostOutcome) -> dict[str, Any]:
    """`POST /groups/{id}/messages`: `{id, seq, created_at}` (201, or 200 on a repeat)."""
    return {"id": str(outcome.id), "seq": outcome.seq, "created_at": rfc3339(outcome.created_at)}


# What an evidence record leaves out of the message object: only for reading (`content`: the
# JWS itself is the evidence; the organisation's name) or implied (`group_id`: one group's bundle).
_NOT_EVIDENCE = ("group_id", "content")


def evidence_message_json(m: StoredMessage) -> dict[str, Any]:
    """One line of an evidence bundle's messages.jsonl (format `cencomm-evidence/1`, written as
    canonical JSON, so key order does not matter): the message object with its JWS always
    present, hidden or not (the bundle is for moderators), less `_NOT_EVIDENCE`."""
    record = _message_fields(m, m.jws, None)
    for name in _NOT_EVIDENCE:
        del record[name]
    del record["sender"]["organization_name"]
    return record

"""Organisation seals: seal keys, seal holders and countersignatures as the API writes them."""

from __future__ import annotations

from typing import Any

from cencomm.domain.clock import rfc3339
from cencomm.domain.seals import Countersignature, OrganizationKey, SealHolder
from cencomm.domain.wire.common import b64url, time_or_none


def organization_key_json(key: OrganizationKey) -> dict[str, Any]:
    """An organisation's seal key; also each entry of an evidence bundle's
    organization_keys.json."""
    return {
        "kid": key.kid,
        "organization_id": str(key.organization_id),
        "public_key": b64url(key.public_key),
        "label": key.label,
        "created_at": rfc3339(key.created_at),
        "revoked_at": time_or_none(key.revoked_at),
    }


def seal_holder_json(holder: SealHolder) -> dict[str, Any]:
    return {
        "organization_id": str(holder.organization_id),
        "user_id": str(holder.user_id),
        "designated_at": rfc3339(holder.designated_at),
    }


def countersignature_json(c: Countersignature, *, show_jws: bool = True) -> dict[str, Any]:
    """One entry of a message's `countersignatures`: the JWS follows the message's (a hidden
    message's countersignatures show `jws: null` to everyone but moderators)."""
    return {
        "organization_id": str(c.organization_id),
        "kid": c.kid,
        "jws": c.jws if show_jws else None,
        "created_at": rfc3339(c.created_at),
    }


def countersign_receipt_json(c: Countersignature) -> dict[str, Any]:
    """`POST /messages/{id}/countersign` (201, or 200 on an identical repeat)."""
    return {
        "id": str(c.id),
        "message_id": str(c.message_id),
        "signer_id": str(c.signer_id),
        **countersignature_json(c),
    }


def evidence_countersignature_json(c: Countersignature) -> dict[str, Any]:
    """One line of an evidence bundle's countersignatures.jsonl."""
    return {
        "id": str(c.id),
        "message_id": str(c.message_id),
        "organization_id": str(c.organization_id),
        "kid": c.kid,
        "signer_id": str(c.signer_id),
        "cid": c.cid,
        "jws": c.jws,
        "created_at": rfc3339(c.created_at),
    }

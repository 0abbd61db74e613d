"""Organisations, users, the caller (`/me`) and signing keys."""

from __future__ import annotations

from typing import Any

from cencomm.domain.clock import rfc3339
from cencomm.domain.keys import SigningKey
from cencomm.domain.users import Organization, User
from cencomm.domain.wire.common import b64url, time_or_none


def organization_json(org: Organization) -> dict[str, Any]:
    return {
        "id": str(org.id),
        "name": org.name,
        "kind": org.kind.value,
        "country": org.country,
        "region": org.region.value if org.region else None,
        "created_at": rfc3339(org.created_at),
    }


def user_json(u: User) -> dict[str, Any]:
    return {
        "id": str(u.id),
        "username": u.username,
        "display_name": u.display_name,
        "organization_id": str(u.organization_id),
        "role": u.role.value,
        "disabled": u.disabled,
        "mfa_enabled": u.mfa_enabled,
        "created_at": rfc3339(u.created_at),
        "email": u.email,
    }


def me_json(u: User, organization: Organization, *, mfa_enrolment_required: bool) -> dict[str, Any]:
    """`GET /me`: the caller with their organisation."""
    return {
        "id": str(u.id),
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role.value,
        "organization": organization_json(organization),
        "mfa_enabled": u.mfa_enabled,
        "mfa_enrolment_required": mfa_enrolment_required,
    }


def signing_key_json(key: SigningKey) -> dict[str, Any]:
    """A user's key; also each entry of an evidence bundle's keys.json."""
    return {
        "kid": key.kid,
        "user_id": str(key.user_id),
        "public_key": b64url(key.public_key),
        "label": key.label,
        "created_at": rfc3339(key.created_at),
        "revoked_at": time_or_none(key.revoked_at),
    }

"""Domain objects → JSON dicts, in the shapes API.md gives."""

from __future__ import annotations

from typing import Any

from cencomm.crypto.keys import b64url_encode
from cencomm.domain.clock import rfc3339
from cencomm.domain.keys import SigningKey
from cencomm.domain.users import Organization, User


def organization(org: Organization) -> dict[str, Any]:
    return {
        "id": str(org.id),
        "name": org.name,
        "kind": org.kind.value,
        "country": org.country,
        "region": org.region.value if org.region else None,
        "created_at": rfc3339(org.created_at),
    }


def user(u: User) -> dict[str, Any]:
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


def signing_key(key: SigningKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "user_id": str(key.user_id),
        "public_key": b64url_encode(key.public_key),
        "label": key.label,
        "created_at": rfc3339(key.created_at),
        "revoked_at": rfc3339(key.revoked_at) if key.revoked_at else None,
    }

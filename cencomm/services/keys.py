"""Users' message-signing keys: register, list (revoked included), revoke. Every event audited."""

from __future__ import annotations

import uuid

from cencomm.crypto.keys import b64url_decode, check_ed25519_public_key, jwk_thumbprint
from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock
from cencomm.domain.errors import FieldError, Forbidden, Invalid, NotFound
from cencomm.domain.keys import MAX_LABEL, SigningKey
from cencomm.domain.policy import Action, authorize, is_allowed
from cencomm.domain.users import Caller, Principal
from cencomm.services.audit import AuditTrail
from cencomm.storage.db import Database
from cencomm.storage.unit import Unit


def _invalid_key(message: str) -> Invalid:
    return Invalid(
        message,
        slug="invalid-public-key",
        errors=(FieldError("body.public_key", message),),
    )


def parse_public_key(encoded: str) -> bytes:
    """base64url (no padding) of a raw 32-byte Ed25519 point that is usable as a key."""
    try:
        raw = b64url_decode(encoded)
    except ValueError:
        raise _invalid_key("not base64url without padding") from None
    try:
        check_ed25519_public_key(raw)
    except ValueError as exc:
        raise _invalid_key(str(exc)) from None
    return raw


class KeyService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit

    async def register(self, caller: Caller, public_key: str, label: str | None) -> SigningKey:
        principal = _principal(caller)
        authorize(principal, Action.MANAGE_OWN_KEYS)
        raw = parse_public_key(public_key)
        if label is not None and (len(label) > MAX_LABEL or not label.isprintable()):
            raise Invalid(
                f"labels are at most {MAX_LABEL} printable characters",
                slug="validation-failed",
                errors=(FieldError("body.label", "too long or not printable"),),
            )
        key = SigningKey(
            kid=jwk_thumbprint(raw),
            user_id=principal.user_id,
            public_key=raw,
            label=label,
            created_at=self._clock.now(),
            revoked_at=None,
        )

        def work(unit: Unit) -> None:
            unit.keys.insert(key)
            # Key transparency: the registration is in the audit log for anyone to prove later.
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "key.register",
                    target_type="key",
                    target_id=key.kid,
                    details={"public_key": public_key},
                ),
            )

        await self._db.write(work)
        return key

    async def list_of_user(self, principal: Principal, user_id: uuid.UUID) -> list[SigningKey]:
        authorize(principal, Action.READ_PUBLIC_KEYS)

        def work(unit: Unit) -> list[SigningKey]:
            if unit.users.find(user_id) is None:
                raise NotFound("no such user")
            return unit.keys.list_of_user(user_id)

        return await self._db.read(work)

    async def revoke(self, caller: Caller, kid: str) -> None:
        """Revoke a key (one's own; an admin any). Revoking twice is a no-op answer."""
        principal = _principal(caller)
        now = self._clock.now()

        def work(unit: Unit) -> None:
            keys = unit.keys
            key = keys.find(kid)
            if key is None:
                raise NotFound("no such key")
            if key.user_id != principal.user_id:
                # Keys are public (GET /users/{id}/keys), so refusing reveals nothing.
                if not is_allowed(principal, Action.REVOKE_ANY_KEY):
                    raise Forbidden("only the key's owner or an admin may revoke it")
            else:
                authorize(principal, Action.REVOKE_OWN_KEY)
            if not keys.revoke(kid, now):
                return  # already revoked: nothing changes, nothing to audit
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "key.revoke",
                    target_type="key",
                    target_id=kid,
                    details={"owner_id": str(key.user_id)},
                ),
            )

        await self._db.write(work)


def _principal(caller: Caller) -> Principal:
    if caller.principal is None:
        raise Forbidden("authentication required")
    return caller.principal

"""The checks every signed envelope (message or alert) passes after it parses, in the order of
the contract: `kid` is an active key of `sub`, `sub` is the caller, the signature verifies."""

from __future__ import annotations

from cencomm.crypto.jws import ParsedJws, verify_signature
from cencomm.domain.errors import FieldError, Invalid
from cencomm.domain.keys import SigningKey
from cencomm.domain.users import Principal


def invalid(slug: str, title: str, field: str, message: str) -> Invalid:
    """A 422 naming the failed check and the part of the envelope it concerns."""
    return Invalid(message, slug=slug, title=title, errors=(FieldError(field, message),))


def verify_sender(parsed: ParsedJws, key: SigningKey | None, principal: Principal) -> None:
    """Raises `unknown-key`, `revoked-key`, `sender-mismatch` or `bad-signature`.

    Args:
        key: the registered key named by the header's `kid` (None when there is none).
    """
    claimed_sub = parsed.payload.get("sub")
    if key is None or str(key.user_id) != claimed_sub:
        raise invalid(
            "unknown-key", "Unknown key", "jws.header.kid", "kid is not a key of the sender"
        )
    if not key.active:
        raise invalid("revoked-key", "Revoked key", "jws.header.kid", "the key is revoked")
    if claimed_sub != str(principal.user_id):
        raise invalid(
            "sender-mismatch",
            "Sender mismatch",
            "jws.payload.sub",
            "sub is not the authenticated user",
        )
    if not verify_signature(parsed, key.public_key):
        raise invalid(
            "bad-signature", "Bad signature", "jws.signature", "the signature does not verify"
        )

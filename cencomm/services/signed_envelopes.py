"""One intake for signed envelopes: messages, alerts and anything signed later pass it alike.

In the order of the contract (API.md, "Signed envelopes"), first failure wins:
parse (`invalid-jws`, `jws-too-large`) → the key of `sub`, named by `kid` (`unknown-key`,
`revoked-key`) → `sub` is the caller (`sender-mismatch`) → signature (`bad-signature`) → the
types this endpoint takes (`unknown-typ`) → claims (`domain/envelopes.check_claims`: iat, grp,
body, ...) → attachments (`unknown-attachment`, against candidates the endpoint resolves).

The endpoint keeps what is its own: what it authorises before the envelope (a group the caller
cannot see, an observer), its references (reply_to, recipients), and where it stores the post.
Every problem of the intake is raised here or in the domain it calls, in one place each.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cencomm.crypto.jws import ParsedJws, parse_compact, verify_signature
from cencomm.domain.attachment_refs import match_attachments
from cencomm.domain.attachments import Attachment
from cencomm.domain.envelopes import ALL_TYPES, Envelope, MessageType, check_claims, check_typ
from cencomm.domain.errors import Conflict, FieldError, Invalid
from cencomm.domain.keys import SigningKey
from cencomm.domain.users import Principal
from cencomm.storage.unit import Unit

KeyLoader = Callable[[str], Awaitable[SigningKey | None]]
"""Reads the registered key with this `kid` (None when there is none)."""

AttachmentResolver = Callable[[Unit, Sequence[str]], Iterable[Attachment]]
"""The attachments with these hashes that an envelope's `att` may name, for one endpoint."""


def invalid(slug: str, title: str, field: str, message: str) -> Invalid:
    """A 422 naming the failed check and the part of the envelope it concerns."""
    return Invalid(message, slug=slug, title=title, errors=(FieldError(field, message),))


def duplicate_cid() -> Conflict:
    """The sender used this `cid` before with a different JWS (an identical one is a repeat)."""
    return Conflict("this cid was already used with a different JWS", slug="duplicate-cid")


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


@dataclass(frozen=True, slots=True)
class EnvelopeIntake:
    """The intake of one endpoint: the envelope types it takes and what its attachments are.

    Attributes:
        accepts: the `typ` values the endpoint takes; any other is `unknown-typ`.
        attachments_of: what the candidate attachments are, for `unknown-attachment`.
    """

    accepts: frozenset[MessageType]
    attachments_of: str

    @staticmethod
    def parse(jws: str) -> ParsedJws:
        """Step one, before any key is read: the `kid` it names is what the caller reads."""
        return parse_compact(jws)

    def check(
        self,
        parsed: ParsedJws,
        key: SigningKey | None,
        principal: Principal,
        *,
        grp: str | None,
        now: datetime,
    ) -> Envelope:
        """The checked envelope, with the key the caller already read for `parsed.kid`.

        Args:
            grp: the group in the URL (None for an endpoint that takes no group).
            now: the server's clock, for `iat`.

        Raises:
            Invalid: `unknown-key`, `revoked-key`, `sender-mismatch`, `bad-signature`,
                `unknown-typ`, or what `check_claims` raises.
            TooLarge: `body-too-large`.
        """
        verify_sender(parsed, key, principal)
        # Before the other claims: which endpoint a type goes to is the first thing to say of
        # an envelope sent to the wrong one (a message's `grp` would otherwise be blamed).
        if "typ" in parsed.payload:  # a missing one is a missing claim: check_claims names it
            check_typ(parsed.payload["typ"], self.accepts)
        return check_claims(
            parsed.payload,
            expected_sub=str(principal.user_id),
            expected_grp=grp,
            now=int(now.timestamp()),
        )

    async def load(
        self,
        parsed: ParsedJws,
        keys: KeyLoader,
        principal: Principal,
        *,
        grp: str | None,
        now: datetime,
    ) -> Envelope:
        """`check`, reading the key of `parsed.kid` with `keys` first."""
        return self.check(parsed, await keys(parsed.kid), principal, grp=grp, now=now)

    def attachments(
        self, unit: Unit, envelope: Envelope, resolve: AttachmentResolver
    ) -> list[Attachment]:
        """The attachment each `att` entry names, in order, among those `resolve` finds.

        Raises:
            Invalid: `unknown-attachment`, naming the first entry that matches none.
        """
        refs = envelope.attachments
        if not refs:
            return []
        hashes = sorted({ref.sha256 for ref in refs})
        return match_attachments(refs, resolve(unit, hashes), self.attachments_of)


MESSAGES = EnvelopeIntake(accepts=ALL_TYPES - {MessageType.ALERT}, attachments_of="this group")
ALERTS = EnvelopeIntake(
    accepts=frozenset({MessageType.ALERT}), attachments_of="a target group you post in"
)

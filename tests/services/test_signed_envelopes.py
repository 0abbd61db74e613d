"""The one intake for signed envelopes: messages and alerts refuse the same bad envelope alike.

Pure: real Ed25519 keys and signatures, no database (the attachment resolver is a function).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.crypto.jws import sign_compact
from cencomm.crypto.keys import jwk_thumbprint, raw_public_key
from cencomm.domain.attachments import Attachment, BlobStatus
from cencomm.domain.envelopes import Envelope, MessageType
from cencomm.domain.errors import CencommError, Conflict
from cencomm.domain.ids import OrganizationId, SessionId, UserId
from cencomm.domain.keys import SigningKey
from cencomm.domain.users import Principal, Role
from cencomm.services.signed_envelopes import (
    ALERTS,
    MESSAGES,
    EnvelopeIntake,
    duplicate_cid,
)
from cencomm.storage.unit import Unit

NOW = datetime(2024, 6, 15, 10, 0, tzinfo=UTC)
GRP = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
SHA = "ab" * 32
NO_UNIT = cast(Unit, None)  # the resolvers below never touch it


class Sender:
    """A user with a registered Ed25519 key."""

    def __init__(self, *, revoked: bool = False) -> None:
        self.private = Ed25519PrivateKey.generate()
        public = raw_public_key(self.private.public_key())
        self.kid = jwk_thumbprint(public)
        self.id = UserId(uuid.uuid4())
        self.key = SigningKey(
            kid=self.kid,
            user_id=self.id,
            public_key=public,
            label=None,
            created_at=NOW,
            revoked_at=NOW if revoked else None,
        )
        self.principal = Principal(
            self.id, OrganizationId(uuid.uuid4()), Role.OFFICER, SessionId(uuid.uuid4())
        )

    def sign(self, payload: dict[str, Any]) -> str:
        return sign_compact(payload, self.private, self.kid)


def payload_for(intake: EnvelopeIntake, sender: Sender, **changes: Any) -> dict[str, Any]:
    """A valid payload for the endpoint: a text message to GRP, or an alert to GRP."""
    payload: dict[str, Any] = {
        "v": 1,
        "cid": str(uuid.uuid4()),
        "sub": str(sender.id),
        "iat": int(NOW.timestamp()),
        "hc": "TLP:AMBER",
    }
    if intake is MESSAGES:
        payload.update(typ="text", grp=GRP, body={"text": "Masks seized at the airport"})
    else:
        payload.update(
            typ="alert",
            to={"groups": [GRP]},
            body={"title": "Watch", "text": "Container", "priority": "flash", "ack_required": True},
        )
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def check(intake: EnvelopeIntake, jws: str, key: SigningKey | None, caller: Sender) -> Envelope:
    grp = GRP if intake is MESSAGES else None
    return intake.check(intake.parse(jws), key, caller.principal, grp=grp, now=NOW)


def refused(intake: EnvelopeIntake, jws: str, key: SigningKey | None, caller: Sender) -> str:
    """The slug `check` refuses the envelope with."""
    with pytest.raises(CencommError) as caught:
        check(intake, jws, key, caller)
    return caught.value.slug


def _flip_signature(token: str) -> str:
    head, _, signature = token.rpartition(".")
    return f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


# Each case: (name, build) where build(intake, sender, other) gives (jws, key handed over, caller).
Case = Callable[[EnvelopeIntake, Sender, Sender], tuple[str, SigningKey | None, Sender]]
BAD: list[tuple[str, str, Case]] = [
    ("not a JWS", "invalid-jws", lambda i, s, o: ("a.b.c", s.key, s)),
    (
        "no key with that kid",
        "unknown-key",
        lambda i, s, o: (s.sign(payload_for(i, s)), None, s),
    ),
    (
        "kid of another user",
        "unknown-key",
        lambda i, s, o: (o.sign(payload_for(i, s)), o.key, s),
    ),
    (
        "revoked key",
        "revoked-key",
        lambda i, s, o: _revoked(i),
    ),
    (
        "another user's envelope",
        "sender-mismatch",
        lambda i, s, o: (o.sign(payload_for(i, o)), o.key, s),
    ),
    (
        "tampered signature",
        "bad-signature",
        lambda i, s, o: (_flip_signature(s.sign(payload_for(i, s))), s.key, s),
    ),
    (
        "unknown typ",
        "unknown-typ",
        lambda i, s, o: (s.sign(payload_for(i, s, typ="memo")), s.key, s),
    ),
    (
        "stale iat",
        "stale-iat",
        lambda i, s, o: (s.sign(payload_for(i, s, iat=int(NOW.timestamp()) - 1000)), s.key, s),
    ),
    (
        "cid not a UUID",
        "invalid-claims",
        lambda i, s, o: (s.sign(payload_for(i, s, cid="x")), s.key, s),
    ),
    (
        "body over 64 KiB",
        "body-too-large",
        lambda i, s, o: (
            s.sign(payload_for(i, s, body={"title": "t", "text": "x" * 70_000})),
            s.key,
            s,
        ),
    ),
]


def _revoked(intake: EnvelopeIntake) -> tuple[str, SigningKey | None, Sender]:
    sender = Sender(revoked=True)
    return sender.sign(payload_for(intake, sender)), sender.key, sender


@pytest.mark.parametrize(("name", "slug", "build"), BAD, ids=[case[0] for case in BAD])
def test_messages_and_alerts_refuse_the_same_bad_envelope_with_the_same_slug(
    name: str, slug: str, build: Case
) -> None:
    sender, other = Sender(), Sender()
    for intake in (MESSAGES, ALERTS):
        jws, key, caller = build(intake, sender, other)
        assert refused(intake, jws, key, caller) == slug, (name, intake)


def test_valid_envelopes_pass_their_own_endpoint() -> None:
    sender = Sender()
    message = check(MESSAGES, sender.sign(payload_for(MESSAGES, sender)), sender.key, sender)
    alert = check(ALERTS, sender.sign(payload_for(ALERTS, sender)), sender.key, sender)
    assert (message.typ, message.grp) == (MessageType.TEXT, GRP)
    assert (alert.typ, alert.grp) == (MessageType.ALERT, None)


def test_each_endpoint_refuses_the_others_type_in_one_wording() -> None:
    sender = Sender()
    alert = sender.sign(payload_for(ALERTS, sender))
    message = sender.sign(payload_for(MESSAGES, sender))
    details = []
    for intake, jws in ((MESSAGES, alert), (ALERTS, message)):
        with pytest.raises(CencommError) as caught:
            check(intake, jws, sender.key, sender)
        assert caught.value.slug == "unknown-typ"
        assert [e.field for e in caught.value.errors] == ["typ"]
        details.append(caught.value.errors[0].message)
    assert details == ["must be text | notice | seizure", "must be alert"]


def test_the_checks_run_in_the_order_of_the_contract() -> None:
    sender, other = Sender(), Sender()
    for intake in (MESSAGES, ALERTS):
        # Everything wrong at once: the key of another user is named first ...
        worst = payload_for(intake, sender, typ="memo", iat=0, cid="x")
        assert refused(intake, other.sign(worst), other.key, sender) == ("unknown-key")
        # ... then the signature, before any claim is believed ...
        forged = _flip_signature(sender.sign(worst))
        assert refused(intake, forged, sender.key, sender) == "bad-signature"
        # ... then the type this endpoint takes, before iat and grp ...
        assert refused(intake, sender.sign(worst), sender.key, sender) == ("unknown-typ")
        # ... then iat.
        stale = payload_for(intake, sender, iat=0)
        assert refused(intake, sender.sign(stale), sender.key, sender) == ("stale-iat")


async def test_a_loader_reads_the_key_the_header_names() -> None:
    sender = Sender()
    asked: list[str] = []

    async def keys(kid: str) -> SigningKey | None:
        asked.append(kid)
        return sender.key if kid == sender.kid else None

    jws = sender.sign(payload_for(ALERTS, sender))
    envelope = await ALERTS.load(ALERTS.parse(jws), keys, sender.principal, grp=None, now=NOW)
    assert envelope.typ is MessageType.ALERT
    assert asked == [sender.kid]


def _attachment(sha256: str, size: int, status: BlobStatus = BlobStatus.CLEAN) -> Attachment:
    return Attachment(
        id=uuid.uuid4(),
        group_id=uuid.UUID(GRP),
        sha256=sha256,
        size=size,
        name="a.pdf",
        content_type="application/pdf",
        uploader_id=uuid.uuid4(),
        created_at=NOW,
        status=status,
    )


def _att(sha256: str, size: int) -> dict[str, Any]:
    return {"sha256": sha256, "size": size, "name": "a.pdf", "type": "application/pdf"}


@pytest.mark.parametrize("intake", [MESSAGES, ALERTS], ids=["messages", "alerts"])
def test_both_endpoints_match_attachments_against_what_their_resolver_finds(
    intake: EnvelopeIntake,
) -> None:
    sender = Sender()
    second, infected = "cd" * 32, "ef" * 32
    stored = [
        _attachment(SHA, 10),
        _attachment(second, 30),
        _attachment(infected, 20, BlobStatus.INFECTED),
    ]
    asked: list[Sequence[str]] = []

    def resolve(unit: Unit, hashes: Sequence[str]) -> list[Attachment]:
        asked.append(hashes)
        return [a for a in stored if a.sha256 in hashes]

    def envelope_with(att: list[dict[str, Any]] | None) -> Envelope:
        return check(intake, sender.sign(payload_for(intake, sender, att=att)), sender.key, sender)

    named = envelope_with([_att(second, 30), _att(SHA, 10)])
    assert intake.attachments(NO_UNIT, named, resolve) == [stored[1], stored[0]]  # in order
    assert asked == [[SHA, second]]  # one question for all the hashes
    for bad in ([_att(SHA, 11)], [_att("01" * 32, 10)], [_att(infected, 20)]):
        envelope = envelope_with(bad)
        with pytest.raises(CencommError) as caught:
            intake.attachments(NO_UNIT, envelope, resolve)
        assert caught.value.slug == "unknown-attachment"
        assert caught.value.errors[0].field == "jws.payload.att[0]"
    asked.clear()
    assert intake.attachments(NO_UNIT, envelope_with(None), resolve) == []
    assert asked == []  # nothing named: nothing resolved


def test_a_reused_cid_is_one_conflict_for_every_endpoint() -> None:
    problem = duplicate_cid()
    assert isinstance(problem, Conflict)
    assert (problem.slug, problem.title) == ("duplicate-cid", "Duplicate client id")

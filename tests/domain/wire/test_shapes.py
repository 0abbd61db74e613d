"""The wire shapes: what each reader gets, and what the evidence bundle keeps of a resource."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from cencomm.domain.attachments import Attachment, BlobStatus
from cencomm.domain.audit_tree import TreeHead
from cencomm.domain.groups import Group, GroupStatus
from cencomm.domain.ids import GroupId, UserId
from cencomm.domain.keys import SigningKey
from cencomm.domain.messages import Sender, StoredMessage
from cencomm.domain.seals import Countersignature
from cencomm.domain.wire.attachments import attachment_json, evidence_attachment_json
from cencomm.domain.wire.audit import tree_head_json
from cencomm.domain.wire.directory import signing_key_json
from cencomm.domain.wire.groups import evidence_group_json
from cencomm.domain.wire.messages import evidence_message_json, message_json

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CLAIMS = {"v": 1, "typ": "text", "hc": "TLP:AMBER", "body": {"text": "Côte d'Ivoire"}}


def _segment(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _message(*, hidden: bool = False) -> StoredMessage:
    return StoredMessage(
        id=uuid.uuid4(),
        group_id=uuid.uuid4(),
        seq=7,
        typ="text",
        hc="TLP:AMBER",
        sender=Sender(uuid.uuid4(), "Ana", uuid.uuid4(), "Douane"),
        kid="kid-1",
        jws=f"{_segment({'alg': 'Ed25519'})}.{_segment(CLAIMS)}.c2ln",
        created_at=AT,
        reply_to=None,
        hidden=hidden,
        hidden_reason="off topic" if hidden else None,
    )


@dataclass(frozen=True)
class Reading:
    message: StoredMessage
    show_jws: bool
    countersignatures: tuple[Countersignature, ...] = ()


def test_a_message_carries_its_signed_claims_for_reading() -> None:
    m = _message()
    shown = message_json(Reading(m, show_jws=True))
    assert shown["jws"] == m.jws and shown["content"] == CLAIMS
    assert shown["sender"]["organization_name"] == "Douane"
    assert shown["created_at"] == "2026-03-01T12:00:00.000000Z" and shown["reply_to"] is None


def test_a_hidden_message_shows_neither_jws_nor_content_to_a_non_moderator() -> None:
    shown = message_json(Reading(_message(hidden=True), show_jws=False))
    assert shown["jws"] is None and shown["content"] is None
    assert shown["hidden"] is True and shown["hidden_reason"] == "off topic"


def test_the_evidence_record_is_the_message_object_with_the_jws_and_nothing_for_reading() -> None:
    m = _message(hidden=True)
    record = evidence_message_json(m)
    api = message_json(Reading(m, show_jws=True))
    # Countersignatures have their own file in a bundle (countersignatures.jsonl).
    assert set(record) == set(api) - {"group_id", "content", "countersignatures"}
    assert record["jws"] == m.jws
    assert record["sender"] == {
        k: api["sender"][k] for k in ("id", "display_name", "organization_id")
    }


def test_an_evidence_attachment_is_the_attachment_object_and_its_blob_path() -> None:
    a = Attachment(
        uuid.uuid4(),
        uuid.uuid4(),
        "ab" * 32,
        3,
        "a.pdf",
        "application/pdf",
        uuid.uuid4(),
        AT,
        BlobStatus.CLEAN,
    )
    assert evidence_attachment_json(a, None) == {**attachment_json(a), "blob": None}
    assert evidence_attachment_json(a, "blobs/x")["blob"] == "blobs/x"


def test_keys_and_tree_heads_are_base64url_without_padding() -> None:
    key = SigningKey("kid", UserId(uuid.uuid4()), b"\xfb" * 32, None, AT, None)
    head = TreeHead(1, b"\x00" * 32, AT, "cencomm\n1\n...\n1\n", "kid", b"\xfb" * 64)
    for text, raw in (
        (signing_key_json(key)["public_key"], key.public_key),
        (tree_head_json(head)["signature"], head.signature),
    ):
        assert not set(text) & set("=+/")
        assert base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)) == raw


def test_an_evidence_bundle_names_its_group_as_the_group_object_does() -> None:
    group = Group(
        GroupId(uuid.uuid4()), "STOP", "Stop", None, None, None, GroupStatus.ACTIVE, True, AT
    )
    assert evidence_group_json(group) == {
        "id": str(group.id),
        "code": "STOP",
        "name": "Stop",
        "status": "active",
        "created_at": "2026-03-01T12:00:00.000000Z",
    }

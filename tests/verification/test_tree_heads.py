"""The shared tree-head checks, offline and without I/O: JSON form, checkpoint, signature,
and whether one head extends another."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key
from cencomm.crypto.merkle import MemorySubtreeSource, consistency_proof, leaf_hash, range_hash
from cencomm.domain.audit_tree import TreeHead, checkpoint_body
from cencomm.verification.errors import NotExtended, TreeHeadError
from cencomm.verification.tree_heads import (
    audit_key_from_json,
    check_extends,
    check_head_signature,
    needs_proof,
    tree_head_from_json,
)

KEY = Ed25519PrivateKey.generate()
KID = jwk_thumbprint(raw_public_key(KEY.public_key()))
LEAVES = MemorySubtreeSource([leaf_hash(str(n).encode()) for n in range(16)])
AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def head(size: int, *, root: bytes | None = None, stamp: datetime = AT) -> TreeHead:
    root = range_hash(LEAVES, 0, size) if root is None else root
    body = checkpoint_body("cencomm.test", size, root, int(stamp.timestamp()))
    return TreeHead(size, root, stamp, body, KID, KEY.sign(body.encode("utf-8")))


def keys() -> Mapping[str, Ed25519PublicKey]:
    document = {"kid": KID, "public_key": b64url_encode(raw_public_key(KEY.public_key()))}
    return audit_key_from_json(document).verifier()


def test_a_tree_head_survives_its_json_form_and_verifies() -> None:
    signed = head(5)
    again = tree_head_from_json(signed.as_json(b64url_encode(signed.signature)))
    assert again == signed
    check_head_signature(again, keys())


def test_a_head_that_says_another_thing_than_its_checkpoint_is_refused() -> None:
    signed = head(5)
    with pytest.raises(TreeHeadError, match="size and root"):
        check_head_signature(
            TreeHead(6, signed.root_hash, AT, signed.checkpoint, KID, signed.signature),
            keys(),
        )
    with pytest.raises(TreeHeadError, match="timestamp"):
        check_head_signature(
            TreeHead(5, signed.root_hash, AT.replace(second=9), signed.checkpoint, KID, b""),
            keys(),
        )
    with pytest.raises(TreeHeadError, match="signature does not verify"):
        check_head_signature(
            TreeHead(5, signed.root_hash, AT, signed.checkpoint, KID, bytes(64)),
            keys(),
        )
    with pytest.raises(TreeHeadError, match="unknown audit key"):
        check_head_signature(signed, {})


def test_a_head_extends_an_earlier_one_only_with_a_proof() -> None:
    old, new = head(5), head(13)
    assert needs_proof(old, new) and not needs_proof(head(0), new) and not needs_proof(old, old)
    check_extends(old, new, consistency_proof(LEAVES, 5, 13))
    check_extends(head(0), new, [])
    check_extends(old, head(5), [])
    with pytest.raises(NotExtended) as caught:
        check_extends(old, new, [])
    assert caught.value.reason == "unproven"
    with pytest.raises(NotExtended) as caught:
        check_extends(new, old, [])
    assert caught.value.reason == "smaller"
    with pytest.raises(NotExtended) as caught:
        check_extends(old, head(5, root=bytes(32)), [])
    assert caught.value.reason == "root"

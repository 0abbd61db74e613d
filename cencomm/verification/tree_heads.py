"""Signed audit tree heads checked offline: their JSON form, the audit key, the checkpoint and its
signature, and whether one head extends another (RFC 9162 consistency).

Shared by the server's `cencomm audit verify`, the evidence-bundle verifier and the client's
watch on the server's log.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cencomm.crypto.keys import b64url_decode, jwk_thumbprint
from cencomm.crypto.merkle import verify_consistency
from cencomm.domain.audit_tree import TreeHead, parse_checkpoint
from cencomm.verification.errors import NotExtended, TreeHeadError


@dataclass(frozen=True, slots=True)
class AuditKey:
    """An audit public key, as `GET /audit/key` answers it."""

    kid: str
    public_key: bytes

    def verifier(self) -> Mapping[str, Ed25519PublicKey]:
        """The key by kid, as `check_head_signature` takes keys."""
        return {self.kid: Ed25519PublicKey.from_public_bytes(self.public_key)}


def audit_key_from_json(document: Any) -> AuditKey:
    """`{kid, public_key}` as `GET /audit/key` answers; the key must hash to the kid.

    Raises:
        ValueError: any other shape.
    """
    if not isinstance(document, dict) or not isinstance(document.get("kid"), str):
        raise ValueError("not {kid, public_key}")
    raw = b64url_decode(str(document.get("public_key", "")))
    if len(raw) != 32 or jwk_thumbprint(raw) != document["kid"]:
        raise ValueError("the public key does not hash to its kid")
    return AuditKey(document["kid"], raw)


def tree_head_from_json(document: Any) -> TreeHead:
    """A tree head in the form `GET /audit/tree-head` answers (saved by hand, or a file line).

    Raises:
        ValueError: not that JSON shape.
    """
    try:
        return TreeHead(
            tree_size=int(document["tree_size"]),
            root_hash=bytes.fromhex(document["root_hash"]),
            timestamp=datetime.fromisoformat(document["timestamp"].replace("Z", "+00:00")),
            checkpoint=str(document["checkpoint"]),
            kid=str(document["kid"]),
            signature=b64url_decode(str(document["signature"])),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"not a saved tree head ({exc})") from None


def check_checkpoint(head: TreeHead, name: str | None = None) -> None:
    """The head's checkpoint says its size, root and timestamp.

    Raises:
        TreeHeadError: naming the tree head (as `name`, when given).
    """
    name = name or f"tree head {head.tree_size}"
    try:
        body = parse_checkpoint(head.checkpoint)
    except ValueError as exc:
        raise TreeHeadError(f"{name}: malformed checkpoint ({exc})") from None
    if (body.tree_size, body.root_hash) != (head.tree_size, head.root_hash):
        raise TreeHeadError(f"{name}: checkpoint does not match its size and root")
    if body.timestamp != int(head.timestamp.timestamp()):
        raise TreeHeadError(f"{name}: checkpoint does not match its timestamp")


def check_head_signature(
    head: TreeHead, keys: Mapping[str, Ed25519PublicKey], name: str | None = None
) -> None:
    """The checkpoint says what the head says, and one of the audit `keys` (by kid) signed it.

    Raises:
        TreeHeadError: naming the tree head (as `name`, when given).
    """
    name = name or f"tree head {head.tree_size}"
    check_checkpoint(head, name)
    key = keys.get(head.kid)
    if key is None:
        raise TreeHeadError(f"{name}: signed by unknown audit key {head.kid}")
    try:
        key.verify(head.signature, head.checkpoint.encode("utf-8"))
    except InvalidSignature:
        raise TreeHeadError(f"{name}: signature does not verify") from None


def needs_proof(old: TreeHead, new: TreeHead) -> bool:
    """Whether `check_extends(old, new, proof)` needs a consistency proof from the server."""
    return 0 < old.tree_size < new.tree_size


def check_extends(old: TreeHead, new: TreeHead, proof: Sequence[bytes]) -> None:
    """`new` extends `old`: the same root at the same size, or for a larger size an RFC 9162
    consistency proof from `old` to `new` (none needed from the empty tree).

    Raises:
        NotExtended: with the reason.
    """
    if new.tree_size < old.tree_size:
        raise NotExtended(
            "smaller", f"tree head {new.tree_size} covers fewer entries than {old.tree_size}"
        )
    if new.tree_size == old.tree_size:
        if not hmac.compare_digest(new.root_hash, old.root_hash):
            raise NotExtended("root", f"tree head {new.tree_size} has another root")
        return
    if not verify_consistency(
        old.tree_size, new.tree_size, old.root_hash, new.root_hash, list(proof)
    ):
        raise NotExtended(
            "unproven", f"tree head {new.tree_size} is not proven consistent with {old.tree_size}"
        )

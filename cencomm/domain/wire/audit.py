"""The audit log: entries, signed tree heads, the audit key and Merkle proofs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cencomm.domain.audit import AuditEntry
from cencomm.domain.audit_tree import TreeHead
from cencomm.domain.wire.common import b64url


def audit_entry_json(entry: AuditEntry) -> dict[str, Any]:
    """An entry: exactly the object whose canonical JSON is its Merkle leaf."""
    return entry.as_json()


def audit_entry_with_leaf_json(entry: AuditEntry) -> dict[str, Any]:
    """`GET /audit/entries/{index}`: the entry and its exact leaf string."""
    return {"entry": entry.as_json(), "leaf": entry.leaf()}


def tree_head_json(head: TreeHead) -> dict[str, Any]:
    """A signed tree head (`GET /audit/tree-head`; also the evidence bundle's and the
    checkpoint file's), its signature in base64url."""
    return head.as_json(b64url(head.signature))


def audit_key_json(kid: str, public_raw: bytes) -> dict[str, Any]:
    return {"kid": kid, "public_key": b64url(public_raw)}


def inclusion_proof_json(leaf_hash: bytes, audit_path: Sequence[bytes]) -> dict[str, Any]:
    return {"leaf_hash": leaf_hash.hex(), "audit_path": [h.hex() for h in audit_path]}


def consistency_proof_json(proof: Sequence[bytes]) -> dict[str, Any]:
    return {"proof": [h.hex() for h in proof]}

"""`CencommClient` calls for the audit log: entries, Merkle proofs, and an entry proven
against a checked tree head."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cencomm.client.errors import ClientError, ProblemError
from cencomm.client.session import BaseClient
from cencomm.crypto.merkle import leaf_hash, verify_inclusion
from cencomm.domain.audit import canonical_json
from cencomm.verification.errors import VerificationError


@dataclass(frozen=True, slots=True)
class ProvenEntry:
    """An audit entry shown to be in the log a signed, checked tree head covers.

    Attributes:
        index: the entry's leaf index.
        tree_size: the size of the tree head it was proven against.
        root_hash: that head's root (lowercase hex).
        leaf_hash: the entry's RFC 9162 leaf hash (lowercase hex).
        entry: the entry itself, its leaf recomputed here; None when the caller may not read
            entries (only admins and moderators may): then the proof covers the leaf hash the
            server gave.
    """

    index: int
    tree_size: int
    root_hash: str
    leaf_hash: str
    entry: dict[str, Any] | None


def _hash(value: Any, what: str) -> bytes:
    try:
        raw = bytes.fromhex(str(value))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise VerificationError("proof", f"{what} is not a SHA-256 hash")
    return raw


class AuditApi(BaseClient):
    """The audit log (API.md "Audit log"); mixed into `CencommClient`, which checks tree heads."""

    if TYPE_CHECKING:  # provided by CencommClient, which checks every head it sees

        async def tree_head(self) -> dict[str, Any]: ...

    async def audit_entry(self, index: int) -> dict[str, Any]:
        """`GET /audit/entries/{index}`: `{entry, leaf}` (admins and moderators).

        Raises:
            ProblemError: 403 for other roles; 404 no such entry.
        """
        result: dict[str, Any] = await self.request_json("GET", f"/audit/entries/{int(index)}")
        return result

    async def inclusion_proof(self, index: int, tree_size: int) -> dict[str, Any]:
        """`GET /audit/proof/inclusion`: `{leaf_hash, audit_path}` of entry `index` in the tree
        of `tree_size` entries (any user).

        Raises:
            ProblemError: 404 when `index` or `tree_size` is past the log; 422 bad numbers.
        """
        result: dict[str, Any] = await self.request_json(
            "GET", "/audit/proof/inclusion", params={"index": index, "tree_size": tree_size}
        )
        return result

    async def consistency_proof(self, first: int, second: int) -> dict[str, Any]:
        """`GET /audit/proof/consistency`: `{proof}` that the tree of `second` entries extends
        the tree of `first` (any user).

        Raises:
            ProblemError: 404 a size past the log; 422 bad numbers.
        """
        result: dict[str, Any] = await self.request_json(
            "GET", "/audit/proof/consistency", params={"first": first, "second": second}
        )
        return result

    async def prove_entry(
        self, index: int, tree_head: Mapping[str, Any] | None = None
    ) -> ProvenEntry:
        """Prove audit entry `index` is in the log: its inclusion proof is checked here,
        against `tree_head` (default: the server's newest, checked by `tree_head()`), and when
        the caller may read entries, its leaf is recomputed from the entry.

        Args:
            index: the entry's index (0, 1, 2 ...).
            tree_head: a checked tree head (`GET /audit/tree-head` answer) to prove against.

        Returns:
            The proven entry.

        Raises:
            ClientError: `index` is not covered by the tree head yet (a head is signed within
                about a second of an entry) or is negative.
            VerificationError: the entry does not match its leaf, or the proof does not lead
                to the tree head's root.
            AuditLogError: the server's newest tree head failed its checks.
            ProblemError: the server refused (404 an index past the log).
        """
        if index < 0:
            raise ClientError("an audit entry index is 0 or more")
        head = dict(tree_head) if tree_head is not None else await self.tree_head()
        size = int(head["tree_size"])
        if index >= size:
            raise ClientError(
                f"audit entry {index} is not covered by the newest signed tree head "
                f"(size {size}) yet: try again in a second"
            )
        root = _hash(head["root_hash"], "the tree head's root")
        entry: dict[str, Any] | None = None
        expected: bytes | None = None
        try:
            found = await self.audit_entry(index)
        except ProblemError as exc:
            if exc.status != 403:
                raise
        else:
            entry = dict(found["entry"])
            leaf = str(found["leaf"])
            if canonical_json(entry) != leaf:
                raise VerificationError("leaf", f"entry {index} is not its leaf string")
            expected = leaf_hash(leaf.encode("utf-8"))
        proof = await self.inclusion_proof(index, size)
        given = _hash(proof.get("leaf_hash"), "the proof's leaf hash")
        if expected is not None and not hmac.compare_digest(expected, given):
            raise VerificationError("leaf", f"the proof is for another leaf than entry {index}")
        path = [_hash(item, "a proof hash") for item in proof.get("audit_path") or []]
        if not verify_inclusion(given, index, size, path, root):
            raise VerificationError(
                "inclusion",
                f"the proof does not lead from entry {index} to the root of tree head {size}",
            )
        return ProvenEntry(index, size, root.hex(), given.hex(), entry)

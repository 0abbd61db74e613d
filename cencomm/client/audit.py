"""The client's watch on the server's audit log: a server that rolls its log back is caught.

The client remembers the newest signed tree head it has seen (the caller keeps it, e.g. in
`client.json`). Every head it sees after that must be signed by the server's audit key and
extend the remembered one: the same root at the same size, and for a larger size an RFC 9162
consistency proof (`GET /audit/proof/consistency`) from the remembered head to it. A smaller
size, another root, a missing or failing proof raise `AuditLogError`, and the remembered head
stays as it was. The first head seen is trusted as it comes (trust on first use).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cencomm.client.errors import AuditLogError, ProblemError
from cencomm.crypto.keys import b64url_decode
from cencomm.crypto.merkle import verify_consistency
from cencomm.domain.audit_tree import parse_checkpoint

TreeHeadListener = Callable[[dict[str, Any]], None]


class _Api(Protocol):
    async def request_json(
        self, method: str, path: str, *, params: Mapping[str, str | int] | None = None
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class _Head:
    tree_size: int
    root_hash: bytes
    checkpoint: str
    kid: str
    signature: bytes


def _parse(document: Any, what: str) -> _Head:
    try:
        head = _Head(
            tree_size=int(document["tree_size"]),
            root_hash=bytes.fromhex(str(document["root_hash"])),
            checkpoint=str(document["checkpoint"]),
            kid=str(document["kid"]),
            signature=b64url_decode(str(document["signature"])),
        )
        body = parse_checkpoint(head.checkpoint)
    except (KeyError, TypeError, ValueError) as exc:
        raise AuditLogError(f"{what} is not a tree head ({exc})") from None
    if (body.tree_size, body.root_hash) != (head.tree_size, head.root_hash):
        raise AuditLogError(f"{what}: its checkpoint does not say its size and root")
    return head


class TreeHeadWatch:
    """The newest tree head seen, and the checks every later one must pass.

    Args:
        newest: a head remembered from an earlier run (the JSON of `GET /audit/tree-head`).
        on_change: called with each newer head once it passed, e.g. to save it.
    """

    def __init__(
        self, newest: Mapping[str, Any] | None = None, on_change: TreeHeadListener | None = None
    ) -> None:
        self._newest = dict(newest) if newest is not None else None
        self._on_change = on_change
        self._key: Mapping[str, Any] | None = None

    @property
    def newest(self) -> dict[str, Any] | None:
        return dict(self._newest) if self._newest is not None else None

    async def check(self, api: _Api) -> dict[str, Any]:
        """Fetch the server's newest tree head, check it, remember it; returns it.

        Raises:
            AuditLogError: a bad signature, or a head that does not extend the remembered one.
            ProblemError, TransportError: the server could not be asked.
        """
        document = await api.request_json("GET", "/audit/tree-head")
        head = _parse(document, "the server's tree head")
        await self._check_signature(api, head)
        if self._newest is not None:
            await self._check_extends(api, _parse(self._newest, "the remembered tree head"), head)
            if head.tree_size == int(self._newest["tree_size"]):
                return dict(document)
        self._newest = dict(document)
        if self._on_change is not None:
            self._on_change(dict(document))
        return dict(document)

    async def _check_signature(self, api: _Api, head: _Head) -> None:
        if self._key is None or self._key.get("kid") != head.kid:
            self._key = await api.request_json("GET", "/audit/key")  # once, or after a rotation
        if self._key.get("kid") != head.kid:
            raise AuditLogError(f"tree head {head.tree_size} is signed by unknown key {head.kid}")
        try:
            key = Ed25519PublicKey.from_public_bytes(b64url_decode(str(self._key["public_key"])))
            key.verify(head.signature, head.checkpoint.encode("utf-8"))
        except (KeyError, ValueError, InvalidSignature):
            raise AuditLogError(
                f"tree head {head.tree_size}: the signature does not verify with the audit key"
            ) from None

    async def _check_extends(self, api: _Api, old: _Head, new: _Head) -> None:
        seen = f"the tree head of size {old.tree_size} this client saw before"
        if new.tree_size < old.tree_size:
            raise AuditLogError(
                f"the server's audit log was rolled back: its newest tree head covers "
                f"{new.tree_size} entries, fewer than {seen}"
            )
        if new.tree_size == old.tree_size:
            if new.root_hash != old.root_hash:
                raise AuditLogError(
                    f"the server's audit log was rewritten: its root differs from {seen}"
                )
            return
        if old.tree_size == 0:
            return  # the empty log is a prefix of every log
        try:
            answer = await api.request_json(
                "GET",
                "/audit/proof/consistency",
                params={"first": old.tree_size, "second": new.tree_size},
            )
        except ProblemError as exc:
            if exc.status == 404:
                raise AuditLogError(
                    f"the server's audit log was rolled back: it no longer has {seen} ({exc})"
                ) from None
            raise
        try:
            proof = [bytes.fromhex(str(h)) for h in answer["proof"]]
        except (KeyError, TypeError, ValueError):
            proof = []
        if not verify_consistency(
            old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof
        ):
            raise AuditLogError(
                f"the server's audit log was rewritten: tree head {new.tree_size} is not "
                f"consistent with {seen}"
            )

"""The client's watch on the server's audit log: a server that rolls its log back is caught.

The client remembers the newest signed tree head it has seen (the caller keeps it, e.g. in
`client.json`). Every head it sees after that must be signed by the server's audit key and
extend the remembered one: the same root at the same size, and for a larger size an RFC 9162
consistency proof (`GET /audit/proof/consistency`) from the remembered head to it. A smaller
size, another root, a missing or failing proof raise `AuditLogError`, and the remembered head
stays as it was. The first head seen is trusted as it comes (trust on first use).

With witnesses configured (`WitnessPolicy`), a head is accepted only as a C2SP checkpoint note
(`GET /audit/checkpoint`) signed by the audit key and cosigned by a quorum of those witnesses
(`cencomm.verification.cosigned`); too few cosignatures raise `AuditLogError` saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from cencomm.client.errors import AuditLogError, ProblemError
from cencomm.crypto.keys import b64url_encode
from cencomm.domain.audit_tree import TreeHead
from cencomm.verification.cosigned import CheckpointError, WitnessPolicy, check_checkpoint_note
from cencomm.verification.errors import NotExtended, TreeHeadError
from cencomm.verification.tree_heads import (
    AuditKey,
    audit_key_from_json,
    check_checkpoint,
    check_extends,
    check_head_signature,
    needs_proof,
    tree_head_from_json,
)

TreeHeadListener = Callable[[dict[str, Any]], None]


@runtime_checkable
class _Api(Protocol):
    async def request_json(
        self, method: str, path: str, *, params: Mapping[str, str | int] | None = None
    ) -> Any: ...


@runtime_checkable
class _NoteApi(_Api, Protocol):
    """What checking witnessed checkpoints needs besides JSON: a text answer's bytes (`.raw`)."""

    async def request_bytes(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        accept: str = "*/*",
    ) -> Any: ...


def _parse(document: Any, what: str) -> TreeHead:
    try:
        head = tree_head_from_json(document)
        check_checkpoint(head, what)
    except TreeHeadError as exc:
        raise AuditLogError(str(exc)) from None
    except ValueError as exc:
        raise AuditLogError(f"{what} is not a tree head ({exc})") from None
    return head


class TreeHeadWatch:
    """The newest tree head seen, and the checks every later one must pass.

    Args:
        newest: a head remembered from an earlier run (the JSON of `GET /audit/tree-head`).
        on_change: called with each newer head once it passed, e.g. to save it.
    """

    def __init__(
        self,
        newest: Mapping[str, Any] | None = None,
        on_change: TreeHeadListener | None = None,
        witnesses: WitnessPolicy | None = None,
    ) -> None:
        self._newest = dict(newest) if newest is not None else None
        self._on_change = on_change
        self._key: AuditKey | None = None
        self._witnesses = witnesses

    @property
    def newest(self) -> dict[str, Any] | None:
        return dict(self._newest) if self._newest is not None else None

    async def check(self, api: _Api) -> dict[str, Any]:
        """Fetch the server's newest tree head, check it, remember it; returns it.

        Raises:
            AuditLogError: a bad signature, or a head that does not extend the remembered one.
            ProblemError, TransportError: the server could not be asked.
        """
        if self._witnesses is not None:
            if not isinstance(api, _NoteApi):
                raise TypeError("checking witnessed checkpoints needs request_bytes")
            document = await self._witnessed(api)
        else:
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

    async def _witnessed(self, api: _NoteApi) -> dict[str, Any]:
        """The newest witnessed checkpoint, its signatures checked, as a tree-head document
        (with `cosigned_by`, the witnesses whose cosignatures verified)."""
        assert self._witnesses is not None  # noqa: S101 - only called with witnesses
        reply = await api.request_bytes("GET", "/audit/checkpoint", accept="text/plain")
        if self._key is None:
            await self._load_key(api)
        assert self._key is not None  # noqa: S101 - _load_key sets it or raises
        try:
            witnessed = check_checkpoint_note(
                reply.raw, self._key.public_key, self._witnesses, "the server's checkpoint"
            )
        except CheckpointError as exc:
            raise AuditLogError(str(exc)) from None
        document = witnessed.head.as_json(b64url_encode(witnessed.head.signature))
        document["kid"] = self._key.kid
        document["cosigned_by"] = list(witnessed.cosigned_by)
        return document

    async def _load_key(self, api: _Api) -> None:
        document = await api.request_json("GET", "/audit/key")  # once, or after a rotation
        try:
            self._key = audit_key_from_json(document)
        except ValueError as exc:
            raise AuditLogError(f"the server's audit key is not valid ({exc})") from None

    async def _check_signature(self, api: _Api, head: TreeHead) -> None:
        if self._key is None or self._key.kid != head.kid:
            document = await api.request_json("GET", "/audit/key")  # once, or after a rotation
            try:
                self._key = audit_key_from_json(document)
            except ValueError as exc:
                raise AuditLogError(f"the server's audit key is not valid ({exc})") from None
        try:
            check_head_signature(head, self._key.verifier())
        except TreeHeadError as exc:
            raise AuditLogError(str(exc)) from None

    async def _check_extends(self, api: _Api, old: TreeHead, new: TreeHead) -> None:
        seen = f"the tree head of size {old.tree_size} this client saw before"
        proof: list[bytes] = []
        if needs_proof(old, new):
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
        try:
            check_extends(old, new, proof)
        except NotExtended as exc:
            if exc.reason == "smaller":
                raise AuditLogError(
                    f"the server's audit log was rolled back: its newest tree head covers "
                    f"{new.tree_size} entries, fewer than {seen}"
                ) from None
            if exc.reason == "root":
                raise AuditLogError(
                    f"the server's audit log was rewritten: its root differs from {seen}"
                ) from None
            raise AuditLogError(
                f"the server's audit log was rewritten: tree head {new.tree_size} is not "
                f"consistent with {seen}"
            ) from None

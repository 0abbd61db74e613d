"""Organisation seals: seal keys, seal holders, and countersigning a message with a seal key."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

from cencomm.client.errors import ClientError
from cencomm.client.keystore import LocalKey
from cencomm.client.paging import segment
from cencomm.client.session import BaseClient
from cencomm.crypto.jws import sign_compact


def countersignature_payload(
    message: dict[str, Any],
    signer_id: str,
    *,
    cid: str | None = None,
    iat: int | None = None,
) -> dict[str, Any]:
    """The claims of a countersignature of `message` (a message object, with its `jws`), by
    `signer_id` for the message sender's organisation.

    Raises:
        ClientError: the message shows no JWS (hidden): there is nothing to countersign.
    """
    jws = message.get("jws")
    if not isinstance(jws, str):
        raise ClientError("the message shows no JWS (it is hidden): there is nothing to seal")
    return {
        "v": 1,
        "typ": "countersignature",
        "cid": cid or str(uuid.uuid4()),
        "sub": signer_id,
        "iat": int(time.time()) if iat is None else iat,
        "org": message["sender"]["organization_id"],
        "msg": message["id"],
        "sha256": hashlib.sha256(jws.encode("ascii")).hexdigest(),
    }


class SealsApi(BaseClient):
    async def register_organization_key(
        self, organization_id: str, key: LocalKey, label: str | None = None
    ) -> dict[str, Any]:
        """`POST /organizations/{id}/keys`: register `key` as a seal key of the organisation
        (admins and its seal holders)."""
        body: dict[str, Any] = {"public_key": key.public_key}
        if label is not None:
            body["label"] = label
        path = f"/organizations/{segment(organization_id)}/keys"
        result: dict[str, Any] = await self.request_json("POST", path, json_body=body)
        return result

    async def list_organization_keys(self, organization_id: str) -> list[dict[str, Any]]:
        """`GET /organizations/{id}/keys`: every seal key, revoked ones included."""
        body = await self.request_json("GET", f"/organizations/{segment(organization_id)}/keys")
        return list(body["keys"])

    async def revoke_organization_key(self, organization_id: str, kid: str) -> None:
        """`DELETE /organizations/{id}/keys/{kid}`."""
        path = f"/organizations/{segment(organization_id)}/keys/{segment(kid)}"
        await self.request_json("DELETE", path)

    async def list_seal_holders(self, organization_id: str) -> list[dict[str, Any]]:
        """`GET /organizations/{id}/seal-holders` (admins)."""
        path = f"/organizations/{segment(organization_id)}/seal-holders"
        body = await self.request_json("GET", path)
        return list(body["seal_holders"])

    async def designate_seal_holder(self, organization_id: str, user_id: str) -> dict[str, Any]:
        """`PUT /organizations/{id}/seal-holders/{user_id}` (admins)."""
        path = f"/organizations/{segment(organization_id)}/seal-holders/{segment(user_id)}"
        result: dict[str, Any] = await self.request_json("PUT", path)
        return result

    async def remove_seal_holder(self, organization_id: str, user_id: str) -> None:
        """`DELETE /organizations/{id}/seal-holders/{user_id}` (admins)."""
        path = f"/organizations/{segment(organization_id)}/seal-holders/{segment(user_id)}"
        await self.request_json("DELETE", path)

    async def countersign(
        self, message_id: str, seal_key: LocalKey, *, cid: str | None = None
    ) -> dict[str, Any]:
        """Countersign a message with the organisation's seal key: the message is read (its
        JWS hashed as it is stored), the claims signed here, then `POST
        /messages/{id}/countersign`. A repeat with the same `cid` and JWS answers 200."""
        message: dict[str, Any] = await self.request_json("GET", f"/messages/{segment(message_id)}")
        payload = countersignature_payload(message, await self.user_id(), cid=cid)
        jws = sign_compact(payload, seal_key.private_key, seal_key.kid)
        # Safe to send again: the same cid and JWS is answered with the original (200).
        result: dict[str, Any] = await self.request_json(
            "POST",
            f"/messages/{segment(message_id)}/countersign",
            json_body={"jws": jws},
            retry=self.retry,
        )
        return result

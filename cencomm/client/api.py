"""`CencommClient`: keys, signed posting with safe retries, timelines, search and verification."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from cencomm.client.api_alerts import AlertsApi
from cencomm.client.api_analytics import AnalyticsApi
from cencomm.client.api_attachments import AttachmentsApi
from cencomm.client.api_audit import AuditApi
from cencomm.client.api_correlations import CorrelationsApi
from cencomm.client.api_exports import ExportsApi
from cencomm.client.api_groups import GroupsApi
from cencomm.client.api_messages import MessagesApi
from cencomm.client.api_seals import SealsApi
from cencomm.client.audit import TreeHeadListener, TreeHeadWatch
from cencomm.client.envelopes import (
    DEFAULT_HC,
    PreparedEnvelope,
    build_payload,
    notice_body,
    sign_envelope,
    text_body,
)
from cencomm.client.errors import ClientError
from cencomm.client.keystore import LocalKey
from cencomm.client.paging import pages, segment
from cencomm.client.session import DEFAULT_TIMEOUT, BaseClient, RetryPolicy, TokenListener
from cencomm.client.tokens import TokenSet
from cencomm.verification.cosigned import WitnessPolicy
from cencomm.verification.messages import VerifiedMessage, verify_message

DEFAULT_PAGE = 100
MAX_PAGE = 500
# A group id in its canonical form (36 characters, so never a code, which has at most 32),
# and a group code as the server normalises it (upper case).
GROUP_ID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
GROUP_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")


@dataclass(frozen=True, slots=True)
class PostedMessage:
    """The server's answer to a post, with what was sent.

    Attributes:
        id: the message id.
        seq: its place in the group's timeline.
        created_at: RFC 3339 UTC.
        cid: the client id it was sent with.
        replayed: True when the server answered 200: it already had this exact envelope
            (an earlier try got through), so nothing new was stored.
    """

    id: str
    seq: int
    created_at: str
    cid: str
    replayed: bool


class CencommClient(
    GroupsApi,
    MessagesApi,
    AttachmentsApi,
    AlertsApi,
    AnalyticsApi,
    AuditApi,
    ExportsApi,
    CorrelationsApi,
    SealsApi,
    BaseClient,
):
    """An async client for the cencomm API (see API.md).

    Example:
        async with CencommClient("https://cencomm.example") as api:
            await api.login("officer.fr", password)
            api.use_key(load_key_file(Path("~/.config/cencomm/signing-key.pem").expanduser()))
            posted = await api.post_text(group_id, "Container MSCU1234567 flagged")

    Args:
        base_url: the server root (`https://host`); a trailing `/api/v1` is accepted.
        session: an aiohttp session to use (left open on exit); else the client opens one.
        timeout: total seconds per HTTP attempt.
        key: the signing key for posts (also settable with `use_key`).
        tokens: a token pair saved earlier (skip `login`).
        retry: the retry policy for reads and posts (default `RetryPolicy()`).
        on_tokens: called with every new token pair (and None on logout), e.g. to save it.
        clock: Unix time source, for token expiry.
        tree_head: the newest audit tree head seen before (saved from `on_tree_head`): every
            head `tree_head()` sees must extend it.
        on_tree_head: called with each newer audit tree head once it passed, e.g. to save it.
        device_token: the `device_token` of an earlier login of the same user (see
            `device_token`): sent with `login`, so other people's failures do not refuse it.
        witnesses: accept a tree head only as a checkpoint (`GET /audit/checkpoint`) that a
            quorum of these witnesses cosigned (`cencomm.verification.cosigned`).
    """

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        key: LocalKey | None = None,
        tokens: TokenSet | None = None,
        retry: RetryPolicy | None = None,
        on_tokens: TokenListener | None = None,
        clock: Callable[[], float] = time.time,
        tree_head: Mapping[str, Any] | None = None,
        on_tree_head: TreeHeadListener | None = None,
        device_token: str | None = None,
        witnesses: WitnessPolicy | None = None,
    ) -> None:
        super().__init__(
            base_url,
            session=session,
            timeout=timeout,
            tokens=tokens,
            retry=retry,
            on_tokens=on_tokens,
            clock=clock,
            device_token=device_token,
        )
        self._key = key
        self._audit_watch = TreeHeadWatch(tree_head, on_tree_head, witnesses)

    async def __aenter__(self) -> CencommClient:
        await super().__aenter__()
        return self

    # -- keys ------------------------------------------------------------------------------

    @property
    def key(self) -> LocalKey | None:
        return self._key

    def use_key(self, key: LocalKey) -> None:
        """Sign later posts with `key` (it must be registered and active on the server)."""
        self._key = key

    def _signing_key(self) -> LocalKey:
        if self._key is None:
            raise ClientError("no signing key: call use_key() with a registered key")
        return self._key

    async def register_key(
        self, label: str | None = None, *, key: LocalKey | None = None
    ) -> dict[str, Any]:
        """`POST /keys` with the public half of `key` (default: the client's key).

        Returns:
            `{kid, public_key, label, created_at, revoked_at}`.

        Raises:
            ProblemError: 409 when the key is registered already.
        """
        chosen = key or self._signing_key()
        body: dict[str, Any] = {"public_key": chosen.public_key}
        if label is not None:
            body["label"] = label
        result: dict[str, Any] = await self.request_json("POST", "/keys", json_body=body)
        return result

    async def list_keys(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """`GET /users/{id}/keys`: every key of the user (default: oneself), revoked included."""
        uid = user_id or await self.user_id()
        body = await self.request_json("GET", f"/users/{segment(uid)}/keys")
        return list(body["keys"])

    async def revoke_key(self, kid: str) -> None:
        """`DELETE /keys/{kid}`: revoke a key (one's own; admins any)."""
        await self.request_json("DELETE", f"/keys/{segment(kid)}")

    # -- posting ---------------------------------------------------------------------------

    async def prepare_envelope(
        self,
        group_id: str,
        typ: str,
        body: Mapping[str, Any],
        *,
        hc: str = DEFAULT_HC,
        att: Sequence[Mapping[str, Any]] | None = None,
        reply_to: str | None = None,
        cid: str | None = None,
        iat: int | None = None,
    ) -> PreparedEnvelope:
        """Build and sign a message envelope for `group_id` without sending it.

        `cid` defaults to a fresh UUID4; a system that derives it from its own record's key
        (see docs/client.md) makes every later send of that record a harmless repeat.
        `iat` defaults to now."""
        payload = build_payload(
            typ=typ,
            sub=await self.user_id(),
            body=body,
            hc=hc,
            grp=group_id,
            att=att,
            reply_to=reply_to,
            cid=cid,
            iat=iat,
        )
        return sign_envelope(payload, self._signing_key())

    async def post_prepared(self, group_id: str, envelope: PreparedEnvelope) -> PostedMessage:
        """`POST /groups/{id}/messages {jws}`, retried on network errors, 5xx and 429.

        Every try sends the same JWS (same `cid`), so a try whose answer was lost is answered
        200 with the original message on the next one: never a duplicate. The retries are
        bounded (well inside the server's 300-second `iat` window).

        Raises:
            ProblemError: the server refused it (422 naming the failed check, 404, 403, 409).
            TransportError: still unreachable after the allowed tries.
        """
        reply = await self._request(
            "POST",
            f"/groups/{segment(group_id)}/messages",
            json_body={"jws": envelope.jws},
            retry=self.retry,
        )
        body = reply.body
        return PostedMessage(
            id=str(body["id"]),
            seq=int(body["seq"]),
            created_at=str(body["created_at"]),
            cid=envelope.cid,
            replayed=reply.status == 200,
        )

    async def post_envelope(
        self,
        group_id: str,
        typ: str,
        body: Mapping[str, Any],
        *,
        hc: str = DEFAULT_HC,
        att: Sequence[Mapping[str, Any]] | None = None,
        reply_to: str | None = None,
    ) -> PostedMessage:
        """Sign a `typ` envelope with `body` and post it to `group_id` (see `post_prepared`)."""
        envelope = await self.prepare_envelope(
            group_id, typ, body, hc=hc, att=att, reply_to=reply_to
        )
        return await self.post_prepared(group_id, envelope)

    async def post_text(
        self,
        group_id: str,
        text: str,
        hc: str = DEFAULT_HC,
        reply_to: str | None = None,
        att: Sequence[Mapping[str, Any]] | None = None,
    ) -> PostedMessage:
        """Post a `text` message."""
        return await self.post_envelope(
            group_id, "text", text_body(text), hc=hc, att=att, reply_to=reply_to
        )

    async def post_notice(
        self,
        group_id: str,
        title: str,
        text: str,
        hc: str = DEFAULT_HC,
        reply_to: str | None = None,
        att: Sequence[Mapping[str, Any]] | None = None,
    ) -> PostedMessage:
        """Post a `notice` (a titled announcement)."""
        return await self.post_envelope(
            group_id, "notice", notice_body(title, text), hc=hc, att=att, reply_to=reply_to
        )

    async def post_seizure(
        self,
        group_id: str,
        report: Mapping[str, Any],
        hc: str = DEFAULT_HC,
        reply_to: str | None = None,
        att: Sequence[Mapping[str, Any]] | None = None,
    ) -> PostedMessage:
        """Post a `seizure` report (its fields per API.md "Seizure reports and analytics")."""
        return await self.post_envelope(
            group_id, "seizure", report, hc=hc, att=att, reply_to=reply_to
        )

    async def send_alert(
        self,
        to: Mapping[str, Any],
        title: str,
        text: str,
        priority: str,
        ack_required: bool,
        respond_by: int | None = None,
        expires_at: int | None = None,
        hc: str = DEFAULT_HC,
    ) -> dict[str, Any]:
        """The first form of `post_alert` (positional priority and acknowledgement); kept for
        the callers written against it."""
        return await self.post_alert(
            to,
            title,
            text,
            priority=priority,
            ack_required=ack_required,
            respond_by=respond_by,
            expires_at=expires_at,
            hc=hc,
        )

    # -- audit log -------------------------------------------------------------------------

    @property
    def newest_tree_head(self) -> dict[str, Any] | None:
        """The newest audit tree head this client has seen and checked (None: none yet)."""
        return self._audit_watch.newest

    async def tree_head(self) -> dict[str, Any]:
        """`GET /audit/tree-head`, checked: signed by the server's audit key (`GET /audit/key`)
        and, by an RFC 9162 consistency proof, extending the newest head seen before; then
        remembered (`on_tree_head`). See `cencomm.client.audit`.

        Raises:
            AuditLogError: the server rolled its audit log back or rewrote it, or the head is
                not validly signed; the remembered head is kept.
        """
        return await self._audit_watch.check(self)

    # -- groups ----------------------------------------------------------------------------

    def groups(self, limit: int = MAX_PAGE) -> AsyncIterator[dict[str, Any]]:
        """`GET /groups`: the caller's groups (admins and moderators: every group), all pages."""
        return pages(self, "/groups", "groups", limit=limit)

    async def resolve_group(self, name: str) -> str:
        """The id of the group `name` names: its id, or its code (`STOP-2020`, any case).

        A code is looked up among the groups the caller can see, so a group one is not in is
        as unknown as one that does not exist.

        Raises:
            ClientError: `name` is neither an id nor a code, or no visible group has the code.
        """
        text = name.strip()
        if GROUP_ID.match(text):
            return text.lower()
        code = text.upper()
        if not GROUP_CODE.match(code):
            raise ClientError(f"{name!r} is neither a group id nor a group code")
        async for group in self.groups():
            if group.get("code") == code:
                return str(group["id"])
        raise ClientError(f"no group with code {code} among the groups you can see")

    # -- reading ---------------------------------------------------------------------------

    async def timeline_page(
        self,
        group_id: str,
        *,
        after: int | None = None,
        before: int | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """One page of `GET /groups/{id}/messages`: `{messages: [ascending seq], next}`."""
        params: dict[str, str | int] = {}
        if after:
            params["after"] = after
        if before is not None:
            params["before"] = before
        if limit is not None:
            params["limit"] = limit
        page: dict[str, Any] = await self.request_json(
            "GET", f"/groups/{segment(group_id)}/messages", params=params
        )
        return page

    async def timeline(
        self, group_id: str, after: int = 0, limit: int = DEFAULT_PAGE
    ) -> AsyncIterator[dict[str, Any]]:
        """Every message of the group after seq `after`, ascending, following `next`."""
        cursor: int | None = after
        while True:
            page = await self.timeline_page(group_id, after=cursor, limit=limit)
            for message in page["messages"]:
                yield message
            following = page.get("next")
            if following is None or not page["messages"]:
                return
            cursor = int(following)

    async def get_message(self, message_id: str) -> dict[str, Any]:
        """`GET /messages/{id}`: one message object."""
        message: dict[str, Any] = await self.request_json("GET", f"/messages/{segment(message_id)}")
        return message

    def search(
        self, q: str, group_id: str | None = None, limit: int = DEFAULT_PAGE
    ) -> AsyncIterator[dict[str, Any]]:
        """`GET /search`: readable messages matching `q`, newest first, page after page
        (`search_messages` takes the filters too)."""
        return self.search_messages(q, group_id=group_id, limit=limit)

    # -- verification ----------------------------------------------------------------------

    async def verify_with_server(self, message: Mapping[str, Any]) -> VerifiedMessage:
        """Fetch the sender's published keys, then verify the message offline against them.

        Raises:
            VerificationError: naming the failed check (see `cencomm.client.verify`).
        """
        sender = message.get("sender")
        sender_id = sender.get("id") if isinstance(sender, Mapping) else None
        if not isinstance(sender_id, str):
            return verify_message(message, [])  # raises, naming the missing sender
        return verify_message(message, await self.list_keys(sender_id))

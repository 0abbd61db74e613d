"""`CencommClient` calls for alerts: raise (signed), list, read with the board, acknowledge."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cencomm.client.envelopes import DEFAULT_HC, alert_body, build_payload, sign_envelope
from cencomm.client.keystore import LocalKey
from cencomm.client.paging import pages, segment
from cencomm.client.session import BaseClient

ALERT_OUTCOMES: tuple[str, ...] = ("received", "controlled", "nil_find", "seized")


class AlertsApi(BaseClient):
    """Alerts (API.md "Alerts"); mixed into `CencommClient`, which holds the signing key."""

    if TYPE_CHECKING:  # provided by CencommClient, which holds the key

        def _signing_key(self) -> LocalKey: ...

    async def post_alert(
        self,
        to: Mapping[str, Any],
        title: str,
        text: str,
        *,
        priority: str = "routine",
        ack_required: bool = False,
        respond_by: int | None = None,
        expires_at: int | None = None,
        hc: str = DEFAULT_HC,
        reply_to: str | None = None,
        att: Sequence[Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Sign an alert with the client's key and `POST /alerts {jws}`; retried like posts
        (every try sends the same JWS, so the server never stores it twice).

        Args:
            to: the recipients, `{groups?: [ids], organizations?: [ids], regions?: [codes],
                all?: true}`.
            title: the alert's title.
            text: what the recipients read.
            priority: `flash`, `immediate` or `routine`.
            ack_required: whether recipients must acknowledge it.
            respond_by: Unix seconds by which organisations should answer (after now).
            expires_at: Unix seconds after which the alert is no longer active.
            hc: handling code; a `TLP:RED` alert may target only groups and organisations.
            reply_to: the id of a message the sender may read, which this alert answers.
            att: attachments already uploaded to one of the target groups.

        Returns:
            `{id, recipients, organizations}` (counts of users and of organisations).

        Raises:
            ValueError: an unknown priority or handling code.
            ClientError: no signing key (`use_key` first).
            ProblemError: refused: 422 naming every bad field, 403 a target the sender's role
                may not reach (observers may not raise alerts), 404 an unknown group.
            TransportError: still unreachable after the allowed tries.
        """
        body = alert_body(title, text, priority, ack_required, respond_by, expires_at)
        payload = build_payload(
            typ="alert",
            sub=await self.user_id(),
            body=body,
            hc=hc,
            to=to,
            att=att,
            reply_to=reply_to,
        )
        envelope = sign_envelope(payload, self._signing_key())
        result: dict[str, Any] = await self.request_json(
            "POST", "/alerts", json_body={"jws": envelope.jws}, retry=self.retry
        )
        return result

    async def alerts_page(
        self, *, active: bool = False, after: str | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        """One page of `GET /alerts` (alerts received or sent): `{alerts, next}`.

        Args:
            active: leave out expired alerts.
            after: the `next` cursor of the previous page.
            limit: page size, 1 to 500.
        """
        params: dict[str, str | int] = {}
        if active:
            params["active"] = "true"
        if after is not None:
            params["after"] = after
        if limit is not None:
            params["limit"] = limit
        page: dict[str, Any] = await self.request_json("GET", "/alerts", params=params)
        return page

    def alerts(self, *, active: bool = False, limit: int = 100) -> AsyncIterator[dict[str, Any]]:
        """Every alert the caller received or sent (newest first), following `next`.

        Args:
            active: leave out expired alerts.
            limit: page size, 1 to 500.
        """
        return pages(self, "/alerts", "alerts", {"active": "true"} if active else None, limit)

    async def get_alert(self, alert_id: str) -> dict[str, Any]:
        """`GET /alerts/{id}`: the alert with its `content`, `my_ack`, and `ack_summary` (the
        board: for the sender, moderators and admins; null for recipients).

        Raises:
            ProblemError: 404 when the alert does not exist or the caller may not read it.
        """
        alert: dict[str, Any] = await self.request_json("GET", f"/alerts/{segment(alert_id)}")
        return alert

    async def ack_alert(
        self,
        alert_id: str,
        outcome: str | None = None,
        *,
        note: str | None = None,
        seizure_message_id: str | None = None,
    ) -> dict[str, Any]:
        """`POST /alerts/{id}/ack`: acknowledge an alert, or move its outcome forward.

        Args:
            alert_id: the alert.
            outcome: `received` (the server's default), `controlled`, `nil_find` or `seized`.
            note: a few words for the sender.
            seizure_message_id: the seizure report (a message id) this alert led to.

        Returns:
            `{acknowledged_at, outcome}`.

        Raises:
            ProblemError: 404 not a recipient (or no such alert), 409 `outcome-step-back`,
                422 a bad field.
        """
        body: dict[str, Any] = {}
        if outcome is not None:
            body["outcome"] = outcome
        if note is not None:
            body["note"] = note
        if seizure_message_id is not None:
            body["seizure_message_id"] = seizure_message_id
        result: dict[str, Any] = await self.request_json(
            "POST", f"/alerts/{segment(alert_id)}/ack", json_body=body
        )
        return result

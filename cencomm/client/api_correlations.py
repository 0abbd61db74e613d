"""`CencommClient` calls for correlations, watch lists and share requests across operations
(docs/api.md, "Correlations", "Watch lists", "Share requests across operations")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from cencomm.client.paging import pages, segment
from cencomm.client.session import BaseClient


class CorrelationsApi(BaseClient):
    """Reports linked by a shared identifier; mixed into `CencommClient`."""

    async def related(self, message_id: str, *, limit: int = 50) -> dict[str, Any]:
        """`GET /messages/{id}/related`: the readable reports sharing an identifier with this
        one (`related`), and the identifiers also seen in an operation the caller cannot read
        (`elsewhere`: no group, no content).

        Raises:
            ProblemError: 404 a message the caller cannot read.
        """
        result: dict[str, Any] = await self.request_json(
            "GET", f"/messages/{segment(message_id)}/related", params={"limit": limit}
        )
        return result

    def correlations(self, group_id: str) -> AsyncIterator[dict[str, Any]]:
        """`GET /groups/{id}/correlations`, every page: identifiers seen in more than one
        readable report of the group, most linked first."""
        return pages(self, f"/groups/{segment(group_id)}/correlations", "correlations")

    # -- watch lists -------------------------------------------------------------------------

    async def add_watch(
        self, kind: str, value: str, *, reason: str, expires_at: str, match: str = "exact"
    ) -> dict[str, Any]:
        """`POST /watches`: be told of new reports naming `value` (`match`: exact or prefix,
        prefix only for containers and documents); `expires_at` an RFC 3339 time."""
        body = {
            "kind": kind,
            "match": match,
            "value": value,
            "reason": reason,
            "expires_at": expires_at,
        }
        result: dict[str, Any] = await self.request_json("POST", "/watches", json_body=body)
        return result

    def watches(self, *, active: bool = False) -> AsyncIterator[dict[str, Any]]:
        """`GET /watches`: the caller's own watches (`active`: not expired)."""
        return pages(self, "/watches", "watches", {"active": "true"} if active else None)

    async def remove_watch(self, watch_id: str) -> None:
        """`DELETE /watches/{id}`."""
        await self.request_json("DELETE", f"/watches/{segment(watch_id)}")

    def watch_matches(self, watch_id: str) -> AsyncIterator[dict[str, Any]]:
        """`GET /watches/{id}/matches`: the reports that matched, newest first."""
        return pages(self, f"/watches/{segment(watch_id)}/matches", "matches")

    # -- share requests ----------------------------------------------------------------------

    async def request_share(
        self, message_id: str, kind: str, value: str, *, reason: str
    ) -> dict[str, Any]:
        """`POST /messages/{id}/share-requests`: ask the moderators of the other operation(s)
        holding a report with this identifier to share it."""
        body = {"kind": kind, "value": value, "reason": reason}
        result: dict[str, Any] = await self.request_json(
            "POST", f"/messages/{segment(message_id)}/share-requests", json_body=body
        )
        return result

    def share_requests(self) -> AsyncIterator[dict[str, Any]]:
        """`GET /share-requests`: the caller's own requests."""
        return pages(self, "/share-requests", "share_requests")

    def group_share_requests(
        self, group_id: str, status: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """`GET /groups/{id}/share-requests`: requests to that group (its moderators)."""
        params = {"status": status} if status else None
        return pages(self, f"/groups/{segment(group_id)}/share-requests", "share_requests", params)

    async def get_share_request(self, request_id: str) -> dict[str, Any]:
        """`GET /share-requests/{id}`: with `shared_reports` once a group consented."""
        result: dict[str, Any] = await self.request_json(
            "GET", f"/share-requests/{segment(request_id)}"
        )
        return result

    async def decide_share_request(
        self, request_id: str, group_id: str, *, approve: bool, note: str | None = None
    ) -> dict[str, Any]:
        """`POST /share-requests/{id}/approve|reject` for one target group."""
        verdict = "approve" if approve else "reject"
        body: dict[str, Any] = {"group_id": group_id}
        if note:
            body["note"] = note
        result: dict[str, Any] = await self.request_json(
            "POST", f"/share-requests/{segment(request_id)}/{verdict}", json_body=body
        )
        return result

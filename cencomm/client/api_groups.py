"""Groups, members and join requests (API.md "Groups"), for `CencommClient`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from cencomm.client.paging import pages, segment
from cencomm.client.session import BaseClient


class GroupsApi(BaseClient):
    """Reading groups and their members; asking to join; deciding join requests."""

    async def get_group(self, group_id: str) -> dict[str, Any]:
        """`GET /groups/{id}`: one group the caller can see.

        Returns:
            `{id, code, name, description, starts_at, ends_at, status, roster_visible,
            created_at, my_role, last_seq}`.

        Raises:
            ProblemError: 404 when the group does not exist or the caller cannot see it.
        """
        group: dict[str, Any] = await self.request_json("GET", f"/groups/{segment(group_id)}")
        return group

    def members(self, group_id: str) -> AsyncIterator[dict[str, Any]]:
        """`GET /groups/{id}/members`, every page: `{kind, user_id, organization_id, name,
        role, added_at}` per member (a roster that is not visible shows only the moderators
        and one's own organisation).

        Raises:
            ProblemError: 404 when the caller cannot see the group.
        """
        return pages(self, f"/groups/{segment(group_id)}/members", "members")

    async def request_join(self, group_code: str, reason: str) -> dict[str, Any]:
        """`POST /join-requests {group_code, reason}`: ask the group's moderators to admit
        oneself. The server answers 202 `{status: "received"}` whether or not the code exists.

        Raises:
            ProblemError: 422 when the reason is empty or too long.
        """
        body = {"group_code": group_code, "reason": reason}
        result: dict[str, Any] = await self.request_json("POST", "/join-requests", json_body=body)
        return result

    def join_requests(
        self, group_id: str, status: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """`GET /groups/{id}/join-requests` (the group's moderators, admins, moderators),
        every page, optionally only those of `status` (`pending`, `approved`, `rejected`).

        Raises:
            ProblemError: 403 for a member who may not decide; 404 when the group is unseen.
        """
        params = {"status": status} if status is not None else None
        return pages(self, f"/groups/{segment(group_id)}/join-requests", "join_requests", params)

    async def approve_join_request(self, request_id: str) -> dict[str, Any]:
        """`POST /join-requests/{id}/approve`: admit the requester as a member.

        Returns:
            The join request, `status` now `approved`.

        Raises:
            ProblemError: 403 (not a moderator of its group), 404, 409 (decided already).
        """
        return await self._decide(request_id, "approve")

    async def reject_join_request(self, request_id: str) -> dict[str, Any]:
        """`POST /join-requests/{id}/reject`: refuse it (see `approve_join_request`)."""
        return await self._decide(request_id, "reject")

    async def _decide(self, request_id: str, verdict: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request_json(
            "POST", f"/join-requests/{segment(request_id)}/{verdict}"
        )
        return result

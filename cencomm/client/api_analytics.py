"""`CencommClient` calls for seizure analytics, the CSV export and the printable report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from multidict import MultiDict

from cencomm.client.paging import segment
from cencomm.client.session import BaseClient


def _dates(date_from: str | None, date_to: str | None) -> dict[str, str]:
    params: dict[str, str] = {}
    if date_from is not None:
        params["from"] = date_from
    if date_to is not None:
        params["to"] = date_to
    return params


class AnalyticsApi(BaseClient):
    """Seizure analytics (API.md "Seizure reports and analytics"); mixed into `CencommClient`."""

    async def group_analytics(
        self, group_id: str, *, date_from: str | None = None, date_to: str | None = None
    ) -> dict[str, Any]:
        """`GET /groups/{id}/analytics`: the group's figures (totals, categories, routes,
        countries, weeks...), counting only what the caller may read.

        Args:
            group_id: the group.
            date_from: first `occurred_on` counted, `YYYY-MM-DD` (inclusive).
            date_to: last `occurred_on` counted, `YYYY-MM-DD` (inclusive).

        Raises:
            ProblemError: 404 a group the caller cannot read; 422 naming every bad date.
        """
        result: dict[str, Any] = await self.request_json(
            "GET",
            f"/groups/{segment(group_id)}/analytics",
            params=_dates(date_from, date_to),
        )
        return result

    async def analytics(
        self,
        group_ids: Sequence[str],
        *,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> dict[str, Any]:
        """`GET /analytics?group_id=...`: the same figures over several groups at once.

        Args:
            group_ids: 1 to 50 groups, each readable by the caller.
            date_from: first `occurred_on` counted, `YYYY-MM-DD` (inclusive).
            date_to: last `occurred_on` counted, `YYYY-MM-DD` (inclusive).

        Raises:
            ProblemError: 403 for officers and observers (admins, moderators and analysts
                only); 404 a group the caller cannot read; 422 a bad date or too many groups.
        """
        params: MultiDict[str | int] = MultiDict(("group_id", g) for g in group_ids)
        params.extend(_dates(date_from, date_to))
        result: dict[str, Any] = await self.request_json("GET", "/analytics", params=params)
        return result

    async def seizures_csv(
        self, group_id: str, *, date_from: str | None = None, date_to: str | None = None
    ) -> bytes:
        """`GET /groups/{id}/seizures.csv`: one RFC 4180 row per seized item (never `TLP:RED`).

        Args:
            group_id: the group.
            date_from: first `occurred_on` exported, `YYYY-MM-DD` (inclusive).
            date_to: last `occurred_on` exported, `YYYY-MM-DD` (inclusive).

        Returns:
            The CSV bytes (UTF-8, CRLF line ends, a header row).

        Raises:
            ProblemError: 404 a group the caller cannot read; 422 naming every bad date.
        """
        reply = await self.request_bytes(
            "GET",
            f"/groups/{segment(group_id)}/seizures.csv",
            params=_dates(date_from, date_to),
            accept="text/csv",
        )
        return reply.raw

    async def group_report(self, group_id: str) -> bytes:
        """`GET /groups/{id}/report`: the printable HTML operation report (never `TLP:RED`).

        Returns:
            The HTML page's bytes (UTF-8; no script, nothing from another origin).

        Raises:
            ProblemError: 404 a group the caller cannot read.
        """
        reply = await self.request_bytes(
            "GET", f"/groups/{segment(group_id)}/report", accept="text/html"
        )
        return reply.raw

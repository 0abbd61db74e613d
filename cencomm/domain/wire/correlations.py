"""Correlations (`GET /messages/{id}/related`, `GET /groups/{id}/correlations`, the
`correlation` live frame)."""

from __future__ import annotations

from typing import Any

from cencomm.domain.clock import rfc3339
from cencomm.domain.correlations import GroupCorrelation, Related, RelatedLink, RelatedReport
from cencomm.domain.identifiers import Identifier


def identifier_json(identifier: Identifier) -> dict[str, Any]:
    """`{kind, value (normal form), label (as written)}`."""
    return {"kind": identifier.kind.value, "value": identifier.value, "label": identifier.label}


def _related_report_json(report: RelatedReport) -> dict[str, Any]:
    return {
        "message_id": str(report.message_id),
        "group_id": str(report.group_id),
        "group_code": report.group_code,
        "seq": report.seq,
        "country": report.country,
        "occurred_on": report.occurred_on.isoformat(),
        "reported_at": rfc3339(report.reported_at),
        "hc": report.hc,
        "shared": [identifier_json(i) for i in report.shared],
    }


def related_json(related: Related) -> dict[str, Any]:
    return {
        "message_id": str(related.message_id),
        "identifiers": [identifier_json(i) for i in related.identifiers],
        "related": [_related_report_json(r) for r in related.related],
        "elsewhere": [identifier_json(i) for i in related.elsewhere],
    }


def group_correlation_json(correlation: GroupCorrelation) -> dict[str, Any]:
    return {
        **identifier_json(correlation.identifier),
        "reports": correlation.reports,
        "countries": list(correlation.countries),
        "first_seen": correlation.first_seen.isoformat(),
        "last_seen": correlation.last_seen.isoformat(),
    }


def related_link_json(link: RelatedLink) -> dict[str, Any]:
    """One entry of the `correlation` frame's `related`."""
    return {
        "message_id": str(link.message_id),
        "group_id": str(link.group_id),
        "seq": link.seq,
        "shared": [identifier_json(i) for i in link.shared],
    }

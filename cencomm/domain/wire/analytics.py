"""Seizure analytics (`GET /groups/{id}/analytics`, `GET /analytics`)."""

from __future__ import annotations

from typing import Any

from cencomm.domain.analytics import Analytics, Count, Totals
from cencomm.domain.wire.common import time_or_none


def _totals(totals: Totals) -> dict[str, float]:
    return {
        "medicines_units": totals.medicines_units,
        "medical_supplies_units": totals.medical_supplies_units,
        "sanitizer_litres": totals.sanitizer_litres,
    }


def _named(counts: list[Count]) -> list[dict[str, Any]]:
    return [{"name": c.name, "interceptions": c.interceptions} for c in counts]


def analytics_json(a: Analytics) -> dict[str, Any]:
    return {
        "interceptions": a.interceptions,
        "reporting_countries": a.reporting_countries,
        "totals": _totals(a.totals),
        "by_category": [
            {"category": c.category, "unit": c.unit, "quantity": c.quantity} for c in a.by_category
        ],
        "routes": [
            {"origin": r.origin, "destination": r.destination, "interceptions": r.interceptions}
            for r in a.routes
        ],
        "transport_modes": _named(a.transport_modes),
        "detection": _named(a.detection),
        "concealment": _named(a.concealment),
        "infringement": _named(a.infringement),
        "by_week": [
            {"week_start": w.week_start.isoformat(), "interceptions": w.interceptions}
            for w in a.by_week
        ],
        "by_region": [{"region": c.name, "interceptions": c.interceptions} for c in a.by_region],
        "by_country": [
            {"country": c.country, "interceptions": c.interceptions, **_totals(c.totals)}
            for c in a.by_country
        ],
        "transit": [{"country": c.name, "interceptions": c.interceptions} for c in a.transit],
        "top_products": [
            {
                "category": p.category,
                "unit": p.unit,
                "quantity": p.quantity,
                "interceptions": p.interceptions,
                "share": p.share,
            }
            for p in a.top_products
        ],
        "first_report_at": time_or_none(a.first_report_at),
        "last_report_at": time_or_none(a.last_report_at),
    }

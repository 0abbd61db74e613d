"""Daily rollups: what one seizure report adds to (or, hidden, takes from) the counters.

Analytics at a million items cannot scan every report on each request. Each visible report
adds 1 to a counter per dimension it has (its country, region, mode, detection, concealment,
infringement, route, each distinct transit country, and `all`), keyed by group, day
(`occurred_on`) and handling code, and its quantity per (country, category, unit). Every
filter an answer needs (groups, codes withheld from the caller, dates) is a filter on those
keys, so an answer sums counters instead of reports. Hiding subtracts exactly what posting
added; unhiding adds it back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from cencomm.domain.analytics import SeizureRows

ALL = "all"
ROUTE = "route"
TRANSIT = "transit"
# Report columns counted as they are (a null region is not counted).
REPORT_DIMENSIONS = (
    "country",
    "region",
    "transport_mode",
    "detection",
    "concealment",
    "infringement",
)

CountKey = tuple[uuid.UUID, date, str, str, str]  # group, day, hc, dimension, key
QuantityKey = tuple[uuid.UUID, date, str, str, str, str]  # group, day, hc, country, cat, unit


def route_key(origin: str, destination: str) -> str:
    return f"{origin} {destination}"


def split_route(key: str) -> tuple[str, str]:
    origin, destination = key.split(" ")
    return origin, destination


class RollupDelta:
    """Counter changes for a batch of reports, merged so each key is written once."""

    def __init__(self) -> None:
        self.counts: dict[CountKey, int] = {}
        self.quantities: dict[QuantityKey, tuple[float, int]] = {}

    def add(self, rows: SeizureRows, sign: int = 1) -> None:
        report: dict[str, Any] = rows.report
        base = (report["group_id"], report["occurred_on"], report["hc"])
        keys = [(ALL, ""), (ROUTE, route_key(report["origin"], report["destination"]))]
        keys += [(name, report[name]) for name in REPORT_DIMENSIONS if report[name] is not None]
        keys += [(TRANSIT, c) for c in sorted({t["country"] for t in rows.transit})]
        for dimension, key in keys:
            count_key = (*base, dimension, key)
            self.counts[count_key] = self.counts.get(count_key, 0) + sign
        per_product: dict[tuple[str, str], float] = {}
        for item in rows.items:
            product = (item["category"], item["unit"])
            per_product[product] = per_product.get(product, 0.0) + item["quantity"]
        for (category, unit), quantity in per_product.items():
            quantity_key = (*base, report["country"], category, unit)
            old_quantity, old_n = self.quantities.get(quantity_key, (0.0, 0))
            self.quantities[quantity_key] = (old_quantity + sign * quantity, old_n + sign)

    def add_all(self, batch: Iterable[SeizureRows], sign: int = 1) -> RollupDelta:
        for rows in batch:
            self.add(rows, sign)
        return self

    def count_rows(self) -> list[dict[str, Any]]:
        """In key order: concurrent writers then lock counters in the same order."""
        return [
            {
                "group_id": g,
                "occurred_on": d,
                "hc": hc,
                "dimension": dim,
                "name": key,
                "interceptions": n,
            }
            for (g, d, hc, dim, key), n in sorted(self.counts.items(), key=_order)
            if n
        ]

    def quantity_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "group_id": g,
                "occurred_on": d,
                "hc": hc,
                "country": country,
                "category": category,
                "unit": unit,
                "quantity": quantity,
                "interceptions": n,
            }
            for (g, d, hc, country, category, unit), (quantity, n) in sorted(
                self.quantities.items(), key=_order
            )
            if n
        ]


def _order(item: tuple[tuple[Any, ...], object]) -> tuple[str, ...]:
    return tuple(str(part) for part in item[0])

"""The printable operation report (`GET /groups/{id}/report`): one self-contained HTML page.

No script at all; charts are server-rendered SVG (`report_charts`); the one stylesheet is
inline and allowed by its SHA-256 in the page's Content-Security-Policy, so nothing else (no
inline style attribute, no other origin, not even this origin) can be loaded or run.
Every value that comes from users (group name, organisation names, ...) is escaped.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from html import escape

from cencomm.domain.analytics import Count, IdentifierCount
from cencomm.domain.clock import rfc3339
from cencomm.services.analytics import ConveyanceFigures, OperationReport
from cencomm.web.report_charts import bar_chart, week_chart

ROUTES_CHARTED = 10

STYLESHEET = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #1a1a1a; margin: 2em auto;
  max-width: 60em; padding: 0 1em; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; border-bottom: 1px solid #999; margin-top: 2em; }
h3 { font-size: 1em; margin-top: 1.2em; }
.meta { color: #444; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; padding: 0; list-style: none; }
.figures li { border: 1px solid #bbb; padding: 0.6em 1em; min-width: 10em; }
.figures strong { display: block; font-size: 1.4em; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.8em; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { display: block; max-width: 100%; height: auto; margin: 0.5em 0; }
.note { color: #555; font-size: 0.9em; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  section, table, .chart { break-inside: avoid; }
}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLESHEET.encode("utf-8")).digest()).decode()
REPORT_CSP = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _label(name: str) -> str:
    return name.replace("_", " ")


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else "not set"


def _table(headings: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    def cell(tag: str, n: int, text: str) -> str:
        cls = ' class="num"' if n in numeric else ""
        return f"<{tag}{cls}>{escape(text)}</{tag}>"

    head = "".join(cell("th", n, h) for n, h in enumerate(headings))
    body = "".join(
        "<tr>" + "".join(cell("td", n, c) for n, c in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _counts_section(name: str, title: str, counts: list[Count]) -> str:
    rows = [(_label(c.name), float(c.interceptions)) for c in counts]
    return (
        f"<section><h2>{escape(title)}</h2>"
        f"{bar_chart(name, f'{title}: interceptions', rows)}</section>"
    )


_KIND_NAMES = {
    "container": "Containers",
    "document": "Transport documents",
    "tracking": "Courier tracking numbers",
    "vessel": "Vessels (IMO)",
    "flight": "Flights",
    "vehicle": "Vehicles",
    "party": "Parties",
    "party_id": "Party identifiers",
}


def _identifier_rows(counts: list[IdentifierCount], with_kind: bool) -> list[list[str]]:
    return [
        [
            *([_KIND_NAMES.get(c.kind, c.kind)] if with_kind else []),
            c.label,
            _num(c.reports),
            ", ".join(c.countries),
        ]
        for c in counts
    ]


def conveyance_section(figures: ConveyanceFigures) -> str:
    """Reports naming each kind of identifier, then the parties and the containers, documents
    and conveyances named by most reports (the standard form's fields)."""
    if not figures.kinds:
        return (
            "<section><h2>Conveyances and parties</h2><p>No report names a conveyance, a "
            "document, a container or a party.</p></section>"
        )
    kinds = _table(
        ["Identifier", "Reports naming one"],
        [[_KIND_NAMES.get(k, k), _num(n)] for k, n in sorted(figures.kinds.items())],
        {1},
    )
    parties = _table(
        ["Party", "Reports", "Reporting countries"],
        _identifier_rows(figures.parties, with_kind=False),
        {1},
    )
    transport = _table(
        ["Kind", "Number", "Reports", "Reporting countries"],
        _identifier_rows(figures.transport, with_kind=True),
        {2},
    )
    return (
        "<section><h2>Conveyances and parties</h2>"
        f"{kinds}<h3>Parties named in most reports</h3>{parties}"
        f"<h3>Containers, documents and conveyances named in most reports</h3>{transport}"
        "</section>"
    )


def render_report(report: OperationReport) -> str:
    group, a = report.group, report.analytics
    figures = [
        ("Interceptions", _num(a.interceptions)),
        ("Reporting countries", _num(a.reporting_countries)),
        ("Medicines (units)", _num(a.totals.medicines_units)),
        ("Medical supplies (units)", _num(a.totals.medical_supplies_units)),
        ("Hand sanitizer (litres)", _num(a.totals.sanitizer_litres)),
    ]
    headline = "".join(
        f"<li><strong>{escape(value)}</strong>{escape(label)}</li>" for label, value in figures
    )
    products = _table(
        ["Category", "Unit", "Quantity", "Interceptions", "Share of the unit"],
        [
            [_label(p.category), p.unit, _num(p.quantity), _num(p.interceptions), f"{p.share:.1%}"]
            for p in a.top_products
        ],
        {2, 3, 4},
    )
    routes = _table(
        ["Origin", "Destination", "Interceptions"],
        [[r.origin, r.destination, _num(r.interceptions)] for r in a.routes],
        {2},
    )
    route_rows = [
        (f"{r.origin} → {r.destination}", float(r.interceptions)) for r in a.routes[:ROUTES_CHARTED]
    ]
    participants = _table(
        ["Organisation", "Country", "Interceptions"],
        [[r.name, r.country or "", _num(r.interceptions)] for r in report.reporters],
        {2},
    )
    weeks = [(w.week_start, w.interceptions) for w in a.by_week]
    title = f"{group.code}: {group.name}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Operation report: {escape(title)}</title>
<style>{STYLESHEET}</style>
</head>
<body>
<header>
<h1>Operation report: {escape(title)}</h1>
<p class="meta">Operation from {escape(_day(group.starts_at))} to {escape(_day(group.ends_at))}
(status {escape(group.status.value)}). Reports received from
{escape(_day(a.first_report_at))} to {escape(_day(a.last_report_at))}.
Generated {escape(rfc3339(report.generated_at))}.</p>
<p class="note">Counts the seizure reports you may read, without hidden reports; TLP:RED
reports never appear in a printed report.</p>
</header>
<main>
<section><h2>Headline figures</h2><ul class="figures">{headline}</ul></section>
<section><h2>Most trafficked products</h2>
{
        bar_chart(
            "products",
            "Products: interceptions",
            [(f"{_label(p.category)} ({p.unit})", float(p.interceptions)) for p in a.top_products],
        )
    }
{products}</section>
<section><h2>Routes</h2>
{bar_chart("routes", "Top routes: interceptions", route_rows)}
{routes}</section>
<section><h2>Interceptions per week</h2>
{week_chart("weeks", "Interceptions per ISO week", weeks)}</section>
{_counts_section("modes", "Transport modes", a.transport_modes)}
{_counts_section("concealment", "Concealment", a.concealment)}
{_counts_section("detection", "Detection", a.detection)}
{_counts_section("regions", "Regions", a.by_region)}
{conveyance_section(report.conveyance)}
<section><h2>Participants</h2>
<p>{escape(_num(len(report.reporters)))} reporting organisations from
{escape(_num(a.reporting_countries))} countries.</p>
{participants}</section>
</main>
</body>
</html>
"""

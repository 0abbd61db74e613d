"""Server-rendered SVG charts for the printed operation report: no script, nothing fetched.

Colours and sizes are SVG presentation attributes, not `style` attributes, so the report's
strict Content-Security-Policy (no inline styles but the one hashed stylesheet) holds.
Every text is escaped; every chart carries a `<title>` and `role="img"` for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

WIDTH = 640
LABEL_WIDTH = 190
VALUE_WIDTH = 80
BAR_HEIGHT = 18
BAR_GAP = 6
COLUMN_CHART_HEIGHT = 220
AXIS = 28
BAR_COLOUR = "#1f5f8b"
AXIS_COLOUR = "#555555"


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def bar_chart(name: str, title: str, rows: Sequence[tuple[str, float]]) -> str:
    """Horizontal bars, one per row, longest first as given; an empty list draws a note."""
    if not rows:
        return f'<p class="empty" data-chart="{escape(name)}">No data.</p>'
    height = len(rows) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP
    top = max(value for _, value in rows) or 1
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    parts = [
        f'<svg class="chart" data-chart="{escape(name)}" role="img" '
        f'aria-labelledby="chart-{escape(name)}" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-{escape(name)}">{escape(title)}</title>',
    ]
    for n, (label, value) in enumerate(rows):
        y = BAR_GAP + n * (BAR_HEIGHT + BAR_GAP)
        width = max(1.0, plot * value / top)
        middle = y + BAR_HEIGHT / 2
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{middle:.1f}" text-anchor="end" '
            f'dominant-baseline="middle" font-size="12">{escape(label)}</text>'
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" '
            f'height="{BAR_HEIGHT}" fill="{BAR_COLOUR}"/>'
            f'<text x="{LABEL_WIDTH + width + 4:.1f}" y="{middle:.1f}" '
            f'dominant-baseline="middle" font-size="12">{escape(_fmt(value))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def week_chart(name: str, title: str, weeks: Sequence[tuple[date, int]]) -> str:
    """Columns over time, one per ISO week, with the first and last week named under the axis."""
    if not weeks:
        return f'<p class="empty" data-chart="{escape(name)}">No data.</p>'
    height = COLUMN_CHART_HEIGHT
    plot_height = height - AXIS - 16
    left = 40
    plot = WIDTH - left - 10
    step = plot / len(weeks)
    top = max(n for _, n in weeks) or 1
    parts = [
        f'<svg class="chart" data-chart="{escape(name)}" role="img" '
        f'aria-labelledby="chart-{escape(name)}" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-{escape(name)}">{escape(title)}</title>',
        f'<line x1="{left}" y1="{16 + plot_height}" x2="{WIDTH - 10}" y2="{16 + plot_height}" '
        f'stroke="{AXIS_COLOUR}"/>',
        f'<text x="{left - 4}" y="20" text-anchor="end" font-size="11">{top:,}</text>',
        f'<text x="{left - 4}" y="{16 + plot_height}" text-anchor="end" font-size="11">0</text>',
    ]
    for n, (week, count) in enumerate(weeks):
        bar = plot_height * count / top
        x = left + n * step + step * 0.1
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{16 + plot_height - bar:.1f}" '
            f'width="{max(1.0, step * 0.8):.1f}" height="{max(bar, 0.5):.1f}" '
            f'fill="{BAR_COLOUR}"><title>{escape(week.isoformat())}: {count:,}</title></rect>'
        )
    first, last = weeks[0][0].isoformat(), weeks[-1][0].isoformat()
    parts.append(
        f'<text x="{left}" y="{height - 6}" font-size="11">{escape(first)}</text>'
        f'<text x="{WIDTH - 10}" y="{height - 6}" text-anchor="end" font-size="11">'
        f"{escape(last)}</text></svg>"
    )
    return "".join(parts)

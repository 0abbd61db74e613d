// Charts drawn as SVG elements (no library, no inline style: classes in styles/app.css).
// Widths are percentages and heights pixels, so a chart fills its column at any width while its
// text keeps the page's size: readable on a 1280-pixel screen and on a 390-pixel phone.
// Each chart is `svg.chart[data-chart=<name>]`, an image named by its <title> and <desc>, and
// comes with the same figures as a table for screen readers.
import { html } from "./html.js";
import { formatNumber, lang, t } from "./i18n.js";

const ROW = 42; // one bar: its label line, then the bar
const BAR = 14;
const BAR_SPAN = 78; // percent of the width the longest bar takes (its value follows it)

const pct = (value) => `${value.toFixed(3)}%`;

function Frame({ name, title, desc, height, className = "", children }) {
  const id = `chart-${name}`;
  return html`<svg class=${`chart ${className}`.trim()} data-chart=${name} role="img" width="100%"
    height=${height} aria-labelledby=${`${id}-title ${id}-desc`} focusable="false">
    <title id=${`${id}-title`}>${title}</title>
    <desc id=${`${id}-desc`}>${desc}</desc>
    ${children}
  </svg>`;
}

// The figures behind a chart, for screen readers (the chart itself is one image to them). In a
// hidden box, not a hidden table: a table is never narrower than its text, and a long one (French)
// would widen a phone's page.
function DataTable({ caption, headers, rows }) {
  return html`<div class="visually-hidden"><table>
    <caption>${caption}</caption>
    <thead><tr>${headers.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
    <tbody>
      ${rows.map(
        ([label, value]) => html`<tr><th scope="row">${label}</th><td>${value}</td></tr>`,
      )}
    </tbody>
  </table></div>`;
}

// Horizontal bars, one per row: rows = [{label, value}], most first. `unit` names the values.
export function BarChart({ name, title, rows, unit }) {
  if (!rows.length) return html`<p class="empty" data-chart-empty=${name}>${t("dash.noData")}</p>`;
  const max = Math.max(...rows.map((r) => r.value), 0) || 1;
  const top = rows.reduce((best, r) => (r.value > best.value ? r : best), rows[0]);
  const desc = t("dash.chart.barsDesc", {
    count: formatNumber(rows.length),
    label: top.label,
    value: formatNumber(top.value),
    unit,
  });
  // Right to left, bars grow from the right like the page around them (a text's start, where
  // it is anchored, is then its right end: `direction` is inherited from the page).
  const rtl = document.documentElement.dir === "rtl";
  const at = (x) => pct(rtl ? 100 - x : x);
  return html`<figure class="chart-figure">
    <${Frame} name=${name} title=${title} desc=${desc} height=${rows.length * ROW + 4}>
      ${rows.map((row, i) => {
        const y = i * ROW;
        const width = (row.value / max) * BAR_SPAN;
        return html`<g class="bar-row">
          <text class="chart-label" x=${at(0)} y=${y + 14}>${row.label}</text>
          <rect class="bar" x=${rtl ? pct(100 - width) : "0"} y=${y + 20} width=${pct(width)}
            height=${BAR} rx="2" />
          <text class="chart-value" x=${at(width + 1)} y=${y + 32}>${formatNumber(row.value)}</text>
        </g>`;
      })}
    <//>
    <${DataTable} caption=${title} headers=${[t("dash.table.item"), unit]}
      rows=${rows.map((r) => [r.label, formatNumber(r.value)])} />
  </figure>`;
}

const PLOT_TOP = 22;
const PLOT_HEIGHT = 160;
const WEEK_HEIGHT = PLOT_TOP + PLOT_HEIGHT + 28;
const MAX_WEEK_LABELS = 5;

function shortDate(iso) {
  return new Intl.DateTimeFormat(lang(), { day: "numeric", month: "short", timeZone: "UTC" }).format(
    new Date(`${iso}T00:00:00Z`),
  );
}

// One column per ISO week (weeks = [{week_start, interceptions}], ascending, none missing).
// Time runs left to right in every language (the chart is drawn with `direction: ltr`).
export function WeekChart({ name, title, weeks, unit, formatWeek }) {
  if (!weeks.length) return html`<p class="empty" data-chart-empty=${name}>${t("dash.noData")}</p>`;
  const n = weeks.length;
  const max = Math.max(...weeks.map((w) => w.interceptions), 0) || 1;
  const busiest = weeks.reduce((best, w) => (w.interceptions > best.interceptions ? w : best));
  const desc = t("dash.chart.weeksDesc", {
    count: formatNumber(n),
    first: formatWeek(weeks[0].week_start),
    last: formatWeek(weeks[n - 1].week_start),
    busiest: formatWeek(busiest.week_start),
    value: formatNumber(busiest.interceptions),
  });
  const step = Math.max(1, Math.ceil(n / MAX_WEEK_LABELS));
  const baseline = PLOT_TOP + PLOT_HEIGHT;
  return html`<figure class="chart-figure">
    <${Frame} name=${name} title=${title} desc=${desc} height=${WEEK_HEIGHT} className="chart-ltr">
      <text class="chart-value axis-max" x="0" y="12">${formatNumber(max)}</text>
      <line class="grid" x1="0" x2="100%" y1=${PLOT_TOP} y2=${PLOT_TOP} />
      <line class="axis" x1="0" x2="100%" y1=${baseline} y2=${baseline} />
      ${weeks.map((week, i) => {
        const height = (week.interceptions / max) * PLOT_HEIGHT;
        return html`<rect class="bar" x=${pct((i + 0.15) * (100 / n))} width=${pct(0.7 * (100 / n))}
          y=${baseline - height} height=${height} rx="1" data-week=${week.week_start} />`;
      })}
      ${weeks.map((week, i) => {
        if (i % step !== 0 && i !== n - 1) return null;
        if (i !== n - 1 && n - 1 - i < step && i !== 0) return null; // leave room for the last
        const anchor = i === 0 ? "start" : i === n - 1 ? "end" : "middle";
        const x = i === 0 ? 0 : i === n - 1 ? 100 : (i + 0.5) * (100 / n);
        return html`<text class="chart-label axis-label" x=${pct(x)} y=${baseline + 18}
          text-anchor=${anchor}>${shortDate(week.week_start)}</text>`;
      })}
    <//>
    <${DataTable} caption=${title} headers=${[t("dash.table.week"), unit]}
      rows=${weeks.map((w) => [formatWeek(w.week_start), formatNumber(w.interceptions)])} />
  </figure>`;
}

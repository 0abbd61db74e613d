// The operation dashboard: a group's seizure analytics (GET /groups/{id}/analytics) as headline
// figures, charts and tables, narrowed to a period kept in the address (`?from=&to=`), with the
// CSV and the printable report; and the same view over several groups for staff and RILO
// analysts (GET /analytics?group_id=…). A new or hidden seizure report in a group on screen,
// announced over the live connection, fetches the figures again: no reload.
import { useEffect, useRef, useState } from "preact/hooks";
import { fetchBlob, get, query } from "./api.js";
import { html } from "./html.js";
import { countryName, formatDate, formatNumber, formatTime, lang, t } from "./i18n.js";
import { live } from "./live.js";
import { navigate } from "./router.js";
import { app } from "./state.js";
import { useStore } from "./store.js";
import { BarChart, WeekChart } from "./charts.js";
import { ProblemView, Spinner, useFocusHeading } from "./ui.js";

const CROSS_GROUP_ROLES = new Set(["admin", "moderator", "analyst"]);
const MAX_GROUPS = 50;
const LIVE_THROTTLE_MS = 700;
const COUNTRIES_CHARTED = 15;

// The contract's closed vocabularies: each value has its text; anything else shows as sent.
const NAMES = {
  category: ["medicines", "masks", "gloves", "test_kits", "thermometers", "gowns", "goggles",
    "sanitizer", "other_supplies"],
  unit: ["units", "litres", "kg"],
  mode: ["air", "sea", "road", "rail", "postal", "express_courier"],
  detection: ["risk_profiling", "intelligence", "xray", "canine", "random", "documentary", "other"],
  concealment: ["mis_declaration", "hidden_in_cargo", "luggage", "body", "false_documents", "none",
    "other"],
  infringement: ["counterfeit", "falsified", "unauthorized", "substandard", "expired",
    "non_compliant", "undeclared", "other"],
  region: ["AMERICAS_CARIBBEAN", "ASIA_PACIFIC", "EAST_SOUTHERN_AFRICA", "EUROPE", "MENA",
    "WEST_CENTRAL_AFRICA"],
}; // prettier-ignore

function named(kind, value) {
  return NAMES[kind].includes(value) ? t(`dash.${kind}.${value}`) : value;
}

const country = (code) => t("dash.country", { name: countryName(code), code });
const product = (p) =>
  t("dash.product", { category: named("category", p.category), unit: named("unit", p.unit) });
const formatShare = (share) =>
  new Intl.NumberFormat(lang(), { style: "percent", maximumFractionDigits: 1 }).format(share);
const weekLabel = (iso) => t("dash.weekOf", { date: formatDate(iso) });

// The analytics at `path` (null: nothing to ask yet), fetched again (throttled) when a seizure
// report arrives in (or a message is hidden or shown again in) one of `groupIds`; a newer
// answer always wins over an older one still on its way.
function useAnalytics(path, groupIds) {
  const [state, setState] = useState({ data: null, problem: null, loading: Boolean(path), at: null });
  const latest = useRef(0);
  const load = useRef(null);
  // `again`: a live re-count, which keeps the figures on screen if it fails.
  load.current = async (again = false) => {
    if (!path) return;
    const ticket = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await get(path);
      if (ticket === latest.current) {
        setState({ data, problem: null, loading: false, at: new Date().toISOString() });
      }
    } catch (problem) {
      if (ticket === latest.current) {
        const failed = { problem, loading: false };
        setState((s) => (again ? { ...s, ...failed } : { ...failed, data: null, at: null }));
      }
    }
  };
  useEffect(() => {
    setState({ data: null, problem: null, loading: Boolean(path), at: null });
    load.current();
  }, [path]);
  const watched = groupIds.join(",");
  useEffect(() => {
    if (!path || !groupIds.length) return undefined;
    const ids = new Set(groupIds);
    let timer = null;
    const changed = (frame) => {
      if (!ids.has(frame.group_id)) return;
      if (frame.type === "message" && frame.message?.typ !== "seizure") return;
      // At most one fetch per interval while reports pour in, and always one after the last.
      timer ??= setTimeout(() => {
        timer = null;
        load.current(true);
      }, LIVE_THROTTLE_MS);
    };
    const stops = [live.on("message", changed), live.on("message.hidden", changed)];
    return () => {
      clearTimeout(timer);
      for (const stop of stops) stop();
    };
  }, [path, watched]);
  return state;
}

function PeriodForm({ from, to, onApply }) {
  const [start, setStart] = useState(from);
  const [end, setEnd] = useState(to);
  useEffect(() => {
    setStart(from);
    setEnd(to);
  }, [from, to]);
  return html`<form class="period-form" aria-label=${t("dash.period")} onSubmit=${(e) => {
      e.preventDefault();
      onApply(start, end);
    }}>
    <label>${t("dash.from")}
      <input type="date" name="from" value=${start} max=${end || undefined}
        onInput=${(e) => setStart(e.target.value)} />
    </label>
    <label>${t("dash.to")}
      <input type="date" name="to" value=${end} min=${start || undefined}
        onInput=${(e) => setEnd(e.target.value)} />
    </label>
    <button type="submit">${t("dash.apply")}</button>
    ${from || to
      ? html`<button type="button" class="link" onClick=${() => onApply("", "")}>
          ${t("dash.wholeOperation")}</button>`
      : null}
  </form>`;
}

function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

// The CSV and the printable report need the access token, so they are fetched here and saved
// from a blob: URL. The report is saved as a file rather than shown in a tab: a blob: page would
// inherit this page's policy, which forbids the report's own inline stylesheet.
function Downloads({ group, from, to }) {
  const [busy, setBusy] = useState(null);
  const [problem, setProblem] = useState(null);
  const period = [from, to].filter(Boolean).join("_");
  async function download(kind) {
    setBusy(kind);
    setProblem(null);
    try {
      if (kind === "csv") {
        const blob = await fetchBlob(`groups/${group.id}/seizures.csv${query({ from, to })}`);
        saveBlob(blob, `${group.code}${period ? `_${period}` : ""}_seizures.csv`);
      } else {
        const blob = await fetchBlob(`groups/${group.id}/report`);
        saveBlob(blob, `${group.code}_report.html`);
      }
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(null);
    }
  }
  return html`<div class="downloads">
    <button type="button" data-download="csv" disabled=${busy !== null} onClick=${() => download("csv")}>
      ${busy === "csv" ? t("dash.downloading") : from || to ? t("dash.csvPeriod") : t("dash.csv")}
    </button>
    <button type="button" data-download="report" disabled=${busy !== null}
      onClick=${() => download("report")}>
      ${busy === "report" ? t("dash.downloading") : t("dash.report")}
    </button>
    <p class="hint">${t("dash.downloadsHint")}</p>
    <${ProblemView} problem=${problem} />
  </div>`;
}

function Figure({ name, label, value }) {
  return html`<div class="figure" data-figure=${name}>
    <dt>${label}</dt>
    <dd data-value=${value}>${formatNumber(value)}</dd>
  </div>`;
}

function Headline({ data }) {
  const totals = data.totals;
  return html`<dl class="figures" aria-label=${t("dash.headline")}>
    <${Figure} name="interceptions" label=${t("dash.interceptions")} value=${data.interceptions} />
    <${Figure} name="reporting_countries" label=${t("dash.reportingCountries")}
      value=${data.reporting_countries} />
    <${Figure} name="medicines_units" label=${t("dash.medicinesUnits")} value=${totals.medicines_units} />
    <${Figure} name="medical_supplies_units" label=${t("dash.suppliesUnits")}
      value=${totals.medical_supplies_units} />
    <${Figure} name="sanitizer_litres" label=${t("dash.sanitizerLitres")} value=${totals.sanitizer_litres} />
  </dl>`;
}

function Panel({ id, title, wide, children }) {
  return html`<section class=${wide ? "panel panel-wide" : "panel"} aria-labelledby=${`dash-${id}`}
    data-panel=${id}>
    <h2 id=${`dash-${id}`}>${title}</h2>
    ${children}
  </section>`;
}

function CountsPanel({ id, title, rows, kind }) {
  return html`<${Panel} id=${id} title=${title}>
    <${BarChart} name=${id} title=${t("dash.chartTitle", { what: title })} unit=${t("dash.interceptions")}
      rows=${rows.map((r) => ({ label: named(kind, r.name), value: r.interceptions }))} />
  <//>`;
}

function ProductsPanel({ products }) {
  const title = t("dash.products");
  return html`<${Panel} id="products" title=${title} wide=${true}>
    <${BarChart} name="products" title=${t("dash.chartTitle", { what: title })}
      unit=${t("dash.interceptions")}
      rows=${products.map((p) => ({ label: product(p), value: p.interceptions }))} />
    ${products.length
      ? html`<div class="table-scroll"><table class="data" data-table="products">
          <caption class="visually-hidden">${title}</caption>
          <thead><tr>
            <th scope="col">${t("dash.product.name")}</th>
            <th scope="col" class="num">${t("dash.quantity")}</th>
            <th scope="col" class="num">${t("dash.interceptions")}</th>
            <th scope="col" class="num">${t("dash.share")}</th>
          </tr></thead>
          <tbody>${products.map((p) => html`<tr>
            <th scope="row">${product(p)}</th>
            <td class="num" data-label=${t("dash.quantity")}>${formatNumber(p.quantity)}</td>
            <td class="num" data-label=${t("dash.interceptions")}>${formatNumber(p.interceptions)}</td>
            <td class="num" data-label=${t("dash.share")}>
              ${formatShare(p.share)}</td>
          </tr>`)}</tbody>
        </table></div>`
      : null}
  <//>`;
}

function RoutesPanel({ routes }) {
  const title = t("dash.routes");
  return html`<${Panel} id="routes" title=${title} wide=${true}>
    <${BarChart} name="routes" title=${t("dash.chartTitle", { what: title })}
      unit=${t("dash.interceptions")}
      rows=${routes.map((r) => ({
        label: t("dash.route", { origin: countryName(r.origin), destination: countryName(r.destination) }),
        value: r.interceptions,
      }))} />
    ${routes.length
      ? html`<div class="table-scroll"><table class="data" data-table="routes">
          <caption class="visually-hidden">${title}</caption>
          <thead><tr>
            <th scope="col">${t("dash.origin")}</th>
            <th scope="col">${t("dash.destination")}</th>
            <th scope="col" class="num">${t("dash.interceptions")}</th>
          </tr></thead>
          <tbody>${routes.map((r) => html`<tr>
            <td data-label=${t("dash.origin")}>${country(r.origin)}</td>
            <td data-label=${t("dash.destination")}>${country(r.destination)}</td>
            <td class="num" data-label=${t("dash.interceptions")}>${formatNumber(r.interceptions)}</td>
          </tr>`)}</tbody>
        </table></div>`
      : null}
  <//>`;
}

function CountriesPanel({ countries }) {
  const title = t("dash.countries");
  const charted = countries.slice(0, COUNTRIES_CHARTED);
  return html`<${Panel} id="countries" title=${title} wide=${true}>
    <${BarChart} name="countries"
      title=${t("dash.countriesChart", { count: formatNumber(charted.length) })}
      unit=${t("dash.interceptions")}
      rows=${charted.map((c) => ({ label: countryName(c.country), value: c.interceptions }))} />
    ${countries.length
      ? html`<div class="table-scroll"><table class="data" data-table="countries">
          <caption class="visually-hidden">${title}</caption>
          <thead><tr>
            <th scope="col">${t("dash.reportingCountry")}</th>
            <th scope="col" class="num">${t("dash.interceptions")}</th>
            <th scope="col" class="num">${t("dash.medicinesUnits")}</th>
            <th scope="col" class="num">${t("dash.suppliesUnits")}</th>
            <th scope="col" class="num">${t("dash.sanitizerLitres")}</th>
          </tr></thead>
          <tbody>${countries.map((c) => html`<tr data-country=${c.country}>
            <th scope="row">${country(c.country)}</th>
            <td class="num" data-label=${t("dash.interceptions")}>${formatNumber(c.interceptions)}</td>
            <td class="num" data-label=${t("dash.medicinesUnits")}>${formatNumber(c.medicines_units)}</td>
            <td class="num" data-label=${t("dash.suppliesUnits")}>
              ${formatNumber(c.medical_supplies_units)}</td>
            <td class="num" data-label=${t("dash.sanitizerLitres")}>
              ${formatNumber(c.sanitizer_litres)}</td>
          </tr>`)}</tbody>
        </table></div>`
      : null}
  <//>`;
}

// The figures of one or several groups: headline, charts and tables.
export function AnalyticsView({ data }) {
  if (data.interceptions === 0) {
    return html`<${Headline} data=${data} /><p class="info">${t("dash.none")}</p>`;
  }
  const weeks = t("dash.weeks");
  return html`<${Headline} data=${data} />
    ${data.first_report_at
      ? html`<p class="hint reports-span">${t("dash.reportsSpan", {
          first: formatTime(data.first_report_at),
          last: formatTime(data.last_report_at),
        })}</p>`
      : null}
    <div class="dash-grid">
      <${Panel} id="weeks" title=${weeks} wide=${true}>
        <${WeekChart} name="weeks" title=${t("dash.chartTitle", { what: weeks })}
          unit=${t("dash.interceptions")} weeks=${data.by_week} formatWeek=${weekLabel} />
      <//>
      <${ProductsPanel} products=${data.top_products} />
      <${RoutesPanel} routes=${data.routes} />
      <${CountsPanel} id="modes" title=${t("dash.modes")} rows=${data.transport_modes} kind="mode" />
      <${CountsPanel} id="detection" title=${t("dash.detection")} rows=${data.detection}
        kind="detection" />
      <${CountsPanel} id="concealment" title=${t("dash.concealment")} rows=${data.concealment}
        kind="concealment" />
      <${CountsPanel} id="infringement" title=${t("dash.infringement")} rows=${data.infringement}
        kind="infringement" />
      <${Panel} id="regions" title=${t("dash.regions")}>
        <${BarChart} name="regions" title=${t("dash.chartTitle", { what: t("dash.regions") })}
          unit=${t("dash.interceptions")}
          rows=${data.by_region.map((r) => ({
            label: named("region", r.region),
            value: r.interceptions,
          }))} />
      <//>
      <${Panel} id="transit" title=${t("dash.transit")}>
        <${BarChart} name="transit" title=${t("dash.chartTitle", { what: t("dash.transit") })}
          unit=${t("dash.interceptions")}
          rows=${data.transit.map((c) => ({ label: countryName(c.country), value: c.interceptions }))} />
      <//>
      <${CountriesPanel} countries=${data.by_country} />
    </div>`;
}

function Results({ state }) {
  const { data, problem, loading, at } = state;
  return html`<${ProblemView} problem=${problem} />
    <p class="updated hint" role="status" data-loading=${loading ? "true" : "false"}>
      ${loading ? t("dash.updating") : at ? t("dash.updated", { time: formatTime(at) }) : ""}
    </p>
    ${data ? html`<${AnalyticsView} data=${data} />` : loading ? html`<${Spinner} />` : null}`;
}

// A group as the caller's group list has it, or as GET /groups/{id} answers (staff may look at
// a group they are not a member of).
function useGroup(groupId) {
  const listed = useStore(app, (s) => s.groups.find((g) => g.id === groupId) || null);
  const loaded = useStore(app, (s) => s.groupsLoaded);
  const [fetched, setFetched] = useState(null);
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    setProblem(null);
    if (!loaded || listed || fetched?.id === groupId) return;
    get(`groups/${groupId}`).then(setFetched, setProblem);
  }, [groupId, loaded, Boolean(listed)]);
  return { group: listed || (fetched?.id === groupId ? fetched : null), problem };
}

export function DashboardScreen({ route }) {
  const groupId = route.params.groupId;
  const from = route.query.get("from") || "";
  const to = route.query.get("to") || "";
  const { group, problem } = useGroup(groupId);
  const state = useAnalytics(`groups/${groupId}/analytics${query({ from, to })}`, [groupId]);
  const heading = useFocusHeading([groupId]);
  const apply = (start, end) => navigate(`/groups/${groupId}/dashboard${query({ from: start, to: end })}`);
  return html`<section class="screen dashboard" aria-labelledby="dash-title">
    <header class="screen-head">
      <h1 id="dash-title" tabindex="-1" ref=${heading}>
        ${t("dash.title")}${group
          ? html`${t("common.colon")}<span class="group-code">${group.code}</span> ${group.name}`
          : null}
      </h1>
      <a href=${`#/groups/${groupId}`}>${t("dash.toTimeline")}</a>
    </header>
    <${ProblemView} problem=${problem} />
    <div class="dash-tools">
      <${PeriodForm} from=${from} to=${to} onApply=${apply} />
      ${group ? html`<${Downloads} group=${group} from=${from} to=${to} />` : null}
    </div>
    <${Results} state=${state} />
  </section>`;
}

function GroupChooser({ groups, chosen, from, to, onApply }) {
  const [picked, setPicked] = useState(chosen);
  useEffect(() => setPicked(chosen), [chosen.join(",")]);
  const toggle = (id, on) => setPicked((list) => (on ? [...list, id] : list.filter((x) => x !== id)));
  const tooMany = picked.length > MAX_GROUPS;
  return html`<form class="group-chooser" onSubmit=${(e) => {
      e.preventDefault();
      if (!tooMany) onApply(picked, from, to);
    }}>
    <fieldset>
      <legend>${t("analytics.groups")}</legend>
      ${groups.length === 0 ? html`<p>${t("groups.none")}</p>` : null}
      <ul class="choices">
        ${groups.map((g) => html`<li>
          <label>
            <input type="checkbox" name="group_id" value=${g.id} checked=${picked.includes(g.id)}
              onChange=${(e) => toggle(g.id, e.target.checked)} />
            <span class="group-code">${g.code}</span> ${g.name}
          </label>
        </li>`)}
      </ul>
    </fieldset>
    ${tooMany
      ? html`<p class="field-error" role="alert">${t("analytics.tooMany", { max: MAX_GROUPS })}</p>`
      : null}
    <button type="submit" class="primary" disabled=${picked.length === 0 || tooMany}>
      ${t("analytics.show", { count: formatNumber(picked.length) })}
    </button>
  </form>`;
}

export function CrossGroupScreen({ me, route }) {
  const groups = useStore(app, (s) => s.groups);
  const loaded = useStore(app, (s) => s.groupsLoaded);
  const heading = useFocusHeading([]);
  const allowed = CROSS_GROUP_ROLES.has(me.role);
  const chosen = [...new Set(route.query.getAll("group_id"))];
  const from = route.query.get("from") || "";
  const to = route.query.get("to") || "";
  const path = allowed && chosen.length ? `analytics${query({ group_id: chosen, from, to })}` : null;
  const state = useAnalytics(path, chosen);
  const show = (ids, start, end) =>
    navigate(`/analytics${query({ group_id: ids, from: start, to: end })}`);
  return html`<section class="screen dashboard" aria-labelledby="analytics-title">
    <header class="screen-head">
      <h1 id="analytics-title" tabindex="-1" ref=${heading}>${t("analytics.title")}</h1>
    </header>
    ${!allowed
      ? html`<p class="info">${t("analytics.notAllowed")}</p>`
      : html`<p class="lead">${t("analytics.lead")}</p>
          ${loaded
            ? html`<${GroupChooser} groups=${groups} chosen=${chosen} from=${from} to=${to}
                onApply=${show} />`
            : html`<${Spinner} />`}
          ${chosen.length
            ? html`<div class="dash-tools">
                  <${PeriodForm} from=${from} to=${to} onApply=${(s, e) => show(chosen, s, e)} />
                </div>
                <${Results} state=${state} />`
            : null}`}
  </section>`;
}

export const canSeeCrossGroup = (me) => CROSS_GROUP_ROLES.has(me.role);

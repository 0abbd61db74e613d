// The seizure report form and its readable summary.
// (First version: a minimal form; the full form mirroring the server's validation comes next.)
import { html } from "./html.js";
import { countryName, formatDate, t } from "./i18n.js";

export function emptySeizure() {
  return {
    occurred_on: new Date().toISOString().slice(0, 10),
    country: "",
    location: "",
    transport_mode: "air",
    origin: "",
    transit: [],
    destination: "",
    items: [{ category: "medicines", description: "", quantity: "", unit: "units", hs_code: "" }],
    infringement: "falsified",
    detection: "risk_profiling",
    concealment: "none",
    notes: "",
  };
}

export function seizureBody(form) {
  const body = {
    occurred_on: form.occurred_on,
    country: form.country,
    transport_mode: form.transport_mode,
    route: { origin: form.origin, destination: form.destination },
    items: form.items.map((item) => {
      const out = { category: item.category, quantity: Number(item.quantity), unit: item.unit };
      if (item.description.trim()) out.description = item.description.trim();
      if (item.hs_code.trim()) out.hs_code = item.hs_code.trim();
      return out;
    }),
    infringement: form.infringement,
    detection: form.detection,
    concealment: form.concealment,
  };
  if (form.transit.length) body.route.transit = form.transit;
  if (form.location.trim()) body.location = form.location.trim();
  if (form.notes.trim()) body.notes = form.notes.trim();
  return body;
}

export function SeizureForm({ value, onChange }) {
  const set = (field) => (e) => onChange({ ...value, [field]: e.target.value });
  return html`<fieldset class="seizure-form"><legend>${t("typ.seizure")}</legend>
    <label>occurred_on <input type="date" value=${value.occurred_on} onInput=${set("occurred_on")} /></label>
    <label>country <input value=${value.country} onInput=${set("country")} /></label>
  </fieldset>`;
}

export function SeizureSummary({ report }) {
  return html`<div class="seizure-summary">
    <p>${formatDate(report.occurred_on)} · ${countryName(report.country)}</p>
    <ul>${(report.items || []).map((i) => html`<li>${i.category}: ${i.quantity} ${i.unit}</li>`)}</ul>
  </div>`;
}

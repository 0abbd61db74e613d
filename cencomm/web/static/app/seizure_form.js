// The seizure report form and its readable summary. The form follows the server's rules
// (seizure_rules.js): countries by name with their ISO codes, units that fit the category, a route
// with transit legs, up to 50 items, and the standard form's part (seizure_standard_form.js); every
// error, found here or by the server, is shown next to its field at once.
import { useEffect, useMemo } from "preact/hooks";
import { html } from "./html.js";
import { formatDate, formatNumber, t } from "./i18n.js";
import { countryLabel, countryOptions, isCountryCode } from "./countries.js";
import { Choice, CountryInput, DATALIST, FieldError, control, idOf, useFieldErrors } from "./seizure_fields.js";
import { StandardSection, StandardSummary } from "./seizure_standard_form.js";
import {
  CATEGORIES,
  CONCEALMENTS,
  DETECTIONS,
  EARLIEST_OCCURRED_ON,
  INFRINGEMENTS,
  MAX_DESCRIPTION_CHARS,
  MAX_ITEMS,
  MAX_LOCATION_CHARS,
  MAX_NOTES_CHARS,
  MAX_TRANSIT,
  TRANSPORT_MODES,
  UNITS,
  emptyItem,
  todayUtc,
  unitsFor,
} from "./seizure_rules.js";

export { checkSeizure, emptySeizure, seizureBody, seizureFieldLabels } from "./seizure_rules.js";

export function SeizureForm({ value, onChange, me, problem, reportForm }) {
  const { messages, markEdited } = useFieldErrors(problem);
  const orgCountry = me?.organization?.country || null;
  // The server takes reports only for the sender organisation's country: it is filled in, fixed.
  useEffect(() => {
    // An update by function: the standard section may fill itself in in the same render.
    if (orgCountry && value.country !== orgCountry) onChange((old) => ({ ...old, country: orgCountry }));
  }, [orgCountry, value.country]);

  const set = (field, key, next) => {
    markEdited(field);
    onChange({ ...value, [key]: next });
  };
  const setItem = (index, key, next) => {
    markEdited(`body.items[${index}].${key}`);
    const items = value.items.map((item, i) => {
      if (i !== index) return item;
      const changed = { ...item, [key]: next };
      // A category fixes the units it may be counted in.
      if (key === "category" && !unitsFor(next).includes(item.unit)) changed.unit = unitsFor(next)[0];
      return changed;
    });
    if (key === "category") markEdited(`body.items[${index}].unit`);
    onChange({ ...value, items });
  };
  const setTransit = (index, code) => {
    markEdited(`body.route.transit[${index}]`);
    onChange({ ...value, transit: value.transit.map((c, i) => (i === index ? code : c)) });
  };
  const removeTransit = (index) => {
    markEdited("body.route.transit");
    onChange({ ...value, transit: value.transit.filter((_, i) => i !== index) });
  };
  const removeItem = (index) => {
    markEdited("body.items");
    onChange({ ...value, items: value.items.filter((_, i) => i !== index) });
  };

  const today = todayUtc();
  const m = messages;
  // The 249 suggestions are built once (the same vnode is not diffed again on every keystroke).
  const countryList = useMemo(
    () => html`<datalist id=${DATALIST}>
      ${countryOptions().map((c) => html`<option value=${c.label}></option>`)}
    </datalist>`,
    [],
  );
  return html`<fieldset class="seizure-form">
    <legend>${t("typ.seizure")}</legend>
    ${countryList}
    <div class="seizure-grid">
      <div class="field">
        <label for=${idOf("body.occurred_on")}>${t("seizure.field.occurred_on")}</label>
        <input type="date" ...${control("body.occurred_on", m("body.occurred_on"))}
          min=${EARLIEST_OCCURRED_ON} max=${today} value=${value.occurred_on}
          onInput=${(e) => set("body.occurred_on", "occurred_on", e.target.value)} />
        <${FieldError} field="body.occurred_on" messages=${m("body.occurred_on")} />
      </div>
      <div class="field">
        <label for=${idOf("body.country")}>${t("seizure.field.country")}</label>
        <input ...${control("body.country", m("body.country"), "sz-country-hint")} readonly
          value=${orgCountry ? countryLabel(value.country || orgCountry) : t("seizure.noCountry")} />
        <p class="hint" id="sz-country-hint">
          ${orgCountry ? t("seizure.countryFixed") : t("seizure.error.noOrgCountry")}</p>
        <${FieldError} field="body.country" messages=${m("body.country")} />
      </div>
      <div class="field">
        <label for=${idOf("body.location")}>${t("seizure.field.location")}
          <span class="hint"> ${t("seizure.optional")}</span></label>
        <input ...${control("body.location", m("body.location"))} value=${value.location}
          maxlength=${MAX_LOCATION_CHARS} autocomplete="off"
          onInput=${(e) => set("body.location", "location", e.target.value)} />
        <${FieldError} field="body.location" messages=${m("body.location")} />
      </div>
      <${Choice} field="body.transport_mode" label=${t("seizure.field.transport_mode")}
        value=${value.transport_mode} options=${TRANSPORT_MODES} prefix="seizure.mode"
        messages=${m("body.transport_mode")}
        onChange=${(v) => set("body.transport_mode", "transport_mode", v)} />
    </div>

    <fieldset class="seizure-route">
      <legend>${t("seizure.field.route")}</legend>
      <div class="field">
        <label for=${idOf("body.route.origin")}>${t("seizure.field.origin")}</label>
        <${CountryInput} field="body.route.origin" value=${value.origin}
          messages=${m("body.route.origin")}
          onChange=${(code) => set("body.route.origin", "origin", code)} />
        <${FieldError} field="body.route.origin" messages=${m("body.route.origin")} />
      </div>
      <ol class="transit-list" aria-label=${t("seizure.field.transit")}>
        ${value.transit.map((code, index) => {
          const field = `body.route.transit[${index}]`;
          const label = t("seizure.field.transitN", { n: index + 1 });
          return html`<li class="field transit-leg">
            <label for=${idOf(field)}>${label}</label>
            <div class="inline">
              <${CountryInput} field=${field} value=${code} messages=${m(field)}
                onChange=${(next) => setTransit(index, next)} />
              <button type="button" onClick=${() => removeTransit(index)}
                aria-label=${t("seizure.removeTransitN", { n: index + 1 })}>${t("seizure.remove")}</button>
            </div>
            <${FieldError} field=${field} messages=${m(field)} />
          </li>`;
        })}
      </ol>
      <button type="button" disabled=${value.transit.length >= MAX_TRANSIT}
        onClick=${() => {
          markEdited("body.route.transit");
          onChange({ ...value, transit: [...value.transit, ""] });
        }}>${t("seizure.addTransit")}</button>
      <${FieldError} field="body.route.transit" messages=${m("body.route.transit")} />
      <div class="field">
        <label for=${idOf("body.route.destination")}>${t("seizure.field.destination")}</label>
        <${CountryInput} field="body.route.destination" value=${value.destination}
          messages=${m("body.route.destination")}
          onChange=${(code) => set("body.route.destination", "destination", code)} />
        <${FieldError} field="body.route.destination" messages=${m("body.route.destination")} />
      </div>
    </fieldset>

    <div class="seizure-grid">
      <${Choice} field="body.infringement" label=${t("seizure.field.infringement")}
        value=${value.infringement} options=${INFRINGEMENTS} prefix="seizure.infringement"
        messages=${m("body.infringement")} onChange=${(v) => set("body.infringement", "infringement", v)} />
      <${Choice} field="body.detection" label=${t("seizure.field.detection")}
        value=${value.detection} options=${DETECTIONS} prefix="seizure.detection"
        messages=${m("body.detection")} onChange=${(v) => set("body.detection", "detection", v)} />
      <${Choice} field="body.concealment" label=${t("seizure.field.concealment")}
        value=${value.concealment} options=${CONCEALMENTS} prefix="seizure.concealment"
        messages=${m("body.concealment")} onChange=${(v) => set("body.concealment", "concealment", v)} />
    </div>

    <fieldset class="seizure-items">
      <legend>${t("seizure.field.items")}</legend>
      <${FieldError} field="body.items" messages=${m("body.items")} />
      ${value.items.map((item, index) => {
        const f = (key) => `body.items[${index}].${key}`;
        return html`<fieldset class="seizure-item" data-item=${index}>
          <legend>${t("seizure.itemN", { n: index + 1 })}</legend>
          <div class="seizure-grid">
            <${Choice} field=${f("category")} label=${t("seizure.field.category")}
              value=${item.category} options=${CATEGORIES} prefix="seizure.category"
              messages=${m(f("category"))} onChange=${(v) => setItem(index, "category", v)} />
            <div class="field">
              <label for=${idOf(f("quantity"))}>${t("seizure.field.quantity")}</label>
              <input ...${control(f("quantity"), m(f("quantity")))} inputmode="decimal"
                autocomplete="off" value=${item.quantity}
                onInput=${(e) => setItem(index, "quantity", e.target.value)} />
              <${FieldError} field=${f("quantity")} messages=${m(f("quantity"))} />
            </div>
            <${Choice} field=${f("unit")} label=${t("seizure.field.unit")}
              value=${item.unit}
              options=${UNITS.includes(item.unit) && !unitsFor(item.category).includes(item.unit)
                ? [...unitsFor(item.category), item.unit]
                : unitsFor(item.category)}
              prefix="seizure.unit" messages=${m(f("unit"))}
              onChange=${(v) => setItem(index, "unit", v)} />
            <div class="field">
              <label for=${idOf(f("hs_code"))}>${t("seizure.field.hs_code")}
                <span class="hint"> ${t("seizure.optional")}</span></label>
              <input ...${control(f("hs_code"), m(f("hs_code")), `${idOf(f("hs_code"))}-hint`)}
                inputmode="decimal" autocomplete="off" value=${item.hs_code}
                onInput=${(e) => setItem(index, "hs_code", e.target.value)} />
              <p class="hint" id=${`${idOf(f("hs_code"))}-hint`}>${t("seizure.hsHint")}</p>
              <${FieldError} field=${f("hs_code")} messages=${m(f("hs_code"))} />
            </div>
          </div>
          <div class="field">
            <label for=${idOf(f("description"))}>${t("seizure.field.description")}
              <span class="hint"> ${t("seizure.optional")}</span></label>
            <input ...${control(f("description"), m(f("description")))} value=${item.description}
              maxlength=${MAX_DESCRIPTION_CHARS} autocomplete="off"
              onInput=${(e) => setItem(index, "description", e.target.value)} />
            <${FieldError} field=${f("description")} messages=${m(f("description"))} />
          </div>
          <button type="button" disabled=${value.items.length <= 1}
            onClick=${() => removeItem(index)}
            aria-label=${t("seizure.removeItemN", { n: index + 1 })}>${t("seizure.remove")}</button>
        </fieldset>`;
      })}
      <div class="inline">
        <button type="button" disabled=${value.items.length >= MAX_ITEMS}
          onClick=${() => {
            markEdited("body.items");
            onChange({ ...value, items: [...value.items, emptyItem()] });
          }}>${t("seizure.addItem")}</button>
        <span class="hint">${t("seizure.itemCount", { count: value.items.length, max: MAX_ITEMS })}</span>
      </div>
    </fieldset>

    <div class="field">
      <label for=${idOf("body.notes")}>${t("seizure.field.notes")}
        <span class="hint"> ${t("seizure.optional")}</span></label>
      <textarea ...${control("body.notes", m("body.notes"))} rows="3" maxlength=${MAX_NOTES_CHARS}
        value=${value.notes} onInput=${(e) => set("body.notes", "notes", e.target.value)}></textarea>
      <${FieldError} field="body.notes" messages=${m("body.notes")} />
    </div>
    <${StandardSection} value=${value} onChange=${onChange} reportForm=${reportForm}
      messages=${m} markEdited=${markEdited} />
  </fieldset>`;
}

// An enum value as words, or the value itself when it is not one this client knows.
const word = (prefix, value, known) =>
  known.includes(value) ? t(`${prefix}.${value}`) : String(value ?? "");
const place = (code) => (isCountryCode(code) ? countryLabel(code) : String(code ?? ""));

export function SeizureSummary({ report }) {
  const route = report.route || {};
  const legs = [route.origin, ...(Array.isArray(route.transit) ? route.transit : []), route.destination];
  const items = Array.isArray(report.items) ? report.items : [];
  return html`<section class="seizure-summary" aria-label=${t("typ.seizure")}>
    <h3>${t("seizure.summary.title", { country: place(report.country) })}</h3>
    <dl class="seizure-facts">
      <div><dt>${t("seizure.field.occurred_on")}</dt><dd>${formatDate(report.occurred_on)}</dd></div>
      <div><dt>${t("seizure.field.country")}</dt><dd>${place(report.country)}</dd></div>
      ${report.location
        ? html`<div><dt>${t("seizure.field.location")}</dt><dd>${report.location}</dd></div>`
        : null}
      <div><dt>${t("seizure.field.route")}</dt>
        <dd class="route-line">${legs.map(
          (code, i) => html`${i ? html`<span aria-hidden="true"> → </span>` : null}<span
            class="route-stop" data-code=${code}>${place(code)}</span>`,
        )}</dd></div>
      <div><dt>${t("seizure.field.transport_mode")}</dt>
        <dd>${word("seizure.mode", report.transport_mode, TRANSPORT_MODES)}</dd></div>
      <div><dt>${t("seizure.field.detection")}</dt>
        <dd>${word("seizure.detection", report.detection, DETECTIONS)}</dd></div>
      <div><dt>${t("seizure.field.concealment")}</dt>
        <dd>${word("seizure.concealment", report.concealment, CONCEALMENTS)}</dd></div>
      <div><dt>${t("seizure.field.infringement")}</dt>
        <dd>${word("seizure.infringement", report.infringement, INFRINGEMENTS)}</dd></div>
    </dl>
    <table class="data seizure-items-table">
      <caption>${t("seizure.field.items")}</caption>
      <thead><tr>
        <th scope="col">${t("seizure.field.category")}</th>
        <th scope="col">${t("seizure.field.description")}</th>
        <th scope="col" class="num">${t("seizure.field.quantity")}</th>
        <th scope="col">${t("seizure.field.hs_code")}</th>
      </tr></thead>
      <tbody>${items.map(
        (item) => html`<tr>
          <td data-label=${t("seizure.field.category")}>
            ${word("seizure.category", item.category, CATEGORIES)}</td>
          <td data-label=${t("seizure.field.description")}>${item.description || "—"}</td>
          <td data-label=${t("seizure.field.quantity")} class="num">${t("seizure.quantity", {
            quantity:
              typeof item.quantity === "number" ? formatNumber(item.quantity) : String(item.quantity ?? ""),
            unit: word("seizure.unit", item.unit, UNITS),
          })}</td>
          <td data-label=${t("seizure.field.hs_code")}>
            ${item.hs_code ? html`<code>${item.hs_code}</code>` : "—"}</td>
        </tr>`,
      )}</tbody>
    </table>
    <${StandardSummary} report=${report} />
    ${report.notes
      ? html`<p class="text seizure-notes"><strong>${t("seizure.field.notes")}:</strong> ${report.notes}</p>`
      : null}
  </section>`;
}

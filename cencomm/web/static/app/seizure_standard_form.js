// The standard form's part of a seizure report: the conveyance by mode, the documents, the
// containers and the parties, optional (a box opens it) unless the group asks for the standard
// form; and their readable summary under a report.
import { useEffect } from "preact/hooks";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { countryLabel, isCountryCode } from "./countries.js";
import { Choice, CountryInput, FieldError, control, idOf } from "./seizure_fields.js";
import {
  CONVEYANCE_FIELDS,
  CONVEYANCE_MODES,
  DOCUMENT_TYPES,
  MAX_ADDRESS_CHARS,
  MAX_CONTAINERS,
  MAX_DOCUMENTS,
  MAX_NAME_CHARS,
  MAX_NUMBER_CHARS,
  MAX_PARTIES,
  MAX_VOYAGE_CHARS,
  PARTY_ROLES,
  conveyanceFor,
  emptyConveyance,
  emptyDocument,
  emptyParty,
  normalContainer,
} from "./seizure_standard_rules.js";

function TextField({ field, label, value, onInput, messages, max = MAX_NUMBER_CHARS, hint, optional }) {
  const hintId = hint ? `${idOf(field)}-hint` : undefined;
  return html`<div class="field">
    <label for=${idOf(field)}>${label}
      ${optional ? html`<span class="hint"> ${t("seizure.optional")}</span>` : null}</label>
    <input ...${control(field, messages, hintId)} value=${value} maxlength=${max} autocomplete="off"
      spellcheck="false" onInput=${(e) => onInput(e.target.value)} />
    ${hint ? html`<p class="hint" id=${hintId}>${hint}</p>` : null}
    <${FieldError} field=${field} messages=${messages} />
  </div>`;
}

function ConveyancePart({ value, set, m }) {
  const c = value.conveyance;
  const setField = (name, next) => set(`body.conveyance.${name}`, { conveyance: { ...c, [name]: next } });
  return html`<fieldset class="standard-conveyance">
    <legend>${t("standard.conveyance")}</legend>
    <div class="field">
      <label for=${idOf("body.conveyance.mode")}>${t("standard.field.mode")}</label>
      <select ...${control("body.conveyance.mode", m("body.conveyance.mode"))} value=${c.mode}
        onChange=${(e) => set("body.conveyance", { conveyance: { ...emptyConveyance(), mode: e.target.value } })}>
        <option value="">${t("standard.noConveyance")}</option>
        ${CONVEYANCE_MODES.map((mode) => html`<option value=${mode}>${t(`standard.mode.${mode}`)}</option>`)}
      </select>
      <${FieldError} field="body.conveyance.mode" messages=${m("body.conveyance.mode")} />
      <${FieldError} field="body.conveyance" messages=${m("body.conveyance")} />
    </div>
    <div class="seizure-grid">
      ${(CONVEYANCE_FIELDS[c.mode] || []).map(([name, required]) => {
        const field = `body.conveyance.${name}`;
        if (name === "registration_country") {
          return html`<div class="field">
            <label for=${idOf(field)}>${t(`standard.field.${name}`)}
              <span class="hint"> ${t("seizure.optional")}</span></label>
            <${CountryInput} field=${field} value=${c[name]} messages=${m(field)}
              onChange=${(code) => setField(name, code)} />
            <${FieldError} field=${field} messages=${m(field)} />
          </div>`;
        }
        const hint = { imo: t("standard.hint.imo"), flight_number: t("standard.hint.flight") }[name];
        return html`<${TextField} field=${field} label=${t(`standard.field.${name}`)} value=${c[name]}
          optional=${!required} hint=${hint} messages=${m(field)}
          max=${name === "voyage" ? MAX_VOYAGE_CHARS : name === "vessel_name" || name === "courier" ? MAX_NAME_CHARS : MAX_NUMBER_CHARS}
          onInput=${(next) => setField(name, next)} />`;
      })}
    </div>
  </fieldset>`;
}

function DocumentsPart({ value, set, m }) {
  const documents = value.documents;
  const change = (index, key, next) =>
    set(`body.documents[${index}].${key}`, {
      documents: documents.map((d, i) => (i === index ? { ...d, [key]: next } : d)),
    });
  return html`<fieldset class="standard-documents">
    <legend>${t("standard.documents")}</legend>
    <${FieldError} field="body.documents" messages=${m("body.documents")} />
    <ol class="standard-list">
      ${documents.map((d, index) => {
        const f = (key) => `body.documents[${index}].${key}`;
        return html`<li class="seizure-grid standard-row" data-document=${index}>
          <${Choice} field=${f("type")} label=${t("standard.documents.typeN", { n: index + 1 })}
            value=${d.type} options=${DOCUMENT_TYPES} prefix="standard.document" messages=${m(f("type"))}
            onChange=${(v) => change(index, "type", v)} />
          <${TextField} field=${f("number")} label=${t("standard.documents.numberN", { n: index + 1 })}
            value=${d.number} messages=${m(f("number"))}
            hint=${d.type === "awb" ? t("standard.hint.awb") : undefined}
            onInput=${(v) => change(index, "number", v)} />
          <button type="button" aria-label=${t("standard.documents.removeN", { n: index + 1 })}
            onClick=${() => set("body.documents", { documents: documents.filter((_, i) => i !== index) })}>
            ${t("seizure.remove")}</button>
        </li>`;
      })}
    </ol>
    <button type="button" disabled=${documents.length >= MAX_DOCUMENTS}
      onClick=${() => set("body.documents", { documents: [...documents, emptyDocument()] })}>
      ${t("standard.documents.add")}</button>
  </fieldset>`;
}

function ContainersPart({ value, set, m }) {
  const containers = value.containers;
  return html`<fieldset class="standard-containers">
    <legend>${t("standard.containers")}</legend>
    <p class="hint" id="sz-containers-hint">${t("standard.hint.container")}</p>
    <${FieldError} field="body.containers" messages=${m("body.containers")} />
    <ol class="standard-list">
      ${containers.map((number, index) => {
        const field = `body.containers[${index}]`;
        const normal = normalContainer(number);
        return html`<li class="field standard-row" data-container=${index}>
          <label for=${idOf(field)}>${t("standard.containers.n", { n: index + 1 })}</label>
          <div class="inline">
            <input ...${control(field, m(field), "sz-containers-hint")} value=${number}
              maxlength=${MAX_NUMBER_CHARS} autocomplete="off" spellcheck="false"
              onInput=${(e) =>
                set(field, { containers: containers.map((c, i) => (i === index ? e.target.value : c)) })} />
            <button type="button" aria-label=${t("standard.containers.removeN", { n: index + 1 })}
              onClick=${() => set("body.containers", { containers: containers.filter((_, i) => i !== index) })}>
              ${t("seizure.remove")}</button>
          </div>
          ${normal && normal !== number ? html`<p class="hint">${t("standard.hint.readAs", { value: normal })}</p>` : null}
          <${FieldError} field=${field} messages=${m(field)} />
        </li>`;
      })}
    </ol>
    <button type="button" disabled=${containers.length >= MAX_CONTAINERS}
      onClick=${() => set("body.containers", { containers: [...containers, ""] })}>
      ${t("standard.containers.add")}</button>
  </fieldset>`;
}

function PartiesPart({ value, set, m }) {
  const parties = value.parties;
  const change = (index, key, next) =>
    set(`body.parties[${index}].${key}`, {
      parties: parties.map((p, i) => (i === index ? { ...p, [key]: next } : p)),
    });
  return html`<fieldset class="standard-parties">
    <legend>${t("standard.parties")}</legend>
    <${FieldError} field="body.parties" messages=${m("body.parties")} />
    ${parties.map((p, index) => {
      const f = (key) => `body.parties[${index}].${key}`;
      return html`<fieldset class="standard-party" data-party=${index}>
        <legend>${t("standard.parties.n", { n: index + 1 })}</legend>
        <div class="seizure-grid">
          <${Choice} field=${f("role")} label=${t("standard.field.role")} value=${p.role}
            options=${PARTY_ROLES} prefix="standard.role" messages=${m(f("role"))}
            onChange=${(v) => change(index, "role", v)} />
          <${TextField} field=${f("name")} label=${t("standard.field.name")} value=${p.name}
            max=${MAX_NAME_CHARS} messages=${m(f("name"))} onInput=${(v) => change(index, "name", v)} />
          <div class="field">
            <label for=${idOf(f("country"))}>${t("standard.field.country")}</label>
            <${CountryInput} field=${f("country")} value=${p.country} messages=${m(f("country"))}
              onChange=${(code) => change(index, "country", code)} />
            <${FieldError} field=${f("country")} messages=${m(f("country"))} />
          </div>
          <${TextField} field=${f("identifier")} label=${t("standard.field.identifier")}
            value=${p.identifier} optional=${true} hint=${t("standard.hint.identifier")}
            messages=${m(f("identifier"))} onInput=${(v) => change(index, "identifier", v)} />
        </div>
        <${TextField} field=${f("address")} label=${t("standard.field.address")} value=${p.address}
          optional=${true} max=${MAX_ADDRESS_CHARS} messages=${m(f("address"))}
          onInput=${(v) => change(index, "address", v)} />
        <button type="button" aria-label=${t("standard.parties.removeN", { n: index + 1 })}
          onClick=${() => set("body.parties", { parties: parties.filter((_, i) => i !== index) })}>
          ${t("seizure.remove")}</button>
      </fieldset>`;
    })}
    <button type="button" disabled=${parties.length >= MAX_PARTIES}
      onClick=${() => set("body.parties", { parties: [...parties, emptyParty(parties.length ? "consignor" : "consignee")] })}>
      ${t("standard.parties.add")}</button>
  </fieldset>`;
}

// `value` is the report form's state; `onChange` gets the whole report back.
export function StandardSection({ value, onChange, reportForm, messages, markEdited }) {
  const standard = value.standard;
  const required = reportForm === "standard";
  const opened = (report, next) => {
    const current = report.standard;
    return {
      ...current,
      open: next,
      conveyance: next && !current.conveyance.mode
        ? { ...current.conveyance, mode: conveyanceFor(report.transport_mode) }
        : current.conveyance,
      documents: next && required && !current.documents.length ? [emptyDocument()] : current.documents,
    };
  };
  // A group on the standard form: the section is open, with a conveyance and a document to fill
  // (an update by function: the report form may fill in its country in the same render).
  useEffect(() => {
    if (required && !standard.open) onChange((old) => ({ ...old, standard: opened(old, true) }));
  }, [required, standard.open]);
  const set = (field, changes) => {
    markEdited(field);
    onChange({ ...value, standard: { ...standard, ...changes } });
  };
  const m = messages;
  return html`<fieldset class="seizure-standard" data-report-form=${reportForm || "simplified"}>
    <legend>${t("standard.title")}</legend>
    ${required
      ? html`<p class="hint">${t("standard.required")}</p>`
      : html`<label class="checkbox">
          <input type="checkbox" name="standard-open" checked=${standard.open}
            onChange=${(e) => {
              markEdited("body.conveyance");
              onChange({ ...value, standard: opened(value, e.target.checked) });
            }} />
          ${t("standard.open")}
        </label>`}
    ${standard.open
      ? html`<${ConveyancePart} value=${standard} set=${set} m=${m} />
          <${DocumentsPart} value=${standard} set=${set} m=${m} />
          <${ContainersPart} value=${standard} set=${set} m=${m} />
          <${PartiesPart} value=${standard} set=${set} m=${m} />`
      : html`<${FieldError} field="body.conveyance" messages=${m("body.conveyance")} />
          <${FieldError} field="body.documents" messages=${m("body.documents")} />`}
  </fieldset>`;
}

const place = (code) => (isCountryCode(code) ? countryLabel(code) : String(code ?? ""));
const known = (prefix, value, list) => (list.includes(value) ? t(`${prefix}.${value}`) : String(value ?? ""));

// The standard form's fields of a received report, when it has any.
export function StandardSummary({ report }) {
  const conveyance = report.conveyance && typeof report.conveyance === "object" ? report.conveyance : null;
  const documents = Array.isArray(report.documents) ? report.documents : [];
  const containers = Array.isArray(report.containers) ? report.containers : [];
  const parties = Array.isArray(report.parties) ? report.parties : [];
  if (!conveyance && !documents.length && !containers.length && !parties.length) return null;
  const fields = conveyance ? (CONVEYANCE_FIELDS[conveyance.mode] || []).filter(([name]) => conveyance[name]) : [];
  return html`<div class="standard-summary">
    ${conveyance
      ? html`<dl class="seizure-facts standard-conveyance-facts">
          <div><dt>${t("standard.conveyance")}</dt>
            <dd>${known("standard.mode", conveyance.mode, CONVEYANCE_MODES)}</dd></div>
          ${fields.map(
            ([name]) => html`<div><dt>${t(`standard.field.${name}`)}</dt>
              <dd>${name === "registration_country" ? place(conveyance[name]) : String(conveyance[name])}</dd></div>`,
          )}
        </dl>`
      : null}
    ${documents.length
      ? html`<p class="standard-documents-line"><strong>${t("standard.documents")}:</strong>
          ${documents.map(
            (d, i) => html`${i ? "; " : ""}<span class="standard-document">
              ${known("standard.document", d.type, DOCUMENT_TYPES)} <code>${String(d.number ?? "")}</code></span>`,
          )}</p>`
      : null}
    ${containers.length
      ? html`<p class="standard-containers-line"><strong>${t("standard.containers")}:</strong>
          ${containers.map((c, i) => html`${i ? ", " : ""}<code class="standard-container">${String(c)}</code>`)}</p>`
      : null}
    ${parties.length
      ? html`<table class="data standard-parties-table">
          <caption>${t("standard.parties")}</caption>
          <thead><tr>
            <th scope="col">${t("standard.field.role")}</th>
            <th scope="col">${t("standard.field.name")}</th>
            <th scope="col">${t("standard.field.country")}</th>
            <th scope="col">${t("standard.field.address")}</th>
            <th scope="col">${t("standard.field.identifier")}</th>
          </tr></thead>
          <tbody>${parties.map(
            (p) => html`<tr>
              <td data-label=${t("standard.field.role")}>${known("standard.role", p.role, PARTY_ROLES)}</td>
              <td data-label=${t("standard.field.name")}>${String(p.name ?? "")}</td>
              <td data-label=${t("standard.field.country")}>${place(p.country)}</td>
              <td data-label=${t("standard.field.address")}>${p.address || "—"}</td>
              <td data-label=${t("standard.field.identifier")}>${p.identifier || "—"}</td>
            </tr>`,
          )}</tbody>
        </table>`
      : null}
  </div>`;
}

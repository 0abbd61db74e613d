// The seizure form's building blocks: field ids, error messages tied to their controls, a
// country typed by name or code, a choice. Shared by the report's form and its standard part.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { countryLabel, isCountryCode, resolveCountry } from "./countries.js";

export const DATALIST = "seizure-countries";
export const idOf = (field) => `sz-${field.replace(/[^A-Za-z0-9]+/g, "-").replace(/-$/, "")}`;
export const errorIdOf = (field) => `${idOf(field)}-error`;

// The messages of `field`, unless the person changed that field (or a list holding it) since.
export function useFieldErrors(problem) {
  const [edited, setEdited] = useState(() => new Set());
  useEffect(() => setEdited(new Set()), [problem]);
  const covered = (field) =>
    [...edited].some((p) => field === p || field.startsWith(`${p}.`) || field.startsWith(`${p}[`));
  const messages = (field) =>
    covered(field) ? [] : (problem?.errors || []).filter((e) => e.field === field).map((e) => e.message);
  const markEdited = (field) => setEdited((old) => (old.has(field) ? old : new Set([...old, field])));
  return { messages, markEdited };
}

export function FieldError({ field, messages }) {
  if (!messages.length) return null;
  return html`<p class="field-error" id=${errorIdOf(field)} data-error-for=${field}>
    ${messages.join("; ")}</p>`;
}

// Attributes that tie a control to its field name and its error message.
export function control(field, messages, hintId) {
  const described = [messages.length ? errorIdOf(field) : null, hintId].filter(Boolean).join(" ");
  return {
    id: idOf(field),
    "data-field": field,
    "aria-invalid": messages.length ? "true" : "false",
    "aria-describedby": described || undefined,
  };
}

// A country typed by name or code, with the browser's suggestions; the form holds the code, or
// the text itself while it names no country (the check then says so).
export function CountryInput({ field, value, onChange, messages }) {
  const shown = (code) => (isCountryCode(code) ? countryLabel(code) : code || "");
  const [text, setText] = useState(() => shown(value));
  const emitted = useRef(value);
  useEffect(() => {
    if (value !== emitted.current) {
      emitted.current = value;
      setText(shown(value));
    }
  }, [value]);
  const typed = (event) => {
    const next = event.target.value;
    setText(next);
    const code = resolveCountry(next) ?? next.trim();
    emitted.current = code;
    onChange(code);
  };
  return html`<input ...${control(field, messages)} list=${DATALIST} value=${text}
    autocomplete="off" spellcheck="false"
    placeholder=${t("seizure.countryPlaceholder")}
    onInput=${typed} onBlur=${() => setText(shown(value))} />`;
}

export function Choice({ field, value, options, prefix, onChange, messages, label }) {
  return html`<div class="field">
    <label for=${idOf(field)}>${label}</label>
    <select ...${control(field, messages)} value=${value} onChange=${(e) => onChange(e.target.value)}>
      ${options.map((o) => html`<option value=${o}>${t(`${prefix}.${o}`)}</option>`)}
    </select>
    <${FieldError} field=${field} messages=${messages} />
  </div>`;
}

// Every string a person reads comes from i18n/<lang>.json; screens call t("key", {name: …}).
// Part 1 ships English; the catalogue is loaded before the first render.

let catalogue = {};
let language = "en";

export async function loadLanguage(base, lang = "en") {
  const response = await fetch(`${base}i18n/${lang}.json`, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`language ${lang}: ${response.status}`);
  catalogue = await response.json();
  language = lang;
  document.documentElement.lang = lang;
}

export function t(key, params = {}) {
  const template = catalogue[key];
  if (template === undefined) {
    console.warn(`missing text: ${key}`);
    return key;
  }
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    params[name] === undefined ? whole : String(params[name]),
  );
}

export const lang = () => language;

export function formatTime(iso) {
  if (!iso) return "";
  const when = new Date(iso);
  return new Intl.DateTimeFormat(language, {
    dateStyle: "medium",
    timeStyle: "short",
  }).format(when);
}

export function formatDate(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(language, { dateStyle: "medium", timeZone: "UTC" }).format(
    new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso),
  );
}

export const formatNumber = (value) => new Intl.NumberFormat(language).format(value);

let regionNames;
export function countryName(code) {
  regionNames ??= new Intl.DisplayNames([language], { type: "region" });
  try {
    return regionNames.of(code) || code;
  } catch {
    return code;
  }
}

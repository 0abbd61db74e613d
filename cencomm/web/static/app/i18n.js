// Every string a person reads comes from i18n/<lang>.json; screens call t("key", {name: …}).
// The language is the one the user chose (remembered in this browser), else the browser's first
// language we have, else English. Translators add a language by adding its catalogue and a line in
// i18n/languages.json (with "dir": "rtl" for Arabic): no code changes. A text with a numeric
// {count} may have plural forms: "key.one", "key.few", … (the language's Intl.PluralRules
// categories) are used when the catalogue has them, else "key".

const CHOICE_KEY = "cencomm.lang";

let catalogue = {};
let fallback = {};
let language = "en";
let languages = [];
let pseudo = [];

async function fetchJson(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

function pick(available) {
  const chosen = localStorage.getItem(CHOICE_KEY);
  if (chosen && available.some((l) => l.code === chosen)) return chosen;
  for (const wanted of navigator.languages || [navigator.language]) {
    const base = (wanted || "").toLowerCase().split("-")[0];
    const found = available.find((l) => l.code === base);
    if (found) return found.code;
  }
  return "en";
}

export async function loadLanguage(base) {
  const index = await fetchJson(`${base}i18n/languages.json`);
  languages = index.languages;
  pseudo = index.pseudo || [];
  const code = pick([...languages, ...pseudo]);
  const entry = [...languages, ...pseudo].find((l) => l.code === code);
  fallback = await fetchJson(`${base}i18n/en.json`);
  catalogue =
    entry.catalogue === "en" || code === "en"
      ? fallback
      : await fetchJson(`${base}i18n/${code}.json`).catch(() => fallback);
  language = code;
  document.documentElement.lang = code;
  document.documentElement.dir = entry.dir || "ltr";
}

export function availableLanguages() {
  return languages;
}

// Remember the choice and reload: every screen, date and number then follows it.
export function chooseLanguage(code) {
  localStorage.setItem(CHOICE_KEY, code);
  location.reload();
}

let pluralRules;
function pluralForm(key, count) {
  pluralRules ??= new Intl.PluralRules(locale());
  return catalogue[`${key}.${pluralRules.select(count)}`];
}

export function t(key, params = {}) {
  let template = typeof params.count === "number" ? pluralForm(key, params.count) : undefined;
  template ??= catalogue[key];
  if (template === undefined) {
    // Shown in English rather than as a key, but reported: every catalogue is complete.
    console.warn(`missing text (${language}): ${key}`);
    template = fallback[key] ?? key;
  }
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    params[name] === undefined ? whole : String(params[name]),
  );
}

// A problem's title in the reader's language when the catalogue has its slug, else the server's.
export function problemTitle(problem) {
  return catalogue[`problem.${problem.slug}`] ?? problem.title;
}

export const lang = () => language;
const locale = () => (language.includes("-x-") ? language.split("-x-")[0] : language);

export function formatTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(
    new Date(iso),
  );
}

export function formatDate(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeZone: "UTC" }).format(
    new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso),
  );
}

export const formatNumber = (value) => new Intl.NumberFormat(locale()).format(value);

let regionNames;
export function countryName(code) {
  regionNames ??= new Intl.DisplayNames([locale()], { type: "region" });
  try {
    return regionNames.of(code) || code;
  } catch {
    return code;
  }
}

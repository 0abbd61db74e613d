// Countries by name with their ISO 3166-1 alpha-2 codes: the same 249 officially assigned codes
// the server accepts (cencomm/domain/countries.py COUNTRY_CODES; tests/web/test_web_client_rules.py
// checks both lists are equal). Names come from the browser (Intl.DisplayNames) in the page's language.
import { countryName, lang } from "./i18n.js";

// prettier-ignore
export const COUNTRY_CODES = Object.freeze([
  "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
  "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
  "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
  "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
  "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
  "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
  "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
  "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
  "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
  "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
  "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
  "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
  "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
  "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
  "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
  "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
]);

const KNOWN = new Set(COUNTRY_CODES);
// The page's language as a locale (a pseudo-language such as en-x-long sorts as its base).
const locale = () => lang().split("-x-")[0];

export const isCountryCode = (value) => typeof value === "string" && KNOWN.has(value);

// "France (FR)": how a country is shown in pickers and summaries.
export function countryLabel(code) {
  if (!isCountryCode(code)) return code || "";
  const name = countryName(code);
  return name && name !== code ? `${name} (${code})` : code;
}

let sorted = null; // {lang, list: [{code, name, label}]} sorted by name in the page's language
export function countryOptions() {
  if (!sorted || sorted.lang !== lang()) {
    const list = COUNTRY_CODES.map((code) => ({ code, name: countryName(code), label: countryLabel(code) }));
    const collator = new Intl.Collator(locale());
    list.sort((a, b) => collator.compare(a.name, b.name));
    sorted = { lang: lang(), list };
  }
  return sorted.list;
}

// What a person typed into a country field, as a code: "France (FR)", "fr", "FR" or "France"
// (any case); null when it names no country.
export function resolveCountry(text) {
  const value = (text || "").trim();
  if (!value) return null;
  const inParens = /\(([A-Za-z]{2})\)$/.exec(value);
  if (inParens && isCountryCode(inParens[1].toUpperCase())) return inParens[1].toUpperCase();
  if (value.length === 2 && isCountryCode(value.toUpperCase())) return value.toUpperCase();
  const lowered = value.toLocaleLowerCase(locale());
  const found = countryOptions().find((c) => c.name.toLocaleLowerCase(locale()) === lowered);
  return found ? found.code : null;
}

// The six WCO regions (cencomm/domain/countries.py Region).
export const REGIONS = [
  "AMERICAS_CARIBBEAN",
  "ASIA_PACIFIC",
  "EAST_SOUTHERN_AFRICA",
  "EUROPE",
  "MENA",
  "WEST_CENTRAL_AFRICA",
];

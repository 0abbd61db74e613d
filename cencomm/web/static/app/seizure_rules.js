// The seizure report's rules, as the server applies them (cencomm/domain/seizures.py): the same
// fields, choices, limits and field names (`body.items[0].unit`), so the form can show every error
// before anything is signed. tests/web/test_web_client_rules.py checks the lists and limits here
// against the server's.
import { formatNumber, t } from "./i18n.js";
import { isCountryCode } from "./countries.js";
import { checkStandard, emptyStandard, standardBody, standardFieldLabel } from "./seizure_standard_rules.js";

export const TRANSPORT_MODES = ["air", "sea", "road", "rail", "postal", "express_courier"];
export const CATEGORIES = [
  "medicines",
  "masks",
  "gloves",
  "test_kits",
  "thermometers",
  "gowns",
  "goggles",
  "sanitizer",
  "other_supplies",
];
export const UNITS = ["units", "litres", "kg"];
export const INFRINGEMENTS = [
  "counterfeit",
  "falsified",
  "unauthorized",
  "substandard",
  "expired",
  "non_compliant",
  "undeclared",
  "other",
];
export const DETECTIONS = [
  "risk_profiling",
  "intelligence",
  "xray",
  "canine",
  "random",
  "documentary",
  "other",
];
export const CONCEALMENTS = [
  "mis_declaration",
  "hidden_in_cargo",
  "luggage",
  "body",
  "false_documents",
  "none",
  "other",
];

export const EARLIEST_OCCURRED_ON = "2000-01-01";
export const MAX_ITEMS = 50;
export const MAX_TRANSIT = 10;
export const MAX_LOCATION_CHARS = 200;
export const MAX_DESCRIPTION_CHARS = 500;
export const MAX_NOTES_CHARS = 5000;
export const MAX_QUANTITY = 1e12;
export const HS_CODE_MIN_DIGITS = 6;
export const HS_CODE_MAX_DIGITS = 10;

// Sanitizer is counted in litres; every other category in units or kg.
export const unitsFor = (category) => (category === "sanitizer" ? ["litres"] : ["units", "kg"]);

// The server checks `occurred_on` against its own clock in UTC.
export const todayUtc = () => new Date().toISOString().slice(0, 10);

export function emptyItem(category = "medicines") {
  return { category, description: "", quantity: "", unit: unitsFor(category)[0], hs_code: "" };
}

export function emptySeizure() {
  return {
    occurred_on: todayUtc(),
    country: "",
    location: "",
    transport_mode: "air",
    origin: "",
    transit: [],
    destination: "",
    items: [emptyItem()],
    infringement: "falsified",
    detection: "risk_profiling",
    concealment: "none",
    notes: "",
    standard: emptyStandard(),
  };
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const HS_CODE = /^\d+(\.\d+)*$/;
// A real calendar day written YYYY-MM-DD (2021-02-30 is not one).
function isDate(text) {
  if (!DATE.test(text)) return false;
  const [year, month, day] = text.split("-").map(Number);
  const when = new Date(0);
  when.setUTCFullYear(year, month - 1, day);
  if (year < 1) return false; // Python's dates start at year 1
  return when.getUTCFullYear() === year && when.getUTCMonth() === month - 1 && when.getUTCDate() === day;
}
const chars = (text) => [...text].length; // code points, as Python counts

// A typed quantity as the number to send, the text itself when it is not a number (the server
// then names it), or undefined when empty.
export function quantityValue(text) {
  const value = String(text ?? "").trim();
  if (!value) return undefined;
  return NUMBER.test(value) ? Number(value) : value;
}

// The body to sign, from the form's state; what is not filled in is left out, so the server's
// check names the very same fields as `checkSeizure`.
export function seizureBody(form) {
  const body = {};
  const put = (target, key, value) => {
    if (value !== undefined && value !== null && value !== "") target[key] = value;
  };
  put(body, "occurred_on", form.occurred_on);
  put(body, "country", form.country);
  put(body, "location", form.location.trim());
  put(body, "transport_mode", form.transport_mode);
  const route = {};
  put(route, "origin", form.origin);
  if (form.transit.length) route.transit = [...form.transit];
  put(route, "destination", form.destination);
  body.route = route;
  body.items = form.items.map((item) => {
    const out = {};
    put(out, "category", item.category);
    put(out, "description", item.description.trim());
    put(out, "quantity", quantityValue(item.quantity));
    put(out, "unit", item.unit);
    put(out, "hs_code", item.hs_code.trim());
    return out;
  });
  put(body, "infringement", form.infringement);
  put(body, "detection", form.detection);
  put(body, "concealment", form.concealment);
  put(body, "notes", form.notes.trim());
  return Object.assign(body, standardBody(form.standard));
}

// Every field error of a report, in the server's order and with its field names. `me` (GET /me)
// adds the rule that a report's country is the sender organisation's; `reportForm` (the group's)
// "standard" requires the standard section's conveyance and a document.
export function checkSeizure(form, me, reportForm) {
  const errors = [];
  const add = (field, message) => errors.push({ field, message });
  const required = t("seizure.error.required");
  const choice = (value, allowed, field) => {
    if (!value) add(field, required);
    else if (!allowed.includes(value)) add(field, t("seizure.error.choice"));
  };
  const country = (value, field) => {
    if (!value) add(field, required);
    else if (!isCountryCode(value)) add(field, t("seizure.error.country"));
  };
  const text = (value, max, field) => {
    if (chars(value.trim()) > max) add(field, t("seizure.error.tooLong", { max: formatNumber(max) }));
  };

  const day = form.occurred_on || "";
  const today = todayUtc();
  if (!day) add("body.occurred_on", required);
  else if (!isDate(day)) {
    add("body.occurred_on", t("seizure.error.date"));
  } else if (day < EARLIEST_OCCURRED_ON || day > today) {
    add("body.occurred_on", t("seizure.error.dateRange", { from: EARLIEST_OCCURRED_ON, to: today }));
  }

  country(form.country, "body.country");
  const orgCountry = me?.organization ? me.organization.country : undefined;
  if (me && isCountryCode(form.country)) {
    if (!orgCountry) add("body.country", t("seizure.error.noOrgCountry"));
    else if (form.country !== orgCountry) {
      add("body.country", t("seizure.error.orgCountry", { code: orgCountry }));
    }
  }
  text(form.location, MAX_LOCATION_CHARS, "body.location");
  choice(form.transport_mode, TRANSPORT_MODES, "body.transport_mode");

  country(form.origin, "body.route.origin");
  country(form.destination, "body.route.destination");
  if (form.transit.length > MAX_TRANSIT) {
    add("body.route.transit", t("seizure.error.transit", { max: MAX_TRANSIT }));
  } else {
    form.transit.forEach((code, index) => country(code, `body.route.transit[${index}]`));
  }

  if (form.items.length < 1 || form.items.length > MAX_ITEMS) {
    add("body.items", t("seizure.error.items", { max: MAX_ITEMS }));
  } else {
    form.items.forEach((item, index) => {
      const field = `body.items[${index}]`;
      choice(item.category, CATEGORIES, `${field}.category`);
      text(item.description, MAX_DESCRIPTION_CHARS, `${field}.description`);
      const quantity = quantityValue(item.quantity);
      if (quantity === undefined) add(`${field}.quantity`, required);
      else if (typeof quantity !== "number") add(`${field}.quantity`, t("seizure.error.number"));
      else if (!Number.isFinite(quantity)) add(`${field}.quantity`, t("seizure.error.finite"));
      else if (quantity <= 0) add(`${field}.quantity`, t("seizure.error.positive"));
      else if (quantity > MAX_QUANTITY) {
        add(`${field}.quantity`, t("seizure.error.max", { max: formatNumber(MAX_QUANTITY) }));
      }
      choice(item.unit, UNITS, `${field}.unit`);
      if (CATEGORIES.includes(item.category) && UNITS.includes(item.unit)) {
        if (!unitsFor(item.category).includes(item.unit)) {
          add(
            `${field}.unit`,
            item.category === "sanitizer"
              ? t("seizure.error.sanitizerUnit")
              : t("seizure.error.unit", { category: t(`seizure.category.${item.category}`) }),
          );
        }
      }
      const hs = item.hs_code.trim();
      if (hs) {
        const digits = hs.replace(/\D/g, "").length;
        if (!HS_CODE.test(hs) || digits < HS_CODE_MIN_DIGITS || digits > HS_CODE_MAX_DIGITS) {
          add(`${field}.hs_code`, t("seizure.error.hsCode"));
        }
      }
    });
  }

  choice(form.infringement, INFRINGEMENTS, "body.infringement");
  choice(form.detection, DETECTIONS, "body.detection");
  choice(form.concealment, CONCEALMENTS, "body.concealment");
  text(form.notes, MAX_NOTES_CHARS, "body.notes");
  errors.push(...checkStandard(form, reportForm));
  return errors;
}

// Readable names for the field names of a report's errors (for ProblemView's list).
export function seizureFieldLabel(field) {
  const standard = standardFieldLabel(field);
  if (standard) return standard;
  const item = /^body\.items\[(\d+)\]\.(category|description|quantity|unit|hs_code)$/.exec(field);
  if (item) {
    return t("seizure.field.item", { n: Number(item[1]) + 1, field: t(`seizure.field.${item[2]}`) });
  }
  const transit = /^body\.route\.transit\[(\d+)\]$/.exec(field);
  if (transit) return t("seizure.field.transitN", { n: Number(transit[1]) + 1 });
  const key = {
    "body.occurred_on": "occurred_on",
    "body.country": "country",
    "body.location": "location",
    "body.transport_mode": "transport_mode",
    "body.route": "route",
    "body.route.origin": "origin",
    "body.route.destination": "destination",
    "body.route.transit": "transit",
    "body.items": "items",
    "body.infringement": "infringement",
    "body.detection": "detection",
    "body.concealment": "concealment",
    "body.notes": "notes",
  }[field];
  return key ? t(`seizure.field.${key}`) : field;
}

export function seizureFieldLabels(problem) {
  return Object.fromEntries((problem?.errors || []).map((e) => [e.field, seizureFieldLabel(e.field)]));
}

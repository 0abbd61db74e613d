// The standard form's rules, as the server applies them (cencomm/domain/seizure_standard.py and
// identifiers.py): conveyance by mode, documents, containers and parties, with the same check
// digits (ISO 6346 containers, IMO ship numbers, air waybills), limits and field names
// (`body.documents[0].number`), so the form names every mistake before anything is signed; the
// server stays the judge. tests/web/test_web_client_standard_rules.py checks the lists and limits.
import { formatNumber, t } from "./i18n.js";
import { isCountryCode } from "./countries.js";

export const CONVEYANCE_MODES = ["vessel", "flight", "vehicle", "courier"];
export const DOCUMENT_TYPES = ["awb", "bl", "cmr", "invoice", "courier_tracking", "other"];
export const PARTY_ROLES = ["consignor", "consignee", "declarant", "carrier", "notify"];
export const REPORT_FORMS = ["simplified", "standard"];
// The fields of each conveyance mode: [name, required].
export const CONVEYANCE_FIELDS = {
  vessel: [["vessel_name", true], ["imo", false], ["voyage", false]],
  flight: [["flight_number", true]],
  vehicle: [["registration", true], ["registration_country", false]],
  courier: [["courier", true], ["tracking_number", true]],
};
// Which transport modes each conveyance suits.
export const CONVEYANCE_TRANSPORT = {
  vessel: ["sea"],
  flight: ["air"],
  vehicle: ["road", "rail"],
  courier: ["express_courier", "postal"],
};
export const MAX_DOCUMENTS = 20;
export const MAX_CONTAINERS = 50;
export const MAX_PARTIES = 20;
export const MAX_NAME_CHARS = 200;
export const MAX_ADDRESS_CHARS = 300;
export const MAX_VOYAGE_CHARS = 32;
export const MAX_NUMBER_CHARS = 64;
export const MIN_COMPACT = 2;
export const MAX_COMPACT = 40;

const chars = (text) => [...text].length; // code points, as Python counts

// Upper case, accents dropped, all but A to Z and the digits removed (`CSQU 305438-3` → `CSQU3054383`).
export function compact(value) {
  return String(value ?? "")
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toUpperCase()
    .replace(/[^0-9A-Z]+/g, "");
}

// ISO 6346: A = 10, B = 12, …, skipping every multiple of 11; each character weighted 2^position.
const LETTER_VALUES = (() => {
  const values = {};
  let value = 10;
  for (const letter of "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
    if (value % 11 === 0) value += 1;
    values[letter] = value;
    value += 1;
  }
  return values;
})();

export function iso6346CheckDigit(firstTen) {
  let total = 0;
  [...firstTen].forEach((ch, position) => {
    const value = /[A-Z]/.test(ch) ? LETTER_VALUES[ch] : Number(ch);
    total += value * 2 ** position;
  });
  return (total % 11) % 10;
}

// The container number in its normal form, or null when it is not ISO 6346 with a right check digit.
export function normalContainer(value) {
  const number = compact(value);
  if (!/^[A-Z]{3}[UJZ]\d{7}$/.test(number)) return null;
  return iso6346CheckDigit(number.slice(0, 10)) === Number(number[10]) ? number : null;
}

export function normalImo(value) {
  const match = /^(?:IMO)?(\d{7})$/.exec(compact(value));
  if (!match) return null;
  const digits = match[1];
  let total = 0;
  for (let i = 0; i < 6; i += 1) total += Number(digits[i]) * (7 - i);
  return total % 10 === Number(digits[6]) ? `IMO${digits}` : null;
}

export function normalFlight(value) {
  const match = /^([A-Z0-9]{2}(?<![0-9]{2})|[A-Z]{3})0*(\d{1,4})([A-Z]?)$/.exec(compact(value));
  return match ? `${match[1]}${Number(match[2])}${match[3]}` : null;
}

// An air waybill: a three-digit prefix and eight digits whose last is the first seven modulo 7.
export function awbCheckOk(number) {
  return /^\d{11}$/.test(number) && Number(number.slice(3, 10)) % 7 === Number(number[10]);
}

export const emptyConveyance = () => ({
  mode: "",
  vessel_name: "",
  imo: "",
  voyage: "",
  flight_number: "",
  registration: "",
  registration_country: "",
  courier: "",
  tracking_number: "",
});
export const emptyDocument = () => ({ type: "awb", number: "" });
export const emptyParty = (role = "consignee") => ({ role, name: "", country: "", address: "", identifier: "" });

// The section starts closed (a simplified report); a group on the standard form opens it.
export function emptyStandard() {
  return { open: false, conveyance: emptyConveyance(), documents: [], containers: [], parties: [] };
}

// The conveyance that suits a transport mode (the first guess when the section opens).
export function conveyanceFor(transportMode) {
  return CONVEYANCE_MODES.find((mode) => CONVEYANCE_TRANSPORT[mode].includes(transportMode)) || "";
}

// What the standard section adds to the body to sign (nothing while it is closed).
export function standardBody(standard) {
  if (!standard?.open) return {};
  const body = {};
  const c = standard.conveyance;
  if (c.mode) {
    const conveyance = { mode: c.mode };
    for (const [name] of CONVEYANCE_FIELDS[c.mode] || []) {
      const value = String(c[name] ?? "").trim();
      if (value) conveyance[name] = value;
    }
    body.conveyance = conveyance;
  }
  if (standard.documents.length) {
    body.documents = standard.documents.map((d) => {
      const out = { type: d.type };
      if (d.number.trim()) out.number = d.number.trim();
      return out;
    });
  }
  // A valid container number goes in its normal form (CSQU3054383); anything else as typed, for
  // the server to name.
  if (standard.containers.length) body.containers = standard.containers.map((c) => normalContainer(c) ?? c.trim());
  if (standard.parties.length) {
    body.parties = standard.parties.map((p) => {
      const out = { role: p.role };
      for (const key of ["name", "country", "address", "identifier"]) {
        const value = String(p[key] ?? "").trim();
        if (value) out[key] = value;
      }
      return out;
    });
  }
  return body;
}

// Every error of the standard section, with the server's field names. `reportForm` "standard"
// (the group's) requires the conveyance and at least one document.
export function checkStandard(form, reportForm) {
  const errors = [];
  const add = (field, message) => errors.push({ field, message });
  const required = t("seizure.error.required");
  const standard = form.standard;
  const open = Boolean(standard?.open);
  const string = (value, max, field) => {
    const text = String(value ?? "").trim();
    if (!text) {
      add(field, required);
      return null;
    }
    if (chars(text) > max) {
      add(field, t("seizure.error.tooLong", { max: formatNumber(max) }));
      return null;
    }
    return text;
  };
  const number = (value, field) => {
    const text = string(value, MAX_NUMBER_CHARS, field);
    if (text === null) return null;
    const length = compact(text).length;
    if (length < MIN_COMPACT || length > MAX_COMPACT) {
      add(field, t("standard.error.number", { min: MIN_COMPACT, max: MAX_COMPACT }));
      return null;
    }
    return text;
  };

  if (open) {
    const c = standard.conveyance;
    if (c.mode) {
      const suits = CONVEYANCE_TRANSPORT[c.mode] || [];
      if (form.transport_mode && !suits.includes(form.transport_mode)) {
        add(
          "body.conveyance.mode",
          t("standard.error.modeSuits", {
            mode: t(`standard.mode.${c.mode}`),
            modes: suits.map((m) => t(`seizure.mode.${m}`)).join(" / "),
          }),
        );
      }
      for (const [name, needed] of CONVEYANCE_FIELDS[c.mode] || []) {
        const field = `body.conveyance.${name}`;
        const value = String(c[name] ?? "").trim();
        if (!value && !needed) continue;
        if (name === "imo") {
          if (string(value, MAX_NUMBER_CHARS, field) !== null && !normalImo(value)) {
            add(field, t("standard.error.imo"));
          }
        } else if (name === "flight_number") {
          if (string(value, MAX_NUMBER_CHARS, field) !== null && !normalFlight(value)) {
            add(field, t("standard.error.flight"));
          }
        } else if (name === "registration_country") {
          if (!isCountryCode(value)) add(field, t("seizure.error.country"));
        } else if (name === "registration" || name === "tracking_number") {
          number(value, field);
        } else {
          string(value, name === "voyage" ? MAX_VOYAGE_CHARS : MAX_NAME_CHARS, field);
        }
      }
    }
    if (standard.documents.length > MAX_DOCUMENTS) {
      add("body.documents", t("standard.error.tooMany", { max: MAX_DOCUMENTS }));
    } else {
      standard.documents.forEach((d, index) => {
        const field = `body.documents[${index}]`;
        if (!DOCUMENT_TYPES.includes(d.type)) add(`${field}.type`, t("seizure.error.choice"));
        const text = number(d.number, `${field}.number`);
        if (text !== null && d.type === "awb" && !awbCheckOk(compact(text))) {
          add(`${field}.number`, t("standard.error.awb"));
        }
      });
    }
    if (standard.containers.length > MAX_CONTAINERS) {
      add("body.containers", t("standard.error.tooMany", { max: MAX_CONTAINERS }));
    } else {
      const seen = new Set();
      standard.containers.forEach((value, index) => {
        const field = `body.containers[${index}]`;
        if (string(value, MAX_NUMBER_CHARS, field) === null) return;
        const normal = normalContainer(value);
        if (!normal) add(field, t("standard.error.container"));
        else if (seen.has(normal)) add(field, t("standard.error.repeated"));
        else seen.add(normal);
      });
    }
    if (standard.parties.length > MAX_PARTIES) {
      add("body.parties", t("standard.error.tooMany", { max: MAX_PARTIES }));
    } else {
      standard.parties.forEach((p, index) => {
        const field = `body.parties[${index}]`;
        if (!PARTY_ROLES.includes(p.role)) add(`${field}.role`, t("seizure.error.choice"));
        const name = string(p.name, MAX_NAME_CHARS, `${field}.name`);
        if (name !== null && !/[\p{L}\p{N}]/u.test(name)) add(`${field}.name`, t("standard.error.name"));
        if (!p.country) add(`${field}.country`, required);
        else if (!isCountryCode(p.country)) add(`${field}.country`, t("seizure.error.country"));
        if (chars(p.address.trim()) > MAX_ADDRESS_CHARS) {
          add(`${field}.address`, t("seizure.error.tooLong", { max: formatNumber(MAX_ADDRESS_CHARS) }));
        }
        if (p.identifier.trim()) number(p.identifier, `${field}.identifier`);
      });
    }
  }
  if (reportForm === "standard") {
    if (!open || !standard.conveyance.mode) add("body.conveyance", t("standard.error.conveyanceRequired"));
    if (!open || !standard.documents.length) add("body.documents", t("standard.error.documentRequired"));
  }
  return errors;
}

// Readable names for the standard section's field names (for ProblemView's list), or null.
export function standardFieldLabel(field) {
  const conveyance = /^body\.conveyance(?:\.(\w+))?$/.exec(field);
  if (conveyance) {
    return conveyance[1] ? t(`standard.field.${conveyance[1]}`) : t("standard.conveyance");
  }
  const listed = /^body\.(documents|containers|parties)(?:\[(\d+)\](?:\.(\w+))?)?$/.exec(field);
  if (!listed) return null;
  const [, list, index, key] = listed;
  if (index === undefined) return t(`standard.${list}`);
  const n = Number(index) + 1;
  const row = t(`standard.${list}.n`, { n });
  return key ? `${row}: ${t(`standard.field.${key}`)}` : row;
}

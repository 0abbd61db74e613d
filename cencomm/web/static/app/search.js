// Search across the groups the caller may read (GET /search): words and the API's filters, kept
// in the URL (`#/search?q=…&typ=…`) so a reload or a copied link shows the same search. Results
// come newest first, more by `next`; each is verified in this browser like a timeline message.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { get, query } from "./api.js";
import { html } from "./html.js";
import { countryName, t } from "./i18n.js";
import { decodePayload } from "./jws.js";
import { MessageBody } from "./message_body.js";
import { navigate } from "./router.js";
import { SealBadges } from "./seals.js";
import { app } from "./state.js";
import { useStore } from "./store.js";
import { useVerification } from "./timeline.js";
import { ProblemView, Spinner, Time, TlpBadge, VerifiedBadge, tlpClass, useFocusHeading } from "./ui.js";

const PAGE = 25;
const FIELDS = ["q", "group_id", "typ", "from", "to", "country", "category", "sender_org"];
const FIELD_LABELS = {
  "query.q": "search.words",
  "query.group_id": "search.group",
  "query.typ": "search.typ",
  "query.from": "search.from",
  "query.to": "search.to",
  "query.country": "search.country",
  "query.category": "search.category",
  "query.sender_org": "search.senderOrg",
};
const TYPES = ["text", "notice", "seizure"];
const CATEGORIES = [
  "medicines", "masks", "gloves", "test_kits", "thermometers", "gowns", "goggles", "sanitizer",
  "other_supplies",
];
// Roles that may read the organisation directory (the others pick among organisations they see).
const DIRECTORY_ROLES = ["admin", "moderator"];

const formOf = (params) => Object.fromEntries(FIELDS.map((f) => [f, params.get(f) || ""]));

// The search as the URL keeps it: `q` always (an empty one is the server's to refuse), the
// filters when set.
function pathOf(form) {
  const params = new URLSearchParams();
  for (const field of FIELDS) {
    const value = field === "country" ? form.country.trim().toUpperCase() : form[field].trim();
    if (value || field === "q") params.set(field, value);
  }
  return `/search?${params}`;
}

// Country suggestions by name (the server decides which codes are valid).
let countries;
function countryOptions() {
  countries ??= Array.from({ length: 26 * 26 }, (_, n) =>
    String.fromCharCode(65 + Math.floor(n / 26), 65 + (n % 26)),
  )
    .map((code) => ({ code, name: countryName(code) }))
    .filter((c) => c.name !== c.code)
    .sort((a, b) => a.name.localeCompare(b.name));
  return countries;
}

// Organisations to filter by: the directory for those who may read it, else the caller's own and
// those of the senders found so far.
function useOrganizations(me, found) {
  const [directory, setDirectory] = useState([]);
  const [seen, setSeen] = useState(() => new Map());
  useEffect(() => {
    if (!DIRECTORY_ROLES.includes(me.role)) return;
    get(`organizations${query({ limit: 500 })}`)
      .then((page) => setDirectory(page.organizations))
      .catch(() => {});
  }, [me.id]);
  useEffect(() => {
    const added = found.filter((m) => !seen.has(m.sender.organization_id));
    if (!added.length) return;
    const next = new Map(seen);
    for (const m of added) next.set(m.sender.organization_id, m.sender.organization_name);
    setSeen(next);
  }, [found]);
  return useMemo(() => {
    const all = new Map(seen);
    if (me.organization) all.set(me.organization.id, me.organization.name);
    for (const org of directory) all.set(org.id, org.name);
    return [...all].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
  }, [directory, seen, me.id]);
}

function Result({ message, group }) {
  const verification = useVerification(message);
  // What is shown is what was signed: the JWS payload, never the server's copy of it.
  const payload = verification?.payload || (message.jws ? decodePayload(message.jws) : null);
  const link = `#/groups/${message.group_id}?seq=${message.seq}`;
  return html`<li class=${`message result ${tlpClass(message.hc)}`} data-id=${message.id}
    data-seq=${message.seq} data-typ=${message.typ}>
    <article aria-labelledby=${`r-${message.id}`}>
      <header class="message-head">
        <span class="group-code" data-group=${group?.code}>${group?.code || t("search.otherGroup")}</span>
        <span class="sender" id=${`r-${message.id}`}>${message.sender.display_name}</span>
        <span class="organization">${message.sender.organization_name}</span>
        <${Time} iso=${message.created_at} />
        <${TlpBadge} code=${message.hc} />
        ${message.jws ? html`<${VerifiedBadge} verification=${verification} />` : null}
        <${SealBadges} message=${message} />
      </header>
      ${message.hidden
        ? html`<p class="hidden-note" data-hidden="true">
            ${t("timeline.hidden")}${message.hidden_reason ? html`: <em>${message.hidden_reason}</em>` : null}
          </p>`
        : null}
      ${payload ? html`<${MessageBody} payload=${payload} groupId=${message.group_id} />` : null}
      <a class="open-in-group" href=${link}>
        ${t("search.open", { group: group?.code || t("search.otherGroup") })}</a>
    </article>
  </li>`;
}

function SearchForm({ initial, organizations, onSearch }) {
  const groups = useStore(app, (s) => s.groups);
  const [form, setForm] = useState(initial);
  const key = pathOf(initial);
  useEffect(() => setForm(initial), [key]); // the URL changed (a new search, back, forward)
  const field = (name) => ({
    id: `search-${name}`,
    name,
    value: form[name],
    onInput: (e) => {
      const { value } = e.target;
      setForm((current) => ({ ...current, [name]: value }));
    },
  });
  const known = (list, value) => !value || list.some((x) => x === value || x.id === value);
  return html`<form role="search" class="search-form" aria-label=${t("search.label")}
    onSubmit=${(e) => {
      e.preventDefault();
      onSearch(form);
    }} novalidate>
    <div class="search-words">
      <label for="search-q">${t("search.words")}</label>
      <input type="search" ...${field("q")} aria-describedby="search-q-hint" />
      <button type="submit" class="primary">${t("search.submit")}</button>
    </div>
    <p class="hint" id="search-q-hint">${t("search.wordsHint")}</p>
    <fieldset class="search-filters">
      <legend>${t("search.filters")}</legend>
      <label for="search-group_id">${t("search.group")}</label>
      <select ...${field("group_id")}>
        <option value="">${t("search.anyGroup")}</option>
        ${groups.map((g) => html`<option value=${g.id}>${g.code} · ${g.name}</option>`)}
        ${known(groups, form.group_id) ? null : html`<option value=${form.group_id}>${form.group_id}</option>`}
      </select>
      <label for="search-typ">${t("search.typ")}</label>
      <select ...${field("typ")}>
        <option value="">${t("search.anyTyp")}</option>
        ${TYPES.map((typ) => html`<option value=${typ}>${t(`typ.${typ}`)}</option>`)}
      </select>
      <label for="search-from">${t("search.from")}</label>
      <input type="date" ...${field("from")} />
      <label for="search-to">${t("search.to")}</label>
      <input type="date" ...${field("to")} />
      <label for="search-country">${t("search.country")}</label>
      <span class="search-country">
        <input ...${field("country")} list="search-countries" maxlength="2" size="4"
          autocapitalize="characters" aria-describedby="search-country-name" />
        <span id="search-country-name" class="hint">
          ${form.country.trim().length === 2 ? countryName(form.country.trim().toUpperCase()) : t("search.countryHint")}
        </span>
      </span>
      <datalist id="search-countries">
        ${countryOptions().map((c) => html`<option value=${c.code}>${c.name}</option>`)}
      </datalist>
      <label for="search-category">${t("search.category")}</label>
      <select ...${field("category")}>
        <option value="">${t("search.anyCategory")}</option>
        ${CATEGORIES.map((c) => html`<option value=${c}>${t(`search.category.${c}`)}</option>`)}
        ${known(CATEGORIES, form.category) ? null : html`<option value=${form.category}>${form.category}</option>`}
      </select>
      <label for="search-sender_org">${t("search.senderOrg")}</label>
      <select ...${field("sender_org")}>
        <option value="">${t("search.anyOrg")}</option>
        ${organizations.map((o) => html`<option value=${o.id}>${o.name}</option>`)}
        ${known(organizations, form.sender_org)
          ? null
          : html`<option value=${form.sender_org}>${t("search.chosenOrg")}</option>`}
      </select>
    </fieldset>
    ${FIELDS.some((f) => f !== "q" && initial[f])
      ? html`<p><a href="#/search">${t("search.clear")}</a></p>`
      : null}
  </form>`;
}

export function SearchScreen({ me, route }) {
  const initial = formOf(route.query);
  const key = pathOf(initial);
  const asked = route.query.has("q");
  const [results, setResults] = useState({ key: null, messages: [], next: null });
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const current = useRef(key);
  current.current = key;
  const groups = useStore(app, (s) => s.groups);
  const organizations = useOrganizations(me, results.messages);
  const heading = useFocusHeading([]);

  async function load(after) {
    setBusy(true);
    setProblem(null);
    try {
      const page = await get(`search${query({ ...initial, after, limit: PAGE })}`);
      if (current.current !== key) return; // another search began meanwhile
      setResults((shown) => ({
        key,
        messages: after ? [...shown.messages, ...page.messages] : page.messages,
        next: page.next,
      }));
    } catch (error) {
      if (current.current !== key) return;
      setProblem(error);
      if (!after) setResults({ key, messages: [], next: null });
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    setResults({ key: null, messages: [], next: null });
    setProblem(null);
    if (asked) load(null);
  }, [key, asked]);

  function submit(form) {
    const path = pathOf(form);
    // The same search again (no hash change): ask anew.
    if (location.hash === `#${path}`) load(null);
    else navigate(path);
  }

  const shown = results.key === key ? results.messages : [];
  const fieldLabels = Object.fromEntries(Object.entries(FIELD_LABELS).map(([f, k]) => [f, t(k)]));
  return html`<section class="screen search-screen" aria-labelledby="search-title">
    <h1 id="search-title" tabindex="-1" ref=${heading}>${t("search.title")}</h1>
    <${SearchForm} initial=${initial} organizations=${organizations} onSearch=${submit} />
    <${ProblemView} problem=${problem} fieldLabels=${fieldLabels} />
    ${asked && results.key === key
      ? html`<p class="search-count" role="status" data-count=${shown.length}>
          ${shown.length === 0
            ? t("search.none")
            : results.next
              ? t("search.countMore", { count: shown.length })
              : t(shown.length === 1 ? "search.countOne" : "search.count", { count: shown.length })}
        </p>`
      : null}
    ${shown.length
      ? html`<ol class="messages results" aria-label=${t("search.results")}>
          ${shown.map(
            (m) => html`<${Result} key=${m.id} message=${m}
              group=${groups.find((g) => g.id === m.group_id)} />`,
          )}
        </ol>`
      : null}
    ${busy ? html`<${Spinner} />` : null}
    ${results.next && results.key === key && !busy
      ? html`<p class="more"><button type="button" onClick=${() => load(results.next)}>
          ${t("search.more")}</button></p>`
      : null}
  </section>`;
}

// The audit viewer (`#/audit`): the server's signed tree head checked in this browser against the
// audit key, its consistency with the last head this browser saw (a server that rolls its log
// back or rewrites it is flagged), and for admins and moderators the entries, each with an RFC
// 9162 inclusion proof checked here against the verified head. The server is trusted for nothing
// but delivery: every verdict on this screen is computed in the browser.
import { useEffect, useState } from "preact/hooks";
import { get, query } from "./api.js";
import { decodeBytes, utf8 } from "./b64.js";
import { html } from "./html.js";
import { formatNumber, formatTime, t } from "./i18n.js";
import {
  equalBytes,
  fromHex,
  hashesFromHex,
  isHash,
  leafHash,
  toHex,
  verifyConsistency,
  verifyInclusion,
} from "./merkle.js";
import { app } from "./state.js";
import { useStore } from "./store.js";
import { ProblemView, Spinner, Time, useFocusHeading } from "./ui.js";
import { WitnessPanel, WitnessVerdict } from "./witness_panel.js";
import { verifyCheckpoint, witnessSettings } from "./witnesses.js";

const STAFF = ["admin", "moderator"];
// An entry's target type in the reader's language; a type not listed shows as the server sends it.
const TARGET_TYPES = ["alert", "attachment", "group", "join_request", "key", "message", "organization",
  "session", "user"]; // prettier-ignore
const targetName = (type) => (TARGET_TYPES.includes(type) ? t(`audit.target.${type}`) : type);
const PAGE = 50;

// The newest verified tree head this browser saw from this server (trust on first use).
const headKey = () => `cencomm.treeHead.${location.origin}`;

export function rememberedHead() {
  try {
    const head = JSON.parse(localStorage.getItem(headKey()) || "null");
    return head && Number.isSafeInteger(head.tree_size) && isHash(fromHex(head.root_hash)) ? head : null;
  } catch {
    return null;
  }
}

function remember(head) {
  const { tree_size, root_hash, timestamp, checkpoint, kid, signature } = head;
  localStorage.setItem(headKey(), JSON.stringify({ tree_size, root_hash, timestamp, checkpoint, kid, signature }));
}

export function forgetHead() {
  localStorage.removeItem(headKey());
}

function standardBase64(text) {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  return decodeBytes(text.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"));
}

// The checkpoint's own lines must say the head's size and root: "<origin>\n<size>\n<root b64>\n<time>\n".
function checkpointMatches(head) {
  if (typeof head.checkpoint !== "string") return false;
  const lines = head.checkpoint.split("\n");
  if (lines.length !== 5 || lines[4] !== "" || !lines[0]) return false;
  const [, size, root, stamp] = lines;
  if (!/^\d+$/.test(size) || !/^\d+$/.test(stamp)) return false;
  const rootBytes = standardBase64(root);
  return Number(size) === head.tree_size && isHash(rootBytes) && equalBytes(rootBytes, fromHex(head.root_hash));
}

// {ok, reason}: the head is signed by the audit key over its exact checkpoint bytes, and the
// checkpoint says the head's size and root.
export async function verifyTreeHead(head, key) {
  if (!head || !key || head.kid !== key.kid) return { ok: false, reason: "key" };
  if (!Number.isSafeInteger(head.tree_size) || !isHash(fromHex(head.root_hash)) || !checkpointMatches(head)) {
    return { ok: false, reason: "checkpoint" };
  }
  try {
    const publicKey = await crypto.subtle.importKey(
      "raw",
      decodeBytes(key.public_key),
      { name: "Ed25519" },
      false,
      ["verify"],
    );
    const ok = await crypto.subtle.verify(
      { name: "Ed25519" },
      publicKey,
      decodeBytes(head.signature),
      utf8(head.checkpoint),
    );
    return ok ? { ok: true, reason: null } : { ok: false, reason: "signature" };
  } catch {
    return { ok: false, reason: "signature" };
  }
}

// How a verified head relates to the remembered one: {state, previous, problem}. state: first |
// same | extends (both remembered afresh) | rolled-back | rewritten | inconsistent (alarms: the
// remembered head stays) | unavailable (the proof could not be fetched: checked again later).
export async function checkConsistency(head, previous = rememberedHead()) {
  if (!previous) return { state: "first", previous };
  if (head.tree_size < previous.tree_size) return { state: "rolled-back", previous };
  if (head.tree_size === previous.tree_size) {
    return { state: head.root_hash === previous.root_hash ? "same" : "rewritten", previous };
  }
  if (previous.tree_size === 0) return { state: "extends", previous };
  let answer;
  try {
    answer = await get(`audit/proof/consistency${query({ first: previous.tree_size, second: head.tree_size })}`);
  } catch (problem) {
    // The server no longer has a head it signed: its log went back.
    if (problem.status === 404) return { state: "rolled-back", previous };
    return { state: "unavailable", previous, problem };
  }
  const proof = hashesFromHex(answer?.proof);
  const ok =
    proof !== null &&
    (await verifyConsistency(
      previous.tree_size,
      head.tree_size,
      fromHex(previous.root_hash),
      fromHex(head.root_hash),
      proof,
    ));
  return { state: ok ? "extends" : "inconsistent", previous };
}

const ALARMS = ["rolled-back", "rewritten", "inconsistent"];

// The whole check: fetch, verify the signature, then consistency; a head that passes both is
// remembered. With witnesses configured in this browser the head is the server's checkpoint note,
// which must carry their quorum of cosignatures too. → {head, key, signature, witnessed, consistency}
async function checkServer() {
  const settings = witnessSettings();
  let head;
  let key;
  let witnessed = null;
  if (settings.keys.length) {
    key = await get("audit/key");
    const note = await (await get("audit/checkpoint")).text();
    witnessed = await verifyCheckpoint(note, key, settings);
    if (!witnessed.head) return { head: null, key, signature: { ok: false, reason: "checkpoint" }, witnessed, consistency: null };
    head = witnessed.head;
  } else {
    [head, key] = await Promise.all([get("audit/tree-head"), get("audit/key")]);
  }
  const signature = await verifyTreeHead(head, key);
  if (!signature.ok || (witnessed && !witnessed.ok)) return { head, key, signature, witnessed, consistency: null };
  const consistency = await checkConsistency(head);
  if (["first", "extends"].includes(consistency.state)) remember(head);
  return { head, key, signature, witnessed, consistency };
}

function sortedJson(value) {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${sortedJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

// Is entry `index` (as listed) in the verified head? → {ok, state, reason}: state "included",
// "newer" (written after the head was signed), or "failed" with a reason.
export async function checkInclusion(entry, head) {
  const index = entry.index;
  if (index >= head.tree_size) return { ok: false, state: "newer" };
  const fetched = await get(`audit/entries/${index}`);
  let parsed = null;
  try {
    parsed = JSON.parse(fetched.leaf);
  } catch {
    parsed = null;
  }
  // What this page shows must be what the leaf says.
  if (typeof fetched.leaf !== "string" || sortedJson(parsed) !== sortedJson(entry)) {
    return { ok: false, state: "failed", reason: "leaf" };
  }
  const leaf = await leafHash(utf8(fetched.leaf));
  const proof = await get(`audit/proof/inclusion${query({ index, tree_size: head.tree_size })}`);
  if (proof?.leaf_hash !== toHex(leaf)) return { ok: false, state: "failed", reason: "leaf-hash" };
  const path = hashesFromHex(proof.audit_path);
  if (path === null) return { ok: false, state: "failed", reason: "path" };
  const ok = await verifyInclusion(leaf, index, head.tree_size, path, fromHex(head.root_hash));
  return ok ? { ok, state: "included" } : { ok, state: "failed", reason: "path" };
}

function HeadFacts({ head }) {
  return html`<dl class="facts">
    <dt>${t("audit.head.size")}</dt><dd data-tree-size=${head.tree_size}>${formatNumber(head.tree_size)}</dd>
    <dt>${t("audit.head.root")}</dt><dd><code class="hash">${head.root_hash}</code></dd>
    <dt>${t("audit.head.signedAt")}</dt><dd><${Time} iso=${head.timestamp} /></dd>
    <dt>${t("audit.head.key")}</dt><dd><code class="hash">${head.kid}</code></dd>
  </dl>`;
}

function ConsistencyView({ result, onForget }) {
  const { state, previous, problem } = result;
  const params = { size: formatNumber(previous?.tree_size ?? 0), time: formatTime(previous?.timestamp) };
  if (ALARMS.includes(state)) {
    return html`<div class="alarm" role="alert" data-consistency=${state}>
      <strong>${t(`audit.consistency.${state}`, params)}</strong>
      <p>${t("audit.consistency.alarmHelp")}</p>
      <button type="button" onClick=${onForget}>${t("audit.consistency.forget")}</button>
    </div>`;
  }
  return html`<div class="consistency" data-consistency=${state}>
    <p class=${state === "unavailable" ? "" : "ok"}>${t(`audit.consistency.${state}`, params)}</p>
    ${problem ? html`<${ProblemView} problem=${problem} />` : null}
  </div>`;
}

function TreeHeadPanel({ check, problem, busy, onRefresh, onForget }) {
  return html`<section class="panel" aria-labelledby="tree-head-title">
    <h2 id="tree-head-title">${t("audit.head.title")}</h2>
    <p class="hint">${t("audit.head.lead")}</p>
    <${ProblemView} problem=${problem} />
    ${!check
      ? busy ? html`<${Spinner} />` : null
      : html`${check.head ? html`<${HeadFacts} head=${check.head} />` : null}
          ${check.signature.ok
            ? html`<p class="verdict verdict-ok" data-verified="true">✓ ${t("audit.head.verified")}</p>`
            : html`<div class="alarm" role="alert" data-verified="false">
                <strong>✗ ${t("audit.head.notVerified")}</strong>
                <p>${t(`audit.head.reason.${check.signature.reason}`)}</p>
              </div>`}
          ${check.witnessed ? html`<${WitnessVerdict} result=${check.witnessed} />` : null}
          ${check.consistency ? html`<${ConsistencyView} result=${check.consistency} onForget=${onForget} />` : null}`}
    <p class="actions">
      <button type="button" onClick=${onRefresh} disabled=${busy}>
        ${busy ? t("audit.head.checking") : t("audit.head.refresh")}</button>
    </p>
  </section>`;
}

function InclusionResult({ result }) {
  if (!result) return null;
  if (result.checking) return html`<span class="badge badge-pending" role="status">${t("audit.inclusion.checking")}</span>`;
  if (result.problem) return html`<${ProblemView} problem=${result.problem} />`;
  if (result.state === "included") {
    return html`<span class="badge badge-verified" role="status" data-inclusion="included"
      >✓ ${t("audit.inclusion.included", { size: formatNumber(result.size) })}</span>`;
  }
  if (result.state === "newer") {
    return html`<span class="badge badge-pending" role="status" data-inclusion="newer"
      >${t("audit.inclusion.newer")}</span>`;
  }
  return html`<span class="badge badge-unverified" role="alert" data-inclusion="failed"
    >✗ ${t("audit.inclusion.failed")}${t("common.colon")}${t(`audit.inclusion.reason.${result.reason}`)}</span>`;
}

const EMPTY_FILTERS = { actor_id: "", group_id: "", action: "", since: "", until: "" };

// datetime-local (the reader's local time) → RFC 3339 with a zone, as the API wants.
function zoned(local) {
  if (!local) return "";
  const when = new Date(local);
  return Number.isNaN(when.getTime()) ? local : when.toISOString();
}

const FILTER_LABELS = () => ({
  "query.actor_id": t("audit.filter.actor"),
  "query.group_id": t("audit.filter.group"),
  "query.action": t("audit.filter.action"),
  "query.since": t("audit.filter.since"),
  "query.until": t("audit.filter.until"),
});

function EntriesPanel({ head }) {
  const groups = useStore(app, (s) => s.groups);
  const [draft, setDraft] = useState(EMPTY_FILTERS);
  const [filters, setFilters] = useState(EMPTY_FILTERS);
  const [entries, setEntries] = useState(null);
  const [next, setNext] = useState(null);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const [results, setResults] = useState({});

  async function load(after, current = filters) {
    setBusy(true);
    setProblem(null);
    try {
      const page = await get(
        `audit${query({ ...current, since: zoned(current.since), until: zoned(current.until), after, limit: PAGE })}`,
      );
      setEntries((old) => (after === null ? page.entries : [...(old || []), ...page.entries]));
      setNext(page.next);
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    load(null);
  }, []);

  function apply(event) {
    event.preventDefault();
    setFilters(draft);
    setResults({});
    load(null, draft);
  }

  function clear() {
    setDraft(EMPTY_FILTERS);
    setFilters(EMPTY_FILTERS);
    setResults({});
    load(null, EMPTY_FILTERS);
  }

  async function check(entry) {
    const set = (value) => setResults((old) => ({ ...old, [entry.index]: value }));
    set({ checking: true });
    try {
      set({ ...(await checkInclusion(entry, head)), size: head.tree_size });
    } catch (error) {
      set({ problem: error });
    }
  }

  const field = (name, type = "text", extra = {}) => html`<label>
    ${t(`audit.filter.${extra.label || name}`)}
    <input type=${type} name=${name} value=${draft[name]} list=${extra.list}
      onInput=${(e) => setDraft({ ...draft, [name]: e.currentTarget.value })} />
  </label>`;

  return html`<section class="panel" aria-labelledby="entries-title">
    <h2 id="entries-title">${t("audit.entries.title")}</h2>
    <form class="filters" onSubmit=${apply} aria-label=${t("audit.filter.label")}>
      ${field("actor_id", "text", { label: "actor" })}
      ${field("group_id", "text", { label: "group", list: "audit-groups" })}
      ${field("action", "text")}
      ${field("since", "datetime-local")}
      ${field("until", "datetime-local")}
      <datalist id="audit-groups">
        ${groups.map((g) => html`<option value=${g.id}>${g.code} ${g.name}</option>`)}
      </datalist>
      <div class="filter-actions">
        <button type="submit" class="primary" disabled=${busy}>${t("audit.filter.apply")}</button>
        <button type="button" onClick=${clear} disabled=${busy}>${t("audit.filter.clear")}</button>
      </div>
    </form>
    <${ProblemView} problem=${problem} fieldLabels=${FILTER_LABELS()} />
    ${!head ? html`<p class="info">${t("audit.entries.noHead")}</p>` : null}
    ${entries === null
      ? busy ? html`<${Spinner} />` : null
      : entries.length === 0
        ? html`<p class="empty">${t("audit.entries.none")}</p>`
        : html`<table class="data audit-entries">
            <caption class="visually-hidden">${t("audit.entries.title")}</caption>
            <thead><tr>
              <th scope="col">${t("audit.entries.index")}</th>
              <th scope="col">${t("audit.entries.at")}</th>
              <th scope="col">${t("audit.entries.action")}</th>
              <th scope="col">${t("audit.entries.actor")}</th>
              <th scope="col">${t("audit.entries.target")}</th>
              <th scope="col">${t("audit.entries.proof")}</th>
            </tr></thead>
            <tbody>
              ${entries.map(
                (entry) => html`<tr key=${entry.index} data-index=${entry.index}>
                  <td>${formatNumber(entry.index)}</td>
                  <td><${Time} iso=${entry.at} /></td>
                  <td><code>${entry.action}</code>
                    ${Object.keys(entry.details || {}).length
                      ? html`<details><summary>${t("audit.entries.details")}</summary>
                          <pre class="details">${JSON.stringify(entry.details, null, 2)}</pre></details>`
                      : null}</td>
                  <td>${entry.actor_id ? html`<code class="hash">${entry.actor_id}</code>` : t("audit.entries.system")}
                    ${entry.ip ? html`<span class="hint"> · ${entry.ip}</span>` : null}</td>
                  <td>${entry.target_type
                      ? html`${targetName(entry.target_type)} <code class="hash">${entry.target_id || ""}</code>`
                      : ""}
                    ${entry.group_id
                      ? html`<span class="hint"> · ${t("audit.entries.group")}
                          <code class="hash">${entry.group_id}</code></span>`
                      : null}</td>
                  <td class="proof-cell">
                    <button type="button" disabled=${!head || results[entry.index]?.checking}
                      aria-label=${t("audit.inclusion.checkEntry", { index: formatNumber(entry.index) })}
                      onClick=${() => check(entry)}>${t("audit.inclusion.check")}</button>
                    <${InclusionResult} result=${results[entry.index]} />
                  </td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    ${next !== null && entries
      ? html`<p><button type="button" onClick=${() => load(next)} disabled=${busy}>
          ${busy ? t("common.loading") : t("audit.entries.more")}</button></p>`
      : null}
  </section>`;
}

export function AuditScreen({ me }) {
  const heading = useFocusHeading([]);
  const [check, setCheck] = useState(null);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);

  async function refresh() {
    setBusy(true);
    setProblem(null);
    try {
      setCheck(await checkServer());
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    refresh();
  }, []);

  function forget() {
    forgetHead();
    refresh();
  }

  // Proofs are checked only against a head whose signature verified (and witnesses' quorum, when
  // configured) and that did not go back.
  const trusted =
    check?.signature.ok && (!check.witnessed || check.witnessed.ok) && !ALARMS.includes(check.consistency?.state)
      ? check.head
      : null;
  return html`<section class="screen audit-screen" aria-labelledby="audit-title">
    <h1 id="audit-title" tabindex="-1" ref=${heading}>${t("audit.title")}</h1>
    <p>${t("audit.lead")}</p>
    <${TreeHeadPanel} check=${check} problem=${problem} busy=${busy} onRefresh=${refresh} onForget=${forget} />
    <${WitnessPanel} onSaved=${refresh} />
    ${STAFF.includes(me.role) ? html`<${EntriesPanel} head=${trusted} />` : null}
  </section>`;
}

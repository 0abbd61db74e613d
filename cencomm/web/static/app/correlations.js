// Correlations: the identifiers (containers, documents, vessels, parties …) an operation's seizure
// reports share (GET /groups/{id}/correlations), and under each report the reports it links to
// (GET /messages/{id}/related), with a request to share when a match sits in an operation the
// reader cannot see (POST /messages/{id}/share-requests). A `correlation` live frame about the
// group on screen fetches the list again.
import { useEffect, useRef, useState } from "preact/hooks";
import { get, post, query } from "./api.js";
import { html } from "./html.js";
import { countryName, formatDate, t } from "./i18n.js";
import { live } from "./live.js";
import { app } from "./state.js";
import { useStore } from "./store.js";
import { ConfirmAction } from "./confirm.js";
import { ProblemView, Spinner, TlpBadge, useFocusHeading } from "./ui.js";

const PAGE = 50;
const MAX_REASON = 1000; // a share request's reason (the server's limit)
export const IDENTIFIER_KINDS = ["container", "document", "vessel", "flight", "vehicle", "tracking",
  "party", "party_id"]; // prettier-ignore

export const kindName = (kind) =>
  IDENTIFIER_KINDS.includes(kind) ? t(`correl.kind.${kind}`) : kind;

export function IdentifierLabel({ identifier }) {
  return html`<span class="identifier" data-kind=${identifier.kind} data-value=${identifier.value}>
    <span class="identifier-kind">${kindName(identifier.kind)}</span>${t("common.colon")}<strong
      >${identifier.label}</strong></span>`;
}

// Whether a report body carries anything that can link it to another report.
export function hasIdentifiers(body) {
  return Boolean(
    body?.conveyance || body?.documents?.length || body?.containers?.length || body?.parties?.length,
  );
}

function ShareRequest({ messageId, identifier }) {
  const [reason, setReason] = useState("");
  const [sent, setSent] = useState(false);
  if (sent) return html`<p class="ok" role="status" data-share-sent="true">${t("correl.shareSent")}</p>`;
  return html`<${ConfirmAction} label=${t("correl.askShare")}
    question=${t("correl.askShareQuestion", { label: identifier.label })}
    confirmLabel=${t("correl.sendShare")} canConfirm=${reason.trim().length > 0}
    onConfirm=${async () => {
      await post(`messages/${messageId}/share-requests`, {
        kind: identifier.kind,
        value: identifier.value,
        reason: reason.trim(),
      });
      setSent(true);
    }}>
    <label for=${`share-reason-${identifier.kind}-${identifier.value}`}>${t("correl.shareReason")}</label>
    <textarea id=${`share-reason-${identifier.kind}-${identifier.value}`} rows="2"
      maxlength=${MAX_REASON} value=${reason} onInput=${(e) => setReason(e.target.value)}></textarea>
  <//>`;
}

// Under a seizure report: the reports it links to, opened on demand (one request per report).
// `canAsk`: the reader may ask another operation to share (observers may not).
export function RelatedReports({ message, canAsk = true }) {
  const [open, setOpen] = useState(false);
  const [data, setData] = useState(null);
  const [problem, setProblem] = useState(null);
  const groups = useStore(app, (s) => s.groups);
  useEffect(() => {
    if (!open || data) return;
    get(`messages/${message.id}/related${query({ limit: PAGE })}`).then(setData).catch(setProblem);
  }, [open, message.id]);
  const codeOf = (id, code) => code || groups.find((g) => g.id === id)?.code || t("search.otherGroup");
  return html`<div class="related" data-related=${message.id}>
    <button type="button" class="link" aria-expanded=${open ? "true" : "false"}
      onClick=${() => setOpen(!open)}>${t("correl.related")}</button>
    ${open
      ? html`<div class="related-panel">
          <${ProblemView} problem=${problem} />
          ${!data && !problem ? html`<${Spinner} />` : null}
          ${data && !data.related.length && !data.elsewhere.length
            ? html`<p class="empty">${t("correl.noneRelated")}</p>`
            : null}
          ${data?.related.length
            ? html`<ul class="related-list">
                ${data.related.map(
                  (r) => html`<li data-message=${r.message_id}>
                    <a href=${`#/groups/${r.group_id}?seq=${r.seq}`}>
                      ${t("correl.reportIn", { group: codeOf(r.group_id, r.group_code), seq: r.seq })}</a>
                    ${" · "}${countryName(r.country)} · ${formatDate(r.occurred_on)}
                    ${" "}<${TlpBadge} code=${r.hc} />
                    <ul class="shared">
                      ${r.shared.map((i) => html`<li><${IdentifierLabel} identifier=${i} /></li>`)}
                    </ul>
                  </li>`,
                )}
              </ul>`
            : null}
          ${data?.elsewhere.length
            ? html`<div class="elsewhere" data-elsewhere="true">
                <p>${t(canAsk ? "correl.elsewhere" : "correl.elsewhereReadOnly")}</p>
                <ul>
                  ${data.elsewhere.map(
                    (i) => html`<li><${IdentifierLabel} identifier=${i} />
                      ${canAsk
                        ? html`<${ShareRequest} messageId=${message.id} identifier=${i} />`
                        : null}</li>`,
                  )}
                </ul>
              </div>`
            : null}
        </div>`
      : null}
  </div>`;
}

// `/#/groups/<id>/correlations`: the identifiers seen in more than one report, most linked first.
export function CorrelationsScreen({ route }) {
  const groupId = route.params.groupId;
  const group = useStore(app, (s) => s.groups.find((g) => g.id === groupId) || null);
  const [rows, setRows] = useState(null);
  const [next, setNext] = useState(null);
  const [problem, setProblem] = useState(null);
  const latest = useRef(0);
  const heading = useFocusHeading([groupId]);

  async function load(after = null) {
    const ticket = ++latest.current;
    try {
      const page = await get(`groups/${groupId}/correlations${query({ limit: PAGE, after })}`);
      if (ticket !== latest.current) return;
      setRows((current) => (after ? [...(current || []), ...page.correlations] : page.correlations));
      setNext(page.next);
      setProblem(null);
    } catch (error) {
      if (ticket === latest.current) setProblem(error);
    }
  }

  useEffect(() => {
    setRows(null);
    load();
    return live.on("correlation", (frame) => {
      if (frame.group_id === groupId) load();
    });
  }, [groupId]);

  return html`<section class="screen correlations" aria-labelledby="correl-title">
    <h1 id="correl-title" tabindex="-1" ref=${heading}>
      ${t("correl.title", { group: group?.code || "" })}</h1>
    <p>${t("correl.lead")}</p>
    <p><a href=${`#/groups/${groupId}`}>${t("correl.back")}</a> ·
      <a href=${`#/groups/${groupId}/dashboard`}>${t("correl.dashboard")}</a></p>
    <${ProblemView} problem=${problem} />
    ${rows === null && !problem ? html`<${Spinner} />` : null}
    ${rows && !rows.length ? html`<p class="empty">${t("correl.none")}</p>` : null}
    ${rows?.length
      ? html`<table class="data correlations-table">
          <caption class="visually-hidden">${t("correl.caption")}</caption>
          <thead><tr>
            <th scope="col">${t("correl.identifier")}</th>
            <th scope="col" class="num">${t("correl.reports")}</th>
            <th scope="col">${t("correl.countries")}</th>
            <th scope="col">${t("correl.period")}</th>
          </tr></thead>
          <tbody>
            ${rows.map(
              (row) => html`<tr data-kind=${row.kind} data-value=${row.value}>
                <th scope="row"><${IdentifierLabel} identifier=${row} /></th>
                <td class="num">${row.reports}</td>
                <td>${row.countries.map(countryName).join(", ")}</td>
                <td>${formatDate(row.first_seen)} – ${formatDate(row.last_seen)}</td>
              </tr>`,
            )}
          </tbody>
        </table>`
      : null}
    ${next ? html`<button type="button" onClick=${() => load(next)}>${t("correl.more")}</button>` : null}
  </section>`;
}

// Share requests across operations (`/#/share-requests`): the requests I sent (and, once a group
// consented, the reports shared with me), and for the groups I moderate the requests waiting for a
// decision, each with the identifier that matched and who asks. A `share_request` live frame (a
// new request to one of my groups, a decision on one of mine) fetches the list it concerns again.
import { useEffect, useState } from "preact/hooks";
import { get, post, query } from "./api.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { decodePayload } from "./jws.js";
import { live } from "./live.js";
import { app } from "./state.js";
import { useStore } from "./store.js";
import { ConfirmAction } from "./confirm.js";
import { IdentifierLabel } from "./correlations.js";
import { MessageBody } from "./message_body.js";
import { ProblemView, Spinner, Time, TlpBadge, useFocusHeading } from "./ui.js";

const STAFF = new Set(["admin", "moderator"]);
const PAGE = 100;

function SharedReports({ requestId }) {
  const [request, setRequest] = useState(null);
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    get(`share-requests/${requestId}`).then(setRequest).catch(setProblem);
  }, [requestId]);
  if (problem) return html`<${ProblemView} problem=${problem} />`;
  if (!request) return html`<${Spinner} />`;
  const reports = request.shared_reports || [];
  if (!reports.length) return html`<p class="empty">${t("share.noneShared")}</p>`;
  return html`<ul class="shared-reports">
    ${reports.map(
      (m) => html`<li class="message" data-id=${m.id}>
        <p class="message-head">${m.sender?.display_name} · <${Time} iso=${m.created_at} />
          ${" "}<${TlpBadge} code=${m.hc} /></p>
        ${m.jws ? html`<${MessageBody} payload=${decodePayload(m.jws)} groupId=${m.group_id} />` : null}
      </li>`,
    )}
  </ul>`;
}

function MyRequests() {
  const [requests, setRequests] = useState(null);
  const [problem, setProblem] = useState(null);
  const load = () =>
    get(`share-requests${query({ limit: PAGE })}`)
      .then((page) => {
        setRequests(page.share_requests);
        setProblem(null);
      })
      .catch(setProblem);
  useEffect(() => {
    load();
    // To the requester, a decision that changes the overall status (`group_id` null).
    return live.on("share_request", (frame) => {
      if (!frame.group_id) load();
    });
  }, []);
  return html`<section aria-labelledby="share-mine-title">
    <h2 id="share-mine-title">${t("share.mine")}</h2>
    <${ProblemView} problem=${problem} />
    ${requests === null && !problem ? html`<${Spinner} />` : null}
    ${requests && !requests.length ? html`<p class="empty">${t("share.noneMine")}</p>` : null}
    <ul class="request-list">
      ${(requests || []).map(
        (r) => html`<li class="request" data-request=${r.id} data-status=${r.status}>
          <p><${IdentifierLabel} identifier=${r.identifier} /> · ${t(`share.status.${r.status}`)}
            · <${Time} iso=${r.created_at} /></p>
          <blockquote class="request-reason">${r.reason}</blockquote>
          ${r.status === "approved"
            ? html`<details><summary>${t("share.showShared")}</summary>
                <${SharedReports} requestId=${r.id} /></details>`
            : null}
        </li>`,
      )}
    </ul>
  </section>`;
}

function GroupQueue({ group, onCount }) {
  const [requests, setRequests] = useState(null);
  const [problem, setProblem] = useState(null);
  const load = () =>
    get(`groups/${group.id}/share-requests${query({ limit: PAGE })}`)
      .then((page) => {
        setRequests(page.share_requests);
        setProblem(null);
        onCount(group.id, page.share_requests.length);
      })
      .catch(setProblem);
  useEffect(() => {
    load();
    // A new request to this group (or a decision by another of its moderators).
    return live.on("share_request", (frame) => {
      if (frame.group_id === group.id) load();
    });
  }, [group.id]);
  const decide = async (request, action) => {
    await post(`share-requests/${request.id}/${action}`, { group_id: group.id });
    await load();
  };
  if (requests && !requests.length) return null;
  return html`<section class="share-queue" data-group=${group.id}
    aria-labelledby=${`share-q-${group.id}`}>
    <h3 id=${`share-q-${group.id}`}>${group.code}</h3>
    <${ProblemView} problem=${problem} />
    ${requests === null && !problem ? html`<${Spinner} />` : null}
    <ul class="request-list">
      ${(requests || []).map(
        (r) => html`<li class="request" data-request=${r.id} data-status=${r.status}>
          <p><${IdentifierLabel} identifier=${r.identifier} /> · ${t(`share.status.${r.status}`)}
            · <${Time} iso=${r.created_at} /></p>
          <p>${t("share.from", {
            name: r.requester.display_name,
            organization: r.requester.organization_name,
          })}</p>
          <blockquote class="request-reason">${r.reason}</blockquote>
          ${r.status === "pending"
            ? html`<div class="request-actions">
                <${ConfirmAction} label=${t("share.approve")}
                  question=${t("share.approveQuestion", { label: r.identifier.label })}
                  confirmLabel=${t("share.approve")} onConfirm=${() => decide(r, "approve")} />
                <${ConfirmAction} label=${t("share.reject")} danger=${true}
                  question=${t("share.rejectQuestion", { label: r.identifier.label })}
                  confirmLabel=${t("share.reject")} onConfirm=${() => decide(r, "reject")} />
              </div>`
            : r.status === "approved"
              ? html`<details><summary>${t("share.showShared")}</summary>
                  <${SharedReports} requestId=${r.id} /></details>`
              : null}
        </li>`,
      )}
    </ul>
  </section>`;
}

export function ShareRequestsScreen({ me }) {
  const groups = useStore(app, (s) => s.groups);
  const heading = useFocusHeading([]);
  const moderated = groups.filter((g) => STAFF.has(me.role) || g.my_role === "moderator");
  // Requests per moderated group, as each queue loads: to say so when none has any.
  const [counts, setCounts] = useState({});
  const onCount = (groupId, count) => setCounts((c) => ({ ...c, [groupId]: count }));
  const noneToDecide = moderated.every((g) => counts[g.id] === 0);
  return html`<section class="screen share-requests" aria-labelledby="share-title">
    <h1 id="share-title" tabindex="-1" ref=${heading}>${t("share.title")}</h1>
    <p>${t("share.lead")}</p>
    ${me.role === "observer" ? null : html`<${MyRequests} />`}
    ${moderated.length
      ? html`<section aria-labelledby="share-decide-title">
          <h2 id="share-decide-title">${t("share.toDecide")}</h2>
          ${noneToDecide ? html`<p class="empty">${t("share.noneToDecide")}</p>` : null}
          ${moderated.map((g) => html`<${GroupQueue} key=${g.id} group=${g} onCount=${onCount} />`)}
        </section>`
      : null}
  </section>`;
}

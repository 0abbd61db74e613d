// Joining a group: the request anyone can make with a group's code, and the queue of pending
// requests a group's moderators approve or reject.
import { useEffect, useRef, useState } from "preact/hooks";
import { get, post } from "./api.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { ConfirmAction } from "./confirm.js";
import { FieldError } from "./moderation_shared.js";
import { showNotice } from "./state.js";
import { ProblemView, Spinner, Time, useFocusHeading } from "./ui.js";

export function JoinRequestsSection({ group, onApproved }) {
  const [requests, setRequests] = useState(null);
  const [problem, setProblem] = useState(null);
  const title = useRef(null);
  const load = () =>
    get(`groups/${group.id}/join-requests?status=pending&limit=500`)
      .then((page) => setRequests(page.join_requests))
      .catch(setProblem);
  useEffect(() => {
    setRequests(null);
    load();
  }, [group.id]);

  async function decide(request, action) {
    await post(`join-requests/${request.id}/${action}`);
    showNotice("ok", t(action === "approve" ? "joinRequests.approved" : "joinRequests.rejected"));
    await load();
    // The request leaves the queue with its buttons: focus moves to the section's heading.
    title.current?.focus();
    if (action === "approve") onApproved?.();
  }

  return html`<section aria-labelledby="requests-title" class="manage-part">
    <h2 id="requests-title" tabindex="-1" ref=${title}>${t("joinRequests.title")}
      ${requests?.length ? html` <span class="count">${requests.length}</span>` : null}</h2>
    <${ProblemView} problem=${problem} />
    ${requests === null
      ? html`<${Spinner} />`
      : requests.length === 0
        ? html`<p>${t("joinRequests.none")}</p>`
        : html`<ul class="request-list">
            ${requests.map((request) => {
              // The list names the requester (group moderators may not read the directory).
              const user = request.display_name
                ? { display_name: request.display_name, username: request.username }
                : null;
              const org = request.organization_name;
              const who = user ? `${user.display_name} (${user.username})` : t("joinRequests.user");
              return html`<li class="request" data-request=${request.id} data-user=${request.user_id}>
                <p class="request-who">
                  <strong>${who}</strong>
                  ${user ? null : html` <code class="id">${request.user_id}</code>`}
                  ${org ? ` · ${org}` : null}${" · "}<${Time} iso=${request.created_at} />
                </p>
                <blockquote class="request-reason">
                  <span class="visually-hidden">${t("joinRequests.reason")}: </span>${request.reason}
                </blockquote>
                <div class="request-actions">
                  <${ConfirmAction} label=${t("joinRequests.approve")}
                    question=${t("joinRequests.approveQuestion", { name: user?.display_name || request.user_id })}
                    confirmLabel=${t("joinRequests.confirmApprove")}
                    onConfirm=${() => decide(request, "approve")} />
                  <${ConfirmAction} label=${t("joinRequests.reject")} danger=${true}
                    question=${t("joinRequests.rejectQuestion", { name: user?.display_name || request.user_id })}
                    confirmLabel=${t("joinRequests.confirmReject")}
                    onConfirm=${() => decide(request, "reject")} />
                </div>
              </li>`;
            })}
          </ul>`}
  </section>`;
}

// "Join a group": for everyone. The server answers 202 whether or not the code exists (so codes
// cannot be probed), and the screen says so.
export function JoinScreen({ me }) {
  const [code, setCode] = useState("");
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState({});
  const [problem, setProblem] = useState(null);
  const [sent, setSent] = useState(null);
  const [busy, setBusy] = useState(false);
  const heading = useFocusHeading([]);

  async function submit(event) {
    event.preventDefault();
    setProblem(null);
    setSent(null);
    const found = {};
    if (!code.trim()) found.code = t("form.required");
    if (!reason.trim()) found.reason = t("form.required");
    setErrors(found);
    if (Object.keys(found).length) {
      document.getElementById(found.code ? "join-code" : "join-reason")?.focus();
      return;
    }
    setBusy(true);
    try {
      await post("join-requests", { group_code: code.trim().toUpperCase(), reason: reason.trim() });
      setSent(code.trim().toUpperCase());
      setCode("");
      setReason("");
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  return html`<section class="screen" aria-labelledby="join-title">
    <h1 id="join-title" tabindex="-1" ref=${heading}>${t("join.title")}</h1>
    <p>${t("join.lead")}</p>
    <form class="stack" onSubmit=${submit} novalidate>
      <label for="join-code">${t("join.code")}</label>
      <input id="join-code" value=${code} maxlength="64" autocapitalize="characters"
        aria-invalid=${errors.code ? "true" : undefined}
        aria-describedby=${errors.code ? "join-code-error" : undefined}
        onInput=${(e) => setCode(e.target.value)} />
      <${FieldError} id="join-code-error" message=${errors.code} />
      <label for="join-reason">${t("join.reason")}</label>
      <p class="hint" id="join-reason-hint">${t("join.reasonHint")}</p>
      <textarea id="join-reason" rows="3" maxlength="1000" value=${reason}
        aria-invalid=${errors.reason ? "true" : undefined}
        aria-describedby=${errors.reason ? "join-reason-error join-reason-hint" : "join-reason-hint"}
        onInput=${(e) => setReason(e.target.value)}></textarea>
      <${FieldError} id="join-reason-error" message=${errors.reason} />
      <${ProblemView} problem=${problem} fieldLabels=${{
        "body.group_code": t("join.code"),
        "body.reason": t("join.reason"),
      }} />
      <button type="submit" class="primary" disabled=${busy}>${t("join.submit")}</button>
    </form>
    ${sent ? html`<p class="ok sent-note" role="status">${t("join.sent", { code: sent })}</p>` : null}
    <h2>${t("join.idTitle")}</h2>
    <p>${t("join.idLead")}</p>
    <p><code class="id" data-testid="my-user-id">${me.id}</code></p>
  </section>`;
}

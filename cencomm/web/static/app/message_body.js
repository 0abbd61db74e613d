// A message's signed content, by type: text, notice, seizure report, and its attachments.
import { html } from "./html.js";
import { t } from "./i18n.js";
import { AttachmentRefs } from "./attachments.js";
import { SeizureSummary } from "./seizure_form.js";

export function MessageBody({ payload, groupId }) {
  const body = payload.body || {};
  let content;
  if (payload.typ === "notice") {
    content = html`<h2 class="notice-title">${body.title}</h2><p class="text">${body.text}</p>`;
  } else if (payload.typ === "seizure") {
    content = html`<${SeizureSummary} report=${body} />`;
  } else if (payload.typ === "text") {
    content = html`<p class="text">${body.text}</p>`;
  } else {
    content = html`<p class="text">${t("timeline.unknownType", { typ: payload.typ })}</p>`;
  }
  return html`<div class="message-body">
    ${content}
    ${payload.att?.length ? html`<${AttachmentRefs} groupId=${groupId} refs=${payload.att} />` : null}
  </div>`;
}

// Writing in a group: text, notice or seizure report, a TLP handling code, attachments, replies.
// Everything is signed here with this device's key before it leaves the browser.
import { useMemo, useState } from "preact/hooks";
import { Problem, get } from "./api.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { buildPayload, createOutbox } from "./envelopes.js";
import { mergeMessages, showNotice } from "./state.js";
import { AttachmentPicker } from "./attachments.js";
import {
  SeizureForm,
  checkSeizure,
  emptySeizure,
  seizureBody,
  seizureFieldLabels,
} from "./seizure_form.js";
import { ProblemView, TLP_CODES } from "./ui.js";

const MAX_TEXT = 20_000;
const MAX_TITLE = 200;

export function Composer({ group, me, device, replyTo, onCancelReply, onPosted }) {
  const [typ, setTyp] = useState("text");
  const [hc, setHc] = useState("TLP:AMBER");
  const [title, setTitle] = useState("");
  const [text, setText] = useState("");
  const [seizure, setSeizure] = useState(emptySeizure);
  const [attachments, setAttachments] = useState([]);
  const [uploading, setUploading] = useState(false);
  const [problem, setProblem] = useState(null);
  const [localErrors, setLocalErrors] = useState([]);
  const [busy, setBusy] = useState(false);
  const outbox = useMemo(() => createOutbox(`groups/${group.id}/messages`), [group.id]);

  function body() {
    if (typ === "text") return { text: text.trim() };
    if (typ === "notice") return { title: title.trim(), text: text.trim() };
    return seizureBody(seizure);
  }

  function localCheck() {
    const errors = [];
    if (typ === "notice" && !title.trim()) errors.push({ field: "body.title", message: t("compose.required") });
    if (typ !== "seizure" && !text.trim()) errors.push({ field: "body.text", message: t("compose.required") });
    if (typ === "seizure") errors.push(...checkSeizure(seizure, me, group.report_form));
    return errors;
  }

  async function submit(event) {
    event.preventDefault();
    setProblem(null);
    const errors = localCheck();
    setLocalErrors(errors);
    if (errors.length) {
      // A seizure report's errors are shown like the server's: every one, next to its field.
      if (typ === "seizure") {
        setProblem(
          new Problem(422, {
            type: "urn:cencomm:problem:invalid-body",
            title: t("seizure.checkFields", { count: errors.length }),
            errors,
          }),
        );
      }
      return;
    }
    setBusy(true);
    const draft = { typ, hc, body: body(), att: attachments, replyTo: replyTo?.id || null };
    try {
      const answer = await outbox.send(device, draft, () =>
        buildPayload({
          me,
          typ,
          hc,
          body: draft.body,
          groupId: group.id,
          att: attachments,
          replyTo: replyTo?.id,
        }),
      );
      // The live connection brings it too; reading it now shows it even while offline.
      get(`messages/${answer.id}`)
        .then((message) => mergeMessages(group.id, [message]))
        .catch(() => {});
      setText("");
      setTitle("");
      setAttachments([]);
      if (typ === "seizure") setSeizure(emptySeizure());
      showNotice("ok", t("compose.sent", { seq: answer.seq }));
      onPosted?.(answer);
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  const fieldError = (field) => localErrors.find((e) => e.field === field)?.message;
  return html`<form class="composer" onSubmit=${submit} aria-label=${t("compose.label")} novalidate>
    ${replyTo
      ? html`<p class="replying" role="status">
          ${t("compose.replyingTo", { name: replyTo.sender.display_name })}
          <button type="button" class="link" onClick=${onCancelReply}>${t("common.cancel")}</button>
        </p>`
      : null}
    <div class="composer-row">
      <label>${t("compose.type")}
        <select value=${typ} name="typ" onChange=${(e) => {
          setTyp(e.target.value);
          setProblem(null);
          setLocalErrors([]);
        }}>
          <option value="text">${t("typ.text")}</option>
          <option value="notice">${t("typ.notice")}</option>
          <option value="seizure">${t("typ.seizure")}</option>
        </select>
      </label>
      <label>${t("compose.tlp")}
        <select value=${hc} onChange=${(e) => setHc(e.target.value)} name="hc">
          ${TLP_CODES.map((code) => html`<option value=${code}>${code}</option>`)}
        </select>
      </label>
    </div>
    ${typ === "notice"
      ? html`<label for="compose-title">${t("compose.title")}</label>
          <input id="compose-title" name="title" maxlength=${MAX_TITLE} value=${title}
            aria-invalid=${Boolean(fieldError("body.title"))}
            onInput=${(e) => setTitle(e.target.value)} />
          ${fieldError("body.title") ? html`<p class="field-error">${fieldError("body.title")}</p>` : null}`
      : null}
    ${typ === "seizure"
      ? html`<${SeizureForm} value=${seizure} onChange=${setSeizure} me=${me}
          problem=${problem} reportForm=${group.report_form} />`
      : html`<label for="compose-text">${t("compose.text")}</label>
          <textarea id="compose-text" name="text" rows="3" maxlength=${MAX_TEXT} value=${text}
            aria-invalid=${Boolean(fieldError("body.text"))}
            onInput=${(e) => setText(e.target.value)}
            onKeyDown=${(e) => {
              if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) submit(e);
            }}></textarea>
          ${fieldError("body.text") ? html`<p class="field-error">${fieldError("body.text")}</p>` : null}`}
    <${AttachmentPicker} group=${group} value=${attachments} onChange=${setAttachments}
      onBusy=${setUploading} />
    <${ProblemView} problem=${problem}
      fieldLabels=${typ === "seizure" ? seizureFieldLabels(problem) : undefined} />
    <div class="composer-actions">
      <button type="submit" class="primary" disabled=${busy || uploading}>
        ${busy ? t("compose.signing") : t("compose.send")}
      </button>
      <span class="hint">${t("compose.signedWith")}</span>
    </div>
  </form>`;
}

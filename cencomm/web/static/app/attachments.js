// Attachments: choosing and uploading files for a message, and showing those a message names.
// (First version: a file picker and links; previews, drag and drop and progress come next.)
import { useState } from "preact/hooks";
import { fetchBlob, upload } from "./api.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { ProblemView } from "./ui.js";

// value: [{sha256, size, name, type}] as named in the payload's `att`.
export function AttachmentPicker({ group, value, onChange, onBusy }) {
  const [problem, setProblem] = useState(null);
  async function chosen(event) {
    const files = [...event.target.files];
    event.target.value = "";
    onBusy?.(true);
    setProblem(null);
    try {
      const added = [];
      for (const file of files) {
        const uploaded = await upload(
          `groups/${group.id}/attachments?name=${encodeURIComponent(file.name)}`,
          file,
        );
        added.push({ sha256: uploaded.sha256, size: uploaded.size, name: uploaded.name, type: uploaded.type });
      }
      onChange([...value, ...added]);
    } catch (error) {
      setProblem(error);
    } finally {
      onBusy?.(false);
    }
  }
  return html`<div class="attachments-picker">
    <label class="file-button">${t("attach.add")}
      <input type="file" multiple onChange=${chosen} />
    </label>
    <ul class="attachment-list">
      ${value.map((a) => html`<li data-sha256=${a.sha256}>${a.name}
        <button type="button" class="link" onClick=${() => onChange(value.filter((x) => x !== a))}>
          ${t("attach.remove")}</button></li>`)}
    </ul>
    <${ProblemView} problem=${problem} />
  </div>`;
}

async function download(groupId, ref) {
  const blob = await fetchBlob(`groups/${groupId}/attachments/${ref.sha256}`);
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = ref.name || ref.sha256;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function AttachmentRefs({ groupId, refs }) {
  return html`<ul class="attachment-refs">
    ${refs.map(
      (ref) => html`<li data-sha256=${ref.sha256}>
        <button type="button" class="link" onClick=${() => download(groupId, ref).catch(() => {})}>
          ${ref.name || ref.sha256.slice(0, 12)}</button>
        <span class="size">${t("attach.size", { kb: Math.ceil(ref.size / 1024) })}</span>
      </li>`,
    )}
  </ul>`;
}

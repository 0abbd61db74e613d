// The evidence export of a group (`GET /groups/{id}/export`, a zip checked offline with
// `cencomm verify-export`) for the group's moderators, admins and moderators: streamed with
// progress (the size when the server says it, else the bytes so far) and saved from a blob: URL.
// Leaving the screen does not stop a download: the file is still saved when it is complete.
import { useRef, useState } from "preact/hooks";
import { Problem, query, request } from "./api.js";
import { html } from "./html.js";
import { formatNumber, t } from "./i18n.js";
import { showNotice } from "./state.js";
import { ProblemView } from "./ui.js";

export function canExport(me, group) {
  return ["admin", "moderator"].includes(me.role) || group?.my_role === "moderator";
}

function filenameOf(response, group) {
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="([^"\\/]+)"/.exec(disposition);
  return match ? match[1] : `${group.code}-evidence.zip`;
}

function megabytes(bytes) {
  return formatNumber(Math.round((bytes / 1_048_576) * 10) / 10);
}

function save(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken the file once the click is handled; keep the URL a while for slow disks.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function ExportButton({ me, group }) {
  const [blobs, setBlobs] = useState(false);
  const [progress, setProgress] = useState(null); // {received, total}
  const [problem, setProblem] = useState(null);
  const reader = useRef(null);
  const cancelled = useRef(false);
  if (!canExport(me, group)) return null;

  async function download() {
    setProblem(null);
    cancelled.current = false;
    setProgress({ received: 0, total: 0 });
    try {
      const response = await request(`groups/${group.id}/export${query({ blobs: blobs || undefined })}`, {
        headers: { Accept: "application/zip" },
      });
      const total = Number(response.headers.get("Content-Length")) || 0;
      const chunks = [];
      let received = 0;
      let shownAt = 0;
      reader.current = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.current.read();
        if (done) break;
        chunks.push(value);
        received += value.length;
        if (Date.now() - shownAt > 200) {
          shownAt = Date.now();
          setProgress({ received, total });
        }
      }
      reader.current = null;
      if (cancelled.current) return;
      const filename = filenameOf(response, group);
      save(new Blob(chunks, { type: "application/zip" }), filename);
      showNotice("ok", t("export.saved", { file: filename, size: megabytes(received) }));
    } catch (error) {
      // A cut connection mid-stream (the server stops on a failure) leaves nothing saved.
      if (!cancelled.current) setProblem(error instanceof Problem ? error : "interrupted");
    } finally {
      reader.current = null;
      setProgress(null);
    }
  }

  function cancel() {
    cancelled.current = true;
    reader.current?.cancel().catch(() => {});
  }

  const percent = progress?.total ? Math.min(100, Math.round((progress.received / progress.total) * 100)) : null;
  return html`<div class="export" role="group" aria-label=${t("export.label")}>
    ${progress
      ? html`<span class="export-progress">
          <progress max=${progress.total || undefined} value=${progress.total ? progress.received : undefined}
            aria-label=${t("export.progress")}></progress>
          <span role="status" data-received=${progress.received}>
            ${percent !== null
              ? t("export.receivedOf", { size: megabytes(progress.received), total: megabytes(progress.total), percent })
              : t("export.received", { size: megabytes(progress.received) })}
          </span>
          <button type="button" onClick=${cancel}>${t("common.cancel")}</button>
        </span>`
      : html`<label class="inline">
            <input type="checkbox" checked=${blobs} onChange=${(e) => setBlobs(e.currentTarget.checked)} />
            ${t("export.withFiles")}
          </label>
          <button type="button" onClick=${download}>${t("export.button")}</button>`}
    ${problem === "interrupted"
      ? html`<p class="problem" role="alert">${t("export.interrupted")}</p>`
      : html`<${ProblemView} problem=${problem} />`}
  </div>`;
}

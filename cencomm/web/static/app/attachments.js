// Attachments: files chosen or dropped onto the composer, uploaded one by one with their progress,
// the server's answer (name, type, size, scan state) and a preview for images; and, in messages,
// the files a message names with a thumbnail and a download button.
//
// Scan states (cencomm/domain/attachments.py BlobStatus): `pending` (not scanned yet: never
// served, downloads and previews answer 409 `attachment-pending`), `clean`, `infected`
// (quarantined: 409 `attachment-quarantined`; an upload found infected is refused with 422).
import { useEffect, useRef, useState } from "preact/hooks";
import { fetchBlob, get, query, upload } from "./api.js";
import { html } from "./html.js";
import { formatNumber, t } from "./i18n.js";
import { ProblemView } from "./ui.js";

// The server's allow-list (ALLOWED in cencomm/domain/attachments.py), for the file picker.
const ACCEPT = [
  "image/jpeg", ".jpg", ".jpeg", "image/png", ".png", "image/webp", ".webp", "application/pdf", ".pdf",
  "text/plain", ".txt", "text/csv", ".csv", ".docx", ".xlsx",
].join(",");
const KINDS = {
  "image/jpeg": "JPEG",
  "image/png": "PNG",
  "image/webp": "WebP",
  "application/pdf": "PDF",
  "text/plain": "TXT",
  "text/csv": "CSV",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
};
const SCAN_POLL_MS = 4000;
const STATUS_TTL_MS = 20_000;

const isImage = (type) => typeof type === "string" && type.startsWith("image/");
export const kindOf = (type) => KINDS[type] || type || "";

export function formatBytes(size) {
  if (size < 1024) return t("attach.bytes", { n: formatNumber(size) });
  if (size < 1024 * 1024) return t("attach.kb", { n: formatNumber(Math.round((size / 1024) * 10) / 10) });
  return t("attach.mb", { n: formatNumber(Math.round((size / (1024 * 1024)) * 10) / 10) });
}

// Scan states of a group's attachments, from its listing, shared by every message on the page.
const statusCache = new Map(); // groupId → {at, promise: Map sha256 → status}

export function attachmentStatuses(groupId, { fresh = false } = {}) {
  const cached = statusCache.get(groupId);
  // `fresh`: not older than a second (every message polling at once shares one request).
  if (cached && Date.now() - cached.at < (fresh ? 1000 : STATUS_TTL_MS)) return cached.promise;
  const promise = get(`groups/${groupId}/attachments${query({ limit: 500 })}`).then(
    (page) => new Map(page.attachments.map((a) => [a.sha256, a.status])),
  );
  const entry = { at: Date.now(), promise };
  statusCache.set(groupId, entry);
  promise.catch(() => statusCache.get(groupId) === entry && statusCache.delete(groupId));
  return promise;
}

// Poll the listing while any of `hashes` is still pending; returns sha256 → status (undefined
// while not yet known, "unknown" when the listing does not say).
function useScanStates(groupId, hashes) {
  const [states, setStatesNow] = useState({});
  const current = useRef(states);
  const setStates = (change) => {
    current.current = typeof change === "function" ? change(current.current) : change;
    setStatesNow(current.current);
  };
  const key = hashes.join(",");
  useEffect(() => {
    if (!hashes.length) return undefined;
    let live = true;
    let timer = null;
    const look = (fresh) =>
      attachmentStatuses(groupId, { fresh })
        .then((found) => {
          if (!live) return;
          const known = current.current;
          const next = { ...known };
          for (const sha of hashes) next[sha] = found.get(sha) || known[sha] || "unknown";
          setStates(next);
          if (hashes.some((sha) => next[sha] === "pending")) {
            timer = setTimeout(() => look(true), SCAN_POLL_MS);
          }
        })
        .catch(() => {
          // Not listed (an older page, or not readable): downloads will tell.
          if (!live) return;
          setStates((old) => ({
            ...old,
            ...Object.fromEntries(hashes.map((sha) => [sha, old[sha] || "unknown"])),
          }));
        });
    look(false);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [groupId, key]);
  return [states, setStates];
}

function ScanState({ status }) {
  if (!["pending", "clean", "infected"].includes(status)) return null;
  return html`<span class=${`scan scan-${status}`} data-scan=${status}>${t(`attach.scan.${status}`)}</span>`;
}

// A preview of an image attachment, fetched with the token as a blob: URL (revoked on unmount).
function Thumbnail({ groupId, sha256, name, status }) {
  const [url, setUrl] = useState(null);
  const [failed, setFailed] = useState(null);
  const ready = status === "clean" || status === "unknown";
  useEffect(() => {
    if (!ready) return undefined;
    let live = true;
    let made = null;
    setFailed(null);
    fetchBlob(`groups/${groupId}/attachments/${sha256}${query({ preview: true })}`)
      .then((blob) => {
        made = URL.createObjectURL(blob);
        if (live) setUrl(made);
        else URL.revokeObjectURL(made);
      })
      .catch((error) => live && setFailed(error.slug || "failed"));
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
      setUrl(null);
    };
  }, [groupId, sha256, ready]);
  if (url) return html`<img class="thumb" src=${url} alt=${t("attach.previewOf", { name })} />`;
  const note =
    status === "pending" || failed === "attachment-pending"
      ? t("attach.noPreviewYet")
      : failed || status === "infected"
        ? t("attach.noPreview")
        : "";
  return html`<span class="thumb thumb-empty" aria-hidden=${note ? undefined : "true"}>${note}</span>`;
}

async function download(groupId, ref) {
  const blob = await fetchBlob(`groups/${groupId}/attachments/${ref.sha256}`);
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = ref.name || ref.sha256;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function DownloadButton({ groupId, refItem, status }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const blocked = status === "pending" || status === "infected";
  const go = async () => {
    setBusy(true);
    setProblem(null);
    try {
      await download(groupId, refItem);
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  };
  const why = problem?.slug === "attachment-pending"
    ? t("attach.pendingDownload")
    : problem?.slug === "attachment-quarantined"
      ? t("attach.quarantined")
      : null;
  return html`<button type="button" class="download" disabled=${busy || blocked} onClick=${go}
      aria-label=${t("attach.downloadName", { name: refItem.name || refItem.sha256.slice(0, 12) })}>
      ${busy ? t("attach.downloading") : t("attach.download")}</button>
    ${why
      ? html`<span class="field-error" role="alert">${why}</span>`
      : html`<${ProblemView} problem=${problem} />`}`;
}

function Details({ refItem }) {
  return html`<span class="attachment-details">
    <span class="attachment-name">${refItem.name || refItem.sha256.slice(0, 12)}</span>
    <span class="size">${kindOf(refItem.type)} · ${formatBytes(refItem.size)}</span>
  </span>`;
}

// What a message names: each file with its preview (images), details, scan state and download.
export function AttachmentRefs({ groupId, refs }) {
  const list = Array.isArray(refs) ? refs.filter((r) => r && typeof r.sha256 === "string") : [];
  const [states] = useScanStates(groupId, list.map((r) => r.sha256));
  return html`<ul class="attachment-refs" aria-label=${t("attach.listLabel")}>
    ${list.map(
      (ref) => html`<li class="attachment" data-sha256=${ref.sha256}>
        ${isImage(ref.type)
          ? html`<${Thumbnail} groupId=${groupId} sha256=${ref.sha256} name=${ref.name}
              status=${states[ref.sha256]} />`
          : null}
        <${Details} refItem=${ref} />
        ${states[ref.sha256] === "pending" || states[ref.sha256] === "infected"
          ? html`<${ScanState} status=${states[ref.sha256]} />`
          : null}
        <${DownloadButton} groupId=${groupId} refItem=${ref} status=${states[ref.sha256]} />
      </li>`,
    )}
  </ul>`;
}

const hasFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
let nextKey = 1;

// value: [{sha256, size, name, type}] as named in the payload's `att`.
export function AttachmentPicker({ group, value, onChange, onBusy }) {
  const [uploads, setUploads] = useState([]); // in progress or failed: {key, name, size, progress, problem}
  const [states, setStates] = useScanStates(group.id, value.map((r) => r.sha256));
  const latest = useRef(value);
  latest.current = value;
  const root = useRef(null);
  const queue = useRef(Promise.resolve());
  const addRef = useRef(null);

  const change = (key, patch) =>
    setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...patch } : u)));

  async function uploadOne(entry, file) {
    try {
      const answer = await upload(
        `groups/${group.id}/attachments${query({ name: file.name })}`,
        file,
        (progress) => change(entry.key, { progress }),
      );
      setUploads((list) => list.filter((u) => u.key !== entry.key));
      setStates((old) => ({ ...old, [answer.sha256]: answer.status }));
      const ref = { sha256: answer.sha256, size: answer.size, name: answer.name, type: answer.type };
      if (!latest.current.some((r) => r.sha256 === ref.sha256)) {
        latest.current = [...latest.current, ref];
        onChange(latest.current);
      }
    } catch (problem) {
      change(entry.key, { problem, progress: null });
    }
  }

  function add(files) {
    if (!files.length) return;
    const entries = files.map((file) => ({
      key: nextKey++,
      name: file.name,
      size: file.size,
      progress: 0,
      problem: null,
    }));
    setUploads((list) => [...list, ...entries]);
    entries.forEach((entry, i) => {
      queue.current = queue.current.then(() => uploadOne(entry, files[i]));
    });
  }
  addRef.current = add;

  const uploading = uploads.some((u) => !u.problem);
  useEffect(() => {
    onBusy?.(uploading);
  }, [uploading]);

  // Files dropped anywhere on the composer are attached.
  useEffect(() => {
    const zone = root.current?.closest("form") || root.current;
    if (!zone) return undefined;
    let depth = 0;
    const enter = (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth += 1;
      zone.classList.add("drop-target");
    };
    const over = (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
    };
    const leave = (e) => {
      if (!hasFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (!depth) zone.classList.remove("drop-target");
    };
    const drop = (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      zone.classList.remove("drop-target");
      addRef.current([...e.dataTransfer.files]);
    };
    zone.addEventListener("dragenter", enter);
    zone.addEventListener("dragover", over);
    zone.addEventListener("dragleave", leave);
    zone.addEventListener("drop", drop);
    return () => {
      zone.removeEventListener("dragenter", enter);
      zone.removeEventListener("dragover", over);
      zone.removeEventListener("dragleave", leave);
      zone.removeEventListener("drop", drop);
      zone.classList.remove("drop-target");
    };
  }, []);

  const chosen = (event) => {
    const files = [...event.target.files];
    event.target.value = "";
    add(files);
  };
  const remove = (ref) => {
    latest.current = latest.current.filter((r) => r !== ref);
    onChange(latest.current);
  };

  return html`<div class="attachments-picker" ref=${root}>
    <div class="inline">
      <label class="file-button">
        <span>${t("attach.add")}</span>
        <input type="file" multiple accept=${ACCEPT} onChange=${chosen} />
      </label>
      <span class="hint">${t("attach.dropHint")}</span>
    </div>
    ${uploads.length || value.length
      ? html`<ul class="attachment-list" aria-label=${t("attach.listLabel")}>
          ${uploads.map(
            (u) => html`<li class="attachment upload" key=${`u${u.key}`}
              data-state=${u.problem ? "failed" : "uploading"}>
              <span class="attachment-details">
                <span class="attachment-name">${u.name}</span>
                <span class="size">${formatBytes(u.size)}</span>
              </span>
              ${u.problem
                ? html`<div class="upload-failed">
                    <${ProblemView} problem=${u.problem} />
                    <button type="button" class="link"
                      onClick=${() => setUploads((list) => list.filter((x) => x.key !== u.key))}>
                      ${t("common.dismiss")}</button>
                  </div>`
                : html`<progress max="1" value=${u.progress}
                      aria-label=${t("attach.progressOf", { name: u.name })}></progress>
                    <span class="hint" role="status">
                      ${t("attach.uploading", { percent: Math.round((u.progress || 0) * 100) })}</span>`}
            </li>`,
          )}
          ${value.map(
            (ref) => html`<li class="attachment uploaded" key=${ref.sha256} data-sha256=${ref.sha256}
              data-state="uploaded">
              ${isImage(ref.type)
                ? html`<${Thumbnail} groupId=${group.id} sha256=${ref.sha256} name=${ref.name}
                    status=${states[ref.sha256]} />`
                : null}
              <${Details} refItem=${ref} />
              <${ScanState} status=${states[ref.sha256]} />
              <button type="button" class="link" onClick=${() => remove(ref)}
                aria-label=${t("attach.removeName", { name: ref.name })}>${t("attach.remove")}</button>
            </li>`,
          )}
        </ul>`
      : null}
  </div>`;
}

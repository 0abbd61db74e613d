// The HTTP API: JSON in and out, RFC 9457 problems as `Problem` errors, the access token on every
// call, one silent refresh (shared by every call that needs it) when the token has expired.
import { session } from "./session.js";

export const API = "/api/v1";

export class Problem extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `HTTP ${status}`);
    this.status = status;
    this.slug = (body?.type || "").replace("urn:cencomm:problem:", "") || `http-${status}`;
    this.title = body?.title || `HTTP ${status}`;
    this.detail = body?.detail || "";
    this.errors = Array.isArray(body?.errors) ? body.errors : [];
    this.retryAfter = null;
  }
}

async function problemOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const problem = new Problem(response.status, body);
  problem.retryAfter = response.headers.get("Retry-After");
  return problem;
}

async function send(path, { method = "GET", body, headers = {}, auth = true } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (auth) init.headers.Authorization = `Bearer ${await session.accessToken()}`;
  return fetch(path.startsWith("/") ? path : `${API}/${path}`, init);
}

// The server's request caps (docs/deploy.md "Resource limits") refuse before doing anything, so
// any call may be repeated after the `Retry-After` they ask for; a few times, then the problem
// is shown like any other.
const CAPPED = new Set(["too-many-requests", "server-busy"]);
const CAP_RETRIES = 3;

async function cappedWait(response) {
  if (response.status !== 429 && response.status !== 503) return 0;
  const body = await response.clone().json().catch(() => null);
  if (!CAPPED.has((body?.type || "").replace("urn:cencomm:problem:", ""))) return 0;
  return Math.min(10, Math.max(1, Number(response.headers.get("Retry-After")) || 1));
}

async function sendPatiently(path, options) {
  for (let attempt = 0; ; attempt += 1) {
    const response = await send(path, options);
    const wait = attempt < CAP_RETRIES ? await cappedWait(response) : 0;
    if (!wait) return response;
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
  }
}

// One call; on 401 the session is refreshed once and the call repeated. A second 401 ends the
// session (revoked, expired or the user disabled): the page goes back to sign-in.
export async function request(path, options = {}) {
  let response;
  try {
    response = await sendPatiently(path, options);
    if (response.status === 401 && options.auth !== false) {
      await session.refreshNow();
      response = await sendPatiently(path, options);
      if (response.status === 401) session.end("ended");
    }
  } catch (error) {
    if (error instanceof Problem) throw error;
    const offline = new Problem(0, { title: "offline", detail: String(error.message || error) });
    offline.slug = "network";
    throw offline;
  }
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response;
}

export const get = (path) => request(path);
export const post = (path, body) => request(path, { method: "POST", body: body ?? {} });
export const patch = (path, body) => request(path, { method: "PATCH", body });
export const del = (path) => request(path, { method: "DELETE" });

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(name, String(one));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// Downloads that need the token (attachments, previews): the bytes as a Blob.
export async function fetchBlob(path) {
  const response = await request(path, { headers: { Accept: "*/*" } });
  return response.blob();
}

// An upload with progress (fetch has none): XMLHttpRequest with the raw file as the body.
export function upload(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const start = async (retried) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `${API}/${path}`);
      xhr.setRequestHeader("Authorization", `Bearer ${await session.accessToken()}`);
      xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress?.(event.loaded / event.total);
      };
      xhr.onerror = () => {
        const problem = new Problem(0, { title: "offline", detail: "the upload was interrupted" });
        problem.slug = "network";
        reject(problem);
      };
      xhr.onload = async () => {
        let body = null;
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          body = null;
        }
        if (xhr.status === 401 && !retried) {
          try {
            await session.refreshNow();
            start(true);
          } catch (error) {
            reject(error);
          }
          return;
        }
        if (xhr.status >= 200 && xhr.status < 300) resolve(body);
        else reject(new Problem(xhr.status, body));
      };
      xhr.send(file);
    };
    start(false).catch(reject);
  });
}

// Organisations' seals on a message (countersignatures), verified in this browser: the seal's
// JWS must have the contract's header, be signed by a seal key the sender's organisation
// published (its kid its own RFC 7638 thumbprint, valid when the seal was made), and name this
// very message and the SHA-256 of its JWS. The server is trusted for delivery only.
import { useEffect, useState } from "preact/hooks";
import { decodeBytes, decodeText, toHex, utf8 } from "./b64.js";
import { get } from "./api.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { thumbprint } from "./keys.js";

const HEADER_MEMBERS = ["alg", "kid", "typ"];
const CLAIMS = ["cid", "iat", "msg", "org", "sha256", "sub", "typ", "v"];

// Each organisation's seal keys (revoked ones included), fetched once per page load.
const sealKeys = new Map();

async function fetchSealKeys(organizationId) {
  const { keys } = await get(`organizations/${organizationId}/keys`);
  const usable = new Map();
  for (const key of keys) {
    if (key.organization_id !== organizationId) continue;
    if ((await thumbprint(key.public_key)) !== key.kid) continue;
    const imported = await crypto.subtle.importKey(
      "raw",
      decodeBytes(key.public_key),
      { name: "Ed25519" },
      false,
      ["verify"],
    );
    usable.set(key.kid, { key: imported, created_at: key.created_at, revoked_at: key.revoked_at });
  }
  return usable;
}

function sealKeysOf(organizationId, fresh = false) {
  if (fresh || !sealKeys.has(organizationId)) {
    const loading = fetchSealKeys(organizationId);
    sealKeys.set(organizationId, loading);
    loading.catch(() => sealKeys.delete(organizationId));
  }
  return sealKeys.get(organizationId);
}

async function sha256Hex(text) {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(text))));
}

// {ok, reason}: ok only when every check above passes.
export async function verifySeal(seal, message) {
  const parts = typeof seal.jws === "string" ? seal.jws.split(".") : [];
  if (parts.length !== 3 || !message.jws) return { ok: false, reason: "malformed" };
  let header;
  let payload;
  try {
    header = JSON.parse(decodeText(parts[0]));
    payload = JSON.parse(decodeText(parts[1]));
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (
    Object.keys(header).sort().join(",") !== HEADER_MEMBERS.join(",") ||
    !["Ed25519", "EdDSA"].includes(header.alg) ||
    header.typ !== "cencomm+jws" ||
    header.kid !== seal.kid
  ) {
    return { ok: false, reason: "header" };
  }
  if (
    !payload ||
    Object.keys(payload).sort().join(",") !== CLAIMS.join(",") ||
    payload.v !== 1 ||
    payload.typ !== "countersignature"
  ) {
    return { ok: false, reason: "claims" };
  }
  const organizationId = message.sender.organization_id;
  if (payload.org !== organizationId || seal.organization_id !== organizationId) {
    return { ok: false, reason: "organization" };
  }
  if (payload.msg !== message.id) return { ok: false, reason: "message" };
  if (payload.sha256 !== (await sha256Hex(message.jws))) return { ok: false, reason: "hash" };
  let found;
  try {
    found = (await sealKeysOf(organizationId)).get(header.kid);
    // A seal key registered after the list was fetched: look once more.
    if (!found) found = (await sealKeysOf(organizationId, true)).get(header.kid);
  } catch {
    return { ok: false, reason: "keys-unavailable" };
  }
  if (!found) return { ok: false, reason: "unknown-key" };
  const at = Date.parse(seal.created_at);
  if (at < Date.parse(found.created_at) || (found.revoked_at && Date.parse(found.revoked_at) <= at)) {
    return { ok: false, reason: "key-validity" };
  }
  let ok = false;
  try {
    ok = await crypto.subtle.verify(
      { name: "Ed25519" },
      found.key,
      decodeBytes(parts[2]),
      utf8(`${parts[0]}.${parts[1]}`),
    );
  } catch {
    ok = false;
  }
  return { ok, reason: ok ? null : "signature" };
}

const results = new Map();

function useSealVerification(seal, message) {
  const cacheKey = `${message.id}:${message.jws}:${seal.jws}`;
  const [result, setResult] = useState(() => results.get(cacheKey)?.result);
  useEffect(() => {
    setResult(results.get(cacheKey)?.result);
    let entry = results.get(cacheKey);
    if (!entry) {
      entry = { promise: verifySeal(seal, message) };
      entry.promise.then((value) => {
        entry.result = value;
      });
      results.set(cacheKey, entry);
    }
    let live = true;
    entry.promise.then((value) => live && setResult(value));
    return () => {
      live = false;
    };
  }, [cacheKey]);
  return result;
}

function SealBadge({ seal, message }) {
  const result = useSealVerification(seal, message);
  const organization = message.sender.organization_name || seal.organization_id;
  if (!result) {
    return html`<span class="badge badge-pending" data-seal="pending">${t("seal.checking")}</span>`;
  }
  if (result.ok) {
    return html`<span class="badge badge-verified badge-seal" data-seal="verified"
      title=${t("seal.ok.help", { organization })}
      >✓ ${t("seal.ok", { organization })}</span
    >`;
  }
  return html`<span class="badge badge-unverified badge-seal" data-seal="failed"
    title=${t(`seal.reason.${result.reason || "signature"}`)}
    >✗ ${t("seal.bad")}</span
  >`;
}

// The seals of a message whose JWS is shown (a hidden message's seals come without theirs).
export function SealBadges({ message }) {
  const seals = (message.countersignatures || []).filter((seal) => seal.jws);
  if (!message.jws || !seals.length) return null;
  return html`${seals.map(
    (seal) => html`<${SealBadge} key=${`${seal.kid}:${seal.created_at}`} seal=${seal} message=${message} />`,
  )}`;
}

// Compact JWS with Ed25519 (RFC 7515, RFC 9864): signing with this device's key and verifying any
// message against its sender's published keys, in the browser, trusting the server for nothing
// but delivery: the key's kid must be its own thumbprint, the header exactly the contract's.
import { decodeBytes, decodeText, encodeBytes, encodeText, utf8 } from "./b64.js";
import { get } from "./api.js";
import { signBytes, thumbprint } from "./keys.js";

const HEADER_MEMBERS = ["alg", "kid", "typ"];

export async function signEnvelope(key, payload) {
  const header = encodeText(JSON.stringify({ alg: "Ed25519", kid: key.kid, typ: "cencomm+jws" }));
  const body = encodeText(JSON.stringify(payload));
  const signature = await signBytes(key, utf8(`${header}.${body}`));
  return `${header}.${body}.${encodeBytes(signature)}`;
}

export function newCid() {
  return crypto.randomUUID();
}

export function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

// Each sender's keys, fetched once per page load (revoked keys included: old messages stay
// verifiable). Only keys whose kid is their own RFC 7638 thumbprint are kept.
const keyCache = new Map();

async function fetchKeys(userId) {
  const { keys } = await get(`users/${userId}/keys`);
  const usable = new Map();
  for (const key of keys) {
    if ((await thumbprint(key.public_key)) !== key.kid) continue;
    const imported = await crypto.subtle.importKey(
      "raw",
      decodeBytes(key.public_key),
      { name: "Ed25519" },
      false,
      ["verify"],
    );
    usable.set(key.kid, imported);
  }
  return usable;
}

function keysOf(userId) {
  if (!keyCache.has(userId)) {
    const loading = fetchKeys(userId);
    keyCache.set(userId, loading);
    loading.catch(() => keyCache.delete(userId));
  }
  return keyCache.get(userId);
}

export function forgetSenderKeys(userId) {
  keyCache.delete(userId);
}

export function decodePayload(jws) {
  try {
    return JSON.parse(decodeText(jws.split(".")[1]));
  } catch {
    return null;
  }
}

// {ok, payload, reason}: ok only when the header is the contract's, the kid is a key the sender
// published, the signature verifies, and the payload names the sender as `sub`.
export async function verifyEnvelope(jws, senderId) {
  const parts = typeof jws === "string" ? jws.split(".") : [];
  if (parts.length !== 3) return { ok: false, payload: null, reason: "malformed" };
  let header;
  let payload;
  try {
    header = JSON.parse(decodeText(parts[0]));
    payload = JSON.parse(decodeText(parts[1]));
  } catch {
    return { ok: false, payload: null, reason: "malformed" };
  }
  const members = Object.keys(header).sort();
  if (
    members.join(",") !== HEADER_MEMBERS.join(",") ||
    !["Ed25519", "EdDSA"].includes(header.alg) ||
    header.typ !== "cencomm+jws"
  ) {
    return { ok: false, payload, reason: "header" };
  }
  if (payload?.sub !== senderId) return { ok: false, payload, reason: "sender" };
  let keys;
  try {
    keys = await keysOf(senderId);
  } catch {
    return { ok: false, payload, reason: "keys-unavailable" };
  }
  let key = keys.get(header.kid);
  if (!key) {
    // A key registered after we fetched the list: look once more.
    forgetSenderKeys(senderId);
    key = (await keysOf(senderId).catch(() => new Map())).get(header.kid);
  }
  if (!key) return { ok: false, payload, reason: "unknown-key" };
  let ok = false;
  try {
    ok = await crypto.subtle.verify(
      { name: "Ed25519" },
      key,
      decodeBytes(parts[2]),
      utf8(`${parts[0]}.${parts[1]}`),
    );
  } catch {
    ok = false;
  }
  return { ok, payload, reason: ok ? null : "signature" };
}

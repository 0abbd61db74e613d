// This device's Ed25519 signing key: made by WebCrypto as non-extractable (the private key can
// sign but can never be read out, not even by this page), kept in IndexedDB per user, registered
// with the server so others can verify what it signs.
import { encodeBytes, utf8 } from "./b64.js";
import { get, post } from "./api.js";

const DB_NAME = "cencomm-keys";
const STORE = "device-keys";

export class UnsupportedBrowser extends Error {}

function openDb() {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open(DB_NAME, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore(STORE, { keyPath: "userId" });
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
}

async function withStore(mode, action) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = action(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request?.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  } finally {
    db.close();
  }
}

const loadKey = (userId) => withStore("readonly", (store) => store.get(userId));
const saveKey = (record) => withStore("readwrite", (store) => store.put(record));
export const forgetKey = (userId) => withStore("readwrite", (store) => store.delete(userId));

// RFC 7638 thumbprint of the OKP public key: the `kid` the server computes too.
export async function thumbprint(publicKeyB64) {
  const canonical = `{"crv":"Ed25519","kty":"OKP","x":"${publicKeyB64}"}`;
  return encodeBytes(await crypto.subtle.digest("SHA-256", utf8(canonical)));
}

export async function ed25519Supported() {
  try {
    if (!globalThis.crypto?.subtle || !globalThis.indexedDB) return false;
    await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    return true;
  } catch {
    return false;
  }
}

function deviceLabel() {
  const agent = navigator.userAgentData?.platform || navigator.platform || "browser";
  const day = new Date().toISOString().slice(0, 10);
  return `Web browser (${agent}), ${day}`.slice(0, 100);
}

async function createKey(userId) {
  let pair;
  try {
    pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  } catch (error) {
    throw new UnsupportedBrowser(String(error));
  }
  const publicKey = encodeBytes(await crypto.subtle.exportKey("raw", pair.publicKey));
  const kid = await thumbprint(publicKey);
  const record = {
    userId,
    kid,
    publicKey,
    privateKey: pair.privateKey,
    label: deviceLabel(),
    createdAt: new Date().toISOString(),
  };
  await saveKey(record);
  return record;
}

// The key this browser signs with for `userId`: the stored one while the server still lists it
// as active, else a new one (first sign-in here, storage cleared, or the key revoked from
// another device). Returns {key, created, replaced}.
export async function ensureDeviceKey(userId) {
  let stored = await loadKey(userId);
  const { keys } = await get(`users/${userId}/keys`);
  const onServer = stored && keys.find((k) => k.kid === stored.kid);
  if (stored && onServer && !onServer.revoked_at) return { key: stored, created: false, replaced: false };
  const replaced = Boolean(stored);
  if (!stored || onServer?.revoked_at) stored = await createKey(userId);
  try {
    await post("keys", { public_key: stored.publicKey, label: stored.label });
  } catch (error) {
    if (error.status !== 409) throw error; // 409: already registered (a repeat after a failure)
  }
  return { key: stored, created: true, replaced };
}

export const deviceKey = (userId) => loadKey(userId);

export async function signBytes(key, bytes) {
  return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, bytes));
}

// Witnessed checkpoints in the browser: the witnesses this reader trusts (kept in this browser, never
// taken from the server), and the server's checkpoint (`GET /audit/checkpoint`, a C2SP signed note)
// checked here: the audit key's signature line (key name = the checkpoint's origin, key ID
// SHA-256(origin || 0x0A || 0x01 || key)[:4]) and the witnesses' cosignature/v1 lines (key ID with
// 0x04; an 8-byte big-endian time, then Ed25519 over "cosignature/v1\ntime <t>\n" + the checkpoint).
import { decodeBytes, encodeBytes, utf8 } from "./b64.js";
import { equalBytes, toHex } from "./merkle.js";

const storageKey = () => `cencomm.witnesses.${location.origin}`;
const DASH = "\u2014 ";
const MAX_NOTE = 64 * 1024;

function standardBase64(text) {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  try {
    return decodeBytes(text.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"));
  } catch {
    return null;
  }
}

async function keyId(name, type, publicKey) {
  const name8 = utf8(name);
  const data = new Uint8Array(name8.length + 2 + publicKey.length);
  data.set(name8, 0);
  data[name8.length] = 0x0a;
  data[name8.length + 1] = type;
  data.set(publicKey, name8.length + 2);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data)).slice(0, 4);
}

// "<name>+<8 hex>+<base64(0x04 || key)>" → {name, id, publicKey}, or null.
export async function parseWitnessKey(text) {
  const first = text.indexOf("+");
  const second = text.indexOf("+", first + 1);
  if (first < 1 || second < 0) return null;
  const name = text.slice(0, first);
  const hex = text.slice(first + 1, second);
  const raw = standardBase64(text.slice(second + 1));
  if (/\s/.test(name) || !/^[0-9a-f]{8}$/.test(hex) || !raw || raw.length !== 33 || raw[0] !== 0x04) return null;
  const publicKey = raw.slice(1);
  const id = await keyId(name, 0x04, publicKey);
  return toHex(id) === hex ? { name, id, publicKey } : null;
}

// {keys: [vkey text], quorum}; quorum 0 while no witness is configured.
export function witnessSettings() {
  try {
    const saved = JSON.parse(localStorage.getItem(storageKey()) || "null");
    if (saved && Array.isArray(saved.keys) && Number.isSafeInteger(saved.quorum)) return saved;
  } catch {
    /* a damaged entry counts as none */
  }
  return { keys: [], quorum: 0 };
}

export function saveWitnessSettings(keys, quorum) {
  if (keys.length === 0) localStorage.removeItem(storageKey());
  else localStorage.setItem(storageKey(), JSON.stringify({ keys, quorum }));
}

function parseNote(text) {
  if (typeof text !== "string" || text.length > MAX_NOTE || !text.endsWith("\n")) return null;
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) return null;
  const cut = text.lastIndexOf("\n\n");
  if (cut < 0) return null;
  const body = text.slice(0, cut + 1);
  const lines = text.slice(cut + 2, -1).split("\n");
  const signatures = [];
  for (const line of lines) {
    if (!line.startsWith(DASH)) return null;
    const [name, blob, extra] = line.slice(DASH.length).split(" ");
    const raw = blob === undefined || extra !== undefined ? null : standardBase64(blob);
    if (!name || !raw || raw.length < 5) return null;
    signatures.push({ name, id: raw.slice(0, 4), signature: raw.slice(4) });
  }
  return signatures.length ? { body, signatures } : null;
}

async function verifyEd25519(publicKey, signature, message) {
  try {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch {
    return false;
  }
}

function cosignedMessage(stamp, body) {
  return utf8(`cosignature/v1\ntime ${stamp}\n${body}`);
}

// The checked note as a tree head the rest of the audit screen knows:
// → {ok, reason, head, cosigned, quorum, known}. reason: note | signature | cosignature | quorum.
export async function verifyCheckpoint(text, auditKey, settings = witnessSettings()) {
  const note = parseNote(text);
  const lines = note?.body.split("\n");
  if (!note || lines.length !== 5 || lines[4] !== "" || !/^\d+$/.test(lines[1]) || !/^\d+$/.test(lines[3])) {
    return { ok: false, reason: "note" };
  }
  const [origin, size, rootText, stamp] = lines;
  const root = standardBase64(rootText);
  if (!root || root.length !== 32) return { ok: false, reason: "note" };
  const auditPublic = decodeBytes(auditKey.public_key);
  const logId = await keyId(origin, 0x01, auditPublic);
  const own = note.signatures.filter((s) => s.name === origin && equalBytes(s.id, logId));
  const head = {
    tree_size: Number(size),
    root_hash: toHex(root),
    timestamp: new Date(Number(stamp) * 1000).toISOString(),
    checkpoint: note.body,
    kid: auditKey.kid,
    signature: own.length ? encodeBytes(own[0].signature) : "",
  };
  for (const line of own) {
    if (!(await verifyEd25519(auditPublic, line.signature, utf8(note.body)))) {
      return { ok: false, reason: "signature", head };
    }
  }
  if (!own.length) return { ok: false, reason: "signature", head };
  const cosigned = [];
  for (const text of settings.keys) {
    const witness = await parseWitnessKey(text);
    if (!witness) continue;
    const mine = note.signatures.filter((s) => s.name === witness.name && equalBytes(s.id, witness.id));
    for (const line of mine) {
      if (line.signature.length !== 72) return { ok: false, reason: "cosignature", head, witness: witness.name };
      let time = 0n;
      for (const byte of line.signature.slice(0, 8)) time = (time << 8n) | BigInt(byte);
      const ok = await verifyEd25519(witness.publicKey, line.signature.slice(8), cosignedMessage(time, note.body));
      if (!ok) return { ok: false, reason: "cosignature", head, witness: witness.name };
    }
    if (mine.length) cosigned.push(witness.name);
  }
  const result = { head, cosigned, quorum: settings.quorum, known: settings.keys.length };
  return cosigned.length >= settings.quorum ? { ok: true, reason: null, ...result } : { ok: false, reason: "quorum", ...result };
}

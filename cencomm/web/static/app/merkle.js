// RFC 9162 Merkle tree hashing in the browser (WebCrypto SHA-256): leaf and node hashes, and the
// verifiers of inclusion proofs (§2.1.3.2) and consistency proofs (§2.1.4.2), step for step as the
// RFC writes them (cencomm/crypto/merkle.py is the same algorithm in Python). Sizes and indexes are
// walked as BigInt so the bit operations stay exact past 2^31. Verifiers never throw: anything
// malformed is simply not verified.

export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

// SHA-256(0x00 ‖ data): the hash of one log entry (its leaf bytes).
export function leafHash(data) {
  const bytes = new Uint8Array(data.length + 1);
  bytes[0] = LEAF_PREFIX;
  bytes.set(data, 1);
  return sha256(bytes);
}

// SHA-256(0x01 ‖ left ‖ right): the hash of an interior node.
export function nodeHash(left, right) {
  const bytes = new Uint8Array(1 + left.length + right.length);
  bytes[0] = NODE_PREFIX;
  bytes.set(left, 1);
  bytes.set(right, 1 + left.length);
  return sha256(bytes);
}

export function isHash(value) {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}

// Lowercase or uppercase hex → bytes; null when it is not hex of whole bytes.
export function fromHex(text) {
  if (typeof text !== "string" || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Hex hashes as the API gives them (root_hash, leaf_hash, audit_path, proof) → 32-byte arrays,
// or null if any of them is not a hash.
export function hashesFromHex(list) {
  if (!Array.isArray(list)) return null;
  const out = [];
  for (const item of list) {
    const bytes = fromHex(item);
    if (!isHash(bytes)) return null;
    out.push(bytes);
  }
  return out;
}

export function equalBytes(a, b) {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= a[i] ^ b[i];
  return diff === 0;
}

function isSize(value) {
  return Number.isSafeInteger(value) && value >= 0;
}

// The root an inclusion proof implies (RFC 9162 §2.1.3.2), or null if the proof is malformed.
export async function rootFromInclusionProof(leaf, index, treeSize, proof) {
  if (!isHash(leaf) || !isSize(index) || !isSize(treeSize) || index >= treeSize) return null;
  if (!Array.isArray(proof)) return null;
  // 1. fn = leaf_index, sn = tree_size - 1, r = hash.
  let fn = BigInt(index);
  let sn = BigInt(treeSize) - 1n;
  let r = leaf;
  // 2. For each value p in the inclusion_path array:
  for (const p of proof) {
    // a. If sn is 0, stop the iteration and fail the proof verification.
    if (sn === 0n || !isHash(p)) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      // b. If LSB(fn) is set, or if fn is equal to sn: r = HASH(0x01 || p || r), then right-shift
      //    both fn and sn equally until either LSB(fn) is set or fn is 0.
      r = await nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      // Otherwise: r = HASH(0x01 || r || p).
      r = await nodeHash(r, p);
    }
    // c. Finally, right-shift both fn and sn one time.
    fn >>= 1n;
    sn >>= 1n;
  }
  // 3. Compare sn to 0 (and r to the root, in verifyInclusion).
  return sn === 0n ? r : null;
}

// True iff `proof` shows the leaf hash `leaf` at `index` in the tree of `treeSize` leaves whose
// root is `root`. All hashes are 32-byte Uint8Arrays.
export async function verifyInclusion(leaf, index, treeSize, proof, root) {
  try {
    const got = await rootFromInclusionProof(leaf, index, treeSize, proof);
    return got !== null && isHash(root) && equalBytes(got, root);
  } catch {
    return false;
  }
}

// True iff `proof` shows the tree (second, secondRoot) extends the tree (first, firstRoot)
// (RFC 9162 §2.1.4.2). first == second needs an empty proof and equal roots; first == 0 an empty
// proof (the empty tree is a prefix of every tree).
export async function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
  try {
    return await consistency(first, second, firstRoot, secondRoot, proof);
  } catch {
    return false;
  }
}

async function consistency(first, second, firstRoot, secondRoot, proof) {
  if (!isSize(first) || !isSize(second) || first > second || !Array.isArray(proof)) return false;
  if (!proof.every(isHash)) return false;
  if (first === second) {
    return proof.length === 0 && isHash(firstRoot) && isHash(secondRoot) && equalBytes(firstRoot, secondRoot);
  }
  if (first === 0) return proof.length === 0;
  // 1. If consistency_path is an empty array, stop and fail the proof verification.
  if (proof.length === 0 || !isHash(firstRoot) || !isHash(secondRoot)) return false;
  // 2. If first is an exact power of 2, then prepend first_hash to the consistency_path array.
  const path = [...proof];
  const m = BigInt(first);
  if ((m & (m - 1n)) === 0n) path.unshift(firstRoot);
  // 3. Set fn to first - 1 and sn to second - 1.
  let fn = m - 1n;
  let sn = BigInt(second) - 1n;
  // 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  // 5. Set both fr and sr to the first value in the consistency_path array.
  let fr = path[0];
  let sr = path[0];
  // 6. For each subsequent value c in the consistency_path array:
  for (const c of path.slice(1)) {
    // a. If sn is 0, then stop the iteration and fail the proof verification.
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      // b. If LSB(fn) is set, or if fn is equal to sn: fr = HASH(0x01 || c || fr),
      //    sr = HASH(0x01 || c || sr); then, unless LSB(fn) is set, right-shift both fn and sn
      //    equally until either LSB(fn) is set or fn is 0.
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      // Otherwise: sr = HASH(0x01 || sr || c).
      sr = await nodeHash(sr, c);
    }
    // c. Finally, right-shift both fn and sn one time.
    fn >>= 1n;
    sn >>= 1n;
  }
  // 7. fr must equal first_hash, sr second_hash, and sn must be 0.
  return sn === 0n && equalBytes(fr, firstRoot) && equalBytes(sr, secondRoot);
}

"""`cencomm verify-export FILE`: check an evidence bundle offline, with no server or database.

Checks, in order; the first failure raises `BundleInvalid` naming it:

1. zip: the strict layout of `domain.evidence_zip` (every byte accounted for), and Python's
   `zipfile` opens it and lists the same members;
2. manifest: canonical, listing exactly the other members in order; every member's size,
   CRC-32 and SHA-256 match;
3. audit key (`audit/key.json`, or the pinned one: it must be the same key), the manifest's
   signature by it, and the signed tree head's checkpoint signature; a pinned tree head must be
   the bundle's or provably consistent with it;
4. keys: each public key hashes to its kid; attachments: unique, their blobs present exactly
   when listed and hashing to their names;
5. messages: seq 1, 2, 3 ... up to the export's last seq; each JWS parses with the strict
   parser and verifies with the bundled key named by its kid, which belongs to the sender and
   was valid at the message's time; sub, grp, typ, hc and reply_to match the metadata; every
   attachment a message names is listed with that size;
6. audit entries: canonical leaves in ascending index order below the tree size, each proven
   included in the tree head; among them the export's own `group.export` entry, a
   `message.post` entry for every message, an `attachment.upload` entry for every attachment,
   and the registration (and revocation) of every key;
7. organisations' seals (`verification/countersignatures.py`): every countersignature verifies
   with its organisation's bundled seal key and covers exactly its message's JWS.

Without a pinned audit key this proves only that the bundle is intact and consistent: a forger
with another key could make a bundle that verifies against itself.
"""

from __future__ import annotations

import hashlib
import hmac
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cencomm.crypto.keys import b64url_decode, jwk_thumbprint
from cencomm.domain import evidence as ev
from cencomm.domain.audit_tree import TreeHead
from cencomm.domain.evidence_zip import ZipLayoutError, parse_strict
from cencomm.verification.bundle_files import Bundle, fail, proven_entry
from cencomm.verification.cosigned import CheckpointError, WitnessPolicy, check_bundle_note
from cencomm.verification.countersignatures import SealCheck
from cencomm.verification.errors import NotExtended, VerificationError
from cencomm.verification.messages import parse_time, verify_message
from cencomm.verification.tree_heads import (
    AuditKey,
    audit_key_from_json,
    check_extends,
    check_head_signature,
    tree_head_from_json,
)


@dataclass(frozen=True, slots=True)
class BundleSummary:
    group_id: str
    group_code: str
    messages: int
    keys: int
    attachments: int
    blobs: int
    audit_entries: int
    tree_size: int
    root_hash: str
    audit_kid: str
    pinned_key: bool
    pinned_head: bool
    # The known witnesses whose cosignatures of the bundle's checkpoint verified.
    cosigned_by: tuple[str, ...] = ()


def verify_bundle(
    path: Path,
    *,
    audit_key: AuditKey | None = None,
    tree_head: TreeHead | None = None,
    consistency_proof: list[bytes] | None = None,
    witnesses: WitnessPolicy | None = None,
) -> BundleSummary:
    """Check an evidence bundle; see the module docstring for what and in which order.

    Args:
        audit_key: the server's audit key obtained independently (pins the bundle's).
        tree_head: a tree head saved independently; it must be the bundle's, or be proven
            consistent with it by `consistency_proof` (`GET /audit/proof/consistency` between
            the smaller and the larger size).

    Raises:
        BundleInvalid: naming the first thing that fails.
        OSError: the file cannot be read.
    """
    with path.open("rb") as handle:
        size = handle.seek(0, 2)

        def read_at(offset: int, length: int) -> bytes:
            handle.seek(offset)
            return handle.read(length)

        try:
            members = parse_strict(read_at, size)
        except ZipLayoutError as exc:
            raise fail(f"zip structure: {exc}") from None
        try:
            with zipfile.ZipFile(handle) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise fail(f"zip: Python's zipfile cannot open it ({exc})") from None
        if names != [m.name for m in members]:
            raise fail("zip: Python's zipfile lists other members")
        bundle = Bundle(handle, members)
        check = _Check(bundle, audit_key, tree_head, consistency_proof)
        check.witnesses = witnesses
        return check.run()


class _Check:
    def __init__(
        self,
        bundle: Bundle,
        pinned_key: AuditKey | None,
        pinned_head: TreeHead | None,
        consistency_proof: list[bytes] | None,
    ) -> None:
        self.b = bundle
        self.pinned_key = pinned_key
        self.pinned_head = pinned_head
        self.consistency_proof = consistency_proof
        self.digests: dict[str, str] = {}
        self.witnesses: WitnessPolicy | None = None
        self.cosigned_by: tuple[str, ...] = ()

    def run(self) -> BundleSummary:
        self._manifest()
        key = self._audit_key()
        head = self._tree_head(key)
        self._checkpoint_note(key, head)
        export = self._export(head)
        group_id = export["group"]["id"]
        keys = self._keys()
        attachments = self._attachments(bool(export.get("blobs")))
        posts = self._messages(group_id, export, keys, attachments)
        messages = len(posts)
        seals = SealCheck(self.b)
        seals.load()
        entries = self._audit(group_id, head, export, keys, attachments, posts, seals)
        return BundleSummary(
            group_id=group_id,
            group_code=str(export["group"].get("code")),
            messages=messages,
            keys=len(keys),
            attachments=len(attachments),
            blobs=sum(1 for a in attachments.values() if a.get("blob")),
            audit_entries=entries,
            tree_size=head.tree_size,
            root_hash=head.root_hash.hex(),
            audit_kid=key.kid,
            pinned_key=self.pinned_key is not None,
            pinned_head=self.pinned_head is not None,
            cosigned_by=self.cosigned_by,
        )

    # -- 2. manifest and file hashes ---------------------------------------------------------

    def _manifest(self) -> None:
        order = list(self.b.members)
        if order[-2:] != [ev.MANIFEST, ev.MANIFEST_SIG]:
            raise fail("manifest.json and manifest.sig are not the last two members")
        self._hash(ev.MANIFEST)
        self._hash(ev.MANIFEST_SIG)
        listed = ev.parse_manifest(self.b.read(ev.MANIFEST))
        if [f.path for f in listed] != order[:-2]:
            raise fail("the members are not exactly the files manifest.json lists, in order")
        for item in listed:
            size, digest = self._hash(item.path)
            if size != item.size or not hmac.compare_digest(digest, item.sha256):
                raise fail(f"{item.path} does not match its SHA-256 in manifest.json")

    def _hash(self, name: str) -> tuple[int, str]:
        member = self.b.members[name]
        crc, digest = 0, hashlib.sha256()
        for piece in self.b.pieces(name):
            crc = zlib.crc32(piece, crc)
            digest.update(piece)
        if crc != member.crc:
            raise fail(f"{name} does not match its CRC-32")
        self.digests[name] = digest.hexdigest()
        return member.size, self.digests[name]

    # -- 3. keys and signatures of the audit log ---------------------------------------------

    def _audit_key(self) -> AuditKey:
        try:
            key = audit_key_from_json(self.b.json(ev.AUDIT_KEY))
        except ValueError as exc:
            raise fail(f"{ev.AUDIT_KEY}: {exc}") from None
        if self.pinned_key is not None and self.pinned_key != key:
            raise fail(
                f"the bundle's audit key {key.kid} is not the pinned audit key "
                f"{self.pinned_key.kid}"
            )
        seal = self.b.json(ev.MANIFEST_SIG)
        if not isinstance(seal, dict) or set(seal) != {"alg", "kid", "signature"}:
            raise fail("manifest.sig is not {alg, kid, signature}")
        if seal["alg"] != "Ed25519" or seal["kid"] != key.kid:
            raise fail("manifest.sig is not an Ed25519 signature by the audit key")
        if ev.json_bytes(seal) != self.b.read(ev.MANIFEST_SIG):
            raise fail("manifest.sig is not in canonical form")
        try:
            signature = b64url_decode(str(seal["signature"]))
            Ed25519PublicKey.from_public_bytes(key.public_key).verify(
                signature, ev.manifest_signing_input(self.b.read(ev.MANIFEST))
            )
        except (ValueError, InvalidSignature):
            raise fail("manifest.sig: the manifest's signature does not verify") from None
        return key

    def _tree_head(self, key: AuditKey) -> TreeHead:
        try:
            head = tree_head_from_json(self.b.json(ev.TREE_HEAD))
            check_head_signature(head, key.verifier())
            if self.pinned_head is not None:
                check_head_signature(self.pinned_head, key.verifier())
        except ValueError as exc:  # TreeHeadError too
            raise fail(f"{ev.TREE_HEAD}: {exc}") from None
        saved = self.pinned_head
        if saved is not None:
            first, second = sorted((saved, head), key=lambda h: h.tree_size)
            try:
                check_extends(first, second, self.consistency_proof or [])
            except NotExtended as exc:
                if exc.reason == "root":
                    message = "the pinned tree head has another root at the bundle's size"
                    raise fail(message) from None
                raise fail(
                    f"the pinned tree head ({saved.tree_size}) is not proven consistent with "
                    f"the bundle's ({head.tree_size}): give --consistency-proof"
                ) from None
        return head

    def _checkpoint_note(self, key: AuditKey, head: TreeHead) -> None:
        """The witnessed checkpoint (`verification.cosigned`), when the bundle has one or
        witnesses are required."""
        note = self.b.read(ev.CHECKPOINT_NOTE) if ev.CHECKPOINT_NOTE in self.b.members else None
        try:
            self.cosigned_by = check_bundle_note(note, key.public_key, head, self.witnesses)
        except CheckpointError as exc:
            raise fail(f"{exc.check}: {exc}") from None

    def _export(self, head: TreeHead) -> dict[str, Any]:
        export = self.b.json(ev.EXPORT)
        if not isinstance(export, dict) or export.get("format") != ev.FORMAT:
            raise fail(f"{ev.EXPORT} is not of format {ev.FORMAT}")
        if export.get("tree_size") != head.tree_size:
            raise fail(f"{ev.EXPORT} names another tree size than the tree head")
        if not isinstance(export.get("group"), dict) or not isinstance(
            export["group"].get("id"), str
        ):
            raise fail(f"{ev.EXPORT} names no group")
        return export

    # -- 4. keys and attachments -------------------------------------------------------------

    def _keys(self) -> dict[str, dict[str, Any]]:
        document = self.b.json(ev.KEYS)
        keys: dict[str, dict[str, Any]] = {}
        for key in document.get("keys", []) if isinstance(document, dict) else [None]:
            if not isinstance(key, dict) or not isinstance(key.get("kid"), str):
                raise fail(f"{ev.KEYS}: a key is not an object with a kid")
            try:
                raw = b64url_decode(str(key.get("public_key")))
            except ValueError:
                raise fail(f"{ev.KEYS}: key {key['kid']} is not base64url") from None
            if len(raw) != 32 or jwk_thumbprint(raw) != key["kid"] or key["kid"] in keys:
                raise fail(f"{ev.KEYS}: key {key['kid']} does not hash to its kid, or repeats")
            keys[key["kid"]] = key
        return keys

    def _attachments(self, blobs: bool) -> dict[str, dict[str, Any]]:
        document = self.b.json(ev.ATTACHMENTS)
        found: dict[str, dict[str, Any]] = {}
        for item in document.get("attachments", []) if isinstance(document, dict) else [None]:
            if not isinstance(item, dict) or not isinstance(item.get("sha256"), str):
                raise fail(f"{ev.ATTACHMENTS}: an attachment has no sha256")
            sha = item["sha256"]
            if sha in found:
                raise fail(f"{ev.ATTACHMENTS}: attachment {sha} repeats")
            found[sha] = item
            blob = item.get("blob")
            if blob is None:
                continue
            if not blobs or blob != ev.blob_path(sha) or blob not in self.b.members:
                raise fail(f"attachment {sha}: its blob is not in the bundle")
            if self.b.members[blob].size != item.get("size") or self.digests[blob] != sha:
                raise fail(f"attachment {sha}: the blob's bytes do not hash to its SHA-256")
        stray = {n for n in self.b.members if n.startswith(ev.BLOB_DIR)} - {
            str(a.get("blob")) for a in found.values()
        }
        if stray:
            raise fail(f"{sorted(stray)[0]} is not an attachment of the bundle")
        return found

    # -- 5. messages -------------------------------------------------------------------------

    def _messages(
        self,
        group_id: str,
        export: dict[str, Any],
        keys: dict[str, dict[str, Any]],
        attachments: dict[str, dict[str, Any]],
    ) -> set[tuple[str, str]]:
        posts: set[tuple[str, str]] = set()
        seen: set[str] = set()
        for number, message in self.b.lines(ev.MESSAGES):
            where = f"message line {number}"
            if not isinstance(message, dict) or message.get("seq") != number:
                raise fail(f"{where}: seq is not {number} (seqs run 1, 2, 3 ... without gaps)")
            if message.get("id") in seen:
                raise fail(f"{where}: message id repeats")
            seen.add(str(message.get("id")))
            try:
                verified = verify_message({**message, "group_id": group_id}, list(keys.values()))
                parse_time(message.get("created_at"), "created_at")
            except VerificationError as exc:
                raise fail(f"{where} (seq {number}): {exc.check}: {exc}") from None
            for n, ref in enumerate(verified.payload.get("att") or []):
                listed = attachments.get(str(ref.get("sha256"))) if isinstance(ref, dict) else None
                if listed is None or listed.get("size") != ref.get("size"):
                    raise fail(f"{where}: attachment {n} is not in the bundle")
            posts.add((verified.sender_id, verified.cid))
        if len(seen) != export.get("last_seq"):
            raise fail(f"{ev.MESSAGES} does not hold every message up to the export's last seq")
        return posts

    # -- 6. the audit entries ----------------------------------------------------------------

    def _audit(
        self,
        group_id: str,
        head: TreeHead,
        export: dict[str, Any],
        keys: dict[str, dict[str, Any]],
        attachments: dict[str, dict[str, Any]],
        posts: set[tuple[str, str]],
        seals: SealCheck,
    ) -> int:
        previous = -1
        count = 0
        exported = False
        registered: set[tuple[str, str]] = set()
        revoked: set[str] = set()
        uploaded: set[str] = set()
        for number, item in self.b.lines(ev.AUDIT_ENTRIES):
            where = f"audit entry line {number}"
            entry = proven_entry(where, item, previous, head)
            index = entry["index"]
            count += 1
            previous = index
            action, target = entry["action"], entry["target_id"]
            if seals.saw(entry):
                continue  # a seal key's registration or revocation
            if entry["group_id"] == group_id:
                if action == "message.post":
                    posts.discard((entry["actor_id"], entry["details"].get("cid")))
                elif action == "attachment.upload":
                    uploaded.add(str(target))
                elif action == "group.export" and index == export.get("export_entry"):
                    by = export.get("exported_by") or {}
                    exported = entry["actor_id"] == by.get("user_id")
            elif action == "key.register" and target in keys:
                registered.add((target, str(entry["details"].get("public_key"))))
            elif action == "key.revoke" and target in keys:
                revoked.add(target)
            else:
                raise fail(f"{where}: entry {index} is neither the group's nor its keys'")
        if not exported:
            raise fail("the export's own group.export entry is missing from the audit entries")
        if posts:
            sender, cid = sorted(posts)[0]
            raise fail(f"message cid {cid} of {sender} has no message.post audit entry")
        if missing := sorted(set(attachments) - uploaded):
            raise fail(f"attachment {missing[0]} has no attachment.upload audit entry")
        for kid, key in sorted(keys.items()):
            if (kid, key.get("public_key")) not in registered:
                raise fail(f"key {kid} has no key.register audit entry for its public key")
            if key.get("revoked_at") is not None and kid not in revoked:
                raise fail(f"key {kid} is revoked but has no key.revoke audit entry")
        seals.finish(export)
        return count

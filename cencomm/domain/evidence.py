"""The evidence bundle of a group (`GET /groups/{id}/export`): its files, manifest and seal.

Shared by the exporter and the offline verifier, so both agree on every name and byte form.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from cencomm.domain.attachments import Attachment
from cencomm.domain.audit import canonical_json
from cencomm.domain.wire.attachments import evidence_attachment_json
from cencomm.domain.wire.directory import signing_key_json
from cencomm.domain.wire.messages import evidence_message_json
from cencomm.domain.wire.seals import evidence_countersignature_json
from cencomm.domain.wire.seals import organization_key_json as seal_key_json

FORMAT = "cencomm-evidence/1"

README = "README.txt"
EXPORT = "export.json"
MESSAGES = "messages.jsonl"
KEYS = "keys.json"
# Organisations' seals on the messages, and the seal keys that made them (issue 21).
ORGANIZATION_KEYS = "organization_keys.json"
COUNTERSIGNATURES = "countersignatures.jsonl"
ATTACHMENTS = "attachments.json"
BLOB_DIR = "blobs/"
AUDIT_ENTRIES = "audit/entries.jsonl"
TREE_HEAD = "audit/tree-head.json"
CHECKPOINT_NOTE = "audit/checkpoint.note"
AUDIT_KEY = "audit/key.json"
MANIFEST = "manifest.json"
MANIFEST_SIG = "manifest.sig"

# What the audit key signs for a manifest: this prefix, then the manifest's exact bytes. A
# checkpoint is four newline-terminated lines with numbers on lines two and four, and this is
# one line followed by a JSON object: neither signature can ever pass for the other.
MANIFEST_SIGNING_PREFIX = b"cencomm-evidence-manifest/1\n"

_SHA256 = re.compile(r"^[0-9a-f]{64}$")

BUNDLE_README = """\
cencomm evidence bundle ({format})

Group {code} ({group_id}), exported {exported_at} by user {exported_by}.

HANDLING: this bundle holds every message of the group VERBATIM, whatever its handling code,
TLP:RED and TLP:AMBER+STRICT included (codes present: {codes}). It is evidence for the
Secretariat and the authorities it is lawfully given to, not a report: handle the whole bundle
under the strictest code it contains and never publish it or any part of it.

Files (each listed with its SHA-256 in manifest.json, which the audit key signs in manifest.sig):
  export.json          the group, the exporter, the export's own audit entry, counts
  messages.jsonl       one line per message in seq order: id, seq, sender, kid, created_at,
                       hidden, hidden_reason, and the signed JWS exactly as the sender made it
  keys.json            every signing key that signed them (public key, kid, created, revoked)
  organization_keys.json  the organisations' seal keys that countersigned them (when any did)
  countersignatures.jsonl one line per countersignature of those messages: the organisation's
                       seal, a JWS naming the message and the SHA-256 of its JWS
  attachments.json     the group's attachments: SHA-256, size, name, type, status
  blobs/<sha256>       the decrypted attachment bytes (only when exported with ?blobs=true)
  audit/entries.jsonl  the group's audit entries and the registrations and revocations of the
                       keys above (seal keys included), each as its exact leaf string with an
                       RFC 9162 inclusion proof against audit/tree-head.json
  audit/tree-head.json the signed tree head (C2SP checkpoint) the proofs lead to
  audit/checkpoint.note the same tree head as a C2SP signed note: the audit key's signature,
                       then the cosignatures of the witnesses that had cosigned it
  audit/key.json       the audit public key that signed the tree head and the manifest

Verify offline: cencomm verify-export FILE --audit-key KEY.json [--tree-head HEAD.json]
Pin the audit key (GET /api/v1/audit/key, obtained independently): without it, a bundle could
be forged whole with another key, and would still verify against itself.
"""


class BundleInvalid(ValueError):
    """The bundle fails a check; the message names what failed first."""


@dataclass(frozen=True, slots=True)
class ManifestFile:
    path: str
    size: int
    sha256: str


def encode_manifest(files: list[ManifestFile]) -> bytes:
    """Canonical JSON (sorted keys, no whitespace), UTF-8, no trailing newline."""
    document = {
        "format": FORMAT,
        "files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in files],
    }
    return canonical_json(document).encode("utf-8")


def manifest_signing_input(manifest: bytes) -> bytes:
    return MANIFEST_SIGNING_PREFIX + manifest


def parse_manifest(raw: bytes) -> list[ManifestFile]:
    """The files a manifest lists, in order.

    Raises:
        BundleInvalid: not exactly the canonical form `encode_manifest` writes.
    """
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BundleInvalid("manifest.json is not UTF-8 JSON") from None
    if not isinstance(document, dict) or set(document) != {"format", "files"}:
        raise BundleInvalid("manifest.json does not have exactly the members format and files")
    if document["format"] != FORMAT:
        raise BundleInvalid(f"manifest.json is not of format {FORMAT}")
    files = document["files"]
    if not isinstance(files, list):
        raise BundleInvalid("manifest.json: files is not a list")
    listed: list[ManifestFile] = []
    for n, item in enumerate(files):
        if not isinstance(item, dict) or set(item) != {"path", "sha256", "size"}:
            raise BundleInvalid(f"manifest.json: file {n} is not {{path, sha256, size}}")
        path, digest, size = item["path"], item["sha256"], item["size"]
        if not isinstance(path, str) or not isinstance(digest, str) or not _SHA256.match(digest):
            raise BundleInvalid(f"manifest.json: file {n} has a bad path or sha256")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise BundleInvalid(f"manifest.json: file {n} has a bad size")
        listed.append(ManifestFile(path, size, digest))
    if encode_manifest(listed) != raw:
        raise BundleInvalid("manifest.json is not in canonical form")
    return listed


def json_bytes(document: Any) -> bytes:
    """How the bundle's JSON files are written: canonical, with a final newline."""
    return canonical_json(document).encode("utf-8") + b"\n"


def blob_path(sha256: str) -> str:
    return f"{BLOB_DIR}{sha256}"


# The bundle's records are the API's objects (`cencomm.domain.wire`), so a key or an attachment
# reads the same in a bundle as from the server.
key_json = signing_key_json
organization_key_json = seal_key_json
message_json = evidence_message_json
countersignature_json = evidence_countersignature_json


def attachment_json(a: Attachment, included: bool) -> dict[str, object]:
    return evidence_attachment_json(a, blob_path(a.sha256) if included else None)

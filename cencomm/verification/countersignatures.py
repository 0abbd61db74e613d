"""`cencomm verify-export`: the organisations' seals in an evidence bundle (issue 21).

Run by `verification/bundle.py` after the messages verified and along the audit entries.
Checks, in order; the first failure raises `BundleInvalid` naming it:

1. `organization_keys.json`: each seal key hashes to its kid (RFC 7638), none repeats;
2. each line of `countersignatures.jsonl`: names a message of the bundle; its `kid` is a
   bundled seal key of its `organization_id`; the JWS parses with the strict parser, its header
   names that kid, and its signature verifies with that key, which was registered no later than
   the countersignature's `created_at` and not revoked before it (a key revoked later still
   verifies it); the signed claims are exactly `v` 1, `typ` countersignature, a `cid`, `sub` =
   the record's signer, `iat`, `org` = the record's organisation = the message sender's
   organisation, `msg` = the message's id, and `sha256` = the SHA-256 of the message's JWS;
3. along the audit entries: every seal key has its `seal_key.register` entry for its public
   key (and `seal_key.revoke` when revoked); every countersignature has its
   `message.countersign` entry, and every such entry of a bundled message before the export's
   own entry has its countersignature in the bundle (none was dropped).

A bundle made before seals existed has neither file and must then have no countersign entry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from cencomm.crypto.jws import parse_compact, verify_signature
from cencomm.crypto.keys import b64url_decode, jwk_thumbprint
from cencomm.domain import evidence as ev
from cencomm.domain.errors import CencommError
from cencomm.domain.seals import CLAIMS, COUNTERSIGNATURE_TYP, COUNTERSIGNATURE_VERSION
from cencomm.verification.bundle_files import Bundle, fail
from cencomm.verification.errors import VerificationError
from cencomm.verification.messages import parse_time

SEAL_KEY_ACTIONS = ("seal_key.register", "seal_key.revoke")
_RECORD = frozenset(
    {"id", "message_id", "organization_id", "kid", "signer_id", "cid", "jws", "created_at"}
)


@dataclass(frozen=True, slots=True)
class _Message:
    jws: str
    organization_id: str
    seq: int


@dataclass
class SealCheck:
    """The seals of one bundle: loaded and verified by `load`, matched with the audit entries
    by `saw` (each entry) and `finish`."""

    bundle: Bundle
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (message id, kid, cid) of each countersignature, with its line number.
    signed: dict[tuple[str, str, str], int] = field(default_factory=dict)
    # The same of each message.countersign audit entry, with the entry's index.
    audited: dict[tuple[str, str, str], int] = field(default_factory=dict)
    registered: set[tuple[str, str]] = field(default_factory=set)
    revoked: set[str] = field(default_factory=set)
    messages: dict[str, _Message] = field(default_factory=dict)

    def load(self) -> int:
        """Steps 1 and 2; returns how many countersignatures the bundle holds."""
        for _, message in self.bundle.lines(ev.MESSAGES):
            sender = message.get("sender") if isinstance(message, dict) else None
            jws = message.get("jws") if isinstance(message, dict) else None
            if isinstance(sender, dict) and isinstance(jws, str):
                self.messages[str(message.get("id"))] = _Message(
                    jws, str(sender.get("organization_id")), int(message.get("seq") or 0)
                )
        if ev.ORGANIZATION_KEYS in self.bundle.members:
            self._keys()
        if ev.COUNTERSIGNATURES not in self.bundle.members:
            return 0
        for number, record in self.bundle.lines(ev.COUNTERSIGNATURES):
            where = f"{ev.COUNTERSIGNATURES} line {number}"
            try:
                key = self._countersignature(record)
            except VerificationError as exc:
                raise fail(f"{where}: {exc.check}: {exc.detail}") from None
            ident = (str(record["message_id"]), str(key["kid"]), str(record["cid"]))
            if ident in self.signed:
                raise fail(f"{where}: the countersignature repeats")
            self.signed[ident] = number
        return len(self.signed)

    def _keys(self) -> None:
        document = self.bundle.json(ev.ORGANIZATION_KEYS)
        for key in document.get("keys", []) if isinstance(document, dict) else [None]:
            if not isinstance(key, dict) or not isinstance(key.get("kid"), str):
                raise fail(f"{ev.ORGANIZATION_KEYS}: a seal key is not an object with a kid")
            kid = key["kid"]
            try:
                raw = b64url_decode(str(key.get("public_key")))
            except ValueError:
                raise fail(f"{ev.ORGANIZATION_KEYS}: seal key {kid} is not base64url") from None
            if len(raw) != 32 or jwk_thumbprint(raw) != kid or kid in self.keys:
                raise fail(
                    f"{ev.ORGANIZATION_KEYS}: seal key {kid} does not hash to its kid, or repeats"
                )
            self.keys[kid] = {**key, "raw": raw}

    def _countersignature(self, record: Any) -> dict[str, Any]:
        if not isinstance(record, dict) or set(record) != _RECORD:
            raise VerificationError("record", "not {" + ", ".join(sorted(_RECORD)) + "}")
        message = self.messages.get(str(record["message_id"]))
        if message is None:
            raise VerificationError("message", f"message {record['message_id']} is not bundled")
        key = self.keys.get(str(record["kid"]))
        if key is None:
            raise VerificationError("unknown-key", f"kid {record['kid']} is not a bundled seal key")
        if key.get("organization_id") != record["organization_id"]:
            raise VerificationError(
                "key-owner", f"seal key {record['kid']} is not a key of {record['organization_id']}"
            )
        jws = record["jws"]
        try:
            parsed = parse_compact(jws)
        except CencommError as exc:
            raise VerificationError("jws", f"the JWS does not parse: {exc}") from None
        if parsed.kid != record["kid"]:
            raise VerificationError("kid", "the JWS header names another kid than the record")
        at = parse_time(record["created_at"], "created_at")
        if at < parse_time(key.get("created_at"), "the seal key's created_at"):
            raise VerificationError("key-not-yet-valid", "the seal key was registered later")
        revoked_at = key.get("revoked_at")
        if revoked_at is not None and parse_time(revoked_at, "revoked_at") <= at:
            raise VerificationError("key-revoked", "the seal key was revoked before it")
        if not verify_signature(parsed, key["raw"]):
            raise VerificationError("signature", "the signature does not verify with the seal key")
        _claims(parsed.payload, record, message)
        return key

    def saw(self, entry: dict[str, Any]) -> bool:
        """Note an audit entry that concerns seals; True for a seal key's entry (which is
        neither the group's nor a signing key's), False for any other entry."""
        action, target, details = entry["action"], entry["target_id"], entry["details"]
        if action == "message.countersign":
            ident = (str(target), str(details.get("kid")), str(details.get("cid")))
            self.audited[ident] = entry["index"]
            return False
        if action in SEAL_KEY_ACTIONS:  # one of a key not bundled fails in `finish`
            if action == "seal_key.register":
                self.registered.add((str(target), str(details.get("public_key"))))
            else:
                self.revoked.add(str(target))
            return True
        return False

    def finish(self, export: dict[str, Any]) -> None:
        """Step 3, once every audit entry was seen."""
        for ident, number in sorted(self.signed.items(), key=lambda item: item[1]):
            if ident not in self.audited:
                raise fail(
                    f"{ev.COUNTERSIGNATURES} line {number}: no message.countersign audit entry"
                )
        last_seq = export.get("last_seq")
        export_entry = export.get("export_entry")
        for ident in sorted(set(self.audited) - set(self.signed)):
            message = self.messages.get(ident[0])
            # Sealed before the export's own entry, a message of the bundle: it must be here.
            # (One sealed while the export was being made may be left out.)
            in_scope = message is not None and isinstance(last_seq, int) and message.seq <= last_seq
            before = isinstance(export_entry, int) and self.audited[ident] < export_entry
            if in_scope and before:
                raise fail(
                    f"message {ident[0]} was countersigned with {ident[1]} (cid {ident[2]}) "
                    f"but the countersignature is not in {ev.COUNTERSIGNATURES}"
                )
        for kid, key in sorted(self.keys.items()):
            if (kid, key.get("public_key")) not in self.registered:
                raise fail(f"seal key {kid} has no seal_key.register audit entry for its key")
            if key.get("revoked_at") is not None and kid not in self.revoked:
                raise fail(f"seal key {kid} is revoked but has no seal_key.revoke audit entry")
        stray = {kid for kid, _ in self.registered} | self.revoked
        if extra := sorted(stray - set(self.keys)):
            raise fail(f"the audit entries of seal key {extra[0]} come with no such seal key")


def _claims(payload: dict[str, Any], record: dict[str, Any], message: _Message) -> None:
    extra = sorted(set(payload) ^ CLAIMS)
    if extra:
        raise VerificationError("claims", f"claim {extra[0]} is missing or not allowed")
    if type(payload["v"]) is not int or payload["v"] != COUNTERSIGNATURE_VERSION:
        raise VerificationError("version", f"v is not {COUNTERSIGNATURE_VERSION}")
    if payload["typ"] != COUNTERSIGNATURE_TYP:
        raise VerificationError("typ", f"typ is not {COUNTERSIGNATURE_TYP}")
    if payload["cid"] != record["cid"]:
        raise VerificationError("cid", "cid is not the record's")
    if payload["sub"] != record["signer_id"]:
        raise VerificationError("signer", "sub is not the countersignature's signer")
    if type(payload["iat"]) is not int:
        raise VerificationError("iat", "iat is not integer Unix seconds")
    if payload["org"] != record["organization_id"]:
        raise VerificationError("organization", "org is not the record's organisation")
    if payload["org"] != message.organization_id:
        raise VerificationError(
            "organization", "org is not the organisation of the message's sender"
        )
    if payload["msg"] != record["message_id"]:
        raise VerificationError("message", "msg names another message than the record")
    digest = hashlib.sha256(message.jws.encode("ascii")).hexdigest()
    if payload["sha256"] != digest:
        raise VerificationError("sha256", "sha256 is not the SHA-256 of the message's JWS")

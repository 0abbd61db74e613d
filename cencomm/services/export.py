"""The evidence export of a group: a zip of signed messages, keys, attachments and audit proofs.

What happens, in order (all before the first byte is sent, so refusals are proper problems):

1. The caller must moderate the group (group moderator, admin, moderator): members 403,
   anyone else 404 as for a missing group.
2. One read fixes what is exported: the last message seq, the keys that signed those messages
   and the group's attachments. All of it was committed before step 3, so every audit entry
   that records it is in the tree head of step 4.
3. With `?blobs=true`, the clean attachments' total size is checked against `export.max_bytes`
   (413 `export-too-large`). Then the export itself is audited (`group.export`).
4. A fresh tree head is signed, so it covers the export's own entry: the bundle proves that it
   was itself audited.

The body is then streamed (`ZipStreamWriter`): messages page by page, blobs decrypted chunk by
chunk, audit entries in batches with their inclusion proofs computed from the stored subtree
hashes. Memory stays bounded whatever the group's size. Last come the manifest (every file's
SHA-256) and its signature by the audit key.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from cencomm.crypto.keys import b64url_encode, raw_public_key
from cencomm.crypto.merkle import (
    MappingSubtreeSource,
    inclusion_proof_ranges,
    proof_subtrees,
    range_hash,
)
from cencomm.domain import evidence as ev
from cencomm.domain.attachments import Attachment, AttachmentCorrupted, BlobStatus
from cencomm.domain.audit import AuditEntry, AuditRecord
from cencomm.domain.audit_tree import TreeHead
from cencomm.domain.clock import Clock, rfc3339
from cencomm.domain.errors import NotFound, TooLarge
from cencomm.domain.evidence_zip import ZipStreamWriter
from cencomm.domain.groups import Group, GroupAccess
from cencomm.domain.ids import GroupId
from cencomm.domain.keys import SigningKey
from cencomm.domain.messages import AttachmentView, StoredMessage, withheld_codes
from cencomm.domain.seals import Countersignature, OrganizationKey
from cencomm.domain.users import Caller
from cencomm.domain.wire.audit import audit_key_json, tree_head_json
from cencomm.domain.wire.groups import evidence_group_json
from cencomm.services.attachment_blobs import BlobVault
from cencomm.services.audit import AuditTrail
from cencomm.services.audit_log import AuditLogDamaged, AuditLogService
from cencomm.services.audit_witness import WitnessCollector
from cencomm.services.groups import GroupService
from cencomm.storage.attachments import AttachmentStore
from cencomm.storage.db import Database
from cencomm.storage.evidence import SEAL_KEY_ACTIONS
from cencomm.storage.keyring import ServerSigningKey
from cencomm.storage.unit import Unit

MESSAGE_PAGE = 500
AUDIT_BATCH = 256
ATTACHMENT_PAGE = 1000


class ExportTooLarge(TooLarge):
    slug = "export-too-large"


@dataclass(frozen=True, slots=True)
class EvidenceExport:
    """A bundle ready to send: its file name and its bytes, piece by piece."""

    filename: str
    tree_size: int
    pieces: AsyncGenerator[bytes, None]


@dataclass(frozen=True, slots=True)
class _Plan:
    caller: Caller
    group: Group
    withheld: frozenset[str]
    last_seq: int
    keys: list[SigningKey]
    attachments: list[Attachment]
    blobs: list[Attachment]
    blobs_requested: bool
    export_index: int
    head: TreeHead
    at: datetime
    # Organisations' seals on the exported messages, and the seal keys that made them.
    countersignatures: list[Countersignature]
    seal_keys: list[OrganizationKey]
    # The head as a C2SP signed note with its cosignatures (audit/checkpoint.note).
    checkpoint_note: str = ""


class EvidenceExportService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditTrail,
        audit_log: AuditLogService,
        groups: GroupService,
        vault: BlobVault,
        audit_key: ServerSigningKey,
        max_bytes: int,
        witnesses: WitnessCollector | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._audit_log = audit_log
        self._groups = groups
        self._vault = vault
        self._key = audit_key
        self._max_bytes = max_bytes
        self._witnesses = witnesses

    async def export(self, caller: Caller, group_id: uuid.UUID, blobs: bool) -> EvidenceExport:
        """Check, audit and sign; return the bundle to stream (see the module docstring).

        Raises:
            NotFound: the caller cannot see the group (or it does not exist).
            Forbidden: a member who does not moderate the group.
            ExportTooLarge: the attachments to include exceed `export.max_bytes`.
            AuditLogDamaged: no tree head could be signed over the export's entry.
        """
        principal = caller.principal
        if principal is None:
            raise NotFound("no such group")

        def contents(unit: Unit) -> tuple[GroupAccess, int, list[SigningKey], list[Attachment]]:
            """Step 2: one read fixes what is exported."""
            access = self._groups.access(unit, principal, group_id)
            access.ensure_can_moderate()
            last_seq = unit.evidence.last_seq(group_id)
            keys = unit.evidence.sender_keys(group_id, last_seq)
            return access, last_seq, keys, _all_attachments(unit.attachments, group_id)

        access, last_seq, keys, attachments = await self._db.read(contents)
        # Quarantined and not yet scanned blobs are listed but never copied into a bundle.
        included = [a for a in attachments if a.status is BlobStatus.CLEAN] if blobs else []
        total = sum(a.size for a in included)
        if self._max_bytes and total > self._max_bytes:
            raise ExportTooLarge(
                f"the attachments come to {total} bytes; exports carry at most "
                f"{self._max_bytes} (setting export.max_bytes): export without ?blobs=true",
            )
        record = AuditRecord.by(
            caller,
            "group.export",
            target_type="group",
            target_id=group_id,
            group_id=GroupId(group_id),
            details={
                "blobs": blobs,
                "last_seq": last_seq,
                "attachments": len(attachments),
                "blob_bytes": total,
            },
        )

        def audited(
            unit: Unit,
        ) -> tuple[AuditEntry, list[Countersignature], list[OrganizationKey]]:
            entry = self._audit.append(unit, record)
            # Read after the export's own entry holds the log's order: every countersignature
            # audited before it is in the bundle (verify-export checks that none is missing).
            seals = unit.seals.of_group(group_id, last_seq)
            return entry, seals, unit.seals.keys_of([c.kid for c in seals])

        entry, countersignatures, seal_keys = await self._db.write(audited)
        head = await self._head_covering(entry.index)
        note = await self._checkpoint_note(head)
        plan = _Plan(
            caller=caller,
            group=access.group,
            withheld=withheld_codes(access),  # empty: moderators read everything
            last_seq=last_seq,
            keys=keys,
            attachments=attachments,
            blobs=included,
            blobs_requested=blobs,
            export_index=entry.index,
            head=head,
            at=entry.at,
            checkpoint_note=note,
            countersignatures=countersignatures,
            seal_keys=seal_keys,
        )
        stamp = entry.at.strftime("%Y%m%dT%H%M%SZ")
        return EvidenceExport(
            filename=f"cencomm-evidence-{access.group.code}-{stamp}.zip",
            tree_size=head.tree_size,
            pieces=self._bundle(plan),
        )

    async def _head_covering(self, index: int) -> TreeHead:
        await self._audit_log.sign_tree_head()
        head = await self._db.read(lambda unit: unit.audit_tree.latest_head())
        if head is None or head.tree_size <= index:
            raise AuditLogDamaged("no tree head covers the export's audit entry")
        return head

    async def _checkpoint_note(self, head: TreeHead) -> str:
        """The head as a signed note with the witnesses' cosignatures, which are asked for at
        once (waiting at most the witness timeout: a witness that is away leaves its
        cosignature out, and verify-export then says the quorum is not met)."""
        if self._witnesses is None:
            return ""
        await self._witnesses.collect_now(head, self._witnesses.timeout)
        return await self._witnesses.note_of(head)

    # -- the bundle --------------------------------------------------------------------------

    async def _bundle(self, plan: _Plan) -> AsyncGenerator[bytes, None]:
        zw = ZipStreamWriter(plan.at)
        codes: set[str] = set()
        yield zw.begin(ev.MESSAGES)
        async for lines in self._message_lines(plan, codes):
            yield zw.data(lines)
        yield zw.end()
        yield zw.member(ev.KEYS, ev.json_bytes({"keys": [ev.key_json(k) for k in plan.keys]}))
        if plan.countersignatures:  # a group without seals: the bundle of before
            seal_keys = {"keys": [ev.organization_key_json(k) for k in plan.seal_keys]}
            yield zw.member(ev.ORGANIZATION_KEYS, ev.json_bytes(seal_keys))
            yield zw.member(
                ev.COUNTERSIGNATURES,
                b"".join(
                    ev.json_bytes(ev.countersignature_json(c)) for c in plan.countersignatures
                ),
            )
        blob_names = {a.sha256 for a in plan.blobs}
        yield zw.member(
            ev.ATTACHMENTS,
            ev.json_bytes(
                {
                    "attachments": [
                        ev.attachment_json(a, a.sha256 in blob_names) for a in plan.attachments
                    ]
                }
            ),
        )
        for attachment in plan.blobs:
            yield zw.begin(ev.blob_path(attachment.sha256))
            async for piece in self._blob(attachment):
                yield zw.data(piece)
            yield zw.end()
            if zw.members[-1].sha256 != attachment.sha256:
                raise AttachmentCorrupted(f"attachment {attachment.sha256} does not match its hash")
        entries = 0
        yield zw.begin(ev.AUDIT_ENTRIES)
        async for lines, count in self._audit_lines(plan):
            entries += count
            yield zw.data(lines)
        yield zw.end()
        head = plan.head
        yield zw.member(ev.TREE_HEAD, ev.json_bytes(tree_head_json(head)))
        if plan.checkpoint_note:
            yield zw.member(ev.CHECKPOINT_NOTE, plan.checkpoint_note.encode("utf-8"))
        yield zw.member(ev.AUDIT_KEY, ev.json_bytes(self._audit_key_json()))
        yield zw.member(ev.EXPORT, ev.json_bytes(_export_json(plan, sorted(codes), entries)))
        readme = ev.BUNDLE_README.format(
            format=ev.FORMAT,
            code=plan.group.code,
            group_id=plan.group.id,
            exported_at=rfc3339(plan.at),
            exported_by=_actor(plan.caller),
            codes=", ".join(sorted(codes)) or "none",
        )
        yield zw.member(ev.README, readme.encode("utf-8"))
        manifest = ev.encode_manifest(
            [ev.ManifestFile(m.name, m.size, m.sha256) for m in zw.members]
        )
        signature = self._key.private_key.sign(ev.manifest_signing_input(manifest))
        seal = {"alg": "Ed25519", "kid": self._key.kid, "signature": b64url_encode(signature)}
        yield zw.member(ev.MANIFEST, manifest)
        yield zw.member(ev.MANIFEST_SIG, ev.json_bytes(seal))
        yield zw.finish()

    def _audit_key_json(self) -> dict[str, str]:
        public = raw_public_key(self._key.private_key.public_key())
        return audit_key_json(self._key.kid, public)

    async def _message_lines(self, plan: _Plan, codes: set[str]) -> AsyncIterator[bytes]:
        after = 0
        while after < plan.last_seq:
            # Each page its own read: no unit is held while the client takes the bytes.
            page = await self._db.read(partial(_message_page, plan, after))
            page = [m for m in page if m.seq <= plan.last_seq]
            if not page:
                return
            codes.update(m.hc for m in page)
            yield b"".join(ev.json_bytes(ev.message_json(m)) for m in page)
            after = page[-1].seq

    async def _blob(self, attachment: Attachment) -> AsyncIterator[bytes]:
        blob = await self._db.read(lambda unit: unit.attachments.find_blob(attachment.sha256))
        if blob is None:  # pragma: no cover - a foreign key
            raise AttachmentCorrupted(f"attachment {attachment.sha256} has no blob")
        reader = await asyncio.to_thread(self._vault.open_reader, blob)
        stream = self._vault.stream(reader, 0, blob.size - 1, whole=True, sha256=attachment.sha256)
        try:
            async for piece in stream:
                yield piece
        finally:
            await stream.aclose()

    async def _audit_lines(self, plan: _Plan) -> AsyncIterator[tuple[bytes, int]]:
        """The group's entries and its keys' registrations and revocations, in index order,
        each with its inclusion proof, a batch at a time."""
        size = plan.head.tree_size
        kids = [k.kid for k in plan.keys]
        seal_kids = [k.kid for k in plan.seal_keys]

        def key_entries(unit: Unit) -> list[AuditEntry]:
            signing = unit.evidence.key_entries(kids, size)
            seals = unit.evidence.key_entries(seal_kids, size, SEAL_KEY_ACTIONS)
            return sorted([*signing, *seals], key=_index)

        pending = await self._db.read(key_entries)
        after = -1
        while True:
            batch = await self._db.read(partial(_audit_batch, plan.group.id, after, size))
            limit = batch[-1].index if len(batch) == AUDIT_BATCH else size
            merged = [e for e in pending if e.index <= limit]
            pending = [e for e in pending if e.index > limit]
            merged = sorted({e.index: e for e in [*batch, *merged]}.values(), key=_index)
            if merged:
                yield await self._proved(merged, size), len(merged)
            if len(batch) < AUDIT_BATCH:
                return
            after = batch[-1].index

    async def _proved(self, entries: list[AuditEntry], size: int) -> bytes:
        paths = {e.index: inclusion_proof_ranges(e.index, size) for e in entries}
        leaves = [(e.index, e.index + 1) for e in entries]
        needed = proof_subtrees([*leaves, *(r for ranges in paths.values() for r in ranges)])
        wanted = [(s, (e - s).bit_length() - 1) for s, e in needed]
        found = await self._db.read(lambda unit: unit.audit_tree.subtrees(wanted))
        hashes: dict[tuple[int, int], bytes] = {}
        for start, end in needed:
            digest = found.get((start, (end - start).bit_length() - 1))
            if digest is None:
                raise AuditLogDamaged(
                    f"the stored subtree of entries {start}..{end - 1} is missing"
                )
            hashes[(start, end)] = digest
        source = MappingSubtreeSource(hashes)
        lines = []
        for entry in entries:
            if entry.leaf_hash() != source.subtree(entry.index, entry.index + 1):
                raise AuditLogDamaged(f"audit entry {entry.index} does not match its leaf hash")
            path = [range_hash(source, s, e).hex() for s, e in paths[entry.index]]
            lines.append(
                ev.json_bytes({"index": entry.index, "leaf": entry.leaf(), "audit_path": path})
            )
        return b"".join(lines)


def _message_page(plan: _Plan, after: int, unit: Unit) -> list[StoredMessage]:
    return unit.messages.page(
        plan.group.id, after=after, before=None, limit=MESSAGE_PAGE, withheld=plan.withheld
    )


def _audit_batch(group_id: uuid.UUID, after: int, size: int, unit: Unit) -> list[AuditEntry]:
    return unit.evidence.group_entries(group_id, after, size, AUDIT_BATCH)


def _index(entry: AuditEntry) -> int:
    return entry.index


def _all_attachments(store: AttachmentStore, group_id: uuid.UUID) -> list[Attachment]:
    found: list[Attachment] = []
    before: tuple[datetime, uuid.UUID] | None = None
    while True:
        # Everything: the bundle holds every message verbatim, hidden ones included.
        page = store.list_page(
            group_id, before=before, limit=ATTACHMENT_PAGE, view=AttachmentView.everything()
        )
        found.extend(page)
        if len(page) < ATTACHMENT_PAGE:
            return sorted(found, key=lambda a: (a.created_at, a.sha256))
        before = (page[-1].created_at, page[-1].id)


def _actor(caller: Caller) -> str:
    return str(caller.principal.user_id) if caller.principal else "system"


def _export_json(plan: _Plan, codes: list[str], entries: int) -> dict[str, object]:
    principal = plan.caller.principal
    return {
        "format": ev.FORMAT,
        "group": evidence_group_json(plan.group),
        "exported_at": rfc3339(plan.at),
        "exported_by": {
            "user_id": str(principal.user_id) if principal else None,
            "organization_id": str(principal.organization_id) if principal else None,
        },
        "export_entry": plan.export_index,
        "tree_size": plan.head.tree_size,
        "last_seq": plan.last_seq,
        "blobs": plan.blobs_requested,
        "handling_codes": codes,
        "counts": {
            "messages": plan.last_seq,
            "keys": len(plan.keys),
            "attachments": len(plan.attachments),
            "blobs": len(plan.blobs),
            "audit_entries": entries,
            "organization_keys": len(plan.seal_keys),
            "countersignatures": len(plan.countersignatures),
        },
    }

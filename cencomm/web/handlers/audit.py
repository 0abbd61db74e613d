"""The audit log: query entries (admin, moderator); tree heads, the audit key and Merkle proofs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import Field

from cencomm.appkeys import SERVICES
from cencomm.domain.audit import AuditFilter
from cencomm.domain.errors import NotFound
from cencomm.domain.ids import MAX_SEQUENCE
from cencomm.domain.wire.audit import (
    audit_entry_json,
    audit_entry_with_leaf_json,
    audit_key_json,
    consistency_proof_json,
    inclusion_proof_json,
    tree_head_json,
)
from cencomm.web.auth import principal
from cencomm.web.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    QueryModel,
    ResponseModel,
    Sequence,
    Timestamp,
)


class AuditQuery(QueryModel):
    actor_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    action: str | None = Field(default=None, min_length=1, max_length=64)
    # Entries at or after `since` and strictly before `until` (RFC 3339 with a zone).
    since: Timestamp | None = None
    until: Timestamp | None = None
    # The `next` of the previous page: the index after which to continue.
    after: int | None = Field(default=None, ge=-1, le=MAX_SEQUENCE)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class TreeHeadsQuery(QueryModel):
    # Tree heads with a larger tree_size than this (the `next` of the previous page).
    after: int | None = Field(default=None, ge=-1, le=MAX_SEQUENCE)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class CheckpointQuery(QueryModel):
    # The signed head of this size (default: the newest one a quorum of witnesses cosigned).
    tree_size: int | None = Field(default=None, ge=0, le=MAX_SEQUENCE)


class InclusionQuery(QueryModel):
    index: Sequence
    tree_size: int = Field(ge=1, le=MAX_SEQUENCE)


class ConsistencyQuery(QueryModel):
    first: Sequence
    second: Sequence


class AuditEntryResponse(ResponseModel):
    index: int
    at: str
    actor_id: str | None
    organization_id: str | None
    action: str
    target_type: str | None
    target_id: str | None
    group_id: str | None
    ip: str | None
    details: dict[str, Any]


class AuditEntryList(ResponseModel):
    entries: list[AuditEntryResponse]
    next: int | None


class AuditEntryWithLeaf(ResponseModel):
    entry: AuditEntryResponse
    leaf: str = Field(description="The exact leaf string: sorted keys, no whitespace, UTF-8")


class TreeHeadResponse(ResponseModel):
    tree_size: int
    root_hash: str = Field(description="SHA-256 Merkle root, lowercase hex")
    timestamp: str
    checkpoint: str = Field(description="C2SP tlog-checkpoint body; the signed bytes")
    kid: str
    signature: str = Field(description="Ed25519 signature of checkpoint, base64url")


class TreeHeadList(ResponseModel):
    tree_heads: list[TreeHeadResponse]
    next: int | None


class AuditKeyResponse(ResponseModel):
    kid: str
    public_key: str = Field(description="Raw Ed25519 public key, base64url without padding")
    note_key: str = Field(
        description="The same key as a C2SP signed-note verifier key "
        "(<origin>+<key ID>+<base64(0x01 || key)>), for witnesses' --log"
    )


class InclusionProofResponse(ResponseModel):
    leaf_hash: str
    audit_path: list[str]


class ConsistencyProofResponse(ResponseModel):
    proof: list[str]


def _filter(query: AuditQuery) -> AuditFilter:
    since: datetime | None = query.since
    until: datetime | None = query.until
    return AuditFilter(
        actor_id=query.actor_id,
        group_id=query.group_id,
        action=query.action,
        since=since,
        until=until,
    )


async def list_audit_entries(request: web.Request, query: AuditQuery) -> web.Response:
    entries = await request.app[SERVICES].audit_log.list_entries(
        principal(request), _filter(query), query.after, query.limit
    )
    next_after = entries[-1].index if len(entries) == query.limit else None
    return web.json_response(
        {"entries": [audit_entry_json(e) for e in entries], "next": next_after}
    )


async def get_audit_entry(request: web.Request) -> web.Response:
    raw = request.match_info["index"]
    # Past 64 bits there is no such entry: never hand the database a number it cannot hold.
    if not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_SEQUENCE:
        raise NotFound("no such audit entry")
    entry = await request.app[SERVICES].audit_log.get_entry(principal(request), int(raw))
    return web.json_response(audit_entry_with_leaf_json(entry))


async def get_tree_head(request: web.Request) -> web.Response:
    head = await request.app[SERVICES].audit_log.latest_tree_head(principal(request))
    return web.json_response(tree_head_json(head))


async def list_tree_heads(request: web.Request, query: TreeHeadsQuery) -> web.Response:
    heads = await request.app[SERVICES].audit_log.list_tree_heads(
        principal(request), query.after, query.limit
    )
    next_after = heads[-1].tree_size if len(heads) == query.limit else None
    return web.json_response({"tree_heads": [tree_head_json(h) for h in heads], "next": next_after})


async def get_audit_key(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    key = services.audit_log.audit_key(principal(request))
    note_key = services.witnesses.note_key(principal(request))
    return web.json_response(
        {**audit_key_json(key.kid, key.public_raw), "note_key": note_key.encode()}
    )


async def get_checkpoint(request: web.Request, query: CheckpointQuery) -> web.Response:
    note = await request.app[SERVICES].witnesses.checkpoint(principal(request), query.tree_size)
    return web.Response(text=note, content_type="text/plain", charset="utf-8")


async def get_inclusion_proof(request: web.Request, query: InclusionQuery) -> web.Response:
    proof = await request.app[SERVICES].audit_log.inclusion_proof(
        principal(request), query.index, query.tree_size
    )
    return web.json_response(inclusion_proof_json(proof.leaf_hash, proof.audit_path))


async def get_consistency_proof(request: web.Request, query: ConsistencyQuery) -> web.Response:
    proof = await request.app[SERVICES].audit_log.consistency_proof(
        principal(request), query.first, query.second
    )
    return web.json_response(consistency_proof_json(proof))

"""rebuild message search: seizure fields indexed, prefix matching

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

Recomputes `message.search_text` of every stored message from its JWS (the source of truth):
besides text, titles and notes, a seizure report's location, concealment, transport mode,
infringement and its items' categories, descriptions and hs_codes. On SQLite the FTS5 table is
recreated with prefix indexes and refilled; on PostgreSQL the GIN expression index of 0005
follows the column. The text functions are frozen copies: later code changes must not change
what this migration does.
"""

import base64
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
_FTS_COLUMNS = "search_text, message_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2'"

_message = sa.table(
    "message",
    sa.column("id", sa.Uuid()),
    sa.column("typ", sa.String()),
    sa.column("jws", sa.Text()),
    sa.column("search_text", sa.Text()),
)


def _payload(jws: str) -> dict[str, Any]:
    segment = jws.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return claims


def _spaced(value: object) -> str | None:
    return value.replace("_", " ") if isinstance(value, str) and value else None


def _words(parts: list[object]) -> str | None:
    return " ".join(p for p in parts if isinstance(p, str) and p) or None


def _text_v2(typ: str, body: dict[str, Any]) -> str | None:
    """What this revision indexes (cencomm.domain.messages.search_text as of 0009)."""
    if typ == "text":
        return _words([body.get("text")])
    if typ == "notice":
        return _words([body.get("title"), body.get("text")])
    if typ != "seizure":
        return None
    parts: list[object] = [
        body.get("notes"),
        body.get("location"),
        _spaced(body.get("concealment")),
        _spaced(body.get("transport_mode")),
        _spaced(body.get("infringement")),
    ]
    items = body.get("items")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            parts += [_spaced(item.get("category")), item.get("description")]
            code = item.get("hs_code")
            if isinstance(code, str) and code:
                parts += [code, code.replace(".", " "), code.replace(".", "")]
    return _words(parts)


def _text_v1(typ: str, body: dict[str, Any]) -> str | None:
    """What revision 0005 indexed: text and notice bodies, seizure notes."""
    if typ == "text":
        return _words([body.get("text")])
    if typ == "notice":
        return _words([body.get("title"), body.get("text")])
    if typ == "seizure":
        return _words([body.get("notes")])
    return None


def _batches(bind: sa.Connection) -> Iterator[list[Any]]:
    """Every message, a batch at a time in id order (a million rows never sit in memory)."""
    last: uuid.UUID | None = None
    while True:
        query = sa.select(_message.c.id, _message.c.typ, _message.c.jws).order_by(_message.c.id)
        if last is not None:
            query = query.where(_message.c.id > last)
        rows = list(bind.execute(query.limit(BATCH)).all())
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _reindex(text_of: Callable[[str, dict[str, Any]], str | None], prefix: str | None) -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TABLE IF EXISTS message_search")
        options = f", prefix = '{prefix}'" if prefix else ""
        op.execute(f"CREATE VIRTUAL TABLE message_search USING fts5({_FTS_COLUMNS}{options})")
    update = (
        sa.update(_message)
        .where(_message.c.id == sa.bindparam("message_id"))
        .values(search_text=sa.bindparam("words"))
    )
    for rows in _batches(bind):
        entries = []
        for message_id, typ, jws in rows:
            body = _payload(jws).get("body")
            entries.append(
                {
                    "message_id": message_id,
                    "words": text_of(typ, body if isinstance(body, dict) else {}),
                }
            )
        bind.execute(update, entries)
        if sqlite:
            indexed = [
                {"t": e["words"], "m": e["message_id"].hex}
                for e in entries
                if e["words"] is not None
            ]
            if indexed:
                bind.execute(
                    sa.text("INSERT INTO message_search (search_text, message_id) VALUES (:t, :m)"),
                    indexed,
                )


def upgrade() -> None:
    # Prefix indexes for 2 to 4 characters keep short prefix queries ("ma*") fast.
    _reindex(_text_v2, "2 3 4")


def downgrade() -> None:
    _reindex(_text_v1, None)

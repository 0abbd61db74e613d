"""What must hold after every restart, read from the client journals and one database snapshot.

Each check returns the problems it found as readable lines (empty when it holds); the driver
prefixes them with the seed and the kill number.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

OUTCOME_ORDER = {"received": 0, "controlled": 1, "nil_find": 2, "seized": 3}
SHOWN = 20  # items listed per problem; the rest are counted


def read_journals(paths: list[Path]) -> list[dict[str, Any]]:
    """Every complete line of every journal (a line being written is left for next time)."""
    entries = []
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
            if line.endswith("\n"):
                entries.append(json.loads(line))
    return entries


def listed(what: str, items: list[Any]) -> str:
    more = f" … and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return f"{what} ({len(items)}): " + "; ".join(str(i) for i in items[:SHOWN]) + more


def _uid(value: Any) -> str:
    return str(uuid.UUID(str(value))) if value is not None else ""


@dataclass
class Snapshot:
    """The rows the checks need, read in one transaction."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)
    members: set[tuple[str, str]] = field(default_factory=set)
    audit: list[dict[str, Any]] = field(default_factory=list)


async def snapshot(engine: AsyncEngine) -> Snapshot:
    snap = Snapshot()
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        else:  # the driver in autocommit (`snapshot_engine`): one read transaction, by hand
            await conn.exec_driver_sql("BEGIN")

        async def rows(sql: str) -> list[dict[str, Any]]:
            return [dict(r._mapping) for r in await conn.execute(text(sql))]

        snap.messages = await rows("SELECT id, group_id, seq, sender_id, cid, typ FROM message")
        snap.alerts = await rows("SELECT id, sender_id, cid FROM alert")
        snap.acks = await rows("SELECT alert_id, user_id, outcome FROM alert_ack")
        snap.attachments = await rows("SELECT group_id, sha256 FROM attachment")
        snap.blobs = [r["sha256"] for r in await rows("SELECT sha256 FROM blob")]
        snap.members = {
            (_uid(r["group_id"]), _uid(r["user_id"]))
            for r in await rows(
                "SELECT group_id, user_id FROM group_member WHERE user_id IS NOT NULL"
            )
        }
        snap.audit = await rows(
            'SELECT "index", action, actor_id, target_id, group_id FROM audit_entry '
            'ORDER BY "index"'
        )
        if engine.dialect.name != "postgresql":
            await conn.exec_driver_sql("ROLLBACK")
    return snap


def snapshot_engine(url: str) -> AsyncEngine:
    """An engine for `snapshot`: on SQLite the driver's own transaction handling is off, since
    it would run each SELECT on its own and the checks compare tables with each other."""
    if url.startswith("sqlite"):
        return create_async_engine(url, connect_args={"isolation_level": None})
    return create_async_engine(url)


def check_messages(acked: list[dict[str, Any]], snap: Snapshot) -> list[str]:
    """Every acknowledged post and seizure report once, as acknowledged (id and seq); `seq`
    gapless per group; every message with its `message.post` entry and no entry without one."""
    problems = []
    by_key = Counter((_uid(m["sender_id"]), m["cid"]) for m in snap.messages)
    by_id = {_uid(m["id"]): m for m in snap.messages}
    missing, wrong, duplicated = [], [], []
    for ack in acked:
        row = by_id.get(ack["id"])
        if row is None:
            missing.append(f"{ack['kind']} cid={ack['cid']} id={ack['id']} seq={ack['seq']}")
            continue
        if (
            row["cid"] != ack["cid"]
            or _uid(row["group_id"]) != ack["group"]
            or int(row["seq"]) != int(ack["seq"])
        ):
            wrong.append(f"cid={ack['cid']}: acknowledged seq {ack['seq']}, stored {dict(row)}")
        if by_key[(ack["user"], ack["cid"])] != 1:
            duplicated.append(f"cid={ack['cid']} stored {by_key[(ack['user'], ack['cid'])]} times")
    if missing:
        problems.append(listed("acknowledged messages missing", missing))
    if wrong:
        problems.append(listed("acknowledged messages stored otherwise", wrong))
    if duplicated:
        problems.append(listed("acknowledged messages duplicated", duplicated))
    seqs: dict[str, list[int]] = defaultdict(list)
    for m in snap.messages:
        seqs[_uid(m["group_id"])].append(int(m["seq"]))
    for group, numbers in sorted(seqs.items()):
        numbers.sort()
        if numbers != list(range(1, len(numbers) + 1)):
            holes = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
            dup = sorted(n for n, c in Counter(numbers).items() if c > 1)
            problems.append(f"group {group}: seq not gapless: missing {holes[:SHOWN]}, twice {dup}")
    posted = Counter(e["target_id"] for e in snap.audit if e["action"] == "message.post")
    unaudited = [i for i in by_id if posted[i] != 1]
    orphaned = [t for t in posted if t not in by_id]
    if unaudited:
        problems.append(listed("messages without exactly one message.post entry", unaudited))
    if orphaned:
        problems.append(listed("message.post entries without their message", orphaned))
    return problems


def check_alerts(
    alerts: list[dict[str, Any]], acks: list[dict[str, Any]], snap: Snapshot
) -> list[str]:
    """Acknowledged alerts once; acknowledged acks at least as far as acknowledged; every alert
    and ack with its entry and no entry without its row."""
    problems = []
    by_id = {_uid(a["id"]): a for a in snap.alerts}
    missing = [f"alert cid={a['cid']} id={a['id']}" for a in alerts if a["id"] not in by_id]
    twice = [
        k
        for k, c in Counter((_uid(a["sender_id"]), a["cid"]) for a in snap.alerts).items()
        if c > 1
    ]
    if missing:
        problems.append(listed("acknowledged alerts missing", missing))
    if twice:
        problems.append(listed("alerts stored twice", twice))
    stored = {(_uid(a["alert_id"]), _uid(a["user_id"])): a["outcome"] for a in snap.acks}
    behind = []
    for ack in acks:
        outcome = stored.get((ack["alert"], ack["user"]))
        if outcome is None or OUTCOME_ORDER[outcome] < OUTCOME_ORDER[ack["outcome"]]:
            who = f"alert {ack['alert']} by {ack['user']}"
            behind.append(f"{who}: acknowledged {ack['outcome']}, stored {outcome}")
    if behind:
        problems.append(listed("acknowledged alert acks missing or rolled back", behind))
    raised = Counter(e["target_id"] for e in snap.audit if e["action"] == "alert.raise")
    if bad := [i for i in by_id if raised[i] != 1]:
        problems.append(listed("alerts without exactly one alert.raise entry", bad))
    if bad := [t for t in raised if t not in by_id]:
        problems.append(listed("alert.raise entries without their alert", bad))
    first_acks = Counter(
        (e["target_id"], _uid(e["actor_id"])) for e in snap.audit if e["action"] == "alert.ack"
    )
    if unaudited := [k for k in stored if first_acks[k] != 1]:
        problems.append(listed("acks without exactly one alert.ack entry", unaudited))
    if unmatched := [k for k in first_acks if k not in stored]:
        problems.append(listed("alert.ack entries without their ack", unmatched))
    return problems


def check_uploads(uploads: list[dict[str, Any]], snap: Snapshot) -> list[str]:
    """Acknowledged uploads present once, each attachment with its entry and no entry without."""
    problems = []
    stored = Counter((_uid(a["group_id"]), a["sha256"]) for a in snap.attachments)
    blobs = set(snap.blobs)
    if bad := [
        f"{u['sha256']} in {u['group']}"
        for u in uploads
        if stored[(u["group"], u["sha256"])] != 1 or u["sha256"] not in blobs
    ]:
        problems.append(listed("acknowledged uploads missing (attachment or blob row)", bad))
    entries = Counter(
        (_uid(e["group_id"]), e["target_id"])
        for e in snap.audit
        if e["action"] == "attachment.upload"
    )
    if unaudited := [k for k in stored if entries[k] != 1]:
        problems.append(
            listed("attachments without exactly one attachment.upload entry", unaudited)
        )
    if unmatched := [k for k in entries if k not in stored]:
        problems.append(listed("attachment.upload entries without their attachment", unmatched))
    return problems


def check_memberships(journal: list[dict[str, Any]], snap: Snapshot) -> list[str]:
    """Per roster user: the audit entries alternate add, remove, add … (one per change, never
    two), there is one for every acknowledged change (more when the admin client went on
    after its journal was read), and the last says what the table says."""
    problems = []
    acked: dict[tuple[str, str], list[bool]] = defaultdict(list)
    intents: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for line in journal:
        key = (line["group"], line["user"])
        (acked if line["kind"] == "member" else intents)[key].append(line["add"])
    names = {"group.member_add": True, "group.member_remove": False}
    for key in sorted(intents):
        entries = [
            names[e["action"]]
            for e in snap.audit
            if e["action"] in names and (_uid(e["group_id"]), e["target_id"]) == key
        ]
        changes = acked[key]
        alternate = all(add == (i % 2 == 0) for i, add in enumerate(entries))
        counted = entries[: len(changes)] == changes
        member = key in snap.members
        if not alternate or not counted or (entries and entries[-1] != member):
            problems.append(
                f"membership of {key[1]} in {key[0]}: acknowledged changes "
                f"{['add' if a else 'remove' for a in changes]}, "
                f"audit entries {['add' if a else 'remove' for a in entries]}, member now: {member}"
            )
    return problems


def check_sessions(journal: list[dict[str, Any]], snap: Snapshot) -> list[str]:
    """Every acknowledged login and refresh has its audit entry."""
    problems = []
    for kind, action in (("login", "auth.login"), ("refresh", "auth.refresh")):
        done = Counter(line["user"] for line in journal if line["kind"] == kind)
        audited = Counter(_uid(e["actor_id"]) for e in snap.audit if e["action"] == action)
        if bad := [
            f"{u}: {n} acknowledged, {audited[u]} entries"
            for u, n in done.items()
            if audited[u] < n
        ]:
            problems.append(listed(f"acknowledged {kind}s without their {action} entry", bad))
    return problems


def check_all(journal: list[dict[str, Any]], snap: Snapshot) -> list[str]:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in journal:
        by_kind[line["kind"]].append(line)
    problems = (
        [listed("violations seen by the clients", by_kind["violation"])]
        if by_kind["violation"]
        else []
    )
    problems += check_messages(by_kind["post"] + by_kind["seizure"], snap)
    problems += check_alerts(by_kind["alert"], by_kind["ack"], snap)
    problems += check_uploads(by_kind["upload"], snap)
    problems += check_memberships(by_kind["member"] + by_kind["member_intent"], snap)
    problems += check_sessions(journal, snap)
    return problems

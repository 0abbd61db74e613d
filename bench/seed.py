"""Stored messages in bulk, fast and legitimately: the rows the group-commit writer would make.

Each message is a real envelope signed by a registered key of a member, sequenced by the same
storage calls as `services/message_writer.py` (`take_seqs`, `insert_messages`: message rows
and the search index) with its `message.post` audit entry appended by `AuditTrail.append_many`
in the same transaction, in batches of `BATCH`. Then the audit tree is extended over all of them
and a tree head signed, as a running server would have done, so the server under test starts
with nothing to catch up. What is skipped is only the HTTP request and the per-post envelope
verification (they are what the posts figures measure).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.crypto.jws import sign_compact
from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key
from cencomm.domain.audit import AuditRecord
from cencomm.domain.ids import GroupId, MessageId
from cencomm.domain.messages import search_text
from cencomm.domain.posts import NewMessage, SequencedMessage
from cencomm.domain.users import Caller

if TYPE_CHECKING:
    from cencomm.services.container import Services
    from cencomm.storage.unit import Unit

BATCH = 2_000


async def seed_messages(
    services: Services,
    sender: Caller,
    group_id: GroupId,
    count: int,
    progress: Callable[[str], None] = lambda _: None,
) -> None:
    """`count` text messages from `sender` in `group_id` (seqs 1…count on a new group)."""
    principal = sender.principal
    assert principal is not None
    key = Ed25519PrivateKey.generate()
    raw = raw_public_key(key.public_key())
    await services.keys.register(sender, b64url_encode(raw), "bench seed")
    kid = jwk_thumbprint(raw)
    user_id, group = str(principal.user_id), str(group_id)
    now = int(time.time())
    started = time.perf_counter()
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        messages = []
        for n in range(done, done + size):
            body: dict[str, object] = {
                "text": f"Seizure report {n}: 1,200 counterfeit tablets at the port"
            }
            cid = str(uuid.uuid4())
            claims = {
                "v": 1, "typ": "text", "cid": cid, "sub": user_id, "iat": now, "grp": group,
                "hc": "TLP:AMBER", "body": body,
            }  # fmt: skip
            messages.append(
                NewMessage(
                    id=MessageId(uuid.uuid4()),
                    group_id=group_id,
                    sender_id=principal.user_id,
                    sender_organization_id=principal.organization_id,
                    kid=kid,
                    cid=cid,
                    typ="text",
                    hc="TLP:AMBER",
                    jws=sign_compact(claims, key, kid),
                    reply_to=None,
                    search_text=search_text("text", body),
                )
            )

        def write(unit: Unit, messages: list[NewMessage] = messages) -> None:
            last = unit.message_batch.take_seqs(group_id, len(messages))
            assert last is not None, "the group is not active"
            first = last - len(messages) + 1
            entries = [SequencedMessage(m, first + i) for i, m in enumerate(messages)]
            unit.message_batch.insert_messages(entries, services.clock.now())
            services.audit.append_many(
                unit,
                [
                    AuditRecord.by(
                        sender,
                        "message.post",
                        target_type="message",
                        target_id=e.message.id,
                        group_id=group_id,
                        details={"typ": "text", "cid": e.message.cid, "seq": e.seq},
                    )
                    for e in entries
                ],
            )

        await services.db.write(write)
        done += size
        if done % 100_000 < BATCH or done == count:
            progress(f"seeded {done:,} messages ({time.perf_counter() - started:.0f} s)")
    started = time.perf_counter()
    await services.audit_log.sign_tree_head()
    progress(f"audit tree over them signed ({time.perf_counter() - started:.0f} s)")

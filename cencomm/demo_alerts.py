"""The demo operation's alerts and their answers (part of demo-seed).

Each alert is signed with its sender's demo device key (`<data dir>/demo-keys/`), sent through
the alert service like any other, and answered by some of its recipients. Every alert has a
fixed `cid`: one that exists already is left as it is (with whatever answers it has since), so
seeding twice, or seeding a demo made before alerts were seeded, adds each alert once.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cencomm.crypto.jws import sign_compact
from cencomm.demo_operation import GROUP_CODE, demo_caller, demo_key_dir, device_signer
from cencomm.domain.alerts import Outcome
from cencomm.domain.envelopes import MessageType
from cencomm.domain.users import User
from cencomm.services.container import Services
from cencomm.storage.alerts import AlertStore
from cencomm.storage.groups import GroupStore
from cencomm.storage.messages import MessageStore
from cencomm.storage.users import OrganizationStore, UserStore

# Demo alert cids are derived from this namespace and the alert's key.
_CID_NAMESPACE = uuid.UUID("5f0c7a52-3b8e-4f7e-9d3a-6c2f1e0b9a41")
DAY = 86_400


@dataclass(frozen=True, slots=True)
class DemoAlert:
    key: str  # stable name, the source of its cid
    sender: str
    hc: str
    body: dict[str, Any]  # respond_by / expires_at in seconds from now
    # (username, outcome, links that user's own seizure report)
    answers: tuple[tuple[str, Outcome, bool], ...]
    to_group: bool = False  # the demo operation's group
    to_organizations: tuple[str, ...] = ()  # by name
    to_regions: tuple[str, ...] = ()


DEMO_ALERTS: tuple[DemoAlert, ...] = (
    DemoAlert(
        "masks-cn-ae-eu",
        "rilo.weu",
        "TLP:AMBER",
        {
            "title": "FFP2 masks without CE marking declared as cotton textiles",
            "text": "Air cargo from CN via AE: consignees change every week. Target "
            "consignments of HS 6307.90 and 5208 from new consignees and report every "
            "control as the outcome of this alert.",
            "priority": "immediate",
            "ack_required": True,
            "respond_by": 3 * DAY,
        },
        (("officer.fr", Outcome.CONTROLLED, False), ("officer.de", Outcome.NIL_FIND, False)),
        to_organizations=("Douane française", "Zoll Deutschland"),
    ),
    DemoAlert(
        "chloroquine-online",
        "stop.moderator",
        "TLP:GREEN",
        {
            "title": "Chloroquine sold online as a COVID-19 cure",
            "text": "Express parcels from IN declared as vitamins. Check postal and express "
            "flows and link seizure reports to this alert.",
            "priority": "flash",
            "ack_required": True,
            "respond_by": DAY,
        },
        (("officer.de", Outcome.SEIZED, True), ("officer.ng", Outcome.RECEIVED, False)),
        to_group=True,
    ),
    DemoAlert(
        "sanitizer-west-africa",
        "rilo.wa",
        "TLP:GREEN",
        {
            "title": "Hand sanitizer without alcohol at West African ports",
            "text": "Sea containers from CN declared as disinfectant: lab tests found no "
            "active ingredient. Sample consignments of HS 3808.94.",
            "priority": "routine",
            "ack_required": False,
            "expires_at": 30 * DAY,
        },
        (("officer.ng", Outcome.CONTROLLED, False),),
        to_regions=("WEST_CENTRAL_AFRICA",),
    ),
)


def demo_alert_cid(alert: DemoAlert) -> str:
    return str(uuid.uuid5(_CID_NAMESPACE, alert.key))


async def seed_alerts(services: Services, data_dir: Path) -> int:
    """Send and answer the demo alerts not sent yet; returns how many were sent. Nothing
    happens before the demo operation exists."""
    async with services.db.read() as session:
        group = await GroupStore(session).find_by_code(GROUP_CODE)
        if group is None:
            return 0
        users = UserStore(session)
        usernames = {a.sender for a in DEMO_ALERTS} | {
            name for a in DEMO_ALERTS for name, _, _ in a.answers
        }
        by_name: dict[str, User] = {}
        for username in sorted(usernames):
            credentials = await users.find_credentials(username)
            if credentials is None:
                return 0
            by_name[username] = credentials.user
        organizations = OrganizationStore(session)
        org_ids = {}
        for name in {n for a in DEMO_ALERTS for n in a.to_organizations}:
            org = await organizations.find_by_name(name)
            if org is None:
                return 0
            org_ids[name] = str(org.id)
        existing = AlertStore(session)
        pending = [
            a
            for a in DEMO_ALERTS
            if await existing.find_by_cid(by_name[a.sender].id, demo_alert_cid(a)) is None
        ]
    key_dir = demo_key_dir(data_dir)
    for demo in pending:
        to: dict[str, list[str]] = {}
        if demo.to_group:
            to["groups"] = [str(group.id)]
        if demo.to_organizations:
            to["organizations"] = [org_ids[name] for name in demo.to_organizations]
        if demo.to_regions:
            to["regions"] = list(demo.to_regions)
        now = int(time.time())
        body = {
            k: now + v if k in ("respond_by", "expires_at") else v for k, v in demo.body.items()
        }
        sender = by_name[demo.sender]
        key, kid = await device_signer(services, key_dir, sender)
        payload = {
            "v": 1,
            "typ": MessageType.ALERT.value,
            "cid": demo_alert_cid(demo),
            "sub": str(sender.id),
            "iat": now,
            "hc": demo.hc,
            "body": body,
            "to": to,
        }
        alert, _ = await services.alerts.raise_alert(
            demo_caller(sender), sign_compact(payload, key, kid)
        )
        for username, outcome, with_report in demo.answers:
            user = by_name[username]
            report = await _own_seizure_report(services, group.id, user) if with_report else None
            await services.alerts.acknowledge(demo_caller(user), alert.id, outcome, None, report)
    return len(pending)


async def _own_seizure_report(
    services: Services, group_id: uuid.UUID, user: User
) -> uuid.UUID | None:
    """The user's first seizure report in the demo group, to link to a `seized` outcome."""
    async with services.db.read() as session:
        page = await MessageStore(session).page(
            group_id, after=0, before=None, limit=100, withheld=frozenset()
        )
    for message in page:
        if message.typ == MessageType.SEIZURE.value and message.sender.id == user.id:
            return message.id
    return None

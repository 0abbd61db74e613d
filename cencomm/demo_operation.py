"""The demo operation's group, members, signing keys and signed messages (part of demo-seed).

Messages in cencomm are signed on the sender's device. For the demo, this module plays the
devices: it creates each demo officer's key in `<data dir>/demo-keys/` (mode 0600, so the demo
users can go on signing with `cencomm client`) and signs their example posts with it.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from cencomm.crypto.jws import sign_compact
from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key
from cencomm.domain.groups import GroupRole, GroupStatus
from cencomm.domain.ids import SessionId, new_id
from cencomm.domain.users import Caller, Principal, User
from cencomm.services.container import Services
from cencomm.services.groups import GroupChanges, NewGroup
from cencomm.storage.groups import GroupStore
from cencomm.storage.keys import SigningKeyStore
from cencomm.storage.users import UserStore

GROUP_CODE = "STOP-2020"

# (sender username, typ, handling code, body)
DEMO_POSTS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    (
        "stop.moderator",
        "notice",
        "TLP:GREEN",
        {
            "title": "Operation STOP is active",
            "text": "Targeted inspections of COVID-19 medicines and medical supplies start today. "
            "Report every interception as a seizure report in this group.",
        },
    ),
    (
        "officer.fr",
        "seizure",
        "TLP:AMBER",
        {
            "occurred_on": "2020-05-20",
            "country": "FR",
            "location": "Paris-CDG air cargo",
            "transport_mode": "air",
            "route": {"origin": "CN", "transit": ["AE"], "destination": "FR"},
            "items": [
                {
                    "category": "masks",
                    "description": "FFP2 without CE marking",
                    "quantity": 120000,
                    "unit": "units",
                    "hs_code": "6307.90",
                }
            ],
            "infringement": "counterfeit",
            "detection": "risk_profiling",
            "concealment": "mis_declaration",
            "notes": "Declared as cotton textiles.",
        },
    ),
    (
        "officer.de",
        "seizure",
        "TLP:AMBER",
        {
            "occurred_on": "2020-06-02",
            "country": "DE",
            "location": "Leipzig express hub",
            "transport_mode": "express_courier",
            "route": {"origin": "IN", "transit": [], "destination": "DE"},
            "items": [
                {
                    "category": "medicines",
                    "description": "chloroquine tablets",
                    "quantity": 35,
                    "unit": "kg",
                    "hs_code": "3004.90",
                },
                {"category": "test_kits", "quantity": 2400, "unit": "units"},
            ],
            "infringement": "unauthorized",
            "detection": "xray",
            "concealment": "hidden_in_cargo",
            "notes": "Chloroquine sold online as a COVID-19 cure.",
        },
    ),
    (
        "officer.ng",
        "seizure",
        "TLP:AMBER",
        {
            "occurred_on": "2020-06-15",
            "country": "NG",
            "location": "Apapa port, Lagos",
            "transport_mode": "sea",
            "route": {"origin": "CN", "transit": [], "destination": "NG"},
            "items": [
                {
                    "category": "sanitizer",
                    "description": "gel without alcohol",
                    "quantity": 18000,
                    "unit": "litres",
                }
            ],
            "infringement": "substandard",
            "detection": "intelligence",
            "concealment": "false_documents",
            "notes": "Lab test: no sanitizing properties.",
        },
    ),
    (
        "rilo.weu",
        "text",
        "TLP:AMBER+STRICT",
        {
            "text": "RILO WE: the CN to EU air route via AE carries most mask seizures so far; "
            "consignees change every week.",
        },
    ),
)


def demo_key_dir(data_dir: Path) -> Path:
    """`<data dir>/demo-keys`, owner-only."""
    key_dir = data_dir / "demo-keys"
    key_dir.mkdir(mode=0o700, exist_ok=True)
    return key_dir


def _device_key(directory: Path, username: str) -> Ed25519PrivateKey:
    """The demo user's key file, created once with mode 0600."""
    path = directory / f"{username}.pem"
    if path.exists():
        key = load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)  # noqa: S101 - written by us below
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def demo_caller(user: User) -> Caller:
    """The demo user, as if logged in (the seed plays their devices and sessions)."""
    return Caller(Principal(user.id, user.organization_id, user.role, SessionId(new_id())))


async def device_signer(
    services: Services, key_dir: Path, user: User
) -> tuple[Ed25519PrivateKey, str]:
    """The demo user's device key and its kid, registered under `/keys` unless it already is."""
    key = _device_key(key_dir, user.username)
    raw = raw_public_key(key.public_key())
    kid = jwk_thumbprint(raw)
    async with services.db.read() as session:
        registered = await SigningKeyStore(session).find(kid)
    if registered is None:
        await services.keys.register(demo_caller(user), b64url_encode(raw), "demo device")
    return key, kid


async def seed_operation(services: Services, data_dir: Path) -> bool:
    """Create the STOP group with its members and example posts; False if it exists already."""
    async with services.db.read() as session:
        if await GroupStore(session).find_by_code(GROUP_CODE) is not None:
            return False
        users = UserStore(session)
        by_name = {}
        for username in (
            "stop.moderator",
            "officer.fr",
            "officer.de",
            "officer.ng",
            "rilo.weu",
            "rilo.wa",
            "partner.observer",
        ):
            credentials = await users.find_credentials(username)
            if credentials is None:
                return False
            by_name[username] = credentials.user
    moderator = demo_caller(by_name["stop.moderator"])
    group = await services.groups.create_group(
        moderator,
        NewGroup(
            code=GROUP_CODE,
            name="Operation STOP",
            description="WCO emergency operation against illicit trafficking of COVID-19 medicines "
            "and medical supplies (demo).",
        ),
    )
    for username in ("officer.fr", "officer.de", "officer.ng", "rilo.weu", "rilo.wa"):
        await services.groups.add_member(
            moderator, group.id, GroupRole.MEMBER, organization_id=by_name[username].organization_id
        )
    await services.groups.add_member(
        moderator, group.id, GroupRole.OBSERVER, user_id=by_name["partner.observer"].id
    )
    await services.groups.update_group(
        moderator, group.id, GroupChanges(status=GroupStatus.ACTIVE, reason="demo operation starts")
    )
    key_dir = demo_key_dir(data_dir)
    for username, typ, hc, body in DEMO_POSTS:
        user = by_name[username]
        caller = demo_caller(user)
        key, kid = await device_signer(services, key_dir, user)
        payload = {
            "v": 1,
            "typ": typ,
            "cid": str(uuid.uuid4()),
            "sub": str(user.id),
            "iat": int(time.time()),
            "grp": str(group.id),
            "hc": hc,
            "body": body,
        }
        await services.messaging.post(caller, group.id, sign_compact(payload, key, kid))
    return True

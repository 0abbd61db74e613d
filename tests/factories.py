"""Test factories: organisations, users and logged-in members, made through the real services."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.appkeys import SERVICES
from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key
from cencomm.domain.users import Caller, Organization, OrganizationKind, Region, Role, User
from cencomm.services.container import Services
from cencomm.services.directory import NewUser

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


@dataclass
class Member:
    """A user logged in over HTTP: their ids, tokens and (once registered) a signing key."""

    user: User
    organization: Organization
    access_token: str
    refresh_token: str
    password: str = PASSWORD
    signing_key: Ed25519PrivateKey | None = None
    kid: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.user.id)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def make_organization(
    client: TestClient[Any, Any],
    *,
    kind: OrganizationKind = OrganizationKind.ADMINISTRATION,
    country: str | None = "FR",
    region: Region | None = Region.EUROPE,
    name: str | None = None,
) -> Organization:
    services: Services = client.app[SERVICES]
    return await services.directory.create_organization(
        Caller.system(), name or f"Organisation {next(_counter)}", kind, country, region
    )


async def make_user(
    client: TestClient[Any, Any],
    role: Role = Role.OFFICER,
    *,
    organization: Organization | None = None,
    username: str | None = None,
    password: str = PASSWORD,
) -> User:
    services: Services = client.app[SERVICES]
    org = organization or await make_organization(client, kind=_kind_for(role))
    return await services.directory.create_user(
        Caller.system(),
        NewUser(
            username=username or f"{role.value}{next(_counter)}",
            display_name=f"Test {role.value}",
            organization_id=org.id,
            role=role,
            password=password,
        ),
    )


def _kind_for(role: Role) -> OrganizationKind:
    return {
        Role.ADMIN: OrganizationKind.SECRETARIAT,
        Role.MODERATOR: OrganizationKind.SECRETARIAT,
        Role.ANALYST: OrganizationKind.RILO,
        Role.OFFICER: OrganizationKind.ADMINISTRATION,
        Role.OBSERVER: OrganizationKind.PARTNER,
    }[role]


async def login(
    client: TestClient[Any, Any], username: str, password: str = PASSWORD, **extra: str
) -> Any:
    resp = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password, **extra}
    )
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def make_member(
    client: TestClient[Any, Any],
    role: Role = Role.OFFICER,
    *,
    organization: Organization | None = None,
    with_key: bool = False,
) -> Member:
    """A user of `role`, logged in over HTTP; `with_key` also registers a signing key."""
    org = organization or await make_organization(client, kind=_kind_for(role))
    user = await make_user(client, role, organization=org)
    tokens = await login(client, user.username)
    member = Member(user, org, tokens["access_token"], tokens["refresh_token"])
    if with_key:
        await register_key(client, member)
    return member


async def register_key(client: TestClient[Any, Any], member: Member) -> str:
    private = Ed25519PrivateKey.generate()
    raw = raw_public_key(private.public_key())
    resp = await client.post(
        "/api/v1/keys", json={"public_key": b64url_encode(raw)}, headers=member.auth
    )
    assert resp.status == 201, await resp.text()
    member.signing_key = private
    member.kid = jwk_thumbprint(raw)
    return member.kid


async def make_group(
    client: TestClient[Any, Any],
    owner: Member,
    *,
    code: str | None = None,
    status: str = "active",
    roster_visible: bool = True,
) -> dict[str, Any]:
    """A group created by `owner` (admin or moderator), moved to `status`."""
    resp = await client.post(
        "/api/v1/groups",
        json={
            "code": code or f"OP-{next(_counter):04d}",
            "name": "Operation",
            "roster_visible": roster_visible,
        },
        headers=owner.auth,
    )
    assert resp.status == 201, await resp.text()
    group: dict[str, Any] = await resp.json()
    path = ["planned", "active", "closed", "archived"]
    for step in path[1 : path.index(status) + 1]:
        resp = await client.patch(
            f"/api/v1/groups/{group['id']}", json={"status": step}, headers=owner.auth
        )
        assert resp.status == 200, await resp.text()
        group = await resp.json()
    return group


async def add_member(
    client: TestClient[Any, Any],
    owner: Member,
    group: dict[str, Any],
    member: Member,
    role: str = "member",
) -> None:
    resp = await client.post(
        f"/api/v1/groups/{group['id']}/members",
        json={"user_id": member.id, "role": role},
        headers=owner.auth,
    )
    assert resp.status in (200, 201), await resp.text()


def envelope(
    member: Member, group_id: str | None, typ: str = "text", **claims: Any
) -> dict[str, Any]:
    """A valid payload from `member` to the group; `claims` override or add claims."""
    import time
    import uuid

    body = {
        "text": {"text": "Masks seized at the airport"},
        "notice": {"title": "Notice", "text": "New modus operandi"},
    }.get(typ, {})
    payload: dict[str, Any] = {
        "v": 1,
        "typ": typ,
        "cid": str(uuid.uuid4()),
        "sub": member.id,
        "iat": int(time.time()),
        "grp": group_id,
        "hc": "TLP:AMBER",
        "body": body,
    }
    payload.update(claims)
    return {k: v for k, v in payload.items() if v is not None}


def sign(member: Member, payload: dict[str, Any], alg: str = "Ed25519") -> str:
    from cencomm.crypto.jws import sign_compact

    assert member.signing_key is not None and member.kid is not None
    return sign_compact(payload, member.signing_key, member.kid, alg=alg)


async def post_message(
    client: TestClient[Any, Any],
    member: Member,
    group: dict[str, Any],
    typ: str = "text",
    **claims: Any,
) -> Any:
    resp = await client.post(
        f"/api/v1/groups/{group['id']}/messages",
        json={"jws": sign(member, envelope(member, group["id"], typ, **claims))},
        headers=member.auth,
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


def seizure_body(country: str = "FR", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "occurred_on": "2020-05-20",
        "country": country,
        "location": "CDG airport",
        "transport_mode": "air",
        "route": {"origin": "CN", "transit": ["AE"], "destination": country},
        "items": [
            {"category": "masks", "quantity": 12000, "unit": "units", "hs_code": "6307.90"},
            {"category": "medicines", "description": "chloroquine", "quantity": 5, "unit": "kg"},
        ],
        "infringement": "counterfeit",
        "detection": "risk_profiling",
        "concealment": "mis_declaration",
        "notes": "Declared as textiles",
    }
    body.update(changes)
    return body

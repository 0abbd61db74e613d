"""Authorisation matrix: every /api/v1 route x every principal x every target, from ROUTES_TABLE.

The expected answer of every cell is written down once, in EXPECTED (one row per route). How each
request is built is written down once, in BUILDERS (one entry per route). The route list itself
comes from `cencomm.web.routes.ROUTES_TABLE`: a route missing from either table fails the build.

How to add a route
------------------
1. EXPECTED[(METHOD, PATH)], with PATH exactly as in ROUTES_TABLE: {principal: cell}. A cell is an
   int (the same status for every target of the route) or a string of statuses in the order of
   the route's targets ("200 404 404" = own, other, missing). Start from a shape helper
   (`everyone`, `staff_only`, `group_read`, `group_moderation`) and override the exceptions with
   `| {...}`. Anonymous, expired-token and disabled callers get 401 on every authenticated route.
2. BUILDERS[(METHOD, PATH)] = Spec(build, targets, doc, prepare, group_scoped). `build(world,
   who, target)` returns the Req to send: a VALID request for that caller and target (valid body
   per the route's model, real ids), so that the only reason for a refusal is authorisation.
   Build fresh data inside `build` when the request changes state in a way that would change
   another cell's answer (cells of a route run concurrently); otherwise use World's shared data.
   `prepare` makes shared data only some routes need (messages, signed tree heads).
   `group_scoped=True` when the route's `other` target is a resource inside a group a non-member
   cannot see: the route then also joins the "hidden looks exactly like missing" tests.
3. Write down what API.md requires, never what the server happens to answer: if they differ,
   fix the server (domain/policy.py, services/) and add a regression test at the end of this file.
   Where API.md is silent: deny by default, and 404 rather than 403 whenever 403 would reveal a
   closed group's existence or contents.

Principals (built fresh for every route, see `build_world`)
----------------------------------------------------------
anonymous        no Authorization header
expired          an officer, member of the own group, whose access token expired (session live)
disabled         an officer, member of the own group, disabled by an admin after logging in
observer         a partner-organisation user, global role observer, group observer of the own
                 group; registered a signing key while still an officer (so it has an own key)
officer_out      an officer in no group
officer_in       an officer, group role `member` of the own group
analyst          a RILO analyst, MEMBER of the own group through its RILO organisation's
                 membership (group role `member`): covers organisation membership, and a
                 non-member analyst would only repeat officer_out
group_moderator  an officer, group role `moderator` of the own group
restricted       an officer whose organisation is a MEMBER of the own group (role `member`) and
                 whose own membership there is `observer`: the user's own membership wins, so
                 they are read-only and never get TLP:AMBER+STRICT or TLP:RED (review issue 12)
demoted          logged in as a global moderator (staff read every group), then demoted to
                 officer; in no group. On the WebSocket route its socket is `ready` BEFORE the
                 demotion (a fresh one per cell), and the resume is sent after it
demoted_member   logged in as an officer, group role `member` of the own group, then made a
                 global observer; on the WebSocket route, as `demoted` (socket first)
moderator/admin  global roles, members of no group (staff see and moderate every group)
Also: `owner` (an admin who created both groups and moderates them), `stranger` (an officer,
member of the other group: author of its messages, "another user"), `visitor` (an officer in no
group: whose credentials the anonymous caller uses where a route takes credentials).

Targets
-------
own      the own group (or: the caller's own user, organisation, key, credentials)
other    the other group, which none of the principals belongs to (or: another user's ...)
missing  a random UUID / unknown kid / unknown index / unknown code
self     routes with nothing to target (the caller's own session, a list, the audit key)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import jwt
import pyotp
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pytest_aiohttp import AiohttpClient

from cencomm.app import create_app
from cencomm.appkeys import SERVICES, SETTINGS
from cencomm.crypto.jws import sign_compact
from cencomm.crypto.keys import b64url_encode, raw_public_key
from cencomm.crypto.tokens import issue_access_token
from cencomm.domain.audit import AuditFilter
from cencomm.domain.groups import JoinRequestStatus
from cencomm.domain.identifiers import IdentifierKind
from cencomm.domain.ids import OrganizationId, SessionId, UserId
from cencomm.domain.users import Caller, Organization, OrganizationKind, Principal, Role, User
from cencomm.domain.watch_lists import MatchMode, Selector, Watch
from cencomm.settings import Settings
from cencomm.web.routes import ROUTES_TABLE
from tests.conftest import with_settings
from tests.factories import (
    PASSWORD,
    Member,
    envelope,
    make_group,
    make_member,
    make_organization,
    make_user,
    post_message,
    register_key,
    seizure_body,
    sign,
)
from tests.web.statements import recorded_statements

API = "/api/v1"
CELL_TIMEOUT = 30.0  # seconds; a cell is one or a few requests
SETUP_TIMEOUT = 120.0  # seconds; building a world is a few dozen requests
MAX_CONCURRENT_CELLS = 8

PRINCIPALS = (
    "anonymous",
    "expired",
    "disabled",
    "observer",
    "officer_out",
    "officer_in",
    "analyst",
    "group_moderator",
    "restricted",
    "demoted",
    "demoted_member",
    "moderator",
    "admin",
)
UNAUTHENTICATED_PRINCIPALS = ("anonymous", "expired", "disabled")
AUTHENTICATED = tuple(p for p in PRINCIPALS if p not in UNAUTHENTICATED_PRINCIPALS)
STAFF = ("moderator", "admin")
IN_GROUP = ("observer", "officer_in", "analyst", "group_moderator", "restricted", "demoted_member")
MEMBERS = ("observer", "officer_in", "analyst", "restricted", "demoted_member")  # not moderating
READ_ONLY = ("observer", "restricted", "demoted_member")  # observers of the own group: never post
OBSERVERS = ("observer", "demoted_member")  # global role observer
# Whose role changed after they logged in: the role they had, and the one they were given.
DEMOTED = {
    "demoted": (Role.MODERATOR, Role.OFFICER),
    "demoted_member": (Role.OFFICER, Role.OBSERVER),
}

OWN, OTHER, MISSING, SELF = "own", "other", "missing", "self"
GROUP_TARGETS = (OWN, OTHER, MISSING)

API_ROUTES = sorted((r.method, r.path) for r in ROUTES_TABLE if r.path.startswith(f"{API}/"))

Cell = int | str
Row = dict[str, Cell]


# -- expected answers: shapes ---------------------------------------------------------------------

UNAUTHENTICATED: Row = dict.fromkeys(UNAUTHENTICATED_PRINCIPALS, 401)


def everyone(cell: Cell) -> Row:
    """Every authenticated principal gets `cell`; the unauthenticated ones 401."""
    return UNAUTHENTICATED | dict.fromkeys(AUTHENTICATED, cell)


def all_principals(cell: Cell) -> Row:
    """Routes that need no token: even the unauthenticated principals get `cell`."""
    return dict.fromkeys(PRINCIPALS, cell)


def staff_only(ok: Cell, denied: Cell = 403) -> Row:
    return everyone(denied) | dict.fromkeys(STAFF, ok)


def group_read(ok: int) -> Row:
    """Members (observers included) may; a non-member gets 404 exactly as for a missing group."""
    return (
        everyone(404)
        | dict.fromkeys(IN_GROUP, f"{ok} 404 404")
        | dict.fromkeys(STAFF, f"{ok} {ok} 404")
    )


def group_moderation(ok: int, members: int = 403) -> Row:
    """Group moderators and staff may; other members see the group but may not (403, or 404
    where the object itself is moderators-only); non-members get 404."""
    return group_read(ok) | dict.fromkeys(MEMBERS, f"{members} 404 404")


# -- expected answers: THE table ------------------------------------------------------------------
# Targets per route are in BUILDERS; a string cell lists one status per target in that order.
# What the shapes expand to (anonymous, expired and disabled: always 401 unless said otherwise):
#   everyone(X)                  every authenticated principal: X
#   staff_only(X, denied=403)    moderator, admin: X; everyone else: denied
#   group_read(S)                observer, officer_in, analyst, group_moderator: "S 404 404";
#                                officer_out: 404; moderator, admin: "S S 404"
#   group_moderation(S, m=403)   as group_read(S), but observer, officer_in, analyst: "m 404 404"
#   all_principals(X)            routes without a token: all ten principals X

EXPECTED: dict[tuple[str, str], Row] = {
    # Authentication. login/refresh need no token: the body's credentials decide.
    ("POST", f"{API}/auth/login"): all_principals("200 401 401") | {"disabled": 401},
    ("POST", f"{API}/auth/refresh"): all_principals("200 200 401") | {"disabled": "401 200 401"},
    ("POST", f"{API}/auth/logout"): everyone(204),
    ("POST", f"{API}/auth/otp/setup"): everyone(200),
    ("POST", f"{API}/auth/otp/enable"): everyone(204),
    ("GET", f"{API}/me"): everyone(200),
    # Directory: admin writes; admin and moderator read; everyone reads themselves and their
    # own organisation. A refused directory read of another org answers 403 whether or not it
    # exists (so it reveals nothing); another user is 404 (the directory does not confirm who
    # exists).
    ("POST", f"{API}/organizations"): everyone(403) | {"admin": 201},
    ("GET", f"{API}/organizations"): staff_only(200),
    ("GET", f"{API}/organizations/{{id}}"): staff_only("200 200 404", denied="200 403 403"),
    ("POST", f"{API}/users"): everyone(403) | {"admin": "201 201 422"},
    ("GET", f"{API}/users"): staff_only(200),
    ("GET", f"{API}/users/{{id}}"): staff_only("200 200 404", denied="200 404 404"),
    ("PATCH", f"{API}/users/{{id}}"): everyone(403) | {"admin": "200 200 404"},
    # Signing keys: public to every role; observers never sign, so they register none; a key
    # is revoked by its owner (any role: revoking only ever takes power away) or an admin.
    ("POST", f"{API}/keys"): everyone("201 409") | dict.fromkeys(OBSERVERS, 403),
    ("GET", f"{API}/users/{{id}}/keys"): everyone("200 200 404"),
    ("DELETE", f"{API}/keys/{{kid}}"): everyone("204 403 404") | {"admin": "204 204 404"},
    # Organisation seals (`prepare_seals`: officer_in holds the seal of their organisation).
    # Seal keys: an admin or the organisation's seal holders manage them (observers never
    # register one), everyone reads them; seal holders: admins only; countersigning: a seal
    # holder of the sender's organisation who can read the message.
    ("POST", f"{API}/organizations/{{id}}/keys"): everyone("403 403 404")
    | dict.fromkeys(OBSERVERS, 403)
    | {"officer_in": "201 403 404", "admin": "201 201 404"},
    ("GET", f"{API}/organizations/{{id}}/keys"): everyone("200 200 404"),
    ("DELETE", f"{API}/organizations/{{id}}/keys/{{kid}}"): everyone("403 403 404")
    | {"officer_in": "204 403 404", "admin": "204 204 404"},
    ("GET", f"{API}/organizations/{{id}}/seal-holders"): everyone(403) | {"admin": "200 200 404"},
    ("PUT", f"{API}/organizations/{{id}}/seal-holders/{{user_id}}"): everyone(403)
    | {"admin": "201 201 404"},
    ("DELETE", f"{API}/organizations/{{id}}/seal-holders/{{user_id}}"): everyone(403)
    | {"admin": "204 204 404"},
    ("POST", f"{API}/messages/{{id}}/countersign"): group_read(403) | {"officer_in": "201 404 404"},
    # Groups.
    ("POST", f"{API}/groups"): staff_only("201 409"),
    ("GET", f"{API}/groups"): everyone(200),
    ("GET", f"{API}/groups/{{id}}"): group_read(200),
    ("PATCH", f"{API}/groups/{{id}}"): group_moderation(200),
    ("GET", f"{API}/groups/{{id}}/members"): group_read(200),
    ("POST", f"{API}/groups/{{id}}/members"): group_moderation(201),
    ("DELETE", f"{API}/groups/{{id}}/members/{{user_id}}"): group_moderation(204),
    ("DELETE", f"{API}/groups/{{id}}/organizations/{{org_id}}"): group_moderation(204),
    ("POST", f"{API}/join-requests"): everyone(202),  # the same answer whether the code exists
    ("GET", f"{API}/groups/{{id}}/join-requests"): group_moderation(200),
    # A join request is a moderators-only object: other members do not learn of it (404).
    ("POST", f"{API}/join-requests/{{id}}/approve"): group_moderation(200, members=404),
    ("POST", f"{API}/join-requests/{{id}}/reject"): group_moderation(200, members=404),
    # Messages. Observers (global or in the group) read but never post (403: they can see the
    # group).
    ("POST", f"{API}/groups/{{id}}/messages"): group_read(201)
    | dict.fromkeys(READ_ONLY, "403 404 404"),
    ("GET", f"{API}/groups/{{id}}/messages"): group_read(200),
    ("GET", f"{API}/messages/{{id}}"): group_read(200),
    ("POST", f"{API}/messages/{{id}}/hide"): group_moderation(200),
    ("POST", f"{API}/messages/{{id}}/unhide"): group_moderation(200),
    ("GET", f"{API}/search"): group_read(200),
    # Attachments: uploads as posts (observers read only); listings and downloads as reads.
    ("POST", f"{API}/groups/{{id}}/attachments"): group_read(201)
    | dict.fromkeys(READ_ONLY, "403 404 404"),
    ("GET", f"{API}/groups/{{id}}/attachments"): group_read(200),
    ("GET", f"{API}/groups/{{id}}/attachments/{{sha256}}"): group_read(200),
    # Evidence export: group moderators and staff; other members 403; non-members 404.
    ("GET", f"{API}/groups/{{id}}/export"): group_moderation(200),
    # Seizure analytics, the CSV and the report: exactly as reading the group's messages.
    ("GET", f"{API}/groups/{{id}}/analytics"): group_read(200),
    ("GET", f"{API}/groups/{{id}}/seizures.csv"): group_read(200),
    ("GET", f"{API}/groups/{{id}}/report"): group_read(200),
    ("GET", f"{API}/groups/{{id}}/export.misp.json"): group_read(200),
    ("GET", f"{API}/groups/{{id}}/export.stix.json"): group_read(200),
    # Correlations: exactly as reading the message or the group's messages.
    ("GET", f"{API}/messages/{{id}}/related"): group_read(200),
    ("GET", f"{API}/groups/{{id}}/correlations"): group_read(200),
    # Cross-group analytics: admin, moderator, analyst (others 403), over groups they read.
    ("GET", f"{API}/analytics"): everyone(403)
    | {"analyst": "200 404 404"}
    | dict.fromkeys(STAFF, "200 200 404"),
    # Alerts. Targets of POST: an alert to the own / other / a missing group. Observers never
    # send; officers target groups they post in (an invisible group is an unknown recipient,
    # 422, exactly like a missing one; a group they only observe is 403); staff target any.
    ("POST", f"{API}/alerts"): everyone(422)
    | dict.fromkeys(OBSERVERS, 403)
    | {"restricted": "403 422 422"}
    | dict.fromkeys(("officer_in", "analyst", "group_moderator"), "201 422 422")
    | dict.fromkeys(STAFF, "201 201 422"),
    ("GET", f"{API}/alerts"): everyone(200),
    # An alert (TLP:GREEN, from the owner) to the own / other group: its recipients and staff
    # read it; anyone else gets 404 as for a missing one.
    ("GET", f"{API}/alerts/{{id}}"): group_read(200),
    # Only recipients acknowledge; observers receive but never answer; staff who are not
    # recipients get 404 (API.md: not a recipient → 404).
    ("POST", f"{API}/alerts/{{id}}/ack"): everyone(404)
    | dict.fromkeys(READ_ONLY, "403 404 404")
    | dict.fromkeys(("officer_in", "analyst", "group_moderator"), "200 404 404"),
    ("GET", f"{API}/me/notifications"): everyone(200),
    ("PATCH", f"{API}/me/notifications"): everyone(200),
    # The WebSocket authenticates by its first frame; a plain GET is not an upgrade (400).
    # Live events. The upgrade needs no token: the first frame carries it. A cell's "status":
    # 4401 = the socket closed as unauthenticated; after `ready`, a resume of the target group
    # from seq 0: 200 = its messages arrive, 404 = the error frame "no such group" (a hidden
    # group and a missing one alike); 4409 = the socket closed, serving nothing, because the
    # user's role changed after `ready` (the demoted: reconnected, they get the cells of the
    # role they were given, as `officer_out` and `observer` do here).
    ("GET", f"{API}/ws"): group_read(200)
    | dict.fromkeys(UNAUTHENTICATED_PRINCIPALS, 4401)
    | dict.fromkeys(DEMOTED, 4409),
    # Audit log: entries for staff; tree heads, the key and proofs for anyone logged in.
    ("GET", f"{API}/audit"): staff_only(200),
    ("GET", f"{API}/audit/entries/{{index}}"): staff_only("200 200 404"),
    ("GET", f"{API}/audit/tree-head"): everyone(200),
    ("GET", f"{API}/audit/tree-heads"): everyone(200),
    ("GET", f"{API}/audit/key"): everyone(200),
    ("GET", f"{API}/audit/checkpoint"): everyone(200),
    ("GET", f"{API}/audit/proof/inclusion"): everyone("200 404"),
    ("GET", f"{API}/audit/proof/consistency"): everyone("200 404"),
    # Watch lists: every role but observers keeps its own; another user's watch is 404 to
    # everyone, staff included (it is not theirs to know of); observers are refused first.
    ("POST", f"{API}/watches"): everyone(201) | dict.fromkeys(OBSERVERS, 403),
    ("GET", f"{API}/watches"): everyone(200) | dict.fromkeys(OBSERVERS, 403),
    ("GET", f"{API}/watches/{{id}}"): everyone("200 404 404") | dict.fromkeys(OBSERVERS, 403),
    ("DELETE", f"{API}/watches/{{id}}"): everyone("204 404 404") | dict.fromkeys(OBSERVERS, 403),
    ("GET", f"{API}/watches/{{id}}/matches"): everyone("200 404 404")
    | dict.fromkeys(OBSERVERS, 403),
    # Cross-group share requests. Asking: readers of the report who may act in its group
    # (observers: 403); staff read every operation, so nothing is elsewhere for them (422).
    ("POST", f"{API}/messages/{{id}}/share-requests"): group_read(202)
    | dict.fromkeys(READ_ONLY, "403 404 404")
    | dict.fromkeys(STAFF, "422 422 404"),
    ("GET", f"{API}/share-requests"): everyone(200),
    # own: officer_in's request (their report's group's moderators see it too); other: the
    # stranger's request targeting the own group (its moderators see it). Nobody else.
    ("GET", f"{API}/share-requests/{{id}}"): everyone(404)
    | {"officer_in": "200 404 404", "group_moderator": "200 200 404"}
    | dict.fromkeys(STAFF, "200 200 404"),
    ("GET", f"{API}/groups/{{id}}/share-requests"): group_moderation(200),
    # A share request is a moderators-only object of its target group: members get 404.
    ("POST", f"{API}/share-requests/{{id}}/approve"): group_moderation(200, members=404),
    ("POST", f"{API}/share-requests/{{id}}/reject"): group_moderation(200, members=404),
}


# -- the world every route's cells run in ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Req:
    method: str
    path: str
    json: Any = None
    params: dict[str, str] | None = None
    # A raw (non-JSON) body and its media type, for uploads.
    data: bytes | None = None
    content_type: str | None = None
    # A WebSocket route: the frame sent once the socket is `ready` (see `send_ws`).
    ws_frame: dict[str, Any] | None = None
    # ... the token of its auth frame when not the caller's own (a user made for the cell),
    # and what happens between `ready` and `ws_frame` (a role change).
    ws_token: str | None = None
    after_ready: Callable[[], Awaitable[None]] | None = None


@dataclass
class World:
    client: TestClient[Any, Any]
    owner: Member
    members: dict[str, Member]  # every principal but anonymous
    expired_token: str
    stranger: Member
    visitor: Member
    own: dict[str, Any]
    other: dict[str, Any]
    missing_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    data: dict[str, Any] = field(default_factory=dict)  # what a route's `prepare` made

    @property
    def services(self) -> Any:
        return self.client.app[SERVICES]

    def headers(self, who: str) -> dict[str, str]:
        if who == "anonymous":
            return {}
        if who == "expired":
            return {"Authorization": f"Bearer {self.expired_token}"}
        return self.members[who].auth

    def me(self, who: str) -> Member:
        """The user behind the caller (anonymous: the visitor, whose credentials it holds)."""
        return self.visitor if who == "anonymous" else self.members[who]

    def group_id(self, target: str) -> str:
        return str({OWN: self.own["id"], OTHER: self.other["id"]}.get(target, self.missing_id))

    def group(self, target: str) -> dict[str, Any]:
        return {OWN: self.own, OTHER: self.other}[target]

    async def fresh_user(self) -> User:
        return await make_user(self.client, Role.OFFICER, organization=self.visitor.organization)

    async def admit(self, target: str, body: dict[str, str]) -> None:
        """The owner admits a user or organisation to the target group."""
        resp = await self.client.post(
            f"{API}/groups/{self.group_id(target)}/members", json=body, headers=self.owner.auth
        )
        assert resp.status in (200, 201), await resp.text()


def principal_of(user: User) -> Principal:
    """A principal for calling services directly (they do not look at the session)."""
    return Principal(
        UserId(user.id), OrganizationId(user.organization_id), user.role, SessionId(uuid.uuid4())
    )


def _expired_token(client: TestClient[Any, Any], member: Member) -> str:
    """A correctly signed access token for a live session that expired an hour ago."""
    claims = jwt.decode(member.access_token, options={"verify_signature": False})
    key = client.app[SERVICES].keys_ring.token
    return issue_access_token(
        key.private_key,
        key.kid,
        issuer=client.app[SETTINGS].auth.issuer,
        user_id=uuid.UUID(claims["sub"]),
        session_id=uuid.UUID(claims["sid"]),
        now=datetime.now(UTC) - timedelta(hours=1),
        ttl_seconds=300,
    )


async def _patch_user(
    client: TestClient[Any, Any], admin: Member, user: Member, body: dict[str, Any]
) -> None:
    resp = await client.patch(f"{API}/users/{user.id}", json=body, headers=admin.auth)
    assert resp.status == 200, await resp.text()


async def build_world(client: TestClient[Any, Any]) -> World:
    """Fresh principals and groups for one route (every test has its own database)."""
    owner = await make_member(client, Role.ADMIN)
    partner = await make_organization(
        client, kind=OrganizationKind.PARTNER, country=None, region=None
    )
    roles = {
        "expired": Role.OFFICER,
        "disabled": Role.OFFICER,
        "observer": Role.OFFICER,  # made observer below, once it has a key
        "officer_out": Role.OFFICER,
        "officer_in": Role.OFFICER,
        "analyst": Role.ANALYST,
        "group_moderator": Role.OFFICER,
        "restricted": Role.OFFICER,
        **{name: before for name, (before, _) in DEMOTED.items()},
        "moderator": Role.MODERATOR,
        "admin": Role.ADMIN,
        "stranger": Role.OFFICER,
        "visitor": Role.OFFICER,
    }
    made, own, other = await asyncio.gather(
        asyncio.gather(
            *(
                make_member(
                    client,
                    role,
                    organization=partner if name == "observer" else None,
                    with_key=True,
                )
                for name, role in roles.items()
            )
        ),
        make_group(client, owner),
        make_group(client, owner),
    )
    people = dict(zip(roles, made, strict=True))
    await _patch_user(client, owner, people["observer"], {"role": "observer"})
    world = World(
        client=client,
        owner=owner,
        members={p: people[p] for p in PRINCIPALS if p != "anonymous"},
        expired_token=_expired_token(client, people["expired"]),
        stranger=people["stranger"],
        visitor=people["visitor"],
        own=own,
        other=other,
    )
    admissions: list[tuple[str, dict[str, str]]] = [
        (OWN, {"user_id": people["expired"].id, "role": "member"}),
        (OWN, {"user_id": people["disabled"].id, "role": "member"}),
        (OWN, {"user_id": people["observer"].id, "role": "observer"}),
        (OWN, {"user_id": people["officer_in"].id, "role": "member"}),
        (OWN, {"organization_id": str(people["analyst"].organization.id), "role": "member"}),
        (OWN, {"user_id": people["group_moderator"].id, "role": "moderator"}),
        (OWN, {"organization_id": str(people["restricted"].organization.id), "role": "member"}),
        (OWN, {"user_id": people["restricted"].id, "role": "observer"}),
        (OWN, {"user_id": people["demoted_member"].id, "role": "member"}),
        (OTHER, {"user_id": people["stranger"].id, "role": "member"}),
    ]
    for target, body in admissions:
        await world.admit(target, body)
    await _patch_user(client, owner, people["disabled"], {"disabled": True})
    for name, (_, after) in DEMOTED.items():
        await _patch_user(client, owner, people[name], {"role": after.value})
    return world


# -- per-route preparation ------------------------------------------------------------------------


async def prepare_messages(w: World) -> None:
    """A visible and a hidden message in each group (TLP:GREEN: every member may read them)."""
    for target, author in ((OWN, w.members["officer_in"]), (OTHER, w.stranger)):
        group = w.group(target)
        shown = await post_message(w.client, author, group, hc="TLP:GREEN")
        hidden = await post_message(w.client, author, group, hc="TLP:GREEN")
        resp = await w.client.post(
            f"{API}/messages/{hidden['id']}/hide", json={"reason": "test"}, headers=w.owner.auth
        )
        assert resp.status == 200, await resp.text()
        w.data[f"{target}-message"] = shown["id"]
        w.data[f"{target}-hidden"] = hidden["id"]


async def prepare_audit(w: World) -> None:
    """Two signed tree heads (for proofs) and the index of an entry of each group."""
    audit = w.services.audit_log
    staff = principal_of(w.owner.user)
    first = await audit.latest_tree_head(staff)
    await make_organization(w.client)  # one more entry, so a larger head can be signed
    await audit.sign_tree_head()
    second = await audit.latest_tree_head(staff)
    assert second.tree_size > first.tree_size
    w.data["heads"] = (first.tree_size, second.tree_size)
    for target in (OWN, OTHER):
        entries = await audit.list_entries(
            staff, AuditFilter(group_id=uuid.UUID(w.group_id(target))), None, 1
        )
        w.data[f"{target}-entry"] = entries[0].index


# -- builders: how each route's request is made ---------------------------------------------------

Build = Callable[[World, str, str], Req | Awaitable[Req]]


@dataclass(frozen=True, slots=True)
class Spec:
    build: Build
    targets: tuple[str, ...] = GROUP_TARGETS
    doc: str = ""
    prepare: Callable[[World], Awaitable[None]] | None = None
    group_scoped: bool = False


def _message_id(w: World, target: str, *, hidden: bool = False) -> str:
    if target == MISSING:
        return w.missing_id
    return str(w.data[f"{target}-{'hidden' if hidden else 'message'}"])


def _org_id(w: World, who: str, target: str) -> str:
    if target == MISSING:
        return w.missing_id
    member = w.me(who) if target == OWN else w.stranger
    return str(member.organization.id)


def _user_id(w: World, who: str, target: str) -> str:
    return {OWN: w.me(who).id, OTHER: w.stranger.id}.get(target, w.missing_id)


def _fresh_public_key() -> str:
    return b64url_encode(raw_public_key(Ed25519PrivateKey.generate().public_key()))


async def _login_body(w: World, who: str, target: str) -> Req:
    password = PASSWORD
    if target == OWN:
        username = w.me(who).user.username
    elif target == OTHER:
        # Guessing at another user's account. A fresh victim per cell, so per-account
        # throttling never turns a cell into 429.
        username, password = (await w.fresh_user()).username, f"not {PASSWORD}"
    else:
        username = f"nobody-{secrets.token_hex(6)}"
    return Req("POST", f"{API}/auth/login", {"username": username, "password": password})


async def _refresh_body(w: World, who: str, target: str) -> Req:
    if target == OWN:
        token = w.me(who).refresh_token  # used by this cell only: refresh tokens work once
    elif target == OTHER:
        login = await w.client.post(
            f"{API}/auth/login",
            json={"username": w.stranger.user.username, "password": PASSWORD},
        )
        token = (await login.json())["refresh_token"]
    else:
        token = secrets.token_urlsafe(32)
    return Req("POST", f"{API}/auth/refresh", {"refresh_token": token})


async def _otp_enable(w: World, who: str, target: str) -> Req:
    code = "000000"  # only for callers whose token is refused before the code is looked at
    if who not in UNAUTHENTICATED_PRINCIPALS:
        resp = await w.client.post(f"{API}/auth/otp/setup", headers=w.headers(who))
        assert resp.status == 200, await resp.text()
        code = pyotp.TOTP((await resp.json())["secret"]).now()
    return Req("POST", f"{API}/auth/otp/enable", {"otp": code})


def _new_user(w: World, who: str, target: str) -> Req:
    return Req(
        "POST",
        f"{API}/users",
        {
            "username": f"new-{secrets.token_hex(6)}",
            "display_name": "New user",
            "organization_id": _org_id(w, who, target),
            "role": "officer",
            "password": PASSWORD,
        },
    )


def _register_key(w: World, who: str, target: str) -> Req:
    if target == OWN:
        public_key = _fresh_public_key()
    else:
        assert w.stranger.signing_key is not None
        public_key = b64url_encode(raw_public_key(w.stranger.signing_key.public_key()))
    return Req("POST", f"{API}/keys", {"public_key": public_key, "label": "laptop"})


def _revoke_key(w: World, who: str, target: str) -> Req:
    kid = {OWN: w.me(who).kid, OTHER: w.stranger.kid}.get(target) or b64url_encode(
        secrets.token_bytes(32)
    )
    return Req("DELETE", f"{API}/keys/{kid}")


async def prepare_seals(w: World) -> None:
    """The prepared messages; officer_in holds the seal of their organisation, which has a
    seal key (its private half in `data["seal"]`); each message's JWS in `data`."""
    await prepare_messages(w)
    seals = w.services.seals
    owner = Caller(principal_of(w.owner.user))
    holder = w.members["officer_in"]
    await seals.designate_holder(owner, holder.organization.id, holder.user.id)
    private = Ed25519PrivateKey.generate()
    key = await seals.register_key(
        owner, holder.organization.id, b64url_encode(raw_public_key(private.public_key())), None
    )
    w.data["seal"] = (private, key.kid)
    for target in (OWN, OTHER):
        read = await w.services.messaging.get_message(
            principal_of(w.owner.user), uuid.UUID(_message_id(w, target))
        )
        w.data[f"{target}-message-jws"] = read.message.jws


def _seal_org(w: World, who: str, target: str) -> Organization | None:
    """own: the caller's organisation; other: the stranger's; missing: none."""
    return {OWN: w.me(who).organization, OTHER: w.stranger.organization}.get(target)


def _seal_key_path(w: World, who: str, target: str, suffix: str = "") -> str:
    org = _seal_org(w, who, target)
    return f"{API}/organizations/{org.id if org else w.missing_id}{suffix}"


def _register_seal_key(w: World, who: str, target: str) -> Req:
    return Req("POST", _seal_key_path(w, who, target, "/keys"), {"public_key": _fresh_public_key()})


async def _revoke_seal_key(w: World, who: str, target: str) -> Req:
    org = _seal_org(w, who, target)
    kid = "unknown-kid"
    if org is not None:  # a fresh seal key of the target organisation per cell
        key = await w.services.seals.register_key(
            Caller(principal_of(w.owner.user)), org.id, _fresh_public_key(), None
        )
        kid = key.kid
    return Req("DELETE", _seal_key_path(w, who, target, f"/keys/{kid}"))


async def _seal_holder(w: World, who: str, target: str, *, designated: bool) -> Req:
    org = _seal_org(w, who, target)
    user_id = w.visitor.id
    if org is not None:  # a fresh user of the target organisation per cell
        user = await make_user(w.client, Role.OFFICER, organization=org)
        user_id = str(user.id)
        if designated:
            await w.services.seals.designate_holder(
                Caller(principal_of(w.owner.user)), org.id, user.id
            )
    method = "DELETE" if designated else "PUT"
    return Req(method, _seal_key_path(w, who, target, f"/seal-holders/{user_id}"))


def _countersign(w: World, who: str, target: str) -> Req:
    """A countersignature by the caller with officer_in's organisation's seal key."""
    private, kid = w.data["seal"]
    message_id = _message_id(w, target)
    jws_of = w.data.get(f"{target}-message-jws", w.data[f"{OWN}-message-jws"])
    payload = {
        "v": 1,
        "typ": "countersignature",
        "cid": str(uuid.uuid4()),
        "sub": w.me(who).id,
        "iat": int(datetime.now(UTC).timestamp()),
        "org": str(w.members["officer_in"].organization.id),
        "msg": message_id,
        "sha256": hashlib.sha256(jws_of.encode("ascii")).hexdigest(),
    }
    return Req(
        "POST",
        f"{API}/messages/{message_id}/countersign",
        {"jws": sign_compact(payload, private, kid)},
    )


def _new_group(w: World, who: str, target: str) -> Req:
    code = f"NEW-{secrets.token_hex(4).upper()}" if target == OWN else w.other["code"]
    return Req("POST", f"{API}/groups", {"code": code, "name": "Operation"})


async def _add_member(w: World, who: str, target: str) -> Req:
    user_id = str((await w.fresh_user()).id) if target != MISSING else w.visitor.id
    return Req(
        "POST",
        f"{API}/groups/{w.group_id(target)}/members",
        {"user_id": user_id, "role": "member"},
    )


async def _remove_user(w: World, who: str, target: str) -> Req:
    user_id = w.visitor.id
    if target != MISSING:
        user_id = str((await w.fresh_user()).id)
        await w.admit(target, {"user_id": user_id, "role": "member"})
    path = f"{API}/groups/{w.group_id(target)}/members/{user_id}"
    return Req("DELETE", path, params={"reason": "left the operation"})


async def _remove_org(w: World, who: str, target: str) -> Req:
    org_id = str(w.visitor.organization.id)
    if target != MISSING:
        org_id = str((await make_organization(w.client)).id)
        await w.admit(target, {"organization_id": org_id, "role": "member"})
    path = f"{API}/groups/{w.group_id(target)}/organizations/{org_id}"
    return Req("DELETE", path, params={"reason": "left the operation"})


def _join_code(w: World, target: str) -> str:
    if target == MISSING:
        return f"NOPE-{secrets.token_hex(4).upper()}"
    return str(w.group(target)["code"])


async def _pending_request(w: World, target: str) -> str:
    """A fresh user's pending join request to the target group."""
    if target == MISSING:
        return w.missing_id
    user = await w.fresh_user()
    groups = w.services.groups
    await groups.request_to_join(Caller(principal_of(user)), _join_code(w, target), "please")
    pending = await groups.list_join_requests(
        principal_of(w.owner.user),
        uuid.UUID(w.group_id(target)),
        JoinRequestStatus.PENDING,
        None,
        500,
    )
    return next(str(r.id) for r in pending if r.user_id == user.id)


def _decide(decision: str) -> Build:
    async def build(w: World, who: str, target: str) -> Req:
        return Req("POST", f"{API}/join-requests/{await _pending_request(w, target)}/{decision}")

    return build


def _post_message(w: World, who: str, target: str) -> Req:
    author = w.me(who)
    jws = sign(author, envelope(author, w.group_id(target), hc="TLP:GREEN"))
    return Req("POST", f"{API}/groups/{w.group_id(target)}/messages", {"jws": jws})


def _upload(w: World, who: str, target: str) -> Req:
    text = f"seizure list {secrets.token_hex(8)}\n".encode()  # fresh content per cell
    return Req(
        "POST",
        f"{API}/groups/{w.group_id(target)}/attachments",
        params={"name": "seizures.txt"},
        data=text,
        content_type="text/plain",
    )


async def prepare_attachments(w: World) -> None:
    """An attachment in each group, named by a TLP:GREEN message (so observers may fetch it)."""
    for target, author in ((OWN, w.members["officer_in"]), (OTHER, w.stranger)):
        data = f"airway bill {target}\n".encode()
        resp = await w.client.post(
            f"{API}/groups/{w.group_id(target)}/attachments",
            params={"name": "awb.txt"},
            data=data,
            headers={**author.auth, "Content-Type": "text/plain"},
        )
        assert resp.status == 201, await resp.text()
        sha = (await resp.json())["sha256"]
        att = [{"sha256": sha, "size": len(data), "name": "awb.txt", "type": "text/plain"}]
        await post_message(w.client, author, w.group(target), hc="TLP:GREEN", att=att)
        w.data[f"{target}-attachment"] = sha


def _download(w: World, who: str, target: str) -> Req:
    sha = w.data.get(f"{target}-attachment", w.data[f"{OWN}-attachment"])
    return Req("GET", f"{API}/groups/{w.group_id(target)}/attachments/{sha}")


def _entry_index(w: World, target: str) -> str:
    return str(w.data[f"{target}-entry"]) if target != MISSING else str(10**9)


def _inclusion(w: World, who: str, target: str) -> Req:
    size = w.data["heads"][1] if target == OWN else 10**9
    return Req("GET", f"{API}/audit/proof/inclusion", params={"index": "0", "tree_size": str(size)})


def _consistency(w: World, who: str, target: str) -> Req:
    first, second = w.data["heads"]
    params = {"first": str(first), "second": str(second if target == OWN else 10**9)}
    return Req("GET", f"{API}/audit/proof/consistency", params=params)


def _get(path: str) -> Build:
    return lambda w, who, target: Req("GET", path)


def _post(path: str) -> Build:
    return lambda w, who, target: Req("POST", path)


def _group_path(method: str, suffix: str = "", json: Any = None) -> Build:
    return lambda w, who, target: Req(method, f"{API}/groups/{w.group_id(target)}{suffix}", json)


def _message_path(action: str, json: Any = None, *, hidden: bool = False) -> Build:
    return lambda w, who, target: Req(
        "POST", f"{API}/messages/{_message_id(w, target, hidden=hidden)}/{action}", json
    )


async def prepare_alerts(w: World) -> None:
    """A TLP:GREEN alert from the owner to each group (the owner is no recipient)."""
    await register_key(w.client, w.owner)
    for target in (OWN, OTHER):
        payload = {
            "v": 1,
            "typ": "alert",
            "cid": str(uuid.uuid4()),
            "sub": w.owner.id,
            "iat": int(datetime.now(UTC).timestamp()),
            "hc": "TLP:GREEN",
            "body": {
                "title": "Alert",
                "text": "Check",
                "priority": "routine",
                "ack_required": True,
            },
            "to": {"groups": [w.group_id(target)]},
        }
        resp = await w.client.post(
            f"{API}/alerts", json={"jws": sign(w.owner, payload)}, headers=w.owner.auth
        )
        assert resp.status == 201, await resp.text()
        w.data[f"{target}-alert"] = (await resp.json())["id"]


def _alert_id(w: World, target: str) -> str:
    return str(w.data[f"{target}-alert"]) if target != MISSING else w.missing_id


def _send_alert(w: World, who: str, target: str) -> Req:
    sender = w.me(who)
    payload = {
        "v": 1,
        "typ": "alert",
        "cid": str(uuid.uuid4()),
        "sub": sender.id,
        "iat": int(datetime.now(UTC).timestamp()),
        "hc": "TLP:GREEN",
        "body": {"title": "Alert", "text": "Check", "priority": "routine", "ack_required": False},
        "to": {"groups": [w.group_id(target)]},
    }
    return Req("POST", f"{API}/alerts", {"jws": sign(sender, payload)})


async def _live_resume(w: World, who: str, target: str) -> Req:
    resume = {"type": "resume", "groups": {w.group_id(target): 0}}
    if who not in DEMOTED:
        return Req("GET", f"{API}/ws", ws_frame=resume)
    before, after = DEMOTED[who]
    user = await make_member(w.client, before)
    if who == "demoted_member":
        await w.admit(OWN, {"user_id": user.id, "role": "member"})

    async def demote() -> None:
        await _patch_user(w.client, w.owner, user, {"role": after.value})

    return Req("GET", f"{API}/ws", ws_frame=resume, ws_token=user.access_token, after_ready=demote)


async def _watch_id(w: World, who: str, target: str) -> str:
    """own: a fresh watch of the caller's (kept directly: observers may hold one kept while
    they were officers); other: a fresh watch of the stranger's; missing: a random id."""
    if target == MISSING:
        return w.missing_id
    user = w.me(who).user if target == OWN else w.stranger.user
    now = datetime.now(UTC)
    watch = Watch(
        uuid.uuid4(),
        user.id,
        Selector(IdentifierKind.PARTY, MatchMode.EXACT, "acme", "Acme Ltd"),
        "Known consignee",
        now + timedelta(days=30),
        now,
    )
    await w.services.db.write(lambda unit: unit.watches.insert(watch))
    return str(watch.id)


def _watch_path(method: str, suffix: str = "") -> Build:
    async def build(w: World, who: str, target: str) -> Req:
        return Req(method, f"{API}/watches/{await _watch_id(w, who, target)}{suffix}")

    return build


async def _matched_reports(w: World, name: str) -> tuple[str, str]:
    """A TLP:GREEN seizure report in each group with the same consignee `name`."""
    party = {"role": "consignee", "name": name, "country": "DE"}
    ids = []
    for author, group in ((w.members["officer_in"], w.own), (w.stranger, w.other)):
        body = seizure_body("FR", parties=[party])
        posted = await post_message(w.client, author, group, "seizure", hc="TLP:GREEN", body=body)
        ids.append(str(posted["id"]))
    return ids[0], ids[1]


async def _share_request(w: World, asker: Member, message_id: str, name: str) -> str:
    resp = await w.client.post(
        f"{API}/messages/{message_id}/share-requests",
        json={"kind": "party", "value": name, "reason": "same consignee"},
        headers=asker.auth,
    )
    assert resp.status == 202, await resp.text()
    return str((await resp.json())["id"])


async def prepare_shares(w: World) -> None:
    """Matching reports in both groups; officer_in's request (target: the other group) and the
    stranger's (target: the own group)."""
    own, other = await _matched_reports(w, "Shared Consignee")
    w.data["own-share"] = await _share_request(w, w.members["officer_in"], own, "shared consignee")
    w.data["other-share"] = await _share_request(w, w.stranger, other, "shared consignee")
    # Reports nobody asked about yet, for the cells that ask.
    w.data["own-ask"], w.data["other-ask"] = await _matched_reports(w, "Asked Consignee")


def _ask_share(w: World, who: str, target: str) -> Req:
    message_id = w.data.get(f"{target}-ask", w.missing_id)
    body = {"kind": "party", "value": "asked consignee", "reason": "same consignee"}
    return Req("POST", f"{API}/messages/{message_id}/share-requests", body)


def _decide_share(decision: str) -> Build:
    async def build(w: World, who: str, target: str) -> Req:
        request_id, group_id = w.missing_id, w.group_id(OWN)
        if target != MISSING:
            name = f"Consignee {secrets.token_hex(4)}"
            own, other = await _matched_reports(w, name)
            asker, message_id = (
                (w.stranger, other) if target == OWN else (w.members["officer_in"], own)
            )
            request_id = await _share_request(w, asker, message_id, name.lower())
            group_id = w.group_id(target)
        path = f"{API}/share-requests/{request_id}/{decision}"
        return Req("POST", path, {"group_id": group_id})

    return build


def _new_watch(w: World, who: str, target: str) -> Req:
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    body = {"kind": "container", "value": "CSQU3054383", "reason": "x", "expires_at": expires}
    return Req("POST", f"{API}/watches", body)


ONE = (SELF,)
NO_MISSING = (OWN, OTHER)
NO_OTHER = (OWN, MISSING)

# The per-route fixture builder table.
BUILDERS: dict[tuple[str, str], Spec] = {
    ("POST", f"{API}/auth/login"): Spec(
        _login_body,
        doc="own: the caller's user and password (anonymous: the visitor's); other: a fresh "
        "user's name with a wrong password; missing: an unknown username",
    ),
    ("POST", f"{API}/auth/refresh"): Spec(
        _refresh_body,
        doc="own: the caller's refresh token (anonymous: the visitor's); other: another user's "
        "live refresh token (a bearer credential: it works for whoever holds it); missing: "
        "a random token",
    ),
    ("POST", f"{API}/auth/logout"): Spec(_post(f"{API}/auth/logout"), ONE, "the own session"),
    ("POST", f"{API}/auth/otp/setup"): Spec(_post(f"{API}/auth/otp/setup"), ONE, "own account"),
    ("POST", f"{API}/auth/otp/enable"): Spec(
        _otp_enable, ONE, "setup first, then the current TOTP code of that secret"
    ),
    ("GET", f"{API}/me"): Spec(_get(f"{API}/me"), ONE),
    ("POST", f"{API}/organizations"): Spec(
        lambda w, who, t: Req(
            "POST",
            f"{API}/organizations",
            {"name": f"Org {secrets.token_hex(4)}", "kind": "administration", "country": "FR"},
        ),
        ONE,
        "a new administration with a fresh name",
    ),
    ("GET", f"{API}/organizations"): Spec(_get(f"{API}/organizations"), ONE),
    ("GET", f"{API}/organizations/{{id}}"): Spec(
        lambda w, who, t: Req("GET", f"{API}/organizations/{_org_id(w, who, t)}"),
        doc="own: the caller's organisation; other: the stranger's",
    ),
    ("POST", f"{API}/users"): Spec(
        _new_user, doc="a new officer in: own: the caller's org; other: another; missing: none"
    ),
    ("GET", f"{API}/users"): Spec(_get(f"{API}/users"), ONE),
    ("GET", f"{API}/users/{{id}}"): Spec(
        lambda w, who, t: Req("GET", f"{API}/users/{_user_id(w, who, t)}"),
        doc="own: the caller; other: the stranger",
    ),
    ("PATCH", f"{API}/users/{{id}}"): Spec(
        lambda w, who, t: Req(
            "PATCH", f"{API}/users/{_user_id(w, who, t)}", {"display_name": "Renamed"}
        ),
        doc="a new display name for: own: the caller; other: the stranger",
    ),
    ("POST", f"{API}/keys"): Spec(
        _register_key, NO_MISSING, "own: a fresh key; other: the stranger's registered key"
    ),
    ("GET", f"{API}/users/{{id}}/keys"): Spec(
        lambda w, who, t: Req("GET", f"{API}/users/{_user_id(w, who, t)}/keys"),
        doc="own: the caller's keys; other: the stranger's",
    ),
    ("DELETE", f"{API}/keys/{{kid}}"): Spec(
        _revoke_key,
        doc="own: the caller's key (one cell each); other: the stranger's (shared: a refusal "
        "does not depend on whether an admin revoked it first); missing: a random kid",
    ),
    ("POST", f"{API}/organizations/{{id}}/keys"): Spec(
        _register_seal_key,
        doc="a fresh seal key for: own: the caller's organisation; other: the stranger's",
        prepare=prepare_seals,
    ),
    ("GET", f"{API}/organizations/{{id}}/keys"): Spec(
        lambda w, who, t: Req("GET", _seal_key_path(w, who, t, "/keys")),
        doc="own: the caller's organisation's seal keys; other: the stranger's",
    ),
    ("DELETE", f"{API}/organizations/{{id}}/keys/{{kid}}"): Spec(
        _revoke_seal_key,
        doc="a fresh seal key (per cell) of: own: the caller's organisation; other: the "
        "stranger's; missing: an unknown organisation",
        prepare=prepare_seals,
    ),
    ("GET", f"{API}/organizations/{{id}}/seal-holders"): Spec(
        lambda w, who, t: Req("GET", _seal_key_path(w, who, t, "/seal-holders")),
        doc="own: the caller's organisation's seal holders; other: the stranger's",
    ),
    ("PUT", f"{API}/organizations/{{id}}/seal-holders/{{user_id}}"): Spec(
        lambda w, who, t: _seal_holder(w, who, t, designated=False),
        doc="a fresh officer (per cell) of: own: the caller's organisation; other: the "
        "stranger's; missing: an unknown organisation",
    ),
    ("DELETE", f"{API}/organizations/{{id}}/seal-holders/{{user_id}}"): Spec(
        lambda w, who, t: _seal_holder(w, who, t, designated=True),
        doc="a fresh seal holder (per cell) of: own: the caller's organisation; other: the "
        "stranger's; missing: an unknown organisation",
    ),
    ("POST", f"{API}/messages/{{id}}/countersign"): Spec(
        _countersign,
        doc="a countersignature of the target group's message by the caller, with officer_in's "
        "organisation's seal key (the own message's author is officer_in)",
        prepare=prepare_seals,
        group_scoped=True,
    ),
    ("POST", f"{API}/groups"): Spec(
        _new_group, NO_MISSING, "own: a fresh code; other: the other group's code (duplicate)"
    ),
    ("GET", f"{API}/groups"): Spec(_get(f"{API}/groups"), ONE),
    ("GET", f"{API}/groups/{{id}}"): Spec(_group_path("GET"), group_scoped=True),
    ("PATCH", f"{API}/groups/{{id}}"): Spec(
        _group_path("PATCH", json={"name": "Renamed operation", "reason": "typo"}),
        doc="a new name: the same answer in any order",
        group_scoped=True,
    ),
    ("GET", f"{API}/groups/{{id}}/members"): Spec(
        _group_path("GET", "/members"), group_scoped=True
    ),
    ("POST", f"{API}/groups/{{id}}/members"): Spec(
        _add_member, doc="a fresh user per cell, as member", group_scoped=True
    ),
    ("DELETE", f"{API}/groups/{{id}}/members/{{user_id}}"): Spec(
        _remove_user,
        doc="a fresh member of the target group per cell; missing: an unknown group",
        group_scoped=True,
    ),
    ("DELETE", f"{API}/groups/{{id}}/organizations/{{org_id}}"): Spec(
        _remove_org,
        doc="a fresh member organisation of the target group per cell; missing: unknown group",
        group_scoped=True,
    ),
    ("POST", f"{API}/join-requests"): Spec(
        lambda w, who, t: Req(
            "POST", f"{API}/join-requests", {"group_code": _join_code(w, t), "reason": "please"}
        ),
        doc="the target group's code; missing: an unknown code",
    ),
    ("GET", f"{API}/groups/{{id}}/join-requests"): Spec(
        _group_path("GET", "/join-requests"), group_scoped=True
    ),
    ("POST", f"{API}/join-requests/{{id}}/approve"): Spec(
        _decide("approve"),
        doc="a fresh user's pending request to the target group per cell",
        group_scoped=True,
    ),
    ("POST", f"{API}/join-requests/{{id}}/reject"): Spec(
        _decide("reject"),
        doc="a fresh user's pending request to the target group per cell",
        group_scoped=True,
    ),
    ("POST", f"{API}/groups/{{id}}/messages"): Spec(
        _post_message,
        doc="a text signed by the caller's own key (anonymous: the visitor's) for the group",
        group_scoped=True,
    ),
    ("GET", f"{API}/groups/{{id}}/messages"): Spec(
        _group_path("GET", "/messages"), prepare=prepare_messages, group_scoped=True
    ),
    ("GET", f"{API}/messages/{{id}}"): Spec(
        lambda w, who, t: Req("GET", f"{API}/messages/{_message_id(w, t)}"),
        doc="a visible TLP:GREEN message of the target group",
        prepare=prepare_messages,
        group_scoped=True,
    ),
    ("POST", f"{API}/messages/{{id}}/hide"): Spec(
        _message_path("hide", {"reason": "off topic"}),
        doc="a visible message of the target group, shared: hiding twice answers the same",
        prepare=prepare_messages,
        group_scoped=True,
    ),
    ("POST", f"{API}/messages/{{id}}/unhide"): Spec(
        _message_path("unhide", hidden=True),
        doc="a hidden message of the target group, shared: unhiding twice answers the same",
        prepare=prepare_messages,
        group_scoped=True,
    ),
    ("GET", f"{API}/search"): Spec(
        lambda w, who, t: Req(
            "GET", f"{API}/search", params={"q": "masks", "group_id": w.group_id(t)}
        ),
        doc="words of the prepared messages, narrowed to the target group",
        prepare=prepare_messages,
        group_scoped=True,
    ),
    ("POST", f"{API}/groups/{{id}}/attachments"): Spec(
        _upload,
        doc="a small text file, fresh content per cell, as a raw body with ?name=",
        group_scoped=True,
    ),
    ("GET", f"{API}/groups/{{id}}/attachments"): Spec(
        _group_path("GET", "/attachments"), prepare=prepare_attachments, group_scoped=True
    ),
    ("GET", f"{API}/groups/{{id}}/attachments/{{sha256}}"): Spec(
        _download,
        doc="the target group's attachment, named by a TLP:GREEN message; missing: a random "
        "group id with the own group's hash",
        prepare=prepare_attachments,
        group_scoped=True,
    ),
    ("GET", f"{API}/groups/{{id}}/export"): Spec(
        _group_path("GET", "/export"),
        doc="the target group's evidence bundle (without blobs)",
        group_scoped=True,
    ),
    ("GET", f"{API}/groups/{{id}}/analytics"): Spec(
        _group_path("GET", "/analytics"), group_scoped=True
    ),
    ("GET", f"{API}/groups/{{id}}/seizures.csv"): Spec(
        _group_path("GET", "/seizures.csv"), group_scoped=True
    ),
    ("GET", f"{API}/groups/{{id}}/report"): Spec(_group_path("GET", "/report"), group_scoped=True),
    ("GET", f"{API}/groups/{{id}}/export.misp.json"): Spec(
        _group_path("GET", "/export.misp.json"), group_scoped=True
    ),
    ("GET", f"{API}/groups/{{id}}/export.stix.json"): Spec(
        _group_path("GET", "/export.stix.json"), group_scoped=True
    ),
    ("GET", f"{API}/messages/{{id}}/related"): Spec(
        lambda w, who, t: Req("GET", f"{API}/messages/{_message_id(w, t)}/related"),
        doc="a visible TLP:GREEN message of the target group",
        prepare=prepare_messages,
        group_scoped=True,
    ),
    ("GET", f"{API}/groups/{{id}}/correlations"): Spec(
        _group_path("GET", "/correlations"), group_scoped=True
    ),
    ("GET", f"{API}/analytics"): Spec(
        lambda w, who, t: Req("GET", f"{API}/analytics", params={"group_id": w.group_id(t)}),
        # Not group-scoped: officers get 403 for their role before any group is looked at;
        # an analyst's hidden-versus-missing 404 is in test_cross_group_analytics.py.
        doc="analytics over the target group alone",
    ),
    ("POST", f"{API}/alerts"): Spec(
        _send_alert, doc="a signed TLP:GREEN alert from the caller to the target group"
    ),
    ("GET", f"{API}/alerts"): Spec(_get(f"{API}/alerts"), ONE),
    ("GET", f"{API}/alerts/{{id}}"): Spec(
        lambda w, who, t: Req("GET", f"{API}/alerts/{_alert_id(w, t)}"),
        doc="the owner's alert to: own: the own group; other: the other group",
        prepare=prepare_alerts,
    ),
    ("POST", f"{API}/alerts/{{id}}/ack"): Spec(
        lambda w, who, t: Req("POST", f"{API}/alerts/{_alert_id(w, t)}/ack", {}),
        doc="acknowledge the owner's alert to: own: the own group; other: the other group",
        prepare=prepare_alerts,
    ),
    ("GET", f"{API}/me/notifications"): Spec(_get(f"{API}/me/notifications"), ONE),
    ("POST", f"{API}/watches"): Spec(_new_watch, ONE),
    ("GET", f"{API}/watches"): Spec(_get(f"{API}/watches"), ONE),
    ("GET", f"{API}/watches/{{id}}"): Spec(
        _watch_path("GET"), doc="own: a fresh watch of the caller's; other: the stranger's"
    ),
    ("DELETE", f"{API}/watches/{{id}}"): Spec(
        _watch_path("DELETE"), doc="own: a fresh watch of the caller's; other: the stranger's"
    ),
    ("GET", f"{API}/watches/{{id}}/matches"): Spec(
        _watch_path("GET", "/matches"),
        doc="own: a fresh watch of the caller's; other: the stranger's",
    ),
    ("PATCH", f"{API}/me/notifications"): Spec(
        lambda w, who, t: Req("PATCH", f"{API}/me/notifications", {"alerts": False}), ONE
    ),
    ("GET", f"{API}/ws"): Spec(
        _live_resume,
        doc="auth frame with the caller's token (anonymous: an empty one), then a resume of "
        "the target group from seq 0; the demoted: a fresh user per cell, demoted between "
        "`ready` and the resume",
        prepare=prepare_messages,
    ),
    ("GET", f"{API}/audit"): Spec(
        lambda w, who, t: Req("GET", f"{API}/audit", params={"group_id": w.group_id(t)}),
        doc="entries of the target group",
    ),
    ("GET", f"{API}/audit/entries/{{index}}"): Spec(
        lambda w, who, t: Req("GET", f"{API}/audit/entries/{_entry_index(w, t)}"),
        doc="an entry of the target group; missing: index 10**9",
        prepare=prepare_audit,
    ),
    ("GET", f"{API}/audit/tree-head"): Spec(_get(f"{API}/audit/tree-head"), ONE),
    ("GET", f"{API}/audit/tree-heads"): Spec(_get(f"{API}/audit/tree-heads"), ONE),
    ("GET", f"{API}/audit/key"): Spec(_get(f"{API}/audit/key"), ONE),
    ("GET", f"{API}/audit/checkpoint"): Spec(_get(f"{API}/audit/checkpoint"), ONE),
    ("GET", f"{API}/audit/proof/inclusion"): Spec(
        _inclusion,
        NO_OTHER,
        "entry 0 in a signed head; missing: an unsigned tree size",
        prepare=prepare_audit,
    ),
    ("GET", f"{API}/audit/proof/consistency"): Spec(
        _consistency,
        NO_OTHER,
        "two signed heads; missing: an unsigned second size",
        prepare=prepare_audit,
    ),
    ("POST", f"{API}/messages/{{id}}/share-requests"): Spec(
        _ask_share,
        doc="the consignee of the target group's report, which a report of the other group "
        "also names; a repeat of a pending request answers 200, so each cell asks once",
        prepare=prepare_shares,
        group_scoped=True,
    ),
    ("GET", f"{API}/share-requests"): Spec(_get(f"{API}/share-requests"), ONE),
    ("GET", f"{API}/share-requests/{{id}}"): Spec(
        lambda w, who, t: Req(
            "GET", f"{API}/share-requests/{w.data.get(f'{t}-share', w.missing_id)}"
        ),
        doc="own: officer_in's request about the own group's report; other: the stranger's "
        "request about the other group's report (targeting the own group)",
        prepare=prepare_shares,
    ),
    ("GET", f"{API}/groups/{{id}}/share-requests"): Spec(
        _group_path("GET", "/share-requests"), group_scoped=True
    ),
    ("POST", f"{API}/share-requests/{{id}}/approve"): Spec(
        _decide_share("approve"),
        doc="a fresh request per cell targeting the target group (matching reports in both "
        "groups); missing: an unknown request, for the own group",
        group_scoped=True,
    ),
    ("POST", f"{API}/share-requests/{{id}}/reject"): Spec(
        _decide_share("reject"),
        doc="a fresh request per cell targeting the target group (matching reports in both "
        "groups); missing: an unknown request, for the own group",
        group_scoped=True,
    ),
}


# -- running cells ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.body)


async def build_request(spec: Spec, world: World, who: str, target: str) -> Req:
    made = spec.build(world, who, target)
    return await made if inspect.isawaitable(made) else made


WS_CLOSED = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED)


async def send_ws(world: World, who: str, req: Req) -> Answer:
    """A WebSocket cell's status: the close code when the socket closes before `ready`; else,
    after `req.ws_frame`, 200 once a message of a group named in it arrives, or the status of
    the error frame that answers it."""
    assert req.ws_frame is not None
    token = req.ws_token or world.headers(who).get("Authorization", "").removeprefix("Bearer ")
    groups = req.ws_frame.get("groups", {})
    frames: list[Any] = []
    async with asyncio.timeout(CELL_TIMEOUT), world.client.ws_connect(req.path) as ws:
        await ws.send_json({"type": "auth", "token": token})
        while True:
            msg = await ws.receive(timeout=CELL_TIMEOUT)
            if msg.type in WS_CLOSED:
                return Answer(ws.close_code or 0, "websocket", repr(frames).encode())
            frame = msg.json()
            frames.append(frame)
            if frame["type"] == "ready":
                if req.after_ready is not None:
                    await req.after_ready()
                # The server may have closed the socket already (read on the next receive).
                with contextlib.suppress(ConnectionResetError):
                    await ws.send_json(req.ws_frame)
            elif frame["type"] == "message" and frame["group_id"] in groups:
                return Answer(200, "websocket", repr(frames).encode())
            elif frame["type"] == "error" and len(frames) > 1:
                return Answer(frame["problem"]["status"], "websocket", repr(frames).encode())


async def send(world: World, who: str, req: Req) -> Answer:
    if req.ws_frame is not None:
        return await send_ws(world, who, req)
    async with asyncio.timeout(CELL_TIMEOUT):
        headers = world.headers(who)
        if req.content_type is not None:
            headers = {**headers, "Content-Type": req.content_type}
        resp = await world.client.request(
            req.method, req.path, json=req.json, params=req.params, headers=headers, data=req.data
        )
        body = await resp.read()
    return Answer(resp.status, resp.content_type, body)


async def ready_world(client: TestClient[Any, Any], spec: Spec) -> World:
    async with asyncio.timeout(SETUP_TIMEOUT):
        world = await build_world(client)
        if spec.prepare is not None:
            await spec.prepare(world)
    return world


def expected_cells(key: tuple[str, str]) -> dict[tuple[str, str], int]:
    """The table row of `key`, one status per (principal, target)."""
    row, targets = EXPECTED[key], BUILDERS[key].targets
    cells: dict[tuple[str, str], int] = {}
    for who in PRINCIPALS:
        codes = str(row[who]).split()
        if len(codes) == 1:
            codes *= len(targets)
        assert len(codes) == len(targets), f"{key} {who}: {row[who]!r} for targets {targets}"
        cells.update({(who, t): int(c) for t, c in zip(targets, codes, strict=True)})
    return cells


# -- the matrix -----------------------------------------------------------------------------------


def test_every_api_route_is_in_the_matrix() -> None:
    """A route added to ROUTES_TABLE without a row here fails the build."""
    routes = set(API_ROUTES)
    assert routes - set(EXPECTED) == set(), "routes without expected answers"
    assert routes - set(BUILDERS) == set(), "routes without a request builder"
    assert set(EXPECTED) - routes == set(), "expected answers for routes that do not exist"
    assert set(BUILDERS) - routes == set(), "builders for routes that do not exist"


def test_every_row_names_every_principal_and_target() -> None:
    for key in EXPECTED:
        assert set(EXPECTED[key]) == set(PRINCIPALS), key
        if key in BUILDERS:
            expected_cells(key)


def test_authenticated_routes_refuse_the_unauthenticated() -> None:
    """A cheap guard against a typo in the table: no token, no access (auth=False excepted)."""
    open_routes = {(r.method, r.path) for r in ROUTES_TABLE if not r.auth}
    for key in set(EXPECTED) - open_routes:
        for who in UNAUTHENTICATED_PRINCIPALS:
            assert EXPECTED[key][who] == 401, (key, who)


@pytest.mark.parametrize("key", API_ROUTES, ids=lambda k: f"{k[0]} {k[1]}")
async def test_authorization_matrix(client: TestClient[Any, Any], key: tuple[str, str]) -> None:
    assert key in EXPECTED and key in BUILDERS, f"{key} is missing from the matrix tables"
    spec = BUILDERS[key]
    expected = expected_cells(key)
    world = await ready_world(client, spec)
    gate = asyncio.Semaphore(MAX_CONCURRENT_CELLS)

    async def cell(who: str, target: str) -> tuple[str, str, Answer]:
        async with gate, asyncio.timeout(CELL_TIMEOUT * 2):
            req = await build_request(spec, world, who, target)
            return who, target, await send(world, who, req)

    answers = await asyncio.gather(*(cell(who, target) for who, target in expected))
    wrong = [
        f"{who:16} {target:8} expected {expected[who, target]}, got {a.status}: {a.body[:300]!r}"
        for who, target, a in answers
        if a.status != expected[who, target]
    ]
    assert not wrong, f"{key[0]} {key[1]}: {len(wrong)} unexpected cells\n" + "\n".join(wrong)
    for who, target, a in answers:
        if a.status >= 400 and a.content_type != "websocket":  # refusals: problem documents
            assert a.content_type == "application/problem+json", (who, target, a.content_type)
            assert a.json()["status"] == a.status


# -- a hidden group looks exactly like a missing one -----------------------------------------------

GROUP_SCOPED = [key for key in API_ROUTES if key in BUILDERS and BUILDERS[key].group_scoped]
VARYING = ("instance", "request_id")


def _without_varying(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k not in VARYING}


@pytest.mark.parametrize("key", GROUP_SCOPED, ids=lambda k: f"{k[0]} {k[1]}")
async def test_hidden_and_missing_are_indistinguishable(
    client: TestClient[Any, Any], key: tuple[str, str]
) -> None:
    """A non-member gets the same 404 for a hidden group's resource as for a missing one: same
    keys, same type, title and detail, only instance and request_id differ; and a member's 403
    has the same shape (the same keys)."""
    spec = BUILDERS[key]
    world = await ready_world(client, spec)
    hidden, missing = [
        await send(world, "officer_out", await build_request(spec, world, "officer_out", t))
        for t in (OTHER, MISSING)
    ]
    assert hidden.status == missing.status == 404
    assert hidden.content_type == missing.content_type == "application/problem+json"
    hidden_problem, missing_problem = hidden.json(), missing.json()
    assert set(hidden_problem) == set(missing_problem)
    assert _without_varying(hidden_problem) == _without_varying(missing_problem)
    assert set(VARYING) <= set(hidden_problem)
    assert hidden.body != missing.body  # instance and request_id really are per request
    refused = [who for who in IN_GROUP if expected_cells(key)[who, OWN] == 403]
    for who in refused:
        answer = await send(world, who, await build_request(spec, world, who, OWN))
        assert answer.status == 403
        assert answer.content_type == hidden.content_type
        assert set(answer.json()) == set(hidden_problem), who


@pytest.fixture
async def uncached_client(
    aiohttp_client: AiohttpClient, settings: Settings
) -> TestClient[Any, Any]:
    """A server that reads the caller's session on every request. With the per-process session
    cache (1 s), whether a request re-reads the session depends on how long ago the previous one
    ran, which a busy machine stretches: two compared requests would differ by that read."""
    auth = replace(settings.auth, session_cache_seconds=0)
    return await aiohttp_client(create_app(with_settings(settings, auth=auth)))


async def test_the_recorder_leaves_background_rounds_out(client: TestClient[Any, Any]) -> None:
    """A tree-head round that runs while a request is recorded (it runs every second in the
    background) must not add its statements to the request's: its helper task once had a default
    name like a request's task, and made the hidden-versus-missing comparison flaky."""
    await make_member(client, Role.ADMIN)  # audit entries: the round has a tree to extend
    audit_log = client.app[SERVICES].audit_log

    async def tree_head_job() -> None:
        await audit_log.sign_tree_head()

    with recorded_statements(client) as statements:
        await asyncio.create_task(tree_head_job(), name="audit-tree-heads")
        resp = await client.get("/health")
        assert resp.status == 200
    assert statements == []


@pytest.mark.parametrize("key", GROUP_SCOPED, ids=lambda k: f"{k[0]} {k[1]}")
async def test_hidden_and_missing_take_the_same_code_path(
    uncached_client: TestClient[Any, Any], key: tuple[str, str]
) -> None:
    """Nothing is timed: instead, a non-member's request for a hidden group's resource runs
    exactly the same SQL statements, in the same order, as one for a missing id, and ends in
    the same problem. With the same work there is no timing difference to measure."""
    spec = BUILDERS[key]
    client = uncached_client
    world = await ready_world(client, spec)
    runs: dict[str, tuple[list[str], Answer]] = {}
    for target in (OTHER, MISSING):
        req = await build_request(spec, world, "officer_out", target)
        # Reports a builder posted are matched against watch lists in the background: that
        # work must be over before the request's own statements are recorded.
        await asyncio.wait_for(client.app[SERVICES].watch_lists.settled(), 30)
        with recorded_statements(client) as statements:
            answer = await send(world, "officer_out", req)
        runs[target] = (statements, answer)
    (hidden_sql, hidden), (missing_sql, missing) = runs[OTHER], runs[MISSING]
    assert hidden.status == missing.status == 404
    assert _without_varying(hidden.json()) == _without_varying(missing.json())
    assert hidden_sql, "no statement was recorded: is the recorder still attached?"
    assert hidden_sql == missing_sql


# -- regression tests for the server fixes this matrix found --------------------------------------


async def test_an_observer_may_revoke_their_own_key(client: TestClient[Any, Any]) -> None:
    """API.md: `DELETE /keys/{kid}` revokes the caller's own key, whatever their role. An
    officer made observer keeps a key they can no longer sign with, and may still revoke it."""
    admin = await make_member(client, Role.ADMIN)
    user = await make_member(client, Role.OFFICER, with_key=True)
    await _patch_user(client, admin, user, {"role": "observer"})
    resp = await client.delete(f"{API}/keys/{user.kid}", headers=user.auth)
    assert resp.status == 204, await resp.text()
    keys = await (await client.get(f"{API}/users/{user.id}/keys", headers=user.auth)).json()
    assert [k["revoked_at"] is not None for k in keys["keys"]] == [True]
    # Still read-only otherwise: no new key, and nobody else's key.
    resp = await client.post(
        f"{API}/keys", json={"public_key": _fresh_public_key()}, headers=user.auth
    )
    assert resp.status == 403
    other = await make_member(client, Role.OFFICER, with_key=True)
    assert (await client.delete(f"{API}/keys/{other.kid}", headers=user.auth)).status == 403


async def test_a_missing_message_costs_what_a_hidden_one_does(
    uncached_client: TestClient[Any, Any],
) -> None:
    """Staff too: a missing message id runs the group lookup (of the nil id) like any other,
    so no caller can time the difference between absent and present-but-hidden."""
    client = uncached_client
    world = await build_world(client)
    await prepare_messages(world)
    runs = []
    for message_id in (_message_id(world, OTHER), str(uuid.uuid4())):
        with recorded_statements(client) as statements:
            resp = await client.get(
                f"{API}/messages/{message_id}", headers=world.headers("officer_in")
            )
        runs.append((resp.status, statements))
    (hidden_status, hidden_sql), (missing_status, missing_sql) = runs
    assert hidden_status == missing_status == 404
    assert len(hidden_sql) >= 3  # the message, the group, the caller's role in it
    assert hidden_sql == missing_sql

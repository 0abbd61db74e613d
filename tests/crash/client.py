"""One load client of the crash tests, a process of its own: `python -m tests.crash.client SPEC`.

It writes without pause (signed posts, seizure reports, uploads named by a post, alerts,
alert acknowledgements, logins and refreshes; the admin client changes memberships) and
appends one JSON line to its journal for each write the server acknowledged, flushed at once.
A write whose answer did not arrive (the server was killed) is sent again as it was, same `cid`,
same bytes, until it is answered: that retry must settle to the write the server may already
have committed. Anything the server must never do (a 500, an acknowledged session refused, a
retry answered with another message) is journalled as a `violation` for the driver to report.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.client.envelopes import alert_body, build_payload, sign_envelope, text_body
from cencomm.client.keystore import LocalKey
from tests.factories import seizure_body

# What a client does, and how often (weights).
OFFICER_OPS = {"post": 5, "seizure": 2, "upload": 2, "alert": 1, "ack": 2, "refresh": 1, "login": 1}
ADMIN_OPS = {"member": 6, "refresh": 1, "login": 1}
OUTCOMES = ("received", "controlled", "nil_find", "seized")
RETRY_STATUSES = {502, 503, 504}
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30)


class Unanswered(Exception):
    """No answer: the server was killed (or is starting); the same request goes again."""


class Journal:
    """The client's file of acknowledged writes, one JSON object a line, flushed per line."""

    def __init__(self, path: Path) -> None:
        self._handle = path.open("a", encoding="utf-8")

    def write(self, kind: str, **fields: Any) -> None:
        self._handle.write(json.dumps({"kind": kind, **fields}, sort_keys=True) + "\n")
        self._handle.flush()


class LoadClient:
    def __init__(self, spec: dict[str, Any], http: aiohttp.ClientSession) -> None:
        self.spec = spec
        self.http = http
        self.rng = random.Random(f"{spec['seed']}-{spec['index']}")
        self.ports: list[int] = spec["ports"]
        self.port = self.ports[spec["index"] % len(self.ports)]
        self.journal = Journal(Path(spec["journal"]))
        self.access = self.refresh_token = ""
        # False once a refresh went unanswered: the retry may find its token used (by design
        # that revokes the session), so a 401 then is no violation.
        self.session_trusted = False
        self.expires_at = 0.0  # when the access token expires (monotonic, with a margin)
        self.acked_outcome: dict[str, int] = {}
        self.counter = 0
        if spec.get("private_key"):
            raw = base64.urlsafe_b64decode(spec["private_key"] + "==")
            self.key: LocalKey | None = LocalKey.from_private_key(
                Ed25519PrivateKey.from_private_bytes(raw)
            )
        else:
            self.key = None

    # -- transport --------------------------------------------------------------------------

    async def _once(
        self, method: str, path: str, *, auth: bool = True, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = dict(kwargs.pop("headers", {}))
        if auth:
            headers["Authorization"] = f"Bearer {self.access}"
        url = f"http://127.0.0.1:{self.port}/api/v1{path}"
        try:
            async with self.http.request(
                method, url, headers=headers, timeout=REQUEST_TIMEOUT, **kwargs
            ) as resp:
                body = await resp.read()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, ConnectionError) as exc:
            raise Unanswered(str(exc)) from None
        if status in RETRY_STATUSES:
            raise Unanswered(f"{status}")
        data = json.loads(body) if body and body[:1] in b"{[" else None
        if status >= 500:
            self.journal.write("violation", what=f"{method} {path} answered {status}", body=data)
            raise Unanswered(f"{status}")
        return status, data

    async def call(
        self, method: str, path: str, *, auth: bool = True, **kwargs: Any
    ) -> tuple[int, Any, bool]:
        """Send until answered (the same request each time; another server process after a
        failure when there are several); returns (status, body, whether it was sent again)."""
        retried = False
        while True:
            try:
                status, data = await self._once(method, path, auth=auth, **kwargs)
            except Unanswered:
                retried = True
                self.port = self.ports[(self.ports.index(self.port) + 1) % len(self.ports)]
                await asyncio.sleep(0.02)  # the server is down: wait for its restart
                continue
            if status == 401 and auth and path != "/auth/refresh":
                if self.session_trusted and time.monotonic() < self.expires_at:
                    self.journal.write("violation", what=f"{method} {path}: session refused")
                await self.login()
                continue
            return status, data, retried

    def expect(self, ok: bool, what: str, status: int, data: Any) -> None:
        if not ok:
            self.journal.write("violation", what=what, status=status, body=data)

    # -- sessions ---------------------------------------------------------------------------

    async def login(self) -> None:
        status, data, _ = await self.call(
            "POST",
            "/auth/login",
            auth=False,
            json={"username": self.spec["username"], "password": self.spec["password"]},
        )
        if status != 200:
            self.expect(False, "login refused", status, data)
            raise SystemExit(2)
        self.access, self.refresh_token = data["access_token"], data["refresh_token"]
        self.expires_at = time.monotonic() + int(data["expires_in"]) - 10
        self.session_trusted = True
        self.journal.write("login", user=self.spec["user_id"])

    async def refresh(self) -> None:
        status, data, retried = await self.call(
            "POST", "/auth/refresh", auth=False, json={"refresh_token": self.refresh_token}
        )
        if status == 200:
            self.access, self.refresh_token = data["access_token"], data["refresh_token"]
            self.expires_at = time.monotonic() + int(data["expires_in"]) - 10
            self.session_trusted = True
            self.journal.write("refresh", user=self.spec["user_id"])
            return
        # Only a retry may find its token used (the first try committed); else a violation.
        self.expect(retried and status == 401, "refresh refused", status, data)
        await self.login()

    # -- writes -----------------------------------------------------------------------------

    def _group(self) -> str:
        return str(self.rng.choice(self.spec["groups"]))

    async def _post(self, kind: str, group: str, payload: dict[str, Any]) -> None:
        assert self.key is not None
        envelope = sign_envelope(payload, self.key)
        status, data, retried = await self.call(
            "POST", f"/groups/{group}/messages", json={"jws": envelope.jws}
        )
        self.expect(status in (200, 201), f"{kind} refused", status, data)
        if status in (200, 201):
            self.expect(
                status == 201 or retried, f"{kind}: a first try found a duplicate", 200, data
            )
            self.journal.write(
                kind, cid=envelope.cid, id=data["id"], seq=data["seq"], group=group,
                user=self.spec["user_id"],
            )  # fmt: skip

    async def post(self) -> None:
        self.counter += 1
        group = self._group()
        text = f"client {self.spec['index']} post {self.counter} {self.rng.getrandbits(64):x}"
        payload = build_payload(
            typ="text", sub=self.spec["user_id"], grp=group, body=text_body(text)
        )
        await self._post("post", group, payload)

    async def seizure(self) -> None:
        group = self._group()
        body = seizure_body(self.spec["country"], notes=f"crash {self.rng.getrandbits(64):x}")
        payload = build_payload(typ="seizure", sub=self.spec["user_id"], grp=group, body=body)
        await self._post("seizure", group, payload)

    async def upload(self) -> None:
        group = self._group()
        size = self.rng.randint(1, 96) * 1024
        data = self.rng.randbytes(size // 2).hex().encode()
        sha256 = hashlib.sha256(data).hexdigest()
        status, answer, _ = await self.call(
            "POST",
            f"/groups/{group}/attachments",
            params={"name": f"evidence-{sha256[:8]}.txt"},
            data=data,
            headers={"Content-Type": "text/plain"},
        )
        self.expect(status in (200, 201), "upload refused", status, answer)
        if status not in (200, 201):
            return
        self.expect(answer["sha256"] == sha256, "upload answered another hash", status, answer)
        self.journal.write("upload", sha256=sha256, size=len(data), group=group)
        att = [{"sha256": sha256, "size": len(data), "name": answer["name"], "type": "text/plain"}]
        text = text_body(f"evidence attached {sha256[:12]}")
        payload = build_payload(typ="text", sub=self.spec["user_id"], grp=group, body=text, att=att)
        await self._post("post", group, payload)

    async def alert(self) -> None:
        body = alert_body(
            f"Alert {self.rng.getrandbits(32):x}", "check consignments", "immediate", True
        )
        payload = build_payload(
            typ="alert", sub=self.spec["user_id"], to={"groups": [self._group()]}, body=body
        )
        assert self.key is not None
        envelope = sign_envelope(payload, self.key)
        status, data, retried = await self.call("POST", "/alerts", json={"jws": envelope.jws})
        self.expect(status in (200, 201), "alert refused", status, data)
        if status in (200, 201):
            self.expect(status == 201 or retried, "alert: a first try found a duplicate", 200, data)
            self.journal.write("alert", cid=envelope.cid, id=data["id"], user=self.spec["user_id"])

    async def ack(self) -> None:
        status, data, _ = await self.call("GET", "/alerts", params={"limit": "50"})
        if status != 200:
            self.expect(False, "alert list refused", status, data)
            return
        open_alerts = [
            a for a in data["alerts"]
            if a["sender"]["id"] != self.spec["user_id"]
            and self.acked_outcome.get(a["id"], -1) < len(OUTCOMES) - 1
        ]  # fmt: skip
        if not open_alerts:
            return
        alert = self.rng.choice(open_alerts)
        step = self.acked_outcome.get(alert["id"], -1) + 1
        if step == 2 and self.rng.random() < 0.5:
            step = 3  # nil_find or straight to seized
        outcome = OUTCOMES[step]
        path = f"/alerts/{alert['id']}/ack"
        status, data, retried = await self.call("POST", path, json={"outcome": outcome})
        if status == 409 and retried:  # the first try committed: moving "forward" to itself
            status, data, _ = await self.call("GET", f"/alerts/{alert['id']}")
            ok = status == 200 and (data.get("my_ack") or {}).get("outcome") == outcome
            self.expect(ok, "ack retry found another outcome", status, data)
        else:
            self.expect(status == 200, "ack refused", status, data)
        if status == 200:
            self.acked_outcome[alert["id"]] = step
            self.journal.write("ack", alert=alert["id"], outcome=outcome, user=self.spec["user_id"])

    async def member(self) -> None:
        """Toggle one roster user's membership of the roster group (the admin client)."""
        roster = self.spec["roster"]
        user = self.rng.choice(roster["users"])
        members = roster.setdefault("state", {})
        adding = not members.get(user, False)
        group = roster["group"]
        self.journal.write("member_intent", group=group, user=user, add=adding)
        if adding:
            status, data, retried = await self.call(
                "POST", f"/groups/{group}/members", json={"user_id": user, "role": "member"}
            )
            ok = status == 201 or (status == 200 and retried)
        else:
            status, data, retried = await self.call(
                "DELETE", f"/groups/{group}/members/{user}", params={"reason": "rotation"}
            )
            # aiohttp itself sends a DELETE again, unseen, when a kept-alive connection closes
            # before the answer (the server was killed after its commit): 404 is then the
            # removal already done. A lost acknowledged add shows in check_memberships instead.
            ok = status in (204, 404)
        self.expect(ok, f"membership {'add' if adding else 'remove'} refused", status, data)
        if ok:
            members[user] = adding
            self.journal.write("member", group=group, user=user, add=adding)

    async def run(self) -> None:
        await self.login()
        ops: dict[str, Callable[[], Awaitable[None]]] = {
            "post": self.post, "seizure": self.seizure, "upload": self.upload,
            "alert": self.alert, "ack": self.ack, "refresh": self.refresh, "login": self.login,
            "member": self.member,
        }  # fmt: skip
        weights = ADMIN_OPS if self.spec["role"] == "admin" else OFFICER_OPS
        names, counts = list(weights), list(weights.values())
        while True:
            await ops[self.rng.choices(names, counts)[0]]()


async def main(spec: dict[str, Any]) -> None:
    async with aiohttp.ClientSession() as http:
        await LoadClient(spec, http).run()


if __name__ == "__main__":
    asyncio.run(main(json.loads(Path(sys.argv[1]).read_text())))

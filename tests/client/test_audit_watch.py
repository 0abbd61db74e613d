"""`cencomm.client` remembers the newest audit tree head it saw: a server that rolls back is caught.

Each later head must extend the remembered one, by an RFC 9162 consistency proof. The server is
the real test server; its database is cut behind its back as a rogue administrator would.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cencomm.appkeys import SERVICES, SETTINGS
from cencomm.client import AuditLogError, CencommClient
from cencomm.domain.audit import AuditRecord
from cencomm.domain.users import Role
from cencomm.services.container import Services
from tests.audit_tampering import cut_tail
from tests.client.helpers import logged_in, server_url
from tests.factories import PASSWORD, make_member
from tests.processes import run_cencomm
from tests.test_audit_verify import tamper


async def _signed_size(client: TestClient[Any, Any], count: int) -> int:
    """Append `count` audit entries, make sure a head covers them; returns the newest size."""
    services: Services = client.app[SERVICES]
    records = [AuditRecord(action="test.event") for _ in range(count)]
    await services.db.write(lambda unit: [services.audit.append(unit, r) for r in records])
    head = await services.audit_log.sign_tree_head()
    if head is None:  # the server's own background round signed it first
        head = await services.db.read(lambda unit: unit.audit_tree.latest_head())
    assert head is not None
    return head.tree_size


async def test_the_client_follows_a_growing_log_and_catches_a_rollback(
    client: TestClient[Any, Any],
) -> None:
    officer = await make_member(client, Role.OFFICER)
    seen: list[int] = []
    api = await logged_in(
        client, officer, key=False, on_tree_head=lambda head: seen.append(head["tree_size"])
    )
    try:
        first = await _signed_size(client, 5)
        assert (await api.tree_head())["tree_size"] == first  # the first one is trusted
        newest = await _signed_size(client, 7)
        assert (await api.tree_head())["tree_size"] == newest  # proven to extend the first
        assert seen == [first, newest]
        remembered = api.newest_tree_head
        assert remembered is not None and remembered["tree_size"] == newest

        # Behind the server's back: the newest entries go, with the tree heads over them.
        url = client.app[SETTINGS].database_url
        await tamper(url, cut_tail(keep=newest - 4, heads_up_to=first))
        with pytest.raises(AuditLogError, match="rolled back"):
            await api.tree_head()
        # The server carries on and its log outgrows the remembered head: still caught.
        await _signed_size(client, 10)
        with pytest.raises(AuditLogError, match="audit log was"):
            await api.tree_head()
        assert api.newest_tree_head == remembered  # what was seen is never forgotten
        assert seen == [first, newest]
    finally:
        await api.__aexit__(None, None, None)


async def test_a_new_client_given_the_saved_head_checks_against_it(
    client: TestClient[Any, Any],
) -> None:
    officer = await make_member(client, Role.OFFICER)
    size = await _signed_size(client, 6)
    api = await logged_in(client, officer, key=False)
    try:
        saved = await api.tree_head()
    finally:
        await api.__aexit__(None, None, None)
    assert saved["tree_size"] == size
    # A head remembered from an earlier run (say, client.json) binds a new client too: here
    # one whose root the server never had, as if the log was rewritten since.
    lines = saved["checkpoint"].split("\n")
    lines[2] = base64.standard_b64encode(bytes(32)).decode()
    remembered = {**saved, "root_hash": "00" * 32, "checkpoint": "\n".join(lines)}
    await _signed_size(client, 1)
    later = CencommClient(server_url(client), tree_head=remembered)
    async with later:
        await later.login(officer.user.username, PASSWORD)
        with pytest.raises(AuditLogError, match="rewritten"):
            await later.tree_head()
        assert later.newest_tree_head == remembered


async def test_the_command_line_keeps_the_head_and_refuses_a_rolled_back_server(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    officer = await make_member(client, Role.OFFICER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENCOMM_")}
    env["CENCOMM_CLIENT_HOME"] = str(tmp_path / "home")
    code, _, err = await run_cencomm(
        env, "client", "login", "--server", server_url(client),
        "--username", officer.user.username, stdin=f"{PASSWORD}\n".encode(),
    )  # fmt: skip
    assert code == 0, err
    first = await _signed_size(client, 3)
    code, out, err = await run_cencomm(env, "client", "whoami")
    assert code == 0, err
    newest = await _signed_size(client, 4)
    code, out, err = await run_cencomm(env, "client", "--json", "tree-head")
    assert code == 0, err
    assert json.loads(out)["tree_size"] == newest
    state_file = tmp_path / "home" / "client.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert json.loads(state_file.read_text())["tree_head"]["tree_size"] == newest

    await tamper(client.app[SETTINGS].database_url, cut_tail(keep=newest - 2, heads_up_to=first))
    code, out, err = await run_cencomm(env, "client", "whoami")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "audit log was rolled back" in err, err
    assert json.loads(state_file.read_text())["tree_head"]["tree_size"] == newest
    code, out, err = await run_cencomm(env, "client", "--json", "tree-head", "--forget")
    assert code == 0, err
    assert json.loads(out)["tree_size"] < newest

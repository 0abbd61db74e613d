"""`cencomm client` seals as people run them: an admin designates a seal holder, the holder
creates and registers the organisation's seal key and countersigns a report; revoked keys stay
listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.crypto.jws import parse_compact, verify_signature
from cencomm.crypto.keys import b64url_decode
from cencomm.domain.users import Role
from tests.client.shell import RUN_ONCE, login_shell, one_line
from tests.factories import add_member, make_group, make_member, post_message

pytestmark = RUN_ONCE


async def test_a_holder_countersigns_a_report_from_the_command_line(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    admin = await make_member(client, Role.ADMIN)
    author = await make_member(client, with_key=True)
    holder = await make_member(client, organization=author.organization)
    group = await make_group(client, admin)
    for member in (author, holder):
        await add_member(client, admin, group, member)
    posted = await post_message(client, author, group, hc="TLP:GREEN")
    org = str(author.organization.id)

    boss = await login_shell(client, tmp_path, admin, group, key=False, name="admin")
    added = await boss.ok("seal-holders", "add", org, holder.id)
    assert added["user_id"] == holder.id and added["organization_id"] == org
    listed = await boss.ok("seal-holders", "list", org)
    assert [h["user_id"] for h in listed["seal_holders"]] == [holder.id]

    shell = await login_shell(client, tmp_path, holder, group, key=False, name="holder")
    seal = tmp_path / "seal.pem"
    made = await shell.ok("org-keys", "create", "--org-key", str(seal))
    assert oct(seal.stat().st_mode & 0o777) == "0o600"
    registered = await shell.ok("org-keys", "register", org, "--org-key", str(seal))
    assert registered["kid"] == made["kid"] and registered["organization_id"] == org

    done = await shell.ok("countersign", posted["id"], "--org-key", str(seal))
    assert done["message_id"] == posted["id"] and done["kid"] == made["kid"]
    code, out, err = await shell.text("countersign", posted["id"], "--org-key", str(seal))
    assert code == 1 and out == "" and "already-countersigned" in one_line(err)

    resp = await client.get(f"/api/v1/messages/{posted['id']}", headers=author.auth)
    [stored] = (await resp.json())["countersignatures"]
    parsed = parse_compact(stored["jws"])
    assert verify_signature(parsed, b64url_decode(made["public_key"]))
    assert parsed.payload["sub"] == holder.id and parsed.payload["org"] == org

    await shell.ok("org-keys", "revoke", org, made["kid"])
    keys = await shell.ok("org-keys", "list", org)
    assert [(k["kid"], k["revoked_at"] is not None) for k in keys["keys"]] == [(made["kid"], True)]

    # The author holds no seal: refused, in one line naming why.
    writer = await login_shell(client, tmp_path, author, group, key=False, name="author")
    code, _, err = await writer.run("countersign", posted["id"], "--org-key", str(seal))
    assert code != 0 and "seal holder" in one_line(err)
    await boss.ok("seal-holders", "remove", org, holder.id)
    assert (await boss.ok("seal-holders", "list", org))["seal_holders"] == []

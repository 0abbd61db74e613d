"""`cencomm client audit head|prove|consistency`: entries proven here against the checked
tree head, and a rolled-back log caught, as people run them (real processes, test server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import update

from cencomm.appkeys import SERVICES, SETTINGS
from cencomm.domain.audit import AuditRecord
from cencomm.domain.users import Role
from cencomm.services.container import Services
from cencomm.storage.tables import AuditEntryRow
from tests.audit_tampering import cut_tail
from tests.client.shell import RUN_ONCE, Shell, login_shell, one_line
from tests.factories import make_group, make_member
from tests.test_audit_verify import tamper

pytestmark = RUN_ONCE


async def _signed_size(client: TestClient[Any, Any], count: int) -> int:
    """Append `count` audit entries and make sure a signed head covers them; its size."""
    services: Services = client.app[SERVICES]
    records = [AuditRecord(action="test.event") for _ in range(count)]
    await services.db.write(lambda unit: [services.audit.append(unit, r) for r in records])
    head = await services.audit_log.sign_tree_head()
    if head is None:  # the server's own background round signed it first
        head = await services.db.read(lambda unit: unit.audit_tree.latest_head())
    assert head is not None
    return head.tree_size


async def _shells(client: TestClient[Any, Any], tmp_path: Path) -> tuple[Shell, Shell]:
    admin = await make_member(client, Role.ADMIN)
    group = await make_group(client, admin)
    staff = await login_shell(client, tmp_path, admin, group, key=False, name="admin")
    officer = await make_member(client, Role.OFFICER)
    return staff, await login_shell(client, tmp_path, officer, group, key=False, name="officer")


async def test_head_prove_and_consistency_then_a_rollback(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    staff, officer = await _shells(client, tmp_path)
    first = await _signed_size(client, 3)
    head = await staff.ok("audit", "head")
    assert head["tree_size"] == first
    assert await staff.ok("tree-head") == head  # the older name still works

    proven = await staff.ok("audit", "prove", str(first - 1))
    assert proven["verified"] is True and proven["tree_size"] == first
    assert proven["entry"]["index"] == first - 1 and proven["entry"]["action"] == "test.event"
    code, out, err = await officer.text("audit", "prove", "0")
    assert code == 0, err
    assert out.startswith("Verified: the leaf hash") and "only admins and moderators" in out
    code, out, err = await officer.run("audit", "prove", str(first + 100))
    assert (code, out) == (1, "")
    assert "not covered by the newest signed tree head" in one_line(err)
    code, out, err = await officer.run("audit", "prove", "-1")
    assert (code, out) == (2, "")
    assert "INDEX is 0 or more" in one_line(err)

    newest = await _signed_size(client, 4)
    code, out, err = await officer.text("audit", "consistency")
    assert code == 0, err
    assert f"({newest} entries) extends" in out, out
    again = await officer.ok("audit", "consistency")
    assert again["previous"]["tree_size"] == again["current"]["tree_size"] == newest

    # Behind the server's back the newest entries go: both sizes named, exit 1.
    await tamper(client.app[SETTINGS].database_url, cut_tail(keep=newest - 2, heads_up_to=first))
    code, out, err = await officer.run("audit", "consistency")
    assert (code, out) == (1, "")
    line = one_line(err)
    assert "rolled back" in line and str(newest) in line, line


async def test_a_rewritten_entry_is_not_verified(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    staff, _ = await _shells(client, tmp_path)
    size = await _signed_size(client, 2)
    await tamper(
        client.app[SETTINGS].database_url,
        update(AuditEntryRow).where(AuditEntryRow.index == size - 1).values(action="forged"),
    )
    code, out, err = await staff.run("audit", "prove", str(size - 1))
    assert (code, out) == (1, "")
    assert "NOT verified" in one_line(err)

"""Evidence in the browser: RFC 9162 proofs checked by app/merkle.js against cencomm.crypto.merkle,
the audit viewer verifying the signed tree head and an entry's inclusion proof (and flagging a
tampered proof, a bad signature and a rolled-back log), and the evidence export downloaded."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from playwright.async_api import Page, Route

from cencomm.appkeys import SERVICES
from cencomm.crypto.merkle import (
    MemorySubtreeSource,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from cencomm.domain.audit import AuditRecord
from cencomm.domain.users import Role
from tests.browser.accessibility import serious_violations
from tests.browser.webclient import PHONE, chromium, open_client, sign_in
from tests.factories import add_member, make_group, make_member, post_message

MAX_SIZE = 70

# The tampered variants: app/merkle.js and this file build each one the same way from a valid
# proof, and the browser's verdict must be Python's on every one of them. Changing only a size
# often keeps the proof's shape (the size is bound by the signed head, not the path), so those
# variants must agree with Python but are not all refused; every other variant is.
SHAPE_ONLY = {"size", "first", "second"}
INCLUSION_KINDS = ["valid", "flip", "drop", "extra", "index", "size", "root", "leaf"]
CONSISTENCY_KINDS = [
    "valid",
    "flip",
    "drop",
    "extra",
    "first",
    "second",
    "first_root",
    "second_root",
]


def _flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


def _inclusion_variant(
    kind: str, i: int, n: int, path: list[bytes], leaves: list[bytes], roots: list[bytes]
) -> tuple[bytes, int, int, list[bytes], bytes]:
    leaf, index, size, proof, root = leaves[i], i, n, list(path), roots[n]
    if kind == "flip":
        if proof:
            k = i % len(proof)
            proof[k] = _flip(proof[k])
        else:
            leaf = _flip(leaf)
    elif kind == "drop":
        proof = proof[:-1] if proof else [roots[n]]
    elif kind == "extra":
        proof = [*proof, roots[n]]
    elif kind == "index":
        index = i + 1 if i + 1 < n else i - 1
    elif kind == "size":
        size = n + 1
    elif kind == "root":
        root = roots[n - 1] if n > 1 else roots[2]
    elif kind == "leaf":
        leaf = leaves[(i + 1) % MAX_SIZE]
    return leaf, index, size, proof, root


def _consistency_variant(
    kind: str, m: int, n: int, path: list[bytes], roots: list[bytes]
) -> tuple[int, int, bytes, bytes, list[bytes]]:
    first, second, first_root, second_root, proof = m, n, roots[m], roots[n], list(path)
    if kind == "flip":
        if proof:
            k = m % len(proof)
            proof[k] = _flip(proof[k])
        else:
            first_root = _flip(first_root)
    elif kind == "drop":
        proof = proof[:-1] if proof else [roots[n]]
    elif kind == "extra":
        proof = [*proof, roots[n]]
    elif kind == "first":
        first = m - 1
    elif kind == "second":
        second = n + 1 if n < MAX_SIZE else n - 1
    elif kind == "first_root":
        first_root = roots[m - 1] if m > 1 else roots[2]
    elif kind == "second_root":
        second_root = roots[n - 1] if n > 1 else roots[2]
    return first, second, first_root, second_root, proof


# The same variants in the page (kept next to the Python above so the two read alike).
VERIFY_IN_PAGE = """
async ({ data, inclusionKinds, consistencyKinds }) => {
  const base = document.getElementById("app").dataset.base;
  const m = await import(`${base}app/merkle.js`);
  const hex = (list) => list.map((h) => m.fromHex(h));
  const leaves = hex(data.leaf_hashes);
  const roots = hex(data.roots);
  const flip = (h) => { const c = new Uint8Array(h); c[0] ^= 1; return c; };
  const problems = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < data.leaves.length; i += 1) {
    const got = m.toHex(await m.leafHash(encoder.encode(data.leaves[i])));
    if (got !== data.leaf_hashes[i]) problems.push(`leaf hash ${i}: ${got}`);
  }
  if (m.toHex(await m.nodeHash(leaves[0], leaves[1])) !== data.roots[2]) problems.push("node hash");
  let checked = 0;
  for (const [i, n, pathHex, expected] of data.inclusion) {
    const path = hex(pathHex);
    for (let k = 0; k < inclusionKinds.length; k += 1) {
      const kind = inclusionKinds[k];
      let leaf = leaves[i], index = i, size = n, proof = [...path], root = roots[n];
      if (kind === "flip") {
        if (proof.length) { const j = i % proof.length; proof[j] = flip(proof[j]); }
        else leaf = flip(leaf);
      } else if (kind === "drop") proof = proof.length ? proof.slice(0, -1) : [roots[n]];
      else if (kind === "extra") proof = [...proof, roots[n]];
      else if (kind === "index") index = i + 1 < n ? i + 1 : i - 1;
      else if (kind === "size") size = n + 1;
      else if (kind === "root") root = n > 1 ? roots[n - 1] : roots[2];
      else if (kind === "leaf") leaf = leaves[(i + 1) % leaves.length];
      const ok = await m.verifyInclusion(leaf, index, size, proof, root);
      checked += 1;
      if (ok !== expected[k]) problems.push(`inclusion ${kind} i=${i} n=${n}: ${ok}`);
    }
  }
  for (const [first0, n, pathHex, expected] of data.consistency) {
    const path = hex(pathHex);
    for (let k = 0; k < consistencyKinds.length; k += 1) {
      const kind = consistencyKinds[k];
      let first = first0, second = n, proof = [...path];
      let firstRoot = roots[first0], secondRoot = roots[n];
      if (kind === "flip") {
        if (proof.length) { const j = first0 % proof.length; proof[j] = flip(proof[j]); }
        else firstRoot = flip(firstRoot);
      } else if (kind === "drop") proof = proof.length ? proof.slice(0, -1) : [roots[n]];
      else if (kind === "extra") proof = [...proof, roots[n]];
      else if (kind === "first") first = first0 - 1;
      else if (kind === "second") second = n < data.leaves.length ? n + 1 : n - 1;
      else if (kind === "first_root") firstRoot = first0 > 1 ? roots[first0 - 1] : roots[2];
      else if (kind === "second_root") secondRoot = n > 1 ? roots[n - 1] : roots[2];
      const ok = await m.verifyConsistency(first, second, firstRoot, secondRoot, proof);
      checked += 1;
      if (ok !== expected[k]) problems.push(`consistency ${kind} m=${first0} n=${n}: ${ok}`);
    }
  }
  // Malformed input is never verified and never throws.
  const bad = [
    await m.verifyInclusion(leaves[0], 0, 1, [], roots[2]),
    await m.verifyInclusion(leaves[0], 0, 1, "nope", roots[1]),
    await m.verifyInclusion(leaves[0], -1, 1, [], roots[1]),
    await m.verifyInclusion(leaves[0], 0, 1.5, [], roots[1]),
    await m.verifyInclusion(new Uint8Array(31), 0, 1, [], roots[1]),
    await m.verifyConsistency(2, 1, roots[2], roots[1], [leaves[0]]),
    await m.verifyConsistency(1, 2, roots[1], roots[2], [new Uint8Array(5)]),
    await m.verifyConsistency(1, 2, null, roots[2], [leaves[1]]),
  ];
  if (bad.some(Boolean)) problems.push(`malformed accepted: ${bad}`);
  if (!(await m.verifyInclusion(leaves[0], 0, 1, [], roots[1]))) problems.push("size 1");
  return { problems, checked };
}
"""


def _count(kinds: list[str], expected: list[bool], tampered: int, refused: int) -> tuple[int, int]:
    for kind, ok in zip(kinds[1:], expected[1:], strict=True):
        if kind not in SHAPE_ONLY:
            tampered += 1
            refused += not ok
    return tampered, refused


def _vectors() -> tuple[dict[str, Any], int, int]:
    datas = [f"entry {i} ✓" for i in range(MAX_SIZE)]
    leaves = [leaf_hash(d.encode()) for d in datas]
    roots = [root_from_leaf_hashes(leaves[:n]) for n in range(MAX_SIZE + 1)]
    source = MemorySubtreeSource(leaves)
    inclusion: list[Any] = []
    consistency: list[Any] = []
    tampered = refused = 0
    for n in range(1, MAX_SIZE + 1):
        for i in range(n):
            path = inclusion_proof(source, i, n)
            expected = [
                verify_inclusion(*_inclusion_variant(kind, i, n, path, leaves, roots))
                for kind in INCLUSION_KINDS
            ]
            assert expected[0], (i, n)
            tampered, refused = _count(INCLUSION_KINDS, expected, tampered, refused)
            inclusion.append([i, n, [h.hex() for h in path], expected])
        for first in range(1, n + 1):
            proof = consistency_proof(source, first, n)
            expected = []
            for kind in CONSISTENCY_KINDS:
                f, s, fr, sr, p = _consistency_variant(kind, first, n, proof, roots)
                expected.append(verify_consistency(f, s, fr, sr, p))
            assert expected[0], (first, n)
            tampered, refused = _count(CONSISTENCY_KINDS, expected, tampered, refused)
            consistency.append([first, n, [h.hex() for h in proof], expected])
    data = {
        "leaves": datas,
        "leaf_hashes": [h.hex() for h in leaves],
        "roots": [h.hex() for h in roots],
        "inclusion": inclusion,
        "consistency": consistency,
    }
    return data, tampered, refused


async def test_merkle_js_agrees_with_python_on_every_proof_up_to_70_leaves(
    client: TestClient[Any, Any],
) -> None:
    data, tampered, refused = _vectors()
    # The variants mean something: Python refuses every one that changes a hash or the path.
    assert refused == tampered > 20_000
    async with chromium() as browser:
        recorded = await open_client(browser, client)
        await recorded.page.get_by_role("button", name="Sign in").wait_for()
        result = await recorded.page.evaluate(
            VERIFY_IN_PAGE,
            {
                "data": data,
                "inclusionKinds": INCLUSION_KINDS,
                "consistencyKinds": CONSISTENCY_KINDS,
            },
        )
        assert result["problems"] == []
        pairs = MAX_SIZE * (MAX_SIZE + 1) // 2
        assert result["checked"] == pairs * (len(INCLUSION_KINDS) + len(CONSISTENCY_KINDS))
        recorded.assert_clean()


async def _append(client: TestClient[Any, Any], count: int) -> None:
    services = client.app[SERVICES]
    records = [AuditRecord(action="test.event", details={"i": i}) for i in range(count)]
    await services.db.write(lambda unit: [services.audit.append(unit, r) for r in records])


async def _tamper_json(route: Route, change: Any) -> None:
    """Answer with the server's own JSON, changed by `change` (a compromised server)."""
    response = await route.fetch()
    body = await response.json()
    change(body)
    await route.fulfill(response=response, body=json.dumps(body))


def _flip_hex(value: str) -> str:
    return ("1" if value[0] != "1" else "2") + value[1:]


async def _remembered_size(page: Page) -> int:
    head = await page.evaluate(
        "() => JSON.parse(localStorage.getItem(`cencomm.treeHead.${location.origin}`))"
    )
    return int(head["tree_size"])


async def test_the_audit_viewer_verifies_the_tree_head_and_inclusion_and_flags_tampering(
    client: TestClient[Any, Any],
) -> None:
    admin = await make_member(client, Role.ADMIN)
    await _append(client, 5)
    async with chromium() as browser:
        recorded = await open_client(browser, client)
        page = recorded.page
        await sign_in(recorded, admin)
        await page.get_by_role("link", name="Audit log").click()
        await page.get_by_role("heading", name="Audit log and evidence").wait_for()
        await page.locator('[data-verified="true"]').wait_for()
        await page.locator('[data-consistency="first"]').wait_for()
        size = await _remembered_size(page)
        shown = page.locator("[data-tree-size]")
        assert await shown.get_attribute("data-tree-size") == str(size)

        # An entry's inclusion proof, checked in the browser against the verified head.
        first = page.locator('tr[data-index="1"]')
        await first.get_by_role("button", name="Check inclusion").click()
        await first.locator('[data-inclusion="included"]').wait_for()
        assert await serious_violations(page) == []

        # A proof altered on its way (or by a lying server) is flagged, not trusted.
        await page.route(
            "**/api/v1/audit/proof/inclusion?*",
            lambda route: _tamper_json(
                route,
                lambda body: body["audit_path"].__setitem__(0, _flip_hex(body["audit_path"][0])),
            ),
        )
        second = page.locator('tr[data-index="2"]')
        await second.get_by_role("button", name="Check inclusion").click()
        failed = second.locator('[data-inclusion="failed"]')
        await failed.wait_for()
        assert await failed.get_attribute("role") == "alert"
        assert "NOT proven" in await failed.inner_text()
        await page.unroute("**/api/v1/audit/proof/inclusion?*")
        await second.get_by_role("button", name="Check inclusion").click()
        await second.locator('[data-inclusion="included"]').wait_for()

        # A tree head whose signature does not verify is shown as NOT verified, and not kept.
        await page.route(
            "**/api/v1/audit/tree-head",
            lambda route: _tamper_json(
                route,
                lambda body: body.__setitem__(
                    "signature",
                    ("B" if body["signature"][0] != "B" else "C") + body["signature"][1:],
                ),
            ),
        )
        await page.get_by_role("button", name="Check again").click()
        alarm = page.locator('[role="alert"][data-verified="false"]')
        await alarm.wait_for()
        assert "NOT verified" in await alarm.inner_text()
        assert await page.locator("[data-consistency]").count() == 0
        assert await _remembered_size(page) == size
        await page.unroute("**/api/v1/audit/tree-head")

        # A head whose fields say another root than the checkpoint it signed is not verified.
        await page.route(
            "**/api/v1/audit/tree-head",
            lambda route: _tamper_json(
                route, lambda body: body.__setitem__("root_hash", _flip_hex(body["root_hash"]))
            ),
        )
        await page.get_by_role("button", name="Check again").click()
        await alarm.get_by_text("does not state the size and root").wait_for()
        await page.unroute("**/api/v1/audit/tree-head")
        await page.get_by_role("button", name="Check again").click()
        await page.locator('[data-verified="true"]').wait_for()
        recorded.assert_clean()


async def test_a_server_that_rolls_its_log_back_is_flagged(client: TestClient[Any, Any]) -> None:
    officer = await make_member(client, Role.OFFICER)
    await _append(client, 3)
    await client.app[SERVICES].audit_log.sign_tree_head()
    async with chromium() as browser:
        recorded = await open_client(browser, client, viewport=PHONE)
        page = recorded.page
        await sign_in(recorded, officer)
        await _append(client, 4)
        await client.app[SERVICES].audit_log.sign_tree_head()
        await page.goto(f"{recorded.origin}/#/audit")
        await page.locator('[data-consistency="first"]').wait_for()
        # Tree heads and proofs are for everyone; the entries only for staff.
        assert await page.get_by_role("heading", name="Audit entries").count() == 0
        seen = await _remembered_size(page)

        # The log grows: the browser checks the consistency proof and remembers the new head.
        await _append(client, 9)
        await client.app[SERVICES].audit_log.sign_tree_head()
        # ...but not with a consistency proof that fails: that is a rewritten log.
        await page.route(
            "**/api/v1/audit/proof/consistency?*",
            lambda route: _tamper_json(
                route, lambda body: body["proof"].__setitem__(0, _flip_hex(body["proof"][0]))
            ),
        )
        await page.get_by_role("button", name="Check again").click()
        await page.locator('[role="alert"][data-consistency="inconsistent"]').wait_for()
        assert await _remembered_size(page) == seen
        await page.unroute("**/api/v1/audit/proof/consistency?*")
        await page.get_by_role("button", name="Check again").click()
        await page.locator('[data-consistency="extends"]').wait_for()
        grown = await _remembered_size(page)
        assert grown >= seen + 9

        # Now the server answers with an older, smaller head it signed itself.
        resp = await client.get("/api/v1/audit/tree-heads", headers=officer.auth)
        older = next(h for h in (await resp.json())["tree_heads"] if h["tree_size"] < grown)
        await page.route(
            "**/api/v1/audit/tree-head",
            lambda route: route.fulfill(
                status=200, content_type="application/json", body=json.dumps(older)
            ),
        )
        await page.get_by_role("button", name="Check again").click()
        alarm = page.locator('[role="alert"][data-consistency="rolled-back"]')
        await alarm.wait_for()
        assert "went back" in await alarm.inner_text()
        # Its signature is genuine: only the memory of this browser catches it.
        assert await page.locator('[data-verified="true"]').count() == 1
        assert await _remembered_size(page) == grown
        assert await serious_violations(page) == []
        await page.reload()
        await page.locator('[role="alert"][data-consistency="rolled-back"]').wait_for()
        # The reader may decide to trust the server's current head again.
        await page.get_by_role("button", name="Forget the earlier tree head").click()
        await page.locator('[data-consistency="first"]').wait_for()
        assert await _remembered_size(page) == older["tree_size"]
        recorded.assert_clean()


async def test_the_evidence_export_downloads_a_zip_with_progress(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod)
    lead = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, lead, role="moderator")
    member = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, member)
    await post_message(client, mod, group, body={"text": "Evidence in the bundle"})
    async with chromium() as browser:
        recorded = await open_client(browser, client)
        page = recorded.page
        await sign_in(recorded, lead)
        await page.goto(f"{recorded.origin}/#/groups/{group['id']}")
        await page.get_by_role("heading", name=group["name"]).wait_for()
        async with page.expect_download() as info:
            await page.get_by_role("button", name="Export evidence (zip)").click()
        download = await info.value
        assert download.suggested_filename.endswith(".zip")
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        with zipfile.ZipFile(saved) as bundle:
            assert bundle.testzip() is None
            assert bundle.namelist()
        await page.get_by_text(f"saved as {download.suggested_filename}").wait_for()
        recorded.assert_clean()

        # A plain member of the group has no export button.
        other = await open_client(browser, client)
        await sign_in(other, member)
        await other.page.goto(f"{other.origin}/#/groups/{group['id']}")
        await other.page.get_by_role("heading", name=group["name"]).wait_for()
        await other.page.get_by_label("Message", exact=True).wait_for()
        assert await other.page.get_by_role("button", name="Export evidence").count() == 0
        other.assert_clean()

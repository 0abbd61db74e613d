"""`cencomm client audit head|prove|consistency`: the server's audit log, checked here.

Every command already checks that the server's newest tree head extends the one this client
saw before (`cli_session.watch_audit_log`); these print what was checked, and prove single
entries against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cencomm.client.api import CencommClient
from cencomm.client.cli_support import EXIT_OK, Context, Handler, UsageError, add_action


def add_parsers(actions: Any) -> None:
    audit = add_action(
        actions,
        "audit",
        help="the audit log: head, prove an entry, check consistency",
        description="Every command checks that the server's audit log extends the newest "
        "tree head this client saw (kept in client.json); a rolled-back log fails with exit 1.",
        example=["cencomm client audit prove 1234", "cencomm client audit consistency"],
    )
    sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    add_action(
        sub,
        "head",
        help="the server's newest signed tree head, checked (same as `tree-head`)",
        example="cencomm client audit head",
    )
    prove = add_action(
        sub,
        "prove",
        help="prove an entry is in the log: its inclusion proof checked here against the "
        "checked tree head (exit 0 verified / 1 not)",
        description="Fetches the entry (admins and moderators; others prove the leaf hash the "
        "server gives) and its inclusion proof, recomputes the leaf hash and the root, and "
        "compares them with the signed tree head this client checked.",
        example="cencomm client audit prove 1234",
    )
    prove.add_argument("index", type=int, metavar="INDEX", help="the entry's index (0, 1, ...)")
    add_action(
        sub,
        "consistency",
        help="check the server's current tree head against the last one this client saw "
        "(exit 1 on a rollback or rewrite)",
        example="cencomm client audit consistency",
    )


def head_text(head: Mapping[str, Any]) -> str:
    return (
        f"Tree head: {head.get('tree_size')} entries, root {head.get('root_hash')}, signed "
        f"{head.get('timestamp')} by audit key {head.get('kid')} (signature checked)."
    )


async def _head(api: CencommClient, ctx: Context) -> int:
    newest = api.newest_tree_head  # checked (and saved) by `watch_audit_log` just before
    ctx.out.result(newest if newest is not None else await api.tree_head(), head_text)
    return EXIT_OK


async def _prove(api: CencommClient, ctx: Context) -> int:
    index: int = ctx.args.index
    if index < 0:
        raise UsageError("INDEX is 0 or more")
    head = api.newest_tree_head or await api.tree_head()
    proven = await api.prove_entry(index, head)  # VerificationError: exit 1, "NOT verified"
    result = {
        "verified": True,
        "index": proven.index,
        "tree_size": proven.tree_size,
        "root_hash": proven.root_hash,
        "leaf_hash": proven.leaf_hash,
        "entry": proven.entry,
    }
    ctx.out.result(result, _proven_text)
    return EXIT_OK


def _proven_text(done: Mapping[str, Any]) -> str:
    entry = done.get("entry")
    what = (
        f"entry {done['index']} ({entry.get('action')} at {entry.get('at')})"
        if isinstance(entry, Mapping)
        else f"the leaf hash {done['leaf_hash']} the server gives for entry {done['index']} "
        "(only admins and moderators may read entries)"
    )
    return (
        f"Verified: {what} is in the audit log of the signed tree head of size "
        f"{done['tree_size']} (root {done['root_hash']})."
    )


async def _consistency(api: CencommClient, ctx: Context) -> int:
    # `watch_audit_log` already proved the current head extends the remembered one, or the
    # command failed with exit 1 naming both sizes before getting here.
    current = api.newest_tree_head or await api.tree_head()
    seen = ctx.seen_tree_head
    result = {
        "consistent": True,
        "previous": _size_root(seen) if seen is not None else None,
        "current": _size_root(current),
    }
    ctx.out.result(result, _consistency_text)
    return EXIT_OK


def _size_root(head: Mapping[str, Any]) -> dict[str, Any]:
    return {"tree_size": head["tree_size"], "root_hash": head["root_hash"]}


def _consistency_text(done: Mapping[str, Any]) -> str:
    current = done["current"]["tree_size"]
    previous = done["previous"]
    if previous is None:
        return (
            f"No tree head seen before: the server's current one ({current} entries) is "
            "trusted from now on."
        )
    if previous["tree_size"] == current:
        return (
            f"Consistent: the server's log is the one this client saw before ({current} entries)."
        )
    return (
        f"Consistent: the server's log ({current} entries) extends the tree head this client "
        f"saw before ({previous['tree_size']} entries)."
    )


_ACTIONS: dict[str, Handler] = {"head": _head, "prove": _prove, "consistency": _consistency}


async def _audit(api: CencommClient, ctx: Context) -> int:
    return await _ACTIONS[ctx.args.audit_command](api, ctx)


HANDLERS: dict[str, Handler] = {"audit": _audit}

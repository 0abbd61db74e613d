"""Runs a parsed `cencomm client ...` command; `cencomm.client.cli` parses and reports errors.

The commands live in one module per family (`cli_<family>.py`), listed in `FAMILIES`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from types import ModuleType

from cencomm.client import (
    cli_alerts,
    cli_analytics,
    cli_attachments,
    cli_audit,
    cli_correlations,
    cli_exports,
    cli_groups,
    cli_import,
    cli_messages,
    cli_seals,
    cli_session,
    cli_timeline,
)
from cencomm.client.api import CencommClient
from cencomm.client.cli_session import (
    client_witnesses,
    head_saver,
    keys_create,
    login,
    watch_audit_log,
)
from cencomm.client.cli_support import Context, Handler, Output, UsageError
from cencomm.client.errors import NotLoggedIn
from cencomm.client.state import StateStore
from cencomm.client.tokens import TokenSet

# Each: `add_parsers(actions)` and `HANDLERS`; the order is the order of `--help`.
FAMILIES: tuple[ModuleType, ...] = (
    cli_session,
    cli_messages,
    cli_timeline,
    cli_groups,
    cli_attachments,
    cli_import,
    cli_alerts,
    cli_analytics,
    cli_correlations,
    cli_audit,
    cli_exports,
    cli_seals,
)

__all__ = ["FAMILIES", "UsageError", "dispatch"]


def _handlers() -> dict[str, Handler]:
    merged: dict[str, Handler] = {}
    for family in FAMILIES:
        for name, handler in family.HANDLERS.items():
            if name in merged:
                raise RuntimeError(f"two client commands are named {name}")
            merged[name] = handler
    return merged


async def dispatch(args: argparse.Namespace, store: StateStore) -> int:
    """Run the parsed `cencomm client` command; errors propagate as `ClientError`s."""
    ctx = Context(args, store, store.load(), Output(bool(getattr(args, "json", False))))
    command: str = args.client_command
    if command == "keys" and args.keys_command == "create":
        return keys_create(ctx)
    # A family's `OFFLINE` commands (say, verify-export) need no login and no server.
    for family in FAMILIES:
        offline: dict[str, Callable[[Context], int]] = getattr(family, "OFFLINE", {})
        if command in offline:
            return offline[command](ctx)
    if command == "login":
        return await login(ctx)
    if command == "tree-head" and args.forget:
        ctx.state.tree_head = None
    handler = _handlers()[command]
    async with _client(ctx) as api:
        await watch_audit_log(api)
        return await handler(api, ctx)


def _client(ctx: Context) -> CencommClient:
    state = ctx.state
    if state.server is None or state.tokens is None:
        raise NotLoggedIn("not logged in")

    def remember(tokens: TokenSet | None) -> None:
        # A refresh token works once: save each new pair at once, or the next run is locked out.
        state.tokens = tokens
        ctx.store.save(state)

    return CencommClient(
        state.server,
        timeout=ctx.args.timeout,
        tokens=state.tokens,
        on_tokens=remember,
        tree_head=state.tree_head,
        on_tree_head=head_saver(ctx),
        witnesses=client_witnesses(ctx.args),
    )

"""`cencomm client` login, logout, whoami, keys and tree-head."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cencomm.client.api import CencommClient
from cencomm.client.cli_support import (
    EXIT_OK,
    Context,
    Handler,
    UsageError,
    add_action,
    add_key_options,
    first_line,
    load_key,
    read_password,
)
from cencomm.client.errors import ProblemError
from cencomm.client.keystore import create_key_file
from cencomm.client.session import server_root
from cencomm.verification.cosigned import WitnessPolicy, witness_policy

KEY_COLUMNS = (
    ("kid", "KID"),
    ("label", "LABEL"),
    ("created_at", "CREATED"),
    ("revoked_at", "REVOKED"),
)


def add_parsers(actions: Any) -> None:
    login = add_action(
        actions,
        "login",
        help="log in and save the tokens (password from stdin, or asked)",
        example="cencomm client login --server https://cencomm.example --username officer.fr",
    )
    login.add_argument("--server", help="server URL, e.g. https://cencomm.example (default: saved)")
    login.add_argument("--username", required=True)
    login.add_argument("--otp", help="TOTP code, when two-factor authentication is on")
    add_action(
        actions,
        "logout",
        help="end the session on the server and forget the tokens",
        example="cencomm client logout",
    )
    add_action(
        actions, "whoami", help="show the logged-in user (GET /me)", example="cencomm client whoami"
    )

    keys = add_action(
        actions,
        "keys",
        help="signing keys: create, register, list, revoke",
        example=[
            "cencomm client keys create --passphrase-file ~/.cencomm-pass",
            "cencomm client keys register --label laptop",
        ],
    )
    key_actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = add_action(
        key_actions,
        "create",
        help="create an Ed25519 key file (mode 0600)",
        example="cencomm client keys create --key-file ~/laptop.pem --ask-passphrase",
    )
    create.add_argument("--key-file", type=Path, help="where (default: HOME/signing-key.pem)")
    secret = create.add_mutually_exclusive_group()
    secret.add_argument(
        "--passphrase-file", type=Path, help="encrypt with the passphrase on this file's first line"
    )
    secret.add_argument(
        "--ask-passphrase", action="store_true", help="encrypt with a passphrase typed twice"
    )
    register = add_action(
        key_actions,
        "register",
        help="register the key's public half (POST /keys)",
        example="cencomm client keys register --label laptop",
    )
    add_key_options(register)
    register.add_argument("--label", help="a name for the key, e.g. the device")
    listing = add_action(
        key_actions,
        "list",
        help="list keys, revoked ones included",
        example="cencomm client keys list --user USER_ID",
    )
    listing.add_argument("--user", help="user id (default: yourself)")
    revoke = add_action(
        key_actions,
        "revoke",
        help="revoke a key by kid",
        description="A kid may start with '-' (base64url): then write `keys revoke -- KID`.",
        example="cencomm client keys revoke -- KID",
    )
    revoke.add_argument("kid")

    head = add_action(
        actions,
        "tree-head",
        help="show the server's newest audit tree head, checked against the one seen before",
        description="Every command checks that the server's audit log extends the newest tree "
        "head this client saw (kept in client.json); this one prints the head.",
        example="cencomm client tree-head",
    )
    head.add_argument(
        "--forget",
        action="store_true",
        help="forget the remembered head and trust the server's current one (only after the "
        "operator explained a reported rollback)",
    )


def head_saver(ctx: Context) -> Callable[[dict[str, Any]], None]:
    def remember(head: dict[str, Any]) -> None:
        ctx.state.tree_head = head
        ctx.store.save(ctx.state)

    return remember


def client_witnesses(args: argparse.Namespace) -> WitnessPolicy | None:
    """The `--witness`/`--quorum` policy every tree head must meet (None: no witnesses).

    Raises:
        UsageError: a bad key or quorum.
    """
    try:
        return witness_policy(getattr(args, "witness", ()), getattr(args, "quorum", None))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


async def watch_audit_log(api: CencommClient) -> None:
    """Before every command, the server's audit log must extend the newest tree head this
    client saw (an RFC 9162 consistency proof), so a server that rolled its log back is
    caught by any client; raises `AuditLogError`. Users who must enrol in MFA first may not
    read tree heads yet: for them the check waits."""
    try:
        await api.tree_head()
    except ProblemError as exc:
        if exc.slug != "mfa-enrolment-required":
            raise


async def login(ctx: Context) -> int:
    args, state = ctx.args, ctx.state
    server = args.server or state.server
    if not server:
        raise UsageError("give --server URL (no server saved yet)")
    password = read_password()
    if server_root(server) != state.server:
        state.tree_head = None  # a head seen on another server says nothing about this one
    async with CencommClient(
        server,
        timeout=args.timeout,
        tree_head=state.tree_head,
        on_tree_head=head_saver(ctx),
        witnesses=client_witnesses(args),
    ) as api:
        # Only ever sent back to the server that issued it (usernames compare case-insensitively).
        api.device_token = state.device_tokens.get(_device_key(api.base_url, args.username))
        tokens = await api.login(args.username, password, args.otp)
        me = await api.me()
        state.server = api.base_url
        state.username = str(me["username"])
        state.user_id = str(me["id"])
        state.tokens = tokens
        if api.device_token is not None:
            state.device_tokens[_device_key(api.base_url, state.username)] = api.device_token
        ctx.store.save(state)
        await watch_audit_log(api)
    ctx.out.result(
        {"server": state.server, "user_id": state.user_id, "username": state.username},
        lambda done: f"Logged in to {done['server']} as {done['username']}.",
    )
    return EXIT_OK


def _device_key(server: str, username: str) -> str:
    return f"{username.strip().lower()} {server}"


async def _logout(api: CencommClient, ctx: Context) -> int:
    await api.logout()  # the token listener clears the tokens in the saved state
    ctx.out.result({"logged_out": True}, lambda _: "Logged out.")
    return EXIT_OK


async def _whoami(api: CencommClient, ctx: Context) -> int:
    ctx.out.result(await api.me())
    return EXIT_OK


def keys_create(ctx: Context) -> int:
    args = ctx.args
    passphrase: str | None = None
    if args.passphrase_file is not None:
        passphrase = first_line(args.passphrase_file, "passphrase")
    elif args.ask_passphrase:
        passphrase = getpass.getpass("Passphrase for the new key: ")
        if passphrase != getpass.getpass("Repeat the passphrase: "):
            raise UsageError("the passphrases differ")
    path = (
        Path(args.key_file).expanduser()
        if args.key_file is not None
        else ctx.store.default_key_file()
    )
    key = create_key_file(path, passphrase)
    ctx.state.key_file = str(path.resolve())
    ctx.store.save(ctx.state)
    ctx.out.result(
        {
            "kid": key.kid,
            "public_key": key.public_key,
            "key_file": ctx.state.key_file,
            "encrypted": passphrase is not None,
        }
    )
    return EXIT_OK


async def _keys(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    action: str = args.keys_command
    if action == "register":
        key = load_key(ctx)
        ctx.out.result(await api.register_key(args.label, key=key))
        if key.path is not None and ctx.state.key_file != str(key.path.resolve()):
            ctx.state.key_file = str(key.path.resolve())
            ctx.store.save(ctx.state)
    elif action == "list":
        ctx.out.rows(await api.list_keys(args.user), KEY_COLUMNS, key="keys")
    elif action == "revoke":
        await api.revoke_key(args.kid)
        ctx.out.result({"revoked": args.kid}, lambda done: f"Revoked key {done['revoked']}.")
    return EXIT_OK


async def _tree_head(api: CencommClient, ctx: Context) -> int:
    newest = api.newest_tree_head  # checked (and saved) by `watch_audit_log` just before
    ctx.out.result(newest if newest is not None else await api.tree_head())
    return EXIT_OK


HANDLERS: dict[str, Handler] = {
    "logout": _logout,
    "whoami": _whoami,
    "keys": _keys,
    "tree-head": _tree_head,
}

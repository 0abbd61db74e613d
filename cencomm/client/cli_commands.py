"""The actions behind `cencomm client ...`; `cencomm.client.cli` parses and reports errors."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cencomm.client.api import CencommClient
from cencomm.client.errors import ClientError, NotLoggedIn, ProblemError
from cencomm.client.keystore import (
    LocalKey,
    create_key_file,
    is_encrypted_key_file,
    load_key_file,
)
from cencomm.client.session import server_root
from cencomm.client.state import ClientState, StateStore
from cencomm.client.tokens import TokenSet

EXIT_OK = 0


class UsageError(ClientError):
    """Bad or missing arguments that argparse cannot catch on its own."""


@dataclass(slots=True)
class Context:
    """One command's arguments, state store and loaded state."""

    args: argparse.Namespace
    store: StateStore
    state: ClientState


def emit(value: Any) -> None:
    """One JSON value on one stdout line."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")


def _first_line(path: Path, what: str) -> str:
    if str(path) == "-":
        return sys.stdin.readline().rstrip("\r\n")
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline().rstrip("\r\n")
    except OSError as exc:
        raise UsageError(f"cannot read the {what} from {path}: {exc.strerror}") from None


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\r\n")


async def dispatch(args: argparse.Namespace, store: StateStore) -> int:
    """Run the parsed `cencomm client` command; errors propagate as `ClientError`s."""
    ctx = Context(args, store, store.load())
    command: str = args.client_command
    if command == "keys" and args.keys_command == "create":
        return _keys_create(ctx)
    if command == "login":
        return await _login(ctx)
    if command == "tree-head" and args.forget:
        ctx.state.tree_head = None
    handler = _HANDLERS[command]
    async with _client(ctx) as api:
        await _watch_audit_log(api)
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
        on_tree_head=_head_saver(ctx),
    )


def _head_saver(ctx: Context) -> Callable[[dict[str, Any]], None]:
    def remember(head: dict[str, Any]) -> None:
        ctx.state.tree_head = head
        ctx.store.save(ctx.state)

    return remember


async def _watch_audit_log(api: CencommClient) -> None:
    """Before every command, the server's audit log must extend the newest tree head this
    client saw (an RFC 9162 consistency proof), so a server that rolled its log back is
    caught by any client; raises `AuditLogError`. Users who must enrol in MFA first may not
    read tree heads yet: for them the check waits."""
    try:
        await api.tree_head()
    except ProblemError as exc:
        if exc.slug != "mfa-enrolment-required":
            raise


async def _login(ctx: Context) -> int:
    args, state = ctx.args, ctx.state
    server = args.server or state.server
    if not server:
        raise UsageError("give --server URL (no server saved yet)")
    password = _read_password()
    if server_root(server) != state.server:
        state.tree_head = None  # a head seen on another server says nothing about this one
    async with CencommClient(
        server, timeout=args.timeout, tree_head=state.tree_head, on_tree_head=_head_saver(ctx)
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
        await _watch_audit_log(api)
    emit({"server": state.server, "user_id": state.user_id, "username": state.username})
    return EXIT_OK


def _device_key(server: str, username: str) -> str:
    return f"{username.strip().lower()} {server}"


async def _logout(api: CencommClient, ctx: Context) -> int:
    await api.logout()  # the token listener clears the tokens in the saved state
    emit({"logged_out": True})
    return EXIT_OK


async def _whoami(api: CencommClient, ctx: Context) -> int:
    emit(await api.me())
    return EXIT_OK


def _key_path(ctx: Context) -> Path:
    if getattr(ctx.args, "key_file", None) is not None:
        return Path(ctx.args.key_file).expanduser()
    if ctx.state.key_file:
        return Path(ctx.state.key_file)
    return ctx.store.default_key_file()


def _keys_create(ctx: Context) -> int:
    args = ctx.args
    passphrase: str | None = None
    if args.passphrase_file is not None:
        passphrase = _first_line(args.passphrase_file, "passphrase")
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
    emit(
        {
            "kid": key.kid,
            "public_key": key.public_key,
            "key_file": ctx.state.key_file,
            "encrypted": passphrase is not None,
        }
    )
    return EXIT_OK


def _load_key(ctx: Context) -> LocalKey:
    path = _key_path(ctx)
    passphrase: str | None = None
    if ctx.args.passphrase_file is not None:
        passphrase = _first_line(ctx.args.passphrase_file, "passphrase")
    elif is_encrypted_key_file(path):
        if not sys.stdin.isatty():
            raise UsageError(f"{path} is encrypted: give --passphrase-file")
        passphrase = getpass.getpass(f"Passphrase for {path}: ")
    return load_key_file(path, passphrase)


async def _keys(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    action: str = args.keys_command
    if action == "register":
        key = _load_key(ctx)
        emit(await api.register_key(args.label, key=key))
        if key.path is not None and ctx.state.key_file != str(key.path.resolve()):
            ctx.state.key_file = str(key.path.resolve())
            ctx.store.save(ctx.state)
    elif action == "list":
        emit({"keys": await api.list_keys(args.user)})
    elif action == "revoke":
        await api.revoke_key(args.kid)
        emit({"revoked": args.kid})
    return EXIT_OK


def _text_argument(args: argparse.Namespace) -> str:
    if args.text is None:
        raise UsageError("give --text (or --seizure FILE)")
    return sys.stdin.read() if args.text == "-" else str(args.text)


def _seizure_report(path: Path) -> dict[str, Any]:
    try:
        raw = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        report = json.loads(raw)
    except ValueError as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from None
    if not isinstance(report, dict):
        raise UsageError(f"{path} must hold a JSON object (the seizure report)")
    return report


async def _post(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    if args.seizure is not None and args.text is not None:
        raise UsageError("--seizure takes no --text")
    # Read the inputs before the key, so a usage error never asks for a passphrase.
    if args.seizure is not None:
        typ, body = "seizure", _seizure_report(args.seizure)
    elif args.notice is not None:
        typ, body = "notice", {"title": args.notice, "text": _text_argument(args)}
    else:
        typ, body = "text", {"text": _text_argument(args)}
    # The group before the key too: an unknown code fails before a passphrase is asked for.
    group_id = await api.resolve_group(args.group)
    api.use_key(_load_key(ctx))
    posted = await api.post_envelope(group_id, typ, body, hc=args.hc, reply_to=args.reply_to)
    emit(
        {
            "id": posted.id,
            "seq": posted.seq,
            "created_at": posted.created_at,
            "cid": posted.cid,
            "replayed": posted.replayed,
        }
    )
    return EXIT_OK


async def _read(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    if not 1 <= args.limit <= 500:
        raise UsageError("--limit must be between 1 and 500")
    group_id = await api.resolve_group(args.group)
    async for message in api.timeline(group_id, after=args.after, limit=args.limit):
        emit(message if args.jws else readable(message))
    return EXIT_OK


def readable(message: dict[str, Any]) -> dict[str, Any]:
    """A message for people: its decoded `content` (what was signed), without the JWS string
    (`cencomm client verify` checks the proof; `read --jws` prints it)."""
    return {name: value for name, value in message.items() if name != "jws"}


async def _tree_head(api: CencommClient, ctx: Context) -> int:
    newest = api.newest_tree_head  # checked (and saved) by `_watch_audit_log` just before
    emit(newest if newest is not None else await api.tree_head())
    return EXIT_OK


async def _verify(api: CencommClient, ctx: Context) -> int:
    message = await api.get_message(ctx.args.message)
    verified = await api.verify_with_server(message)
    emit(
        {
            "verified": True,
            "id": verified.message_id,
            "group_id": verified.group_id,
            "seq": verified.seq,
            "sender_id": verified.sender_id,
            "kid": verified.kid,
            "key_revoked_at": verified.key_revoked_at,
            "typ": verified.typ,
            "hc": verified.hc,
            "cid": verified.cid,
            "iat": verified.iat,
        }
    )
    return EXIT_OK


_HANDLERS: dict[str, Callable[[CencommClient, Context], Awaitable[int]]] = {
    "logout": _logout,
    "whoami": _whoami,
    "keys": _keys,
    "post": _post,
    "read": _read,
    "verify": _verify,
    "tree-head": _tree_head,
}

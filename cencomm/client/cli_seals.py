"""`cencomm client` organisation seals: countersign a message, seal keys, seal holders.

An administration's seal key is an Ed25519 key file like a signing key (`org-keys create`
writes one, mode 0600), registered for the organisation by an admin or one of its seal holders;
a seal holder then countersigns their organisation's messages with it.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

from cencomm.client.api import CencommClient
from cencomm.client.cli_support import (
    EXIT_OK,
    Context,
    Handler,
    UsageError,
    add_action,
    first_line,
)
from cencomm.client.keystore import (
    LocalKey,
    create_key_file,
    is_encrypted_key_file,
    load_key_file,
)

KEY_COLUMNS = (
    ("kid", "KID"),
    ("label", "LABEL"),
    ("created_at", "CREATED"),
    ("revoked_at", "REVOKED"),
)
HOLDER_COLUMNS = (("user_id", "USER"), ("designated_at", "DESIGNATED"))


def _seal_key_options(parser: Any, *, required: bool = True) -> None:
    parser.add_argument(
        "--org-key",
        type=Path,
        required=required,
        metavar="FILE",
        help="the organisation's seal key file (PKCS#8 PEM, mode 0600)",
    )
    parser.add_argument(
        "--passphrase-file",
        type=Path,
        help="read the seal key's passphrase from the first line of this file "
        "(else asked on the terminal when the key is encrypted)",
    )


def add_parsers(actions: Any) -> None:
    countersign = add_action(
        actions,
        "countersign",
        help="countersign a message with your organisation's seal key (seal holders): the "
        "seal covers the SHA-256 of the message's JWS",
        example="cencomm client countersign 3f2c...e9 --org-key ~/seal.pem",
    )
    countersign.add_argument("message", metavar="MESSAGE_ID", help="the message's id")
    _seal_key_options(countersign)

    org_keys = add_action(
        actions,
        "org-keys",
        help="an organisation's seal keys: create a key file, register, list, revoke",
        example=[
            "cencomm client org-keys create --org-key ~/seal.pem",
            "cencomm client org-keys register ORG_ID --org-key ~/seal.pem --label 2026",
            "cencomm client org-keys list ORG_ID",
        ],
    )
    key_actions = org_keys.add_subparsers(dest="org_keys_command", required=True, metavar="ACTION")
    create = add_action(
        key_actions,
        "create",
        help="create a seal key file (mode 0600; never overwrites)",
        example="cencomm client org-keys create --org-key ~/seal.pem",
    )
    _seal_key_options(create)
    register = add_action(
        key_actions,
        "register",
        help="register a seal key for the organisation (admins, its seal holders)",
        example="cencomm client org-keys register ORG_ID --org-key ~/seal.pem",
    )
    register.add_argument("organization", metavar="ORG_ID", help="the organisation's id")
    register.add_argument("--label", help="a label for the key")
    _seal_key_options(register)
    listing = add_action(
        key_actions,
        "list",
        help="the organisation's seal keys, revoked ones included",
        example="cencomm client org-keys list ORG_ID",
    )
    listing.add_argument("organization", metavar="ORG_ID", help="the organisation's id")
    revoke = add_action(
        key_actions,
        "revoke",
        help="revoke a seal key (admins, the organisation's seal holders)",
        example="cencomm client org-keys revoke ORG_ID KID",
    )
    revoke.add_argument("organization", metavar="ORG_ID", help="the organisation's id")
    revoke.add_argument("kid", metavar="KID", help="the seal key's kid")

    holders = add_action(
        actions,
        "seal-holders",
        help="an organisation's seal holders (admins): list, add, remove",
        example="cencomm client seal-holders add ORG_ID USER_ID",
    )
    holder_actions = holders.add_subparsers(
        dest="seal_holders_command", required=True, metavar="ACTION"
    )
    for name, text in (
        ("list", "the organisation's seal holders"),
        ("add", "make a user of the organisation a seal holder"),
        ("remove", "take a seal holder's designation away"),
    ):
        action = add_action(
            holder_actions, name, help=text, example=f"cencomm client seal-holders {name} ORG_ID"
        )
        action.add_argument("organization", metavar="ORG_ID", help="the organisation's id")
        if name != "list":
            action.add_argument("user", metavar="USER_ID", help="the user's id")


def _passphrase(ctx: Context, path: Path, *, new: bool = False) -> str | None:
    passphrase_file = getattr(ctx.args, "passphrase_file", None)
    if passphrase_file is not None:
        return first_line(passphrase_file, "passphrase")
    if new or not is_encrypted_key_file(path):
        return None
    if not sys.stdin.isatty():
        raise UsageError(f"{path} is encrypted: give --passphrase-file")
    return getpass.getpass(f"Passphrase for {path}: ")


def load_seal_key(ctx: Context) -> LocalKey:
    path = Path(ctx.args.org_key).expanduser()
    return load_key_file(path, _passphrase(ctx, path))


def _create_seal_key(ctx: Context) -> dict[str, Any]:
    path = Path(ctx.args.org_key).expanduser()
    key = create_key_file(path, _passphrase(ctx, path, new=True))
    return {"kid": key.kid, "public_key": key.public_key, "key_file": str(path)}


async def _countersign(api: CencommClient, ctx: Context) -> int:
    key = load_seal_key(ctx)
    # Network failures are retried with the very same JWS (answered 200 if it got through).
    done = await api.countersign(ctx.args.message, key)
    ctx.out.result(
        done,
        lambda d: (
            f"Countersigned message {d['message_id']} with seal key {d['kid']} "
            f"of organisation {d['organization_id']}."
        ),
    )
    return EXIT_OK


async def _org_keys(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    action: str = args.org_keys_command
    if action == "create":
        ctx.out.result(_create_seal_key(ctx))
    elif action == "register":
        key = load_seal_key(ctx)
        ctx.out.result(await api.register_organization_key(args.organization, key, args.label))
    elif action == "list":
        keys = await api.list_organization_keys(args.organization)
        ctx.out.rows(keys, KEY_COLUMNS, key="keys")
    else:
        await api.revoke_organization_key(args.organization, args.kid)
        ctx.out.result({"revoked": args.kid}, lambda done: f"Revoked seal key {done['revoked']}.")
    return EXIT_OK


async def _seal_holders(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    action: str = args.seal_holders_command
    if action == "list":
        holders = await api.list_seal_holders(args.organization)
        ctx.out.rows(holders, HOLDER_COLUMNS, key="seal_holders")
    elif action == "add":
        ctx.out.result(await api.designate_seal_holder(args.organization, args.user))
    else:
        await api.remove_seal_holder(args.organization, args.user)
        ctx.out.result(
            {"removed": args.user}, lambda done: f"{done['removed']} no longer holds the seal."
        )
    return EXIT_OK


HANDLERS: dict[str, Handler] = {
    "countersign": _countersign,
    "org-keys": _org_keys,
    "seal-holders": _seal_holders,
}

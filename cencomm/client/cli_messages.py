"""`cencomm client` post (with attachments), read, verify; follow, search, hide and unhide
live in `cli_timeline`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cencomm.client.api import CencommClient
from cencomm.client.cli_attachments import (
    add_upload_options,
    att_entries,
    check_files,
    upload_files,
)
from cencomm.client.cli_render import message_text
from cencomm.client.cli_support import (
    EXIT_OK,
    HANDLING_CODES,
    Context,
    Handler,
    UsageError,
    add_action,
    add_key_options,
    check_limit,
    load_key,
)
from cencomm.client.errors import ClientError


def add_parsers(actions: Any) -> None:
    post = add_action(
        actions,
        "post",
        help="sign and post a text, notice or seizure report",
        example=[
            'cencomm client post --group STOP-2020 --text "Container MSCU1234567 flagged"',
            "cencomm client post --group STOP-2020 --seizure report.json --hc TLP:GREEN",
            "cencomm client post --group STOP-2020 --seizure report.json --attach photo.jpg",
            'cencomm client post --group STOP-2020 --reply-to MESSAGE_ID --text "Confirmed"',
        ],
    )
    post.add_argument("--group", required=True, help="the group's code (STOP-2020) or id")
    kind = post.add_mutually_exclusive_group()
    kind.add_argument(
        "--notice", metavar="TITLE", help="post a notice with this title (and --text)"
    )
    kind.add_argument(
        "--seizure",
        type=Path,
        metavar="FILE",
        help="post the seizure report in FILE.json ('-': stdin)",
    )
    post.add_argument("--text", help="the text ('-': read stdin)")
    post.add_argument("--hc", default="TLP:AMBER", choices=HANDLING_CODES, help="handling code")
    post.add_argument("--reply-to", help="id of the message this answers")
    post.add_argument(
        "--attach",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="upload FILE to the group and name it in the signed message (repeatable)",
    )
    add_upload_options(post)
    add_key_options(post)

    read = add_action(
        actions,
        "read",
        help="print a group's messages with their readable content",
        example="cencomm client read --group STOP-2020 --after 120",
    )
    read.add_argument("--group", required=True, help="the group's code (STOP-2020) or id")
    read.add_argument("--after", type=int, default=0, help="only messages after this seq")
    read.add_argument("--limit", type=int, default=100, help="page size (1-500)")
    read.add_argument(
        "--jws",
        action="store_true",
        help="also print each message's verbatim JWS (by default only its readable content)",
    )

    verify = add_action(
        actions,
        "verify",
        help="verify a message against its sender's published keys (exit 0 / 1)",
        example="cencomm client verify --message MESSAGE_ID",
    )
    verify.add_argument("--message", required=True, help="message id")


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
    files = check_files(list(args.attach), args.max_bytes)
    # The group before the key too: an unknown code fails before a passphrase is asked for.
    group_id = await api.resolve_group(args.group)
    group = await api.get_group(group_id)
    if group.get("my_role") == "observer":
        # The server would refuse it (403); say so before a key or upload is needed.
        raise ClientError(f"you are an observer of {group.get('code')}: observers may not post")
    api.use_key(load_key(ctx))
    # Uploaded first: the signed `att` entries name each file by its hash and size.
    att = att_entries(await upload_files(api, group_id, files)) if files else None
    posted = await api.post_envelope(
        group_id, typ, body, hc=args.hc, reply_to=args.reply_to, att=att
    )
    ctx.out.result(
        {
            "id": posted.id,
            "seq": posted.seq,
            "created_at": posted.created_at,
            "cid": posted.cid,
            "replayed": posted.replayed,
            "att": att or [],
        },
        lambda done: (
            f"{'Already posted' if done['replayed'] else 'Posted'} as #{done['seq']} "
            f"(id {done['id']}, {done['created_at']})"
            + "".join(f"\n  attached {a['name']} ({a['size']} bytes)" for a in done["att"])
        ),
    )
    return EXIT_OK


async def _read(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    check_limit(args.limit)
    group_id = await api.resolve_group(args.group)
    async for message in api.timeline(group_id, after=args.after, limit=args.limit):
        shown = message if args.jws else readable(message)
        ctx.out.result(shown, lambda m: shown_text(m, jws=args.jws))
    return EXIT_OK


def shown_text(message: dict[str, Any], *, jws: bool) -> str:
    """A message for people, and its JWS line when asked for (`--jws`)."""
    text = message_text(message)
    return f"{text}\n  jws: {message.get('jws')}" if jws else text


def readable(message: dict[str, Any]) -> dict[str, Any]:
    """A message for people: its decoded `content` (what was signed), without the JWS string
    (`cencomm client verify` checks the proof; `read --jws` prints it)."""
    return {name: value for name, value in message.items() if name != "jws"}


async def _verify(api: CencommClient, ctx: Context) -> int:
    message = await api.get_message(ctx.args.message)
    verified = await api.verify_with_server(message)
    ctx.out.result(
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
        },
        lambda v: (
            f"Verified: message {v['id']} (#{v['seq']}, {v['typ']}, {v['hc']}) was signed by "
            f"user {v['sender_id']} with key {v['kid']}"
            + (f" (revoked at {v['key_revoked_at']})" if v["key_revoked_at"] else "")
            + "."
        ),
    )
    return EXIT_OK


HANDLERS: dict[str, Handler] = {"post": _post, "read": _read, "verify": _verify}

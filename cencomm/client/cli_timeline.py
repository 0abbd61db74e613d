"""`cencomm client` follow (live), search (with the API's filters), hide and unhide."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

from cencomm.client.api import CencommClient
from cencomm.client.cli_messages import readable, shown_text
from cencomm.client.cli_render import message_text
from cencomm.client.cli_support import (
    EXIT_OK,
    Context,
    Handler,
    UsageError,
    add_action,
    check_limit,
)

MESSAGE_TYPES = ("text", "notice", "seizure")


def add_parsers(actions: Any) -> None:
    follow = add_action(
        actions,
        "follow",
        help="print a group's new messages as they arrive (live, until Ctrl-C)",
        description="Follow groups live over the WebSocket (GET /api/v1/ws): messages after "
        "--after (default: the newest one now) in seq order, then each new one as it is "
        "posted, with no gap and no duplicate. Ctrl-C stops it.",
        example=[
            "cencomm client follow --group STOP-2020",
            "cencomm client follow --group STOP-2020 --after 120 --count 10",
        ],
    )
    follow.add_argument(
        "--group", required=True, action="append", help="a group's code or id (repeatable)"
    )
    follow.add_argument(
        "--after", type=int, help="resume after this seq (default: only messages from now on)"
    )
    follow.add_argument("--count", type=int, help="stop after printing this many messages")
    follow.add_argument(
        "--until-seq", type=int, help="stop after the message with this seq (one group only)"
    )
    follow.add_argument("--jws", action="store_true", help="also print each message's JWS")

    search = add_action(
        actions,
        "search",
        help="search the messages you may read, newest first (GET /search)",
        description="Words match case-insensitively and by prefix in text, titles, item "
        "descriptions, categories, locations and HS codes.",
        example=[
            'cencomm client search "surgical masks" --group STOP-2020',
            "cencomm client search masks --typ seizure --from 2020-04-01 --country FR",
        ],
    )
    search.add_argument("words", nargs="+", help="the words to look for")
    search.add_argument("--group", help="only this group (code or id)")
    search.add_argument("--typ", choices=MESSAGE_TYPES, help="only this kind of message")
    search.add_argument("--from", dest="from_", metavar="YYYY-MM-DD", help="from this day")
    search.add_argument("--to", metavar="YYYY-MM-DD", help="up to this day, inclusive")
    search.add_argument("--country", help="the sender organisation's country (ISO alpha-2)")
    search.add_argument("--category", help="seizure reports with an item of this category")
    search.add_argument("--sender-org", help="the sender's organisation id")
    search.add_argument("--limit", type=int, default=50, help="at most this many (1-500)")

    hide = add_action(
        actions,
        "hide",
        help="hide a message, with a reason (group moderators, admins, moderators)",
        example='cencomm client hide --message MESSAGE_ID --reason "posted to the wrong group"',
    )
    hide.add_argument("--message", required=True, help="message id")
    hide.add_argument("--reason", required=True, help="why (shown to readers)")
    unhide = add_action(
        actions,
        "unhide",
        help="show a hidden message again (group moderators, admins, moderators)",
        example="cencomm client unhide --message MESSAGE_ID",
    )
    unhide.add_argument("--message", required=True, help="message id")


async def _follow(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    if args.count is not None and args.count < 1:
        raise UsageError("--count must be at least 1")
    if args.after is not None and args.after < 0:
        raise UsageError("--after must not be negative")
    if args.until_seq is not None and len(args.group) > 1:
        raise UsageError("--until-seq needs exactly one --group")
    groups: dict[str, int] = {}
    for name in args.group:
        group_id = await api.resolve_group(name)
        if args.after is not None:
            groups[group_id] = args.after
        else:
            groups[group_id] = int((await api.get_group(group_id)).get("last_seq") or 0)
    if args.until_seq is not None and args.until_seq <= next(iter(groups.values())):
        return EXIT_OK  # already seen: nothing to wait for
    ctx.out.note("following " + ", ".join(args.group) + " (Ctrl-C stops)")
    printed = 0
    async with aclosing(api.live_messages(groups)) as frames:
        async for frame in frames:
            if frame["type"] == "message.hidden":
                ctx.out.note(f"message {frame.get('message_id')} was hidden")
                continue
            message = frame["message"]
            shown = message if args.jws else readable(message)
            ctx.out.result(shown, lambda m: shown_text(m, jws=args.jws))
            printed += 1
            if args.count is not None and printed >= args.count:
                break
            if args.until_seq is not None and int(frame["seq"]) >= args.until_seq:
                break
    return EXIT_OK


async def _search(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    limit = check_limit(args.limit)
    group_id = await api.resolve_group(args.group) if args.group else None
    filters = {
        "typ": args.typ,
        "from": args.from_,
        "to": args.to,
        "country": args.country.upper() if args.country else None,
        "category": args.category,
        "sender_org": args.sender_org,
    }
    found = 0
    async for message in api.search_messages(
        " ".join(args.words), group_id=group_id, filters=filters, limit=limit
    ):
        ctx.out.result(readable(message), message_text)
        found += 1
        if found >= limit:
            break
    if not found and not ctx.out.as_json:
        ctx.out.note("no message matches")
    return EXIT_OK


def _moderated(message: dict[str, Any]) -> str:
    state = "hidden" if message.get("hidden") else "shown"
    reason = f" ({message['hidden_reason']})" if message.get("hidden_reason") else ""
    return f"Message {message.get('id')} (#{message.get('seq')}) is now {state}{reason}."


async def _hide(api: CencommClient, ctx: Context) -> int:
    reason = str(ctx.args.reason).strip()
    if not reason:
        raise UsageError("--reason must not be empty")
    ctx.out.result(readable(await api.hide_message(ctx.args.message, reason)), _moderated)
    return EXIT_OK


async def _unhide(api: CencommClient, ctx: Context) -> int:
    ctx.out.result(readable(await api.unhide_message(ctx.args.message)), _moderated)
    return EXIT_OK


HANDLERS: dict[str, Handler] = {
    "follow": _follow,
    "search": _search,
    "hide": _hide,
    "unhide": _unhide,
}

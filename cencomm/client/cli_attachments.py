"""`cencomm client attachments ...`: upload, download, show (scan state), list: API.md
"Attachments". `post --attach FILE` uploads through `upload_files` here."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

from cencomm.client.api import CencommClient
from cencomm.client.api_attachments import att_entry, media_type_for
from cencomm.client.cli_support import (
    EXIT_OK,
    Context,
    Handler,
    Progress,
    UsageError,
    add_action,
    save_whole,
)
from cencomm.client.errors import ClientError
from cencomm.client.transfer import ProgressHook

ATTACHMENT_COLUMNS = (
    ("name", "NAME"),
    ("type", "TYPE"),
    ("size", "SIZE"),
    ("status", "SCAN"),
    ("created_at", "UPLOADED"),
    ("sha256", "SHA-256"),
)
MAX_BYTES_HELP = (
    "the server's attachments.max_bytes, when you know it: a larger file is refused before "
    "anything is sent (default: no check here; the server answers 413)"
)


def add_upload_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-bytes", type=int, metavar="N", help=MAX_BYTES_HELP)


def add_parsers(actions: Any) -> None:
    attachments = add_action(
        actions,
        "attachments",
        help="files shared in a group: upload, download, show, list",
        example=[
            "cencomm client attachments upload --group STOP-2020 photo.jpg manifest.pdf",
            "cencomm client attachments download --group STOP-2020 SHA256 -o photo.jpg",
        ],
    )
    commands = attachments.add_subparsers(
        dest="attachments_command", required=True, metavar="ACTION"
    )
    upload = add_action(
        commands,
        "upload",
        help="upload files to a group; prints each one's sha256, size and scan state",
        description="Upload files to a group (then name them in a post with --attach, or let "
        "`post --attach FILE` do both). Types: " + ", ".join(sorted(_extensions())) + ".",
        example="cencomm client attachments upload --group STOP-2020 photo.jpg",
    )
    upload.add_argument("--group", required=True, help="the group's code or id")
    upload.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add_upload_options(upload)
    download = add_action(
        commands,
        "download",
        help="download an attachment to a file (checked against its sha256)",
        example="cencomm client attachments download --group STOP-2020 SHA256 -o photo.jpg",
    )
    download.add_argument("--group", required=True, help="the group's code or id")
    download.add_argument("sha256", metavar="SHA256")
    download.add_argument(
        "-o", "--output", type=Path, help="where to write it (default: its name, here)"
    )
    download.add_argument("--force", action="store_true", help="overwrite an existing file")
    show = add_action(
        commands,
        "show",
        help="an attachment's name, type, size and scan state (pending, clean, infected)",
        example="cencomm client attachments show --group STOP-2020 SHA256",
    )
    show.add_argument("--group", required=True, help="the group's code or id")
    show.add_argument("sha256", metavar="SHA256")
    listing = add_action(
        commands,
        "list",
        help="a group's attachments, newest first",
        example="cencomm client attachments list --group STOP-2020",
    )
    listing.add_argument("--group", required=True, help="the group's code or id")


def _extensions() -> list[str]:
    from cencomm.client.api_attachments import MEDIA_TYPES

    return list(MEDIA_TYPES)


def check_files(paths: list[Path], max_bytes: int | None) -> list[tuple[Path, int]]:
    """Each file readable, of an accepted type, not empty and within `max_bytes`, before
    anything is sent: (path, size) per file.

    Raises:
        UsageError: naming the first bad file.
    """
    if max_bytes is not None and max_bytes < 1:
        raise UsageError("--max-bytes must be positive")
    checked: list[tuple[Path, int]] = []
    for path in paths:
        try:
            info = path.stat()
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        if not path.is_file():
            raise UsageError(f"{path} is not a file")
        if not os.access(path, os.R_OK):
            raise UsageError(f"cannot read {path}: permission denied")
        try:
            media_type_for(path)
        except ClientError as exc:
            raise UsageError(str(exc)) from None
        if info.st_size == 0:
            raise UsageError(f"{path} is empty")
        if max_bytes is not None and info.st_size > max_bytes:
            raise UsageError(
                f"{path} is {info.st_size} bytes, over the maximum of {max_bytes} bytes"
            )
        checked.append((path, info.st_size))
    return checked


async def upload_files(
    api: CencommClient, group_id: str, files: list[tuple[Path, int]]
) -> list[dict[str, Any]]:
    """Upload checked files to the group, one progress bar over all their bytes."""
    bar = Progress("uploading", sum(size for _, size in files))
    uploaded: list[dict[str, Any]] = []
    try:
        for path, _ in files:
            uploaded.append(await api.upload_file(group_id, path, progress=_hook(bar)))
    finally:
        bar.done()
    return uploaded


def _hook(bar: Progress, *, sets_total: bool = False) -> ProgressHook:
    """A `progress(done, total)` hook moving `bar` (a repeated try starts again from 0)."""
    seen = [0]

    def advance(done: int, total: int | None) -> None:
        if sets_total and total is not None:
            bar.total = total
        bar.advance(done - seen[0])
        seen[0] = done

    return advance


def att_entries(uploaded: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `att` entries naming uploaded files, each content once (the server refuses a
    message naming the same attachment twice)."""
    entries: dict[str, dict[str, Any]] = {}
    for attachment in uploaded:
        entries.setdefault(str(attachment["sha256"]), att_entry(attachment))
    return list(entries.values())


def _attachment_text(attachment: dict[str, Any]) -> str:
    return (
        f"{attachment.get('name')}  {attachment.get('type')}  {attachment.get('size')} bytes  "
        f"scan: {attachment.get('status')}\n  sha256 {attachment.get('sha256')}"
    )


async def _attachments(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    command = args.attachments_command
    if command == "upload":
        files = check_files(list(args.files), args.max_bytes)
        group_id = await api.resolve_group(args.group)
        for attachment in await upload_files(api, group_id, files):
            ctx.out.result(attachment, _attachment_text)
        return EXIT_OK
    group_id = await api.resolve_group(args.group)
    if command == "list":
        rows = [item async for item in api.attachments(group_id)]
        ctx.out.rows(rows, ATTACHMENT_COLUMNS, key="attachments")
    elif command == "show":
        ctx.out.result(await _info(api, group_id, args.sha256), _attachment_text)
    else:
        await _download(api, ctx, group_id)
    return EXIT_OK


async def _info(api: CencommClient, group_id: str, sha256: str) -> dict[str, Any]:
    try:
        return await api.attachment_info(group_id, sha256)
    except ClientError as exc:
        raise UsageError(str(exc)) from None


async def _download(api: CencommClient, ctx: Context, group_id: str) -> None:
    args = ctx.args
    output: Path | None = args.output
    if output is None:
        output = Path(Path(str((await _info(api, group_id, args.sha256))["name"])).name)
    if output.exists() and not args.force:
        raise UsageError(f"{output} exists: give --force to overwrite it")
    if not output.parent.is_dir():
        raise UsageError(f"cannot write {output}: {output.parent} is not a directory")
    bar = Progress("downloading", 0)
    try:
        data, media_type = await api.download_attachment(
            group_id, args.sha256, progress=_hook(bar, sets_total=True)
        )
    finally:
        bar.done()
    await asyncio.to_thread(save_whole, output, data, overwrite=args.force)
    ctx.out.result(
        {
            "path": str(output),
            "sha256": args.sha256.strip().lower(),
            "size": len(data),
            "type": media_type,
        },
        lambda done: f"Saved {done['size']} bytes ({done['type']}) to {done['path']}.",
    )


HANDLERS: dict[str, Handler] = {"attachments": _attachments}

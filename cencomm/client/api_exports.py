"""Exports of a group, downloaded to a file as they stream: the evidence bundle (zip), the MISP
event and the STIX 2.1 bundle."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import aiohttp

from cencomm.client.errors import ProblemError, TransportError
from cencomm.client.paging import segment
from cencomm.client.session import API_PREFIX, NETWORK_ERRORS, BaseClient

ExportFormat = Literal["bundle", "misp", "stix"]
PATHS: dict[str, str] = {
    "bundle": "/groups/{id}/export",
    "misp": "/groups/{id}/export.misp.json",
    "stix": "/groups/{id}/export.stix.json",
}
CHUNK = 256 * 1024
# A long export streams for as long as it needs; only silence is a failure.
_STREAM_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=300)

Progress = Callable[[int, int | None], None]  # (bytes so far, total when announced)


@dataclass(frozen=True, slots=True)
class Download:
    """A saved export: where, how many bytes, their SHA-256, the server's file name."""

    path: Path
    size: int
    sha256: str
    filename: str | None


def _filename(disposition: str | None) -> str | None:
    if not disposition or 'filename="' not in disposition:
        return None
    return disposition.split('filename="', 1)[1].split('"', 1)[0] or None


class ExportsApi(BaseClient):
    async def download_export(
        self,
        group_id: str,
        fmt: ExportFormat,
        dest: Path,
        *,
        blobs: bool = False,
        start: str | None = None,
        end: str | None = None,
        progress: Progress | None = None,
    ) -> Download:
        """Stream a group's export into `dest` (written to `dest.part`, renamed when whole:
        a cut download never leaves a complete-looking file).

        Args:
            fmt: `bundle` (the evidence zip, `?blobs=true` with `blobs`), `misp` or `stix`.
            start, end: `?from=&to=` (YYYY-MM-DD) for `misp` and `stix`.

        Raises:
            ProblemError: the server refused (404 for a group the caller cannot see).
            TransportError: the connection failed or was cut mid-way.
        """
        params: dict[str, str] = {}
        if fmt == "bundle" and blobs:
            params["blobs"] = "true"
        if start is not None:
            params["from"] = start
        if end is not None:
            params["to"] = end
        path = PATHS[fmt].format(id=segment(group_id))
        url = f"{self.base_url}{API_PREFIX}{path}"
        refreshed = False
        while True:
            token = await self._access_token()
            headers = {"Authorization": f"Bearer {token}", "Accept": "*/*"}
            try:
                async with self._http().get(
                    url, params=params, headers=headers, timeout=_STREAM_TIMEOUT
                ) as resp:
                    if resp.status >= 400:
                        problem = ProblemError.from_body(resp.status, _json(await resp.read()))
                        if problem.slug == "invalid-token" and not refreshed:
                            refreshed = True
                            await self._refresh_from(token)
                            continue
                        raise problem
                    return await _save(resp, dest, progress)
            except NETWORK_ERRORS as exc:
                raise TransportError(
                    f"GET {path}: {type(exc).__name__}: {exc or 'cut off'}"
                ) from exc


def _json(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        return None


async def _save(resp: aiohttp.ClientResponse, dest: Path, progress: Progress | None) -> Download:
    total = resp.content_length
    part = dest.with_name(dest.name + ".part")
    digest = hashlib.sha256()
    size = 0
    try:
        with part.open("wb") as out:
            async for chunk in resp.content.iter_chunked(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                if progress is not None:
                    progress(size, total)
        if total is not None and size != total:
            raise TransportError(f"the export was cut off after {size} of {total} bytes")
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    return Download(
        dest, size, digest.hexdigest(), _filename(resp.headers.get("Content-Disposition"))
    )

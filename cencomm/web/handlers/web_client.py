"""The web client: `GET /` serves the page (the one notification e-mails link to, `/#/alerts/<id>`)
and `GET /static/<build>/<path>` its ES modules, styles and vendored libraries, all from the
package's `web/static/` directory, with a strict Content-Security-Policy.

Every asset URL carries the build id (a hash of every static file), so assets are cached for a
year as immutable while the page itself is revalidated on each visit (a 304 is cheap): a new
release is a new build id and never mixes old and new modules.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable

from aiohttp import web

from cencomm.domain.errors import NotFound

STATIC_PREFIX = "/static"

# What a static file may be; anything else in the directory is never served.
MEDIA_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain",
    ".wav": "audio/wav",
}
TEXT_TYPES = {"text/javascript", "text/css", "application/json", "image/svg+xml", "text/plain"}

# Bare module names the client imports, resolved by the page's import map (relative to the build).
IMPORTS = {
    "preact": "vendor/preact/preact.mjs",
    "preact/hooks": "vendor/preact/hooks.mjs",
    "htm": "vendor/htm/htm.mjs",
    "uqr": "vendor/uqr/uqr.mjs",
}

IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    media_type: str
    etag: str


@dataclass(frozen=True, slots=True)
class WebClient:
    build: str
    page: bytes
    page_etag: str
    csp: str  # the page's and every asset's policy
    files: dict[str, StaticFile]


def _walk(root: Traversable, prefix: str = "") -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        name = f"{prefix}{entry.name}"
        if entry.is_dir():
            found.update(_walk(entry, f"{name}/"))
        elif entry.is_file() and name != "index.html":
            found[name] = entry.read_bytes()
    return found


def policy(import_map: bytes) -> str:
    """Only this origin, nothing inline but the import map (allowed by its hash), no plugins, no
    <base>, no form posts elsewhere, never in a frame. `blob:` images are previews the page made
    itself from downloaded attachments; `connect-src 'self'` covers the same-origin WebSocket."""
    digest = base64.b64encode(hashlib.sha256(import_map).digest()).decode()
    return (
        f"default-src 'self'; script-src 'self' 'sha256-{digest}'; style-src 'self'; "
        "img-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'; object-src 'none'"
    )


@functools.cache
def web_client() -> WebClient:
    """The page and its assets, read once from the package."""
    static = resources.files("cencomm.web").joinpath("static")
    raw = {
        name: body
        for name, body in _walk(static).items()
        if any(name.endswith(suffix) for suffix in MEDIA_TYPES)
    }
    tree = hashlib.sha256()
    for name, body in raw.items():
        tree.update(name.encode() + b"\0" + hashlib.sha256(body).digest())
    build = tree.hexdigest()[:16]
    base = f"{STATIC_PREFIX}/{build}/"
    import_map = json.dumps(
        {"imports": {name: base + path for name, path in IMPORTS.items()}}, sort_keys=True
    ).encode()
    template = static.joinpath("index.html").read_bytes()
    page = template.replace(b"{{IMPORT_MAP}}", import_map).replace(b"{{BASE}}", base.encode())
    files = {
        name: StaticFile(
            body,
            MEDIA_TYPES[name[name.rindex(".") :]],
            hashlib.sha256(body).hexdigest()[:32],
        )
        for name, body in raw.items()
    }
    return WebClient(
        build=build,
        page=page,
        page_etag=hashlib.sha256(page).hexdigest()[:32],
        csp=policy(import_map),
        files=files,
    )


def _not_modified(request: web.Request, etag: str) -> bool:
    return any(tag.value in (etag, "*") for tag in request.if_none_match or ())


async def get_web_client(request: web.Request) -> web.Response:
    client = web_client()
    headers = {
        "Content-Security-Policy": client.csp,
        # Revalidate every time, so a new release shows at once.
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if _not_modified(request, client.page_etag):
        response = web.Response(status=304, headers=headers)
    else:
        response = web.Response(
            body=client.page, content_type="text/html", charset="utf-8", headers=headers
        )
    response.etag = client.page_etag
    return response


async def get_static_file(request: web.Request) -> web.Response:
    client = web_client()
    # An asset of another build (a page loaded before a release) is not served: mixing
    # releases would run modules that do not fit together. The page reloads on the 404.
    found = (
        client.files.get(request.match_info["path"])
        if request.match_info["build"] == client.build
        else None
    )
    if found is None:
        raise NotFound("no such file")
    headers = {
        "Content-Security-Policy": client.csp,
        "Cache-Control": IMMUTABLE,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if _not_modified(request, found.etag):
        response = web.Response(status=304, headers=headers)
    else:
        charset = "utf-8" if found.media_type in TEXT_TYPES else None
        response = web.Response(
            body=found.body, content_type=found.media_type, charset=charset, headers=headers
        )
    response.etag = found.etag
    return response

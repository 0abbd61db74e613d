"""The web client's shell: `GET /` serves `static/index.html` (the page notification e-mails link
to, `/#/alerts/<id>`) with a strict Content-Security-Policy and an ETag."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources

from aiohttp import web

# Only this origin, nothing inline (no 'unsafe-inline' or 'unsafe-eval': scripts and styles are
# files served from here), no plugins, no <base> or form posts elsewhere, never in a frame.
WEB_CLIENT_CSP = (
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)


@dataclass(frozen=True, slots=True)
class StaticPage:
    body: bytes
    etag: str  # derived from the content: a new release is a new tag


@functools.cache
def index_page() -> StaticPage:
    """The shell, read once from the package."""
    body = resources.files("cencomm.web").joinpath("static/index.html").read_bytes()
    return StaticPage(body, hashlib.sha256(body).hexdigest()[:32])


async def get_web_client(request: web.Request) -> web.Response:
    page = index_page()
    headers = {
        "Content-Security-Policy": WEB_CLIENT_CSP,
        # Revalidate every time (a 304 is cheap), so a new release shows at once.
        "Cache-Control": "no-cache",
    }
    if any(tag.value in (page.etag, "*") for tag in request.if_none_match or ()):
        response = web.Response(status=304, headers=headers)
    else:
        response = web.Response(
            body=page.body, content_type="text/html", charset="utf-8", headers=headers
        )
    response.etag = page.etag
    return response

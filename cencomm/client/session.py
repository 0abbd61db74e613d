"""The HTTP core of `cencomm.client`: tokens, single-flight refresh, problems, bounded retries."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp.payload import BytesPayload

from cencomm.client.errors import NotLoggedIn, ProblemError, TransportError
from cencomm.client.tokens import TokenSet
from cencomm.client.transfer import ProgressHook, ProgressPayload, read_reporting

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT = 30.0

# Network-level failures: the request may or may not have reached the server.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
    TimeoutError,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and full jitter.

    Only requests that are safe to repeat are retried: reads, and posts of an already signed
    envelope (the server deduplicates on `cid`). Login and refresh are never retried, because a
    refresh token works once: resending one whose answer was lost would revoke the session.

    Attributes:
        attempts: tries in all, the first included.
        base_delay: the backoff cap after the first failure, doubled each time.
        max_delay: the largest backoff cap.
        retry_statuses: statuses worth another try (besides 429, which honours Retry-After).
        max_retry_after: the longest `Retry-After` honoured; a longer one is raised at once.
    """

    attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0
    retry_statuses: frozenset[int] = frozenset({500, 502, 503, 504})
    max_retry_after: float = 30.0

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        """Seconds to wait after `failures` failed tries (1, 2, ...)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        cap = min(self.max_delay, self.base_delay * 2 ** (failures - 1))
        return random.uniform(0, cap)  # noqa: S311 - jitter, not a secret


NO_RETRY = RetryPolicy(attempts=1)

TokenListener = Callable[[TokenSet | None], None]


@dataclass(frozen=True, slots=True)
class Reply:
    """A decoded answer: status, JSON body (None when empty) and headers we care about."""

    status: int
    body: Any
    retry_after: float | None = None
    raw: bytes = b""  # the answer's bytes as received (downloads, CSV, zip)
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Content:
    """A request body sent as is, with its media type (an upload)."""

    data: bytes
    media_type: str


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: rare from us, fall back to our own backoff
    return seconds if seconds >= 0 else None


def server_root(url: str) -> str:
    """The server root a URL names (`https://host`; a trailing `/` or `/api/v1` dropped)."""
    return url.rstrip("/").removesuffix(API_PREFIX)


class BaseClient:
    """Connection, authentication and error handling shared by every API call.

    Use as an async context manager. When `session` is given the caller owns it and it is
    left open; otherwise the client opens its own and closes it on exit.
    """

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        tokens: TokenSet | None = None,
        retry: RetryPolicy | None = None,
        on_tokens: TokenListener | None = None,
        clock: Callable[[], float] = time.time,
        device_token: str | None = None,
    ) -> None:
        self.base_url = server_root(base_url)
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._tokens = tokens
        self.retry = retry or RetryPolicy()
        self._on_tokens = on_tokens
        self._clock = clock
        self._refresh_lock = asyncio.Lock()
        self._me: dict[str, Any] | None = None
        self._device_token = device_token

    async def __aenter__(self) -> BaseClient:
        self._http()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client opened it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    # -- tokens ----------------------------------------------------------------------------

    @property
    def tokens(self) -> TokenSet | None:
        """The current token pair (None when logged out)."""
        return self._tokens

    @property
    def device_token(self) -> str | None:
        """The device token of the last login (sent with the next one), to keep between runs.

        A login that presents the user's device token is not refused because of other
        people's failed logins (per username or per address); only its own failures count.
        """
        return self._device_token

    @device_token.setter
    def device_token(self, token: str | None) -> None:
        self._device_token = token

    def _set_tokens(self, tokens: TokenSet | None) -> None:
        self._tokens = tokens
        if self._on_tokens is not None:
            self._on_tokens(tokens)

    def _require_tokens(self) -> TokenSet:
        if self._tokens is None:
            raise NotLoggedIn("not logged in")
        return self._tokens

    async def login(self, username: str, password: str, otp: str | None = None) -> TokenSet:
        """Log in with password (and TOTP code when MFA is on) and keep the token pair and the
        new device token (the one held is sent along).

        Raises:
            ProblemError: 401 `invalid-credentials`, `mfa-required`, `invalid-otp`; 429.
            TransportError: the server could not be reached.
        """
        body: dict[str, Any] = {"username": username, "password": password}
        if otp is not None:
            body["otp"] = otp
        if self._device_token is not None:
            body["device_token"] = self._device_token
        reply = await self._request("POST", "/auth/login", json_body=body, auth=False)
        self._me = None
        self._set_tokens(TokenSet.from_response(reply.body, self._clock()))
        device = reply.body.get("device_token") if isinstance(reply.body, Mapping) else None
        if isinstance(device, str) and device:
            self._device_token = device
        return self._require_tokens()

    async def refresh(self) -> TokenSet:
        """Swap the refresh token for a new pair now (calls do this on their own when needed).

        Raises:
            NotLoggedIn: no tokens held.
            ProblemError: 401 `invalid-refresh-token`; the tokens are dropped (session over).
        """
        await self._refresh_from(self._require_tokens().access_token)
        return self._require_tokens()

    async def _refresh_from(self, stale_access: str) -> None:
        """Single flight: the first caller refreshes, callers that queued behind it reuse it."""
        async with self._refresh_lock:
            tokens = self._require_tokens()
            if tokens.access_token != stale_access:
                return  # another task refreshed while this one waited
            try:
                reply = await self._request(
                    "POST",
                    "/auth/refresh",
                    json_body={"refresh_token": tokens.refresh_token},
                    auth=False,
                )
            except ProblemError as exc:
                if exc.status == 401:
                    logger.info("refresh token refused: the session is over")
                    self._set_tokens(None)
                raise
            self._set_tokens(TokenSet.from_response(reply.body, self._clock()))
            logger.debug("access token refreshed")

    async def _access_token(self) -> str:
        tokens = self._require_tokens()
        if tokens.refresh_due(self._clock()):
            await self._refresh_from(tokens.access_token)
            tokens = self._require_tokens()
        return tokens.access_token

    async def logout(self) -> None:
        """End the session on the server (its access tokens stop working) and forget the tokens.

        The tokens are forgotten even when the server cannot be told.
        """
        try:
            if self._tokens is not None:
                await self._request("POST", "/auth/logout", retry=NO_RETRY, refresh=False)
        except ProblemError as exc:
            if exc.status != 401:  # 401: the session was over already
                raise
        finally:
            self._me = None
            self._set_tokens(None)

    async def me(self) -> dict[str, Any]:
        """`GET /me`: `{id, username, display_name, role, organization, mfa_enabled}`."""
        body = await self.request_json("GET", "/me")
        self._me = dict(body)
        return self._me

    async def user_id(self) -> str:
        """The logged-in user's id (from `/me`, fetched once per login)."""
        me = self._me if self._me is not None else await self.me()
        return str(me["id"])

    # -- requests --------------------------------------------------------------------------

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str | int] | None = None,
        retry: RetryPolicy | None = None,
    ) -> Any:
        """An authenticated call to any `/api/v1` path; the decoded JSON answer (None for 204).

        Only GET is retried by default; pass `retry` to retry a request that is safe to repeat.

        Raises:
            ProblemError: the server answered with a problem.
            TransportError: the server could not be reached after the allowed tries.
            NotLoggedIn: no tokens held.
        """
        if retry is None:
            retry = self.retry if method.upper() == "GET" else NO_RETRY
        reply = await self._request(method, path, json_body=json_body, params=params, retry=retry)
        return reply.body

    async def request_bytes(
        self,
        method: str,
        path: str,
        *,
        content: Content | None = None,
        json_body: Any = None,
        params: Mapping[str, str | int] | None = None,
        accept: str = "*/*",
        retry: RetryPolicy | None = None,
        progress: ProgressHook | None = None,
    ) -> Reply:
        """Like `request_json`, for bodies that are not JSON both ways: `content` is sent as is
        (an upload), and the answer's bytes are in `Reply.raw` with its `headers` (lower-case
        names). A problem answer still raises `ProblemError`. `progress(done, total)` follows
        the upload of `content`, or else the download of the answer."""
        if retry is None:
            retry = self.retry if method.upper() == "GET" else NO_RETRY
        return await self._request(
            method,
            path,
            json_body=json_body,
            params=params,
            retry=retry,
            content=content,
            accept=accept,
            progress=progress,
        )

    async def _send(
        self,
        method: str,
        path: str,
        json_body: Any,
        params: Mapping[str, str | int] | None,
        headers: dict[str, str],
        content: Content | None = None,
        progress: ProgressHook | None = None,
    ) -> Reply:
        url = f"{self.base_url}{API_PREFIX}{path}"
        data: bytes | BytesPayload | None = None
        if content is not None:
            data = content.data
            if progress is not None:
                data = ProgressPayload(content.data, content.media_type, progress)
            headers["Content-Type"] = content.media_type
        elif json_body is not None:
            data = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        async with self._http().request(
            method, url, data=data, params=params, headers=headers, timeout=self._timeout
        ) as resp:
            if progress is not None and content is None and resp.status < 400:
                raw = await read_reporting(resp, progress)
            else:
                raw = await resp.read()
            body: Any = None
            if raw and _is_json(resp.headers.get("Content-Type", "")):
                try:
                    body = json.loads(raw)
                except ValueError:  # not JSON after all: keep the status and the bytes
                    body = None
            return Reply(
                resp.status,
                body,
                _retry_after(resp.headers.get("Retry-After")),
                raw,
                {name.lower(): value for name, value in resp.headers.items()},
            )

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str | int] | None = None,
        auth: bool = True,
        retry: RetryPolicy = NO_RETRY,
        refresh: bool = True,
        content: Content | None = None,
        accept: str = "application/json",
        progress: ProgressHook | None = None,
    ) -> Reply:
        failures = 0
        refreshed = False
        while True:
            headers = {"Accept": accept}
            token = None
            if auth:
                if refresh:
                    token = await self._access_token()
                else:
                    token = self._require_tokens().access_token
                headers["Authorization"] = f"Bearer {token}"
            try:
                reply = await self._send(
                    method, path, json_body, params, headers, content, progress
                )
            except NETWORK_ERRORS as exc:
                failures += 1
                if failures >= retry.attempts:
                    raise TransportError(
                        f"{method} {path}: {type(exc).__name__}: {exc or 'no answer'}"
                    ) from exc
                logger.info("%s %s: network error (%s), retrying", method, path, type(exc).__name__)
                await asyncio.sleep(retry.delay(failures))
                continue
            if reply.status < 400:
                return reply
            problem = ProblemError.from_body(
                reply.status, reply.body, retry_after=reply.retry_after
            )
            if (
                auth
                and refresh
                and token is not None
                and not refreshed
                and problem.status == 401
                and problem.slug == "invalid-token"
            ):
                # An expired or revoked access token: refresh once, then resend (the server
                # rejected the request before acting on it, so resending is always safe).
                refreshed = True
                await self._refresh_from(token)
                continue
            retryable = problem.status in retry.retry_statuses or (
                problem.status == 429
                and (problem.retry_after is None or problem.retry_after <= retry.max_retry_after)
            )
            if retryable and failures + 1 < retry.attempts:
                failures += 1
                logger.info("%s %s: status %s, retrying", method, path, problem.status)
                await asyncio.sleep(retry.delay(failures, problem.retry_after))
                continue
            raise problem

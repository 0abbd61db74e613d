"""Login, refresh, logout, MFA enrolment and /me."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import Field

from cencomm.appkeys import SERVICES, SETTINGS
from cencomm.domain.policy import Action, authorize
from cencomm.domain.users import MAX_PASSWORD_LENGTH, Role
from cencomm.domain.wire.directory import me_json
from cencomm.services.auth import TokenPair
from cencomm.services.login_throttle import MAX_DEVICE_TOKEN_CHARS
from cencomm.web.auth import caller, principal
from cencomm.web.handlers.directory import OrganizationResponse
from cencomm.web.schemas import RequestModel, ResponseModel

# The browser's device token: HttpOnly, sent back only to the login route.
DEVICE_COOKIE = "cencomm_device"
DEVICE_COOKIE_PATH = "/api/v1/auth/login"


class LoginRequest(RequestModel):
    username: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    otp: str | None = Field(default=None, max_length=16)
    device_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_DEVICE_TOKEN_CHARS,
        description="The device_token of an earlier login of this user (else the "
        "cencomm_device cookie): such a login is not refused for other people's failures",
    )


class RefreshRequest(RequestModel):
    refresh_token: str = Field(min_length=1, max_length=256)


class TokenResponse(ResponseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class LoginResponse(TokenResponse):
    device_token: str = Field(
        description="Keep it and send it with the next login (browsers get it as an HttpOnly "
        "cookie); it replaces the one presented"
    )


class OtpSetupResponse(ResponseModel):
    secret: str
    otpauth_uri: str


class OtpEnableRequest(RequestModel):
    otp: str = Field(min_length=1, max_length=16)


class MeResponse(ResponseModel):
    id: str
    username: str
    display_name: str
    role: Role
    organization: OrganizationResponse
    mfa_enabled: bool
    mfa_enrolment_required: bool


def _token_fields(pair: TokenPair) -> dict[str, Any]:
    return TokenResponse(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type="Bearer",  # noqa: S106 - the scheme name
        expires_in=pair.expires_in,
    ).model_dump()


def _tokens(pair: TokenPair) -> web.Response:
    return web.json_response(_token_fields(pair))


async def login(request: web.Request, body: LoginRequest) -> web.Response:
    presented = body.device_token or request.cookies.get(DEVICE_COOKIE)
    done = await request.app[SERVICES].auth.login(
        caller(request), body.username, body.password, body.otp, presented
    )
    response = web.json_response(
        LoginResponse(**_token_fields(done.tokens), device_token=done.device_token).model_dump()
    )
    settings = request.app[SETTINGS].auth
    response.set_cookie(
        DEVICE_COOKIE,
        done.device_token,
        max_age=settings.device_token_ttl,
        path=DEVICE_COOKIE_PATH,
        secure=settings.device_cookie_secure or request.secure,
        httponly=True,
        samesite="Strict",
    )
    return response


async def refresh_tokens(request: web.Request, body: RefreshRequest) -> web.Response:
    pair = await request.app[SERVICES].auth.refresh(caller(request), body.refresh_token)
    return _tokens(pair)


async def logout(request: web.Request) -> web.Response:
    await request.app[SERVICES].auth.logout(caller(request))
    return web.Response(status=204)


async def setup_otp(request: web.Request) -> web.Response:
    enrolment = await request.app[SERVICES].auth.otp_setup(caller(request))
    return web.json_response(
        OtpSetupResponse(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri).model_dump()
    )


async def enable_otp(request: web.Request, body: OtpEnableRequest) -> web.Response:
    await request.app[SERVICES].auth.otp_enable(caller(request), body.otp)
    return web.Response(status=204)


async def get_me(request: web.Request) -> web.Response:
    who = principal(request)
    authorize(who, Action.READ_SELF)
    me = await request.app[SERVICES].directory.me(who)
    return web.json_response(
        me_json(me.user, me.organization, mfa_enrolment_required=who.needs_mfa_enrolment)
    )

"""Log in (password, TOTP, throttling), sessions, access and refresh tokens, MFA enrolment."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cencomm.crypto import totp
from cencomm.crypto.passwords import Passwords
from cencomm.crypto.sealing import seal, unseal
from cencomm.crypto.tokens import TokenError, issue_access_token, verify_access_token
from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock
from cencomm.domain.errors import Conflict, Invalid, Unauthenticated
from cencomm.domain.events import SessionRevoked
from cencomm.domain.ids import SessionId, UserId, new_id
from cencomm.domain.policy import Action, authorize
from cencomm.domain.users import Caller, Principal, Role, normalize_username
from cencomm.services.audit import AuditTrail
from cencomm.services.events import Publisher
from cencomm.services.login_throttle import LoginThrottle
from cencomm.services.session_cache import SessionCache, VerifiedTokens
from cencomm.settings import AuthSettings
from cencomm.storage.db import Database
from cencomm.storage.keyring import ServerKeys
from cencomm.storage.sessions import LiveSession, RefreshOutcome
from cencomm.storage.unit import Unit
from cencomm.storage.users import Credentials

MAX_REFRESH_TOKEN_CHARS = 128
TOTP_ISSUER = "cencomm"


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class Login:
    """A successful login: the session's tokens and the device token for the next login."""

    tokens: TokenPair
    device_token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class OtpEnrolment:
    secret: str
    otpauth_uri: str


def hash_refresh_token(token: str) -> bytes:
    # 256 random bits need no slow hash: SHA-256 is enough to make a stolen table useless.
    return hashlib.sha256(token.encode("ascii", "replace")).digest()


def _invalid_credentials() -> Unauthenticated:
    return Unauthenticated("unknown user or wrong password", slug="invalid-credentials")


def _invalid_otp() -> Unauthenticated:
    return Unauthenticated("wrong or already used one-time code", slug="invalid-otp")


class AuthService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditTrail,
        keys: ServerKeys,
        settings: AuthSettings,
        passwords: Passwords,
        publisher: Publisher | None = None,
        sessions: SessionCache | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._keys = keys
        self._settings = settings
        self._passwords = passwords
        self._throttle = LoginThrottle(db, settings)
        # Revoked sessions close their live sockets (4401) through this, after commit.
        self._publisher = publisher
        self._mfa_roles = frozenset(Role(r) for r in settings.mfa_required_roles)
        # Must be subscribed to the events `publisher` feeds, so revocations drop entries.
        self._sessions = sessions or SessionCache(0)
        self._verified = VerifiedTokens()

    # -- login -----------------------------------------------------------------------------

    async def login(
        self,
        caller: Caller,
        username: str,
        password: str,
        otp: str | None,
        device_token: str | None = None,
    ) -> Login:
        """Check password (and TOTP when enabled); open a session and issue a token pair and
        the next device token.

        The attempt is counted before anything is checked (see `LoginThrottle`). Unknown users
        and wrong passwords get the same answer after the same work.

        Raises:
            RateLimited: too many recent failures for this username or address, or, with a
                valid `device_token` of this user, for that device token.
            Unauthenticated: `invalid-credentials`, `mfa-required` or `invalid-otp`.
        """
        key = normalize_username(username)[:64]
        ip = caller.ip or "unknown"
        now = self._clock.now()
        attempt = await self._throttle.admit(key, ip, device_token, now)

        credentials = await self._db.read(lambda unit: unit.users.find_credentials(key))
        matches = await asyncio.to_thread(
            self._passwords.verify, credentials.password_hash if credentials else None, password
        )
        if credentials is None or not matches or credentials.user.disabled:
            await self._failed(caller, key, "credentials")
            raise _invalid_credentials()

        user = credentials.user
        step: int | None = None
        if user.mfa_enabled:
            if not otp:
                # The password was right: this attempt is no failure.
                await self._db.write(lambda unit: self._throttle.take_back(unit, attempt))
                raise Unauthenticated(
                    "this account needs its one-time code",
                    slug="mfa-required",
                )
            step = totp.matching_step(self._mfa_secret(credentials), otp, now.timestamp())
            if step is None or step <= credentials.mfa_last_step:
                await self._failed(caller, key, "otp")
                raise _invalid_otp()

        rehash = self._passwords.needs_rehash(credentials.password_hash)
        new_hash = await asyncio.to_thread(self._passwords.hash, password) if rehash else None
        session_id = SessionId(new_id())
        refresh = secrets.token_urlsafe(32)

        def open_session(unit: Unit) -> str | None:
            """The next device token; None when the code was replayed (nothing written)."""
            users = unit.users
            # False when a concurrent login used this code first.
            if step is not None and not users.spend_totp_step(user.id, step):
                return None
            if new_hash is not None:
                users.update_password_hash(user.id, new_hash)
            sessions = unit.sessions
            sessions.insert(
                session_id,
                user.id,
                now=now,
                expires_at=now + timedelta(seconds=self._settings.refresh_token_ttl),
                mfa_satisfied=step is not None,
                ip=caller.ip,
            )
            sessions.add_refresh_token(hash_refresh_token(refresh), session_id, now)
            device = self._throttle.succeeded(unit, attempt, user.id, now)
            principal = Principal(user.id, user.organization_id, user.role, session_id)
            self._audit.append(
                unit,
                AuditRecord.by(
                    Caller(principal, caller.ip),
                    "auth.login",
                    target_type="session",
                    target_id=session_id,
                    details={"mfa": step is not None, "device": attempt.device is not None},
                ),
            )
            return device

        device = await self._db.write(open_session)
        if device is None:
            await self._failed(caller, key, "otp")
            raise _invalid_otp()
        return Login(self._pair(user.id, session_id, refresh, now), device)

    async def _failed(self, caller: Caller, username: str, reason: str) -> None:
        """Audit a failed login. The attempt stays counted (it was counted before the check)."""
        now = self._clock.now()

        def record(unit: Unit) -> None:
            self._throttle.forget_passed(unit, now)
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "auth.login_failed",
                    target_type="user",
                    details={"username": username, "reason": reason},
                ),
            )

        await self._db.write(record)

    def _pair(
        self, user_id: UserId, session_id: SessionId, refresh: str, now: datetime
    ) -> TokenPair:
        token_key = self._keys.token
        access = issue_access_token(
            token_key.private_key,
            token_key.kid,
            issuer=self._settings.issuer,
            user_id=user_id,
            session_id=session_id,
            now=now,
            ttl_seconds=self._settings.access_token_ttl,
        )
        return TokenPair(access, refresh, self._settings.access_token_ttl)

    # -- refresh and logout -----------------------------------------------------------------

    async def refresh(self, caller: Caller, refresh_token: str) -> TokenPair:
        """Swap a refresh token for a new pair; a spent token revokes its whole session.

        Raises:
            Unauthenticated: unknown, spent or expired token, or a dead session.
        """
        if not refresh_token or len(refresh_token) > MAX_REFRESH_TOKEN_CHARS:
            raise Unauthenticated("invalid refresh token", slug="invalid-refresh-token")
        now = self._clock.now()
        new_refresh = secrets.token_urlsafe(32)

        def spend(unit: Unit) -> RefreshOutcome:
            sessions = unit.sessions
            outcome = sessions.spend_refresh_token(hash_refresh_token(refresh_token), now)
            if outcome is None:
                raise Unauthenticated("invalid refresh token", slug="invalid-refresh-token")
            if outcome.already_spent:
                # Someone holds a copy of a used token: assume theft and end the session.
                sessions.revoke(outcome.session_id, now, "refresh-reuse")
                self._audit.append(
                    unit,
                    AuditRecord(
                        action="auth.refresh_reused",
                        actor_id=outcome.user_id,
                        target_type="session",
                        target_id=str(outcome.session_id),
                        ip=caller.ip,
                    ),
                )
                return outcome
            live = sessions.find_live(outcome.session_id, now)
            if live is None:
                raise Unauthenticated("the session has ended", slug="invalid-refresh-token")
            sessions.add_refresh_token(hash_refresh_token(new_refresh), live.session_id, now)
            principal = Principal(live.user_id, live.organization_id, live.role, live.session_id)
            self._audit.append(
                unit,
                AuditRecord.by(
                    Caller(principal, caller.ip),
                    "auth.refresh",
                    target_type="session",
                    target_id=live.session_id,
                ),
            )
            return outcome

        outcome = await self._db.write(spend)
        if outcome.already_spent:
            self._revoked(outcome.session_id, outcome.user_id)
            raise Unauthenticated(
                "this refresh token was already used; the session is revoked",
                slug="invalid-refresh-token",
            )
        return self._pair(outcome.user_id, outcome.session_id, new_refresh, now)

    async def logout(self, caller: Caller) -> None:
        principal = _require(caller)
        now = self._clock.now()

        def revoke(unit: Unit) -> None:
            unit.sessions.revoke(principal.session_id, now, "logout")
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller, "auth.logout", target_type="session", target_id=principal.session_id
                ),
            )

        await self._db.write(revoke)
        self._revoked(principal.session_id, principal.user_id)

    def _revoked(self, session_id: SessionId, user_id: UserId) -> None:
        if self._publisher is not None:
            self._publisher.publish(SessionRevoked((session_id,), user_id))

    # -- access tokens ---------------------------------------------------------------------

    async def authenticate(self, token: str) -> Principal:
        """The principal of a valid access token whose session is live and user enabled.

        Raises:
            Unauthenticated: for any defect (the reason is not disclosed to the client).
        """
        now = self._clock.now()
        claims = self._verified.get(token, now.timestamp())
        if claims is None:
            try:
                claims = verify_access_token(
                    token, self._keys.token_keys, issuer=self._settings.issuer, now=now
                )
            except TokenError:
                raise Unauthenticated(
                    "invalid or expired access token", slug="invalid-token"
                ) from None
            self._verified.put(token, claims)
        live = self._sessions.get(claims.session_id)
        if live is None:
            session_id = claims.session_id
            live = await self._sessions.load(
                session_id,
                claims.user_id,
                lambda: self._db.read(lambda unit: unit.sessions.find_live(session_id, now)),
            )
        if live is None or live.user_id != claims.user_id:
            raise Unauthenticated("the session has ended", slug="invalid-token")
        return self._principal(live)

    async def current_principal(self, principal: Principal) -> Principal:
        """`principal`'s session and user as they are now, read from the database (never from
        the cache): for a live socket, which authenticated once and must not go on with a role
        or a session that has changed since.

        Raises:
            Unauthenticated: the session ended (revoked, expired) or the user was disabled.
        """
        now = self._clock.now()
        live = await self._db.read(lambda unit: unit.sessions.find_live(principal.session_id, now))
        if live is None or live.user_id != principal.user_id:
            raise Unauthenticated("the session has ended", slug="invalid-token")
        return self._principal(live)

    def _principal(self, live: LiveSession) -> Principal:
        return Principal(
            user_id=live.user_id,
            organization_id=live.organization_id,
            role=live.role,
            session_id=live.session_id,
            needs_mfa_enrolment=live.role in self._mfa_roles and not live.mfa_enabled,
        )

    # -- MFA enrolment ---------------------------------------------------------------------

    async def otp_setup(self, caller: Caller) -> OtpEnrolment:
        principal = _require(caller)
        authorize(principal, Action.MANAGE_OWN_MFA)
        secret = totp.new_secret()

        def stage(unit: Unit) -> Credentials:
            users = unit.users
            credentials = users.get_credentials(principal.user_id)
            if credentials.user.mfa_enabled:
                raise Conflict(
                    "two-factor authentication is already on", slug="mfa-already-enabled"
                )
            users.set_pending_mfa(principal.user_id, self._seal(principal.user_id, secret))
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller, "auth.otp_setup", target_type="user", target_id=principal.user_id
                ),
            )
            return credentials

        credentials = await self._db.write(stage)
        uri = totp.provisioning_uri(secret, credentials.user.username, TOTP_ISSUER)
        return OtpEnrolment(secret=secret, otpauth_uri=uri)

    async def otp_enable(self, caller: Caller, code: str) -> None:
        principal = _require(caller)
        authorize(principal, Action.MANAGE_OWN_MFA)
        now = self._clock.now()

        def enable(unit: Unit) -> None:
            users = unit.users
            credentials = users.get_credentials(principal.user_id)
            if credentials.user.mfa_enabled:
                raise Conflict(
                    "two-factor authentication is already on", slug="mfa-already-enabled"
                )
            if credentials.mfa_pending_secret is None:
                raise Conflict("call /auth/otp/setup first", slug="mfa-not-set-up")
            secret = self._unseal(principal.user_id, credentials.mfa_pending_secret)
            step = totp.matching_step(secret, code, now.timestamp())
            if step is None:
                raise Invalid("wrong one-time code", slug="invalid-otp")
            # The code that enabled MFA is spent: it cannot also log in.
            users.enable_mfa(principal.user_id, credentials.mfa_pending_secret, step)
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller, "auth.otp_enable", target_type="user", target_id=principal.user_id
                ),
            )

        await self._db.write(enable)
        self._sessions.forget_user(principal.user_id)  # no longer "needs MFA enrolment"

    def _mfa_secret(self, credentials: Credentials) -> str:
        if credentials.mfa_secret is None:  # mfa_enabled always comes with a secret
            raise Unauthenticated("two-factor authentication is misconfigured", slug="invalid-otp")
        return self._unseal(credentials.user.id, credentials.mfa_secret)

    def _seal(self, user_id: UserId, secret: str) -> bytes:
        master = self._keys.master
        return master.kid.encode() + b":" + seal(master.key, secret.encode(), user_id.bytes)

    def _unseal(self, user_id: UserId, sealed: bytes) -> str:
        kid, _, body = sealed.partition(b":")
        master = self._keys.master_keys[kid.decode()]
        return unseal(master.key, body, user_id.bytes).decode()


def _require(caller: Caller) -> Principal:
    if caller.principal is None:
        raise Unauthenticated("authentication required")
    return caller.principal

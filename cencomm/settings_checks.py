"""Range and format checks of the settings that their types alone cannot express.

`load_settings` runs them on every load, so a misconfigured server stops, naming the key,
before it serves.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress

from cencomm.domain.users import Role
from cencomm.settings_sections import Settings
from cencomm.settings_sources import SettingsError, is_host_port, is_udp_url

MAX_ACCESS_TOKEN_TTL = 15 * 60
MAX_WORKERS = 64


def validate(settings: Settings) -> None:
    """Range and format checks that types alone cannot express."""
    s = settings
    if not 1 <= s.server.port <= 65535:
        raise SettingsError(f"server.port: must be between 1 and 65535 (got {s.server.port})")
    if not s.server.host:
        raise SettingsError("server.host: must not be empty")
    _validate_workers(s)
    if s.http.max_json_bytes < 1024:
        raise SettingsError("http.max_json_bytes: must be at least 1024")
    if s.http.trusted_proxy_hops < 0:
        raise SettingsError("http.trusted_proxy_hops: must not be negative")
    _validate_limits(s)
    for network in s.http.metrics_allowed_addresses:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise SettingsError(
                f"http.metrics_allowed_addresses: {network!r} is no address"
            ) from None
    url = s.database.url
    if url and not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise SettingsError(
            "database.url: must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    if s.database.sqlite_synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
        raise SettingsError("database.sqlite_synchronous: must be FULL, NORMAL or EXTRA")
    if s.database.sqlite_busy_timeout_ms < 0:
        raise SettingsError("database.sqlite_busy_timeout_ms: must not be negative")
    if s.database.pool_size < 1:
        raise SettingsError("database.pool_size: must be at least 1")
    if s.bus.poll_interval < 0:
        raise SettingsError("bus.poll_interval: must not be negative")
    if s.database.postgres_lock_timeout_ms < 0:
        raise SettingsError("database.postgres_lock_timeout_ms: must not be negative")
    if not 30 <= s.auth.access_token_ttl <= MAX_ACCESS_TOKEN_TTL:
        raise SettingsError("auth.access_token_ttl: must be between 30 and 900 seconds")
    if s.auth.refresh_token_ttl < s.auth.access_token_ttl:
        raise SettingsError("auth.refresh_token_ttl: must not be shorter than access tokens")
    known_roles = {role.value for role in Role}
    for role in s.auth.mfa_required_roles:
        if role not in known_roles:
            raise SettingsError(f"auth.mfa_required_roles: unknown role {role!r}")
    budgets = ("max_failures_per_account", "max_failures_per_address", "max_failures_per_device")
    for key in (*budgets, "failure_window", "device_token_ttl"):
        if getattr(s.auth, key) < 1:
            raise SettingsError(f"auth.{key}: must be at least 1")
    if not 0 <= s.auth.session_cache_seconds <= 10:
        raise SettingsError("auth.session_cache_seconds: must be between 0 and 10")
    if not 0 <= s.auth.post_context_cache_seconds <= 10:
        raise SettingsError("auth.post_context_cache_seconds: must be between 0 and 10")
    if s.auth.argon2_memory_kib < 8 * s.auth.argon2_parallelism or s.auth.argon2_time_cost < 1:
        raise SettingsError("auth.argon2_*: time cost >= 1 and memory >= 8 KiB per lane")
    if s.attachments.max_bytes < 1:
        raise SettingsError("attachments.max_bytes: must be positive")
    if s.export.max_bytes < 0:
        raise SettingsError("export.max_bytes: must not be negative")
    if s.attachments.group_quota_bytes < 0:
        raise SettingsError("attachments.group_quota_bytes: must not be negative")
    if s.attachments.scanner not in {"none", "clamd"}:
        raise SettingsError('attachments.scanner: must be "none" or "clamd"')
    clamd = s.attachments.clamd_address
    if s.attachments.scanner == "clamd" and not (
        clamd.startswith("/") or (clamd.startswith("tcp://") and is_host_port(clamd[6:]))
    ):
        raise SettingsError(
            "attachments.clamd_address: must be an absolute socket path or tcp://host:port"
        )
    if s.attachments.scan_timeout <= 0 or s.attachments.scan_retry_interval <= 0:
        raise SettingsError("attachments.scan_timeout/scan_retry_interval: must be positive")
    if s.attachments.orphan_grace < 0 or s.attachments.orphan_sweep_interval < 0:
        raise SettingsError("attachments.orphan_grace/orphan_sweep_interval: must not be negative")
    if s.attachments.max_image_pixels < 1:
        raise SettingsError("attachments.max_image_pixels: must be positive")
    if not s.audit.origin or "\n" in s.audit.origin:
        raise SettingsError("audit.origin: must be one non-empty line")
    syslog = s.audit.forward_syslog
    if syslog and not (syslog.startswith("/") or is_udp_url(syslog)):
        raise SettingsError(
            "audit.forward_syslog: must be udp://host:port or an absolute Unix socket path"
        )
    _validate_witnesses(s)
    if s.logging.level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError("logging.level: must be DEBUG, INFO, WARNING or ERROR")
    if s.logging.format not in {"json", "text"}:
        raise SettingsError("logging.format: must be json or text")
    _validate_live(s)


def _validate_limits(s: Settings) -> None:
    """Resource limits (`web/limits.py`)."""
    for key in ("header_timeout", "body_timeout"):
        if getattr(s.http, key) <= 0:
            raise SettingsError(f"http.{key}: must be positive")
    for key in ("body_min_rate", "max_concurrent_requests", "max_requests_per_user"):
        if getattr(s.http, key) < 1:
            raise SettingsError(f"http.{key}: must be at least 1")
    if s.hub.max_connections < 1:
        raise SettingsError("hub.max_connections: must be at least 1")


def _validate_workers(s: Settings) -> None:
    # Any database and any bus: on SQLite every post goes through worker 0's writer, and
    # without Redis the notices travel between the workers of the host (`cencomm/workers.py`).
    if not 1 <= s.server.workers <= MAX_WORKERS:
        raise SettingsError(f"server.workers: must be between 1 and {MAX_WORKERS}")


def _validate_live(s: Settings) -> None:
    """Live delivery, alerts and e-mail notifications."""
    for key in ("queue_size", "max_connections_per_user"):
        if getattr(s.hub, key) < 1:
            raise SettingsError(f"hub.{key}: must be at least 1")
    for key in ("heartbeat", "auth_timeout", "resume_wait"):
        if getattr(s.hub, key) <= 0:
            raise SettingsError(f"hub.{key}: must be positive")
    if s.bus.url and not s.bus.url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError("bus.url: must be empty or start with redis://, rediss:// or unix://")
    if not s.bus.channel:
        raise SettingsError("bus.channel: must not be empty")
    if s.alerts.sweep_interval < 0 or s.alerts.reminder_before < 0:
        raise SettingsError("alerts.*: must not be negative")
    n = s.notifications
    if not n.base_url.startswith(("http://", "https://")):
        raise SettingsError("notifications.base_url: must start with http:// or https://")
    if n.delay < 0 or n.poll_interval < 0 or n.lease < 1 or n.retry_backoff < 1:
        raise SettingsError("notifications.*: delays must not be negative; lease and backoff >= 1")
    if n.max_attempts < 1:
        raise SettingsError("notifications.max_attempts: must be at least 1")
    if not 1 <= s.smtp.port <= 65535:
        raise SettingsError(f"smtp.port: must be between 1 and 65535 (got {s.smtp.port})")
    if "@" not in s.smtp.from_address:
        raise SettingsError("smtp.from_address: must be an e-mail address")
    if s.smtp.timeout <= 0:
        raise SettingsError("smtp.timeout: must be positive")


def _validate_witnesses(s: Settings) -> None:
    """`audit.witnesses`: each "<verifier key> <http(s) URL>", distinct names; the quorum."""
    names: set[str] = set()
    for entry in s.audit.witnesses:
        vkey, _, url = entry.strip().partition(" ")
        url = url.strip()
        name = _witness_name(vkey)
        if name is None:
            raise SettingsError(
                f"audit.witnesses: {vkey!r} is not a cosignature verifier key "
                "<name>+<key ID>+<base64 key> (as `cencomm witness keygen` prints it)"
            )
        if not url.startswith(("http://", "https://")) or " " in url:
            raise SettingsError(f"audit.witnesses: witness {name} needs an http(s) URL after it")
        if name in names:
            raise SettingsError(f"audit.witnesses: witness {name} is listed twice")
        names.add(name)
    if names and not 1 <= s.audit.witness_quorum <= len(names):
        raise SettingsError(
            f"audit.witness_quorum: must be between 1 and the number of witnesses ({len(names)})"
        )
    if s.audit.witness_timeout <= 0 or s.audit.witness_retry_max <= 0:
        raise SettingsError("audit.witness_timeout/witness_retry_max: must be positive")


def _witness_name(vkey: str) -> str | None:
    """The name of a cosignature (type 0x04) verifier key, None if it is not one."""
    parts = vkey.split("+", 2)  # the base64 key may hold '+' too
    if len(parts) != 3 or not parts[0] or len(parts[1]) != 8:
        return None
    name, hex_id, material = parts
    try:
        raw = base64.b64decode(material, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 33 or raw[0] != 0x04:
        return None
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + raw).digest()[:4]
    return name if digest.hex() == hex_id else None

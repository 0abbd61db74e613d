"""Typed settings: dataclass defaults < TOML file < `CENCOMM_*` environment variables.

`load_settings` is the only place that reads the environment; it validates everything and raises
`SettingsError` naming the bad key, so a misconfigured server stops before it serves.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cencomm.domain.users import Role
from cencomm.settings_sources import (
    FILE_SUFFIX,
    coerce,
    from_file,
    is_host_port,
    is_udp_url,
    redact_url,
)
from cencomm.settings_sources import Secret as Secret  # re-exported: settings' own types
from cencomm.settings_sources import SettingsError as SettingsError

DEFAULT_CONFIG_FILE = Path("config/cencomm.toml")
MAX_ACCESS_TOKEN_TTL = 15 * 60

# Short names the public contract promises, besides the regular CENCOMM_<SECTION>_<KEY> names.
ENV_ALIASES: Mapping[str, tuple[str, str]] = {
    "CENCOMM_HOST": ("server", "host"),
    "CENCOMM_PORT": ("server", "port"),
    "CENCOMM_DATA_DIR": ("data", "dir"),
}


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    # Seconds that in-flight requests get to finish on shutdown.
    shutdown_timeout: float = 10.0
    # Server processes sharing the port (`serve --workers N`, see docs/deploy.md); several hosts
    # need PostgreSQL and the Redis bus.
    workers: int = 1


@dataclass(frozen=True, slots=True)
class HttpSettings:
    # JSON request bodies larger than this are refused with 413 before parsing.
    max_json_bytes: int = 1024 * 1024
    # Browser origins allowed to open WebSockets (besides the server's own).
    allowed_origins: tuple[str, ...] = ()
    # Number of reverse proxies in front of us whose X-Forwarded-For we trust (0: use the peer).
    trusted_proxy_hops: int = 0
    # Client addresses or networks (CIDR) that may read /metrics besides loopback; others get 404.
    metrics_allowed_addresses: tuple[str, ...] = ()
    # A bearer token that opens /metrics from any address (CENCOMM_HTTP_METRICS_TOKEN only).
    metrics_token: Secret | None = None
    # Seconds a connection may go without a complete request head (request line and headers):
    # from its opening and from the end of each answer, so idle keep-alive connections close too.
    header_timeout: float = 15.0
    # Seconds a request body may take, plus one more second for every `body_min_rate` bytes
    # received; a body still incomplete then gets 408 and the connection is closed.
    body_timeout: float = 30.0
    body_min_rate: int = 2048
    # Requests in progress at once in this process (health, readiness, metrics and WebSockets
    # aside); past it 503 server-busy with Retry-After.
    max_concurrent_requests: int = 256
    # Requests in progress at once for one authenticated user in this process; past it 429
    # too-many-requests with Retry-After.
    max_requests_per_user: int = 8


@dataclass(frozen=True, slots=True, repr=False)
class DatabaseSettings:
    # Any SQLAlchemy async URL; empty means an SQLite file in the data directory.
    url: str = ""
    # SQLite: how long a writer waits for the lock before failing, in milliseconds.
    sqlite_busy_timeout_ms: int = 5000
    # SQLite: FULL makes every commit durable across power loss; NORMAL trades that for speed.
    sqlite_synchronous: str = "FULL"
    # PostgreSQL: the pool's connections, all there is (no overflow): units beyond it wait.
    pool_size: int = 20
    # PostgreSQL: how long a statement waits for a lock before failing, in milliseconds; the
    # request then gets 503 with Retry-After instead of hanging (0 = wait for ever).
    postgres_lock_timeout_ms: int = 30000
    # Upgrade the schema to head when `cencomm serve` starts (`serve --no-migrate` also skips it).
    migrate_on_start: bool = True

    def __repr__(self) -> str:
        return _redacted_repr(self, "url")


@dataclass(frozen=True, slots=True)
class DataSettings:
    # Keys and attachment blobs live here.
    dir: Path = Path("var")


@dataclass(frozen=True, slots=True)
class AuthSettings:
    # Lifetime of access tokens in seconds (at most 900).
    access_token_ttl: int = 300
    # Lifetime of a session's refresh tokens in seconds (each refresh rotates the token).
    refresh_token_ttl: int = 12 * 3600
    # `iss` of our tokens.
    issuer: str = "cencomm"
    # Roles that must enable TOTP before they can log in.
    mfa_required_roles: tuple[str, ...] = ()
    # Failed logins per username within the window before 429.
    max_failures_per_account: int = 10
    # Failed logins per client address within the window before 429.
    max_failures_per_address: int = 100
    # Failed logins with one device token within the window before that token is refused (429).
    max_failures_per_device: int = 10
    # Lifetime in seconds of the device token each login issues (renewed at every login).
    device_token_ttl: int = 30 * 24 * 3600
    # Send the device cookie only over HTTPS (`Secure`): set this behind TLS.
    device_cookie_secure: bool = False
    # Length of the throttling window in seconds.
    failure_window: int = 15 * 60
    # Seconds a live session is cached per process (revocations there take effect at once;
    # other processes see them within this time at the latest). 0 turns the cache off.
    session_cache_seconds: float = 1.0
    # Seconds what a post reads (group, role in it, signing key, organisation) is cached per
    # process (changes there take effect at once; other processes see a revoked key, a closed
    # group or a new role in the group within this time at the latest). 0 turns the cache off.
    post_context_cache_seconds: float = 1.0
    # argon2id parameters: time cost, memory in KiB, parallelism.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 1


@dataclass(frozen=True, slots=True)
class AttachmentsSettings:
    # Largest attachment accepted, in bytes.
    max_bytes: int = 50 * 1024 * 1024
    # Attachment storage per group, in bytes (sum of its uploads' sizes; 0 = no quota).
    group_quota_bytes: int = 5 * 1024 * 1024 * 1024
    # Malware scanner: "none" (blobs are clean once stored) or "clamd" (pending until clean).
    scanner: str = "none"
    # clamd's socket: an absolute Unix socket path or tcp://host:port.
    clamd_address: str = "/run/clamav/clamd.ctl"
    # Seconds one scan may take before the scanner counts as unavailable.
    scan_timeout: float = 60.0
    # Seconds between retries of blobs still pending (scanner down or slow).
    scan_retry_interval: float = 30.0
    # Blob files no row names (an upload killed before its commit) and temporary files are
    # removed once this many seconds old (so an upload in flight is never swept).
    orphan_grace: float = 3600.0
    # Seconds between orphan sweeps; one also runs at start (0 = never, not even at start).
    orphan_sweep_interval: float = 3600.0
    # Images with more pixels than this are refused (decompression bombs), previews included.
    max_image_pixels: int = 50_000_000


@dataclass(frozen=True, slots=True)
class AuditSettings:
    # Origin line of signed tree-head checkpoints.
    origin: str = "cencomm"
    # SIEM forwarding: append every entry as one JSON line to this file ("" = off).
    forward_file: str = ""
    # SIEM forwarding to syslog: "udp://host:port" or a Unix datagram socket path ("" = off).
    forward_syslog: str = ""


@dataclass(frozen=True, slots=True)
class ExportSettings:
    # Largest total of attachment bytes an evidence export with ?blobs=true may carry (0 = no
    # limit); past it the export answers 413 export-too-large before anything is sent.
    max_bytes: int = 2 * 1024 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    # DEBUG, INFO, WARNING or ERROR.
    level: str = "INFO"
    # "json" (one object per line) or "text".
    format: str = "json"
    # Log one line per HTTP request.
    access_log: bool = True


@dataclass(frozen=True, slots=True)
class HubSettings:
    # Frames queued per WebSocket before it counts as a slow consumer (closed with 4408).
    queue_size: int = 256
    # Open WebSockets one user may hold on one server process (more: closed with 4429).
    max_connections_per_user: int = 16
    # Open WebSockets on one server process, all users together (more: 503 server-busy).
    max_connections: int = 2048
    # Seconds between WebSocket pings; a peer that does not answer is disconnected.
    heartbeat: float = 30.0
    # Seconds a new WebSocket has to send its auth frame (else closed with 4401).
    auth_timeout: float = 10.0
    # Seconds after `ready` the server waits for a `resume` before sending live messages.
    resume_wait: float = 2.0


@dataclass(frozen=True, slots=True, repr=False)
class BusSettings:
    # Cross-process notices: "" = in-process (one server), "redis://host:6379/0" = Redis pub/sub.
    url: str = ""
    # The Redis pub/sub channel shared by the processes of one deployment.
    channel: str = "cencomm:events"
    # Seconds between database polls for new messages while Redis is unreachable (live delivery
    # degrades to polling, losing nothing); 0 = no polling (sockets catch up on reconnect only).
    poll_interval: float = 1.0

    def __repr__(self) -> str:
        return _redacted_repr(self, "url")


def _redacted_repr(section: object, url_field: str) -> str:
    """The dataclass repr, with the password of a URL that may carry one masked."""
    shown = []
    for f in dataclasses.fields(section):  # type: ignore[arg-type]
        value = getattr(section, f.name)
        shown.append(f"{f.name}={redact_url(value) if f.name == url_field else value!r}")
    return f"{type(section).__name__}({', '.join(shown)})"


@dataclass(frozen=True, slots=True)
class AlertsSettings:
    # Seconds between sweeps for missed respond_by deadlines and reminders (0 = no sweeper).
    sweep_interval: float = 5.0
    # Seconds before respond_by when users of organisations that have not answered get a reminder
    # (none for an alert whose respond_by is sooner than this after it was sent).
    reminder_before: int = 3600


@dataclass(frozen=True, slots=True)
class NotificationsSettings:
    # The server's public base URL, for links in e-mails.
    base_url: str = "http://127.0.0.1:8080"
    # Seconds an alert e-mail waits; dropped if the alert reached a live socket or was acknowledged.
    delay: int = 60
    # Seconds between outbox runs (0 = no background sender).
    poll_interval: float = 5.0
    # Seconds a claimed e-mail stays reserved for the process that claimed it.
    lease: int = 120
    # Attempts before an e-mail the relay refuses for good (5xx) is given up; a relay that is
    # down or answers 4xx is retried for as long as it takes (never given up, never lost).
    max_attempts: int = 8
    # Seconds before the first retry; doubles with every failed attempt (at most one hour).
    retry_backoff: int = 30


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    # SMTP relay for e-mail notifications; "" = no e-mail.
    host: str = ""
    port: int = 587
    # Upgrade the connection with STARTTLS before sending (required unless false).
    starttls: bool = True
    # Log in when not empty; the password comes only from CENCOMM_SMTP_PASSWORD.
    username: str = ""
    password: Secret | None = None
    # Sender address of notifications.
    from_address: str = "cencomm@localhost"
    # Extra CA certificates (PEM file) to trust for the relay's certificate ("" = system ones).
    ca_file: str = ""
    # Seconds one SMTP conversation may take.
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    data: DataSettings = field(default_factory=DataSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    attachments: AttachmentsSettings = field(default_factory=AttachmentsSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    export: ExportSettings = field(default_factory=ExportSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    hub: HubSettings = field(default_factory=HubSettings)
    bus: BusSettings = field(default_factory=BusSettings)
    alerts: AlertsSettings = field(default_factory=AlertsSettings)
    notifications: NotificationsSettings = field(default_factory=NotificationsSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)

    @property
    def database_url(self) -> str:
        """The configured URL, or the default SQLite file inside the data directory."""
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{(self.data.dir / 'cencomm.db').resolve()}"


def section_types() -> dict[str, type]:
    """Section name → its dataclass, in declaration order."""
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in dataclasses.fields(Settings)}


def _field_types(section_cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(section_cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(section_cls)}


def _env_name(section: str, key: str) -> str:
    return f"CENCOMM_{section.upper()}_{key.upper()}"


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (if any) and the environment, validate, and return frozen settings.

    Args:
        path: the TOML file; else `CENCOMM_CONFIG`; else `config/cencomm.toml` when it exists.
        environ: the environment to read (defaults to `os.environ`).

    Raises:
        SettingsError: naming the first bad setting.
    """
    env = os.environ if environ is None else environ
    file_values: dict[str, Any] = {}
    config_path = path or (Path(env["CENCOMM_CONFIG"]) if env.get("CENCOMM_CONFIG") else None)
    if config_path is None and DEFAULT_CONFIG_FILE.is_file():
        config_path = DEFAULT_CONFIG_FILE
    if config_path is not None:
        try:
            file_values = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SettingsError(f"config file {config_path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {config_path}: {exc}") from None

    sections = section_types()
    for name, value in file_values.items():
        if name not in sections:
            raise SettingsError(f"{name}: unknown section in {config_path}")
        if not isinstance(value, dict):
            raise SettingsError(f"{name}: expected a table in {config_path}")

    aliases_by_field = {target: alias for alias, target in ENV_ALIASES.items()}
    built: dict[str, object] = {}
    for section, section_cls in sections.items():
        table = file_values.get(section, {})
        types_by_key = _field_types(section_cls)
        for key in table:
            if key not in types_by_key and key.removesuffix(FILE_SUFFIX) not in types_by_key:
                raise SettingsError(f"{section}.{key}: unknown setting in {config_path}")
        values: dict[str, object] = {}
        for key, kind in types_by_key.items():
            label = f"{section}.{key}"
            if key in table:
                values[key] = coerce(label, kind, table[key], from_env=False)
            # A value kept in a file is not in the TOML: secrets may come from there too.
            file_key = key + FILE_SUFFIX
            if file_key in table:
                where = f"{section}.{file_key}"
                values[key] = coerce(label, kind, from_file(where, table[file_key]), True)
            for env_name in (aliases_by_field.get((section, key)), _env_name(section, key)):
                if env_name and env_name in env:
                    values[key] = coerce(f"{label} ({env_name})", kind, env[env_name], True)
                file_env = f"{env_name}{FILE_SUFFIX.upper()}" if env_name else ""
                if file_env and file_env in env:
                    value = from_file(f"{label} ({file_env})", env[file_env])
                    values[key] = coerce(f"{label} ({file_env})", kind, value, True)
        built[section] = section_cls(**values)
    settings = Settings(**built)  # type: ignore[arg-type]
    validate(settings)
    return settings


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


MAX_WORKERS = 64


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


def admin_password_from_environment(environ: Mapping[str, str] | None = None) -> Secret | None:
    """`CENCOMM_ADMIN_PASSWORD`, or the file `CENCOMM_ADMIN_PASSWORD_FILE` names, for
    `cencomm create-admin` run by automation."""
    env = os.environ if environ is None else environ
    if env.get("CENCOMM_ADMIN_PASSWORD_FILE"):
        value = from_file("CENCOMM_ADMIN_PASSWORD_FILE", env["CENCOMM_ADMIN_PASSWORD_FILE"])
    else:
        value = env.get("CENCOMM_ADMIN_PASSWORD", "")
    return Secret(value) if value else None


def client_home(environ: Mapping[str, str] | None = None) -> Path:
    """Where `cencomm client` keeps its state and key: `$CENCOMM_CLIENT_HOME`, else
    `$XDG_CONFIG_HOME/cencomm`, else `~/.config/cencomm`."""
    env = os.environ if environ is None else environ
    if env.get("CENCOMM_CLIENT_HOME"):
        return Path(env["CENCOMM_CLIENT_HOME"])
    if env.get("XDG_CONFIG_HOME"):
        return Path(env["XDG_CONFIG_HOME"]) / "cencomm"
    return Path.home() / ".config" / "cencomm"

"""The settings' sections: one frozen dataclass per `[section]` of `config/cencomm.toml`, and
`Settings`, which holds them all. `cencomm.settings` loads them; `settings_checks` checks them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from cencomm.settings_sources import Secret, redact_url


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
    # Witnesses that cosign tree heads (c2sp.org/tlog-witness), each "<verifier key> <URL>".
    witnesses: tuple[str, ...] = ()
    # Cosignatures of distinct witnesses a checkpoint needs to count as witnessed.
    witness_quorum: int = 1
    # Seconds one add-checkpoint request may take before it counts as failed.
    witness_timeout: float = 10.0
    # Longest pause between retries to a failing witness (the backoff doubles up to it).
    witness_retry_max: float = 300.0


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

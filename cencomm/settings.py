"""Typed settings: dataclass defaults < TOML file < `CENCOMM_*` environment variables.

`load_settings` is the only place that reads the environment; it validates everything and raises
`SettingsError` naming the bad key, so a misconfigured server stops before it serves.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cencomm.domain.users import Role

DEFAULT_CONFIG_FILE = Path("config/cencomm.toml")
MAX_ACCESS_TOKEN_TTL = 15 * 60

# Short names the public contract promises, besides the regular CENCOMM_<SECTION>_<KEY> names.
ENV_ALIASES: Mapping[str, tuple[str, str]] = {
    "CENCOMM_HOST": ("server", "host"),
    "CENCOMM_PORT": ("server", "port"),
    "CENCOMM_DATA_DIR": ("data", "dir"),
}


class SettingsError(ValueError):
    """A setting is missing, malformed or out of range; the message names it."""


class Secret:
    """A secret string that never shows itself in logs, reprs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    # Seconds that in-flight requests get to finish on shutdown.
    shutdown_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class HttpSettings:
    # JSON request bodies larger than this are refused with 413 before parsing.
    max_json_bytes: int = 1024 * 1024
    # Browser origins allowed to open WebSockets (besides the server's own).
    allowed_origins: tuple[str, ...] = ()
    # Number of reverse proxies in front of us whose X-Forwarded-For we trust (0: use the peer).
    trusted_proxy_hops: int = 0


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    # Any SQLAlchemy async URL; empty means an SQLite file in the data directory.
    url: str = ""
    # SQLite: how long a writer waits for the lock before failing, in milliseconds.
    sqlite_busy_timeout_ms: int = 5000
    # SQLite: FULL makes every commit durable across power loss; NORMAL trades that for speed.
    sqlite_synchronous: str = "FULL"
    # PostgreSQL: connections kept in the pool.
    pool_size: int = 10
    # Upgrade the schema to head when `cencomm serve` starts.
    migrate_on_start: bool = True


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
    # Length of the throttling window in seconds.
    failure_window: int = 15 * 60
    # argon2id parameters: time cost, memory in KiB, parallelism.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 1


@dataclass(frozen=True, slots=True)
class AttachmentsSettings:
    # Largest attachment accepted, in bytes.
    max_bytes: int = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class AuditSettings:
    # Origin line of signed tree-head checkpoints.
    origin: str = "cencomm"
    # SIEM forwarding: append every entry as one JSON line to this file ("" = off).
    forward_file: str = ""
    # SIEM forwarding to syslog: "udp://host:port" or a Unix datagram socket path ("" = off).
    forward_syslog: str = ""


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    # DEBUG, INFO, WARNING or ERROR.
    level: str = "INFO"
    # "json" (one object per line) or "text".
    format: str = "json"
    # Log one line per HTTP request.
    access_log: bool = True


@dataclass(frozen=True, slots=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    data: DataSettings = field(default_factory=DataSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    attachments: AttachmentsSettings = field(default_factory=AttachmentsSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)

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


def _coerce(name: str, kind: Any, raw: object, from_env: bool) -> object:
    """Turn a TOML or environment value into the field's type, or say which setting is bad."""
    origin = typing.get_origin(kind)
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            if from_env and isinstance(raw, str) and raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if from_env and isinstance(raw, str) and raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError("expected true or false")
        if kind is int:
            if isinstance(raw, bool):
                raise ValueError("expected an integer")
            if isinstance(raw, int):
                return raw
            if from_env and isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
                return int(raw)
            raise ValueError("expected an integer")
        if kind is float:
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                return float(raw)
            if from_env and isinstance(raw, str):
                return float(raw)
            raise ValueError("expected a number")
        if kind is str:
            if isinstance(raw, str):
                return raw
            raise ValueError("expected a string")
        if kind is Path:
            if isinstance(raw, str) and raw:
                return Path(raw)
            raise ValueError("expected a path")
        if origin is tuple:
            if from_env and isinstance(raw, str):
                return tuple(part.strip() for part in raw.split(",") if part.strip())
            if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
                return tuple(raw)
            raise ValueError("expected a list of strings")
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc} (got {raw!r})") from None
    if isinstance(kind, types.UnionType):  # pragma: no cover - no optional settings yet
        return raw
    raise SettingsError(f"{name}: unsupported setting type")  # pragma: no cover


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
            if key not in types_by_key:
                raise SettingsError(f"{section}.{key}: unknown setting in {config_path}")
        values: dict[str, object] = {}
        for key, kind in types_by_key.items():
            label = f"{section}.{key}"
            if key in table:
                values[key] = _coerce(label, kind, table[key], from_env=False)
            for env_name in (aliases_by_field.get((section, key)), _env_name(section, key)):
                if env_name and env_name in env:
                    values[key] = _coerce(f"{label} ({env_name})", kind, env[env_name], True)
        built[section] = section_cls(**values)
    settings = Settings(**built)  # type: ignore[arg-type]
    validate(settings)
    return settings


def _is_udp_url(url: str) -> bool:
    host, _, port = url.removeprefix("udp://").rpartition(":")
    return url.startswith("udp://") and bool(host) and port.isdigit() and 0 < int(port) < 65536


def validate(settings: Settings) -> None:
    """Range and format checks that types alone cannot express."""
    s = settings
    if not 1 <= s.server.port <= 65535:
        raise SettingsError(f"server.port: must be between 1 and 65535 (got {s.server.port})")
    if not s.server.host:
        raise SettingsError("server.host: must not be empty")
    if s.http.max_json_bytes < 1024:
        raise SettingsError("http.max_json_bytes: must be at least 1024")
    if s.http.trusted_proxy_hops < 0:
        raise SettingsError("http.trusted_proxy_hops: must not be negative")
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
    if not 30 <= s.auth.access_token_ttl <= MAX_ACCESS_TOKEN_TTL:
        raise SettingsError("auth.access_token_ttl: must be between 30 and 900 seconds")
    if s.auth.refresh_token_ttl < s.auth.access_token_ttl:
        raise SettingsError("auth.refresh_token_ttl: must not be shorter than access tokens")
    known_roles = {role.value for role in Role}
    for role in s.auth.mfa_required_roles:
        if role not in known_roles:
            raise SettingsError(f"auth.mfa_required_roles: unknown role {role!r}")
    for key in ("max_failures_per_account", "max_failures_per_address", "failure_window"):
        if getattr(s.auth, key) < 1:
            raise SettingsError(f"auth.{key}: must be at least 1")
    if s.auth.argon2_memory_kib < 8 * s.auth.argon2_parallelism or s.auth.argon2_time_cost < 1:
        raise SettingsError("auth.argon2_*: time cost >= 1 and memory >= 8 KiB per lane")
    if s.attachments.max_bytes < 1:
        raise SettingsError("attachments.max_bytes: must be positive")
    if not s.audit.origin or "\n" in s.audit.origin:
        raise SettingsError("audit.origin: must be one non-empty line")
    syslog = s.audit.forward_syslog
    if syslog and not (syslog.startswith("/") or _is_udp_url(syslog)):
        raise SettingsError(
            "audit.forward_syslog: must be udp://host:port or an absolute Unix socket path"
        )
    if s.logging.level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError("logging.level: must be DEBUG, INFO, WARNING or ERROR")
    if s.logging.format not in {"json", "text"}:
        raise SettingsError("logging.format: must be json or text")


def admin_password_from_environment(environ: Mapping[str, str] | None = None) -> Secret | None:
    """`CENCOMM_ADMIN_PASSWORD`, for `cencomm create-admin` run by automation."""
    value = (os.environ if environ is None else environ).get("CENCOMM_ADMIN_PASSWORD")
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

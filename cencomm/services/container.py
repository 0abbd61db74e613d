"""Services: every use case object, built once per app from its resources."""

from __future__ import annotations

from dataclasses import dataclass

from cencomm.crypto.passwords import Passwords
from cencomm.domain.clock import Clock
from cencomm.realtime.links import WorkerLinks
from cencomm.services.alert_deadlines import AlertSweeper
from cencomm.services.alerts import AlertService
from cencomm.services.analytics import AnalyticsService
from cencomm.services.attachment_blobs import BlobVault
from cencomm.services.attachments import AttachmentService
from cencomm.services.audit import AuditTrail
from cencomm.services.audit_forward import AuditForwarder, sinks_from
from cencomm.services.audit_log import AuditLogService
from cencomm.services.audit_witness import WitnessCollector
from cencomm.services.auth import AuthService
from cencomm.services.correlations import CorrelationService
from cencomm.services.directory import DirectoryService
from cencomm.services.events import LocalEvents
from cencomm.services.exchange import ExchangeService
from cencomm.services.export import EvidenceExportService
from cencomm.services.groups import GroupService
from cencomm.services.health import HealthService
from cencomm.services.keys import KeyService
from cencomm.services.message_writer import MessageWriter, PostWriter
from cencomm.services.messaging import MessagingService
from cencomm.services.notifications import NotificationService
from cencomm.services.post_contexts import PostContextCache
from cencomm.services.remote_writer import RemoteWriter, WriterEndpoint
from cencomm.services.scanner import make_scanner
from cencomm.services.seals import SealService
from cencomm.services.session_cache import SessionCache
from cencomm.services.share_requests import ShareRequestService
from cencomm.services.watch_lists import WatchListService
from cencomm.settings import Settings
from cencomm.storage.checkpoints import CheckpointFile, checkpoint_path
from cencomm.storage.db import Database
from cencomm.storage.keyring import ServerKeys, load_or_create_name_key


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    db: Database
    clock: Clock
    keys_ring: ServerKeys
    audit: AuditTrail
    health: HealthService
    auth: AuthService
    directory: DirectoryService
    keys: KeyService
    audit_log: AuditLogService
    audit_forwarder: AuditForwarder
    witnesses: WitnessCollector
    events: LocalEvents
    session_cache: SessionCache
    post_contexts: PostContextCache
    groups: GroupService
    messaging: MessagingService
    alerts: AlertService
    alert_deadlines: AlertSweeper
    attachments: AttachmentService
    export: EvidenceExportService
    analytics: AnalyticsService
    exchange: ExchangeService
    watch_lists: WatchListService
    share_requests: ShareRequestService
    correlations: CorrelationService
    seals: SealService


def build_services(
    settings: Settings,
    db: Database,
    clock: Clock,
    keys: ServerKeys,
    links: WorkerLinks | None = None,
) -> Services:
    """`links`: this process is one of `serve --workers N` (see `realtime/links.py`)."""
    audit = AuditTrail(clock)
    events = LocalEvents()
    session_cache = SessionCache(settings.auth.session_cache_seconds)
    events.subscribe(session_cache)
    post_contexts = PostContextCache(settings.auth.post_context_cache_seconds, events)
    db.changes.subscribe(post_contexts.changed)  # every write here that changes what posts read
    groups = GroupService(db, clock, audit, events)
    notifications = NotificationService(db, clock, audit, settings.notifications, settings.smtp)
    alerts = AlertService(
        db, clock, audit, events, groups, notifications, settings.alerts.reminder_before
    )
    alert_deadlines = AlertSweeper(db, clock, audit, events, notifications, settings.alerts)
    passwords = Passwords(
        settings.auth.argon2_time_cost,
        settings.auth.argon2_memory_kib,
        settings.auth.argon2_parallelism,
    )
    attachment_settings = settings.attachments
    attachments = AttachmentService(
        db,
        clock,
        audit,
        groups,
        attachment_settings,
        BlobVault(settings.data.dir, load_or_create_name_key(settings.data.dir)),
        make_scanner(
            attachment_settings.scanner,
            attachment_settings.clamd_address,
            attachment_settings.scan_timeout,
        ),
    )
    audit_log = AuditLogService(
        db,
        clock,
        audit,
        keys.audit,
        settings.audit.origin,
        CheckpointFile(checkpoint_path(settings.data.dir)),
    )
    watch_lists = WatchListService(
        db, clock, audit, events, notifications, settings.notifications.base_url
    )
    events.subscribe(watch_lists)  # matches each new report after its commit
    witnesses = WitnessCollector(db, clock, audit, audit_log, keys.audit, settings.audit)
    export = EvidenceExportService(
        db,
        clock,
        audit,
        audit_log,
        groups,
        attachments.vault,
        keys.audit,
        settings.export.max_bytes,
        witnesses,
    )
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        keys_ring=keys,
        audit=audit,
        health=HealthService(db),
        auth=AuthService(db, clock, audit, keys, settings.auth, passwords, events, session_cache),
        directory=DirectoryService(db, clock, audit, passwords, events, session_cache),
        keys=KeyService(db, clock, audit),
        audit_log=audit_log,
        audit_forwarder=AuditForwarder(db, audit, sinks_from(settings.audit)),
        witnesses=witnesses,
        events=events,
        session_cache=session_cache,
        post_contexts=post_contexts,
        groups=groups,
        alerts=alerts,
        alert_deadlines=alert_deadlines,
        messaging=MessagingService(
            db,
            clock,
            audit,
            events,
            groups,
            _post_writer(db, clock, audit, events, links),
            post_contexts,
        ),
        attachments=attachments,
        export=export,
        analytics=AnalyticsService(db, clock, audit, groups),
        exchange=ExchangeService(db, clock, audit, groups),
        watch_lists=watch_lists,
        share_requests=ShareRequestService(db, clock, audit, groups, events),
        correlations=CorrelationService(db, groups),
        seals=SealService(db, clock, audit, groups, events),
    )


def _post_writer(
    db: Database, clock: Clock, audit: AuditTrail, events: LocalEvents, links: WorkerLinks | None
) -> PostWriter:
    """On SQLite with several workers, one writer for all (worker 0's): SQLite has one write
    lock, and processes taking turns on it halve each other's batches (`remote_writer.py`)."""
    if links is None or db.dialect != "sqlite":
        return MessageWriter(db, clock, audit, events)
    if not links.hub:
        return RemoteWriter(links)
    writer = MessageWriter(db, clock, audit, events)
    WriterEndpoint(links, writer)
    return writer

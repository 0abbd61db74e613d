"""Unit: the typed stores of one transaction, and what to do once it has committed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import cached_property
from typing import TypeVar

from sqlalchemy.orm import Session
from sqlalchemy.util import await_

from cencomm.storage.alert_boards import AlertBoardStore
from cencomm.storage.alerts import AlertStore
from cencomm.storage.analytics import AnalyticsStore
from cencomm.storage.attachments import AttachmentStore
from cencomm.storage.audience import AudienceStore
from cencomm.storage.audit import AuditStore
from cencomm.storage.audit_tree import AuditTreeStore
from cencomm.storage.changes import Changed, marked
from cencomm.storage.correlations import CorrelationStore
from cencomm.storage.device_tokens import DeviceTokenStore
from cencomm.storage.evidence import EvidenceStore
from cencomm.storage.exchange import ExchangeStore
from cencomm.storage.groups import GroupStore
from cencomm.storage.identifier_figures import IdentifierFiguresStore
from cencomm.storage.keys import SigningKeyStore
from cencomm.storage.login_throttle import LoginThrottleStore
from cencomm.storage.message_batch import MessageBatchStore
from cencomm.storage.messages import MessageStore
from cencomm.storage.outbox import OutboxStore
from cencomm.storage.schema import SchemaStore
from cencomm.storage.seals import SealStore
from cencomm.storage.sessions import SessionStore
from cencomm.storage.share_requests import ShareRequestStore
from cencomm.storage.snapshots import SnapshotStore
from cencomm.storage.users import OrganizationStore, UserStore
from cencomm.storage.watch_lists import WatchStore
from cencomm.storage.witness import CosignatureStore

T = TypeVar("T")


class Unit:
    """One transaction, seen through its stores. Made by `Database.write` and `Database.read`
    only; a unit is used by one thread from start to finish and never kept after it."""

    def __init__(self, session: Session, *, on_event_loop: bool = False) -> None:
        self._session = session
        self._on_event_loop = on_event_loop
        self.dialect = session.get_bind().dialect.name
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` on the event loop once this unit has committed (never if it rolls
        back): publishing events, waking background jobs."""
        self._after_commit.append(callback)

    def run_blocking(self, call: Callable[[], T]) -> T:
        """Blocking I/O that belongs inside the unit (under its locks, before its commit), kept
        off the event loop: SQLite units already run in a worker thread; PostgreSQL units run on
        the loop (`run_sync`), so the call goes to a thread while the unit waits for it."""
        if self._on_event_loop:
            return await_(asyncio.to_thread(call))
        return call()

    @property
    def changed(self) -> frozenset[Changed]:
        """What this unit's stores marked as changed (see `storage.changes`)."""
        return marked(self._session)

    def committed(self) -> None:
        """Called by `Database` after the commit, on the event loop."""
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    @cached_property
    def alert_boards(self) -> AlertBoardStore:
        return AlertBoardStore(self._session)

    @cached_property
    def alerts(self) -> AlertStore:
        return AlertStore(self._session)

    @cached_property
    def analytics(self) -> AnalyticsStore:
        return AnalyticsStore(self._session)

    @cached_property
    def attachments(self) -> AttachmentStore:
        return AttachmentStore(self._session)

    @cached_property
    def audience(self) -> AudienceStore:
        return AudienceStore(self._session)

    @cached_property
    def audit(self) -> AuditStore:
        return AuditStore(self._session)

    @cached_property
    def audit_tree(self) -> AuditTreeStore:
        return AuditTreeStore(self._session)

    @cached_property
    def correlations(self) -> CorrelationStore:
        return CorrelationStore(self._session)

    @cached_property
    def device_tokens(self) -> DeviceTokenStore:
        return DeviceTokenStore(self._session)

    @cached_property
    def evidence(self) -> EvidenceStore:
        return EvidenceStore(self._session)

    @cached_property
    def exchange(self) -> ExchangeStore:
        return ExchangeStore(self._session)

    @cached_property
    def groups(self) -> GroupStore:
        return GroupStore(self._session)

    @cached_property
    def keys(self) -> SigningKeyStore:
        return SigningKeyStore(self._session)

    @cached_property
    def login_throttle(self) -> LoginThrottleStore:
        return LoginThrottleStore(self._session)

    @cached_property
    def message_batch(self) -> MessageBatchStore:
        return MessageBatchStore(self._session)

    @cached_property
    def messages(self) -> MessageStore:
        return MessageStore(self._session)

    @cached_property
    def organizations(self) -> OrganizationStore:
        return OrganizationStore(self._session)

    @cached_property
    def outbox(self) -> OutboxStore:
        return OutboxStore(self._session)

    @cached_property
    def schema(self) -> SchemaStore:
        return SchemaStore(self._session)

    @cached_property
    def seals(self) -> SealStore:
        return SealStore(self._session)

    @cached_property
    def snapshots(self) -> SnapshotStore:
        return SnapshotStore(self._session)

    @cached_property
    def sessions(self) -> SessionStore:
        return SessionStore(self._session)

    @cached_property
    def share_requests(self) -> ShareRequestStore:
        return ShareRequestStore(self._session)

    @cached_property
    def users(self) -> UserStore:
        return UserStore(self._session)

    @cached_property
    def identifier_figures(self) -> IdentifierFiguresStore:
        return IdentifierFiguresStore(self._session)

    @cached_property
    def watches(self) -> WatchStore:
        return WatchStore(self._session)

    @cached_property
    def cosignatures(self) -> CosignatureStore:
        return CosignatureStore(self._session)

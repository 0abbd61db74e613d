"""ORM models on one Base, one module per aggregate. Alembic migrations create them;
tests compare the two for drift."""

from cencomm.storage.tables.alerts import (
    AlertAckRow,
    AlertOrganizationRow,
    AlertRecipientRow,
    AlertRow,
    NotificationPreferenceRow,
    OutboxRow,
)
from cencomm.storage.tables.attachments import (
    AttachmentRow,
    BlobRow,
    MessageAttachmentRow,
)
from cencomm.storage.tables.audit import (
    AuditEntryRow,
    AuditForwardCursorRow,
    AuditSequence,
    AuditSubtreeRow,
    AuditTreeHeadRow,
    AuditTreeStateRow,
)
from cencomm.storage.tables.base import (
    NAMING_CONVENTION,
    Base,
    UtcDateTime,
    core_table,
)
from cencomm.storage.tables.correlations import ReportIdentifierRow
from cencomm.storage.tables.groups import (
    GroupMemberRow,
    GroupRow,
    JoinRequestRow,
)
from cencomm.storage.tables.identity import (
    DeviceTokenRow,
    LoginAttemptRow,
    LoginThrottleRow,
    OrganizationRow,
    RefreshTokenRow,
    SessionRow,
    SigningKeyRow,
    UserRow,
)
from cencomm.storage.tables.messages import (
    MessageRow,
    SeizureCountRow,
    SeizureItemRow,
    SeizureQuantityRow,
    SeizureReportRow,
    SeizureTransitRow,
)
from cencomm.storage.tables.seals import (
    CountersignatureRow,
    OrganizationKeyRow,
    SealHolderRow,
)
from cencomm.storage.tables.share_requests import ShareRequestRow, ShareTargetRow
from cencomm.storage.tables.watches import WatchMatchRow, WatchRow
from cencomm.storage.tables.witness import AuditCosignatureRow

__all__ = [
    "NAMING_CONVENTION",
    "AlertAckRow",
    "AlertOrganizationRow",
    "AlertRecipientRow",
    "AlertRow",
    "AttachmentRow",
    "AuditCosignatureRow",
    "AuditEntryRow",
    "AuditForwardCursorRow",
    "AuditSequence",
    "AuditSubtreeRow",
    "AuditTreeHeadRow",
    "AuditTreeStateRow",
    "Base",
    "BlobRow",
    "CountersignatureRow",
    "DeviceTokenRow",
    "GroupMemberRow",
    "GroupRow",
    "JoinRequestRow",
    "LoginAttemptRow",
    "LoginThrottleRow",
    "MessageAttachmentRow",
    "MessageRow",
    "NotificationPreferenceRow",
    "OrganizationKeyRow",
    "OrganizationRow",
    "OutboxRow",
    "RefreshTokenRow",
    "ReportIdentifierRow",
    "SealHolderRow",
    "SeizureCountRow",
    "SeizureItemRow",
    "SeizureQuantityRow",
    "SeizureReportRow",
    "SeizureTransitRow",
    "SessionRow",
    "ShareRequestRow",
    "ShareTargetRow",
    "SigningKeyRow",
    "UserRow",
    "UtcDateTime",
    "WatchMatchRow",
    "WatchRow",
    "core_table",
]

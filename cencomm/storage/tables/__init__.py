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

__all__ = [
    "NAMING_CONVENTION",
    "AlertAckRow",
    "AlertOrganizationRow",
    "AlertRecipientRow",
    "AlertRow",
    "AttachmentRow",
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
    "SealHolderRow",
    "SeizureCountRow",
    "SeizureItemRow",
    "SeizureQuantityRow",
    "SeizureReportRow",
    "SeizureTransitRow",
    "SessionRow",
    "SigningKeyRow",
    "UserRow",
    "UtcDateTime",
    "core_table",
]

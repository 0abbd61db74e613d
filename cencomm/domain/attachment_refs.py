"""An envelope's `att` entries matched against stored attachments, for messages and alerts alike.

The payload names each attachment by SHA-256 and size, so the signature covers the file; an
entry matches an attachment of the right group(s) with that hash and size. Quarantined
(infected) attachments never match.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cencomm.domain.attachments import Attachment, BlobStatus
from cencomm.domain.envelopes import AttachmentRef
from cencomm.domain.errors import FieldError, Invalid


def match_attachments(
    refs: Sequence[AttachmentRef], candidates: Iterable[Attachment], where: str
) -> list[Attachment]:
    """The attachment each entry names, in order.

    Args:
        candidates: the attachments the entries may name (with these hashes, in the groups
            allowed), quarantined ones included: they are left out here.
        where: what the candidates are, for the message ("this group", ...).

    Raises:
        Invalid: `unknown-attachment`, naming the first entry that matches none.
    """
    by_hash = {a.sha256: a for a in candidates if a.status is not BlobStatus.INFECTED}
    matched = []
    for index, ref in enumerate(refs):
        attachment = by_hash.get(ref.sha256)
        if attachment is None or attachment.size != ref.size:
            message = f"no attachment of {where} has this hash and size"
            raise Invalid(
                message,
                slug="unknown-attachment",
                errors=(FieldError(f"jws.payload.att[{index}]", message),),
            )
        matched.append(attachment)
    return matched

"""The attachments' problem types: uploads refused, scans, quarantine, downloads.

Part of the catalogue (`cencomm.domain.problems`), in its order: `CATALOGUE` takes them whole
where the attachment problems stand in docs/problems.md.
"""

from __future__ import annotations

from typing import Final

from cencomm.domain.problem_type import ProblemType

ATTACHMENT_PROBLEMS: Final[tuple[ProblemType, ...]] = (
    ProblemType(
        "unknown-attachment",
        422,
        "Unknown attachment",
        "an `att` entry matches no attachment of this group by hash and size (an alert's: of a "
        "target group the sender may post in); quarantined ones never match",
    ),
    ProblemType(
        "unsupported-attachment-type",
        415,
        "Unsupported attachment type",
        "attachments: the declared `Content-Type` is not on the allow-list (JPEG, PNG, WebP, PDF, "
        "text/plain, text/csv, docx, xlsx)",
    ),
    ProblemType(
        "attachment-type-mismatch",
        415,
        "Attachment type mismatch",
        "attachments: declared type, file name extension and sniffed content disagree, or the "
        "content is also HTML/script/PDF (a polyglot), or text is not UTF-8 without NUL",
    ),
    ProblemType(
        "unsafe-attachment",
        422,
        "Unsafe attachment",
        "attachments: content of an allowed type that is unsafe: a PDF with JavaScript or actions,"
        " a zip bomb, overlapping or special zip entries, macros, a pixel flood",
    ),
    ProblemType("empty-attachment", 422, "Empty file", "attachments: the file is empty"),
    ProblemType(
        "invalid-attachment-name",
        422,
        "Invalid attachment name",
        "attachments: nothing is left of the file name once reduced to a safe base name",
    ),
    ProblemType(
        "attachment-too-large",
        413,
        "Attachment too large",
        "attachments: over `attachments.max_bytes` (refused as soon as it is passed, whatever "
        "`Content-Length` said)",
    ),
    ProblemType(
        "group-quota-exceeded",
        413,
        "Group storage quota exceeded",
        "attachments: the group's uploads would pass `attachments.group_quota_bytes`",
    ),
    ProblemType(
        "export-too-large",
        413,
        "Export too large",
        "evidence export with `?blobs=true`: the group's clean attachments come to more than "
        "`export.max_bytes`; export without the blobs",
    ),
    ProblemType(
        "multipart-invalid",
        400,
        "Invalid multipart upload",
        "attachments: the multipart body is truncated, malformed, or not exactly one part named "
        "`file`",
    ),
    ProblemType(
        "truncated-body",
        400,
        "Malformed request",
        "the request body ended before its declared length",
    ),
    ProblemType(
        "attachment-infected",
        422,
        "Attachment infected",
        "attachments: the scanner found malware; the file is quarantined and reported to the "
        "group's moderators",
    ),
    ProblemType(
        "attachment-pending",
        409,
        "Attachment not scanned yet",
        "attachments: not scanned yet (or the scanner is unavailable); try again later",
    ),
    ProblemType(
        "attachment-quarantined",
        409,
        "Attachment quarantined",
        "attachments: the scanner found malware; it is never served",
    ),
    ProblemType(
        "preview-unavailable",
        422,
        "No preview",
        "attachments: `?preview=true` on something that is not an image",
    ),
    ProblemType(
        "range-not-satisfiable",
        416,
        "Range not satisfiable",
        "attachments: the `Range` starts past the end (see `Content-Range: bytes */<size>`)",
    ),
    ProblemType(
        "attachment-corrupted",
        500,
        "Attachment corrupted",
        "attachments: the stored blob failed its integrity check (tampered with or damaged); "
        "nothing unverified was served",
    ),
)

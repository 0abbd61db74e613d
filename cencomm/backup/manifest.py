"""The backup manifest (`manifest.json`): what the backup holds, and checking a backup against it.

    {"format": "cencomm-backup", "format_version": 1, "cencomm_version": "0.1.0",
     "created_at": "2026-12-06T15:00:00Z", "database": "sqlite" | "postgresql",
     "alembic_revision": "…", "tree_head": {GET /audit/tree-head} | null,
     "blobs": 12, "files": [{"path": "data/keys/audit/….pem", "size": 119, "sha256": "…"}, …],
     "manifest_sha256": "…"}

`manifest_sha256` covers the rest of the document (canonical JSON): it catches a damaged or
edited manifest, as the per-file hashes catch a damaged file. It is no signature: whoever holds
a backup holds the server's keys anyway, so the backup itself must be kept safe.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from cencomm.domain.audit_tree import TreeHead
from cencomm.domain.clock import rfc3339
from cencomm.domain.wire.audit import tree_head_json
from cencomm.verification.tree_heads import tree_head_from_json

MANIFEST = "manifest.json"
FORMAT = "cencomm-backup"
FORMAT_VERSION = 1
DATABASE_DIR = "database"
DATA_DIR = "data"
DATABASE_FILES = {"sqlite": "cencomm.db", "postgresql": "cencomm.pgdump"}


class ManifestError(ValueError):
    """The backup does not match its manifest, or the manifest is not one we can read."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str  # relative, POSIX, under database/ or data/
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    cencomm_version: str
    created_at: datetime
    database: str
    alembic_revision: str | None
    tree_head: TreeHead | None
    blobs: int
    files: tuple[FileEntry, ...]

    @property
    def database_file(self) -> str:
        return f"{DATABASE_DIR}/{DATABASE_FILES[self.database]}"

    def document(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "cencomm_version": self.cencomm_version,
            "created_at": rfc3339(self.created_at),
            "database": self.database,
            "alembic_revision": self.alembic_revision,
            "tree_head": None if self.tree_head is None else tree_head_json(self.tree_head),
            "blobs": self.blobs,
            "files": [
                {"path": f.path, "size": f.size, "sha256": f.sha256}
                for f in sorted(self.files, key=lambda f: f.path)
            ],
        }
        return {**body, "manifest_sha256": _digest(body)}

    def dumps(self) -> str:
        return json.dumps(self.document(), indent=1, sort_keys=True) + "\n"


def _digest(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def safe_path(value: Any) -> str:
    """A manifest path, refused unless it is relative, normal and under database/ or data/
    (a manifest must never make restore write outside its target)."""
    if not isinstance(value, str) or not value or "\\" in value or "\0" in value:
        raise ManifestError(f"bad file path {value!r}")
    path = PurePosixPath(value)
    parts = path.parts
    if path.is_absolute() or any(p in ("", ".", "..") for p in parts) or str(path) != value:
        raise ManifestError(f"bad file path {value!r}")
    if len(parts) < 2 or parts[0] not in (DATABASE_DIR, DATA_DIR):
        raise ManifestError(f"file path {value!r} is outside database/ and data/")
    return value


def parse(text: str) -> Manifest:
    """Read a manifest and check it is whole and one this version can restore.

    Raises:
        ManifestError: what is wrong with it.
    """
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ManifestError(f"{MANIFEST} is not JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ManifestError(f"{MANIFEST} is not a cencomm backup manifest")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise ManifestError(
            f"backup format {version!r} is not {FORMAT_VERSION}: restore it with the cencomm "
            f"version that made it ({document.get('cencomm_version')!r}) or a newer one"
        )
    body = {k: v for k, v in document.items() if k != "manifest_sha256"}
    if document.get("manifest_sha256") != _digest(body):
        raise ManifestError(f"{MANIFEST} was altered or damaged (its manifest_sha256 differs)")
    try:
        return _manifest(document)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ManifestError):
            raise
        raise ManifestError(f"{MANIFEST} is malformed ({type(exc).__name__}: {exc})") from None


def _manifest(document: dict[str, Any]) -> Manifest:
    database = document["database"]
    if database not in DATABASE_FILES:
        raise ManifestError(f"unknown database kind {database!r}")
    revision = document["alembic_revision"]
    if revision is not None and not isinstance(revision, str):
        raise ManifestError("alembic_revision must be a string or null")
    files = []
    for item in document["files"]:
        sha = str(item["sha256"])
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise ManifestError(f"bad sha256 for {item['path']!r}")
        size = item["size"]
        if not isinstance(size, int) or size < 0:
            raise ManifestError(f"bad size for {item['path']!r}")
        files.append(FileEntry(safe_path(item["path"]), size, sha))
    if len({f.path for f in files}) != len(files):
        raise ManifestError("a file is listed twice")
    head = document["tree_head"]
    blobs = document["blobs"]
    if not isinstance(blobs, int) or blobs < 0:
        raise ManifestError("bad blob count")
    manifest = Manifest(
        cencomm_version=str(document["cencomm_version"]),
        created_at=datetime.fromisoformat(str(document["created_at"]).replace("Z", "+00:00")),
        database=database,
        alembic_revision=revision,
        tree_head=None if head is None else tree_head_from_json(head),
        blobs=blobs,
        files=tuple(files),
    )
    if manifest.database_file not in {f.path for f in files}:
        raise ManifestError(f"the database copy {manifest.database_file} is not listed")
    return manifest


def listed_tree(root: Path) -> set[str]:
    """Every regular file under `root` as a manifest path (the manifest itself left out);
    anything else (a link, a device) is named by a ManifestError."""
    found = set()
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise ManifestError(f"{relative} is not a regular file or directory")
        if path.is_file() and relative != MANIFEST:
            found.add(relative)
    return found

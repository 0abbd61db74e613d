"""A small real filesystem for the blob directory, filled and freed on demand.

As root (CI, the development machine) it is a tmpfs mounted over `<data dir>/blobs`: writing a
blob past its free space fails with the kernel's own ENOSPC. Where mounting is not allowed, the
blob writer's file fails with ENOSPC while the filler exists (a seam in `BlobWriter.write`).
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

from cencomm.storage import blobs

FILLER = "filler.bin"
HEADROOM = 16 * 1024  # left free by `fill`: less than any upload of the fault tests needs


class SmallDisk:
    def __init__(self, data_dir: Path, size_bytes: int) -> None:
        self.root = data_dir / "blobs"
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.filler = self.root / FILLER
        self.mounted = (
            subprocess.run(
                [
                    "mount", "-t", "tmpfs", "-o", f"size={size_bytes},mode=0700", "tmpfs",
                    str(self.root),
                ],
                capture_output=True,
                check=False,
            ).returncode
            == 0
        )  # fmt: skip
        self._real_write = blobs.BlobWriter.write
        if not self.mounted:
            filler = self.filler
            real_write = self._real_write

            def write(writer: blobs.BlobWriter, data: bytes) -> None:
                if filler.exists():
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                real_write(writer, data)

            blobs.BlobWriter.write = write  # type: ignore[method-assign,assignment]

    def fill(self) -> None:
        """Take all the free space but `HEADROOM`."""
        if not self.mounted:
            self.filler.write_bytes(b"")
            return
        stats = os.statvfs(self.root)
        free = stats.f_bavail * stats.f_frsize
        with self.filler.open("wb") as handle:
            handle.write(b"\0" * max(0, free - HEADROOM))

    def free(self) -> None:
        """The operator frees space."""
        self.filler.unlink(missing_ok=True)

    def close(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.root)], check=False)
        else:
            blobs.BlobWriter.write = self._real_write  # type: ignore[method-assign]

"""Atomic file writes: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_path(target: str | os.PathLike[str], backup: bool = False) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it onto *target*.

    On any exception the temporary file is removed and *target* is untouched.
    With ``backup=True`` an existing target is first copied to ``<name>.bak``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~xlplan-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if backup and target.exists():
            shutil.copy2(target, target.with_name(target.name + ".bak"))
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_bytes_atomic(target: str | os.PathLike[str], data: bytes, backup: bool = False) -> None:
    with atomic_path(target, backup=backup) as tmp:
        tmp.write_bytes(data)

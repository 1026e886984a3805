"""Atomic, tidy file writes: the one place xlplan replaces a file.

* Write to a temporary file beside the target (``.~xlplan-<pid>-….ext``), then rename.
* Never write to a file that is open (an Excel ``~$`` or LibreOffice ``.~lock`` lock file
  beside it) or read-only (no write bit, checked from the mode bits: a process running as
  an administrator or root could otherwise write anyway); a rename that the system refuses
  (Windows: the file is open) becomes a Swedish :class:`~xlplan.core.errors.WorkbookRefused`.
* The new file keeps the mode of the file it replaces; a new file gets ``0o666`` less the
  umask (as ``open()`` would), never ``mkstemp``'s 0600.
* Backups go to one hidden folder, ``.xlplan-backup/`` beside the files, the last
  :data:`BACKUPS_KEPT` versions of each file.
* Leftovers of an interrupted run (temporary files of a process that no longer runs) are
  removed at the next write in that folder.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from xlplan.core.errors import WorkbookRefused
from xlplan.core.naming import BACKUP_DIR, TEMP_PREFIX  # the names of every file xlplan writes: one place

BACKUPS_KEPT = 5
LEGACY_BACKUP_SUFFIX = ".bak"  # backups beside the files, as xlplan wrote them before .xlplan-backup/
STALE_AFTER_SECONDS = 3600  # a temporary file without a readable process id is a leftover after this

WINDOWS = os.name == "nt"
_TEMP_PID = re.compile(r"^\.~xlplan-(\d+)-")
_umask_lock = threading.Lock()

__all__ = ["BACKUP_DIR", "BACKUPS_KEPT", "atomic_path", "backups_of", "check_writable", "clean_leftovers",
           "is_backup", "lock_file", "move_to_backup", "write_bytes_atomic"]


# ---------------------------------------------------------------- may we write?


def lock_file(path: str | os.PathLike[str]) -> Path | None:
    """The lock file saying *path* is open in Excel (``~$name``) or LibreOffice (``.~lock.name#``)."""
    path = Path(path)
    for lock in (path.with_name("~$" + path.name), path.with_name(f".~lock.{path.name}#")):
        if lock.exists():
            return lock
    return None


def check_writable(target: str | os.PathLike[str]) -> None:
    """Raise :class:`WorkbookRefused` (in Swedish) when *target* is open or read-only.

    Read-only is read from the mode bits, so the answer is the same for an
    administrator (or root) as for the person who set the file read-only.
    """
    target = Path(target)
    lock = lock_file(target)
    if lock is not None and target.exists():
        raise WorkbookRefused(str(target), f"filen är öppen (låsfilen {lock.name} finns), så den skrivs inte. "
                              "Stäng filen och kör igen; finns låsfilen kvar fast filen är stängd kan den tas bort.")
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        raise WorkbookRefused(str(target), "är en mapp, inte en fil; välj ett annat namn.")
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise WorkbookRefused(str(target), "filen är skrivskyddad, så den skrivs inte. Ta bort skrivskyddet "
                              "(Egenskaper > Skrivskyddad) och kör igen.")


def _refused_replace(target: Path, exc: OSError) -> WorkbookRefused:
    return WorkbookRefused(str(target), "filen kunde inte ersättas: den är troligen öppen i Excel eller "
                           f"skrivskyddad ({exc.strerror or exc}). Stäng filen och kör igen; inget ändrades i den.")


# ---------------------------------------------------------------- modes


def _umask() -> int:
    try:  # Linux says it without changing it
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode ``open()`` gives a new file: 0o666 less the umask (0o644 with the usual 022)."""
    return 0o666 & ~_umask()


# ---------------------------------------------------------------- leftovers


def _pid_alive(pid: int) -> bool | None:
    """Whether process *pid* runs; None when it cannot be told without harm (Windows: os.kill would end it)."""
    if pid == os.getpid():
        return True
    if WINDOWS:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else (or the check is not allowed): leave it
    return True


def clean_leftovers(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove temporary files of interrupted xlplan runs in *folder*; return what was removed.

    A temporary file is a leftover when the process that made it no longer runs
    (its id is in the name), or, when that cannot be told (a name without an id, or
    Windows), when it is over an hour old. A file still held open is left alone.
    """
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    now = dt.datetime.now().timestamp()
    for entry in entries:
        if not entry.name.startswith(TEMP_PREFIX):
            continue
        m = _TEMP_PID.match(entry.name)
        try:
            alive = _pid_alive(int(m.group(1))) if m else None
            stale = not alive if alive is not None else now - entry.stat().st_mtime > STALE_AFTER_SECONDS
            if not stale:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            continue
        removed.append(entry)
    return removed


_cleaned: set[Path] = set()


def _clean_once(folder: Path) -> None:
    """Clean *folder*'s leftovers at this process's first write there (a cache folder is written often)."""
    key = folder.resolve()
    if key not in _cleaned:
        _cleaned.add(key)
        clean_leftovers(folder)


# ---------------------------------------------------------------- backups


def is_backup(path: str | os.PathLike[str]) -> bool:
    """A backup xlplan made: in ``.xlplan-backup/``, or an old ``name.xlsx.bak`` beside the file."""
    path = Path(path)
    return path.parent.name == BACKUP_DIR or path.name.casefold().endswith(
        (".xlsx" + LEGACY_BACKUP_SUFFIX, ".xlsm" + LEGACY_BACKUP_SUFFIX))


def _backup_name(name: str, stamp: str) -> str:
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{stamp}.{suffix}" if dot and stem else f"{name}.{stamp}"


def backups_of(path: str | os.PathLike[str]) -> list[Path]:
    """The backups of *path* in its folder's ``.xlplan-backup/``, oldest first."""
    path = Path(path)
    folder = path.parent / BACKUP_DIR
    if not folder.is_dir():
        return []
    stem, dot, suffix = path.name.rpartition(".")
    pattern = (re.compile(re.escape(stem) + r"\.\d{8}-\d{6}-\d{6}\." + re.escape(suffix) + "$") if dot and stem
               else re.compile(re.escape(path.name) + r"\.\d{8}-\d{6}-\d{6}$"))
    return sorted(p for p in folder.iterdir() if pattern.match(p.name))


def _backup_target(path: Path) -> Path:
    folder = path.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    out = folder / _backup_name(path.name, stamp)
    while out.exists():  # two backups in the same microsecond: take the next one
        stamp = stamp[:-6] + f"{(int(stamp[-6:]) + 1) % 1_000_000:06d}"
        out = folder / _backup_name(path.name, stamp)
    return out


def _prune(path: Path, keep: int) -> None:
    for old in backups_of(path)[:-keep] if keep > 0 else backups_of(path):
        old.unlink(missing_ok=True)


def backup_copy(path: str | os.PathLike[str], keep: int = BACKUPS_KEPT) -> Path:
    """Copy *path* into ``.xlplan-backup/`` (mode and times kept); keep its last *keep* backups."""
    path = Path(path)
    out = _backup_target(path)
    shutil.copy2(path, out)
    _prune(path, keep)
    return out


def move_to_backup(path: str | os.PathLike[str], keep: int = BACKUPS_KEPT) -> Path:
    """Move *path* into ``.xlplan-backup/`` (a file replaced by one with another name); return where."""
    path = Path(path)
    check_writable(path)
    out = _backup_target(path)
    try:
        os.replace(path, out)
    except PermissionError as exc:
        raise _refused_replace(path, exc) from exc
    _prune(path, keep)
    return out


# ---------------------------------------------------------------- the write


@contextmanager
def atomic_path(target: str | os.PathLike[str], backup: bool = False) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it onto *target*.

    Refuses (before anything is written) a target that is open or read-only. On any
    exception the temporary file is removed and *target* is untouched. With
    ``backup=True`` an existing target is first copied to ``.xlplan-backup/``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _clean_once(target.parent)
    check_writable(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=target.suffix, dir=target.parent)
    except PermissionError as exc:
        raise WorkbookRefused(str(target.parent), f"mappen är skrivskyddad ({exc.strerror or exc}); "
                              "välj en annan mapp eller be om skrivrätt.") from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = new_file_mode()
        os.chmod(tmp_path, mode)
        if backup and target.exists():
            backup_copy(target)
        try:
            os.replace(tmp_path, target)
        except PermissionError as exc:
            raise _refused_replace(target, exc) from exc
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EBUSY, errno.ETXTBSY):
                raise _refused_replace(target, exc) from exc
            raise
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_bytes_atomic(target: str | os.PathLike[str], data: bytes, backup: bool = False) -> None:
    with atomic_path(target, backup=backup) as tmp:
        tmp.write_bytes(data)

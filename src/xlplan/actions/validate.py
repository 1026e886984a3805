"""File-level checks for ``consolidate``: what is in the folder, and what each file is.

Everything here is read-only: files are opened for reading and never changed.
Nothing raises for a bad file; each finding is a :class:`~xlplan.core.errors.Problem`.

* :func:`scan_folder` sorts a folder into candidate workbooks and everything
  else (old formats, lock files, CSV, sub-folders), each of the latter with a
  Swedish reason.
* :func:`file_facts` gives a candidate's size, SHA-256 and who last saved it
  (``docProps/core.xml``, read with :mod:`zipfile` and :mod:`defusedxml`).
* :func:`sniff` says what a file that failed to open really is (an encrypted
  package, an old ``.xls``, text such as CSV …) for a clearer message.
* :func:`read_candidate` does :func:`file_facts` and :func:`preflight` and
  reads the package (:func:`xlplan.io.tables.read_package`) from one read of
  the file and one read of its zip directory, for ``consolidate``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from defusedxml import ElementTree as SafeET

from xlplan.core.codes import Code
from xlplan.core.errors import Problem, Severity, WorkbookUnreadable
from xlplan.io.atomic import BACKUP_DIR, TEMP_PREFIX, is_backup
from xlplan.io.tables import Package, unpack_package

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
LOCK_PREFIX = "~$"
LOCK_REASON = "Excel-låsfil: arbetsboken är öppen hos någon; ignoreras"
_FOREIGN_REASONS: dict[str, str] = {
    ".xls": "Gammalt Excel-format (.xls) som xlplan inte läser; spara filen som .xlsx och lägg den i mappen igen",
    ".xlsb": "Binär Excel-arbetsbok (.xlsb) som xlplan inte läser; spara filen som .xlsx",
    ".ods": "OpenDocument-kalkylblad (.ods), ingen avdelningsfil från xlplan; spara som .xlsx i Excel",
    ".csv": "CSV-fil, ingen avdelningsarbetsbok; ignoreras",
    ".xltx": "Excel-mall (.xltx), ingen avdelningsfil; ignoreras",
    ".xltm": "Excel-mall (.xltm), ingen avdelningsfil; ignoreras",
}
_OTHER_REASON = "Ingen Excel-arbetsbok (.xlsx/.xlsm); ignoreras"
_CORE_NS = {
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
}
_CORE_MAX = 1024 * 1024  # docProps/core.xml is a few hundred bytes


@dataclass(frozen=True)
class Scan:
    """A folder, sorted: workbooks to read, and problems for everything else."""

    workbooks: tuple[Path, ...]
    skipped: tuple[Problem, ...]


@dataclass(frozen=True)
class FileFacts:
    """What can be said about a file without reading its sheets."""

    name: str
    size: int
    sha256: str
    saved_by: str | None = None
    saved_at: dt.datetime | None = None


def scan_folder(folder: Path) -> Scan:
    """Sort *folder*'s entries (not recursive) into workbooks and reported leftovers."""
    workbooks: list[Path] = []
    skipped: list[Problem] = []
    for entry in sorted(Path(folder).iterdir(), key=lambda p: p.name.casefold()):
        reason = classify(entry)
        if reason is None:
            workbooks.append(entry)
        else:
            code, severity, message = reason
            skipped.append(Problem(code, message, entry.name, severity=severity, action="filen ignorerades"))
    return Scan(tuple(workbooks), tuple(skipped))


def classify(entry: Path) -> tuple[Code, Severity, str] | None:
    """None for a candidate workbook; else (code, severity, Swedish reason)."""
    name = entry.name
    if entry.is_dir() and name == BACKUP_DIR:
        return (Code.SAKERHETSKOPIA, "info", "Mappen med xlplans säkerhetskopior; ignoreras")
    if entry.is_dir():
        return (Code.UNDERMAPP, "info", "Undermapp; xlplan läser bara filer direkt i mappen")
    if name.startswith(TEMP_PREFIX):
        return (Code.TILLFALLIG_FIL, "info", "Tillfällig fil från en xlplan-körning; ignoreras (tas bort nästa gång "
                "xlplan skriver i mappen)")
    if name.startswith(LOCK_PREFIX):
        return (Code.LASFIL, "info", LOCK_REASON)
    if name.startswith(".~lock.") and name.endswith("#"):
        return (Code.LASFIL, "info", "LibreOffice-låsfil: arbetsboken är öppen hos någon; ignoreras")
    if name.startswith("."):
        return (Code.DOLD_FIL, "info", "Dold systemfil; ignoreras")
    if is_backup(entry):
        return (Code.SAKERHETSKOPIA, "info", "Säkerhetskopia som xlplan sparade vid påfyllning; ignoreras")
    suffix = entry.suffix.casefold()
    if suffix in WORKBOOK_SUFFIXES:
        return None
    if suffix in _FOREIGN_REASONS:
        return (Code.FEL_FORMAT, "varning", _FOREIGN_REASONS[suffix])
    return (Code.INTE_ARBETSBOK, "varning", _OTHER_REASON)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_facts(path: Path) -> FileFacts:
    """Size, hash and the last saver; never raises for a bad file (fields stay empty)."""
    path = Path(path)
    saved_by, saved_at = core_properties(path)
    return FileFacts(path.name, path.stat().st_size, sha256_of(path), saved_by, saved_at)


def core_properties(path: Path) -> tuple[str | None, dt.datetime | None]:
    """``lastModifiedBy`` and ``dcterms:modified`` from ``docProps/core.xml``, if readable."""
    try:
        with zipfile.ZipFile(path) as zf:
            return _core_in(zf)
    except Exception:  # noqa: BLE001 - any unreadable package: the facts are simply unknown
        return None, None


def _core_in(zf: zipfile.ZipFile) -> tuple[str | None, dt.datetime | None]:
    """:func:`core_properties` of an open package."""
    try:
        info = zf.getinfo("docProps/core.xml")
        if info.file_size > _CORE_MAX:
            return None, None
        xml = zf.read(info)
    except Exception:  # noqa: BLE001 - any unreadable part: the facts are simply unknown
        return None, None
    return core_of(xml)


def core_of(xml: bytes) -> tuple[str | None, dt.datetime | None]:
    """``lastModifiedBy`` and ``dcterms:modified`` of a ``docProps/core.xml`` (None, None if unreadable)."""
    try:
        root = SafeET.fromstring(xml)
    except Exception:  # noqa: BLE001 - an unreadable part: the facts are simply unknown
        return None, None
    by = root.findtext("cp:lastModifiedBy", None, _CORE_NS)
    when = root.findtext("dcterms:modified", None, _CORE_NS)
    return (by.strip() or None) if by else None, parse_w3c_datetime(when)


def parse_w3c_datetime(text: str | None) -> dt.datetime | None:
    """``2024-05-02T08:15:00Z`` -> an aware UTC datetime; None if absent or odd."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def sniff(path: Path) -> str | None:
    """A clearer Swedish reason for a file with a workbook name that is not one, or None."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    return sniff_head(path, head)


def sniff_head(path: Path, head: bytes) -> str | None:
    """:func:`sniff` of a file whose first 4096 bytes are *head*."""
    if not head:
        return "filen är tom (0 byte)"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return _sniff_ole(path)
    if head.startswith(b"PK"):
        return None
    if _looks_like_text(head):
        return ("filen är text (t.ex. CSV) med en Excel-filändelse, ingen arbetsbok; "
                "öppna den i Excel och spara som .xlsx")
    return None


def _sniff_ole(path: Path) -> str:
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(s).casefold() for s in ole.listdir()}
    except Exception:  # noqa: BLE001 - olefile raises many types for files that are not OLE
        streams = set()
    if "encryptedpackage" in streams or "encryptioninfo" in streams:
        return ("arbetsboken är lösenordsskyddad (krypterad) och kan inte läsas; "
                "ta bort lösenordet (Arkiv > Info > Skydda arbetsbok) och spara igen")
    if streams & {"workbook", "book"}:
        return "filen är i det gamla .xls-formatet trots namnet; spara den som .xlsx"
    return "filen är en OLE-fil (krypterad eller gammalt Office-format), ingen .xlsx; spara den som .xlsx utan lösenord"


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            head.decode("cp1252")
        except UnicodeDecodeError:
            return False
    return True


DEPARTMENT_MAX_UNCOMPRESSED = 64 * 1024 * 1024  # a department workbook unpacks to a few MB at most


def preflight(path: Path) -> str | None:
    """Cheap checks before a candidate is parsed; a Swedish reason to refuse it, or None.

    Bounds the work a hostile file can cause: the declared unpacked size must be
    modest (the zip reader under calamine stops at the declared size of each part).
    """
    reason = sniff(path)
    if reason is not None:
        return reason
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return _BROKEN_ZIP
    return _too_large(infos)


_BROKEN_ZIP = "filen är ingen Excel-arbetsbok (.xlsx/.xlsm) eller är skadad (trasig zip-fil); spara om den i Excel"


def _too_large(infos: list[zipfile.ZipInfo]) -> str | None:
    declared = sum(i.file_size for i in infos)
    if declared > DEPARTMENT_MAX_UNCOMPRESSED:
        return (f"filen packas upp till {declared // (1024 * 1024)} MB, orimligt mycket för en avdelningsfil "
                "(zip-bomb?); den läses inte")
    return None


@dataclass(frozen=True)
class Candidate:
    """A candidate workbook as ``consolidate`` checks it, from one read of the file: its facts
    (:func:`file_facts`), :func:`preflight`'s reason to refuse it, and its package (or why it has none)."""

    facts: FileFacts
    refused: str | None
    package: Package | None = None
    unreadable: WorkbookUnreadable | None = None

    def opened(self) -> Package | None:
        """The package; raises what :func:`xlplan.io.tables.read_package` raised for it (None: not read yet)."""
        if self.unreadable is not None:
            raise self.unreadable
        return self.package


def read_candidate(path: Path) -> Candidate:
    """:func:`file_facts` and :func:`preflight` of *path* (same results), and its package when preflight
    lets it through, from one read of the file's bytes and one read of its zip directory."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError:  # the file as the separate checks see it (they report it the same way)
        return Candidate(file_facts(path), preflight(path))
    reason = sniff_head(path, data[:4096])
    package: Package | None = None
    unreadable: WorkbookUnreadable | None = None
    by: str | None = None
    when: dt.datetime | None = None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if reason is None:
                reason = _too_large(zf.infolist())
            if reason is None:
                try:
                    package = unpack_package(path, data, zf)
                except WorkbookUnreadable as exc:
                    unreadable = exc
            core = package.parts.get("docProps/core.xml") if package is not None else None
            if package is None:  # seldom: what the zip reader makes of it
                by, when = _core_in(zf)
            elif core is not None and len(core) <= _CORE_MAX:
                by, when = core_of(core)
    except (zipfile.BadZipFile, OSError, ValueError):
        if reason is None:
            reason = _BROKEN_ZIP
    facts = FileFacts(path.name, len(data), hashlib.sha256(data).hexdigest(), by, when)
    return Candidate(facts, reason, package, unreadable)

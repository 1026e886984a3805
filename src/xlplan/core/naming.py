"""The names of every file xlplan writes, defined once.

One scheme for the files people handle: the parts that say what the file is about, each made
safe for every file system (:func:`safe_name_part`: Swedish letters kept, spaces as ``_``),
joined by ``_``, with the period as xlplan writes it (``2024-delår``, ``2024-K1``):

=====================================  ===================================================================
file                                   name
=====================================  ===================================================================
department workbook (fill)             ``Kommun_Nämnd_Avdelning_2024-delår.xlsm`` (or ``.xlsx``)
committee workbook (consolidate)       ``Kommun_Nämnd_Sammanställning_2024-delår.xlsx``
its check report (consolidate)         ``Kommun_Nämnd_Sammanställning_2024-delår_kontroll.json``
board pack (export, in its folder)     ``nämndrapport.docx``, ``nämndrapport.pdf``, ``nämndrapport_bilaga.xlsx``
controller's workbook                  ``uppfoljning.xlsm``
user guide                             ``xlplan-anvandarguide.pdf``
=====================================  ===================================================================

and xlplan's own housekeeping, out of people's way:

- backups: ``.xlplan-backup/<namn>.<ÅÅÅÅMMDD-hhmmss-ffffff>.<ext>`` beside the files (the last few kept);
- temporary files while writing: ``.~xlplan-<pid>-…`` beside the target (renamed or removed);
- an export's staging folder ``.xlplan-export-…`` and its ``journal.json``;
- the plan check of the demo: ``plan-check.txt``; saved comparison values: ``comparisons.json``;
- the log of unexpected errors: ``xlplan-ÅÅÅÅMMDD.log`` in ``~/.xlplan/logs``;
- the Kolada cache: ``<sha256>.json`` per request in the cache folder.

Readers do not depend on these names: a department workbook is recognised by the metadata in its
hidden sheet, the committee workbook by its own marker, so files named by an older xlplan (or
renamed by a person) are still read.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from xlplan.core.model import Department, Plan
    from xlplan.core.periods import Period

__all__ = [
    "SEPARATOR", "safe_name_part", "file_stem", "department_file", "committee_file", "control_report_file",
    "REPORT_DOCX", "REPORT_PDF", "REPORT_BILAGA", "REPORT_FILES", "CONTROLLER_WORKBOOK", "GUIDE_PDF",
    "BACKUP_DIR", "TEMP_PREFIX", "EXPORT_TMP_PREFIX", "EXPORT_JOURNAL", "PLAN_CHECK", "COMPARISONS_FILE",
    "log_file", "COMMITTEE_WORD",
]

SEPARATOR = "_"
COMMITTEE_WORD = "Sammanställning"
REPORT_DOCX = "nämndrapport.docx"
REPORT_PDF = "nämndrapport.pdf"
REPORT_BILAGA = "nämndrapport_bilaga.xlsx"
REPORT_FILES = (REPORT_DOCX, REPORT_PDF, REPORT_BILAGA)
CONTROLLER_WORKBOOK = "uppfoljning.xlsm"
GUIDE_PDF = "xlplan-anvandarguide.pdf"
BACKUP_DIR = ".xlplan-backup"
TEMP_PREFIX = ".~xlplan-"
EXPORT_TMP_PREFIX = ".xlplan-export-"
EXPORT_JOURNAL = "journal.json"
PLAN_CHECK = "plan-check.txt"
COMPARISONS_FILE = "comparisons.json"

_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def safe_name_part(text: str) -> str:
    """A piece of a file name safe on Windows; Swedish letters are kept."""
    text = unicodedata.normalize("NFC", text)
    text = _UNSAFE.sub("", text)
    text = re.sub(r"\s+", SEPARATOR, text.strip())
    return text.rstrip(". ") or SEPARATOR


def file_stem(*parts: str) -> str:
    """The parts, each made safe, joined by ``_``."""
    return SEPARATOR.join(safe_name_part(p) for p in parts)


def department_file(plan: Plan, department: Department, period: Period | str,
                    fmt: Literal["xlsx", "xlsm"] = "xlsx") -> str:
    """``Alingsås_Vård-_och_omsorgsnämnden_Äldreomsorg_2024-delår.xlsx``"""
    s = plan.settings
    return f"{file_stem(s.municipality, s.committee, department.name, str(period))}.{fmt}"


def committee_file(municipality: str, committee: str, period: Period | str) -> str:
    """``Alingsås_Vård-_och_omsorgsnämnden_Sammanställning_2024-delår.xlsx``"""
    return f"{file_stem(municipality, committee, COMMITTEE_WORD, str(period))}.xlsx"


def control_report_file(committee_name: str) -> str:
    """The check report beside a committee workbook: ``<its stem>_kontroll.json``."""
    stem = committee_name.rsplit(".", 1)[0] if "." in committee_name else committee_name
    return f"{stem}{SEPARATOR}kontroll.json"


def log_file(day: object) -> str:
    """``xlplan-20241031.log`` for a date or datetime."""
    return f"xlplan-{day:%Y%m%d}.log"

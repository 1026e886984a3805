"""File-level checks used by consolidate: folder scan, file facts, sniffing."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

from xlplan.actions.validate import LOCK_REASON, core_properties, file_facts, scan_folder, sniff

FOREIGN = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "foreign-workbooks"

CORE = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<cp:lastModifiedBy>Eva Ek</cp:lastModifiedBy>
<dcterms:modified xsi:type="dcterms:W3CDTF">2024-05-02T08:15:00Z</dcterms:modified>
</cp:coreProperties>"""


def test_scan_sorts_workbooks_from_everything_else(tmp_path: Path) -> None:
    for name in ["b.xlsx", "a.XLSM", "~$b.xlsx", "old.xls", "bin.xlsb", "calc.ods", "data.csv",
                 "notes.txt", ".DS_Store", ".~lock.b.xlsx#"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "arkiv").mkdir()
    scan = scan_folder(tmp_path)
    assert [p.name for p in scan.workbooks] == ["a.XLSM", "b.xlsx"]
    reasons = {p.file: p for p in scan.skipped}
    assert set(reasons) == {"~$b.xlsx", "old.xls", "bin.xlsb", "calc.ods", "data.csv", "notes.txt",
                            ".DS_Store", ".~lock.b.xlsx#", "arkiv"}
    assert reasons["~$b.xlsx"].message == LOCK_REASON
    assert ".xls" in reasons["old.xls"].message and "spara" in reasons["old.xls"].message
    assert "CSV" in reasons["data.csv"].message
    assert all(p.action == "filen ignorerades" for p in scan.skipped)


def test_core_properties_and_hash(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("docProps/core.xml", CORE)
    by, when = core_properties(path)
    assert by == "Eva Ek"
    assert when == dt.datetime(2024, 5, 2, 8, 15, tzinfo=dt.timezone.utc)
    facts = file_facts(path)
    assert len(facts.sha256) == 64 and facts.size == path.stat().st_size


def test_core_properties_of_junk_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_text("a;b\n1;2\n", encoding="utf-8")
    assert core_properties(path) == (None, None)


def test_core_properties_refuses_entity_expansion(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    evil = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties">'
            '<cp:lastModifiedBy>&b;</cp:lastModifiedBy></cp:coreProperties>')
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("docProps/core.xml", evil)
    assert core_properties(path) == (None, None)


def test_sniff_names_what_the_file_really_is(tmp_path: Path) -> None:
    csv = tmp_path / "a.xlsx"
    csv.write_text("Avdelning;Värde\nALD;5\n", encoding="utf-8")
    assert "text" in (sniff(csv) or "")
    empty = tmp_path / "e.xlsx"
    empty.write_bytes(b"")
    assert "tom" in (sniff(empty) or "")
    if FOREIGN.is_dir():
        enc = tmp_path / "enc.xlsx"
        shutil.copy(FOREIGN / "pass_protected.xlsx", enc)
        assert "lösenordsskyddad" in (sniff(enc) or "")
        old = tmp_path / "old.xlsx"
        shutil.copy(FOREIGN / "date.xls", old)
        assert ".xls" in (sniff(old) or "")


def test_fill_backups_are_named_as_such(tmp_path):
    from xlplan.actions.validate import scan_folder

    (tmp_path / "Avd_2024-delår.xlsm.bak").write_bytes(b"PK")
    (tmp_path / "anteckningar.txt").write_text("x", encoding="utf-8")
    scan = scan_folder(tmp_path)
    by_file = {p.file: p for p in scan.skipped}
    assert by_file["Avd_2024-delår.xlsm.bak"].code == "sakerhetskopia"
    assert by_file["Avd_2024-delår.xlsm.bak"].severity == "info"
    assert by_file["anteckningar.txt"].severity == "varning"

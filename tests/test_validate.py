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


def _zip(path: Path, parts: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return path


def test_read_candidate_says_what_file_facts_and_preflight_say(tmp_path: Path) -> None:
    """consolidate's one read of a file (read_candidate) gives the facts, the reason to refuse it and the
    package that file_facts, preflight and read_package give from their own reads, whatever the file is."""
    import pytest

    from xlplan.actions.validate import preflight, read_candidate
    from xlplan.core.errors import WorkbookUnreadable
    from xlplan.io.tables import read_package

    book = {"xl/workbook.xml": "<workbook/>", "docProps/core.xml": CORE}
    evil = CORE.replace('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
                        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>')
    files = [
        _zip(tmp_path / "book.xlsx", book),
        _zip(tmp_path / "no-core.xlsx", {"xl/workbook.xml": "<workbook/>"}),
        _zip(tmp_path / "no-workbook.xlsx", {"docProps/core.xml": CORE}),
        _zip(tmp_path / "dtd.xlsx", {**book, "docProps/core.xml": evil}),
        _zip(tmp_path / "huge.xlsx", {**book, "xl/media/big.bin": b"\0" * (65 * 1024 * 1024)}),
    ]
    sheet = "<worksheet>" + "x" * 500 + "</worksheet>"
    damaged = _zip(tmp_path / "crc.xlsx", {**book, "xl/worksheets/sheet1.xml": sheet})
    data = bytearray(damaged.read_bytes())
    at = data.find(b"xl/worksheets/sheet1.xml") + len("xl/worksheets/sheet1.xml") + 3  # inside its deflated body
    data[at] ^= 0xFF
    damaged.write_bytes(bytes(data))
    files.append(damaged)
    (tmp_path / "csv.xlsx").write_text("Avdelning;Värde\nALD;5\n", encoding="utf-8")
    (tmp_path / "empty.xlsx").write_bytes(b"")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04" + b"\0" * 100)
    files += [tmp_path / "csv.xlsx", tmp_path / "empty.xlsx", tmp_path / "broken.xlsx"]
    if FOREIGN.is_dir():
        files += sorted(p for p in FOREIGN.iterdir() if p.suffix in (".xlsx", ".xlsm", ".xls"))
    outcomes = set()
    for path in files:
        candidate = read_candidate(path)
        assert candidate.facts == file_facts(path), path.name
        assert candidate.refused == preflight(path), path.name
        if candidate.refused is not None:
            outcomes.add("refused")
            continue
        try:
            expected = read_package(path)
        except WorkbookUnreadable as exc:
            outcomes.add("unreadable")
            with pytest.raises(WorkbookUnreadable) as raised:
                candidate.opened()
            assert raised.value.reason == exc.reason, path.name
            continue
        outcomes.add("read")
        package = candidate.opened()
        assert package is not None and package.data == expected.data and package.parts == expected.parts, path.name
    assert outcomes == {"refused", "unreadable", "read"}
    assert read_candidate(files[0]).facts.saved_by == "Eva Ek"
    assert read_candidate(tmp_path / "dtd.xlsx").facts.saved_by is None
    assert "MB" in (read_candidate(tmp_path / "huge.xlsx").refused or "")

"""consolidate over a folder of odd, broken and hostile files beside valid department workbooks.

Every foreign file must be reported by name with a clear reason, every valid
department workbook included, and nothing may crash or hang.
"""

from __future__ import annotations

import copy
import shutil
import struct
import time
import zipfile
from pathlib import Path

import pytest

from xlplan.actions.consolidate import consolidate
from xlplan.actions.fill import fill
from xlplan.books.committee import read_committee_workbook

FOREIGN = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "foreign-workbooks"
PERIOD = "2024-delår"
BOMB_SIZE = 210 * 1024 * 1024
WITHIN = 120.0  # seconds for the whole folder; it takes a few on a laptop

pytestmark = pytest.mark.skipif(not FOREIGN.is_dir(), reason=f"{FOREIGN} saknas")

_CT = '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
_RELS = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_BOOK = ('<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
         'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
         '<sheet name="_xlplan" sheetId="1" r:id="rId1"/></sheets></workbook>')
_BOOK_RELS = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
              'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
SHEET_PART = "xl/worksheets/sheet1.xml"


def bomb(path: Path, size: int) -> None:
    """A small, valid-looking workbook whose one sheet unpacks to *size* bytes of spaces."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _BOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _BOOK_RELS)
        with zf.open(SHEET_PART, "w", force_zip64=size > 0x7FFFFFFF) as fh:
            chunk = b" " * (1 << 20)
            for _ in range(size >> 20):
                fh.write(chunk)


def lying_bomb(path: Path) -> None:
    """A bomb whose headers claim the sheet unpacks to 1000 bytes (it unpacks to 100 MB)."""
    bomb(path, 100 * 1024 * 1024)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(SHEET_PART)
    struct.pack_into("<I", data, info.header_offset + 22, 1000)  # local header: uncompressed size
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # central directory entry of the sheet
        n = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46:at + 46 + n]) == SHEET_PART.encode():
            struct.pack_into("<I", data, at + 24, 1000)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


@pytest.fixture
def plan3(tiny_tables, write_tables) -> Path:
    tables = copy.deepcopy(tiny_tables)
    tables["Avdelningar"].append({"Avdelnings-id": "HSL", "Avdelning": "Hälso- och sjukvård"})
    return write_tables(tables, "plan3.xlsx")


def test_foreign_and_hostile_files_are_reported_and_valid_ones_included(plan3, tiny_tables, write_tables,
                                                                         tmp_path) -> None:
    avd = tmp_path / "avdelningar"
    valid = fill(plan3, PERIOD, ["ALD", "LSS"], avd).written
    foreign = sorted(p.name for p in FOREIGN.iterdir())
    for p in FOREIGN.iterdir():
        shutil.copy(p, avd / p.name)

    nasty: dict[str, str] = {}  # file -> expected problem code
    (hsl,) = fill(plan3, PERIOD, ["HSL"], tmp_path / "hsl").written
    shutil.copy(hsl, avd / "HSL_version1.xlsx")
    (hsl2,) = fill(plan3, PERIOD, ["HSL"], tmp_path / "hsl2", generated_at="2026-01-01T00:00:00+00:00").written
    shutil.copy(hsl2, avd / "HSL_version2.xlsx")
    nasty.update({"HSL_version1.xlsx": "konflikt", "HSL_version2.xlsx": "konflikt"})
    data = valid[0].read_bytes()
    (avd / "trasig.xlsx").write_bytes(data[: len(data) // 2])
    (avd / "tom.xlsx").write_bytes(b"")
    (avd / "~$lock.xlsx").write_bytes(b"\x0bAnna Andersson" + b" " * 40)
    (avd / "export.xlsx").write_text("Avdelning;Utfall\nALD;48,5\n", encoding="utf-8")
    shutil.copy(FOREIGN / "pass_protected.xlsx", avd / "Äldreomsorg_med_lösenord.xlsx")
    bomb(avd / "bomb.xlsx", BOMB_SIZE)
    lying_bomb(avd / "ljugande_bomb.xlsx")
    (k1,) = fill(plan3, "2024-K1", ["LSS"], tmp_path / "k1").written
    shutil.copy(k1, avd / "LSS_K1.xlsx")
    other = copy.deepcopy(tiny_tables)
    other["Inställningar"][0]["Värde"] = "annan-plan"
    (alien,) = fill(write_tables(other, "annan.xlsx"), PERIOD, ["ALD"], tmp_path / "annan").written
    shutil.copy(alien, avd / "ALD_annan_plan.xlsx")
    nasty.update({"trasig.xlsx": "olasbar", "tom.xlsx": "olasbar", "~$lock.xlsx": "lasfil",
                  "export.xlsx": "olasbar", "Äldreomsorg_med_lösenord.xlsx": "olasbar", "bomb.xlsx": "olasbar",
                  "ljugande_bomb.xlsx": "olasbar", "LSS_K1.xlsx": "annan_period",
                  "ALD_annan_plan.xlsx": "annan_plan"})
    assert (avd / "bomb.xlsx").stat().st_size < 2 * 1024 * 1024
    assert sum(i.file_size for i in zipfile.ZipFile(avd / "bomb.xlsx").infolist()) > 200 * 1024 * 1024

    seen: list[str] = []
    start = time.monotonic()
    result = consolidate(avd, plan3, PERIOD, tmp_path / "ut" / "namnd.xlsx", tmp_path / "ut" / "rapport.json",
                         progress=lambda done, total, name: seen.append(name))
    elapsed = time.monotonic() - start
    assert elapsed < WITHIN

    committee = read_committee_workbook(result.out_path)
    problems = result.problems  # as written; the Kontroll sheet read back holds the same list:
    assert sorted(p.code for p in committee.problems) == sorted(p.code for p in problems)
    by_file: dict[str, list] = {}
    for p in problems:
        by_file.setdefault(p.file or "", []).append(p)
    assert set(result.included) == {"ALD", "LSS"}
    assert not [p for p in problems if p.code == "internt_fel"], [str(p) for p in problems if p.code == "internt_fel"]
    for name in foreign:  # each one by name, with a reason of its own
        assert name in by_file, name
        assert all(p.message and p.action for p in by_file[name]), name
        assert all(p.code != "konflikt" for p in by_file[name])
    for name, code in nasty.items():
        assert code in {p.code for p in by_file.get(name, [])}, (name, by_file.get(name))
    assert "lösenordsskyddad" in by_file["Äldreomsorg_med_lösenord.xlsx"][0].message
    assert "zip-bomb" in by_file["bomb.xlsx"][0].message
    assert "text" in by_file["export.xlsx"][0].message
    assert by_file["~$lock.xlsx"][0].message == "Excel-låsfil: arbetsboken är öppen hos någon; ignoreras"
    for name in (p.name for p in valid):
        assert not [p for p in by_file.get(name, []) if p.severity == "fel"], by_file.get(name)
    subs = {s.department_id: s for s in committee.submissions}
    assert subs["HSL"].state == "konflikt"
    assert subs["ALD"].state == "ej påbörjad" and subs["LSS"].state == "ej påbörjad"
    assert sorted(result.files) == sorted(p.name for p in avd.iterdir())
    assert len(seen) == len([p for p in avd.iterdir() if p.suffix.casefold() in (".xlsx", ".xlsm")
                             and not p.name.startswith("~$")])

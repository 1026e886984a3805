"""The VBA project streams: PROJECT, PROJECTwm, dir records, module sources."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import olefile
import pytest
from oletools.olevba import VBA_Parser, decompress_stream

from xlplan.xlsm.ovba import decrypt
from xlplan.xlsm.package import build_vba_project
from xlplan.xlsm.vbaproject import (
    WORKBOOK_BASE,
    WORKSHEET_BASE,
    VbaModule,
    dir_stream,
    module_source,
    project_streams,
)

MODULES = [
    VbaModule("ThisWorkbook", "", "document"),
    VbaModule("Sheet1", "Private Sub Worksheet_Activate()\nEnd Sub\n", "document"),
    VbaModule("Tools", "Sub Hello()\r\n    MsgBox \"Hej\"\r\nEnd Sub\r\n", "standard"),
]


def dir_records(data: bytes) -> list[tuple[int, bytes]]:
    """(id, payload) of each dir record; PROJECTVERSION's size field does not count its payload."""
    records, pos = [], 0
    while pos < len(data):
        rec_id = int.from_bytes(data[pos:pos + 2], "little")
        size = 6 if rec_id == 0x0009 else int.from_bytes(data[pos + 2:pos + 6], "little")
        records.append((rec_id, data[pos + 6:pos + 6 + size]))
        pos += 6 + size
    return records


def test_module_source_normalises_line_ends_and_adds_headers() -> None:
    std = module_source(VbaModule("Tools", "Sub A()\nEnd Sub\r", "standard"))
    assert std == 'Attribute VB_Name = "Tools"\r\nSub A()\r\nEnd Sub\r\n'
    wb = module_source(VbaModule("ThisWorkbook", "", "document"))
    assert wb.startswith('Attribute VB_Name = "ThisWorkbook"\r\n')
    assert f'Attribute VB_Base = "{WORKBOOK_BASE}"' in wb
    sheet = module_source(VbaModule("Sheet7", "' x\n", "document"))
    assert f'Attribute VB_Base = "{WORKSHEET_BASE}"' in sheet and sheet.endswith("' x\r\n")


def test_module_source_keeps_an_exported_header() -> None:
    code = 'Attribute VB_Name = "Tools"\r\nSub A()\r\nEnd Sub\r\n'
    assert module_source(VbaModule("Tools", code, "standard")) == code
    with pytest.raises(ValueError, match="VB_Name"):
        module_source(VbaModule("Other", code, "standard"))


@pytest.mark.parametrize("modules", [
    [VbaModule("1bad", "", "standard")],
    [VbaModule("a" * 32, "", "standard")],
    [VbaModule("Same", "", "standard"), VbaModule("SAME", "", "document")],
    [VbaModule("Greek", "' \u03a9\n", "standard")],
    [VbaModule("Excel", "", "standard")],
    [VbaModule("XLPLAN", "", "standard")],
])
def test_invalid_modules_are_refused(modules: list[VbaModule]) -> None:
    with pytest.raises(ValueError):
        project_streams(modules, "xlplan")


@pytest.mark.parametrize("name", ["", "9x", "VBA", "Office", "a b"])
def test_invalid_project_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="project name"):
        project_streams(MODULES, name)


def test_oletools_strict_parser_has_nothing_to_report(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "vbaProject.bin"
    path.write_bytes(build_vba_project(MODULES))
    caplog.set_level(logging.INFO)
    parser = VBA_Parser(str(path), relaxed=False)
    try:
        names = [filename for _, _, filename, _ in parser.extract_macros()]
        assert parser.detect_vba_stomping() is False
    finally:
        parser.close()
    assert names == ["ThisWorkbook.cls", "Sheet1.cls", "Tools.bas"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_project_stream_lists_modules_and_unprotected_state() -> None:
    text = project_streams(MODULES, "xlplan")["PROJECT"].decode("cp1252")
    lines = text.split("\r\n")
    assert lines[0].startswith('ID="{') and lines[0].endswith('}"')
    assert lines[1:4] == ["Document=ThisWorkbook/&H00000000", "Document=Sheet1/&H00000000", "Module=Tools"]
    assert 'Name="xlplan"' in lines
    values = {k: v.strip('"') for k, _, v in (ln.partition("=") for ln in lines) if k in ("CMG", "DPB", "GC")}
    assert decrypt(values["CMG"]) == bytes(4)
    assert decrypt(values["DPB"]) == bytes(1)
    assert decrypt(values["GC"]) == b"\xff"
    assert "[Host Extender Info]" in lines and "[Workspace]" in lines
    assert text.endswith("Tools=0, 0, 0, 0, C\r\n")


def test_project_name_map() -> None:
    wm = project_streams(MODULES, "xlplan")["PROJECTwm"]
    assert wm == b"".join(m.name.encode() + b"\0" + m.name.encode("utf-16-le") + b"\0\0" for m in MODULES) + b"\0\0"


def test_dir_stream_records() -> None:
    records = dir_records(dir_stream(MODULES, "xlplan"))
    ids = [r for r, _ in records]
    by_id = dict(records)
    assert ids[:4] == [0x0001, 0x0002, 0x0014, 0x0003]
    assert int.from_bytes(by_id[0x0003], "little") == 1252
    assert by_id[0x0004] == b"xlplan"
    names = [p.decode() for r, p in records if r == 0x0016]
    assert names == ["stdole", "Office"]
    libids = [p[4:].split(b"#")[0] for r, p in records if r == 0x000D]
    assert libids == [b"*\\G{00020430-0000-0000-C000-000000000046}", b"*\\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}"]
    assert int.from_bytes(by_id[0x000F], "little") == len(MODULES)
    assert [p.decode() for r, p in records if r == 0x0019] == [m.name for m in MODULES]
    assert [p.decode("utf-16-le") for r, p in records if r == 0x0047] == [m.name for m in MODULES]
    assert [p.decode() for r, p in records if r == 0x001A] == [m.name for m in MODULES]
    assert [int.from_bytes(p, "little") for r, p in records if r == 0x0031] == [0, 0, 0]
    assert [r for r in ids if r in (0x0021, 0x0022)] == [0x0022, 0x0022, 0x0021]
    assert ids.count(0x002B) == len(MODULES)
    assert ids[-1] == 0x0010


def test_vba_project_bin_holds_every_stream() -> None:
    blob = build_vba_project(MODULES)
    ole = olefile.OleFileIO(io.BytesIO(blob), raise_defects=olefile.DEFECT_INCORRECT)
    listed = {"/".join(p) for p in ole.listdir()}
    assert listed == {"PROJECT", "PROJECTwm", "VBA/dir", "VBA/_VBA_PROJECT",
                      "VBA/ThisWorkbook", "VBA/Sheet1", "VBA/Tools"}
    assert ole.openstream("VBA/_VBA_PROJECT").read() == b"\xcc\x61\xff\xff\x00\x01\x00"
    assert bytes(decompress_stream(bytearray(ole.openstream("VBA/dir").read()))) == dir_stream(MODULES, "xlplan")
    for m in MODULES:
        stored = bytes(decompress_stream(bytearray(ole.openstream("VBA/" + m.name).read())))
        assert stored == module_source(m).encode("cp1252")


def test_build_is_deterministic_and_depends_on_the_name() -> None:
    assert build_vba_project(MODULES) == build_vba_project(list(MODULES))
    assert build_vba_project(MODULES, "other") != build_vba_project(MODULES)

"""Status colours are defined once (xlplan.core.status) and every writer shows them.

A status word has one fill and one font colour wherever it appears: the
department sheet (openpyxl conditional formats), the committee workbook and
the bilaga (XlsxWriter), the board pack (docx shading) and charts.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl

from xlplan.actions.fill import fill
from xlplan.books.committee import write_committee_workbook
from xlplan.books.department.columns import ACTIVITY_STATES
from xlplan.core.status import ACTIVITY_COLOURS, GREY, SEVERITY_COLOURS, STATUS_COLOURS, Status, activity_colours
from xlplan.export.charts import STATUS_STYLE
from xlplan.export.sample import sample_committee_data

SRC = Path(__file__).resolve().parents[1] / "src" / "xlplan"
HEX = re.compile(r"""["']#?([0-9A-Fa-f]{6})["']""")
# Layout colours that are not status colours but happen to share a hex with one (the house blue).
NOT_STATUS = {("books/spec.py", "HEADER_FILL"), ("books/spec.py", "SECTION_FILL")}


def palette() -> set[str]:
    colours = [*STATUS_COLOURS.values(), *ACTIVITY_COLOURS.values(), *SEVERITY_COLOURS.values()]
    return {h.upper() for c in colours for h in c}


def test_every_status_has_colours_and_the_no_target_words_share_one_grey() -> None:
    assert set(STATUS_COLOURS) == set(Status)
    assert {Status.UTFALL_SAKNAS.colours, Status.JAMFORELSEVARDE_SAKNAS.colours, Status.MALVARDE_SAKNAS.colours,
            Status.REDOVISAS.colours} == {GREY}
    fills = [STATUS_COLOURS[s].fill for s in (Status.UPPFYLLT, Status.DELVIS, Status.EJ, Status.MANUELL, Status.REDOVISAS)]
    assert len(set(fills)) == len(fills)
    assert set(ACTIVITY_COLOURS) == set(ACTIVITY_STATES)
    assert activity_colours(" Klar ") == Status.UPPFYLLT.colours and activity_colours("okänd") is None


def test_no_status_colour_is_written_outside_status_py() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel == "core/status.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for m in HEX.finditer(line):
                if m.group(1).upper() not in palette():
                    continue
                name = line.split("=")[0].strip()
                if (rel, name) not in NOT_STATUS:
                    found.append(f"{rel}:{n}: {line.strip()}")
    assert found == []


def test_the_check_finds_a_copied_colour(tmp_path: Path) -> None:
    line = f'    FULFILLED: ("{Status.UPPFYLLT.colours.fill}", "{Status.UPPFYLLT.colours.font}"),'
    assert {m.group(1) for m in HEX.finditer(line)} <= palette()
    assert HEX.search('x = "#' + Status.EJ.colours.fill.lower() + '"')


def _rules(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, tuple[str, str]]:
    out = {}
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            word = rule.formula[0].strip('"')
            fill = rule.dxf.fill  # openpyxl writes a solid fill's colour as fgColor, XlsxWriter as bgColor
            colour = fill.bgColor if fill.fgColor.rgb in (None, "00000000") else fill.fgColor
            out[word] = (str(colour.rgb)[-6:], str(rule.dxf.font.color.rgb)[-6:])
    return out


def test_the_department_sheets_colour_statuses_and_activities_from_the_palette(tiny_plan_path: Path,
                                                                              tmp_path: Path) -> None:
    (path,) = fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path).written
    wb = openpyxl.load_workbook(path)
    assert _rules(wb["Mål och indikatorer"]) == {s.label: tuple(s.colours) for s in Status}
    assert _rules(wb["Aktiviteter"]) == {w: tuple(c) for w, c in ACTIVITY_COLOURS.items()}


def test_the_committee_workbook_and_charts_use_the_same_colours(tmp_path: Path) -> None:
    path = write_committee_workbook(sample_committee_data(), tmp_path / "nämnd.xlsx")
    wb = openpyxl.load_workbook(path)
    rules = _rules(wb["Indikatorer"])
    for s in Status:
        assert rules[s.label] == tuple(s.colours)
    kontroll = _rules(wb["Kontroll"])
    assert kontroll == {sev.capitalize(): tuple(c) for sev, c in SEVERITY_COLOURS.items()}
    assert {label: colour for label, (colour, _hatch) in STATUS_STYLE.items()} == {
        s.label: "#" + s.colours.fill for s in Status}

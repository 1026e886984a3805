"""The target language, driven by tests/data/target_texts.tsv, plus polarity and multi-year targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.core.numbers import Quantity
from xlplan.core.targets import (
    SeriesTarget,
    SeriesValues,
    Target,
    infer_polarity,
    parse_series_values,
    parse_target,
    target_for_year,
    unread_balance,
)

DATA = Path(__file__).parent / "data" / "target_texts.tsv"


def _rows() -> list[pytest.param]:
    rows = []
    for lineno, line in enumerate(DATA.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        what, text, polarity, series, kind, direction, expected, note = line.split("\t")
        rows.append(pytest.param(what, text, polarity or None, [s.strip() for s in series.split(";") if s.strip()],
                                 kind, direction or None, json.loads(expected), id=f"{lineno}:{what}:{text[:40]}"))
    return rows


@pytest.mark.parametrize("what, text, polarity, series, kind, direction, expected", _rows())
def test_text_table(what, text, polarity, series, kind, direction, expected):
    if what == "target":
        t = parse_target(text, polarity, series)
        assert t.text == text
        got = [[s.name, s.op, s.value, s.unit, s.limit] for s in t.series]
        assert (t.kind, t.direction, got) == (kind, direction, expected)
    else:
        v = parse_series_values(text, series)
        got = [[n, q.value, q.unit, q.year] for n, q in v.values]
        assert got == expected


def test_table_covers_the_spec_and_both_seeds():
    text = DATA.read_text(encoding="utf-8")
    for needle in ("TARGETS.md", "seed 000", "seed 001"):
        assert text.count(needle) >= 10


def test_to_json_shape():
    t = parse_target("65 (90)", "lower")
    assert t.to_json() == {"kind": "threshold", "direction": None,
                           "series": [{"name": None, "op": "<=", "value": 65.0, "unit": None, "limit": 90.0}]}
    assert parse_target("Öka").to_json() == {"kind": "direction", "direction": "increase", "series": []}


def test_for_series_is_case_insensitive_and_unnamed_applies_to_all():
    t = parse_target("Särskilt boende 88 %, hemtjänst 94%", "higher")
    assert t.for_series("HEMTJÄNST") == SeriesTarget("hemtjänst", ">=", 94.0, "%")
    assert t.for_series("LSS") is None
    assert t.for_series(None) is None  # two different thresholds
    both = parse_target("Äldre och Funktionsstöd (Handikapp) >48 %")
    assert both.for_series("funktionsstöd (handikapp)").value == 48
    assert both.for_series(None) == both.series[0]  # one threshold shared by all
    single = parse_target(">48 %")
    assert single.for_series("vad som helst") == single.series[0]


def test_series_values_get():
    v = parse_series_values("Äldre 50 %, Funktionsstöd (Handikapp) 0 %")
    assert v.get("äldre") == Quantity(50.0, "%")
    assert v.get("LSS") is None
    assert v.get(None) is None
    one = parse_series_values("86 %")
    assert one.get("Särskilt boende") == one.get(None) == Quantity(86.0, "%")
    assert SeriesValues("").get(None) is None


def test_numbers_from_cells_are_read_as_numbers():
    assert parse_target(48.5, "higher").series == (SeriesTarget(None, ">=", 48.5),)
    assert parse_target(48.5, "higher").text == "48,5"
    assert parse_series_values(3).values == ((None, Quantity(3.0)),)
    assert parse_target(None).kind == "none"
    assert parse_series_values(None).values == ()


def test_wrong_side_second_limit_is_not_guessed():
    assert parse_target("65 (90)", "higher").kind == "qualitative"
    assert parse_target("65 (65)").kind == "qualitative"


def test_direction_target_is_not_a_threshold():
    t = parse_target("Bibehålla")
    assert isinstance(t, Target) and t.series == () and t.direction == "maintain"


SEED_GOALS = [
    ("Andel som tar kontakt med kommunen via telefon som får ett direkt svar på en enkel fråga ska öka.", "higher"),
    ("Bibehålla andelen som sammantaget är ganska eller mycket nöjda med sitt särskilda boende / sin hemtjänst",
     "higher"),
    ("Nettokostnadsökningen ska understiga pris-/löne- och volymökningen samt uppnå budgetföljsamhet.", "lower"),
    ("Öka antalet platser på äldreboenden och inom LSS", "higher"),
    ("Bibehålla Nöjd-medarbetarindex", "higher"),
    ("Minska korttidssjukfrånvaron", "lower"),
    ("Delaktighet och kunskap om målstyrning ska öka i verksamhet.", "higher"),
    ("Väntetid i antal dagar från ansökningsdatum till första erbjudet inflyttningsdatum till särskilt boende.",
     "lower"),
    ("Korta handläggningstiden", "lower"),
    ("Bibehålla låg sjukfrånvaro", "lower"),
    ("Systematisk analys", None),
    ("Öka andelen nöjda och minska väntetiden", None),
]


@pytest.mark.parametrize("text, expected", SEED_GOALS)
def test_infer_polarity(text, expected):
    assert infer_polarity(text) == expected


def test_infer_polarity_reads_texts_in_order_and_verbs_first():
    assert infer_polarity(None, "", "Minska sjukfrånvaron") == "lower"
    assert infer_polarity("Nämnden tillgodoser behovet av rätt insats", "Väntetid i antal dagar") == "lower"
    assert infer_polarity("Väntetid (dagar)", "Öka antalet") == "higher"  # a verb anywhere beats a noun
    assert infer_polarity() is None


def test_target_for_year():
    targets = {2019: "50 %", 2020: "", 2021: "55 %", 2022: "I.U"}
    assert target_for_year(targets, 2019) == (2019, "50 %")
    assert target_for_year(targets, 2020) == (2019, "50 %")  # empty: the latest earlier year
    assert target_for_year(targets, 2021) == (2021, "55 %")
    assert target_for_year(targets, 2025) == (2021, "55 %")
    assert target_for_year(targets, 2018) is None  # later targets never apply earlier
    assert target_for_year({}, 2020) is None


_TEXT = st.text(alphabet=st.sampled_from(list("0123456789 ,.-+−–%()<>=≥≤ ÄäÖöÅåabcoeksrtmnlij;/\u00a0\ue000")), max_size=40)


@settings(max_examples=400, deadline=None)
@given(_TEXT, st.sampled_from([None, "higher", "lower"]), st.lists(st.sampled_from(["Äldre", "LSS", "0-12 år"]),
                                                                  unique=True, max_size=2))
def test_parsers_never_raise(text, polarity, names):
    t = parse_target(text, polarity, names)
    assert t.text == text
    assert t.kind in ("threshold", "direction", "qualitative", "none")
    assert (t.kind == "threshold") == bool(t.series)
    parse_series_values(text, names)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_parsers_never_raise_on_any_text(text):
    parse_target(text, "higher")
    parse_series_values(text)


SEEDS = Path("/work/shared/domain/seeds")


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed documents are not on this machine")
def test_every_seed_000_target_and_baseline_line_is_in_the_table():
    import re

    table = [line.split("\t")[1] for line in DATA.read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    seed = next(SEEDS.glob("000_*.txt")).read_text(encoding="utf-8")
    found = re.findall(r"^(?:Nuläge 2019|Målvärde 2020) (.+?)\s*$", seed, flags=re.MULTILINE)
    assert len(set(found)) >= 10
    for text in set(found):
        assert any(t.startswith(text) for t in table), text


# ---- a target naming no series applies to the total ------------------------------------------

@pytest.mark.parametrize("text, series, scope, applies", [
    ("85 %", ("Totalt", "Kvinnor", "Män"), "Totalt", {"Totalt": True, "kvinnor": False, "Män": False}),
    ("85 %", ("Kvinnor", "Män", "total"), "total", {"Kvinnor": False, "Män": False, "TOTAL": True}),
    ("85 %", ("Kvinnor", "Män"), None, {"Kvinnor": True, "Män": True}),  # no total: every series
    ("Öka", ("Totalt", "Kvinnor", "Män"), "Totalt", {"Totalt": True, "Män": False}),
    ("85 %", (), None, {None: True}),
    ("Äldre och LSS >69 %", ("Äldre", "LSS"), None, {"Äldre": True, "LSS": True}),
    ("90% resp 85%", ("0-12 år", "13-20 år"), None, {"0-12 år": True, "13-20 år": True}),
])
def test_unnamed_target_applies_to_the_total(text, series, scope, applies):
    t = parse_target(text, "higher", series)
    assert t.scope == scope
    if t.kind == "threshold":
        assert {n: t.for_series(n) is not None for n in applies} == applies
    else:
        assert {n: t.applies_to(n) for n in applies} == applies


@pytest.mark.parametrize(("text", "unread"), [
    ("Kvot 1,0 ± 5 %", True),  # 5 % of the value or 5 percentage points: not read, plan check says so
    ("mellan 105 och 95", True),  # bounds the wrong way round
    ("1,0 ± 0,1", False), ("100 % ± 5", False), ("mellan 95 och 105", False), ("Avvikelse högst ±2 %", False),
    ("Budget i balans", False), ("Öka", False), ("85 %", False), ("Systematisk analys", False), (None, False),
])
def test_a_balance_target_that_is_not_read_is_told_apart(text: str | None, unread: bool) -> None:
    assert unread_balance(text) is unread
    if unread:
        assert parse_target(text).kind == "qualitative"  # assessed by hand, never guessed

"""Status rules: every row of the status table in TARGETS.md, series, directions, limits, tolerance."""

from __future__ import annotations

import pytest

from xlplan.core.status import SeriesStatus, Status, StatusResult, StatusSettings, evaluate
from xlplan.core.targets import SeriesTarget, parse_series_values, parse_target

U, D, E = Status.UPPFYLLT, Status.DELVIS, Status.EJ
ÄF = ["Äldre", "Funktionsstöd (Handikapp)"]
BASE_ÄF = parse_series_values("Äldre 50 %, Funktionsstöd (Handikapp) 0 %", ÄF)
BOTH_48 = parse_target("Äldre  och Funktionsstöd (Handikapp) >48 %", "higher", ÄF)


def _status(target_text, outcomes, polarity=None, series=(), baseline=None, **kw):
    t = parse_target(target_text, polarity, series)
    base = parse_series_values(baseline, series) if baseline is not None else None
    return evaluate(t, outcomes, series_names=series, baseline=base, polarity=polarity, **kw)


# ---- the status table, row by row ------------------------------------------------------------

def test_uppfyllt_every_series_meets_its_target():
    r = evaluate(BOTH_48, {"Äldre": 60, "Funktionsstöd (Handikapp)": 49}, series_names=ÄF, baseline=BASE_ÄF)
    assert r.status is U
    assert [s.status for s in r.series] == [U, U]


def test_delvis_some_series_meet_and_some_dont():
    r = evaluate(BOTH_48, {"Äldre": 60, "Funktionsstöd (Handikapp)": 0}, series_names=ÄF, baseline=BASE_ÄF)
    assert r.status is D
    assert [s.status for s in r.series] == [U, E]


def test_delvis_single_series_missed_but_moved_the_good_way():
    assert _status("86 %", {None: 84}, "higher", baseline="80 %").status is D
    assert _status("3,0%", {None: 3.2}, "lower", baseline="3,3%").status is D


def test_ej_uppfyllt_no_series_meets_and_none_improved():
    r = evaluate(BOTH_48, {"Äldre": 40, "Funktionsstöd (Handikapp)": 0}, series_names=ÄF, baseline=BASE_ÄF)
    assert r.status is E
    assert r.flags == ("fel_riktning",)
    assert _status("86 %", {None: 80}, "higher", baseline="80 %").status is E  # unchanged is not improved
    assert _status("86 %", {None: 84}, "higher").status is E  # no baseline: nothing to improve from


def test_utfall_saknas_no_outcome():
    assert _status(">48 %", {None: None}).status is Status.UTFALL_SAKNAS
    assert _status(">48 %", {}).status is Status.UTFALL_SAKNAS
    r = evaluate(BOTH_48, {"Äldre": 60, "Funktionsstöd (Handikapp)": None}, series_names=ÄF)
    assert r.status is Status.UTFALL_SAKNAS
    assert [s.status for s in r.series] == [U, Status.UTFALL_SAKNAS]


def test_malvarde_saknas_no_target():
    for text in ("", "-", "I.U", None):
        r = _status(text, {None: 50})
        assert r.status is Status.MALVARDE_SAKNAS
        assert r.series == (SeriesStatus(None, Status.MALVARDE_SAKNAS, 50.0, None),)


def test_redovisas_when_the_target_is_another_series():
    # with the plan's series given, a name that is not one of them is not guessed: qualitative
    assert _status("Äldre 50 %", {"LSS": 5}, "higher", series=["LSS"]).status is Status.MANUELL
    # read without the plan's series, the target names only "Äldre": LSS is reported without a target
    t = parse_target("Äldre 50 %", "higher")
    r = evaluate(t, {"LSS": 60}, series_names=["LSS"])
    assert r.status is Status.REDOVISAS and r.flags == ()
    assert r.status.label == "Redovisas"


@pytest.mark.parametrize("assessment, status", [
    ("Uppfyllt", U), (" delvis ", D), ("Delvis uppfyllt", D), ("EJ UPPFYLLT", E), ("ej  uppfyllt", E),
    ("Inte uppfyllt", E), ("grön", U), ("Uppfyllt\n", U),
])
def test_bedoms_manuellt_assessment_counts(assessment, status):
    r = _status("Systematisk analys", {None: None}, assessment=assessment)
    assert (r.status, r.flags) == (status, ())


def test_bedoms_manuellt_without_assessment_is_flagged():
    for assessment in (None, "", "   "):
        r = _status("Månatlig uppföljning", {}, assessment=assessment)
        assert (r.status, r.flags) == (Status.MANUELL, ("bedomning_saknas",))
    r = _status("Månatlig uppföljning", {}, assessment="kanske")
    assert (r.status, r.flags) == (Status.MANUELL, ("bedomning_ogiltig",))


# ---- comparators ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, polarity, outcome, status", [
    (">48 %", None, 48, E), (">48 %", None, 48.1, U), ("minst 70 %", None, 70, U), ("minst 70 %", None, 69.9, E),
    ("högst 5", None, 5, U), ("högst 5", None, 5.01, E), ("Max 120", None, 121, E),
    ("Sammantagen nettokostnadsavvikelse ska understiga 0", None, 0, E),
    ("Sammantagen nettokostnadsavvikelse ska understiga 0", None, -0.5, U),
    ("86 %", "higher", 86, U), ("3,0%", "lower", 3.0, U), ("3,0%", "lower", 3.1, E), ("= 0", None, 0, U),
    ("= 0", None, 1, E), ("Inom 3 månader", None, 3, U),
])
def test_threshold_comparators(text, polarity, outcome, status):
    assert _status(text, {None: outcome}, polarity).status is status


# ---- series -----------------------------------------------------------------------------------

def test_series_matched_case_insensitively_between_baseline_target_and_outcome():
    series = ["Särskilt boende", "Hemtjänst"]
    r = _status("Särskilt boende 88 %, hemtjänst 94%", {"SÄRSKILT BOENDE": 88, "hemtjänst": 93}, "higher",
                series=series, baseline="särskilt boende 88 %, HEMTJÄNST 94 %")
    assert r.status is D
    assert [(s.name, s.status) for s in r.series] == [("Särskilt boende", U), ("Hemtjänst", E)]
    assert r.flags == ("fel_riktning",)


def test_unnamed_target_without_a_total_applies_to_every_series():
    r = _status("86 %", {"A": 90, "B": 85}, "higher", series=["A", "B"], baseline="80 %")
    assert [(s.name, s.status) for s in r.series] == [("A", U), ("B", D)]  # 85 < 86 but up from 80
    r = _status("86 %", {"A": 85, "B": 95}, "higher", series=["A", "B"], baseline="80 %")
    assert [(s.name, s.status) for s in r.series] == [("A", D), ("B", U)]
    t = parse_target("86 %", "higher", ["A", "B"])  # B alone (one row of the department sheet)
    assert evaluate(t, {"B": 90}, series_names=["B"]).status is U


# A target naming no series applies to the total (the series named Totalt/Total), else to every series.
# (target, series, outcomes per series row) -> status per series row, each evaluated as its own row.
@pytest.mark.parametrize("text, series, outcomes, expected", [
    ("85 %", ["Totalt", "Kvinnor", "Män"], {"Totalt": 86, "Kvinnor": 80, "Män": 70},
     {"Totalt": U, "Kvinnor": Status.REDOVISAS, "Män": Status.REDOVISAS}),
    ("85 %", ["Kvinnor", "Män", "Total"], {"Kvinnor": 90, "Män": 70, "Total": 80},
     {"Kvinnor": Status.REDOVISAS, "Män": Status.REDOVISAS, "Total": E}),
    ("85 %", ["Kvinnor", "Män"], {"Kvinnor": 90, "Män": 70}, {"Kvinnor": U, "Män": E}),  # no total: each
    ("Öka", ["Totalt", "Kvinnor", "Män"], {"Totalt": 86, "Kvinnor": None, "Män": 70},
     {"Totalt": U, "Kvinnor": Status.REDOVISAS, "Män": Status.REDOVISAS}),
    ("Äldre och Funktionsstöd >69 %", ["Äldre", "Funktionsstöd"], {"Äldre": 70, "Funktionsstöd": 60},
     {"Äldre": U, "Funktionsstöd": E}),
    ("90% resp 85%", ["0-12 år", "13-20 år"], {"0-12 år": 91, "13-20 år": 80}, {"0-12 år": U, "13-20 år": E}),
    ("Kvinnor 85 %", ["Totalt", "Kvinnor", "Män"], {"Totalt": 90, "Kvinnor": 90, "Män": 90},
     {"Totalt": Status.REDOVISAS, "Kvinnor": U, "Män": Status.REDOVISAS}),
    ("", ["Totalt", "Kvinnor"], {"Totalt": 90, "Kvinnor": 90},
     {"Totalt": Status.MALVARDE_SAKNAS, "Kvinnor": Status.MALVARDE_SAKNAS}),
])
def test_series_semantics_per_row(text, series, outcomes, expected):
    t = parse_target(text, "higher", series)
    got = {n: evaluate(t, {n: x}, series_names=[n], polarity="higher", previous={n: 80}).status
           for n, x in outcomes.items()}
    assert got == expected


def test_resp_series_in_order():
    series = ["0-12 år", "13-20 år"]
    r = _status("90% resp 85%", {"0-12 år": 91, "13-20 år": 80}, "higher", series=series)
    assert [(s.target.value, s.status) for s in r.series] == [(90, U), (85, E)]


def test_series_from_target_names_when_plan_names_none():
    t = parse_target("Äldre  och Funktionsstöd (Handikapp) >48 %")
    r = evaluate(t, {None: 50})  # one combined outcome applies to both
    assert r.status is U and [s.name for s in r.series] == ÄF


def test_series_from_outcome_names():
    r = _status(">48 %", {"Äldre": 50, "LSS": 40})
    assert r.status is D and [s.name for s in r.series] == ["Äldre", "LSS"]


def test_combined_target_over_named_baseline_series():
    series = ["Äldreomsorg", "LSS"]
    base = "Äldreomsorg 2018 + 1,9 %, LSS 2018 - 4,4 %"
    r = _status("Sammantagen nettokostnadsavvikelse ska understiga 0", {"Äldreomsorg": 1.0, "LSS": -4.0},
                "lower", series=series, baseline=base)
    # a target naming no series, and no series named Totalt: it applies to each series
    assert [(s.name, s.status) for s in r.series] == [("Äldreomsorg", D), ("LSS", U)]  # 1,0 < 1,9 improved
    assert r.flags == ("fel_riktning",)  # LSS met the target but rose from -4,4 to -4,0


# ---- direction targets ------------------------------------------------------------------------

def test_direction_compares_with_previous_else_baseline():
    t = parse_target("Öka")
    base = parse_series_values("50 %")
    assert evaluate(t, {None: 55}, baseline=base).status is U
    assert evaluate(t, {None: 55}, baseline=base, previous={None: 60}).status is E
    r = evaluate(t, {None: 45}, baseline=base, previous={None: None})
    assert (r.status, r.flags) == (E, ("fel_riktning",))
    assert evaluate(t, {None: 50}, baseline=base).status is E  # unchanged is not an increase
    t = parse_target("Minska")
    assert evaluate(t, {None: 3.0}, previous={None: 3.3}).status is U
    assert evaluate(t, {None: 3.3}, previous={None: 3.3}).status is E


def test_direction_without_anything_to_compare_is_comparison_missing():
    J = Status.JAMFORELSEVARDE_SAKNAS
    for text in ("Öka", "Minska", "Bibehålla"):
        r = evaluate(parse_target(text), {None: 5})
        assert (r.status, r.flags) == (J, ("jamforelsevarde_saknas",)), text
        assert [s.status for s in r.series] == [J]
    # the department's own assessment does not replace the missing value
    r = evaluate(parse_target("Öka"), {None: 5}, assessment="Uppfyllt")
    assert (r.status, r.flags) == (J, ("jamforelsevarde_saknas",))
    # a missing outcome still wins (rule 3), and stays flagged for the comparison value too
    r = evaluate(parse_target("Öka"), {None: None})
    assert (r.status, r.flags) == (Status.UTFALL_SAKNAS, ("jamforelsevarde_saknas",))
    # anything to compare with makes it computable: a previous value, or a baseline
    assert evaluate(parse_target("Öka"), {None: 5}, previous={None: 4}).status is U
    assert evaluate(parse_target("Öka"), {None: 5}, baseline=parse_series_values("6", [])).status is E
    # one named series without anything to compare with: the row cannot be assessed
    r = evaluate(parse_target("Öka"), {"K": 5, "M": 6}, series_names=["K", "M"], previous={"K": 4})
    assert r.status is J


def test_direction_with_series_some_up_some_down():
    names = ["Äldre", "LSS"]
    r = evaluate(parse_target("Öka"), {"Äldre": 55, "LSS": 40}, series_names=names,
                 baseline=parse_series_values("Äldre 50 %, LSS 45 %", names))
    assert r.status is D and [s.status for s in r.series] == [U, E]


def test_maintain_alone_not_worse_than_baseline():
    t = parse_target("Bibehålla")
    base = parse_series_values("86 %")
    assert evaluate(t, {None: 86}, baseline=base).status is U
    assert evaluate(t, {None: 87}, baseline=base).status is U
    assert evaluate(t, {None: 85}, baseline=base).status is E
    # previous does not replace the baseline for "Bibehålla"
    assert evaluate(t, {None: 86}, baseline=base, previous={None: 90}).status is U
    # lower is better: not worse means not higher
    assert evaluate(t, {None: 3.2}, baseline=parse_series_values("3,3%"), polarity="lower").status is U
    assert evaluate(t, {None: 3.4}, baseline=parse_series_values("3,3%"), polarity="lower").status is E


# ---- second limit -----------------------------------------------------------------------------

@pytest.mark.parametrize("outcome, status, flags", [
    (60, U, ()), (65, U, ()), (70, E, ()), (90, E, ()), (91, E, ("andra_gransen_passerad",)),
])
def test_second_limit_flagged_on_its_own(outcome, status, flags):
    r = _status("65 (90)", {None: outcome}, "lower")
    assert (r.status, r.flags) == (status, flags)


def test_second_limit_with_improvement():
    r = _status("65 (90)", {None: 95}, "lower", baseline="120")
    assert (r.status, r.flags) == (D, ("andra_gransen_passerad",))


# ---- tolerance --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, polarity, outcome, tol, status", [
    ("86 %", "higher", 82, 5, D), ("86 %", "higher", 81.7, 5, D), ("86 %", "higher", 81.6, 5, E),
    ("86 %", "higher", 82, None, E), ("86 %", "higher", 82, 0, E),
    ("3,0%", "lower", 3.15, 5, D), ("3,0%", "lower", 3.16, 5, E),
    ("= 100", None, 103, 5, D), ("= 100", None, 94, 5, E),
    ("Sammantagen nettokostnadsavvikelse ska understiga 0", None, 0.1, 50, E),  # a band of 0 % of 0
])
def test_tolerance_band(text, polarity, outcome, tol, status):
    assert _status(text, {None: outcome}, polarity, settings=StatusSettings(tol)).status is status


def test_settings_refuse_negative_tolerance():
    with pytest.raises(ValueError):
        StatusSettings(-1)


# ---- labels and JSON --------------------------------------------------------------------------

def test_labels():
    assert [s.label for s in Status] == ["Uppfyllt", "Delvis uppfyllt", "Ej uppfyllt", "Utfall saknas",
                                         "Jämförelsevärde saknas", "Målvärde saknas", "Bedöms manuellt",
                                         "Redovisas"]
    for s in Status:
        assert Status.from_label(s.label) is s
        assert Status.from_label(f"  {s.label.upper()} ") is s
        assert Status.from_label(s.value) is s
    assert Status.from_label("delvis") is D
    assert Status.from_label("ej uppfyllt") is E
    assert Status.from_label("kanske") is None
    assert Status.from_label(None) is None


def test_to_json():
    r = _status("65 (90)", {None: 95}, "lower")
    assert r.to_json() == {
        "status": "ej_uppfyllt",
        "series": [{"name": None, "status": "ej_uppfyllt", "outcome": 95.0,
                    "target": {"name": None, "op": "<=", "value": 65.0, "unit": None, "limit": 90.0}}],
        "flags": ["andra_gransen_passerad"],
    }
    assert isinstance(r, StatusResult)
    assert r.series[0].target == SeriesTarget(None, "<=", 65.0, None, 90.0)


def test_outcomes_that_are_not_numbers_count_as_missing():
    assert _status(">48", {None: float("nan")}).status is Status.UTFALL_SAKNAS
    assert _status(">48", {None: True}).status is Status.UTFALL_SAKNAS  # type: ignore[dict-item]


# ---- properties -------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TARGETS = [">48 %", "86 %", "3,0%", "65 (90)", "= 10", "Öka", "Minska", "Bibehålla", "Systematisk analys", "",
            "Äldre och LSS >48 %", "Äldre 50 %, LSS 60 %", "90 % resp 85 %"]
_NUM = st.one_of(st.none(), st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(-100, 100))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_TARGETS), st.sampled_from([None, "higher", "lower"]), _NUM, _NUM, _NUM, _NUM,
       st.sampled_from([None, 0.0, 5.0, 50.0]), st.sampled_from([None, "", "delvis", "Uppfyllt", "x"]),
       st.booleans())
def test_evaluate_never_raises_and_meeting_the_target_is_uppfyllt(text, polarity, a, b, base, prev, tol,
                                                                      assessment, named):
    series = ["Äldre", "LSS"] if named else []
    t = parse_target(text, polarity, series)
    baseline = parse_series_values("" if base is None else str(base).replace(".", ","), series)
    outcomes = {"Äldre": a, "LSS": b} if named else {None: a}
    r = evaluate(t, outcomes, series_names=series, baseline=baseline, previous={None: prev}, polarity=polarity,
                 settings=StatusSettings(tol), assessment=assessment)
    assert isinstance(r.status, Status)
    assert set(r.flags) <= {"andra_gransen_passerad", "fel_riktning", "bedomning_saknas", "bedomning_ogiltig",
                            "jamforelsevarde_saknas"}
    if t.kind == "threshold" and all(s.status is U for s in r.series) and r.series:
        assert r.status is U
    if t.kind == "threshold" and r.status is not Status.UTFALL_SAKNAS:
        for s in r.series:
            met = s.target is not None and s.outcome is not None and {
                ">": s.outcome > s.target.value, ">=": s.outcome >= s.target.value,
                "<": s.outcome < s.target.value, "<=": s.outcome <= s.target.value,
                "=": s.outcome == s.target.value}[s.target.op]
            assert (s.status is U) == met

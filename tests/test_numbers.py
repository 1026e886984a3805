"""Swedish numbers: strict parsing, quantities, formatting and the round trip."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.core.numbers import Quantity, format_number, is_no_value, parse_number, parse_quantity

NBSP = "\u00a0"


@pytest.mark.parametrize("text, expected", [
    ("91,1", 91.1), ("4,0", 4.0), ("4.5", 4.5), ("966 333", 966333.0), (f"1{NBSP}012{NBSP}779", 1012779.0),
    ("1\u202f012", 1012.0), ("108 711", 108711.0), ("+ 1,9 %", 1.9), ("- 4,4 %", -4.4), ("-769 574", -769574.0),
    ("\u2212 3", -3.0), ("\u22123", -3.0), ("\u2013 3,5", -3.5), ("50 %", 50.0), ("50%", 50.0), ("3 dagar", 3.0),
    ("12 procent", 12.0), ("  7  ", 7.0), ("1 012 779,25 tkr", 1012779.25), ("0,5", 0.5), ("007", 7.0),
    (12, 12.0), (48.5, 48.5), (Decimal("2.5"), 2.5),
])
def test_parse_number(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", [
    "ca 50", "n/a", "50-60", "1,234.5", "12 34", "1234 567", "-", "", "  ", None, "abc", "50 % 60", "5e3",
    "73 (2022)", "65 (90)", "+", "1,", ",5", "1 2", "50 dagar kvar", True, float("nan"), float("inf"), [1],
])
def test_parse_number_refuses_anything_ambiguous(text):
    assert parse_number(text) is None


@pytest.mark.parametrize("text", [None, "", "  ", "-", "–", "I.U", "i.u.", "I.U.", "Ej aktuellt", "ej aktuellt ",
                                  "\u00a0", float("nan")])
def test_no_value(text):
    assert is_no_value(text)


@pytest.mark.parametrize("text", ["0", 0, "Öka", "50 %", "-5"])
def test_is_a_value(text):
    assert not is_no_value(text)


@pytest.mark.parametrize("text, expected", [
    ("73 (2022)", Quantity(73.0, None, 2022)), ("74(2022)", Quantity(74.0, None, 2022)),
    ("2018 + 1,9 %", Quantity(1.9, "%", 2018)), ("2018 - 4,4 %", Quantity(-4.4, "%", 2018)),
    ("2018: 4,4", Quantity(4.4, None, 2018)), ("63 % (2023)", Quantity(63.0, "%", 2023)),
    ("12 procent", Quantity(12.0, "%")), ("142 boendeplatser", Quantity(142.0, "boendeplatser")),
    ("3 dagar", Quantity(3.0, "dagar")), ("-769 574", Quantity(-769574.0)), (5, Quantity(5.0)),
])
def test_parse_quantity(text, expected):
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("text", ["2018 1,9", "73 (22)", "73 (90)", "ca 5", None, "", "I.U"])
def test_parse_quantity_refuses(text):
    assert parse_quantity(text) is None


@pytest.mark.parametrize("value, decimals, unit, expected", [
    (1012779, None, None, "1 012 779"), (48.5, None, None, "48,5"), (48.5, None, "%", "48,5 %"),
    (48.5, None, "procent", "48,5 %"), (-769574, None, "tkr", "-769 574 tkr"), (0.1 + 0.2, 2, None, "0,30"),
    (48.45, 1, None, "48,5"), (-48.45, 1, None, "-48,5"), (2.5, 0, None, "3"), (-0.04, 1, None, "0,0"),
    (-0.0, None, None, "0"), (1e-7, None, None, "0,0000001"), (1234.0, None, None, "1 234"), (999, None, None, "999"),
    (None, None, None, ""), (float("nan"), None, None, ""), (float("inf"), 2, "%", ""), (3, None, "dagar", "3 dagar"),
])
def test_format_number(value, decimals, unit, expected):
    assert format_number(value, decimals, unit) == expected


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_parse_number_never_raises(text):
    result = parse_number(text)
    assert result is None or math.isfinite(result)
    parse_quantity(text)
    is_no_value(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789 ,.-+−–%\u00a0()dagrkt", max_size=20))
def test_parse_number_never_raises_on_number_like_text(text):
    parse_number(text)
    parse_quantity(text)


@settings(max_examples=1000, deadline=None)
@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_format_then_parse_round_trips(value):
    assert parse_number(format_number(value)) == value
    assert parse_number(format_number(value, unit="%")) == value


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=-10**9, max_value=10**9), st.integers(min_value=0, max_value=4))
def test_round_trip_with_decimals(scaled, decimals):
    value = scaled / 10**decimals
    text = format_number(value, decimals)
    assert parse_number(text) == pytest.approx(value, abs=10 ** -(decimals + 6))
    assert text.count(",") == (1 if decimals else 0)


def test_display_decimals_shortens_raw_kolada_shares_only():
    from xlplan.core.numbers import display_decimals, format_number

    assert format_number(85.71428571, display_decimals(85.71428571)) == "85,7"
    assert format_number(48.5, display_decimals(48.5)) == "48,5"
    assert format_number(0.25, display_decimals(0.25)) == "0,25"
    assert format_number(966333, display_decimals(966333)) == "966 333"
    assert format_number(1234.56, display_decimals(1234.56)) == "1 234,6"

import pytest

from analysis.params import ParameterError, Quarter, RunParameters, windows


def test_quarter_months_and_shifts():
    q = Quarter.parse("2022-Q4")
    assert q.months == ["2022-10", "2022-11", "2022-12"]
    assert str(q.previous) == "2022-Q3"
    assert str(q.year_earlier) == "2021-Q4"
    assert str(Quarter.parse("2023-Q1").previous) == "2022-Q4"
    assert Quarter.of_month("2021-11") == Quarter(2021, 4)


def test_twelve_months_window_is_calendar_year_for_q4():
    assert Quarter.parse("2021-Q4").twelve_months == [f"2021-{m:02d}" for m in range(1, 13)]
    w = windows(Quarter.parse("2023-Q1"))
    assert w["12m"][0] == "2022-04" and w["12m"][-1] == "2023-03" and len(w["12m"]) == 12


@pytest.mark.parametrize(
    "bad", ["2022Q4", "2022-Q5", "22-Q1", "2022-Q1; import os", "2022-Q1\n", "", "__import__('os')"]
)
def test_malformed_quarter_rejected(bad):
    with pytest.raises(ParameterError):
        RunParameters(quarter=bad)


@pytest.mark.parametrize("bad", ["Northumbria", "north umbria", "x'; rm -rf /", ""])
def test_malformed_force_rejected(bad):
    with pytest.raises(ParameterError):
        RunParameters(force=bad)


def test_parameters_are_frozen():
    p = RunParameters()
    with pytest.raises(AttributeError):
        p.force = "durham"  # type: ignore[misc]


def test_months_missing_between_spans_year_ends_and_ignores_order():
    from analysis.params import months_missing_between

    held = ["2022-02", "2021-11", "2021-12", "2022-04"]  # unsorted; gaps 2022-01 and 2022-03
    assert months_missing_between(held) == ["2022-01", "2022-03"]
    assert months_missing_between(["2021-12", "2022-01"]) == []
    assert months_missing_between([]) == []


def test_paths_with_quotes_are_data_but_a_line_break_is_refused():
    odd = "/tmp/a b'c; SELECT 1; --\"d\\e"
    assert RunParameters(processed_dir=odd, output_dir=odd).processed_dir == odd
    for bad in ("/tmp/a\nb", "/tmp/a\rb", "/tmp/a\0b"):
        with pytest.raises(ParameterError, match="one line"):
            RunParameters(processed_dir=bad)

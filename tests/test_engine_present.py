"""The presentation rules at the values that would show a broken one: 0, 1, None, not a number,
a unit's edge, large numbers, one of a thing against two."""

from __future__ import annotations

import doctest

import pytest

from concgui.engine import present
from concgui.engine.present import (
    MISSING,
    count,
    efficiency,
    fraction,
    number,
    percent,
    plural,
    possessive,
    relative_speed,
    seconds,
    speedup,
)


@pytest.mark.parametrize(("value", "text"), [
    (None, MISSING), (float("nan"), MISSING), (float("inf"), MISSING),
    (0, "0 s"), (0.0, "0 s"), (1, "1.000 s"), (2.0021, "2.002 s"), (3600, "3,600.000 s"),
    (0.0134, "13.4 ms"), (0.001, "1.0 ms"), (9.1e-6, "9.1 µs"), (-0.25, "-250.0 ms"),
    (0.99996, "1.000 s"),  # rounds up to a second: never "1000.0 ms"
    (0.00099996, "1.0 ms"),  # nor "1000.0 µs"
])
def test_seconds_picks_the_unit_that_reads_best(value, text):
    assert seconds(value) == text


def test_seconds_places_apply_to_whole_seconds_only():
    assert seconds(2.0, 2) == "2.00 s" and seconds(2.34, 1) == "2.3 s"
    assert seconds(0.0048, 2) == "4.8 ms"


@pytest.mark.parametrize(("value", "text"), [
    (None, MISSING), (0, "0.00×"), (1, "1.00×"), (1.916, "1.92×"), (1234.5, "1,234.50×"),
    (0.72, "1.39× slower"), (0.5, "2.00× slower"), (0.999, "1.00×"),  # never "1.00× slower"
])
def test_speedup(value, text):
    assert speedup(value) == text


def test_a_speedup_below_one_reads_slower_in_every_formatter():
    """The review saw "1.4× slower" in the Compare tab's table and "0.72×" in the summary for one run."""
    assert speedup(0.72).endswith("× slower") and relative_speed(0.72).endswith("× slower")
    assert float(speedup(0.72).split("×")[0]) == pytest.approx(float(relative_speed(0.72).split("×")[0]), abs=0.05)


@pytest.mark.parametrize(("name", "text"), [
    ("process-pool", "process-pool's"), ("threads", "threads'"), ("asyncio", "asyncio's"),
    ("process-pool (chunk 100)", "process-pool (chunk 100)'s"),
])
def test_possessive(name, text):
    assert possessive(name) == text


@pytest.mark.parametrize(("value", "text"), [
    (None, MISSING), (0, MISSING), (-1, MISSING), (1, "1.0×"), (0.96, "1.0×"), (2.96, "3.0×"),
    (250, "250×"), (0.5, "2.0× slower"), (0.08, "12× slower"),
])
def test_relative_speed_says_slower_rather_than_a_small_ratio(value, text):
    assert relative_speed(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (None, MISSING), (0, "0 %"), (1, "100 %"), (0.85, "85 %"), (0.004, "0 %"), (12.5, "1,250 %"),
])
def test_efficiency_is_always_per_cent_with_a_space(value, text):
    assert efficiency(value) == text


def test_percent_number_and_fraction():
    assert percent(None) == MISSING and percent(0) == "0 %" and percent(99.6) == "100 %"
    assert number(None) == MISSING and number(0) == "0.00" and number(1234567, 0) == "1,234,567"
    assert number(1.916, unit="cores") == "1.92 cores" and number(None, unit="cores") == MISSING
    assert fraction(None) == MISSING and fraction(0.05) == "0.050" and fraction(1) == "1.000"


@pytest.mark.parametrize(("n", "one", "text"), [
    (0, "worker", "0 workers"), (1, "worker", "1 worker"), (2, "worker", "2 workers"),
    (1, "process", "1 process"), (2, "process", "2 processes"), (3, "Dask worker process", "3 Dask worker processes"),
    (2, "box", "2 boxes"), (2, "batch", "2 batches"), (1200, "task", "1,200 tasks"), (-1, "run", "-1 runs"),
])
def test_count_says_one_thing_or_many(n, one, text):
    assert count(n, one) == text


def test_plural_takes_an_irregular_form():
    assert plural(1, "was", "were") == "was" and plural(2, "was", "were") == "were"
    assert plural(0, "was", "were") == "were"
    assert count(2, "child", "children") == "2 children"


def test_the_modules_examples_hold():
    assert doctest.testmod(present).failed == 0

"""Kubernetes quantities are parsed exactly and formatted in their shortest exact form."""

from __future__ import annotations

from decimal import Decimal

import pytest

from goldenpath.spec.quantity import QuantityError, format_bytes, format_cpu, parse_quantity


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500m", Decimal("0.5")),
        ("8Gi", Decimal(8 * 2**30)),
        ("1.5", Decimal("1.5")),
        ("1e3", Decimal(1000)),
        ("1E3", Decimal(1000)),
        ("2k", Decimal(2000)),
        ("100Mi", Decimal(100 * 2**20)),
        ("1Ki", Decimal(1024)),
        ("3Ti", Decimal(3 * 2**40)),
        ("1Pi", Decimal(2**50)),
        ("1Ei", Decimal(2**60)),
        ("5n", Decimal("5e-9")),
        ("5u", Decimal("5e-6")),
        ("2M", Decimal(2_000_000)),
        ("2G", Decimal(2_000_000_000)),
        ("1T", Decimal(10**12)),
        ("1P", Decimal(10**15)),
        ("1E", Decimal(10**18)),
        ("1.5Gi", Decimal(3 * 2**29)),
        (".5", Decimal("0.5")),
        ("+2", Decimal(2)),
        ("-1", Decimal(-1)),
        ("0", Decimal(0)),
        ("2e-3", Decimal("0.002")),
        ("12e+2", Decimal(1200)),
        (" 4 ", Decimal(4)),
        (4, Decimal(4)),
        (1.5, Decimal("1.5")),
    ],
)
def test_parses_kubernetes_quantities(text: str | int | float, expected: Decimal) -> None:
    assert parse_quantity(text) == expected


def test_parsing_is_exact() -> None:
    # 0.1 + 0.2 in floats is 0.30000000000000004; quotas summed over many teams must not drift
    assert parse_quantity("100m") + parse_quantity("200m") == parse_quantity("300m")
    assert sum((parse_quantity("1m") for _ in range(1000)), Decimal(0)) == Decimal(1)


@pytest.mark.parametrize(
    "text",
    ["", "lots", "8GB", "8gi", "Gi", "1.2.3", "1 Gi", "--1", "1e", "1e3.5", "0x10", "1_000",
     "m", "5mi", "1KiB", "nan", "inf"],
)
def test_refuses_text_that_is_not_a_quantity(text: str) -> None:
    with pytest.raises(QuantityError, match="is not a Kubernetes quantity"):
        parse_quantity(text)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "True is not a Kubernetes quantity"),
        (False, "False is not a Kubernetes quantity"),
        (None, "None is not a Kubernetes quantity"),
        ([1], "[1] is not a Kubernetes quantity"),
        (float("nan"), "'nan' is not a Kubernetes quantity"),
        (float("inf"), "'inf' is not a Kubernetes quantity"),
    ],
)
def test_refuses_booleans_and_non_scalars(value: object, message: str) -> None:
    # YAML reads `cpu: yes` as True; a quota of True is a typo, not 1
    with pytest.raises(QuantityError) as info:
        parse_quantity(value)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_quantity_error_is_a_value_error() -> None:
    assert issubclass(QuantityError, ValueError)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal(2), "2"),
        (Decimal(0), "0"),
        (Decimal("1.5"), "1500m"),
        (Decimal("0.25"), "250m"),
        (Decimal("0.001"), "1m"),
        (Decimal("0.0005"), "0.0005"),
        (Decimal(64), "64"),
        (Decimal("400.000"), "400"),
    ],
)
def test_formats_cpu_in_shortest_exact_form(value: Decimal, text: str) -> None:
    assert format_cpu(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal(64 * 2**30), "64Gi"),
        (Decimal(1536 * 2**20), "1536Mi"),
        (Decimal(2**60), "1Ei"),
        (Decimal(2**50), "1Pi"),
        (Decimal(3 * 2**40), "3Ti"),
        (Decimal(1024), "1Ki"),
        (Decimal(1000), "1000"),
        (Decimal(2 * 10**9), "1953125Ki"),
        (Decimal(0), "0"),
        (Decimal("1.5"), "1.5"),
    ],
)
def test_formats_bytes_with_largest_exact_binary_suffix(value: Decimal, text: str) -> None:
    assert format_bytes(value) == text


@pytest.mark.parametrize("text", ["8Gi", "1536Mi", "16Gi", "1Ki", "123"])
def test_bytes_round_trip(text: str) -> None:
    assert parse_quantity(format_bytes(parse_quantity(text))) == parse_quantity(text)


@pytest.mark.parametrize("text", ["2", "500m", "1.5", "250m", "64"])
def test_cpu_round_trip(text: str) -> None:
    assert parse_quantity(format_cpu(parse_quantity(text))) == parse_quantity(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\u0661\u0662",
         "'\u0661\u0662' is not a Kubernetes quantity: write it with ASCII digits 0-9"),
        ("\uff18Gi", "'\uff18Gi' is not a Kubernetes quantity: write it with ASCII digits 0-9"),
        ("9Ei", "'9Ei' is larger than a Kubernetes quantity can be (at most 2^63-1, about 8Ei)"),
        ("1e400", "'1e400' is larger than a Kubernetes quantity can be (at most 2^63-1, about "
                  "8Ei)"),
        ("1e-400", "'1e-400' is smaller than a Kubernetes quantity can be (1n)"),
        ("4\n", "'4\\n' is not a Kubernetes quantity"),
        ("1" * 10_000, f"{'1' * 64!r}... is longer than 64 characters; not a Kubernetes "
                       "quantity"),
        (10**5000, "a 16610-bit integer is larger than a Kubernetes quantity can be (at most "
                   "2^63-1, about 8Ei)"),
    ],
    ids=["arabic-indic", "fullwidth", "9Ei", "1e400", "1e-400", "newline", "long", "huge-int"],
)
def test_refuses_hostile_text_with_a_bounded_message(text: str | int, message: str) -> None:
    with pytest.raises(QuantityError) as info:
        parse_quantity(text)
    assert str(info.value) == message


def test_the_largest_quantity() -> None:
    assert parse_quantity(str(2**63 - 1)) == Decimal(2**63 - 1)
    assert parse_quantity("7Ei") == Decimal(7 * 2**60)

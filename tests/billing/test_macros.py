"""The parsing and arithmetic macros of ``sql/macros.sql``, against Python's exact decimal arithmetic."""

from __future__ import annotations

import json
import random
from decimal import ROUND_HALF_UP, Decimal

import pytest

TWELVE = Decimal("1e-12")


def _pairs() -> list[tuple[str, str]]:
    """Prices and quantities as exports write them (up to 12 decimals, 1e-6 to 1e7), products beyond DOUBLE's 16
    digits, exact ties at the 13th decimal, negatives and zeros."""
    rng = random.Random(20250610)
    pairs = []
    for _ in range(3000):
        a = Decimal(rng.randrange(1, 10**12)) / 10 ** rng.randint(0, 12) * rng.choice((1, -1))
        b = Decimal(rng.randrange(1, 10**12)) / 10 ** rng.randint(0, 12)
        if abs(a * b) < Decimal("1e13"):
            pairs.append((str(a), str(b)))
    pairs += [("0.000000000005", "1"), ("0.000000000001", "0.5"), ("-0.000000000001", "0.5"),
              ("1234567.123456789012", "3.3"), ("0", "12.5"), ("2.5", "0"), ("99999999.999999999999", "99999")]
    return pairs


@pytest.fixture
def con(warehouse):
    with warehouse.write("test") as session:  # the macros live in the warehouse
        yield session.con


def test_ss_mul_is_the_exact_product_rounded_half_away_from_zero_to_12_decimals(con):
    pairs = _pairs()
    con.execute("CREATE TEMP TABLE pairs (i INTEGER, a DECIMAL(38, 12), b DECIMAL(38, 12))")
    con.executemany("INSERT INTO pairs VALUES (?, ?, ?)", [(i, a, b) for i, (a, b) in enumerate(pairs)])
    got = dict(con.execute("SELECT i, ss_mul(a, b) FROM pairs").fetchall())
    wrong = [(a, b, got[i]) for i, (a, b) in enumerate(pairs)
             if got[i] != (Decimal(a) * Decimal(b)).quantize(TWELVE, rounding=ROUND_HALF_UP)]
    assert wrong == []
    # both paths were taken: DOUBLE's product where it is exact enough, the exact rescale elsewhere
    fast = con.execute("SELECT count(*) FROM pairs WHERE abs(a * b - CAST(a::DOUBLE * b::DOUBLE AS DECIMAL(38, 12))) "
                       "< 0.0000000000005").fetchone()[0]
    assert 0 < fast < len(pairs)


def test_ss_mul_of_a_product_beyond_10_to_the_13_rounds_b_to_10_decimals_first(con):
    [(product,)] = con.execute("SELECT ss_mul(9999999999.5::DECIMAL(38, 12), 12345.123456789012::DECIMAL(38, 12))"
                               ).fetchall()
    assert product == (Decimal("9999999999.5") * Decimal("12345.1234567890")).quantize(TWELVE, ROUND_HALF_UP)


def test_ss_mul_of_null_is_null(con):
    assert con.execute("SELECT ss_mul(NULL::DECIMAL(38, 12), 2::DECIMAL(38, 12))").fetchone() == (None,)


@pytest.mark.parametrize("text", ['[1]', '"team"', '{"team": "ml"} trailing', '"team": "ml"}', 'team=ml'])
def test_ss_json_object_refuses_what_is_not_an_object_of_tags(con, text):
    with pytest.raises(Exception, match=r'line 7, column "Tags": .* is not a JSON object of tags'):
        con.execute("SELECT ss_json_object(?, 7, 'Tags')", [text]).fetchall()


@pytest.mark.parametrize(("text", "tags"), [('"team": "ml"', {"team": "ml"}), (' {"team": "ml"}', {"team": "ml"}),
                                            ("{}", None), ("", None)])
def test_ss_json_object_reads_an_object_with_or_without_its_braces(con, text, tags):
    [(value,)] = con.execute("SELECT ss_json_object(?, 7, 'Tags')", [text]).fetchall()
    assert (None if value is None else json.loads(value)) == tags

"""Tests for core.national_id (pure Python, no Django needed).

Run with: .venv/bin/pytest -p no:django tests/workflows/test_national_id.py

Every number here is synthetic (month + 40 / + 80) or has a birth date in the future
(2039), so none of them can belong to a real person.
"""

import pytest

from core.national_id import (
    InvalidNationalId,
    is_national_id,
    kind_of,
    mask_national_id,
    validate_national_id,
)

K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def _mod11(digits: str, weights: tuple[int, ...]) -> int:
    """Classic control digit, computed independently of the module under test."""
    k = 11 - sum(int(d) * w for d, w in zip(digits, weights)) % 11
    return 0 if k == 11 else k  # may be 10 = "no valid digit"


def with_check_digits(first9: str) -> str:
    """Append K1 and K2 by the classic (pre-2032) rule; fail loudly on a 10."""
    k1 = _mod11(first9, K1_WEIGHTS)
    assert k1 != 10, f"pick another individual number for {first9}: K1 would be 10"
    k2 = _mod11(first9 + str(k1), K2_WEIGHTS)
    assert k2 != 10, f"pick another individual number for {first9}: K2 would be 10"
    return first9 + str(k1) + str(k2)


# --- The synthetic examples from the domain notes, checked by hand -----------------
#
# 17912099997  (Skatteetaten synthetic: month 91 = 11 + 80 -> 17.11.2020, individual 999)
#   K1: 1*3 + 7*7 + 9*6 + 1*1 + 2*8 + 0*9 + 9*4 + 9*5 + 9*2
#     = 3 + 49 + 54 + 1 + 16 + 0 + 36 + 45 + 18 = 222; 222 mod 11 = 2; 11 - 2 = 9  = d10 ok
#   K2: 1*5 + 7*4 + 9*3 + 1*2 + 2*7 + 0*6 + 9*5 + 9*4 + 9*3 + 9*2
#     = 5 + 28 + 27 + 2 + 14 + 0 + 45 + 36 + 27 + 18 = 202; 202 mod 11 = 4; 11 - 4 = 7 ok
#
# 29822099635  (synthetic: month 82 = 02 + 80 -> 29.02.2020, 2020 is a leap year; ind. 996)
#   K1: 2*3 + 9*7 + 8*6 + 2*1 + 2*8 + 0*9 + 9*4 + 9*5 + 6*2
#     = 6 + 63 + 48 + 2 + 16 + 0 + 36 + 45 + 12 = 228; 228 mod 11 = 8; 11 - 8 = 3  ok
#   K2: 2*5 + 9*4 + 8*3 + 2*2 + 2*7 + 0*6 + 9*5 + 9*4 + 6*3 + 3*2
#     = 10 + 36 + 24 + 4 + 14 + 0 + 45 + 36 + 18 + 6 = 193; 193 mod 11 = 6; 11 - 6 = 5 ok
#
# 05840399895  (synthetic: month 84 = 04 + 80 -> 05.04.2003, individual 998)
#   K1: 0*3 + 5*7 + 8*6 + 4*1 + 0*8 + 3*9 + 9*4 + 9*5 + 8*2
#     = 0 + 35 + 48 + 4 + 0 + 27 + 36 + 45 + 16 = 211; 211 mod 11 = 2; 11 - 2 = 9  ok
#   K2: 0*5 + 5*4 + 8*3 + 4*2 + 0*7 + 3*6 + 9*5 + 9*4 + 8*3 + 9*2
#     = 0 + 20 + 24 + 8 + 0 + 18 + 45 + 36 + 24 + 18 = 193; 193 mod 11 = 6; 11 - 6 = 5 ok
#
# 57912075186  (D-number: day 57 = 17 + 40; month 91 = 11 + 80 -> 17.11.2020, ind. 751;
#               i.e. a *synthetic* D-number)
#   K1: 5*3 + 7*7 + 9*6 + 1*1 + 2*8 + 0*9 + 7*4 + 5*5 + 1*2
#     = 15 + 49 + 54 + 1 + 16 + 0 + 28 + 25 + 2 = 190; 190 mod 11 = 3; 11 - 3 = 8  ok
#   K2: 5*5 + 7*4 + 9*3 + 1*2 + 2*7 + 0*6 + 7*5 + 5*4 + 1*3 + 8*2
#     = 25 + 28 + 27 + 2 + 14 + 0 + 35 + 20 + 3 + 16 = 170; 170 mod 11 = 5; 11 - 5 = 6 ok
#
# All four satisfy both check digits under the classic rule.

DOMAIN_EXAMPLES = ["17912099997", "29822099635", "05840399895", "57912075186"]


@pytest.mark.parametrize("number", DOMAIN_EXAMPLES)
def test_domain_examples_are_accepted(number):
    assert validate_national_id(number) == number


@pytest.mark.parametrize("number", DOMAIN_EXAMPLES)
def test_test_helper_agrees_with_hand_computation(number):
    assert with_check_digits(number[:9]) == number


@pytest.mark.parametrize("number", DOMAIN_EXAMPLES)
def test_domain_examples_are_synthetic(number):
    # 57912075186 carries the D-number day offset too, but month + 80 marks it as test
    # data, which is the more important fact about it.
    assert kind_of(number) == "synthetic"


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        (with_check_digits("010139999"), "fnr"),  # 01.01.2039, no offsets
        (with_check_digits("410139999"), "d-number"),  # day 41 = 01 + 40
        (with_check_digits("014139999"), "h-number"),  # month 41 = 01 + 40 (H / NAV)
        (with_check_digits("414139999"), "synthetic"),  # day + 40 and month + 40: NAV D
        (with_check_digits("018139998"), "synthetic"),  # month 81 = 01 + 80
    ],
)
def test_kind_of(number, kind):
    assert kind_of(number) == kind


def test_kind_of_rejects_invalid_numbers():
    with pytest.raises(InvalidNationalId):
        kind_of("17912099990")


@pytest.mark.parametrize("raw", ["179120 99997", " 179120 999 97 ", "17 91 20 99 99 7"])
def test_spaces_are_stripped(raw):
    assert validate_national_id(raw) == "17912099997"


# --- Every single-digit change of a valid number is refused -------------------------


@pytest.mark.parametrize("number", DOMAIN_EXAMPLES)
@pytest.mark.parametrize("position", range(11))
def test_every_single_digit_change_is_refused(number, position):
    for replacement in "0123456789":
        if replacement == number[position]:
            continue
        changed = number[:position] + replacement + number[position + 1 :]
        with pytest.raises(InvalidNationalId):
            validate_national_id(changed)


# --- Shape ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "1791209999",  # 10 digits
        "179120999970",  # 12 digits
        "1",
    ],
)
def test_wrong_length_is_refused(raw):
    with pytest.raises(InvalidNationalId, match="11 digits"):
        validate_national_id(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "1791209999A",
        "17912O99997",  # letter O, not zero
        "179120-99997",
        "1791209999\u0667",  # Arabic-Indic digit seven: str.isdigit() would accept it
        "".join(chr(0xFF10 + int(c)) for c in "17912099997"),  # full-width digits
    ],
)
def test_non_digits_are_refused(raw):
    with pytest.raises(InvalidNationalId, match="only the digits"):
        validate_national_id(raw)


def test_non_string_is_refused():
    with pytest.raises(InvalidNationalId, match="string"):
        validate_national_id(17912099997)  # type: ignore[arg-type]


def test_invalid_national_id_is_a_value_error():
    assert issubclass(InvalidNationalId, ValueError)


def test_error_message_does_not_leak_the_number():
    with pytest.raises(InvalidNationalId) as excinfo:
        validate_national_id("17912099990")
    assert "1791209999" not in str(excinfo.value)


# --- Check digits ----------------------------------------------------------------------


def test_wrong_first_check_digit_is_reported():
    # 179120999 has weighted sum 222 (see above); K1 = 8 gives (222 + 8) mod 11 = 10,
    # invalid under both rules.
    with pytest.raises(InvalidNationalId, match="check digit 1"):
        validate_national_id("17912099987")


def test_wrong_second_check_digit_is_reported():
    with pytest.raises(InvalidNationalId, match="check digit 2"):
        validate_national_id("17912099990")


# Valid only under the 2032 K1 rule.
# d1..d9 = 179120999, weighted sum 222 (computed above), 222 mod 11 = 2.
#   Classic rule: K1 must be 9.
#   2032 rule: (222 + K1) mod 11 in {0, 1, 2, 3}  ->  K1 in {9, 0, 1} (10 is not a digit).
# K1 = 0: K2 sum = 202 - 9*2 + 0*2 = 184; 184 mod 11 = 8; K2 = 11 - 8 = 3 -> 17912099903
# K1 = 1: K2 sum = 202 - 9*2 + 1*2 = 186; 186 mod 11 = 10; K2 = 11 - 10 = 1 -> 17912099911
ONLY_VALID_FROM_2032 = ["17912099903", "17912099911"]


@pytest.mark.parametrize("number", ONLY_VALID_FROM_2032)
def test_number_valid_only_under_2032_rule_is_accepted(number):
    # Sanity: the classic rule really rejects it, the K2 is right.
    assert _mod11(number[:9], K1_WEIGHTS) != int(number[9])
    assert _mod11(number[:10], K2_WEIGHTS) == int(number[10])
    assert validate_national_id(number) == number


# The "K1 would be 10" case (weighted sum mod 11 == 1): under the classic rule no K1
# exists. Search 01.01.2039 (month + 80) for such an individual number.
def _prefix_with_classic_k1_of_10() -> str:
    for individual in range(999, 899, -1):
        prefix = f"018139{individual:03d}"
        if _mod11(prefix, K1_WEIGHTS) == 10:
            return prefix
    raise AssertionError("no prefix found")


def test_classic_k1_of_10_is_refused_except_where_2032_rule_allows():
    prefix = _prefix_with_classic_k1_of_10()
    # weighted sum mod 11 == 1, so the 2032 rule accepts (1 + K1) mod 11 in {0..3},
    # i.e. K1 in {0, 1, 2}; K1 = 3..9 is refused under both rules.
    for k1 in range(10):
        k2 = _mod11(prefix + str(k1), K2_WEIGHTS)
        if k2 == 10:
            continue
        number = prefix + str(k1) + str(k2)
        if k1 in (0, 1, 2):
            assert validate_national_id(number) == number
        else:
            with pytest.raises(InvalidNationalId, match="check digit 1"):
                validate_national_id(number)


def test_k2_of_10_is_refused():
    # d1..d9 = 018139999 (01.01.2039, month + 80): K1 = 4 (sum 260, 260 mod 11 = 7).
    # K2 sum over 0181399994 = 221; 221 mod 11 = 1; 11 - 1 = 10 -> no valid K2 exists.
    assert _mod11("0181399994", K2_WEIGHTS) == 10
    for last in "0123456789":
        with pytest.raises(InvalidNationalId, match="check digit 2"):
            validate_national_id("0181399994" + last)


# --- Dates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first9",
    [
        "318220999",  # 31.02.2020
        "308220999",  # 30.02.2020
        "298221998",  # 29.02.2021, not a leap year
        "298200123",  # 29.02.1900, not a leap year (individual 000-499 -> 1900s)
        "318439999",  # 31.04.2039
        "718439999",  # D-number 31.04.2039
        "008139999",  # day 00
        "328139999",  # day 32
        "408139999",  # day 40 (neither ordinary nor D-number)
        "728139999",  # day 72 (= 32 + 40)
        "010039999",  # month 00
        "011339999",  # month 13
        "014039999",  # month 40
        "015339999",  # month 53
        "018039999",  # month 80
        "019339999",  # month 93
        "018150750",  # individual 750-899 with year 40-99: not assigned
        "018199899",
        "018140500",  # individual 500-749 with year 40-53: not assigned
        "018153749",
    ],
)
def test_invalid_dates_are_refused(first9):
    number = _valid_checks(first9)
    with pytest.raises(InvalidNationalId, match="not a valid date"):
        validate_national_id(number)


def _valid_checks(first9: str) -> str:
    """Like with_check_digits, but nudges the last individual digit if K1/K2 is 10.

    Only the last individual digit changes, which never moves a number between the
    century ranges used in the tests above.
    """
    for last in (first9[8], *"0123456789"):
        candidate = first9[:8] + last
        if (
            _mod11(candidate, K1_WEIGHTS) != 10
            and _mod11(candidate + str(_mod11(candidate, K1_WEIGHTS)), K2_WEIGHTS) != 10
        ):
            return with_check_digits(candidate)
    raise AssertionError(first9)


@pytest.mark.parametrize(
    "first9",
    [
        "298200500",  # 29.02.2000: leap year (individual 500-999 with year 00-39)
        "298220996",  # 29.02.2020
        "298236999",  # 29.02.2036
        "158354600",  # 15.03.1854 (individual 500-749 with year 54-99)
        "158399749",  # 15.03.1899
        "158340900",  # 15.03.1940 (individual 900-999 with year 40-99)
        "158340499",  # 15.03.1940 (individual 000-499)
        "158339500",  # 15.03.2039
        "308439999",  # 30.04.2039
        "318139999",  # 31.01.2039
        "718139999",  # D-number 31.01.2039, synthetic
        "315239999",  # H-number 31.12.2039
    ],
)
def test_valid_dates_are_accepted(first9):
    number = _valid_checks(first9)
    assert validate_national_id(number) == number


def test_29_february_1900_refused_but_2000_accepted():
    # Same DDMMYY (29.02.00, synthetic month 82); only the individual number decides
    # the century. 1900 is not a leap year, 2000 is.
    assert validate_national_id("29820050043") == "29820050043"
    with pytest.raises(InvalidNationalId, match="not a valid date"):
        validate_national_id("29820012346")


# --- Masking ---------------------------------------------------------------------------


def test_mask():
    assert mask_national_id("17912099997") == "179120*****"


def test_mask_strips_spaces():
    assert mask_national_id("179120 99997") == "179120*****"


def test_mask_checks_only_the_shape():
    # Wrong check digits, but still 11 digits: stored legacy values can be displayed.
    assert mask_national_id("17912099990") == "179120*****"


@pytest.mark.parametrize("raw", ["", "1791209999", "1791209999A"])
def test_mask_refuses_non_numbers(raw):
    with pytest.raises(InvalidNationalId):
        mask_national_id(raw)


# --- Century (not observable through leap years for 18xx vs 19xx, so pinned directly) --


@pytest.mark.parametrize(
    ("yy", "individual", "year"),
    [
        (0, 0, 1900),
        (99, 499, 1999),
        (54, 500, 1854),
        (99, 749, 1899),
        (0, 500, 2000),
        (39, 999, 2039),
        (40, 900, 1940),
        (99, 999, 1999),
        (53, 500, None),
        (40, 749, None),
        (40, 750, None),
        (99, 899, None),
    ],
)
def test_century_ranges(yy, individual, year):
    from core.national_id import _century_year

    assert _century_year(yy, individual) == year


# --- is_national_id: the validator's answers without its exceptions ------------------
#
# The policy asks it of every string in a case's identity data on every read
# (permissions.policy), so it must say exactly what validate_national_id says.


def _validator_accepts(value) -> bool:
    try:
        validate_national_id(value)
    except InvalidNationalId:
        return False
    return True


def _k1_choices(first9: str) -> list[int]:
    """Every K1 digit either rule accepts (classic, and the rule from 2032), and one neither does."""
    total = sum(int(d) * w for d, w in zip(first9, K1_WEIGHTS))
    accepted = [k for k in range(10) if (total + k) % 11 in (0, 1, 2, 3)]
    return accepted + [k for k in range(10) if k not in accepted][:1]


def _k2_choices(first10: str) -> list[int]:
    """The right K2 (when there is one) and a wrong one."""
    right = _mod11(first10, K2_WEIGHTS)
    return ([right] if right != 10 else []) + [(right + 1) % 10]


# Day and month fields around every offset (D-number day + 40, H-number month + 40, synthetic
# month + 80), years and individual numbers around each century range, 29 February among them.
EDGE_DAYS = ["00", "01", "28", "29", "30", "31", "32", "40", "41", "69", "70", "71", "72", "99"]
EDGE_MONTHS = ["00", "01", "02", "04", "12", "13", "40", "41", "42", "52", "53", "80", "81", "82", "92", "93", "99"]
EDGE_YEARS = ["00", "04", "39", "40", "53", "54", "96", "99"]
EDGE_INDIVIDUALS = ["000", "499", "500", "749", "750", "899", "900", "999"]


def _edge_numbers():
    for day in EDGE_DAYS:
        for month in EDGE_MONTHS:
            for year in EDGE_YEARS:
                for individual in EDGE_INDIVIDUALS:
                    first9 = day + month + year + individual
                    for k1 in _k1_choices(first9):
                        for k2 in _k2_choices(first9 + str(k1)):
                            yield f"{first9}{k1}{k2}"


def test_is_national_id_answers_as_the_validator_at_every_edge():
    numbers = list(_edge_numbers())
    accepted = [number for number in numbers if _validator_accepts(number)]
    # the edges hold numbers of every kind, so agreement means something
    assert {kind_of(number) for number in accepted} == {"fnr", "d-number", "h-number", "synthetic"}
    leap_2000, not_leap_1900 = with_check_digits("290200500"), with_check_digits("290200000")
    assert leap_2000 in accepted and not_leap_1900 in numbers and not_leap_1900 not in accepted
    accepted_set = set(accepted)
    assert [n for n in numbers if is_national_id(n) != (n in accepted_set)] == []


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        (with_check_digits("290200500"), True),  # 29.02.2000: a leap year
        (with_check_digits("290200000"), False),  # 29.02.1900: not one
        (with_check_digits("290296500"), True),  # 29.02.1896
        (with_check_digits("290297500"), False),  # 29.02.1897
        (with_check_digits("690204500"), True),  # a D-number on 29.02.2004
        (with_check_digits("298204500"), True),  # synthetic on 29.02.2004
        (with_check_digits("314204500"), False),  # 31 February, an H-number
        (with_check_digits("310405000"), False),  # 31 April
    ],
)
def test_is_national_id_knows_the_calendar(number, valid):
    assert is_national_id(number) is valid is _validator_accepts(number)


def test_is_national_id_answers_as_the_validator_on_random_digits():
    import random

    rng = random.Random(2032)
    numbers = [f"{rng.randrange(10**11):011d}" for _ in range(40_000)]
    assert sum(map(_validator_accepts, numbers)) > 100  # valid ones among them, too
    assert [n for n in numbers if is_national_id(n) != _validator_accepts(n)] == []


@pytest.mark.parametrize(
    "value",
    [
        *DOMAIN_EXAMPLES,
        *ONLY_VALID_FROM_2032,
        "179120 99997",
        " 179120 999 97 ",
        "\t17912099997\n",
        "17912099997\u00a0",  # stripped as whitespace
        "1791\u00a020 99997",  # not stripped inside
        "17912099997 ",
        "179120999970",
        "1791209999",
        "",
        "           ",
        "1791209999\u0667",  # an Arabic-Indic seven: a digit, not ASCII
        "\uff11\uff17\uff19\uff11\uff12\uff10\uff19\uff19\uff19\uff19\uff17",  # full-width digits
        "1791209999²",
        "-1791209999",
        "1791209999a",
        "17912099997" * 2,
        17912099997,
        None,
        ["17912099997"],
        b"17912099997",
    ],
)
def test_is_national_id_answers_as_the_validator_on_any_value(value):
    assert is_national_id(value) is _validator_accepts(value)

"""Norwegian national identity numbers (fødselsnummer and relatives).

Plain Python, no Django: usable from models, forms, serializers and scripts alike.

An identity number has eleven digits: ``DDMMYY`` (birth date, possibly with an
offset), three individual digits ``III`` and two check digits ``K1 K2``.

Accepted kinds (see the "National identity numbers" section of the domain notes):

* ``fnr``       - ordinary fødselsnummer, no offsets.
* ``d-number``  - day + 40.
* ``h-number``  - month + 40 (NAV's synthetic numbers use the same offset and cannot be
  told apart from H-numbers, so they are reported as ``h-number``).
* ``synthetic`` - Skatteetaten's synthetic test numbers (month + 80), also when combined
  with the D-number day offset; and numbers with *both* day + 40 and month + 40, which
  only occur as NAV's synthetic D-numbers (real H-numbers never carry a day offset).

Check digits: K1 is accepted under either the current rule
(K1 = 11 - weighted sum mod 11, 11 -> 0, 10 -> invalid) or the rule in force from 2032
(weighted sum including K1 with weight 1, mod 11, is 0, 1, 2 or 3). K2 is unchanged.

Error messages never contain the number itself, so they are safe to log.
"""

from __future__ import annotations

import datetime
import random
from operator import mul

__all__ = [
    "InvalidNationalId",
    "birth_date_prefixes",
    "is_national_id",
    "kind_of",
    "mask_national_id",
    "shown_masked",
    "validate_national_id",
]

K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

# From 2032: K1 is valid when (weighted sum of d1..d9 + K1) mod 11 is one of these.
K1_REMAINDERS_FROM_2032 = frozenset({0, 1, 2, 3})

D_NUMBER_DAY_OFFSET = 40
H_NUMBER_MONTH_OFFSET = 40  # also NAV's synthetic numbers
SYNTHETIC_MONTH_OFFSET = 80  # Skatteetaten's synthetic test numbers

KIND_FNR = "fnr"
KIND_D_NUMBER = "d-number"
KIND_H_NUMBER = "h-number"
KIND_SYNTHETIC = "synthetic"

_LENGTH = 11
_ASCII_DIGITS = frozenset("0123456789")


class InvalidNationalId(ValueError):
    """The value is not a valid Norwegian national identity number.

    ``code`` (and ``params``) name the reason as ``core.messages`` does, for a page to say it
    in the user's language; the English text here says a little more, never the number.
    """

    def __init__(self, message: str, *, code: str, **params: object):
        super().__init__(message)
        self.code = code
        self.params = params


def _normalise(value: str) -> str:
    """Strip spaces and check the shape: exactly 11 ASCII digits."""
    if not isinstance(value, str):
        raise InvalidNationalId(
            f"National identity number must be a string, not {type(value).__name__}.",
            code="national_id.not_text",
        )
    digits = value.replace(" ", "").strip()
    if not digits:
        raise InvalidNationalId("National identity number is empty; it must be 11 digits.", code="national_id.empty")
    if not set(digits) <= _ASCII_DIGITS:
        raise InvalidNationalId(
            "National identity number must contain only the digits 0-9 (spaces are ignored).",
            code="national_id.not_digits",
        )
    if len(digits) != _LENGTH:
        raise InvalidNationalId(
            f"National identity number must be 11 digits, got {len(digits)}.",
            code="national_id.length",
            count=len(digits),
        )
    return digits


def _weighted_sum(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False))


def _control_digit(weighted_sum: int) -> int | None:
    """Classic mod-11 control digit: 11 - (sum mod 11); 11 -> 0; 10 -> None (invalid)."""
    k = 11 - weighted_sum % 11
    if k == 11:
        return 0
    if k == 10:
        return None
    return k


def _k1_valid(digits: str) -> bool:
    s = _weighted_sum(digits[:9], K1_WEIGHTS)
    k1 = int(digits[9])
    valid_before_2032 = _control_digit(s) == k1
    valid_from_2032 = (s + k1) % 11 in K1_REMAINDERS_FROM_2032
    return valid_before_2032 or valid_from_2032


def _k2_valid(digits: str) -> bool:
    return _control_digit(_weighted_sum(digits[:10], K2_WEIGHTS)) == int(digits[10])


def _century_year(two_digit_year: int, individual: int) -> int | None:
    """Full birth year from YY and the individual number (Skatteetaten's ranges)."""
    if individual <= 499:
        return 1900 + two_digit_year
    if individual <= 749 and two_digit_year >= 54:
        return 1800 + two_digit_year
    if two_digit_year <= 39:  # individual 500-999
        return 2000 + two_digit_year
    if individual >= 900:  # year 40-99
        return 1900 + two_digit_year
    return None  # 500-749 with year 40-53, 750-899 with year 40-99: not assigned


def _decode(digits: str) -> tuple[datetime.date, str]:
    """Birth date and kind of an already normalised 11-digit string."""
    raw_day = int(digits[0:2])
    raw_month = int(digits[2:4])
    two_digit_year = int(digits[4:6])
    individual = int(digits[6:9])

    day_offset = D_NUMBER_DAY_OFFSET if raw_day > D_NUMBER_DAY_OFFSET else 0
    if 1 <= raw_month <= 12:
        month_offset = 0
    elif H_NUMBER_MONTH_OFFSET + 1 <= raw_month <= H_NUMBER_MONTH_OFFSET + 12:
        month_offset = H_NUMBER_MONTH_OFFSET
    elif SYNTHETIC_MONTH_OFFSET + 1 <= raw_month <= SYNTHETIC_MONTH_OFFSET + 12:
        month_offset = SYNTHETIC_MONTH_OFFSET
    else:
        raise InvalidNationalId(
            f"National identity number is not a valid date: month field {raw_month:02d} "
            "is not 01-12 (or 41-52 / 81-92 with an H-number or synthetic offset).",
            code="national_id.bad_date",
        )

    day = raw_day - day_offset
    month = raw_month - month_offset
    if not 1 <= day <= 31:
        raise InvalidNationalId(
            f"National identity number is not a valid date: day field {raw_day:02d} "
            "is not 01-31 (or 41-71 for a D-number).",
            code="national_id.bad_date",
        )

    year = _century_year(two_digit_year, individual)
    if year is None:
        raise InvalidNationalId(
            "National identity number is not a valid date: individual number "
            f"{individual:03d} is not used for two-digit birth year {two_digit_year:02d}.",
            code="national_id.bad_date",
        )
    try:
        birth_date = datetime.date(year, month, day)
    except ValueError:
        raise InvalidNationalId(
            f"National identity number is not a valid date: {day:02d}.{month:02d}.{year} does not exist.",
            code="national_id.bad_date",
        ) from None

    if month_offset == SYNTHETIC_MONTH_OFFSET:
        kind = KIND_SYNTHETIC
    elif month_offset == H_NUMBER_MONTH_OFFSET:
        # Day + 40 together with month + 40 only occurs in NAV's synthetic D-numbers.
        kind = KIND_SYNTHETIC if day_offset else KIND_H_NUMBER
    elif day_offset:
        kind = KIND_D_NUMBER
    else:
        kind = KIND_FNR
    return birth_date, kind


def validate_national_id(value: str) -> str:
    """Return the 11-digit number (spaces removed) or raise :class:`InvalidNationalId`.

    Checks, in order: shape (11 digits), check digit 1, check digit 2, birth date.
    """
    digits = _normalise(value)
    if not _k1_valid(digits):
        raise InvalidNationalId(
            "National identity number is invalid: check digit 1 is wrong.", code="national_id.check_digit_1"
        )
    if not _k2_valid(digits):
        raise InvalidNationalId(
            "National identity number is invalid: check digit 2 is wrong.", code="national_id.check_digit_2"
        )
    _decode(digits)
    return digits


# ``is_national_id``'s check digits, over the digits' ASCII codes (48 + the digit): K1's
# weights with K1's own (1), K2's with K2's own (1), and what the 48s add to each sum.
_K1_WITH_OWN = (*K1_WEIGHTS, 1)
_K2_WITH_OWN = (*K2_WEIGHTS, 1)
_K1_CODE_OFFSET = ord("0") * sum(_K1_WITH_OWN)
_K2_CODE_OFFSET = ord("0") * sum(_K2_WITH_OWN)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_national_id(value: object) -> bool:
    """Whether :func:`validate_national_id` accepts ``value``, without raising: for scanning
    many values (the policy masks every national id in a case's identity data on every read).

    The same answers, found cheapest first: the shape, then both check digits (a random
    11-digit string passes them one time in thirty), then the birth date, decoded without
    making a ``datetime.date``. Either K1 rule holds exactly when the weighted sum with K1
    (weight 1) is 0-3 mod 11: the classic rule is its 0 (K1 is one digit, so 10 never fits).
    """
    if not isinstance(value, str) or len(value) < _LENGTH:
        return False
    digits = value
    if len(digits) != _LENGTH or not (digits.isascii() and digits.isdigit()):
        digits = value.replace(" ", "").strip()
        if len(digits) != _LENGTH or not (digits.isascii() and digits.isdigit()):
            return False
    codes = digits.encode("ascii")
    if (sum(map(mul, codes, _K1_WITH_OWN)) - _K1_CODE_OFFSET) % 11 not in K1_REMAINDERS_FROM_2032:
        return False
    if (sum(map(mul, codes, _K2_WITH_OWN)) - _K2_CODE_OFFSET) % 11:
        return False
    return _is_birth_date(digits)


def _is_birth_date(digits: str) -> bool:
    """``_decode``'s date checks, answered with a bool."""
    raw_day, raw_month = int(digits[0:2]), int(digits[2:4])
    day = raw_day - D_NUMBER_DAY_OFFSET if raw_day > D_NUMBER_DAY_OFFSET else raw_day
    # 41-52 (H-number) and 81-92 (synthetic: twice the offset) leave 1-12; no other field does
    month = raw_month % H_NUMBER_MONTH_OFFSET
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return False
    year = _century_year(int(digits[4:6]), int(digits[6:9]))
    if year is None:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return day <= (29 if month == 2 and leap else _DAYS_IN_MONTH[month - 1])


def kind_of(value: str) -> str:
    """One of ``"fnr"``, ``"d-number"``, ``"h-number"``, ``"synthetic"``.

    The value is fully validated first; raises :class:`InvalidNationalId` if invalid.
    """
    return _decode(validate_national_id(value))[1]


def mask_national_id(value: str) -> str:
    """First six digits followed by ``*****``, e.g. ``170920*****``.

    Only the shape is checked (11 digits after removing spaces), not the check digits,
    so that legacy or already-stored numbers can always be displayed masked.
    """
    digits = _normalise(value)
    return digits[:6] + "*" * 5


def shown_masked(value: object) -> str:
    """``mask_national_id`` for an answer: a stored value that is no number (an erased case's
    person, a tombstone with ``X`` and the case id) shows as eleven asterisks, never itself
    and never as a server error."""
    if isinstance(value, str):
        try:
            return mask_national_id(value)
        except InvalidNationalId:
            pass
    return "*" * 11


def birth_date_prefixes(text: str) -> tuple[str, ...]:
    """The ``DDMMYY`` prefixes a number of a person born on the date ``text`` starts with:
    the fødselsnummer's and the D-number's (day + 40). Empty when ``text`` is not a date.

    Accepts ``17.09.1920``, ``17.09.20``, ``170920``, ``17091920`` and ``1920-09-17``: what
    a caseworker types from a letter or a form. Never more than the birth date, so a search
    by it reveals no more than the masked number (``170920*****``) that every participant sees.
    """
    text = text.strip()
    digits = text.replace(".", "").replace(" ", "")
    day = None
    if "-" in text:
        try:
            day = datetime.date.fromisoformat(text)
        except ValueError:
            return ()
    elif digits.isascii() and digits.isdigit() and len(digits) in (6, 8):
        year_digits = digits[4:]
        year = int(year_digits) if len(year_digits) == 4 else 2000 + int(year_digits)  # the century is not used
        try:
            day = datetime.date(year, int(digits[2:4]), int(digits[:2]))
        except ValueError:
            return ()
    if day is None:
        return ()
    tail = f"{day.month:02d}{day.year % 100:02d}"
    return (f"{day.day:02d}{tail}", f"{day.day + D_NUMBER_DAY_OFFSET:02d}{tail}")


def synthetic_national_id(rng: random.Random, taken: set[str]) -> str:
    """A synthetic fødselsnummer (Skatteetaten's test numbers: month + 80): never a real person's."""
    while True:
        born = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(0, 365 * 55))
        individual = rng.randrange(0, 500) if born.year < 2000 else rng.randrange(500, 1000)
        digits = f"{born.day:02d}{born.month + 80:02d}{born.year % 100:02d}{individual:03d}"
        k1 = (11 - sum(int(d) * w for d, w in zip(digits, (3, 7, 6, 1, 8, 9, 4, 5, 2), strict=True)) % 11) % 11
        if k1 == 10:
            continue
        digits += str(k1)
        k2 = (11 - sum(int(d) * w for d, w in zip(digits, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2), strict=True)) % 11) % 11
        if k2 == 10:
            continue
        number = validate_national_id(digits + str(k2))
        if number not in taken:
            taken.add(number)
            return number

"""Ids from requests: URLs, JSON bodies and forms all hand them over as text or numbers."""

MAX_ID = 2**63 - 1  # bigint, the type of every primary key


def parse_id(value: object) -> int | None:
    """``value`` as a database id, or None when it is not one (then the caller answers 404/400).

    ``True`` is not the id 1, though Python says ``int(True) == 1``; a number past the
    database's 64-bit keys is no id either (PostgreSQL would refuse to compare it: a 500).
    """
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        return None
    try:
        number = int(value)
    except (ValueError, OverflowError):  # OverflowError: int(float("inf"))
        return None
    return number if -MAX_ID <= number <= MAX_ID else None


def lookup_id(value: object) -> int:
    """``value`` as an id to look a row up by: one that is not an id becomes 0, which no row
    has (ids start at 1), so the lookup finds nothing and the caller answers 404."""
    parsed = parse_id(value)
    return 0 if parsed is None else parsed

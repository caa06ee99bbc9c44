"""Ids from requests: URLs, JSON bodies and forms all hand them over as text or numbers."""


def parse_id(value: object) -> int | None:
    """``value`` as a database id, or None when it is not one (then the caller answers 404/400).

    ``True`` is not the id 1, though Python says ``int(True) == 1``.
    """
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        return None
    try:
        return int(value)
    except ValueError:
        return None


def lookup_id(value: object) -> int:
    """``value`` as an id to look a row up by: one that is not an id becomes 0, which no row
    has (ids start at 1), so the lookup finds nothing and the caller answers 404."""
    parsed = parse_id(value)
    return 0 if parsed is None else parsed

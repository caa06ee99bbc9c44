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

"""Rate limits as settings write them (no Django: ``config.settings`` reads them at start-up)."""

from __future__ import annotations

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``"1200/minute"`` -> (1200, 60); ``"off"``, empty or None -> None (no limit). ValueError
    for anything else (the settings refuse it at start-up)."""
    if rate is None or rate.strip().lower() in {"", "off", "none"}:
        return None
    count, _sep, period = rate.strip().partition("/")
    seconds = PERIODS.get(period.strip()[:1].lower())
    if not count.strip().isdigit() or int(count) < 1 or seconds is None:
        raise ValueError(rate)
    return int(count), seconds

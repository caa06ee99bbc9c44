"""The public ids of tasks, events and access-log rows (``core.public_ids``), for tests that build a URL or
compare an answer with rows they read from the database. New tests build URLs with
``reverse()``, which encodes them itself."""

from core import public_ids


def tid(pk: int) -> int:
    """The public id of the task keyed ``pk``."""
    return public_ids.encode("task", pk)


def eid(pk: int) -> int:
    """The public id of the event keyed ``pk``."""
    return public_ids.encode("event", pk)


def task_key(public: int) -> int:
    """The key of the task the API calls ``public``."""
    return public_ids.decode("task", public)


def event_key(public: int) -> int:
    """The key of the event the API calls ``public``."""
    return public_ids.decode("event", public)


def access_key(public: int) -> int:
    """The key of the access-log row the API calls ``public``."""
    return public_ids.decode("access", public)

"""``Clear-Site-Data`` on the answer to signing out (the site's logout and the admin's).

The browser drops what it cached of this site's pages and what its scripts stored
(localStorage, sessionStorage, IndexedDB), case data among it, on a shared computer too.
Not ``"cookies"``: the session is already ended on the server and its cookie deleted, and
``"cookies"`` would also drop the device cookie (``accounts.device_cookies``), which is what
lets the user's own browser sign in while others lock her username, and the chosen
language. Browsers honour the header over HTTPS (and on localhost) only."""

from __future__ import annotations

from typing import Protocol, TypeVar


class _Answer(Protocol):
    status_code: int

    def __setitem__(self, header: str, value: str) -> None: ...


A = TypeVar("A", bound=_Answer)

VALUE = '"cache", "storage"'


def clears_site_data(response: A) -> A:
    """``response`` with ``Clear-Site-Data`` when it answers a sign-out (not a refusal)."""
    if response.status_code < 400:
        response["Clear-Site-Data"] = VALUE
    return response

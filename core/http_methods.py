"""Which HTTP methods a page serves, declared on its view (``allow``) and enforced for every
route outside the API by ``config.methods.AllowedMethodsMiddleware`` before the view runs.

A Django function view runs its GET branch for any method it does not test for: a PUT,
DELETE, PATCH, TRACE or made-up method to the case page read the case (and wrote its
access-log rows) as a GET does. The declaration is read from the view (``functools.wraps``
copies it through ``login_required`` and the like), so the refusal needs no view code; a
test walks the URL configuration and requires one on every page (plain Python: no Django).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

View = TypeVar("View", bound=Callable[..., object])

# No page serves more than these; OPTIONS is answered for each by the middleware.
PAGE_METHODS = frozenset({"GET", "HEAD", "POST"})
ATTRIBUTE = "allowed_methods"


def allow(*methods: str) -> Callable[[View], View]:
    """Declare the methods ``view`` serves (upper case, among ``PAGE_METHODS``)."""
    declared = frozenset(methods)
    if not declared or not declared <= PAGE_METHODS:
        raise ValueError(f"a page serves some of {sorted(PAGE_METHODS)}, not {sorted(declared)}")

    def decorator(view: View) -> View:
        setattr(view, ATTRIBUTE, declared)
        return view

    return decorator


require_GET = allow("GET")
require_POST = allow("POST")
require_safe = allow("GET", "HEAD")

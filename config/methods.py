"""Every page answers only the methods it serves: 405 with ``Allow`` and a bokmål page
otherwise, before the view runs (so no read, no access-log row, no write).

Django runs a function view for any method, and most of the site's views test for POST and
run their GET branch for everything else: PUT, DELETE, PATCH, TRACE or a made-up method to
``/cases/<id>/`` read the case and logged the read, and a class view's ``put`` (Django's
``FormView`` has one) ran its POST branch. The methods come from the view's declaration
(``core.http_methods.allow``) or, for a class view, from the handlers it has, in either case
within GET, HEAD and POST; a view that declares nothing (Django's own, the admin's) serves
those three. OPTIONS is answered here with the ``Allow`` header and no body. The API is left
to DRF, whose views answer 405 for a method they have no handler for.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from config.locale import API_PREFIX
from core.http_methods import ATTRIBUTE, PAGE_METHODS


def allowed_methods(view_func) -> frozenset[str] | None:
    """The methods the page's view declares (a class view: its handlers), None if it declares
    none."""
    declared = getattr(view_func, ATTRIBUTE, None)
    if declared is not None:
        return frozenset(declared)
    view_class = getattr(view_func, "view_class", None)
    if view_class is None:
        return None
    names = (getattr(view_func, "view_initkwargs", {}) or {}).get("http_method_names", view_class.http_method_names)
    handlers = {name.upper() for name in names if hasattr(view_class, name)}
    if "GET" in handlers:
        handlers.add("HEAD")  # ``View.setup`` answers HEAD with ``get``
    return frozenset(handlers & PAGE_METHODS)


def allow_header(methods) -> str:
    return ", ".join(sorted({*methods, "OPTIONS"}))


class AllowedMethodsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(API_PREFIX):
            return None
        declared = allowed_methods(view_func)
        methods = PAGE_METHODS if declared is None else declared
        if request.method in methods:
            return None
        if request.method == "OPTIONS":
            answer = HttpResponse(status=200)
            answer["Content-Length"] = "0"
        else:
            answer = render(request, "errors/refused.html", {"status": 405}, status=405)
        answer["Allow"] = allow_header(methods)
        return answer

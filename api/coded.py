"""Our error codes said in the language the request asked for. Apart from
``api.exceptions`` so that the parsers, which DRF's settings load while ``rest_framework.views``
loads, can raise coded refusals without importing the exception handler back."""

from __future__ import annotations

from django.utils.translation import get_language, gettext
from rest_framework.exceptions import ErrorDetail

from core.messages import render


def answers_in_english() -> bool:
    """The request's language is English (the default of the API: ``config.locale``)."""
    return (get_language() or "en").startswith("en")


def answer_text(code: str, params) -> str:
    """A code's message in the language the request asked for: English, the contract's
    words as they are, unless the client sent another Accept-Language."""
    return render(code, params) if answers_in_english() else render(code, params, translate=gettext)


def coded(code: str, **params) -> ErrorDetail:
    """A serializer's error of one of our codes, said in the language the request asked for
    (``answer_text``); its entry in the answer carries the code (``api.exceptions.flatten``)."""
    return ErrorDetail(answer_text(code, params), code=code)

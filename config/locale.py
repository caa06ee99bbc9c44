"""Language choice: Norwegian bokmål for people, English for programs.

The web UI follows Django's ``LocaleMiddleware`` (the language picked with
``set_language``, then the browser's Accept-Language, then ``LANGUAGE_CODE`` = nb).
The API is a contract for other systems: it answers in English unless the client asks
for another language with Accept-Language, so masking reasons stay stable for them.
"""

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.middleware import locale
from django.utils import translation
from django.utils.cache import patch_vary_headers

API_PREFIX = "/api/"
API_DEFAULT_LANGUAGE = "en"


def _prefix_patterns_used(request) -> bool:
    return is_language_prefix_patterns_used(getattr(request, "urlconf", settings.ROOT_URLCONF))[0]


class LocaleMiddleware(locale.LocaleMiddleware):
    """Django's. Without ``i18n_patterns`` in the URLconf (this site has none) Django's
    middleware still reads a language from the path on the way in and out, a regular
    expression and a failed look-up (a raised ``LookupError``) each, and uses it for
    nothing: 40-50 us of every request. Then it is not read; the language chosen, the
    ``Vary`` and ``Content-Language`` headers are Django's."""

    def process_request(self, request):
        if request.path_info.startswith(API_PREFIX) and not request.META.get("HTTP_ACCEPT_LANGUAGE"):
            translation.activate(API_DEFAULT_LANGUAGE)
            request.LANGUAGE_CODE = translation.get_language()
            return
        if _prefix_patterns_used(request):
            super().process_request(request)
            return
        translation.activate(translation.get_language_from_request(request, check_path=False))
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        if _prefix_patterns_used(request):
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response

"""Language choice: Norwegian bokmål for people, English for programs.

The web UI follows Django's ``LocaleMiddleware`` (the language picked with
``set_language``, then the browser's Accept-Language, then ``LANGUAGE_CODE`` = nb).
The API is a contract for other systems: it answers in English unless the client asks
for another language with Accept-Language, so masking reasons stay stable for them.
"""

from django.middleware import locale
from django.utils import translation

API_PREFIX = "/api/"
API_DEFAULT_LANGUAGE = "en"


class LocaleMiddleware(locale.LocaleMiddleware):
    def process_request(self, request):
        if request.path_info.startswith(API_PREFIX) and not request.META.get("HTTP_ACCEPT_LANGUAGE"):
            translation.activate(API_DEFAULT_LANGUAGE)
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)

"""DRF's content negotiation, its answer remembered for the Accept headers nearly every
client sends.

Every API request chose its renderer by parsing its Accept header and matching each
renderer's media type against it (about 45 function calls, 1 % of an API request).
For no Accept header, ``*/*`` and ``application/json`` without a ``?format=``, the answer
depends only on the view's renderer classes, so it is worked out once (by DRF) and then
remembered for those classes. Any other header, or a format, is negotiated by DRF as
before; client input is never a key (DRF keeps no process-wide cache of it either).
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation

COMMON_ACCEPT = frozenset({None, "*/*", "application/json"})


class CommonAcceptNegotiation(DefaultContentNegotiation):
    # (renderer classes, Accept header) -> (the chosen renderer's place, the media type)
    _chosen: dict[tuple, tuple[int, str]] = {}

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT")
        if format_suffix or accept not in COMMON_ACCEPT or self.settings.URL_FORMAT_OVERRIDE in request.query_params:
            return super().select_renderer(request, renderers, format_suffix)
        key = (tuple(type(renderer) for renderer in renderers), accept)
        chosen = self._chosen.get(key)
        if chosen is None:
            renderer, media_type = super().select_renderer(request, renderers, format_suffix)
            place = next(place for place, given in enumerate(renderers) if given is renderer)
            self._chosen[key] = chosen = (place, media_type)  # a handful of keys: the views' renderer sets
        place, media_type = chosen
        return renderers[place], media_type

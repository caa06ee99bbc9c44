"""What ``OPTIONS`` on an API route tells: its name, description and the media types it
renders and parses. Never its fields, and so never a field's choices.

DRF's ``SimpleMetadata`` adds ``actions``: for each of POST and PUT the route serves, the
fields of ``get_serializer()`` with their type and, for a field with choices, every choice
(a ``ChoiceField`` built from the rows of a table lists them all: agencies, users, cases).
It asks no rule of the case first (only ``IsAuthenticated``; PUT would run ``get_object``,
a read), so any signed-in caller read the description of a route they are refused, and here
it described the answer serializers as if they were the input (``Case List`` listed
``reference``, ``status`` and the coordinating agency as POST fields). The input of every
route is in the OpenAPI schema (``/api/v1/schema/``), which is built from the code, not from
rows. ``tests/api/test_options_metadata.py``.
"""

from __future__ import annotations

from rest_framework.metadata import BaseMetadata


class RouteOnlyMetadata(BaseMetadata):
    def determine_metadata(self, request, view):
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }

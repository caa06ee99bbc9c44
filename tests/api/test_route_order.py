"""The routes of a task completion round are tried first (Django tries the URL patterns in
order, a regular expression search each), and putting them first changed no path's view:
no other pattern matches a path of theirs."""

from unittest import mock

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

from api import urls as api_urls
from config import urls as site_urls

ROUND = {  # path -> the route's name
    "/api/v1/tasks/": "api-tasks",
    "/api/v1/tasks/12/": "api-task",
    "/api/v1/tasks/12/complete/": "api-task-complete",
    "/api/v1/tasks/12/claim/": "api-task-claim",
    "/api/v1/cases/": "api-cases",
    "/api/v1/agencies/": "api-agencies",
}


@pytest.mark.parametrize(("path", "name"), ROUND.items())
def test_a_round_route_is_found_in_a_few_tries(path, name):
    get_resolver().resolve("/")  # the resolver populated (its first use)
    real = {kind: kind.match for kind in (RoutePattern, RegexPattern)}

    def counted(kind):
        def match(self, path):
            tries.append(str(self))
            return real[kind](self, path)

        return match

    tries: list[str] = []
    with (
        mock.patch.object(RoutePattern, "match", counted(RoutePattern)),
        mock.patch.object(RegexPattern, "match", counted(RegexPattern)),
    ):
        assert resolve(path).url_name == name
    # The site's first pattern (``api/v1/``), then the API's routes up to this one: before,
    # the site's five patterns in front of the API and some sixty API routes.
    assert len(tries) <= 1 + 30, tries


def _sample_path(pattern) -> str:
    return "/api/v1/" + str(pattern.pattern).replace("<int:pk>", "12").replace("<int:note_pk>", "3").replace(
        "<str:key>", "k"
    ).replace("<str:task_id>", "t").replace("<task_id:pk>", "12")


def _matches(entries, path: str, prefix: str = "") -> list[str]:
    """The routes (as ``prefix`` + pattern) of ``entries`` and the resolvers under them that match ``path``."""
    found = []
    for entry in entries:
        match = entry.pattern.match(path)
        if match is None:
            continue
        if isinstance(entry, URLResolver):
            found += _matches(entry.url_patterns, match[0], prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append(prefix + str(entry.pattern))
    return found


def test_no_other_site_pattern_matches_an_api_path():
    others = [entry for entry in site_urls.urlpatterns if getattr(entry, "urlconf_name", None) is not api_urls]
    assert _matches(others, "healthz") == ["healthz"]  # the walk finds what matches
    assert _matches(others, "tasks/") == ["tasks/"]
    for pattern in api_urls.urlpatterns:
        if isinstance(pattern.pattern, RoutePattern):
            path = _sample_path(pattern).removeprefix("/")
            assert _matches(others, path) == [], path


def test_no_other_api_route_matches_a_moved_route():
    moved = [pattern for pattern in api_urls.urlpatterns if str(pattern.pattern).startswith("tasks/")]
    assert len(moved) == 6
    for pattern in moved:
        path = _sample_path(pattern).removeprefix("/api/v1/")
        others = [other for other in api_urls.urlpatterns if other is not pattern]
        found = [str(other.pattern) for other in others if other.pattern.match(path)]
        assert found == [r"^[\s\S]*/$"], (path, found)  # the JSON 404, last

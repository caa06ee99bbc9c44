"""The case lists read from the reader's own participations (``rules.listed_cases``) show no
case to anyone the case page refuses, in any filter, any page and any cursor.

A reader with one case agency has the list read from that agency's participations, each
case checked for the grant of the agency's own group; a reader in several agencies has each
agency's pair checked per row. Hostile readers here: a participant of another agency (each
case has agencies the other lacks), an agency that takes part without the grant (withdrawn
by the coordinator), an agency that holds a grant without taking part, a user in an agency
in no case, and users with no case role at all. Each walks the API's list page by page
(``page_size=2``: a cursor at every step, forward and back) and the page's list, with every
filter; none may see a hidden case, and its reference and person never appear in a body.
"""

import datetime as dt
import random

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from core.national_id import synthetic_national_id
from permissions import rules
from permissions.grants import grant_agency_access, revoke_agency_access
from permissions.models import Agency, Membership, Role
from tests.clients import api as _api
from tests.clients import web as _web
from tests.deadlines import set_due
from workflows.models import Case, Task

from .conftest import DISCHARGE_KINDS, PRISON_KINDS, _start

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

YESTERDAY = timezone.now() - dt.timedelta(days=1)


@pytest.fixture
def cases(users, agencies, shipped):
    """Three prison cases and two discharge cases; housing's grant withdrawn on the newest
    prison case (it still takes part), the hospital granted on it (not taking part); one
    task of every case overdue, one case closed."""
    made = {}
    rng, taken = random.Random(12), {"17912099997"}
    ids = ["17912099997", *(synthetic_national_id(rng, taken) for _ in range(4))]
    for number in range(3):
        made[f"prison {number}"] = _start(
            users["kari"],
            "prison_release_to_housing",
            {"name": f"Fange Nummer{number}", "national_id": ids[number]},
            agencies,
            PRISON_KINDS,
        )
    for number in range(2):
        made[f"discharge {number}"] = _start(
            users["siri"],
            "institution_discharge_to_housing",
            {"name": f"Pasient Nummer{number}", "national_id": ids[3 + number]},
            agencies,
            DISCHARGE_KINDS,
        )
    withdrawn = made["prison 2"]
    assert revoke_agency_access(withdrawn, [agencies["housing"]]) == 1
    grant_agency_access(withdrawn, [agencies["hospital"]])
    set_due(Task.objects.filter(case__in=list(made.values())), YESTERDAY)
    Case.objects.filter(pk=made["discharge 1"].pk).update(status="completed", closed_at=timezone.now())
    return made


def _user(name, memberships):
    user = get_user_model().objects.create_user(name, password="x")
    for agency, role in memberships:
        Membership.objects.create(user=user, agency=agency, role=role)
    return user


def _filters(cases, agencies, users):
    case = cases["prison 0"]
    return [
        {},
        {"status": "open"},
        {"status": "completed"},
        {"overdue": "true"},
        {"overdue": "false"},
        {"process_key": "prison_release_to_housing"},
        {"process_key": "institution_discharge_to_housing"},
        {"agency": agencies["prison"].pk},
        {"agency": agencies["hospital"].pk},
        {"responsible": users["bjorn"].pk},
        {"q": "Nummer"},
        {"q": "17.09.1920"},
        {"q": case.reference},
        {"status": "open", "overdue": "true", "process_key": "prison_release_to_housing"},
    ]


def _walk_api(user, filters, page_size=2) -> tuple[list[int], list[bytes]]:
    """Every row of the list, following ``next`` a page at a time, then back by ``previous``
    (the rows forward first, then those read going back)."""
    client = _api(user)
    ids, bodies = [], []
    response = client.get("/api/v1/cases/", {**filters, "page_size": page_size})
    for _step in range(20):
        assert response.status_code == 200, response.content
        bodies.append(response.content)
        page = response.json()
        ids += [row["id"] for row in page["results"]]
        if page["next"] is None:
            break
        response = client.get(page["next"])
    back = response.json()["previous"]
    while back is not None:
        response = client.get(back)
        assert response.status_code == 200, response.content
        bodies.append(response.content)
        ids += [row["id"] for row in response.json()["results"]]
        back = response.json()["previous"]
    return ids, bodies


def _web_ids(user, filters) -> list[int]:
    data = {**filters}
    if data.get("overdue") == "true":
        data["overdue"] = "1"
    if "process_key" in data:
        data["process"] = data.pop("process_key")
    response = _web(user).get("/cases/", data)
    assert response.status_code == 200
    return [case.pk for case in response.context["cases"]]


def _visible(user, case) -> bool:
    return rules.can_view_case(get_user_model().objects.get(pk=user.pk), Case.objects.get(pk=case.pk))


@pytest.mark.parametrize("walk_from", ["participations", "cases"])
def test_no_reader_lists_a_case_whose_page_is_closed_to_them(cases, agencies, users, walk_from, monkeypatch):
    if walk_from == "cases":  # the per-row form every reader in several agencies gets
        monkeypatch.setattr(rules, "walks_participations", lambda user: False)
        monkeypatch.setattr(
            rules, "listed_cases", lambda user, queryset, walk=True: rules.visible_cases(user, queryset)
        )
    other_nav = Agency.objects.create(
        name="NAV Halden", kind="nav", group=Group.objects.create(name="agency:NAV Halden")
    )
    readers = {
        "a participant of other cases (prison)": users["kari"],
        "a participant of other cases (hospital, granted without taking part)": users["siri"],
        "an agency that takes part without the grant (housing)": users["bjorn"],
        "an agency in no case": _user("halden", [(other_nav, Role.MEMBER)]),
        "two agencies: one takes part without the grant, one granted without taking part": _user(
            "tone", [(agencies["housing"], Role.LEAD), (agencies["hospital"], Role.MEMBER)]
        ),
        "a process admin": users["ada"],
        "an auditor": users["aud"],
        "no agency": users["oscar"],
        "NAV (every case)": users["nils"],
    }
    Case.objects.filter(pk__in=[case.pk for case in cases.values()]).update(responsible=users["bjorn"])
    everything = list(cases.values())
    for who, reader in readers.items():
        hidden = [case for case in everything if not _visible(reader, case)]
        shown = {case.pk for case in everything} - {case.pk for case in hidden}
        for filters in _filters(cases, agencies, users):
            ids, bodies = _walk_api(reader, filters)
            assert not {case.pk for case in hidden} & set(ids), (who, filters)
            assert set(ids) <= shown, (who, filters)
            for body in bodies:
                for case in hidden:
                    assert case.reference.encode() not in body, (who, filters)
                    assert case.person.name.encode() not in body, (who, filters)
            listed_on_page = _web_ids(reader, filters)
            assert not {case.pk for case in hidden} & set(listed_on_page), (who, filters)
            assert set(listed_on_page) <= shown
        # Unfiltered, the list holds exactly the cases whose page opens, once each.
        ids, _bodies = _walk_api(reader, {})
        forward = ids[: len(shown)]
        assert sorted(forward, reverse=True) == forward and set(forward) == shown, who
        assert sorted(_web_ids(reader, {}), reverse=True) == sorted(shown, reverse=True), who

    # The withdrawn case really is the one housing's contact lost, and NAV sees it still.
    assert not _visible(users["bjorn"], cases["prison 2"]) and _visible(users["nils"], cases["prison 2"])
    assert not _visible(users["siri"], cases["prison 2"]) and not _visible(users["kari"], cases["discharge 0"])


def test_a_cursor_taken_from_another_reader_shows_nothing_of_theirs(cases, users):
    """A cursor holds only a position in the list's order: a reader who takes another's
    ``next`` link reads their own list from there on, never the other's rows."""
    nils_page = _api(users["nils"]).get("/api/v1/cases/", {"page_size": 1}).json()
    assert nils_page["next"] is not None
    taken = _api(users["kari"]).get(nils_page["next"])
    assert taken.status_code == 200
    kari_cases = {case.pk for case in cases.values() if _visible(users["kari"], case)}
    assert {row["id"] for row in taken.json()["results"]} <= kari_cases


def test_an_agency_in_two_parts_of_a_case_lists_it_once(cases, users, agencies):
    """A participation row per part: the walk takes one per case (the services never make two,
    the table allows it)."""
    case = cases["prison 0"]
    case.participants.create(kind="extra", agency=agencies["nav"])
    ids, _bodies = _walk_api(users["nils"], {}, page_size=1)
    assert ids[:5] == sorted((case.pk for case in cases.values()), reverse=True)  # forward, each once
    rows = _api(users["nils"]).get("/api/v1/cases/").json()["results"]
    assert [row["id"] for row in rows].count(case.pk) == 1
    assert _web_ids(users["nils"], {}).count(case.pk) == 1

"""A case start's reads compiled once per process (``workflows.services.cases``): each gives
what the queryset it stands for gives, for any ids a request may name."""

import pytest

from core.ids import MAX_ID
from permissions.models import Agency
from workflows.services import cases

pytestmark = pytest.mark.django_db


def test_the_participants_agencies_are_the_ones_in_bulk_reads(agencies):
    known = sorted(agency.pk for agency in agencies.values())
    for ids in (
        {known[0]},
        set(known[:3]),
        set(known),
        {known[0], MAX_ID, -MAX_ID},  # ids no agency has, at the ends of the keys' range
        set(range(1, 40)),  # more than a start names: read as it comes
    ):
        assert cases._agencies_by_id(ids) == Agency.objects.in_bulk(ids)
    assert cases._agencies_by_id(set()) == {}


def test_the_latest_definition_is_the_highest_version_without_its_texts(shipped):
    from bpmn.models import ProcessDefinition

    latest = cases._latest_definition("prison_release_to_housing")
    expected = ProcessDefinition.objects.filter(key="prison_release_to_housing").order_by("-version").first()
    assert latest == expected and latest.version == expected.version
    assert {"spec_json", "bpmn_xml"} <= latest.get_deferred_fields()
    assert cases._latest_definition("no_such_process") is None
    assert cases._latest_definition(7) is None

"""The case file handed to the archive tells no branch a value it leaves out chose (h-paths5).

The health service's assessment (``needs_treatment``, health) sends the case to one of two
housing tasks, each writing a coordination field of its own form (``tests/api/
test_branch_written_data.py``). Health is not in the case file (identity, housing and
coordination by default), but the case file printed ``treatment_home_plan`` in one case and
``ordinary_plan`` in the other, so the archive's readers read the health value off it. The
case file now hides such a branch as a case page hides it from NAV
(``selectors.case_file_path_view``): the fields its steps wrote, and their timeline events."""

import re

import pytest
from django.utils import timezone

from retention import archive
from retention.models import RetentionRule
from tests.api.test_branch_written_data import OTHER_PERSON, cases  # noqa: F401 (the fixture)
from tests.workflows.helpers import PERSON
from workflows.models import Case

from .pdfa import text_of

pytestmark = pytest.mark.django_db


def _read(case) -> str:
    """The case file's text as the archive's reader reads it, without what tells two cases
    apart whatever their branch: the reference, the person, the moments."""
    case = Case.objects.get(pk=case.pk)
    text = text_of(archive.case_file(case, timezone.now())[0])
    for told in (case.reference, PERSON["name"], PERSON["national_id"], OTHER_PERSON["name"]):
        text = text.replace(told, "")
    text = text.replace(OTHER_PERSON["national_id"], "")
    return re.sub(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?|\d{1,2}\. \w+ \d{4}( kl\. \d{2}:\d{2})?", "", text)


def test_the_case_file_tells_the_archive_no_branch_health_chose(cases):  # noqa: F811
    told = {branch: _read(case) for branch, case in cases.items()}
    assert told[True] == told[False], told
    assert "Plan" not in told[True], told[True]


def test_with_health_in_the_case_file_the_branch_s_field_is_there(cases):  # noqa: F811
    """Where the process's rules put health in the case file the archive sees the split."""
    RetentionRule.objects.create(
        process_key="Proc_branch_data", category="health", keep_years=10, access_log_years=10, in_case_file=True
    )
    for case in cases.values():
        assert "Plan" in _read(case)

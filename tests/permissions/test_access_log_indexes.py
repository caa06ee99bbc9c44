"""The access log is the largest table (a row for every read) and every index is written with
each row: none may be kept twice (permissions 0018)."""

import re

import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def indexes() -> dict[str, tuple[tuple[str, ...], str]]:
    """Each index of the access log: its columns and its condition ("" for a full index)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'permissions_accesslog'")
        found = {}
        for name, definition in cursor.fetchall():
            columns, _, condition = re.search(r"\((.*?)\)( WHERE (.*))?$", definition).groups()
            found[name] = (tuple(column.strip() for column in columns.split(",")), condition or "")
        return found


def test_no_index_of_the_access_log_is_the_start_of_another():
    found = indexes()
    twice = [
        (name, other)
        for name, (columns, condition) in found.items()
        for other, (longer, other_condition) in found.items()
        if name != other and not condition and not other_condition and longer[: len(columns)] == columns
    ]
    assert twice == []


def test_no_index_of_the_access_log_serves_only_a_like_search():
    assert [name for name, (columns, _) in indexes().items() if any("pattern_ops" in c for c in columns)] == []


def test_the_rows_naming_a_consent_or_an_emergency_access_are_indexed_alone():
    found = indexes()
    assert found["accesslog_consent"] == (("consent_id",), "(consent_id IS NOT NULL)")
    assert found["accesslog_break_glass"] == (("break_glass_id",), "(break_glass_id IS NOT NULL)")
    # What the foreign keys' checks, the case's log, the person's report and erasure read.
    for columns in (("case_id", "at", "id"), ("person_id", "at"), ("person_key",), ("user_id",), ("agency_id",)):
        assert columns in {columns for columns, _ in found.values()}

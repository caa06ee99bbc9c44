"""``permissions.prepared.insert_rows``: rows with more values than psycopg converts once (an
opened task's access-log rows, five or more) are sent with PostgreSQL's placeholders,
converted once, and written as ``bulk_create`` writes them."""

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from permissions import prepared
from permissions.models import AccessLog

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _rows(count, user, agency, at):
    return [
        AccessLog(
            user=user if number % 2 else None,
            username=f"omformet «{number}»",
            role="member",
            agency=agency if number % 3 else None,
            category=("health", "housing", "economy")[number % 3],
            basis=f"consent:{number}",
            item="notes" if number == 1 else "",
            at=at,
        )
        for number in range(count)
    ]


def test_long_inserts_are_bulk_creates_own_and_converted_once(agencies, monkeypatch):
    user = get_user_model().objects.create_user("converted-once-reader", password="x-unused-7qe2")
    at = timezone.now().replace(microsecond=123456)
    columns = [field.attname for field in AccessLog._meta.concrete_fields if not field.primary_key]
    per_row = len(columns)
    long_counts = [n for n in range(1, prepared._MOST_INSERTED + 1) if n * per_row > prepared._PSYCOPG_REMEMBERS_VALUES]
    assert long_counts, "the access log's rows should reach psycopg's limit within insert_rows' own"
    converted = []
    real = psycopg._queries._query2pg_nocache
    monkeypatch.setattr(
        psycopg._queries, "_query2pg_nocache", lambda *args: converted.append(args[0][:30]) or real(*args)
    )
    for count in (long_counts[0], prepared._MOST_INSERTED):
        AccessLog.objects.bulk_create(_rows(count, user, agencies["nav"], at))
        theirs = list(AccessLog.objects.order_by("id").values_list(*columns))[-count:]
        converted.clear()
        for _again in range(2):
            with CaptureQueriesContext(connection) as queries:
                prepared.insert_rows(_rows(count, user, agencies["nav"], at))
            mine = list(AccessLog.objects.order_by("id").values_list(*columns))[-count:]
            assert mine == theirs
            assert [query["sql"].split(" (")[0] for query in queries] == ['INSERT INTO "permissions_accesslog"']
        assert converted == []  # psycopg split none of them at its placeholders

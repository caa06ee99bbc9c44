"""``permissions.prepared``: a queryset compiled once answers as the queryset itself does,
for every set of values, and refuses a builder whose values would not be parameters."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, isolate_apps

from permissions.models import Agency, Membership
from permissions.prepared import Prepared, prepares_statements

pytestmark = pytest.mark.django_db


def _memberships(user_id, kind):
    return Membership.objects.filter(user=user_id, agency__kind=kind).select_related("agency", "user").order_by("id")


MEMBERSHIPS = Prepared(_memberships, kinds=(int, str))


def test_objects_are_the_querysets_own_with_their_related_rows(users, agencies):
    for user in users.values():
        for kind in {agency.kind for agency in agencies.values()}:
            expected = list(_memberships(user.pk, kind))
            got = MEMBERSHIPS.objects(user.pk, kind)
            assert got == expected
            with CaptureQueriesContext(connection) as queries:
                related = [(m.agency.name, m.agency.group_id, m.user.username, m.role) for m in got]
            assert related == [(m.agency.name, m.agency.group_id, m.user.username, m.role) for m in expected]
            assert len(queries) == 0  # the selected related rows came with the statement


def test_values_reach_the_statement_each_call(users, agencies):
    nils, kari = users["nils"], users["kari"]
    assert [m.agency.kind for m in MEMBERSHIPS.objects(nils.pk, "nav")] == ["nav"]
    assert MEMBERSHIPS.objects(kari.pk, "nav") == []
    assert MEMBERSHIPS.objects(0, "nav") == []


def test_rows_of_a_values_list(users):
    prepared = Prepared(
        lambda user_id: Membership.objects.filter(user=user_id).values_list("agency_id", "role").order_by("id"),
        kinds=(int,),
    )
    for user in users.values():
        assert prepared.rows(user.pk) == list(
            Membership.objects.filter(user=user.pk).values_list("agency_id", "role").order_by("id")
        )


def test_a_text_value_is_a_parameter_not_sql(agencies):
    prepared = Prepared(lambda name: Agency.objects.filter(name=name), kinds=(str,))
    assert prepared.objects("x' OR '1'='1") == []
    some = next(iter(agencies.values()))
    assert prepared.objects(some.name) == [some]


def test_a_builder_whose_value_is_no_parameter_is_refused(agencies):
    # The value decides the statement's shape (a condition present or not): not preparable.
    prepared = Prepared(
        lambda user_id: Membership.objects.all() if user_id else Membership.objects.none(), kinds=(int,)
    )
    with pytest.raises(ValueError, match="stand-in"):
        prepared.objects(1)


def test_the_number_of_values_is_checked():
    with pytest.raises(TypeError):
        MEMBERSHIPS.objects(1)


def test_a_moment_is_a_parameter(users):
    from datetime import timedelta

    from django.utils import timezone

    prepared = Prepared(
        lambda at, user_id: Membership.objects.filter(user=user_id, user__date_joined__lte=at),
        kinds=(type(timezone.now()), int),
    )
    nils = users["nils"]
    assert len(prepared.objects(timezone.now(), nils.pk)) == Membership.objects.filter(user=nils).count() > 0
    assert prepared.objects(nils.date_joined - timedelta(days=1), nils.pk) == []


def _prepared_on_server(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", [f'%FROM "{table}"%'])
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgres
def test_a_point_read_compiled_once_is_prepared_on_the_server_and_a_list_shape_is_not(users, agencies):
    """By default (``config.database``) PostgreSQL parses and plans a ``Prepared`` read once
    per connection, from its first run; a ``PreparedShapes`` member (a list, whose generic
    plan may be far slower for a busy or a quiet agency) is planned at every run."""
    from permissions.prepared import PreparedShapes

    if not prepares_statements(connection):
        pytest.skip("DB_PREPARE_THRESHOLD=0: nothing is prepared")
    nils = users["nils"]
    one = Prepared(lambda agency_id: Agency.objects.filter(pk=agency_id), kinds=(int,))
    shapes = PreparedShapes()
    listed = shapes.member("groups", lambda group_id: Agency.objects.filter(group_id=group_id).order_by("id"), (int,))
    agency = agencies["nav"]
    for _ in range(3):
        assert one.objects(agency.pk) == [agency]
        assert listed.objects(agency.group_id) == [agency]
        assert MEMBERSHIPS.objects(nils.pk, "nav") == list(_memberships(nils.pk, "nav"))
    prepared = _prepared_on_server("permissions_agency")
    assert [sql for sql in prepared if '"permissions_agency"."id" = $1' in sql], prepared
    assert not [sql for sql in prepared if '"permissions_agency"."group_id" = $1' in sql], prepared
    assert _prepared_on_server("permissions_membership")


def test_numbered_placeholders_are_what_psycopg_would_send():
    from permissions.prepared import numbered_placeholders

    assert numbered_placeholders("SELECT %s, '100%%', %s", 2) == "SELECT $1, '100%', $2"
    assert numbered_placeholders("SELECT 1", 0) == "SELECT 1"
    for sql, count in (("SELECT %s", 2), ("SELECT %s, %s", 1), ("SELECT %d", 1), ("SELECT 5 %", 0)):
        with pytest.raises(ValueError):
            numbered_placeholders(sql, count)


@pytest.mark.postgres
def test_a_list_read_with_postgresqls_own_placeholders_answers_as_the_queryset_and_is_logged(users, agencies):
    """A list shape runs its statement converted once to ``$1, $2 ...`` (psycopg would split
    the long text at its placeholders on every run): the same rows as the queryset, a
    percent sign in a value or in the text kept, and the statement in Django's query log
    (what the query-count tests read)."""
    from permissions.prepared import PreparedShapes

    if not prepares_statements(connection):
        pytest.skip("DB_PREPARE_THRESHOLD=0: psycopg binds in the client, as Django does")
    Agency.objects.filter(pk=agencies["nav"].pk).update(name="NAV 100% Sarpsborg")
    shapes = PreparedShapes()

    def named(name, group_id):
        # A percent sign in the statement's own text ('%%' as Django writes it): PostgreSQL
        # must get one, or the names with a percent sign are not found.
        with_percent = 'position(\'%%\' in "permissions_agency"."name") > 0'
        return Agency.objects.filter(name=name).extra(where=[with_percent]).exclude(group_id=group_id).order_by("id")

    listed = shapes.member("named", named, (str, int))
    with CaptureQueriesContext(connection) as queries:
        for text in ("NAV 100% Sarpsborg", "%", "nothing like it"):
            assert listed.objects(text, -1) == list(named(text, -1)), text
    assert len(queries) == 6  # the list and the queryset, three times
    assert listed.objects("NAV 100% Sarpsborg", -1) == [agencies["nav"]]
    assert listed.objects("NAV 100% Sarpsborg", agencies["nav"].group_id) == []
    assert all('"permissions_agency"' in query["sql"] for query in queries)


# --- rows of another table folded into one statement (``RowsInJSON``) --------------------


def _every_column(obj, model) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in model._meta.concrete_fields}


@pytest.mark.postgres  # JSONB_AGG
def test_rows_in_json_are_the_querysets_own_objects_column_for_column(users, agencies, shipped, consent_basis):
    """Moments (with their microseconds), JSON lists, nulls, booleans and a related row come
    back from the JSON value exactly as the queryset's own rows give them."""
    import datetime

    from django.db.models import OuterRef
    from django.utils import timezone

    from permissions.models import Consent, LegalBasis
    from permissions.prepared import RowsInJSON, folds_rows
    from tests.permissions.conftest import PERSON, PRISON_KINDS, _start

    assert folds_rows(connection)
    case = _start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    moment = timezone.now().replace(microsecond=123456)
    for agency, expires in ((agencies["nav"], moment + datetime.timedelta(days=3)), (agencies["health"], None)):
        Consent.objects.create(
            person_id=case.person_id,
            case=case,
            agency=agency,
            categories=["housing", "health"],
            purpose='Oppfølging «æøå» \\ "sitat"',
            legal_basis=consent_basis,
            given_at=moment,
            expires_at=expires,
            recorded_by=users["bjorn"],
        )
    rows = RowsInJSON(Consent, related=("legal_basis",))
    of_case = Consent.objects.filter(case_id=OuterRef("pk"))
    from workflows.models import Case

    (value,) = Case.objects.filter(pk=case.pk).annotate(found=rows.of(of_case)).values_list("found", flat=True)
    got = sorted(rows.objects(value), key=lambda consent: consent.pk)
    expected = list(Consent.objects.filter(case=case).select_related("legal_basis").order_by("pk"))
    assert len(got) == 2
    for mine, theirs in zip(got, expected, strict=True):
        assert _every_column(mine, Consent) == _every_column(theirs, Consent)
        assert _every_column(mine.legal_basis, LegalBasis) == _every_column(theirs.legal_basis, LegalBasis)
        assert mine._state.adding is False and mine._state.db == theirs._state.db
    with CaptureQueriesContext(connection) as queries:
        assert got[0].access_basis == expected[0].access_basis  # the legal basis came with it
    assert len(queries) == 0
    none = Case.objects.filter(pk=case.pk).annotate(found=rows.of(of_case.filter(pk=0)))
    assert rows.objects(none.values_list("found", flat=True).get()) == []


@isolate_apps("permissions")
def test_rows_in_json_refuse_a_column_they_cannot_read_back():
    from django.contrib.auth.models import Group
    from django.db import models

    from permissions.prepared import RowsInJSON

    class WithUUID(models.Model):
        key = models.UUIDField()
        group = models.ForeignKey(Group, on_delete=models.CASCADE)

        class Meta:
            app_label = "permissions"

        def __str__(self):
            return str(self.key)

    with pytest.raises(TypeError, match="UUIDField"):
        RowsInJSON(WithUUID)


def test_inserted_rows_are_bulk_creates_own(users, agencies, shipped, consent_basis):
    """``insert_rows`` writes what ``bulk_create`` writes, column for column, in one statement
    (a statement per row count, compiled once); beyond its row limit it is ``bulk_create``."""
    from django.utils import timezone

    from permissions import prepared
    from permissions.models import AccessLog
    from tests.permissions.conftest import PERSON, PRISON_KINDS, _start

    case = _start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    at = timezone.now().replace(microsecond=654321)

    def rows(count):
        return [
            AccessLog(
                user=users["nils"] if number % 2 else None,
                username=f"nils «{number}»",
                role="member",
                agency=agencies["nav"] if number % 3 else None,
                case=case,
                person_id=case.person_id,
                category=("health", "housing", "economy")[number % 3],
                basis=f"consent:{number}",
                item="notes" if number == 1 else "",
                at=at,
            )
            for number in range(count)
        ]

    columns = [field.attname for field in AccessLog._meta.concrete_fields if not field.primary_key]
    for count in (1, 3, prepared._MOST_INSERTED + 1):
        AccessLog.objects.bulk_create(rows(count))
        theirs = list(AccessLog.objects.order_by("id").values_list(*columns))[-count:]
        with CaptureQueriesContext(connection) as queries:
            prepared.insert_rows(rows(count))
        mine = list(AccessLog.objects.order_by("id").values_list(*columns))[-count:]
        assert mine == theirs
        if count <= prepared._MOST_INSERTED:
            assert [query["sql"].split(" (")[0] for query in queries] == ['INSERT INTO "permissions_accesslog"']
    with pytest.raises(ValueError, match="new rows"):
        prepared.insert_rows([AccessLog.objects.first()])

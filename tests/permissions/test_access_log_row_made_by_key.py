"""An access-log row (``policy.log_row``) made with its keys given by column is the row
``AccessLog(user=..., agency=..., case=..., consent=..., break_glass=...)`` made: the same
columns, the same related objects kept (no query to read them back), the same database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from permissions import policy
from permissions.models import AccessAction, AccessLog
from permissions.rules import Decision

RELATED = ("user", "agency", "case", "consent", "break_glass")


def _as_before(user, case, decision, category, action, at):
    return AccessLog(
        user=user,
        username=user.get_username(),
        role=decision.role or "",
        agency=decision.agency,
        case=case,
        person_id=case.person_id,
        category=category,
        action=action,
        basis=decision.basis or "",
        consent=decision.consent,
        break_glass=decision.break_glass,
        at=at,
    )


def _columns(row):
    return {field.attname: getattr(row, field.attname) for field in AccessLog._meta.concrete_fields}


@pytest.mark.django_db
@pytest.mark.parametrize("with_agency", [True, False])
def test_the_same_row_as_through_the_descriptors(prison_case, users, agencies, with_agency):
    user = users["kari"]
    decision = Decision(True, basis="role:caseworker", agency=agencies["prison"] if with_agency else None, role="x")
    at = timezone.now()
    made = policy.log_row(user, prison_case, decision, "health", AccessAction.READ, at)
    before = _as_before(user, prison_case, decision, "health", AccessAction.READ, at)
    assert _columns(made) == _columns(before)
    assert made._state.db == before._state.db and made._state.adding == before._state.adding
    assert made._state.fields_cache == before._state.fields_cache
    with CaptureQueriesContext(connection) as queries:
        assert [getattr(made, name) for name in RELATED] == [getattr(before, name) for name in RELATED]
        assert made.user is user and made.case is prison_case
    assert len(queries) == 0


@pytest.mark.django_db
def test_no_router_asked_for_a_row(prison_case, users, agencies, monkeypatch):
    """The keys go in by column: no descriptor asks the routers (it asked once per object)."""
    from django.db import router

    asked = []
    original = router.db_for_write
    monkeypatch.setattr(router, "db_for_write", lambda *a, **k: asked.append(a) or original(*a, **k))
    decision = Decision(True, basis="role:caseworker", agency=agencies["prison"], role="x")
    policy.log_row(users["kari"], prison_case, decision, "health", AccessAction.READ, timezone.now())
    assert asked == []

"""``manage.py flush`` empties the tables the data migrations seeded (the standard outcome
kinds, the legal bases), and migrations do not run again: ``seed_demo`` puts their rows
back as the migrations wrote them, once, and leaves an admin's later changes alone."""

from io import StringIO

import pytest
from django.core.management import call_command

from permissions.models import LegalBasis
from workflows.outcomes import OutcomeKind

pytestmark = pytest.mark.django_db

KIND_FIELDS = ("code", "label", "has_home", "needs_tenure", "needs_reason", "description", "position")
BASIS_FIELDS = ("law", "paragraph", "title", "is_consent", "categories", "agency_kinds", "description", "position")


def rows(model, fields):
    return sorted(tuple(str(value) for value in row) for row in model.objects.values_list(*fields, "active"))


def seed_demo() -> str:
    out = StringIO()
    call_command("seed_demo", "--cases", "0", "--force", stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_seed_demo_restores_what_a_flush_removed(outcome_kinds, legal_bases):
    migrated = rows(OutcomeKind, KIND_FIELDS), rows(LegalBasis, BASIS_FIELDS)  # as the migrations seed them
    assert len(migrated[0]) == 8 and len(migrated[1]) == 7

    call_command("flush", interactive=False, verbosity=0)
    assert not OutcomeKind.objects.exists() and not LegalBasis.objects.exists()

    assert "Restored what the migrations seeded: 8 outcome kinds, 7 legal bases" in seed_demo()
    assert (rows(OutcomeKind, KIND_FIELDS), rows(LegalBasis, BASIS_FIELDS)) == migrated


def test_seed_demo_again_creates_nothing_and_keeps_an_admins_changes(outcome_kinds, legal_bases):
    OutcomeKind.objects.filter(code="dod").update(active=False, label="Død (ikke i bruk)")
    LegalBasis.objects.filter(law="helsepersonelloven", paragraph="§ 45").update(title="Omskrevet av juristen")
    before = rows(OutcomeKind, KIND_FIELDS), rows(LegalBasis, BASIS_FIELDS)

    assert "Restored" not in seed_demo()
    assert (rows(OutcomeKind, KIND_FIELDS), rows(LegalBasis, BASIS_FIELDS)) == before
    assert OutcomeKind.objects.get(code="dod").label == "Død (ikke i bruk)"

"""Shared fixtures: the demo cast, the shipped processes, and the PostgreSQL guard."""

import copy
import json
import os
from pathlib import Path
from unittest import mock

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "bpmn-corpus"
PROCESSES = REPO / "bpmn" / "processes"


def _database_is_postgres() -> bool:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"] in ("django.db.backends.postgresql", "config.postgresql")


def pytest_configure(config):
    """Passwords hashed with a fast hasher: the demo cast (ten users) is seeded by many
    tests, and the production PBKDF2 costs 0.2 s per password here (2 s per test).
    Two-factor sign-in is off (the suite runs with DEBUG off, where it defaults on)."""
    from django.conf import settings

    if settings.configured:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        # The suite signs the cast in with passwords only; tests/accounts turns the second
        # factor on where it is what they test.
        settings.REQUIRE_TWO_FACTOR = False
    _require_corpus()


def _require_corpus():
    """The corpus tests (tests/engine/test_corpus.py, tests/editor/test_corpus_import.py, one
    browser test) read ``../shared/bpmn-corpus``. Locally they skip without it, naming the
    path; in CI (BROBYGGER_REQUIRE_CORPUS) a missing corpus is an error, so that hundreds
    of skipped tests never pass for a green run."""
    if not os.environ.get("BROBYGGER_REQUIRE_CORPUS"):
        return
    if not CORPUS.is_dir() or next(CORPUS.rglob("*.bpmn"), None) is None:
        raise pytest.UsageError(
            f"BROBYGGER_REQUIRE_CORPUS is set but the BPMN corpus is missing or holds no .bpmn file: {CORPUS} "
            "(check out the shared corpus beside the repository as ../shared/bpmn-corpus)"
        )


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need row locks and real concurrency.

    Locally on SQLite they are skipped with the reason; in CI (BROBYGGER_REQUIRE_POSTGRES)
    a missing PostgreSQL is an error, never a silent skip.
    """
    if not config.pluginmanager.hasplugin("django") or _database_is_postgres():
        return
    if os.environ.get("BROBYGGER_REQUIRE_POSTGRES"):
        raise pytest.UsageError("BROBYGGER_REQUIRE_POSTGRES is set but DATABASE_URL is not PostgreSQL")
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI always does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_definition_caches():
    """Each test starts with empty per-process definition caches (see registry.clear_caches)."""
    from bpmn.registry import clear_caches

    clear_caches()


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts in the site's language, as a new thread does: Django's
    LocaleMiddleware activates a request's language and leaves it active in the thread, so an
    in-process request in English made the next test's service texts English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _api_rates_out_of_the_way(settings):
    """The API's per-user rate limits (api/throttling.py) counted, but far above what a test
    sends: a walk over every route as one user is not a runaway client.
    ``tests/api/test_rate_limits.py`` sets low ones."""
    settings.API_THROTTLE_RATES = {"user": "1000000/minute", "external_tasks": "1000000/minute"}


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: a rolled-back test leaves cached figures keyed
    by versions that the next test's rows reach again."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def cast(db):
    """The demo cast of design §9: returns {username: User} and {kind: Agency}."""
    from django.contrib.auth import get_user_model

    from permissions.demo import seed_demo_cast
    from permissions.models import Agency

    seed_demo_cast("test-password")
    users = {user.username: user for user in get_user_model().objects.all()}
    agencies = {agency.kind: agency for agency in Agency.objects.all()}
    return users, agencies


@pytest.fixture
def users(cast):
    return cast[0]


@pytest.fixture
def agencies(cast):
    return cast[1]


def seed_outcome_kinds():
    """The standard outcome kinds, as the data migration seeds them (a transactional test's
    flush empties the table for the tests after it)."""
    import importlib

    from django.apps import apps

    importlib.import_module("workflows.migrations.0008_seed_outcome_kinds").seed(apps, None)


def seed_legal_bases():
    """The legal bases, as the data migration seeds them."""
    import importlib

    from django.apps import apps

    importlib.import_module("permissions.migrations.0008_seed_legal_bases").seed(apps, None)


# The shipped models compiled (parsed, linted, their specs serialized), by file name and
# content: a pure function of them, and 0.2 s of every test that deploys them (about 1,500).
_SHIPPED_COMPILED: dict[tuple[str, str, str], object] = {}


def _compiled_once(compile_model):
    """``bpmn.services._compiled`` remembering the shipped files' results; each caller gets
    its own copy, so that no test's change to one reaches the next test."""

    def compiled(bpmn_text, forms, lanes, filename, routing=None, called=()):
        if lanes or routing or called:
            return compile_model(bpmn_text, forms, lanes, filename, routing, called)
        key = (filename, bpmn_text, json.dumps(forms, sort_keys=True))
        if key not in _SHIPPED_COMPILED:
            _SHIPPED_COMPILED[key] = compile_model(bpmn_text, forms, lanes, filename)
        return copy.deepcopy(_SHIPPED_COMPILED[key])

    return compiled


def deploy_shipped() -> dict:
    """Deploy the shipped processes (each ends in the outcome form, hence the outcome kinds,
    and names its legal bases); returns {key: ProcessDefinition}. Deployed as the deploy
    command does, but compiled once per test process."""
    from bpmn import services
    from bpmn.loading import bpmn_files, forms_for

    seed_outcome_kinds()
    seed_legal_bases()
    definitions = {}
    with mock.patch.object(services, "_compiled", _compiled_once(services._compiled)):
        for path in bpmn_files([PROCESSES]):
            result = services.deploy_definition(
                actor=None,
                bpmn_xml=path.read_bytes(),
                forms=forms_for(path),
                filename=path.name,
                check_permission=False,
            )
            definitions[result.definition.key] = result.definition
    return definitions


@pytest.fixture
def outcome_kinds(db):
    """{code: OutcomeKind}, seeded."""
    from workflows.models import OutcomeKind

    seed_outcome_kinds()
    return {kind.code: kind for kind in OutcomeKind.objects.all()}


@pytest.fixture
def legal_bases(db):
    """{"law paragraph": LegalBasis}, seeded."""
    from permissions.models import LegalBasis

    seed_legal_bases()
    return {f"{basis.law} {basis.paragraph}": basis for basis in LegalBasis.objects.all()}


@pytest.fixture
def consent_basis(legal_bases):
    """The person's consent (forvaltningsloven § 13 a nr. 1)."""
    return legal_bases["forvaltningsloven § 13 a nr. 1"]


@pytest.fixture
def shipped(db, outcome_kinds, legal_bases):
    """The shipped processes, deployed; returns {key: ProcessDefinition}."""
    return deploy_shipped()


@pytest.fixture
def month_over(monkeypatch):
    """As if the current month had ended: the insight figures count finished months only,
    and the cases a test walks close today."""
    from datetime import date, timedelta

    from insight import periods

    today = date.today()
    next_month = (today.replace(day=28) + timedelta(days=5)).replace(day=1)
    monkeypatch.setattr(periods, "finished_before", lambda moment=None: next_month)

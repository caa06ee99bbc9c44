"""The application's connections plan without JIT: the lists' plans carry a high total cost
(an index walk a LIMIT stops after a page) and JIT compiling took 70-80 ms of queries that
run in 1-10 ms at a million tasks (README "Read paths at scale")."""

import pytest
from django.db import connection

from config.database import postgres_settings

URL = "postgres://user:secret@db.example:5432/brobygger"


def _env(values):
    def env_bool(name, default):
        return values.get(name, str(default)).lower() == "true"

    def env_int(name, default):
        return int(values.get(name, default))

    return {"env_bool": env_bool, "env_int": env_int}


def test_jit_is_off_unless_asked_for():
    assert postgres_settings(URL, **_env({}))["OPTIONS"]["options"] == "-c jit=off"
    assert "options" not in postgres_settings(URL, **_env({"DB_JIT": "true"}))["OPTIONS"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_connection_plans_without_jit():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_prepared_statements_are_on_by_default_for_the_compiled_reads_and_can_be_turned_off():
    from django.core.exceptions import ImproperlyConfigured

    from config.database import PREPARE_COMPILED_ONLY

    default = postgres_settings(URL, **_env({}))["OPTIONS"]
    assert default["server_side_binding"] is True and default["prepare_threshold"] == PREPARE_COMPILED_ONLY
    every = postgres_settings(URL, **_env({"DB_PREPARE_THRESHOLD": "5"}))["OPTIONS"]
    assert every["server_side_binding"] is True and every["prepare_threshold"] == 5
    off = postgres_settings(URL, **_env({"DB_PREPARE_THRESHOLD": "0"}))["OPTIONS"]
    assert "server_side_binding" not in off and "prepare_threshold" not in off  # behind PgBouncer in transaction mode
    with pytest.raises(ImproperlyConfigured):
        postgres_settings(URL, **_env({"DB_PREPARE_THRESHOLD": "-1"}))

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

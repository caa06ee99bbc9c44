"""The restore drill of docs/deploy.md: ``pg_dump`` in the middle of a case, ``pg_restore``
into a new database, and the case is finished there, as after losing the primary."""

import os
import subprocess
import uuid

import psycopg
import pytest
from django.db import connection

from tests.workflows.helpers import complete, open_tasks, start_prison_case
from workflows.models import Event, EventKind

from . import cluster
from .helpers import scenario

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def test_a_case_dumped_midway_is_finished_in_the_restored_database(shipped, users, agencies, tmp_path):
    case = start_prison_case(users, agencies)
    (intake,) = open_tasks(case)
    complete(intake, {"has_home": False})
    first_parallel = open_tasks(case)[0]
    complete(first_parallel)
    midway = {task.element_id for task in open_tasks(case)}
    assert len(midway) == 2

    dump = tmp_path / "brobygger.dump"
    source = _url(connection.settings_dict["NAME"])
    subprocess.run([cluster.BIN / "pg_dump", "--format=custom", f"--file={dump}", source], check=True, timeout=120)
    restored = f"brob_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{restored}"')
    try:
        subprocess.run(
            [cluster.BIN / "pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_url(restored)}", dump],
            check=True,
            timeout=120,
        )
        env = {**os.environ, "DATABASE_URL": _url(restored), "DEBUG": "false"}
        finished = scenario(env, "finish-case", case.pk)
    finally:
        with psycopg.connect(_url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')

    # The restored case went on from where the dump was taken, to the end of its tasks.
    assert set(finished["completed"][:2]) == midway
    assert "Task_find_home" in finished["completed"]
    assert finished["events"] == 2 + len(finished["completed"])
    # The original database is untouched by what happened in the copy.
    assert {task.element_id for task in open_tasks(case)} == midway
    assert Event.objects.filter(case=case, kind=EventKind.TASK_COMPLETED).count() == 2

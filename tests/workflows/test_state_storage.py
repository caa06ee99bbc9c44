"""How PostgreSQL stores the workflow's state, written whole on every step."""

import pytest
from django.db import connection

from workflows.models import ProcessInstance

pytestmark = pytest.mark.django_db


def _lz4_supported() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        return bool(cursor.fetchone()[0])


def test_a_steps_state_is_compressed_with_lz4(nav_task):
    """pglz took 3.6 % of the database's CPU in make bench; lz4 compresses several times
    faster. The state written by the intake's step is large enough to be compressed."""
    if connection.vendor != "postgresql":
        pytest.skip("compression methods are PostgreSQL's")
    if not _lz4_supported():
        pytest.skip("this PostgreSQL is built without lz4: the state stays pglz")
    instance = ProcessInstance.objects.get(case=nav_task.case)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_compression(state), octet_length(state), pg_column_size(state) "
            "FROM workflows_processinstance WHERE id = %s",
            [instance.pk],
        )
        method, length, stored = cursor.fetchone()
    assert method == "lz4"
    assert stored < length / 2  # compressed, not only marked

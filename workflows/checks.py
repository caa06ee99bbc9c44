"""System checks for what the step machinery needs of the database connection."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


@register()
def client_side_binding(app_configs=None, **kwargs):
    """A step's statements go to PostgreSQL as one query text (``steps.rows.Batch``), which
    psycopg allows only with client-side parameter binding: with server-side binding the
    first step would fail with a syntax error. Say so at start-up instead."""
    problems = []
    for alias, database in settings.DATABASES.items():
        if database.get("ENGINE") == "django.db.backends.postgresql" and (database.get("OPTIONS") or {}).get(
            "server_side_binding"
        ):
            problems.append(
                Error(
                    f"DATABASES[{alias!r}] has OPTIONS server_side_binding on; Brobygger sends a step's statements "
                    "together, which needs client-side binding",
                    hint="remove server_side_binding from the database OPTIONS",
                    id="brobygger.E001",
                )
            )
    return problems

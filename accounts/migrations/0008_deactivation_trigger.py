"""Every deactivation is recorded, however the user was made inactive: a trigger on the user
table writes ``accounts_deactivation`` when ``is_active`` goes from true to false. The
``post_save`` receiver saw only a user saved one at a time, so a bulk
``User.objects.filter(...).update(is_active=False)`` (a shell, an operator's script, an
admin action or a directory sync written that way), or plain SQL, recorded nothing, and a
password-reset link mailed before worked again once the user was made active again
(``web.password_reset.ResetTokens``)."""

from django.db import migrations

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION accounts_record_deactivation() RETURNS trigger AS $$
    BEGIN
        INSERT INTO accounts_deactivation (user_id, "at") VALUES (NEW.id, clock_timestamp())
        ON CONFLICT (user_id) DO UPDATE SET "at" = EXCLUDED."at";
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER accounts_deactivation AFTER UPDATE OF is_active ON auth_user
    FOR EACH ROW WHEN (OLD.is_active AND NOT NEW.is_active)
    EXECUTE FUNCTION accounts_record_deactivation()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_deactivation ON auth_user",
    "DROP FUNCTION IF EXISTS accounts_record_deactivation()",
]
SQLITE = [
    """
    CREATE TRIGGER accounts_deactivation AFTER UPDATE OF is_active ON auth_user
    FOR EACH ROW WHEN OLD.is_active AND NOT NEW.is_active
    BEGIN
        INSERT INTO accounts_deactivation (user_id, "at")
        VALUES (NEW.id, strftime('%Y-%m-%d %H:%M:%f', 'now'))
        ON CONFLICT (user_id) DO UPDATE SET "at" = excluded."at";
    END
    """,
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS accounts_deactivation"]


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for statement in statements.get(vendor, ()):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_rate_bucket"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]

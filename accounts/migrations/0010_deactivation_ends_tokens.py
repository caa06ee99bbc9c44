"""A deactivation ends the user's API tokens and device cookies (``KnownDevice``) at once, however the user was made inactive:
the trigger of accounts 0008 deletes them (and the tokens' second-factor rows) as it records the
``Deactivation``. Before, only a ``save()`` (the ``post_save`` receiver) deleted them; after
a bulk ``update(is_active=False)`` or plain SQL a token not presented while the user was
inactive worked again once the user was made active again. Sessions cannot be found by user
in SQL (the user id is inside the signed session data): a session keeps the deactivation
its sign-in saw, and one whose user was made inactive since is refused (``accounts.sessions``)."""

from django.db import migrations

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION accounts_record_deactivation() RETURNS trigger AS $$
    BEGIN
        INSERT INTO accounts_deactivation (user_id, "at") VALUES (NEW.id, clock_timestamp())
        ON CONFLICT (user_id) DO UPDATE SET "at" = EXCLUDED."at";
        DELETE FROM accounts_tokendevice
         WHERE token_id IN (SELECT digest FROM knox_authtoken WHERE user_id = NEW.id);
        DELETE FROM knox_authtoken WHERE user_id = NEW.id;
        DELETE FROM accounts_knowndevice WHERE user_id = NEW.id;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
]
POSTGRESQL_REVERSE = [
    """
    CREATE OR REPLACE FUNCTION accounts_record_deactivation() RETURNS trigger AS $$
    BEGIN
        INSERT INTO accounts_deactivation (user_id, "at") VALUES (NEW.id, clock_timestamp())
        ON CONFLICT (user_id) DO UPDATE SET "at" = EXCLUDED."at";
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
]
SQLITE = [
    "DROP TRIGGER IF EXISTS accounts_deactivation",
    """
    CREATE TRIGGER accounts_deactivation AFTER UPDATE OF is_active ON auth_user
    FOR EACH ROW WHEN OLD.is_active AND NOT NEW.is_active
    BEGIN
        INSERT INTO accounts_deactivation (user_id, "at")
        VALUES (NEW.id, strftime('%Y-%m-%d %H:%M:%f', 'now'))
        ON CONFLICT (user_id) DO UPDATE SET "at" = excluded."at";
        DELETE FROM accounts_tokendevice
         WHERE token_id IN (SELECT digest FROM knox_authtoken WHERE user_id = NEW.id);
        DELETE FROM knox_authtoken WHERE user_id = NEW.id;
        DELETE FROM accounts_knowndevice WHERE user_id = NEW.id;
    END
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_deactivation",
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


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for statement in statements.get(vendor, ()):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_known_device"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]

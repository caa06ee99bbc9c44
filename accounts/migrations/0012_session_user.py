"""Each session row keeps its user's id beside the signed data (``accounts.UserSession``, an
unmanaged model of ``django_session``): ending a user's sessions is one indexed delete. The
deactivation trigger (accounts 0008, 0010) deletes them with the user's tokens and device
cookies, however the user was made inactive. Until 2026-12-06 sessions could not be found by
user in SQL: the workers' sweep decoded every live session per new deactivation (1.3-1.7 s at
20,000 sessions). The live sessions are decoded once here to fill the column (the sweep
decodes any row written without it, by a process not yet restarted)."""

from collections import defaultdict

from django.db import migrations, models
from django.utils import timezone

ADD = [
    "ALTER TABLE django_session ADD COLUMN user_id integer NULL",
    "CREATE INDEX accounts_session_user ON django_session (user_id)",
]
DROP = [
    "DROP INDEX accounts_session_user",
    "ALTER TABLE django_session DROP COLUMN user_id",
]

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
        DELETE FROM django_session WHERE user_id = NEW.id;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
]
# Back: the function as accounts 0010 left it, the same but for the sessions' delete.
_ENDS_SESSIONS = "        DELETE FROM django_session WHERE user_id = NEW.id;\n"
POSTGRESQL_REVERSE = [POSTGRESQL[0].replace(_ENDS_SESSIONS, "")]


SQLITE_TRIGGER = """
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
        DELETE FROM django_session WHERE user_id = NEW.id;
    END
"""
SQLITE = ["DROP TRIGGER IF EXISTS accounts_deactivation", SQLITE_TRIGGER]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_deactivation",
    SQLITE_TRIGGER.replace(_ENDS_SESSIONS, ""),
]


def _run(statements):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement)

    return run


def _fill(apps, schema_editor):
    """The user column of every live session, decoded once (expired ones are left NULL: the
    workers prune them)."""
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    def user_column(data):  # ``accounts.sessions.user_column`` as of this migration
        user_id = data.get(SESSION_KEY)
        text = "" if user_id is None else str(user_id)
        return 0 if user_id is None else int(text) if text.isascii() and text.isdigit() else None

    model = apps.get_model("accounts", "UserSession")
    store, users = SessionStore(), defaultdict(list)
    live = model.objects.filter(expire_date__gt=timezone.now()).values_list("session_key", "session_data")
    for key, data in live.iterator(chunk_size=2000):
        users[user_column(store.decode(data))].append(key)
    for user_id, keys in users.items():
        for start in range(0, len(keys), 1000):
            model.objects.filter(session_key__in=keys[start : start + 1000]).update(user_id=user_id)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_service_account"),
        ("sessions", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="UserSession",
            fields=[
                (
                    "session_key",
                    models.CharField(max_length=40, primary_key=True, serialize=False, verbose_name="session key"),
                ),
                ("session_data", models.TextField(verbose_name="session data")),
                ("expire_date", models.DateTimeField(db_index=True, verbose_name="expire date")),
                ("user_id", models.IntegerField(blank=True, null=True)),
            ],
            options={
                "verbose_name": "session",
                "verbose_name_plural": "sessions",
                "db_table": "django_session",
                "managed": False,
            },
        ),
        migrations.RunSQL(ADD, DROP),
        migrations.RunPython(_fill, migrations.RunPython.noop),
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]

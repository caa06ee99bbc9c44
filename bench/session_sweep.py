"""The workers' session sweep (``core.hooks.SESSIONS_TO_END``, which ``accounts`` fills with
``end_deactivated_sessions``) at many live sessions: ``python -m bench.session_sweep
[sessions]`` (default 20,000) on a database of its own (``DATABASE_URL``; it adds 2,000
users ``bench-sweep-*`` and their sessions, and removes them after). Each of five rounds
deactivates one user by a bulk update (the trigger records it, no signal) and times that
update and the sweep after it; then five sweeps with nothing new. The figures are in README
("Deactivations are recorded by a trigger")."""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import timedelta
from importlib import import_module

import django
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.db import connection
from django.utils import timezone
from django.utils.crypto import get_random_string

from core import hooks

USERS = 2000


def main(count: int) -> None:
    engine = import_module(settings.SESSION_ENGINE)  # as Django's SessionMiddleware finds it
    user_model = get_user_model()
    model = engine.SessionStore.get_model_class()
    user_model.objects.filter(username__startswith="bench-sweep-").delete()
    users = user_model.objects.bulk_create([user_model(username=f"bench-sweep-{n}") for n in range(USERS)])
    ids = [user.pk for user in users]
    store, expire = engine.SessionStore(), timezone.now() + timedelta(hours=8)
    rows = []
    for number in range(count):
        user_id = ids[number % USERS]
        data = {
            SESSION_KEY: str(user_id),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: "x" * 64,
        }
        rows.append(model(session_key=get_random_string(32), session_data=store.encode(data), expire_date=expire))
        rows[-1].user_id = user_id
    model.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE django_session")  # as autovacuum would have
    mine = model.objects.filter(user_id__in=ids)
    updates, sweeps, quiet = [], [], []
    try:
        for round_ in range(5):
            before = mine.count()
            start = time.perf_counter()
            user_model.objects.filter(pk=ids[round_]).update(is_active=False)
            updates.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            hooks.sweep(hooks.SESSIONS_TO_END)
            sweeps.append((time.perf_counter() - start) * 1000)
            assert before - mine.count() == count // USERS, "the user's sessions did not end"
        for _ in range(5):
            start = time.perf_counter()
            hooks.sweep(hooks.SESSIONS_TO_END)
            quiet.append((time.perf_counter() - start) * 1000)
    finally:
        mine.delete()
        user_model.objects.filter(pk__in=ids).delete()
    print(
        f"{count} live sessions: deactivation (bulk update) median {statistics.median(updates):.1f} ms; "
        f"sweep after it median {statistics.median(sweeps):.1f} ms "
        f"({', '.join(f'{ms:.1f}' for ms in sweeps)}); sweep with nothing new {statistics.median(quiet):.2f} ms"
    )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)

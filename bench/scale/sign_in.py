"""Inside the throw-away database's Django (``bench.scale.load_main`` runs it): load the rows,
give a signed-in session to each user the bench reads as, and name one case of each one's
agency. The API tokens come over HTTP, as a client gets them."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.test import Client

from bench.scale.load import load
from workflows.models import Case


def load_and_sign_in(cases: int, tasks: int, password: str) -> dict:
    started = time.monotonic()
    loaded = load(cases=cases, tasks=tasks, password=password)
    seconds = time.monotonic() - started
    users = get_user_model().objects
    readers = {role: users.get(username=name) for role, name in loaded.users.items()}
    readers["process admin"] = users.get(username="ada")
    signed_in = {}
    for role, user in readers.items():
        client = Client()
        client.force_login(user)
        case = Case.objects.filter(participants__agency__memberships__user=user).order_by("-id").first()
        signed_in[role] = {
            "username": user.username,
            "session": client.cookies["sessionid"].value,
            "case": case.pk if case else None,
        }
    return {"cases": loaded.cases, "tasks": loaded.tasks, "load_seconds": seconds, "readers": signed_in}

"""A flood of sign-in tries for one username, and what an unrelated user waits meanwhile
(docs/security.md, "Tries sent at once"). Against a running ``manage.py serve`` (2 processes x 4
threads by default), over HTTP:

    DATABASE_URL=... .venv/bin/python manage.py serve --bind 127.0.0.1:8765 --job-workers 0 &
    DATABASE_URL=... .venv/bin/python -m bench.sign_in_flood --url http://127.0.0.1:8765 --tries 32 \
        --server-log serve.err   # the server's stderr (optional): how long it held its threads

It makes two password users (``flood-victim-<time>``, ``flood-other-<time>``: production's
password hasher), sends ``--tries`` wrong passwords for the victim to the token endpoint at
once (from one address, ``X-Forwarded-For``), and 0.3 s into the flood the other user's token
sign-in (right password, another address) and a ``/healthz``. Prints the flood's answers, how long
its requests took (client side: queued and served), and the other user's waits, against the same
two requests alone beforehand."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
import urllib.error
import urllib.request

import django

PASSWORD = "the-right-one-2026"  # noqa: S105 - a bench user's


def _setup() -> tuple[str, str]:
    """Two new password users (new names each run: no counts, buckets or rows left from before)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.contrib.auth import get_user_model

    run = time.strftime("%H%M%S")
    names = (f"flood-victim-{run}", f"flood-other-{run}")
    for name in names:
        get_user_model().objects.create_user(username=name, password=PASSWORD)
    return names


def _post_token(url: str, username: str, password: str, address: str) -> tuple[int, float]:
    body = json.dumps({"username": username, "password": password}).encode()
    request = urllib.request.Request(  # noqa: S310 - the bench's own server
        url + "/api/v1/auth/token/",
        data=body,
        headers={"Content-Type": "application/json", "X-Forwarded-For": address},
        method="POST",
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - the bench's own server
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.perf_counter() - started


def _get(url: str) -> tuple[int, float]:
    started = time.perf_counter()
    with urllib.request.urlopen(url + "/healthz", timeout=120) as response:  # noqa: S310
        status = response.status
    return status, time.perf_counter() - started


def _other(url: str, other: str) -> dict[str, float]:
    """The other user's token sign-in and a ``/healthz``, sent together."""
    found: dict[str, float] = {}

    def login() -> None:
        status, found["login"] = _post_token(url, other, PASSWORD, "198.51.100.7")
        assert status == 200, status

    def health() -> None:
        _, found["healthz"] = _get(url)

    both = [threading.Thread(target=login), threading.Thread(target=health)]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join()
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8765")
    parser.add_argument("--tries", type=int, default=32)
    parser.add_argument("--server-log", help="the server's log (JSON lines, LOG_REQUESTS): how long it held threads")
    args = parser.parse_args()
    victim, other = _setup()

    alone = _other(args.url, other)
    time.sleep(0.5)
    logged = len(_logged(args.server_log))
    flood: list[tuple[int, float]] = []
    gate = threading.Barrier(args.tries + 1)

    def one(index: int) -> None:
        gate.wait()
        flood.append(_post_token(args.url, victim, f"guess-{index}", "203.0.113.9"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(args.tries)]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    time.sleep(0.3)
    during = _other(args.url, other)
    for thread in threads:
        thread.join()
    whole = time.perf_counter() - started

    statuses: dict[int, int] = {}
    for status, _ in flood:
        statuses[status] = statuses.get(status, 0) + 1
    times = sorted(seconds for _, seconds in flood)
    from axes.models import AccessFailureLog

    print(f"flood of {args.tries} tries for one username: answers {statuses}")
    print(f"  passwords tested: {AccessFailureLog.objects.filter(username=victim).count()}")
    print(
        f"  per try: median {statistics.median(times):.2f} s, slowest {times[-1]:.2f} s; the whole flood {whole:.2f} s"
    )
    print(f"other user's token sign-in: alone {alone['login']:.2f} s, during the flood {during['login']:.2f} s")
    print(f"/healthz: alone {alone['healthz']:.3f} s, during the flood {during['healthz']:.3f} s")
    if args.server_log:
        lines = _logged(args.server_log)[logged:]
        served = sorted(line["ms"] / 1000 for line in lines if "token" in line["route"])
        print(
            f"server side, {len(served)} token requests (the flood's, the other user's): "
            f"threads held {sum(served):.1f} s in all, "
            f"median {statistics.median(served):.2f} s, longest {served[-1]:.2f} s"
        )


def _logged(path: str | None) -> list[dict]:
    """The request lines of the server's log so far."""
    if not path:
        return []
    with open(path) as log:
        return [line for line in map(json.loads, filter(lambda text: '"request"' in text, log)) if "ms" in line]


if __name__ == "__main__":
    main()

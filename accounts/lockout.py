"""The answer to a locked-out sign-in (django-axes ``AXES_LOCKOUT_CALLABLE``): the API's
error shape for the token endpoint, a bokmål page for the web login. Neither says
whether the username exists.

And when a username's count of failures is cleared: after a whole sign-in only. A user
who owes a second factor has not signed in when the password is right (axes'
``AXES_RESET_ON_SUCCESS`` cleared it then, so whoever held the password could try codes
for ever by signing in again between tries); their count is cleared when the code is
given (``accounts.views``, ``accounts.sign_in``).

Two locks (``LockoutHandler``; docs/security.md, "Lockout"): a username from one client
address (django-axes' rows: ``LOGIN_FAILURE_LIMIT`` in ``LOGIN_COOLOFF_MINUTES``), and the
username from every address together (a token bucket in ``accounts.rate_limit``:
``LOGIN_USERNAME_FAILURE_LIMIT`` per ``LOGIN_USERNAME_PERIOD_MINUTES``). Until 2026-12-06 one
lock per username alone, made longer by every try while it held: one request every few
minutes, from one address, kept a caseworker out for good.

And what a failed sign-in leaves behind (``attempted_username``, ``client_str``): the
username of an account that exists, so admins see whose sign-in is locked; for a name
that is no account (often a password typed into the wrong field) a keyed digest only."""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_str, get_client_username, get_credentials
from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib.auth import get_user_model, user_logged_in, user_login_failed
from django.core import checks
from django.core.signals import request_finished
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Max
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import ngettext

from accounts import device_cookies, rate_limit
from accounts.two_factor import PASSWORD_BACKENDS

STATUS = 429
log = logging.getLogger("axes")


def _username_bucket(username: str) -> tuple[str, int, int]:
    return f"login:{username}", settings.LOGIN_USERNAME_FAILURE_LIMIT, settings.LOGIN_USERNAME_PERIOD_MINUTES * 60


class LockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler (its rows count a username per client address, as
    ``AXES_LOCKOUT_PARAMETERS`` says), and the username's bucket across every address. A
    request from a browser the user signed in with before (its device cookie,
    ``accounts.device_cookies``) is held by neither: only by that browser's own count."""

    def is_locked(self, request, credentials=None) -> bool:
        username = get_client_username(request, credentials)
        device = device_cookies.known_device(request, username)
        if device is not None:
            return device_cookies.is_locked(device)
        if not one_at_a_time(username, unless=lambda: self._locked(request, credentials, username)):
            # Other tries of the name held it for all of LOCK_WAIT_SECONDS, or a lock already
            # holds it: refused untested, with the lock's answer (a flood of one name no longer
            # holds every thread in a queue).
            request.axes_busy = True
            return True
        if self._locked(request, credentials, username):
            # Refused: this request tests nothing more, so the name's next try need not wait
            # for its answer to be written and sent.
            let_go(username)
            return True
        return False

    def _locked(self, request, credentials, username) -> bool:
        if super().is_locked(request, credentials):
            return True
        return bool(username) and rate_limit.empty(*_username_bucket(username))

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        # A try the lock refused tested no password: axes leaves it uncounted (with
        # AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT off) and so does the bucket.
        refused = request is not None and getattr(request, "axes_locked_out", False)
        username = get_client_username(request, credentials) if request is not None else None
        device = device_cookies.known_device(request, username)
        if refused and username:
            # Tested nothing, counted nothing, but an admin sees that the guessing went on.
            record_refused(request, username)
        if device is not None:
            # The user's own browser: its count alone, not the address's nor the username's.
            if not refused:
                if device_cookies.count_failure(device):
                    request.axes_locked_out = True
                    request.axes_credentials = credentials
                self.log_known_browser_failure(request, username)
            return
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or refused:
            return
        if not username:
            return
        key, count, period = _username_bucket(username)
        rate_limit.take(key, count, period)
        if rate_limit.empty(key, count, period):
            request.axes_locked_out = True  # the middleware answers the lockout now, as axes does at its limit
            request.axes_credentials = credentials

    def log_known_browser_failure(self, request, username: str) -> None:
        """A known browser's failure in django-axes' log of failures (*Axes > Access failures*,
        ``AXES_ENABLE_ACCESS_FAILURE_LOG``) and its log line, as axes writes every other
        failure: it counts against no attempt row (those are the address's lock), but admins and
        auditors see every failed sign-in whatever it counted against. Until 2026-12-06 such a
        failure left no trace at all."""
        client = get_client_str(
            username, request.axes_ip_address, request.axes_user_agent, request.axes_path_info, request
        )
        log.warning("AXES: Login failure from a known browser by %s.", client)
        if not settings.AXES_ENABLE_ACCESS_FAILURE_LOG:
            return
        AccessFailureLog.objects.create(
            username=username,
            ip_address=request.axes_ip_address,
            user_agent=request.axes_user_agent,
            http_accept=request.axes_http_accept,
            path_info=request.axes_path_info,
            attempt_time=request.axes_attempt_time,
            locked_out=bool(getattr(request, "axes_locked_out", False)),
        )
        self.remove_out_of_limit_failure_logs(username=username)


_held = threading.local()

# A try that finds its username held may wait for it only in one of the name's ``LOCK_WAITERS``
# waiting places (an advisory lock each, across every process): at most ``LOCK_WAIT_SECONDS``,
# asking every ``LOCK_POLL_SECONDS``. Any other try of a held name is refused at once. So a name
# holds at most two web threads of the whole site, one testing and one waiting, however many tries
# come for it; and a form sent twice (a double click: the second waits for the first's password
# check, about 0.2 s in production) is answered as before, not with the lock's page.
LOCK_WAITERS = 1
LOCK_WAIT_SECONDS = 1.0
LOCK_POLL_SECONDS = 0.025


def _key(username: str, salt: str = "accounts.lockout.one_at_a_time") -> int:
    return int(salted_hmac(salt, username).hexdigest()[:15], 16)


def one_at_a_time(username: str | None, unless: Callable[[], bool] | None = None) -> bool:
    """The tries of one username are tested one after the other: a PostgreSQL advisory lock,
    taken here (before the lock's check) and held to the end of the request (``release``).
    django-axes reads the count before the password is tested and writes it after, so tries
    sent at once all read it below the limit and were all tested: until 2026-12-06 a burst of
    requests had as many guesses per lock as the server had workers, not ``LOGIN_FAILURE_LIMIT``,
    and as many per token of the username's bucket, not one. A known browser (its device cookie)
    is never held here: its user signs in while others hammer the name.

    False, and the caller refuses this try without testing anything, when the name is held and
    ``LOCK_WAITERS`` other tries already wait for it, or ``unless()`` (read without the lock: is the name locked
    already?) says True, or the holder kept it for all of ``LOCK_WAIT_SECONDS``. Until 2026-12-06
    every try waited for every try ahead of it (``pg_advisory_lock``), so a flood of tries for one
    name, which needs no password, held every web thread of the node in that queue (32 at once:
    the other users' requests waited 3-10 s; docs/security.md, "Tries sent at once")."""
    if not username or connection.vendor != "postgresql":
        return True
    held = getattr(_held, "keys", None)
    if held is None:
        held = _held.keys = set()
    key = _key(username)
    if key in held:
        return True
    # Kept before it is asked for: should the answer be lost (an error, the connection gone), the
    # request's end unlocks it anyway (unlocking a key not held only returns false).
    held.add(key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        if cursor.fetchone()[0]:
            return True
        held.discard(key)
        for number in range(LOCK_WAITERS):
            place = _key(username, f"accounts.lockout.one_at_a_time.waiting.{number}")
            held.add(place)
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [place])
            if cursor.fetchone()[0]:
                break
            held.discard(place)
        else:
            return False  # as many tries of the name wait already as may
        got = False
        try:
            if unless is None or not unless():
                held.add(key)
                deadline = time.monotonic() + LOCK_WAIT_SECONDS
                while not got and time.monotonic() < deadline:
                    time.sleep(LOCK_POLL_SECONDS)
                    cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
                    got = cursor.fetchone()[0]
        finally:
            if not got:
                held.discard(key)
            try:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [place])
                held.discard(place)
            except DatabaseError:
                # As ``release``: the connection goes, and every lock with it, the name's too if
                # it was got: so the try is refused, not tested without it.
                connection.close()
                held.discard(place)
                held.discard(key)
                got = False
    return got


def let_go(username: str) -> None:
    """Let go of ``username`` before the request ends (``one_at_a_time``): a try refused by a
    lock tests nothing, and the name's next try need not wait while its answer is written."""
    held = getattr(_held, "keys", None)
    key = _key(username)
    if not held or key not in held:
        return
    held.discard(key)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    except DatabaseError:
        connection.close()  # as ``release``: a connection that may still hold it goes, and it with it


@receiver(request_finished, dispatch_uid="accounts.lockout.release")
def release(**kwargs) -> None:
    """The request is over: the usernames it held (``one_at_a_time``) are let go. A connection
    closed at the request's end (``CONN_MAX_AGE``) let them go with it. One whose unlock fails
    is closed, so that its locks go with it: a kept connection still holding a username would
    hold every other try of that name for good, and a key left in ``held`` would let this
    thread's next try of it go without the lock."""
    held = getattr(_held, "keys", None)
    if not held:
        return
    try:
        if connection.connection is not None:
            with connection.cursor() as cursor:
                for key in held:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    except DatabaseError:
        connection.close()
    finally:
        held.clear()


def record_refused(request, username: str) -> None:
    """A sign-in try refused because a lock held, in *Sign-in > sign-ins refused during a lock*
    (``RefusedSignIn``) and a log line: the username (as ``attempted_username`` gives it), the
    address, the browser, the path, when, and how many. django-axes keeps none of these (its log
    of failures takes only tries that tested something), so until 2026-12-06 an admin saw a
    guessing attack stop at the lock, however long it went on. Never the password or code.

    Bounded: tries from one address in one run (no gap longer than the cool-off) add to one row;
    a username has at most ``AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT`` rows (past it, a new
    address's tries add to the username's newest row); and a username is refused only after
    failures that axes' log holds, or while a try of it is being tested (``one_at_a_time``), so
    names that are no account cannot add rows faster than they add failures there. Rows older
    than ``LOGIN_REFUSED_LOG_DAYS`` go as new ones come."""
    from accounts.models import RefusedSignIn

    ip_address = getattr(request, "axes_ip_address", None) or client_ip(request)
    user_agent = (getattr(request, "axes_user_agent", None) or request.META.get("HTTP_USER_AGENT", ""))[:255]
    path_info = (getattr(request, "axes_path_info", None) or request.path_info)[:255]
    now = timezone.now()
    client = client_str(username, ip_address, None, path_info, request)
    if getattr(request, "axes_busy", False):
        log.warning("AXES: Sign-in refused while other tries of the username were tested, by %s.", client)
    else:
        log.warning("AXES: Sign-in refused during a lock by %s.", client)
    rows = RefusedSignIn.objects.filter(username=username)
    with transaction.atomic():
        row = (
            rows.filter(ip_address=ip_address, last_at__gte=now - settings.AXES_COOLOFF_TIME)
            .select_for_update()
            .order_by("-last_at")
            .first()
        )
        if row is None and rows.count() >= getattr(settings, "AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT", 1000):
            row = rows.select_for_update().order_by("-last_at").first()
        if row is not None:
            RefusedSignIn.objects.filter(pk=row.pk).update(
                tries=F("tries") + 1, last_at=now, user_agent=user_agent, path_info=path_info
            )
            return
        RefusedSignIn.objects.create(
            username=username,
            ip_address=ip_address,
            user_agent=user_agent,
            path_info=path_info,
            first_at=now,
            last_at=now,
        )
        RefusedSignIn.objects.filter(last_at__lt=now - timedelta(days=settings.LOGIN_REFUSED_LOG_DAYS)).delete()


def lockout_response(request, original_response=None, credentials=None):
    """The answer to a locked sign-in, saying how long the lock still holds (it said the
    whole cool-off, 15 minutes, however much of it was left)."""
    seconds = seconds_locked(request, credentials or getattr(request, "axes_credentials", None))
    minutes = max(math.ceil(seconds / 60), 1)
    if request.path_info.startswith("/api/"):
        detail = ngettext(
            "too many failed sign-ins: try again in %(minutes)d minute",
            "too many failed sign-ins: try again in %(minutes)d minutes",
            minutes,
        ) % {"minutes": minutes}
        response = JsonResponse({"detail": detail, "errors": []}, status=STATUS)
    else:
        response = render(request, "accounts/locked_out.html", {"minutes": minutes}, status=STATUS)
    response["Retry-After"] = str(max(math.ceil(seconds), 1))
    return response


def seconds_locked(request, credentials=None) -> float:
    """How long the sign-in of this username (from this address) stays locked: the longer of
    the two locks in force. django-axes' lock holds for ``AXES_COOLOFF_TIME`` after the last
    counted failure; the username's bucket until it has a token again. The whole cool-off
    when neither can be read (a lock by another of axes' rules)."""
    username = get_client_username(request, credentials)
    device = device_cookies.known_device(request, username)
    if device is not None:
        # A known browser is held by its own bucket alone (``LockoutHandler.is_locked``): it
        # was told the username's wait (an hour while others lock the username) or the whole
        # cool-off, while it gets a try back every few minutes.
        left = device_cookies.seconds_locked(device)
        return left if left > 0 else settings.AXES_COOLOFF_TIME.total_seconds()
    left = 0.0
    handler = LockoutHandler()
    if handler.get_failures(request, credentials) >= settings.AXES_FAILURE_LIMIT:
        latest = [
            last
            for attempts in handler.get_user_attempts(request, credentials)
            if (last := attempts.aggregate(last=Max("attempt_time"))["last"]) is not None
        ]
        if latest:
            left = (max(latest) + settings.AXES_COOLOFF_TIME - timezone.now()).total_seconds()
    if username:
        left = max(left, rate_limit.wait(*_username_bucket(username)))
    return left if left > 0 else settings.AXES_COOLOFF_TIME.total_seconds()


def attempted_username(request, credentials=None) -> str | None:
    """django-axes' ``AXES_USERNAME_CALLABLE``: the name its attempt rows, its lock and its
    log lines use. A name that is no account is counted and locked like any other (a lock
    that only real names reached would tell which names exist), but under a digest keyed
    with ``SECRET_KEY``: the attempt rows and the logs never hold what was typed."""
    field = getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")  # set by axes.conf
    typed = credentials.get(field) if credentials else getattr(request, "data", request.POST).get(field)
    if not typed:
        return typed
    user_model = get_user_model()
    if user_model._default_manager.filter(**{user_model.USERNAME_FIELD: typed}).exists():
        return typed
    return "unknown-" + salted_hmac("accounts.lockout.attempted_username", str(typed)).hexdigest()[:24]


def client_str(username, ip_address, user_agent, path_info, request) -> str:
    """django-axes' ``AXES_CLIENT_STR_CALLABLE``: its log lines name the username as
    ``attempted_username`` gave it (axes' own would hide it, ``username`` being among the
    sensitive parameters so that the attempt rows' copy of the form holds no typed name)."""
    if isinstance(path_info, tuple | list):
        path_info = path_info[0]
    return f'{{username: "{username}", path_info: "{path_info}"}}'


def _trusted(address: str, proxies) -> bool:
    """``address`` is one of the proxies (``WEB_FORWARDED_ALLOW_IPS``: addresses, networks, or ``*``)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for proxy in proxies:
        if proxy == "*":
            return True
        try:
            if ip in ipaddress.ip_network(proxy, strict=False):
                return True
        except ValueError:
            continue
    return False


# The widest network ``WEB_FORWARDED_ALLOW_IPS`` may list without a warning: a proxy's own
# subnet. Wider, it takes in clients, and a client it lists writes its own address.
WIDEST_PROXY_PREFIX = {4: 24, 6: 64}


def forwarded_allow_ips_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``manage.py check``: ``WEB_FORWARDED_ALLOW_IPS`` lists the reverse proxies, never a
    client network. A client inside a listed network may send its own ``X-Forwarded-For``
    and choose the address ``client_ip`` gives it: the password reset's limit per client
    and django-axes' records count whatever it says."""
    found: list[checks.CheckMessage] = []
    for proxy in getattr(settings, "FORWARDED_ALLOW_IPS", []):
        if proxy == "*":
            found.append(
                checks.Warning(
                    "WEB_FORWARDED_ALLOW_IPS is '*': every client may say which address it has",
                    hint="List only the reverse proxies' own addresses (docs/deploy.md).",
                    id="accounts.W001",
                )
            )
            continue
        try:
            network = ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            found.append(
                checks.Warning(
                    f"WEB_FORWARDED_ALLOW_IPS has {proxy!r}, which is no address or network; it is ignored",
                    hint="List the reverse proxies' addresses, comma-separated (docs/deploy.md).",
                    id="accounts.W002",
                )
            )
            continue
        if network.prefixlen < WIDEST_PROXY_PREFIX[network.version]:
            found.append(
                checks.Warning(
                    f"WEB_FORWARDED_ALLOW_IPS has the network {network}, wider than "
                    f"/{WIDEST_PROXY_PREFIX[network.version]}: a client in it may say which address it has",
                    hint="List only the reverse proxies' own addresses, never a client network (docs/deploy.md).",
                    id="accounts.W001",
                )
            )
    return found


def client_ip(request) -> str | None:
    """django-axes' ``AXES_CLIENT_IP_CALLABLE``: the client's address. Behind a proxy of
    ``WEB_FORWARDED_ALLOW_IPS`` (nginx, which appends the address it saw to
    ``X-Forwarded-For``), the last hop no such proxy added; hops to its left are the
    client's own words and never read. Else, or when that hop is no address,
    ``REMOTE_ADDR``: behind nginx every request's was nginx's own, so any count per client
    (the password reset's) was one count for everybody."""
    peer = request.META.get("REMOTE_ADDR") or None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    proxies = getattr(settings, "FORWARDED_ALLOW_IPS", [])
    if not forwarded or peer is None or not _trusted(peer, proxies):
        return peer
    for hop in reversed([part.strip() for part in forwarded.split(",")]):
        if _trusted(hop, proxies):
            continue
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            return peer
    return peer


def is_locked(request, user) -> bool:
    return AxesProxyHandler.is_locked(request, get_credentials(user.get_username()))


def count_failure(request, user) -> bool:
    """Count a wrong one-time code of ``user`` as a failed sign-in; True when the username
    is now locked (axes' middleware then answers with the lockout)."""
    user_login_failed.send(sender=__name__, credentials=get_credentials(user.get_username()), request=request)
    return bool(getattr(request, "axes_locked_out", False))


def signed_in(request, user, *, password: bool) -> None:
    """A whole sign-in (the password, and the code when one is owed): this client's count is
    cleared, and a web browser is given its device cookie as the response leaves
    (``accounts.middleware.DeviceCookieMiddleware``)."""
    clear_failures(request, user)
    if password and device_cookies.applies(request):
        request.device_cookie_for = user


def clear_failures(request, user) -> None:
    """A whole sign-in clears this client's count for the user, not other addresses' (an
    attacker's five tries from elsewhere stay spent) nor the username's bucket, which fills
    again by itself."""
    AxesProxyHandler.reset_attempts(ip_address=client_ip(request), username=user.get_username())


@receiver(user_logged_in, dispatch_uid="accounts.clear_failures_after_sign_in")
def clear_failures_after_sign_in(sender, request, user, second_factor=None, **kwargs):
    """A login clears the count unless it was a password that still owes its code."""
    from accounts.two_factor import second_factor_required

    password = getattr(user, "backend", None) in PASSWORD_BACKENDS
    owes_code = password and second_factor_required(user)
    if second_factor is not None or not owes_code:
        signed_in(request, user, password=password)

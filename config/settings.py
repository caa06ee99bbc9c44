"""Brobygger settings: one module, driven by environment variables.

Bad values fail loudly at start-up rather than being silently replaced by defaults.
"""

import datetime
import hashlib
import hmac
import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.database import ENGINE as POSTGRESQL_ENGINE
from config.database import POSTGRESQL, postgres_settings
from core.rates import parse_rate
from ops.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_year_amounts(name: str, default: str) -> dict[int, int]:
    """``"2024:5745,2025:6000"`` -> {2024: 5745, 2025: 6000}."""
    amounts = {}
    for item in env_list(name, default):
        year, _, amount = item.partition(":")
        try:
            amounts[int(year)] = int(amount)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name} must be YEAR:AMOUNT pairs separated by commas, got {item!r}") from exc
    return amounts


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG"  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "config.admin_site.AdminConfig",  # django.contrib.admin, its lists filtered by their own filters only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from our static files, no CDN
    "guardian",
    "permissions",
    "bpmn",
    "workflows",
    "retention",
    "insight",
    "web",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.static_files.StaticFilesMiddleware",  # whitenoise, its files found once per process
    # Outside every other middleware, so that their own answers (a refusal) are covered too.
    "config.private_answers.PrivateAnswersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.session_refresh.SessionRefreshMiddleware",
    "web.drafts.FormDraftMiddleware",  # a form sent back with errors: for the next request only
    "web.concurrent_change.ConcurrentChangeMiddleware",  # a deadlock's loser: 409, not a 500
    "config.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before the CSRF check: a method no page serves is 405 whoever sends it (config/methods.py).
    "config.methods.AllowedMethodsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.middleware.AuthenticationMiddleware",  # Django's, its reads compiled once (accounts.sessions)
    "config.input_guard.InputGuardMiddleware",
    "config.page_messages.MessageMiddleware",  # Django's, for the pages only (not the API)
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: a SQLite file by default (no services needed for the demo);
# DATABASE_URL=postgres://... switches to PostgreSQL, which production and CI use.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == POSTGRESQL:
        DATABASES["default"] = postgres_settings(DATABASE_URL, env_bool=env_bool, env_int=env_int)
        DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("TEST_DATABASE_NAME") or None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                # Writers queue instead of failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": ("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A streaming replica of the primary for the leaders' reports only (insight.replica says why
# not the lists), and how far behind it may be; the tests read it as a second connection
# to their own database.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
REPLICA_MAX_LAG_SECONDS = env_int("REPLICA_MAX_LAG_SECONDS", 5)
if DATABASE_REPLICA_URL:
    if DATABASES["default"]["ENGINE"] != POSTGRESQL_ENGINE or not DATABASE_REPLICA_URL.startswith(
        ("postgres", "pgsql")
    ):
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs PostgreSQL (postgres://...) for both databases")
    DATABASES["replica"] = postgres_settings(DATABASE_REPLICA_URL, env_bool=env_bool, env_int=env_int)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["insight.replica.ReportsToReplica"]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: a locked-out user is refused before any password check
    "django.contrib.auth.backends.ModelBackend",
    "accounts.oidc.SingleSignOnBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
ANONYMOUS_USER_NAME = None  # django-guardian: no anonymous user object

# The cache holds only the insight figures (``insight.figures.cached``), per process; an entry
# per function, scope, version, year and language, so more than the default 300 before culling.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }
}

# The web UI speaks Norwegian bokmål unless the user picks English (``set_language``);
# the API answers in English unless the client sends Accept-Language (config.locale).
LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", "Norsk bokmål"), ("en", "English")]
# Ours, then bokmål for the sign-in library that ships none (config/library_locale/nb: kept
# apart, since makemessages rewrites locale/ from our own code only).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "config" / "library_locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Oslo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Production: set STATIC_ROOT and run collectstatic; whitenoise then serves the collected
# files. Unset (make run, tests) the finders below serve them without that step.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None
# Front-end packages come from npm (package.json, `npm ci`), never copied into the repo:
# whitenoise serves them straight from node_modules through the finders.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bpmn-js", BASE_DIR / "node_modules" / "bpmn-js" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
# No collectstatic step needed for `make run` or the tests; `manage.py serve` collects them
# into STATIC_ROOT and serves only those (the proxy compresses: docs/deploy.md; whitenoise's
# compressing storage took 45 s per start here).
WHITENOISE_USE_FINDERS = not STATIC_ROOT
WHITENOISE_AUTOREFRESH = DEBUG

# Request bodies above this are refused before they reach a view (BPMN uploads are capped
# at 5 MB by the engine; JSON bodies with forms fit comfortably).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 6 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.TokenAuthentication",  # knox's: expiring, revocable, stored hashed (docs/security.md)
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.KeysetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": ["api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's, its choice for the usual Accept headers remembered per renderer set (api/negotiation.py).
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.negotiation.CommonAcceptNegotiation",
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    # OPTIONS names the route and its media types, never its fields nor their choices.
    "DEFAULT_METADATA_CLASS": "api.metadata.RouteOnlyMetadata",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerUserRateThrottle"],
}


def env_rate(name: str, default: str) -> str:
    """A rate limit: "N/second", "N/minute", "N/hour", "N/day", or "off"."""
    raw = os.environ.get(name) or default
    try:
        parse_rate(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f'{name} must be "N/second|minute|hour|day" or "off", got {raw!r}') from exc
    return raw


# Requests per signed-in user (any of their tokens, or their session) and scope (api/throttling.py):
# every route counts against "user", the external tasks' routes (an agency's system polling
# fetch-and-lock) against their own. Past it: 429 with Retry-After. Counted in the database
# (accounts.rate_limit), so shared by every process of every node; no cache server is needed.
API_THROTTLE_RATES = {
    "user": env_rate("API_RATE_LIMIT", "1200/minute"),
    "external_tasks": env_rate("API_RATE_LIMIT_EXTERNAL_TASKS", "600/minute"),
}
# The web pages and htmx fragments per signed-in user (web.page_rate_limit says why 600).
WEB_RATE_LIMIT = env_rate("WEB_RATE_LIMIT", "600/minute")
# Largest JSON body the API parses (DRF reads the stream itself, past Django's own check).
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", DATA_UPLOAD_MAX_MEMORY_SIZE)
SPECTACULAR_SETTINGS = {
    "TITLE": "Brobygger API",
    "DESCRIPTION": "Cross-agency BPMN case engine for housing work",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set: the data categories of a case, and the subset a note may have.
    "ENUM_NAME_OVERRIDES": {
        "DataCategoryEnum": "permissions.models.CATEGORIES",
        "NoteCategoryEnum": "permissions.rules.NOTE_CATEGORIES",
        "LegalBasisCategoryEnum": "permissions.rules.LEGAL_BASIS_CATEGORIES",
        "AgencyKindEnum": "permissions.models.AgencyKind",
        "CorrectionOfEnum": "retention.services.VALUES_OF",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Brobygger's own settings.
BROBYGGER: dict[str, Any] = {
    # Engine steps per state change: a model that loops without waiting for a person
    # stops here and becomes an incident instead of hanging a web request.
    "ENGINE_STEP_CAP": env_int("ENGINE_STEP_CAP", 1000),
    # A step whose saved workflow state would be larger than this becomes an incident
    # (kind state-too-large) instead of a row that makes every later read slow.
    "ENGINE_STATE_MAX_BYTES": env_int("ENGINE_STATE_MAX_BYTES", 4 * 1024 * 1024),
    # Submitted data (task data, message payloads, start data), whatever the form allows:
    # nesting depth, size as JSON, characters per text (workflows/input_limits.py).
    "SUBMITTED_DATA_MAX_DEPTH": env_int("SUBMITTED_DATA_MAX_DEPTH", 20),
    "SUBMITTED_DATA_MAX_BYTES": env_int("SUBMITTED_DATA_MAX_BYTES", 1024 * 1024),
    "SUBMITTED_TEXT_MAX_CHARS": env_int("SUBMITTED_TEXT_MAX_CHARS", 100_000),
    # Timers and task deadlines (dueIn) due "in days" (P1D, P2W, P1M, R6/P1M) fall due at
    # this wall-clock time in TIME_ZONE, on a weekday when TIMER_SKIP_WEEKENDS (a Saturday
    # or Sunday moves to the Monday) and off Norway's public holidays when TIMER_SKIP_PUBLIC_HOLIDAYS (moved to the
    # next working day); "off" keeps SpiffWorkflow's exact durations
    # (bpmn/engine/working_hours.py).
    "TIMER_WORKING_HOUR": os.environ.get("TIMER_WORKING_HOUR", "09:00").strip(),
    "TIMER_SKIP_WEEKENDS": env_bool("TIMER_SKIP_WEEKENDS", True),
    "TIMER_SKIP_PUBLIC_HOLIDAYS": env_bool("TIMER_SKIP_PUBLIC_HOLIDAYS", True),
    "DEMO_PASSWORD": os.environ.get("DEMO_PASSWORD", "brobygger-demo"),
    "CASE_REFERENCE_PREFIX": os.environ.get("CASE_REFERENCE_PREFIX", "BK"),
    # Background jobs (docs/workers.md): how often an idle worker polls (LISTEN/NOTIFY
    # wakes it sooner on PostgreSQL), how long an external call may hold its job, and how
    # failures back off: base * 2**(attempt-1) seconds, at most the cap, then an incident.
    "SITE_URL": os.environ.get("SITE_URL", "http://127.0.0.1:8000"),
    "JOB_POLL_SECONDS": env_int("JOB_POLL_SECONDS", 5),
    "JOB_LEASE_SECONDS": env_int("JOB_LEASE_SECONDS", 120),
    "JOB_MAX_ATTEMPTS": env_int("JOB_MAX_ATTEMPTS", 6),
    "JOB_BACKOFF_BASE_SECONDS": env_int("JOB_BACKOFF_BASE_SECONDS", 30),
    "JOB_BACKOFF_CAP_SECONDS": env_int("JOB_BACKOFF_CAP_SECONDS", 6 * 3600),
    "WEBHOOK_TIMEOUT_SECONDS": env_int("WEBHOOK_TIMEOUT_SECONDS", 10),
    # The workers delete jobs done or cancelled longer ago than this (docs/workers.md,
    # "Pruning"); failed jobs stay while their incidents show them.
    "JOB_DONE_KEEP_DAYS": env_int("JOB_DONE_KEEP_DAYS", 7),
    # An Idempotency-Key answers replays this long; after it a key is free again, and
    # `manage.py purge_idempotency_keys` (daily, from cron) deletes the expired rows.
    "IDEMPOTENCY_KEY_HOURS": env_int("IDEMPOTENCY_KEY_HOURS", 24),
    # Password-reset mails (web/password_reset.py, docs/security.md): within any
    # PASSWORD_RESET_WINDOW_MINUTES, at most PASSWORD_RESET_MAILS_PER_ADDRESS requests for
    # one address queue a mail (the others answer the same page and send nothing), and one
    # client (its address as django-axes reads it) makes at most
    # PASSWORD_RESET_REQUESTS_PER_CLIENT requests (the others answer 429).
    "PASSWORD_RESET_WINDOW_MINUTES": env_int("PASSWORD_RESET_WINDOW_MINUTES", 60),
    "PASSWORD_RESET_MAILS_PER_ADDRESS": env_int("PASSWORD_RESET_MAILS_PER_ADDRESS", 3),
    "PASSWORD_RESET_REQUESTS_PER_CLIENT": env_int("PASSWORD_RESET_REQUESTS_PER_CLIENT", 30),
    # A safety warning (category ``safety``: violence or threats against staff) is shown to
    # the case's participants this many days after it was recorded or last confirmed, counted
    # in Oslo calendar days (README "Safety warnings"); a form's ``"x-valid-days"`` on the
    # field sets its own. Then the others see only that a warning lapsed; the agency that
    # recorded it and the coordinator still see it, and confirm it again or remove it.
    "SAFETY_WARNING_DAYS": env_int("SAFETY_WARNING_DAYS", 365),
    # The agency that recorded a safety warning and the case's coordinator are told (by their
    # agencies' notification e-mail) this many days before it lapses, once in each time in force
    # (``workflows.jobs.safety_reminders``, queued by ``manage.py enqueue_safety_reminders``);
    # 0: never.
    "SAFETY_REMINDER_DAYS": env_int("SAFETY_REMINDER_DAYS", 14),
    # Retention (docs/data-protection.md): the defaults where no retention rule is set.
    # A closed case's data is kept this many years, then erased; the access log describing
    # it is kept this many years more with the person as a pseudonymous key; the fields of
    # these categories form the case file handed to the archive.
    # The key of the access log's pseudonyms (retention/pseudonyms.py). Falls back to
    # SECRET_KEY; set it apart so that rotating SECRET_KEY keeps old pseudonyms findable.
    "PSEUDONYM_SECRET": os.environ.get("PSEUDONYM_SECRET", "") or SECRET_KEY,
    # The key of the public ids of tasks and events (core/public_ids.py). Unset: derived from
    # SECRET_KEY (a warning in production, check workflows.W001). Changing it changes every public
    # id: stored links and partners' references to tasks and events stop working.
    "PUBLIC_ID_KEY_SET": bool(os.environ.get("PUBLIC_ID_KEY", "")),
    "PUBLIC_ID_KEY": os.environ.get("PUBLIC_ID_KEY", "")
    or hmac.new(SECRET_KEY.encode(), b"brobygger.public-id-key", hashlib.sha256).hexdigest(),
    # Where archive packages of closed cases are written (docs/data-protection.md): a
    # folder the municipality's archive system takes them from.
    "ARCHIVE_EXPORT_DIR": os.environ.get("ARCHIVE_EXPORT_DIR", str(BASE_DIR / "archive-export")),
    # Or posted to the archive's endpoint (retention/archive_endpoint.py): when the URL is
    # set, the package is POSTed there as a zip instead, signed like the webhooks with the
    # secret (HMAC-SHA256), under the webhooks' guard (no redirects; a non-public address
    # only when listed in ARCHIVE_ENDPOINT_ALLOWED_NETWORKS, e.g. "10.20.0.0/16").
    "ARCHIVE_ENDPOINT_URL": os.environ.get("ARCHIVE_ENDPOINT_URL", ""),
    "ARCHIVE_ENDPOINT_SECRET": os.environ.get("ARCHIVE_ENDPOINT_SECRET", ""),
    "ARCHIVE_ENDPOINT_ALLOWED_NETWORKS": env_list("ARCHIVE_ENDPOINT_ALLOWED_NETWORKS", ""),
    "ARCHIVE_ENDPOINT_TIMEOUT_SECONDS": env_int("ARCHIVE_ENDPOINT_TIMEOUT_SECONDS", 60),
    "RETENTION_CASE_YEARS": env_int("RETENTION_CASE_YEARS", 5),
    "RETENTION_ACCESS_LOG_YEARS": env_int("RETENTION_ACCESS_LOG_YEARS", 5),
    # What the municipality pays per day for a patient ready for discharge that it does not
    # receive (domain.md), per year; a year without a rate uses the latest earlier one.
    "DISCHARGE_DAY_RATES": env_year_amounts("DISCHARGE_DAY_RATES", "2024:5745"),
    "RETENTION_CASE_FILE_CATEGORIES": tuple(
        env_list("RETENTION_CASE_FILE_CATEGORIES", "identity,housing,coordination")
    ),
}
for _name in (
    "ENGINE_STATE_MAX_BYTES",
    "SUBMITTED_DATA_MAX_DEPTH",
    "SUBMITTED_DATA_MAX_BYTES",
    "SUBMITTED_TEXT_MAX_CHARS",
    "RETENTION_CASE_YEARS",
    "RETENTION_ACCESS_LOG_YEARS",
    "PASSWORD_RESET_WINDOW_MINUTES",
    "JOB_DONE_KEEP_DAYS",
    "PASSWORD_RESET_MAILS_PER_ADDRESS",
    "PASSWORD_RESET_REQUESTS_PER_CLIENT",
):
    if BROBYGGER[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be a positive integer")
if BROBYGGER["SAFETY_WARNING_DAYS"] < 1:
    raise ImproperlyConfigured("SAFETY_WARNING_DAYS must be at least 1")
if BROBYGGER["SAFETY_REMINDER_DAYS"] < 0:
    raise ImproperlyConfigured("SAFETY_REMINDER_DAYS must be 0 (no reminders) or more")
if BROBYGGER["TIMER_WORKING_HOUR"] != "off":
    try:
        datetime.time.fromisoformat(BROBYGGER["TIMER_WORKING_HOUR"])
    except ValueError as _exc:
        raise ImproperlyConfigured("TIMER_WORKING_HOUR must be a time such as 09:00, or off") from _exc
# Packages hold the case file (the national id among it): never where the web server serves
# files to anybody (whitenoise serves what STATIC_ROOT holds when it starts), as ATTACHMENT_DIR.
_archive_dir = Path(BROBYGGER["ARCHIVE_EXPORT_DIR"]).resolve()
for _served in (BASE_DIR / "static", STATIC_ROOT and Path(STATIC_ROOT)):
    if _served and (_archive_dir == Path(_served).resolve() or Path(_served).resolve() in _archive_dir.parents):
        raise ImproperlyConfigured("ARCHIVE_EXPORT_DIR must not be inside a folder the web server serves")
if BROBYGGER["ARCHIVE_ENDPOINT_URL"] and not BROBYGGER["ARCHIVE_ENDPOINT_URL"].startswith(("https://", "http://")):
    raise ImproperlyConfigured("ARCHIVE_ENDPOINT_URL must start with https:// or http://")
if BROBYGGER["ARCHIVE_ENDPOINT_URL"] and not BROBYGGER["ARCHIVE_ENDPOINT_SECRET"]:
    raise ImproperlyConfigured("ARCHIVE_ENDPOINT_URL is set: ARCHIVE_ENDPOINT_SECRET must be set too (the signature)")
if BROBYGGER["JOB_DONE_KEEP_DAYS"] * 24 * 60 < BROBYGGER["PASSWORD_RESET_WINDOW_MINUTES"]:
    # The password-reset page counts the requests of its window from their jobs.
    raise ImproperlyConfigured("JOB_DONE_KEEP_DAYS must cover PASSWORD_RESET_WINDOW_MINUTES")
if BROBYGGER["WEBHOOK_TIMEOUT_SECONDS"] >= BROBYGGER["JOB_LEASE_SECONDS"]:
    raise ImproperlyConfigured("WEBHOOK_TIMEOUT_SECONDS must be shorter than JOB_LEASE_SECONDS")

# Notifications: the console in development, SMTP (EMAIL_HOST...) in production.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
# A password-reset mail is a key to an account: to a mail server on another host it goes
# under TLS (STARTTLS, the certificate checked), unless EMAIL_USE_TLS=false says otherwise.
# Until 2026-12-05 no setting could turn TLS on, and the mails went to EMAIL_HOST in clear.
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # TLS from the first byte (port 465)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL and EMAIL_HOST not in ("localhost", "127.0.0.1", "::1"))
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL exclude each other: set one")
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "brobygger@localhost")
# A mail server that accepts the connection and never answers held a worker for ever (Django
# sets no timeout), and once the job's lease ran out another worker sent the same e-mail.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT_SECONDS", 10)
if not 0 < EMAIL_TIMEOUT < BROBYGGER["JOB_LEASE_SECONDS"]:
    raise ImproperlyConfigured("EMAIL_TIMEOUT_SECONDS must be above 0 and shorter than JOB_LEASE_SECONDS")

# JSON lines unless DEBUG (ops/logs.py); LOG_FORMAT=json|text overrides.
LOG_FORMAT = os.environ.get("LOG_FORMAT") or ("text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, got {LOG_FORMAT!r}")
LOGGING = logging_config(json_lines=LOG_FORMAT == "json", level=os.environ.get("LOG_LEVEL", "INFO"))


# === Sign-in and security (issue 11; what each does and what to set: docs/security.md) ===
from datetime import timedelta  # noqa: E402

from csp.constants import NONE, SELF  # noqa: E402


def _insert_after(items: list[str], anchor: str, *new: str) -> None:
    position = items.index(anchor) + 1
    items[position:position] = new


INSTALLED_APPS += [
    "config.library_apps.KnoxConfig",  # these three under names in bokmål (config/library_apps.py)
    "config.library_apps.AxesConfig",
    "django_otp",
    "config.library_apps.TOTPConfig",
    "mozilla_django_oidc",
    "csp",
    "accounts",
]
# django-csp's, the header built once (config/content_security.py).
_insert_after(MIDDLEWARE, "django.middleware.security.SecurityMiddleware", "config.content_security.CSPMiddleware")
_insert_after(
    MIDDLEWARE,
    "accounts.middleware.AuthenticationMiddleware",
    "accounts.middleware.OTPMiddleware",  # django-otp's, the device read compiled once
    "accounts.middleware.SecondFactorMiddleware",
    "accounts.middleware.SingleSignOnRecheck",  # single sign-on sessions asked again (docs/security.md)
    "web.page_rate_limit.PageRateLimit",  # WEB_RATE_LIMIT per signed-in user, after the sign-in checks
)
# Django's database sessions, the session row read by a statement compiled once.
SESSION_ENGINE = "accounts.sessions"
MIDDLEWARE.append("accounts.middleware.DeviceCookieMiddleware")  # a whole sign-in's device cookie
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as django-axes requires

# HTTPS: on in production (HTTPS=true sets all of these; each can be set on its own).
# Off by default so that `make run` and the tests work over plain http on 127.0.0.1.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients).
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# A refused token answers in the reader's language, not Django's English page (web.pages).
CSRF_FAILURE_VIEW = "web.pages.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
# The CSRF token reaches scripts through the page (hx-headers, the editor's form field),
# never through document.cookie.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Sessions end after this long without a request and when the browser closes. A request
# starts the period again, saving the session at most once a SESSION_REFRESH_SECONDS
# (config.session_refresh), not on every page view.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_REFRESH_SECONDS = env_int("SESSION_REFRESH_SECONDS", 60)
if not 0 <= SESSION_REFRESH_SECONDS < SESSION_COOKIE_AGE:
    raise ImproperlyConfigured("SESSION_REFRESH_SECONDS must be at least 0 and shorter than the idle time")
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Content-Security-Policy (django-csp): only our own scripts, styles, fonts and images; no
# inline script anywhere (bpmn-js and htmx are files; page data travels in json_script).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# API tokens (django-rest-knox): stored as digests, expire, revocable (docs/security.md).
API_TOKEN_HOURS = env_int("API_TOKEN_HOURS", 8)
# API keys of service accounts (an agency's system: manage.py service_key, no password sign-in).
API_SERVICE_KEY_DAYS = env_int("API_SERVICE_KEY_DAYS", 90)
if API_TOKEN_HOURS < 1 or API_SERVICE_KEY_DAYS < 1:
    raise ImproperlyConfigured("API_TOKEN_HOURS and API_SERVICE_KEY_DAYS must be at least 1")
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

# Lockout (django-axes, accounts.lockout.LockoutHandler) for the web login, the admin login
# and POST /api/v1/auth/token/, two locks (docs/security.md, "Lockout"):
# - a username from one client address: after LOGIN_FAILURE_LIMIT wrong passwords or
#   one-time codes it is refused from that address for LOGIN_COOLOFF_MINUTES (admins lift it
#   in the admin: Axes > Access attempts). Tries while locked do not make the lock longer.
# - a username from every address together: LOGIN_USERNAME_FAILURE_LIMIT failures per
#   LOGIN_USERNAME_PERIOD_MINUTES, a token bucket (accounts.rate_limit): once they are spent the
#   username is refused from everywhere until one is back (every period / limit).
# - a browser the user signed in with before (its device cookie, accounts.device_cookies,
#   kept LOGIN_DEVICE_DAYS) is held by neither: its own failures lock it alone, after
#   LOGIN_DEVICE_FAILURE_LIMIT per LOGIN_COOLOFF_MINUTES. At most LOGIN_DEVICES_PER_USER are kept.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_COOLOFF_MINUTES = env_int("LOGIN_COOLOFF_MINUTES", 15)
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
LOGIN_DEVICE_DAYS = env_int("LOGIN_DEVICE_DAYS", 90)
LOGIN_DEVICE_FAILURE_LIMIT = env_int("LOGIN_DEVICE_FAILURE_LIMIT", 5)
LOGIN_DEVICES_PER_USER = env_int("LOGIN_DEVICES_PER_USER", 20)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HANDLER = "accounts.lockout.LockoutHandler"
LOGIN_USERNAME_FAILURE_LIMIT = env_int("LOGIN_USERNAME_FAILURE_LIMIT", 20)
LOGIN_USERNAME_PERIOD_MINUTES = env_int("LOGIN_USERNAME_PERIOD_MINUTES", 60)
if (
    min(
        AXES_FAILURE_LIMIT,
        LOGIN_COOLOFF_MINUTES,
        LOGIN_USERNAME_FAILURE_LIMIT,
        LOGIN_USERNAME_PERIOD_MINUTES,
        LOGIN_DEVICE_DAYS,
        LOGIN_DEVICE_FAILURE_LIMIT,
        LOGIN_DEVICES_PER_USER,
    )
    < 1
):
    raise ImproperlyConfigured(
        "LOGIN_FAILURE_LIMIT, LOGIN_COOLOFF_MINUTES, LOGIN_USERNAME_FAILURE_LIMIT, LOGIN_USERNAME_PERIOD_MINUTES, "
        "LOGIN_DEVICE_DAYS, LOGIN_DEVICE_FAILURE_LIMIT and LOGIN_DEVICES_PER_USER must be at least 1"
    )
# Not axes' own clearing at every login: a password that still owes its one-time code has
# not signed in. accounts.lockout clears the count after a whole sign-in.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Never stored in the attempt rows: the password fields of the login, the one-time code, the
# current and new passwords of the password-change pages (a wrong current password counts),
# and the typed username: the rows and the log lines name the user as accounts.lockout's
# attempted_username gives it (a name that is no account only as a keyed digest).
AXES_SENSITIVE_PARAMETERS = ["password", "otp", "old_password", "new_password1", "new_password2", "username"]
AXES_USERNAME_CALLABLE = "accounts.lockout.attempted_username"
AXES_CLIENT_STR_CALLABLE = "accounts.lockout.client_str"
# The client's address (axes' records, the password reset's per-client count): the last
# X-Forwarded-For hop not added by a proxy of WEB_FORWARDED_ALLOW_IPS (the proxies gunicorn
# trusts too), else REMOTE_ADDR, which behind nginx is nginx's own for every request.
FORWARDED_ALLOW_IPS = env_list("WEB_FORWARDED_ALLOW_IPS", "127.0.0.1")
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
AXES_VERBOSE = False
# Every failed sign-in is kept in axes' log of failures (Axes > Access failures: the username as
# attempted_username gives it, the address, the path, the time, whether it locked), a known
# browser's too (accounts.lockout): the attempt rows are the locks' counts and expire with them.
# At most AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT (1,000) per username. The job workers delete
# (accounts.failure_log, every few minutes) rows older than LOGIN_FAILURE_LOG_DAYS and, of names
# that are no account (a digest each: names are the client's to choose, so their number has no
# bound), all but the newest LOGIN_FAILURE_LOG_UNKNOWN_ROWS (docs/security.md, "Lockout").
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT = 1000  # axes' default, stated: the refused tries' bound reads it too
LOGIN_FAILURE_LOG_DAYS = env_int("LOGIN_FAILURE_LOG_DAYS", 90)
LOGIN_FAILURE_LOG_UNKNOWN_ROWS = env_int("LOGIN_FAILURE_LOG_UNKNOWN_ROWS", 10_000)
if LOGIN_FAILURE_LOG_DAYS < 1 or LOGIN_FAILURE_LOG_UNKNOWN_ROWS < 1:
    raise ImproperlyConfigured("LOGIN_FAILURE_LOG_DAYS and LOGIN_FAILURE_LOG_UNKNOWN_ROWS must be at least 1")
# Tries refused while a lock holds test nothing and are not in axes' log: accounts.lockout keeps
# them (Sign-in > sign-ins refused during a lock), one row per username and address per run of
# tries with a count, at most AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT rows per username, rows
# older than LOGIN_REFUSED_LOG_DAYS deleted as new ones are made.
LOGIN_REFUSED_LOG_DAYS = env_int("LOGIN_REFUSED_LOG_DAYS", 90)
if LOGIN_REFUSED_LOG_DAYS < 1:
    raise ImproperlyConfigured("LOGIN_REFUSED_LOG_DAYS must be at least 1")

# Two-factor sign-in (django-otp, TOTP) for password logins of every user with a role
# (permissions.rules.needs_second_factor). On unless DEBUG, i.e. off for `make run`.
REQUIRE_TWO_FACTOR = env_bool("REQUIRE_TWO_FACTOR", not DEBUG)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Brobygger")
# A device is set up only through an administrator's one-time link (accounts.enrolment),
# which works this many hours.
TWO_FACTOR_ENROLMENT_HOURS = env_int("TWO_FACTOR_ENROLMENT_HOURS", 72)
if TWO_FACTOR_ENROLMENT_HOURS < 1:
    raise ImproperlyConfigured("TWO_FACTOR_ENROLMENT_HOURS must be a positive integer")
# The admin never shows a device's key or QR code: whoever read it (an admin, or a helpdesk
# account allowed to view devices to delete a lost phone's) would hold the user's second factor.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# OpenID Connect single sign-on (mozilla-django-oidc): on when OIDC_RP_CLIENT_ID is set.
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_ISSUER = os.environ.get("OIDC_OP_ISSUER", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("OIDC_RP_SCOPES", "openid profile email groups")
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups")
OIDC_USE_PKCE = True
# Every OIDC_OP_* URL must be https:// (check accounts.E001, run by migrate and serve) unless
# DEBUG is on; this allows http:// on the loopback address only, for a test provider.
OIDC_ALLOW_HTTP = env_bool("OIDC_ALLOW_HTTP", False)
# A single sign-on session is checked with the provider again after this long (prompt=none:
# groups applied again, or the session ended): accounts.middleware.SingleSignOnRecheck.
OIDC_RECHECK_MINUTES = env_int("OIDC_RECHECK_MINUTES", 15)
if OIDC_RECHECK_MINUTES < 1:
    raise ImproperlyConfigured("OIDC_RECHECK_MINUTES must be at least 1")
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = OIDC_RECHECK_MINUTES * 60
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10)
OIDC_AUTHENTICATE_CLASS = "accounts.views.SingleSignOnStart"
OIDC_CALLBACK_CLASS = "accounts.views.SingleSignOnCallback"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=failed"
if OIDC_RP_CLIENT_ID and not all(
    (
        OIDC_OP_ISSUER,
        OIDC_OP_AUTHORIZATION_ENDPOINT,
        OIDC_OP_TOKEN_ENDPOINT,
        OIDC_OP_USER_ENDPOINT,
        OIDC_OP_JWKS_ENDPOINT,
    )
):
    raise ImproperlyConfigured(
        "OIDC_RP_CLIENT_ID is set: OIDC_OP_ISSUER and the authorization, token, user and JWKS endpoints "
        "(OIDC_OP_*_ENDPOINT) must be set too"
    )

# Webhooks go only to public addresses (resolved at send time); internal networks an
# agency's system lives on are listed here, e.g. "10.20.0.0/16" (workflows/webhook_transport.py).
WEBHOOK_ALLOWED_NETWORKS = env_list("WEBHOOK_ALLOWED_NETWORKS", "")
try:
    import ipaddress as _ipaddress

    for _network in WEBHOOK_ALLOWED_NETWORKS:
        _ipaddress.ip_network(_network, strict=False)
except ValueError as _exc:
    raise ImproperlyConfigured(f"WEBHOOK_ALLOWED_NETWORKS: {_exc}") from _exc

# Django's debug page shows the local variables of every frame, the workflow state among
# them: the reporter below shows the stack only (config/error_reporter.py), with DEBUG on too.
DEFAULT_EXCEPTION_REPORTER = "config.error_reporter.StatelessExceptionReporter"
# === end of sign-in and security ===


# === Operations (issue 12): server, database connections, request ids, health, metrics;
# docs/deploy.md ===
INSTALLED_APPS += ["django_guid", "ops"]
# First: every later middleware, view and log line sees the request id; then the timing of
# the whole request for the latency metrics and the one log line per request.
# django-guid's middleware as configured here, its settings read once (ops/request_id.py).
MIDDLEWARE[:0] = ["ops.request_id.RequestIdMiddleware", "ops.middleware.RequestMetrics"]
# X-Request-ID from the proxy (nginx's $request_id) is kept when it is a UUID, else a new one.
DJANGO_GUID = {"GUID_HEADER_NAME": "X-Request-ID", "VALIDATE_GUID": True, "EXPOSE_HEADER": False}
# One JSON line per request (method, route, status, milliseconds, request id; no user data).
LOG_REQUESTS = env_bool("LOG_REQUESTS", not DEBUG)
# /metrics answers only with "Authorization: Bearer <METRICS_TOKEN>"; unset, it is off (404).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
if METRICS_TOKEN and len(METRICS_TOKEN) < 24:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 24 characters (or unset to turn /metrics off)")
# Load balancers probe the nodes directly over plain HTTP: health and metrics never redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]


# === Notes and attachments on a case (workflows/notes.py) ===
# Largest attachment accepted (a signed consent, a tenancy contract: PDF, PNG or JPEG). A
# multipart request larger than this and ATTACHMENT_FORM_SLACK_BYTES for the other fields
# is refused with 413 before it is read (config/upload_guard.py).
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
ATTACHMENT_FORM_SLACK_BYTES = 64 * 1024
if ATTACHMENT_MAX_BYTES < 1:
    raise ImproperlyConfigured("ATTACHMENT_MAX_BYTES must be a positive integer")
# What one agency may hold in one case (its own files only: docs/security.md): files kept
# (withdrawn ones are deleted) and files ever added (withdrawn ones keep their row and
# timeline event). Without them a participant could add
# 10 MB after 10 MB to one case until the database's disk, shared by every agency, was full.
ATTACHMENT_CASE_MAX_BYTES = env_int("ATTACHMENT_CASE_MAX_BYTES", 200 * 1024 * 1024)
ATTACHMENT_CASE_MAX_COUNT = env_int("ATTACHMENT_CASE_MAX_COUNT", 300)
if ATTACHMENT_CASE_MAX_BYTES < ATTACHMENT_MAX_BYTES or ATTACHMENT_CASE_MAX_COUNT < 1:
    raise ImproperlyConfigured(
        "ATTACHMENT_CASE_MAX_BYTES must be at least ATTACHMENT_MAX_BYTES, ATTACHMENT_CASE_MAX_COUNT at least 1"
    )
# Notes, as files: what one agency may write in one case (its own notes only). Notes added
# (withdrawn ones counted: their text stays in the history) and corrections made; characters
# of every text its notes have had, earlier versions included; corrections of one note. A real case holds
# tens of notes, a long one a few hundred; without these a participant (or a script with
# a token) could write 4,000-character notes, or correct one note, for ever.
NOTE_CASE_MAX_COUNT = env_int("NOTE_CASE_MAX_COUNT", 5000)
NOTE_CASE_MAX_CHARS = env_int("NOTE_CASE_MAX_CHARS", 5_000_000)
NOTE_MAX_CORRECTIONS = env_int("NOTE_MAX_CORRECTIONS", 200)
if min(NOTE_CASE_MAX_COUNT, NOTE_MAX_CORRECTIONS) < 1 or NOTE_CASE_MAX_CHARS < 4000:
    raise ImproperlyConfigured(
        "NOTE_CASE_MAX_COUNT and NOTE_MAX_CORRECTIONS must be at least 1, NOTE_CASE_MAX_CHARS at least 4000"
    )
# Sharings (consents and legal bases) recorded in one case, revoked ones counted, and
# corrections of one case's values: a real case has tens of each.
CONSENT_CASE_MAX_COUNT = env_int("CONSENT_CASE_MAX_COUNT", 1000)
CORRECTION_CASE_MAX_COUNT = env_int("CORRECTION_CASE_MAX_COUNT", 1000)
if min(CONSENT_CASE_MAX_COUNT, CORRECTION_CASE_MAX_COUNT) < 1:
    raise ImproperlyConfigured("CONSENT_CASE_MAX_COUNT and CORRECTION_CASE_MAX_COUNT must be at least 1")
# Claims of one task by one user (taking it, taking it over, or a lead handing it on): each is
# an event of the case's timeline, which the archive's case file lays out row by row (about 5 ms
# of a worker's CPU each). Taking and releasing a task for ever made a case file no worker could
# finish. A release needs a claim before it, so a user's events on a task are at most twice this
# a day (a day, not the task's life: a long follow-up task is taken every morning).
TASK_CLAIMS_PER_USER = env_int("TASK_CLAIMS_PER_USER", 50)
if TASK_CLAIMS_PER_USER < 1:
    raise ImproperlyConfigured("TASK_CLAIMS_PER_USER must be at least 1")
# Messages one agency sends into one case (each an event, and each caught by a non-interrupting
# boundary a branch the engine's state keeps: about 2.4 KB a catch, so ENGINE_STATE_MAX_BYTES
# (4 MB) was reached after some 1,750 catches and the whole case stopped with an incident), and
# changes of a case's responsible housing contact by one lead (each an event). A real case gets
# a handful of new dates and arrears reports, and a new contact a few times a year.
CASE_MESSAGES_PER_AGENCY = env_int("CASE_MESSAGES_PER_AGENCY", 200)
CASE_RESPONSIBLE_CHANGES_PER_USER = env_int("CASE_RESPONSIBLE_CHANGES_PER_USER", 100)
if min(CASE_MESSAGES_PER_AGENCY, CASE_RESPONSIBLE_CHANGES_PER_USER) < 1:
    raise ImproperlyConfigured("CASE_MESSAGES_PER_AGENCY and CASE_RESPONSIBLE_CHANGES_PER_USER must be at least 1")
# Where the bytes live: the database by default (workflows/attachment_storage.py says why),
# or this folder, which must be absolute and outside anything a web server serves.
ATTACHMENT_DIR = os.environ.get("ATTACHMENT_DIR", "")
if ATTACHMENT_DIR:
    _attachment_dir = Path(ATTACHMENT_DIR)
    if not _attachment_dir.is_absolute():
        raise ImproperlyConfigured("ATTACHMENT_DIR must be an absolute path")
    for _served in (BASE_DIR / "static", STATIC_ROOT and Path(STATIC_ROOT)):
        if _served and (_attachment_dir == Path(_served) or Path(_served) in _attachment_dir.parents):
            raise ImproperlyConfigured("ATTACHMENT_DIR must not be inside a folder the web server serves")
    _ATTACHMENT_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": ATTACHMENT_DIR,
            "base_url": None,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
else:
    _ATTACHMENT_STORAGE = {"BACKEND": "workflows.attachment_storage.DatabaseStorage"}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "attachments": _ATTACHMENT_STORAGE,
}
# Before anything reads a posted form: multipart bodies get the attachment limit.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
    "config.upload_guard.UploadLimitMiddleware",
)
# === end of notes and attachments ===


# === Break-glass (permissions.BreakGlass, docs/security.md) ===
# How long an emergency opening of a masked category lasts: hours, never days (1 to 24).
BREAK_GLASS_HOURS = env_int("BREAK_GLASS_HOURS", 4)
if not 1 <= BREAK_GLASS_HOURS <= 24:
    raise ImproperlyConfigured("BREAK_GLASS_HOURS must be between 1 and 24 (hours, not days)")
# Emergency openings one user makes in one case, ended and expired ones counted: each is a row
# in the auditors' review list and in the person's access report. Opening and ending one in a
# loop filled the list an auditor must go through; a real case sees one or two.
BREAK_GLASS_PER_USER_CASE = env_int("BREAK_GLASS_PER_USER_CASE", 50)
if BREAK_GLASS_PER_USER_CASE < 1:
    raise ImproperlyConfigured("BREAK_GLASS_PER_USER_CASE must be at least 1")

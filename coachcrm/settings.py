"""CoachCRM settings: one file, driven by environment variables.

With nothing set, CoachCRM runs embedded: a SQLite file, Celery tasks run in-process,
e-mail printed to the console and DEBUG on. Every variable is listed in `.env.example`.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
import xstatic.pkg.bootstrap
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off CoachCRM needs the SECRET_KEY environment "
            "variable (a long random string)."
        )
    SECRET_KEY = "django-insecure-embedded-mode-only"  # noqa: S105 - only ever used with DEBUG on

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_filters",
    "simple_history",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "team",
    "webhooks",
    "accounts",
    "coaches",
    "pipeline",
    "service_catalog",
    "agenda",
    "departures",
    "demo",  # seed_demo and seed_scale: the one app that imports every other
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csvio",
    "coachcrm",  # its template tags ({% load crm %})
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside the others, so that even their errors under /api/ answer JSON.
    "coachcrm.api_errors.ApiErrorsMiddleware",
    "csp.middleware.CSPMiddleware",
    "coachcrm.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "coachcrm.security.SessionIdleTimeoutMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "team.middleware.UserLanguageMiddleware",
    "team.middleware.MfaRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: a page whose write left its background jobs waiting says so.
    "coachcrm.middleware.JobsDelayedMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes goes last so that it sees the outcome of every login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "coachcrm.urls"
WSGI_APPLICATION = "coachcrm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "coachcrm.context_processors.crm",
            ],
            # `coachcrm` is not an installed app, so its tag library is registered by name.
        },
    },
]

# Django's form renderer, with <select> written without a template include per option.
FORM_RENDERER = "coachcrm.renderers.FastSelectRenderer"

# --- Database -------------------------------------------------------------------------------
# Embedded: a SQLite file in WAL mode. IMMEDIATE transactions take the write lock at BEGIN,
# so concurrent writers queue (up to the timeout) instead of failing half-way through with
# "database is locked" when a read transaction tries to upgrade to a write.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # No JIT: its compile step cost the board 1.5 s for a few hundred rows (bench/README.md);
        # short OLTP queries never earn it back.
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": ("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"),
            },
            # Tests use a file, not memory: an in-memory SQLite database belongs to one
            # connection, and the concurrency tests need threads with their own connections.
            "TEST": {"NAME": os.environ.get("SQLITE_TEST_PATH", str(BASE_DIR / "test-db.sqlite3"))},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# "SQLite does not support indexes with non-key columns": the dashboard's covering index on stage
# changes (pipeline.models, `stagechange_owner_at`) is an index-only scan on PostgreSQL; SQLite
# builds it on its key columns, which serves the same queries there.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Cache ----------------------------------------------------------------------------------
# Embedded: each process keeps its own. With several web workers or hosts set CACHE_URL to a
# Redis database, so that what is counted in the cache (the API's throttling) is counted once.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            # A Redis that is away answers within a second, not after the request timed out; what
            # counts in the cache (API throttling) then lets requests through (coachcrm.throttling).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
# How long a costly report (the dashboard) is kept in the cache under the data versions of the
# tables it reads (coachcrm.versions): any write to them makes the next view recompute it, so
# this bounds only what a write the database watch cannot see (another program's) leaves
# stale. 0 computes every view.
REPORT_CACHE_SECONDS = int(os.environ.get("REPORT_CACHE_SECONDS", "900"))
# Sessions live in the database, never in the cache: a cache outage must not sign everybody out.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Messages in the session, not in a cookie (Django's default tries a cookie first): a message may
# carry a secret shown once (a new webhook's signing secret in the admin), which must not travel
# to the browser and back in a readable, merely signed, cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- Users and login ------------------------------------------------------------------------
AUTH_USER_MODEL = "team.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "team.backends.CrmBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Roles that must sign in with a second factor (TOTP): asked to set it up at their next login.
# Embedded (DEBUG) installs are for trying CoachCRM out: the demo admin signs in with his password alone.
MFA_REQUIRED_ROLES = env_list("MFA_REQUIRED_ROLES", "" if DEBUG else "admin")
# The authenticator apps show this name next to the code.
OTP_TOTP_ISSUER = "CoachCRM"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed logins are throttled per user name and address together, so one attacker cannot
# lock a colleague out from another desk.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_MINUTES", "15")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["coachcrm.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

CRM_CURRENCY = os.environ.get("CRM_CURRENCY", "EUR")
# A coach with no interaction for this many days is stale.
COACH_STALE_DAYS = int(os.environ.get("COACH_STALE_DAYS", "60"))
# A coach whose criteria nobody confirmed for this many days is unverified.
COACH_UNVERIFIED_DAYS = int(os.environ.get("COACH_UNVERIFIED_DAYS", "90"))
# A coach whose verification expires within this many days is on his holders' work list.
COACH_VERIFY_WARN_DAYS = int(os.environ.get("COACH_VERIFY_WARN_DAYS", "14"))
# A coach with no interaction for this many days lapses (and the account's gated deals may go back).
COACH_LAPSE_DAYS = int(os.environ.get("COACH_LAPSE_DAYS", "120"))
# A handover opened by a rep's departure is due this many days later.
HANDOVER_DUE_DAYS = int(os.environ.get("HANDOVER_DUE_DAYS", "14"))

# --- Static files ---------------------------------------------------------------------------
# Bootstrap comes from the XStatic-Bootstrap package and htmx from django-htmx: nothing
# third-party is copied into the repository and no page needs a CDN.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static", ("bootstrap", xstatic.pkg.bootstrap.BASE_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Celery ---------------------------------------------------------------------------------
# Without a broker, tasks run in-process (eagerly) so the embedded mode needs no service.
# Jobs are enqueued only through the outbox (coachcrm.jobs), delivered at least once; every task
# is idempotent by its key, which is what makes the settings below safe.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Ack a message when its task has finished, not when it starts: a worker that dies mid-job
# leaves the message to be delivered again instead of losing the job.
CELERY_TASK_ACKS_LATE = True
# ... and that includes a pool process killed by a signal (kill -9, the OOM killer): without
# this Celery acks such a message (the job is lost); with it the message is requeued at once.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message reserved at a time: with late acks, a prefetched message sits unacknowledged on a
# worker that may be busy (or dying) for long.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The hard limit kills a stuck job (and, with the two settings above, redelivers it); the soft
# limit lets it raise and roll back cleanly first. No task may set a longer hard limit than
# CELERY_TASK_TIME_LIMIT (tests/coachcrm/test_jobs.py checks), because of the visibility timeout below.
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis redelivers a message nobody acknowledged after this many seconds (a whole worker
    # killed, a host lost). Longer than the longest hard time limit, or a job still running
    # would be handed to a second worker; ten minutes, not Redis's default hour, so a lost
    # worker's job comes back soon.
    "visibility_timeout": 600,
    # Publishing to a Redis that is away fails fast; the outbox keeps the job meanwhile.
    "socket_connect_timeout": 2,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The admin home page warns when a background job has waited longer than this (broker or worker away).
JOBS_WARN_MINUTES = int(os.environ.get("JOBS_WARN_MINUTES", "5"))
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {}
# The outbox's relay: jobs a broker outage kept waiting are sent within half a minute of its return.
CELERY_BEAT_SCHEDULE["jobs-relay"] = {
    "task": "coachcrm.tasks.jobs_relay_task",
    "schedule": 30,
}
# Sent jobs are kept this long (for the admin's job list), then pruned daily; waiting and failed ones stay.
JOBS_RETENTION_DAYS = int(os.environ.get("JOBS_RETENTION_DAYS", "14"))
CELERY_BEAT_SCHEDULE["jobs-prune"] = {
    "task": "coachcrm.tasks.jobs_prune_task",
    "schedule": 60 * 60 * 24,
}
# `manage.py run_scheduled` runs every entry in-process (embedded mode has no beat).
CELERY_BEAT_SCHEDULE["coaches-lapse-untouched"] = {
    "task": "coaches.tasks.coaches_lapse_untouched_task",
    "schedule": 60 * 60 * 6,
}
# A coach is real only while he works there: end those whose position has ended (a future end date's day).
CELERY_BEAT_SCHEDULE["coaches-end-departed"] = {
    "task": "coaches.tasks.coaches_end_departed_task",
    "schedule": 60 * 60,
}
# The funnel stays true: send back deals standing in a gated stage without what it requires (after the above).
CELERY_BEAT_SCHEDULE["pipeline-gate-sweep"] = {
    "task": "pipeline.tasks.gate_sweep_task",
    "schedule": 60 * 60,
}
# Nightly: the dashboard's visit facts of every stage change, recomputed (the services keep them;
# this catches any write around them).
CELERY_BEAT_SCHEDULE["pipeline-dashboard-facts-rebuild"] = {
    "task": "pipeline.tasks.dashboard_facts_rebuild_task",
    "schedule": crontab(hour=3, minute=30),
}
# The kept visible accounts mended where a write around the services left them drifting.
CELERY_BEAT_SCHEDULE["coaches-visible-repair"] = {
    "task": "coaches.tasks.visible_repair_task",
    "schedule": crontab(hour=3, minute=40),
}
# Departures: depart reps whose date has come, enqueue flagging a broker outage missed, close done handovers.
# The tasks live in departures/tasks.py and keep their `team.tasks.` names (queued messages know them so).
CELERY_BEAT_SCHEDULE["team-departures"] = {
    "task": "team.tasks.departures_sweep_task",
    "schedule": 60 * 60 * 24,
}
# E-mails still waiting (a broker outage, a mail server down): sent again.
CELERY_BEAT_SCHEDULE["team-emails-retry"] = {
    "task": "team.tasks.emails_retry_task",
    "schedule": 60 * 15,
}
# The login audit: events older than SECURITY_EVENTS_KEEP_DAYS are deleted.
CELERY_BEAT_SCHEDULE["team-security-events-prune"] = {
    "task": "team.tasks.security_events_prune_task",
    "schedule": 60 * 60 * 24,
}
CELERY_BEAT_SCHEDULE["team-handover-reminders"] = {
    "task": "team.tasks.handovers_remind_task",
    "schedule": 60 * 60 * 24,
}
# The rep's day: each person's digest of today's tasks and coaches to touch, at DIGEST_HOUR in TIME_ZONE
# (run_scheduled from an hourly cron sends it on its first run from that hour; once a day either way).
DIGEST_HOUR = int(os.environ.get("DIGEST_HOUR", "8"))
CELERY_BEAT_SCHEDULE["agenda-digests"] = {
    "task": "agenda.tasks.digests_send_task",
    "schedule": crontab(hour=DIGEST_HOUR, minute=0),
}
# The `task.due` webhook event, on the day a task falls due (once per task and due date, so hourly is safe).
# A day the job did not run (embedded mode idle, the worker down) is caught up by the next run for
# tasks due up to TASK_DUE_CATCHUP_DAYS days earlier; older ones are not announced late.
TASK_DUE_CATCHUP_DAYS = max(0, int(os.environ.get("TASK_DUE_CATCHUP_DAYS", "3")))
CELERY_BEAT_SCHEDULE["agenda-tasks-due"] = {
    "task": "agenda.tasks.tasks_due_emit_task",
    "schedule": 60 * 60,
}
# CSV imports: requeue a large file's confirmation whose job was lost (a killed worker).
CELERY_BEAT_SCHEDULE["csvio-import-batches-resume"] = {
    "task": "csvio.import_batches_resume",
    "schedule": 60 * 5,
}
# Webhooks: send the deliveries whose retry has come (and any whose message was lost).
CELERY_BEAT_SCHEDULE["webhooks-deliver-due"] = {
    "task": "webhooks.tasks.webhooks_deliver_due_task",
    "schedule": 60,
}
# Delivered webhook deliveries are kept this long in the log (redeliverable), then pruned daily;
# pending and failed ones stay.
WEBHOOK_DELIVERIES_RETENTION_DAYS = int(os.environ.get("WEBHOOK_DELIVERIES_RETENTION_DAYS", "30"))
CELERY_BEAT_SCHEDULE["webhooks-deliveries-prune"] = {
    "task": "webhooks.tasks.deliveries_prune_task",
    "schedule": 60 * 60 * 24,
}
# Webhook targets on private, loopback and link-local addresses are refused (SSRF) unless this is
# on: for a receiver on the same machine while trying it out, never in production.
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", False)

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CoachCRM <coachcrm@localhost>")
# Where users reach CoachCRM: links in e-mails are built from it (a mail client cannot open a path).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# Tries of one e-mail before it is marked failed (admins see failures under E-mails in the admin site).
EMAIL_MAX_ATTEMPTS = int(os.environ.get("EMAIL_MAX_ATTEMPTS", "5"))
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))

# --- Security (production) ------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# A session unused for this long is logged out (the idle timeout; activity pushes it back).
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "480"))
# The login audit (admins: Team > Security events) keeps this many days; older events are pruned daily.
SECURITY_EVENTS_KEEP_DAYS = int(os.environ.get("SECURITY_EVENTS_KEEP_DAYS", "365"))

# --- Content-Security-Policy (django-csp) ---------------------------------------------------
# Everything comes from this site: no inline script or style anywhere (handlers live in
# static/coachcrm/app.js, htmx is told not to inject styles or evaluate code), no frames, forms
# post only here. `data:` images are Bootstrap's and Swagger UI's SVG icons inside their CSS.
# CSP_REPORT_ONLY=true sends the same policy as report-only (to try a change on production
# without breaking a page); violations are logged by /csp-report/ either way.
# (Not a setting named CSP_REPORT_ONLY: django-csp refuses its 3.x names.)
_csp_report_only = env_bool("CSP_REPORT_ONLY", False)
_CSP_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "report-uri": "/csp-report/",
    }
}
CONTENT_SECURITY_POLICY = None if _csp_report_only else _CSP_POLICY
CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP_POLICY if _csp_report_only else None

# --- API ----------------------------------------------------------------------------------
# Token first, so that an anonymous request is told how to authenticate (401, not 403).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "team.backends.CrmTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Pagination and the schema class are set on coachcrm.api's base views (that module
    # imports DRF's views, which read these settings on import).
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "coachcrm.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON with a nesting limit; forms for the browsable clients that post them.
    "DEFAULT_PARSER_CLASSES": [
        "coachcrm.parsers.CrmJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "coachcrm.throttling.CrmUserRateThrottle",
        "coachcrm.throttling.CrmAnonRateThrottle",
    ],
    # Per user (all his tokens together) and, before login, per address.
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("API_RATE_USER", "2000/hour"),
        "anon": os.environ.get("API_RATE_ANON", "60/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# API tokens (django-rest-knox): stored hashed, one per client, expiring after this many hours
# without use (each use pushes the expiry back). Old `rest_framework.authtoken` rows are ignored.
REST_KNOX = {
    "TOKEN_TTL": datetime.timedelta(hours=int(os.environ.get("API_TOKEN_TTL_HOURS", "720"))),
    "AUTO_REFRESH": True,
    # Live tokens per user: a script that logs in on every run without logging out is told so.
    "TOKEN_LIMIT_PER_USER": 10,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CoachCRM API",
    "DESCRIPTION": "Accounts, contacts, coaches, pipeline, grants, team. Send `Authorization: Token <token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the drf-spectacular-sidecar package: /api/docs/ works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `status`: one enum name each in the schema.
    "ENUM_NAME_OVERRIDES": {
        "CoachStatusEnum": "coaches.models.Coach.Status",
        "OpportunityStatusEnum": "pipeline.models.Opportunity.Status",
        "GrantStatusEnum": "service_catalog.models.Grant.Status",
        "HandoverStatusEnum": "coaches.models.Handover.Status",
        "UserStatusEnum": "team.models.User.Status",
        "CommitteeRoleEnum": "pipeline.models.OpportunityContact.Role",
        "UserRoleEnum": "team.models.User.Role",
        "WebhookEventEnum": "webhooks.models.Event",
        "SecurityEventKindEnum": "team.models.SecurityEvent.Kind",
        "TaskKindEnum": "agenda.models.Task.Kind",
        "KindEnum": "coaches.models.Interaction.Kind",  # its name before the audit had a kind too
    },
}
# The largest request body the API reads (a 413 beyond it); CSV files go through the import pages.
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(1024 * 1024)))
# A CSV upload is kept between its dry run and its confirmation; this bounds it. 32 MB: a
# 200,000-row contacts file of six columns is 17 MB (the issue's size had to be split at 10 MB).
CSV_IMPORT_MAX_BYTES = int(os.environ.get("CSV_IMPORT_MAX_BYTES", str(32 * 1024 * 1024)))
# A file with more rows than this is confirmed by a background job (the page shows its progress).
CSV_IMPORT_BACKGROUND_ROWS = int(os.environ.get("CSV_IMPORT_BACKGROUND_ROWS", "2000"))
# A confirmation writes its rows this many at a time (a fixed number of queries each), checking
# for a cancel and reporting progress between them.
CSV_IMPORT_WRITE_ROWS = int(os.environ.get("CSV_IMPORT_WRITE_ROWS", "2000"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

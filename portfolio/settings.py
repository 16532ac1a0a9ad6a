"""Settings for Pilot Portfolio, read from environment variables only.

Unset variables fall back to the embedded default: SQLite, Celery's filesystem
transport and file email under ``var/``, so a fresh clone runs with no servers.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
# ENV_FILE= (empty) skips it: the tests that check the refusal to start use that.
env_file = Path(environ.Env().str("ENV_FILE", default=str(BASE_DIR / ".env")))
if env_file.is_file():
    environ.Env.read_env(env_file)

DEBUG = env.bool("DEBUG", default=True)
INSECURE_DEV_KEY = "insecure-dev-key-only-for-the-embedded-default"
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])


def _refuse_to_start(reason: str) -> None:
    # One readable line and a non-zero exit rather than a traceback: this is
    # what an operator sees when the container refuses to boot.
    sys.stderr.write(f"Pilot Portfolio refuses to start: {reason}\n")
    raise SystemExit(1)


if not DEBUG:
    if not SECRET_KEY or SECRET_KEY == INSECURE_DEV_KEY:
        _refuse_to_start("SECRET_KEY is not set (required when DEBUG is off).")
    if not ALLOWED_HOSTS:
        _refuse_to_start("ALLOWED_HOSTS is not set (required when DEBUG is off).")
else:
    SECRET_KEY = SECRET_KEY or INSECURE_DEV_KEY
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]", "testserver"]

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "simple_history",
    "axes",
    "csp",
    # The API's docs page is served from ninja's own static files (no CDN) only when
    # ninja is an installed app.
    "ninja",
    "portfolio",
    "gates",
]

MIDDLEWARE = [
    "portfolio.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portfolio.login_required.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portfolio.urls"
WSGI_APPLICATION = "portfolio.wsgi.application"

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
                "portfolio.context_processors.scan_status",
            ],
        },
    }
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
# An empty DATABASE_URL counts as unset, so `DATABASE_URL= cmd` means "the embedded default".
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker share one SQLite file: wait for the
    # other's write lock instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: 5 failures for a username from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind reverse proxies the client's address is the hop the outermost one appended to
# X-Forwarded-For; set AXES_PROXY_COUNT to the number of proxies in front of the app
# (0: the header is ignored, as a client can forge it). See portfolio/client_address.py;
# django-ipware is not installed, so axes' own AXES_IPWARE_* settings would do nothing.
TRUSTED_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "portfolio.client_address.client_address"
# Content-Security-Policy: scripts only from our own static files (htmx is vendored),
# never inline. Inline style attributes stay allowed: the admin and the SVG charts use them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "frame-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
LOGIN_URL = "login"
# Executives and the portfolio office land on the dashboard, everyone else on "My pilots".
LOGIN_REDIRECT_URL = "landing"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: SMTP from EMAIL_URL, else files under var/mail/ (the embedded default).
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url_config(EMAIL_URL))
    EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Pilot Portfolio <portfolio@localhost>")

# Celery: Redis when REDIS_URL is set, else the filesystem transport under var/.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request that enqueues must never hang on a dead broker: publish gives
# up quickly and the periodic scan catches up (DESIGN section 10).
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_TASK_PUBLISH_RETRY = False
# A worker (and beat) whose broker restarts keeps trying to reconnect for as long as it
# takes (Celery's default gives up after 100 tries, about 45 minutes, and the worker exits).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A task still running when the broker connection drops finishes rather than being killed:
# every task is idempotent, so the redelivery of its unacknowledged message is harmless,
# while killing a digest run mid-send is what can send a digest twice (DESIGN 6).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Longer than the longest task and than any countdown we use; see DESIGN 10
# (tests/faults/test_celery_limits.py holds every delay to it).
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
# How long a digest's claim holds (DESIGN 6): a claim left by a worker that died is taken
# over once it runs out. Shorter than the visibility timeout, after which the run of the
# worker that died comes back to the queue and sends what is left.
DIGEST_LEASE_SECONDS = env.int("DIGEST_LEASE_SECONDS", default=15 * 60)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # The messages of a worker that died go back to the queue once the visibility
        # timeout has passed, found by a sweep kombu runs only every 100 s by default;
        # sweep every tenth of the timeout (at most every 10 s: one cheap query).
        "unacked_restore_interval": max(1, min(10, CELERY_VISIBILITY_TIMEOUT // 10)),
        "unacked_restore_throttle": 1,
        "socket_timeout": 3,
        "socket_connect_timeout": 2,
        "retry_on_timeout": False,
        # A web process's first publish fails at once when Redis is down rather than
        # sleeping 2 s before a second try (measured by tests/faults); a pooled
        # connection that Redis dropped is reconnected by redis-py itself. Workers and
        # beat reconnect with their own retries (CELERY_BROKER_CONNECTION_MAX_RETRIES).
        "max_retries": 0,
    }
else:
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    _processed_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        # Broadcast (remote control) messages; kombu's default is ./control in the cwd.
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Health scan thresholds (DESIGN section 5): one dict, read by the rules.
HEALTH_THRESHOLDS = {
    "stale_after_days": 21,
    "sponsor_lapsed_after_days": 60,
    "stuck_in_poc_after_days": 90,
    "stuck_in_pilot_after_days": 180,
    "scan_period_minutes": env.int("SCAN_PERIOD_MINUTES", default=60),
}
# The dashboard serves figures up to this many seconds behind the data while one refresh
# task recomputes them (0: always computed from the data as it is, in the request).
DASHBOARD_MAX_STALE_SECONDS = env.int("DASHBOARD_MAX_STALE_SECONDS", default=60)
# Attested gate criteria count only while their evidence is this fresh.
ATTESTATION_VALID_DAYS = 180

# The JSON API (issue 8): requests per token per minute, and the largest batch of readings.
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)
API_MAX_BATCH = 1000
# Outgoing webhooks: a receiver that hangs must not hold a worker; retries back off
# exponentially, the longest wait well under the Redis visibility timeout (DESIGN 10).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
WEBHOOK_RETRY_BACKOFF_MAX_SECONDS = 600

# Structured JSON logs in production (one object a line, with the request id that
# ties a web request to the tasks it queued); readable lines in development.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portfolio.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # SECURE_COOKIES=0 only for plain HTTP on localhost (bin/loadtest); never in a deployment.
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)

# The periodic health scan (DESIGN 5). Other schedules may add their own entries to
# this dict; an entry expires after one period so a backlog never piles up scans.
CELERY_BEAT_SCHEDULE = vars().get("CELERY_BEAT_SCHEDULE", {})
CELERY_BEAT_SCHEDULE["scan-portfolio-health"] = {
    "task": "portfolio.tasks.scan_portfolio_task",
    "schedule": HEALTH_THRESHOLDS["scan_period_minutes"] * 60,
    "options": {"expires": HEALTH_THRESHOLDS["scan_period_minutes"] * 60},
}

# Charts are cached by the data they show (portfolio/charts.py). With Redis every web
# process shares them; without, each process keeps its own. Short socket timeouts: a hung
# Redis costs a chart redraw, never a hung page.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pilot-portfolio",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pilot-portfolio"}}


def _weekly_digest_schedule(spec: str) -> object:
    """A crontab schedule from "minute hour day-of-month month day-of-week" (crontab(5) fields)."""
    from celery.schedules import crontab

    fields = spec.split()
    if len(fields) != 5:
        _refuse_to_start(f'DIGEST_CRONTAB must have five fields ("0 7 * * mon"), not {spec!r}.')
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    try:
        return crontab(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year, day_of_week=day_of_week
        )
    except ValueError as exc:
        _refuse_to_start(f"DIGEST_CRONTAB {spec!r} is not a schedule: {exc}")


# The weekly digests (DESIGN 6): Monday 07:00 in TIME_ZONE (CELERY_TIMEZONE) by default.
# A run that starts hours late is stale news, so the entry expires after six hours;
# `send_digests --as-of` sends a missed week by hand. Overlapping runs are harmless.
DIGEST_CRONTAB = env.str("DIGEST_CRONTAB", default="0 7 * * mon")
CELERY_BEAT_SCHEDULE["send-weekly-digests"] = {
    "task": "portfolio.tasks.send_weekly_digests",
    "schedule": _weekly_digest_schedule(DIGEST_CRONTAB),
    "options": {"expires": 6 * 60 * 60},
}

"""Settings for the consultation intake project, read from the environment.

Every variable is documented in `.env.example`. Values that are present but malformed stop the
process with a clear message instead of falling back silently.
"""

import datetime
import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from clinic.logs import JSON_TO_STDOUT

# Lets the admin and querysets be written with type parameters (ModelAdmin[Model]) at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """Return an environment variable, or the default when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """Return a yes/no environment variable; anything unrecognised is an error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}."
    )


def env_int(name: str, default: int) -> int:
    """Return a whole-number environment variable."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    """Return a comma-separated environment variable as a list without blanks."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_from_url(url: str) -> dict[str, object]:
    """Translate a DATABASE_URL (sqlite:///path or postgres://user:pass@host/name) for Django."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative/path and sqlite:////absolute/path, as dj-database-url reads them.
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise ImproperlyConfigured(
                "DATABASE_URL for SQLite needs a file path: sqlite:///db.sqlite3"
            )
        name = path if path == ":memory:" else str(BASE_DIR / path)
        # IMMEDIATE takes the write lock at BEGIN, so two submits of one draft queue up instead of
        # failing with "database is locked" (SQLite has no SELECT ... FOR UPDATE).
        options = {"transaction_mode": "IMMEDIATE", "timeout": 20}
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": name, "OPTIONS": options}
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured("DATABASE_URL for PostgreSQL needs a database name.")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": dict(parse_qsl(parts.query)),
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {parts.scheme!r} is not supported; use sqlite:/// or postgres://."
    )


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set (it may only be left out when DEBUG=1).")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

CLINIC_NAME = env_str("CLINIC_NAME", "SkinPen Clinic")
# How patients reach the clinic, shown wherever they may need to get in touch (clinic/contact.py);
# each is left out where empty.
CLINIC_PHONE = env_str("CLINIC_PHONE").strip()
CLINIC_EMAIL = env_str("CLINIC_EMAIL").strip()
CLINIC_ADDRESS = env_str("CLINIC_ADDRESS").strip()
if CLINIC_PHONE and not re.fullmatch(r"\+?[0-9][0-9 ()-]{4,30}", CLINIC_PHONE):
    raise ImproperlyConfigured(
        f"CLINIC_PHONE must be a phone number of digits, spaces, ( ) and -; got {CLINIC_PHONE!r}."
    )
if CLINIC_EMAIL and not re.fullmatch(r"[^@\s<>\"?&]+@[^@\s<>\"?&]+\.[^@\s<>\"?&]+", CLINIC_EMAIL):
    raise ImproperlyConfigured(f"CLINIC_EMAIL must be an email address; got {CLINIC_EMAIL!r}.")
DEFAULT_QUESTION_SET = env_str("DEFAULT_QUESTION_SET", "skinpen")
# The address staff use, for links in emails sent from background tasks (no request there).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# Background tasks (Django's tasks framework). Run immediately by default; in production use
# django_tasks_db.DatabaseBackend with `manage.py task_worker` running beside the web server.
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend")
    }
}

# What each process keeps of published versions (their parsed questionnaires and the step pages
# every patient sees the same): at most this many entries, the least recently used going first.
PUBLISHED_CACHE_SIZE = env_int("PUBLISHED_CACHE_SIZE", 256)

# How long an invitation link and an unfinished questionnaire stay usable.
INVITATION_DAYS = env_int("INVITATION_DAYS", 30)
DRAFT_DAYS = env_int("DRAFT_DAYS", 14)
# Retention (UK GDPR storage limitation), applied by `manage.py purge_expired`: an invitation that
# was never used is deleted this many days after it expired; a submission, with its answers and
# flags, this many years after its treatment date (or submission date when none was booked).
EXPIRED_INVITATION_DAYS = env_int("EXPIRED_INVITATION_DAYS", 30)
SUBMISSION_RETENTION_YEARS = env_int("SUBMISSION_RETENTION_YEARS", 8)
# The re-check before treatment (`manage.py send_rechecks`): due at this hour (clinic time) this
# many days before the treatment date; a treatment booked later than that gets it at once.
RECHECK_DAYS_BEFORE = env_int("RECHECK_DAYS_BEFORE", 2)
RECHECK_HOUR = env_int("RECHECK_HOUR", 9)
if not 0 <= RECHECK_HOUR <= 23 or RECHECK_DAYS_BEFORE < 0:
    raise ImproperlyConfigured("RECHECK_HOUR must be 0 to 23, and RECHECK_DAYS_BEFORE 0 or more.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "intake",
]

MIDDLEWARE = [
    "clinic.logs.RequestLogMiddleware",
    # Headers for every response, the health check's included.
    "django.middleware.security.SecurityMiddleware",
    "clinic.responses.PermissionsPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Before anything checks the Host header (see HealthCheckMiddleware).
    "clinic.views.HealthCheckMiddleware",
    "clinic.guards.RefuseNulCharactersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Every view needs a signed-in user unless it is marked public (@login_not_required).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "intake.staff_access.StaffAccessMiddleware",
    # After WhiteNoise, so static files keep their long cache lifetime.
    "clinic.responses.NoStoreMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
ASGI_APPLICATION = "clinic.asgi.application"

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
                "django.template.context_processors.csp",
                "clinic.context_processors.clinic",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", "sqlite:///db.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The web tier keeps no state of its own, so any number of web processes can serve one clinic:
# the cache lives in the database (table made by `manage.py createcachetable`) or in Redis, and
# sessions in the database. Only Redis makes reading sessions through the cache worth it: with the
# cache in the database too, every session read would still be a query, and every cache miss or
# session change one more write and commit.
REDIS_URL = env_str("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "cache",
            # Django's default of 300 entries would cull live limit counts (the oldest third
            # by key, "rate:…" first) once 300 clients had come in an hour.
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    )
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if REDIS_URL else "clinic.sessions"

AUTH_USER_MODEL = "intake.User"
AUTHENTICATION_BACKENDS = [
    # Refuses logins while a username and address are locked out, before checking the password.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # Older hashes still verify, and are upgraded to Argon2 at the next login.
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English")]
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise serves collected static files with hashed names, compressed, cached for a year.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

LOGIN_URL = "admin:login"

# How many reverse proxies in front of the app append to X-Forwarded-For (1 for the compose
# proxy); the client's address for lockouts and rate limits is read from there. 0: REMOTE_ADDR.
PROXY_COUNT = env_int("PROXY_COUNT", 0)

# Staff sessions end after this long without a request, and this long after signing in.
STAFF_IDLE_MINUTES = env_int("STAFF_IDLE_MINUTES", 30)
STAFF_SESSION_HOURS = env_int("STAFF_SESSION_HOURS", 12)
SESSION_COOKIE_AGE = STAFF_SESSION_HOURS * 3600

# A submission's page is audited once per staff member within this many minutes, not on every
# reload; the first view in the window is the one kept (printing is audited every time).
AUDIT_VIEW_WINDOW_MINUTES = env_int("AUDIT_VIEW_WINDOW_MINUTES", 10)

# Two-factor authentication: the issuer shown in the staff member's authenticator app.
OTP_TOTP_ISSUER = CLINIC_NAME

# Login lockout (django-axes): 5 failures for one username from one address lock both for 15
# minutes; a lockout is answered with a polite page and status 429.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "intake.staff_access.locked_out"
AXES_CLIENT_IP_CALLABLE = "clinic.addresses.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Abuse limits on the public pages, per hour. Starting questionnaires and continue-later emails
# are counted per client address, and a clinic's Wi-Fi or reception tablet is one address for a
# whole waiting room: a full room of 30 starting (some twice) and each saving once fits well
# within them. Sending is counted per questionnaire, never per address, so a patient with a
# saved questionnaire is never stopped by what others on their connection do.
RATE_LIMIT_STARTS_PER_HOUR = env_int("RATE_LIMIT_STARTS_PER_HOUR", 100)
RATE_LIMIT_EMAILS_PER_HOUR = env_int("RATE_LIMIT_EMAILS_PER_HOUR", 30)
RATE_LIMIT_SUBMITS_PER_DRAFT_PER_HOUR = env_int("RATE_LIMIT_SUBMITS_PER_DRAFT_PER_HOUR", 10)
if "RATE_LIMIT_SUBMISSIONS_PER_HOUR" in os.environ:
    # Sending used to be limited per address; a setting for it would now be ignored silently.
    raise ImproperlyConfigured(
        "RATE_LIMIT_SUBMISSIONS_PER_HOUR is no longer read: sending is limited per "
        "questionnaire. Remove it, and set RATE_LIMIT_SUBMITS_PER_DRAFT_PER_HOUR if needed."
    )
# Continue-later and invitation links that match nothing, per address: guessing stops at this.
RATE_LIMIT_LINK_MISSES_PER_HOUR = env_int("RATE_LIMIT_LINK_MISSES_PER_HOUR", 20)

# The largest form is a SkinPen draft's page in the admin, with every question, rule and test
# case: about 1,800 fields and 100 KB. A patient's step sends fewer than 200 fields.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 4000
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# Content Security Policy: only this site's own scripts (or one carrying the request's nonce),
# styles and images; no framing; forms post only here.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# HTTPS is on unless DEBUG: a clinic never serves health data over plain HTTP.
SECURE_HTTPS = env_bool("SECURE_HTTPS", default=not DEBUG)
if SECURE_HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # The __Host- prefix makes browsers refuse the cookies unless secure, host-only and for "/".
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading binds the whole domain to HTTPS for good: the clinic opts in, not the app.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The container's own health check calls /healthz over plain HTTP from inside.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Locally the console shows each email in full; in production without a configured backend,
# messages are only logged, without their links (clinic/mail.py), and check --deploy warns.
_EMAIL_BACKEND = env_str("EMAIL_BACKEND") or (
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "clinic.mail.LogOnlyBackend"
)
_SMTP_OPTIONS = {
    "host": env_str("EMAIL_HOST", "localhost"),
    "port": env_int("EMAIL_PORT", 587),
    "username": env_str("EMAIL_HOST_USER"),
    "password": env_str("EMAIL_HOST_PASSWORD"),
    "use_tls": env_bool("EMAIL_USE_TLS", default=True),
    # A mail server that stops answering must not hold the worker (or a request) for ever.
    "timeout": env_int("EMAIL_TIMEOUT", 20),
}
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": _SMTP_OPTIONS if _EMAIL_BACKEND.endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "clinic@localhost")

# One JSON line per request and per security event on stdout (see clinic/logs.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    **JSON_TO_STDOUT,
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Each request is already logged once by clinic.logs; Django's own 4xx lines would
        # repeat it with the raw path, which can hold a patient's link token.
        "django.request": {"level": "ERROR"},
        # django-axes notes every login in its own words; clinic.security already logs them.
        "axes": {"level": "WARNING"},
    },
}
